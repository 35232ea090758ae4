"""`tokkit train bpe|char|superword|spm|parity`: thin commands over the training recipes (the calls
themselves are in train_calls.py)."""

from __future__ import annotations

from typing import List, Optional

import typer
from typing_extensions import Annotated

from . import train_app, train_calls
from ._common import guarded, print_json, print_table
from .options import (
    Alias,
    AllowSmaller,
    Counts,
    Engine,
    ExportSize,
    Json,
    Language,
    MaxTokenWords,
    MaxWords,
    MinFrequency,
    Normalizer,
    Out,
    Overwrite,
    Pow2,
    PrefixSpace,
    PreTokenizer,
    Quiet,
    ReadArgs,
    Resume,
    SpecialToken,
    Term,
    TermsFile,
    Threads,
    Transition,
    Uncased,
    Unicode,
    VocabSize,
    Wordfreq,
    check_engine,
    commas,
    corpus_options,
    deprecated,
    quiet_of,
    specials,
    training_documents,
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


def _train_verb(name: str, *aliases: Alias):
    """A `tokkit train <name>` verb over documents: the corpus options, errors as one line, and the old
    --special-tokens spelling (plus the verb's own old spellings) as hidden aliases."""
    def deco(fn):
        return train_app.command(name)(guarded(deprecated(_SPECIAL_TOKENS_ALIAS, *aliases)(corpus_options(fn))))

    return deco


@_train_verb("bpe", Alias("--terms", "terms_file", "--terms-file FILE (or repeatable --term)"))
def bpe(
    corpus: Corpus = None,
    out: Out = ...,
    vocab_size: VocabSize = 32768,
    engine: Engine = None,
    pow2: Pow2 = False,
    uncased: Uncased = False,
    normalizer: Normalizer = None,
    min_frequency: MinFrequency = 2,
    pre_tokenizer: PreTokenizer = None,
    split_digits: bool = typer.Option(False, "--split-digits", help="Every digit its own pre-token."),
    term: Term = None,
    terms_file: TermsFile = None,
    special_token: SpecialToken = None,
    counts: Counts = None,
    wordfreq: Wordfreq = None,
    prefix_space: PrefixSpace = False,
    resume: Resume = None,
    export_size: ExportSize = None,
    max_words: MaxWords = None,
    allow_smaller: AllowSmaller = False,
    threads: Threads = None,
    unicode: Unicode = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Byte-level BPE (KL3M-style domain tokenizers): exact sizes, domain terms inside the model.

    Trains on text, a word-count table (--counts) or wordfreq counts (--wordfreq)."""
    from ..errors import InputError

    word_counts = _word_counts(counts, wordfreq, prefix_space)
    if not corpus and word_counts is None:
        raise InputError("give training text, --counts or --wordfreq")
    train_calls.train_bpe(
        training_documents(corpus, read, quiet_of(quiet, as_json), out=out, overwrite=overwrite,
                   inputs=[counts]), out, engine=check_engine(engine),
        vocab_size=vocab_size, pow2=pow2, uncased=uncased, normalizer=normalizer, min_frequency=min_frequency,
        pre_tokenizer=pre_tokenizer, split_digits=split_digits, terms=term or [], terms_file=terms_file,
        special_tokens=specials(special_token), word_counts=word_counts, resume=resume,
        export_sizes=export_size or [], max_words=max_words, allow_smaller=allow_smaller, threads=threads,
        unicode=unicode, quiet=quiet_of(quiet, as_json))
    _summary(out, as_json, quiet)


@_train_verb("char")
def char(
    corpus: Corpus = None,
    out: Out = ...,
    vocab_size: VocabSize = 4096,
    max_token_chars: Optional[int] = typer.Option(None, help="Longest token in Unicode characters (default 3; "
                                                  "4 from 16K)."),
    min_frequency: MinFrequency = 2,
    pre_tokenizer: PreTokenizer = None,
    limit_alphabet: Optional[int] = typer.Option(None, help="Keep only this many non-ASCII characters (default: "
                                                 "vocab-size / 16; -1: all of the corpus)."),
    special_token: SpecialToken = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Character-level BPE: token length bounded exactly in Unicode characters, no unreachable entries."""
    train_calls.train_char(
        training_documents(corpus, read, quiet_of(quiet, as_json), out=out, overwrite=overwrite, required=True),
        out, vocab_size=vocab_size,
        max_token_chars=max_token_chars, min_frequency=min_frequency, pre_tokenizer=pre_tokenizer,
        limit_alphabet="auto" if limit_alphabet is None else None if limit_alphabet < 0 else limit_alphabet,
        special_tokens=specials(special_token), quiet=quiet_of(quiet, as_json))
    _summary(out, as_json, quiet)


@_train_verb("superword", Alias("--max-words", "max_token_words", "--max-token-words", int,
                                         Optional[int]))
def superword(
    corpus: Corpus = None,
    out: Out = ...,
    vocab_size: VocabSize = 32768,
    engine: Engine = None,
    transition: Transition = None,
    max_token_words: MaxTokenWords = 4,
    pre_tokenizer: PreTokenizer = None,
    pow2: Pow2 = False,
    uncased: Uncased = False,
    normalizer: Normalizer = None,
    min_frequency: MinFrequency = 2,
    special_token: SpecialToken = None,
    allow_smaller: AllowSmaller = False,
    threads: Threads = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Superword (SuperBPE) tokenizer: stage-2 merges may cross single spaces; plain tokenizer.json.

    --pre-tokenizer is stage 1's split (gpt4o)."""
    train_calls.train_superword(
        training_documents(corpus, read, quiet_of(quiet, as_json), out=out, overwrite=overwrite, required=True),
        out, engine=check_engine(engine),
        vocab_size=vocab_size, transition=transition, max_token_words=max_token_words,
        pre_tokenizer=pre_tokenizer, pow2=pow2, uncased=uncased, normalizer=normalizer,
        min_frequency=min_frequency, special_tokens=specials(special_token), allow_smaller=allow_smaller,
        threads=threads, quiet=quiet_of(quiet, as_json))
    _summary(out, as_json, quiet)


@_train_verb("spm")
def spm(
    corpus: Corpus = None,
    out: Out = ...,
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
    input_sentence_size: int = typer.Option(0, help="Sample this many sentences (0: all) to bound memory."),
    special_token: SpecialToken = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """SentencePiece unigram or BPE, layout-preserving by default (identity, byte fallback)."""
    train_calls.train_spm(
        training_documents(corpus, read, quiet_of(quiet, as_json), out=out, overwrite=overwrite, required=True),
        out, vocab_size=vocab_size,
        model_type=model_type, pow2=pow2, normalization=normalization, byte_fallback=not no_byte_fallback,
        split_by_whitespace=not cross_words, remove_extra_whitespaces=collapse_whitespace,
        add_dummy_prefix=dummy_prefix, character_coverage=character_coverage,
        input_sentence_size=input_sentence_size, special_tokens=specials(special_token),
        quiet=quiet_of(quiet, as_json))
    _summary(out, as_json, quiet)


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


@train_app.command("parity")
@guarded
@deprecated(Alias("--languages", "language", "-l/--language (repeatable)", commas))
def parity(
    corpus: ParallelCorpusArg,
    out: Out = ...,
    vocab_size: VocabSize = 32768,
    language: Language = None,
    dev_fraction: DevFraction = 0.2,
    global_merges: GlobalMerges = 0,
    pre_tokenizer: PreTokenizer = None,
    min_frequency: MinFrequency = 0,
    special_token: SpecialToken = None,
    allow_smaller: AllowSmaller = False,
    threads: Threads = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
    quiet: Quiet = False,
):
    """Parity-aware BPE (Foroutan et al. 2025) on a parallel corpus.

    Each merge goes to the language whose dev text is longest in tokens, so the languages end up with
    similar lengths."""
    import os

    from .._atomic import check_out

    check_out(out, inputs=[corpus] if os.path.exists(corpus) else [], force=overwrite)
    model = train_calls.train_parity(
        corpus, out, languages=language, dev_fraction=dev_fraction, vocab_size=vocab_size,
        pre_tokenizer=pre_tokenizer, global_merges=global_merges, min_frequency=min_frequency,
        special_tokens=specials(special_token), threads=threads, allow_smaller=allow_smaller,
        quiet=quiet_of(quiet, as_json))
    _parity_summary(model, out, global_merges, as_json, quiet)
