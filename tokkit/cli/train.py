"""`tokkit train bpe|char|superword|spm|parity`: thin commands over the training recipes (the calls
themselves are in train_calls.py)."""

from __future__ import annotations

import functools
import inspect
from typing import List, Optional

import typer
from typing_extensions import Annotated

from . import train_app, train_calls
from ._common import print_json, print_table
from .options import (
    Alias,
    ArtifactArgs,
    Counts,
    Engine,
    ExportSize,
    Language,
    MaxTokenWords,
    MaxWords,
    MinFrequency,
    OptionGroup,
    OutputArgs,
    Pow2,
    PrefixSpace,
    PreTokenizer,
    ReadArgs,
    RecipeArgs,
    Resume,
    SpecialToken,
    TermsArgs,
    TrainingArgs,
    Transition,
    Unicode,
    VocabSize,
    Wordfreq,
    check_engine,
    commas,
    specials,
    training_documents,
    verb,
)

Corpus = Annotated[Optional[List[str]], typer.Argument(
    help="Training text: files, globs or folders (.txt, .jsonl, .parquet; plain, .gz, .zst).")]
# `--special-tokens ''` meant none, as `--special-token ''` does
_SPECIAL_TOKENS_ALIAS = Alias("--special-tokens", "special_token", "--special-token (repeatable)",
                              lambda v: commas(v) or [""])


def _summary(out: str, as_json: bool, quiet: bool) -> None:
    """Print what a training run wrote: the artifact's card."""
    from ..train.artifacts import read_card

    card = read_card(out)
    if as_json:
        print_json(dict(card, out=out))
        return
    if quiet:
        return
    v, c, t = card["vocabulary"], card["corpus"], card["timings"]
    size = v.get("size_with_special_tokens", card["parameters"].get("vocab_size"))
    print_table(f"{card['recipe']} tokenizer -> {out}", ["vocabulary", "documents", "characters", "seconds",
                                                          "files"],
                [[size, c.get("documents", 0), c.get("characters", 0), t.get("total", 0.0),
                  ", ".join(card["files"] + ["tokkit.json"])]])


def _word_counts(counts: Optional[str], wordfreq: Optional[str], prefix_space: bool):
    """--counts and --wordfreq as one word -> count table (None when neither is given)."""
    if not counts and not wordfreq:
        return None
    from ..corpora import read_word_counts, wordfreq_counts

    table = dict(read_word_counts(counts)) if counts else {}
    if wordfreq:
        for w, c in wordfreq_counts(wordfreq).items():
            table[w] = table.get(w, 0) + c
    return {(" " + w if prefix_space else w): c for w, c in table.items()}


class WordCountArgs(OptionGroup):
    """train bpe's sources other than text: a word-count table, wordfreq counts."""
    counts: Counts = None
    wordfreq: Wordfreq = None
    prefix_space: PrefixSpace = False

    def table(self):
        return _word_counts(self.counts, self.wordfreq, self.prefix_space)


def _train_verb(name: str, *aliases: Alias, required: bool = True):
    """A `tokkit train <name>` verb over the documents of CORPUS (a `verb` that also takes the old
    --special-tokens spelling). Its function's first parameter, `documents`, becomes the CORPUS argument and
    the corpus reading options: it receives the documents, read once --out is checked (None without CORPUS,
    unless required); the summary of the artifact it wrote is printed after it."""
    def deco(fn):
        sig = inspect.signature(fn, eval_str=True)
        own = list(sig.parameters.values())[1:]
        corpus = inspect.Parameter("corpus", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Corpus, default=None)
        read = inspect.Parameter("read", inspect.Parameter.KEYWORD_ONLY, annotation=ReadArgs)

        @functools.wraps(fn)
        def train(corpus=None, *, read: ReadArgs, artifact: ArtifactArgs, output: OutputArgs, **kw):
            quiet = output.library_quiet
            fn(training_documents(corpus, read, artifact, quiet, required=required), artifact=artifact,
               output=output, **kw)
            _summary(artifact.out, output.as_json, output.quiet)

        train.__signature__ = sig.replace(parameters=[corpus] + own + [read])
        return verb(train_app, name, _SPECIAL_TOKENS_ALIAS, *aliases)(train)

    return deco


@_train_verb("bpe", Alias("--terms", "terms_file", "--terms-file FILE (or repeatable --term)"), required=False)
def bpe(
    documents,
    *,
    artifact: ArtifactArgs,
    vocab_size: VocabSize = 32768,
    engine: Engine = None,
    recipe: RecipeArgs,
    pre_tokenizer: PreTokenizer = None,
    split_digits: bool = typer.Option(False, "--split-digits", help="Every digit its own pre-token."),
    terms: TermsArgs,
    source: WordCountArgs,
    resume: Resume = None,
    export_size: ExportSize = None,
    max_words: MaxWords = None,
    training: TrainingArgs,
    unicode: Unicode = None,
    output: OutputArgs,
):
    """Byte-level BPE (KL3M-style domain tokenizers): exact sizes, domain terms inside the model.

    Trains on text, a word-count table (--counts) or wordfreq counts (--wordfreq)."""
    from ..errors import InputError

    word_counts = source.table()
    if documents is None and word_counts is None:
        raise InputError("give training text, --counts or --wordfreq")
    artifact.check([source.counts])
    train_calls.train_bpe(
        documents, artifact.out, engine=check_engine(engine), vocab_size=vocab_size, pre_tokenizer=pre_tokenizer,
        split_digits=split_digits, word_counts=word_counts, resume=resume, export_sizes=export_size or [],
        max_words=max_words, unicode=unicode, quiet=output.library_quiet, **recipe.kwargs(), **terms.kwargs(),
        **training.kwargs())


@_train_verb("char")
def char(
    documents,
    *,
    artifact: ArtifactArgs,
    vocab_size: VocabSize = 4096,
    max_token_chars: Optional[int] = typer.Option(None, help="Longest token in Unicode characters (default 3; "
                                                  "4 from 16K)."),
    min_frequency: MinFrequency = 2,
    pre_tokenizer: PreTokenizer = None,
    limit_alphabet: Optional[int] = typer.Option(None, help="Keep only this many non-ASCII characters (default: "
                                                 "vocab-size / 16; -1: all of the corpus)."),
    special_token: SpecialToken = None,
    output: OutputArgs,
):
    """Character-level BPE: token length bounded exactly in Unicode characters, no unreachable entries."""
    train_calls.train_char(
        documents, artifact.out, vocab_size=vocab_size, max_token_chars=max_token_chars,
        min_frequency=min_frequency, pre_tokenizer=pre_tokenizer,
        limit_alphabet="auto" if limit_alphabet is None else None if limit_alphabet < 0 else limit_alphabet,
        special_tokens=specials(special_token), quiet=output.library_quiet)


@_train_verb("superword", Alias("--max-words", "max_token_words", "--max-token-words", int, Optional[int]))
def superword(
    documents,
    *,
    artifact: ArtifactArgs,
    vocab_size: VocabSize = 32768,
    engine: Engine = None,
    transition: Transition = None,
    max_token_words: MaxTokenWords = 4,
    pre_tokenizer: PreTokenizer = None,
    recipe: RecipeArgs,
    training: TrainingArgs,
    output: OutputArgs,
):
    """Superword (SuperBPE) tokenizer: stage-2 merges may cross single spaces; plain tokenizer.json.

    --pre-tokenizer is stage 1's split (gpt4o)."""
    train_calls.train_superword(
        documents, artifact.out, engine=check_engine(engine), vocab_size=vocab_size, transition=transition,
        max_token_words=max_token_words, pre_tokenizer=pre_tokenizer, quiet=output.library_quiet,
        **recipe.kwargs(), **training.kwargs())


@_train_verb("spm")
def spm(
    documents,
    *,
    artifact: ArtifactArgs,
    vocab_size: VocabSize = 32000,
    model_type: str = typer.Option("unigram", help="unigram or bpe."),
    pow2: Pow2 = False,
    normalization: str = typer.Option("identity", help="identity (keeps text as is), nfkc, nmt_nfkc, ..."),
    no_byte_fallback: bool = typer.Option(False, "--no-byte-fallback", help="Unknown characters become <unk>."),
    cross_words: bool = typer.Option(False, "--cross-words", help="Allow pieces across whitespace."),
    collapse_whitespace: bool = typer.Option(False, "--collapse-whitespace",
                                             help="SentencePiece's default: squeeze runs of spaces."),
    dummy_prefix: bool = typer.Option(False, "--dummy-prefix", help="Add a leading space to every text."),
    character_coverage: float = typer.Option(0.9995, help="Share of characters the alphabet must cover."),
    input_sentence_size: Optional[int] = typer.Option(
        None, help="Sample this many sentences (0: all). Default: all while they hold under 32 MiB, else a "
        "random sample that does, which keeps SentencePiece under about 1 GB."),
    special_token: SpecialToken = None,
    output: OutputArgs,
):
    """SentencePiece unigram or BPE, layout-preserving by default (identity, byte fallback)."""
    train_calls.train_spm(
        documents, artifact.out, vocab_size=vocab_size, model_type=model_type, pow2=pow2,
        normalization=normalization, byte_fallback=not no_byte_fallback, split_by_whitespace=not cross_words,
        remove_extra_whitespaces=collapse_whitespace, add_dummy_prefix=dummy_prefix,
        character_coverage=character_coverage, input_sentence_size=input_sentence_size,
        special_tokens=specials(special_token), quiet=output.library_quiet)


ParallelCorpusArg = Annotated[str, typer.Argument(
    help="Parallel corpus: udhr, ntrex, flores, or a folder in one of their layouts.")]
DevFraction = Annotated[float, typer.Option(
    "--dev-fraction", help="Share of the common units held out as the dev set that picks each merge.")]
GlobalMerges = Annotated[int, typer.Option("--global-merges", help="Ordinary merges first (hybrid).")]


def _parity_summary(tok, out: str, global_merges: int, as_json: bool, quiet: bool) -> None:
    v = tok.card["vocabulary"]
    if as_json:
        print_json(dict(out=out, vocab_size=tok.vocab_size, merges=v["merges"], **tok.card["timings"],
                        merges_per_language=v["merges_per_language"], dev_tokens=v["dev_tokens"]))
    elif not quiet:
        per = v["merges_per_language"]
        print_table(f"parity-aware BPE -> {out}: merges chosen per language (global: {global_merges})",
                    ["language", "merges", "dev tokens"], [[c, per[c], v["dev_tokens"][c]] for c in per])


@verb(train_app, "parity", Alias("--languages", "language", "-l/--language (repeatable)", commas), min_frequency=0)
def parity(
    corpus: ParallelCorpusArg,
    *,
    artifact: ArtifactArgs,
    vocab_size: VocabSize = 32768,
    language: Language = None,
    dev_fraction: DevFraction = 0.2,
    global_merges: GlobalMerges = 0,
    pre_tokenizer: PreTokenizer = None,
    training: TrainingArgs,
    output: OutputArgs,
):
    """Parity-aware BPE (Foroutan et al. 2025) on a parallel corpus.

    Each merge goes to the language whose dev text is longest in tokens, so the languages end up with
    similar lengths."""
    import os

    artifact.check([corpus] if os.path.exists(corpus) else [])
    model = train_calls.train_parity(
        corpus, artifact.out, languages=language, dev_fraction=dev_fraction, vocab_size=vocab_size,
        pre_tokenizer=pre_tokenizer, global_merges=global_merges, quiet=output.library_quiet, **training.kwargs())
    _parity_summary(model, artifact.out, global_merges, output.as_json, output.quiet)
