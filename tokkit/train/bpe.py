"""Domain byte-level BPE (the KL3M recipe, done with exact sizes and domain terms inside the model), and
the recipe core every byte-level trainer shares (`fit_bytelevel`): normalize, split, count, learn merges on
an engine (native by default, or Hugging Face's `BpeTrainer`), finish the domain terms, check the size."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from ..errors import InputError
from ..kernels.split_patterns import ALIASES, PATTERNS, PRE_TOKENIZERS
from ..tokenizer.bytelevel import to_byte_symbols
from ..tokenizer.merges import read_merges
from .artifacts import Card
from .common import (
    CorpusStream,
    Timer,
    check_export_sizes,
    check_min_frequency,
    check_normalizer,
    check_special_tokens,
    normalize_text,
    resolve_vocab_size,
    then_notice,
)
from .native import NativeBPE, base_tokens, learn, prepare_kernels
from .patterns import split_pattern, term_pretokens
from .terms import fit_terms, read_terms

ENGINES = ("native", "hf")


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise InputError(f"engine={engine!r}: expected one of {', '.join(ENGINES)}")
    return engine


def _hf_merges(texts: Iterable[str], *, vocab_size: int, min_frequency: int, special_tokens: list[str],
               normalizer: str, lowercase: bool, split: str | None, quiet: bool = True) -> list[tuple[str, str]]:
    """The hf engine: `tokenizers.BpeTrainer` over the texts with the byte-level pipeline (the normalizer
    applied by tokenizers itself); returns its merges."""
    from tokenizers import models, trainers

    from ..tokenizer.bytelevel import byte_level_alphabet

    # the pipeline the artifact gets, less its special tokens (the trainer adds them first)
    tok = NativeBPE([], [], [], pattern="none", split=split, normalizer=normalizer,
                    lowercase=lowercase)._configure(models.BPE())
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                  special_tokens=special_tokens, initial_alphabet=byte_level_alphabet())
    from ..tokenizer.chunks import cut_for_split

    # long texts cut where the pre-tokens stay the same (memory bounded; the merges are unchanged)
    tok.train_from_iterator(then_notice(cut_for_split(texts, split), "corpus read; Hugging Face's BpeTrainer is "
                                        "merging (it shows no progress: seconds to minutes)", quiet=quiet),
                            trainer=trainer)
    return read_merges(tok)[1]


def _regex_counts(texts: Iterable[str], split: str) -> Counter:
    """Pieces of the texts under a split the kernels do not have (a term branch, split_digits), found with
    the `regex` module, and their counts. The registry's patterns cover every character, so the matches
    are the pieces of HF's Split(Regex(split), "isolated")."""
    import regex

    from ..tokenizer.chunks import cut_for_split

    rx = regex.compile(split)
    counts: Counter = Counter()
    for t in cut_for_split(texts, split):  # long texts in pieces: the matches of a whole text, less memory
        counts.update(rx.findall(t))
    return counts


@dataclass
class Fit:
    """What `fit_bytelevel` gives a recipe: the model and what its card records."""
    model: NativeBPE
    terms: list[str] = field(default_factory=list)  # normalized, in order
    terms_source: str | None = None
    vocabulary: dict = field(default_factory=dict)  # card entries: learned and term merges, split


def fit_bytelevel(texts: Iterable[str] | None = None, *, files: Sequence[str] = (),
                  word_counts: Mapping[str, int] | None = None, per_line: bool = False, vocab_size: int,
                  pre_tokenizer: str = "gpt2", split_digits: bool = False, normalizer: str = "none",
                  lowercase: bool = False, min_frequency: int = 0, special_tokens: Sequence[str] = (),
                  resume=None, terms=None, terms_file=None, max_words: int | None = None,
                  threads: int | None = None, max_bytes: int | None = None, quiet: bool = True,
                  max_token_words: int = 0, unicode: str = "regex", allow_smaller: bool = False,
                  engine: str = "native", kernel_split: bool = False) -> Fit:
    """A byte-level BPE of exactly vocab_size tokens (special tokens, 256 bytes, merges).

    Normalization (NFC/NFKC, then lowercase) happens in Python before counting, as tokenizers applies its
    normalizer before its pre-tokenizer. The split is one of the kernels' named patterns, counted by the
    kernels; with split_digits or domain terms it is a regex the kernels lack, so the texts are split by the
    `regex` module and the engine gets the table of pieces. engine "hf" trains with tokenizers'
    `BpeTrainer` on the same pipeline (texts only); both engines give the same merges. Domain terms
    (`terms`: a list or a file, `terms_file`: a file) are finished by merges appended after a prefix of the
    learnt ones (`terms.fit_terms`). kernel_split: keep the kernel pattern's own form in the tokenizer.json
    (`train_native`'s artifact) instead of a Split with the pattern's regex (the recipes')."""
    check_engine(engine)
    specials = list(dict.fromkeys(special_tokens))
    term_list: list[str] = []
    terms_source = None
    for src in (terms, terms_file):
        if src is None:
            continue
        if isinstance(src, (str, os.PathLike)):
            terms_source = os.fspath(src)
        term_list += read_terms(src)
    norm_terms: list[str] = []
    for t in term_list:
        nt = normalize_text(t, normalizer, lowercase)
        if nt not in norm_terms:
            norm_terms.append(nt)
    for t in norm_terms:
        if t in specials:
            raise InputError(f"term {t!r} is also a special token")
    name = ALIASES.get(pre_tokenizer, pre_tokenizer)
    custom = bool(norm_terms) or split_digits
    if custom or not kernel_split:
        if name not in PRE_TOKENIZERS:
            raise InputError(f"pre_tokenizer={pre_tokenizer!r}: expected one of {', '.join(PRE_TOKENIZERS)}"
                             + (" (with terms or split_digits)" if kernel_split else ""))
        split = split_pattern(name, split_digits=split_digits, terms=norm_terms)
    else:
        if name not in PATTERNS:
            raise InputError(f"pre_tokenizer={pre_tokenizer!r}: expected one of {', '.join(PATTERNS)}")
        split = None
    if texts is not None and not isinstance(texts, str):  # (a str is refused by the engines, as it is)
        from ..tokenizer.chunks import cut_for_split

        # a huge document in pieces before anything copies it (normalizing, packing, the HF trainer): the
        # pre-tokens, so the merges, are the whole text's for the standard splits (tokenizer.chunks)
        texts = cut_for_split(texts, split if split is not None else PATTERNS.get(name))
    targets = [to_byte_symbols(p) for t in norm_terms for p in term_pretokens(t)]
    # room for the merges that finish the terms; the surplus of learnt merges fills what they leave
    slack = sum(max(0, len(x) - 1) for x in targets)

    if engine == "hf":
        if files or word_counts is not None or resume is not None or max_token_words or max_words:
            raise InputError("engine='hf' trains on texts only, without resume, max_token_words or max_words: "
                             "use engine='native'")
        if texts is None:
            raise InputError("nothing to train on: pass texts")
        merges = _hf_merges(texts, vocab_size=vocab_size + slack, min_frequency=min_frequency,
                            special_tokens=specials, normalizer=normalizer, lowercase=lowercase,
                            split=split if split is not None else PATTERNS[name], quiet=quiet)
        model = NativeBPE.from_merges(specials, merges, where="hf engine")
    else:
        if normalizer != "none" or lowercase:
            if files:
                raise InputError("files with a normalizer: pass the documents as texts")
            texts = None if texts is None else (normalize_text(t, normalizer, lowercase) for t in texts)
            if word_counts is not None:
                folded: Counter = Counter()
                for w, c in word_counts.items():
                    folded[normalize_text(w, normalizer, lowercase)] += c
                word_counts = folded
        kw = dict(per_line=per_line, vocab_size=vocab_size + slack, min_frequency=min_frequency,
                  special_tokens=specials, resume=resume, max_words=max_words, threads=threads,
                  max_bytes=max_bytes, quiet=quiet, max_token_words=max_token_words, unicode=unicode)
        if custom:
            if files:
                raise InputError("files with terms or split_digits: pass the documents as texts")
            import regex

            rx_split = split_pattern(name, split_digits=split_digits, terms=norm_terms, flavour="regex")
            counts = _regex_counts(texts if texts is not None else (), rx_split)
            if word_counts is not None:
                rx = regex.compile(rx_split)
                for w, c in word_counts.items():
                    for piece in rx.findall(w):
                        counts[piece] += int(c)
            model = learn(word_counts=counts, pattern="none", **kw)
        else:
            model = learn(texts, files=files, word_counts=word_counts, pattern=name, **kw)
        specials = model.special_tokens  # a resumed tokenizer's, when none were given
    n_trained = len(model.merges)
    n_term_merges = 0
    if targets:
        base = [model.token_string(i) for i in range(model.n_base)]
        _, merges, n_head, n_term_merges = fit_terms(model.merge_strings(), base, targets, vocab_size)
        model = NativeBPE.from_merges(specials, merges, timings=model.timings, stats=model.stats)
        n_trained = len(merges) - n_term_merges
    if model.vocab_size < vocab_size and not allow_smaller:
        raise InputError(
            f"the corpus yields only {model.vocab_size} tokens ({n_trained} merges) at min_frequency="
            f"{min_frequency}, short of vocab_size={vocab_size}: lower min_frequency or vocab_size, train on "
            "more text, or pass allow_smaller=True")
    model.pattern = "none" if custom else name
    model.split = split
    model.normalizer, model.lowercase = normalizer, lowercase
    vocabulary = dict(learned_merges=n_trained, term_merges=n_term_merges)
    if split is not None:
        vocabulary["split_pattern"] = split
    return Fit(model, norm_terms, terms_source, vocabulary)


def train_bpe(corpus: Any, out: str | os.PathLike | None = None, *, vocab_size: int = 32768,
              pow2: bool = False, cased: bool = True, normalizer: str | None = "NFC",
              min_frequency: int = 2, pre_tokenizer: str = "gpt2", split_digits: bool = False,
              special_tokens: Sequence[str] | None = None, terms: str | os.PathLike | Iterable[str] | None = None,
              terms_file: str | os.PathLike | None = None, engine: str = "native", allow_smaller: bool = False,
              resume=None, export_sizes: Sequence[int] = (), max_words: int | None = None,
              threads: int | None = None, quiet: bool = True, **read_kw):
    """Train a byte-level BPE tokenizer on a domain corpus and (with `out`) write it as an artifact folder.

    The folder holds tokenizer.json, tokenizer_config.json and tokkit.json (the card).

    Args:
        corpus: a `tokkit.corpora.Documents`, a path/glob/folder (extra keywords go to `read_documents`), or an
            iterable of strings; it is streamed once (the native engine counts it in blocks), so memory is bounded
            by the word-count table. A mapping (word -> count, e.g. `tokkit.corpora.wordfreq_counts`) is a
            word-count table: each entry is normalized and split like running text and weighted by its count.
        out: the artifact folder; None: nothing is written.
        vocab_size: counts everything (special tokens, the 256 byte symbols, merges) and is met exactly by real
            merges.
        pow2: round `vocab_size` up to a power of two first.
        cased: keep case (False: lowercase first).
        normalizer: a Unicode normalization form, or None.
        min_frequency: the smallest count of a pair that may merge.
        pre_tokenizer: the split before merging ("gpt2", "cl100k", ... or a regex).
        split_digits: split numbers into single digits.
        special_tokens: tokens at ids 0..n-1 (default: `DEFAULT_SPECIAL_TOKENS`).
        terms: a file (one per line) or a list of terms that become single tokens inside the BPE model wherever
            they stand as whole units.
        terms_file: a file of terms, as `terms`.
        engine: "native" (tokkit's numba trainer) or "hf" (tokenizers' BpeTrainer): the same merges.
        allow_smaller: accept a smaller vocabulary when the corpus cannot supply `vocab_size`.
        resume: native only: a tokenizer.json, folder or trained tokenizer whose merges come first.
        export_sizes: native only, with `out`: also write tokenizer-<V>.json for each smaller V from the same run
            (the first merges that fit).
        max_words: native only: bound memory, keeping at most this many distinct words while counting.
        threads: native only: counting threads (default all cores).
        quiet: no progress notices.
        **read_kw: `read_documents` keywords when `corpus` is a path.

    Returns:
        A `tokkit.tokenizer.Tokenizer` whose `card` is the artifact card (`.engine` is the `tokenizers.Tokenizer`).

    Raises:
        InputError: the corpus cannot supply `vocab_size` (unless `allow_smaller`), a bad keyword or value.
    """
    check_engine(engine)
    if engine == "native":
        prepare_kernels(quiet=quiet)  # a first compile is not training time
    timer = Timer()
    V = resolve_vocab_size(vocab_size, pow2)
    specials = check_special_tokens(special_tokens)
    norm = check_normalizer(normalizer)
    min_frequency = check_min_frequency(min_frequency)
    if pre_tokenizer not in PRE_TOKENIZERS:
        raise InputError(f"pre_tokenizer={pre_tokenizer!r}: expected one of {', '.join(PRE_TOKENIZERS)}")
    n_base = len(base_tokens(specials))
    if V <= n_base:
        raise InputError(f"vocab_size={V} must exceed the alphabet (256 byte symbols) plus the "
                         f"{len(specials)} special tokens = {n_base}")
    export_sizes = check_export_sizes(export_sizes, V, n_base)
    if isinstance(corpus, Mapping):
        if read_kw:
            raise InputError(f"unexpected options for a word-count table: {', '.join(read_kw)}")
        stream, word_counts = None, corpus
    else:
        stream, word_counts = CorpusStream(corpus, quiet=quiet, **read_kw), None
    timer.lap("setup")
    # the native engine reads Oniguruma's classes of characters: the tokenizer.json splits with them
    fit = fit_bytelevel(stream, word_counts=word_counts, resume=resume, max_words=max_words, threads=threads,
                        vocab_size=V, pre_tokenizer=pre_tokenizer, split_digits=split_digits,
                        normalizer=norm, lowercase=not cased, min_frequency=min_frequency,
                        special_tokens=specials, terms=terms, terms_file=terms_file, quiet=quiet, unicode="hf",
                        allow_smaller=allow_smaller, engine=engine)
    timer.lap("train")
    model = fit.model
    if fit.terms:
        _check_terms(model.to_tokenizer(), fit.terms)
    timer.lap("finalize")
    params = dict(vocab_size=V, requested_vocab_size=vocab_size, pow2=pow2, cased=cased, normalizer=norm,
                  min_frequency=min_frequency, pre_tokenizer=pre_tokenizer, split_digits=split_digits,
                  special_tokens=model.special_tokens, terms=len(fit.terms), terms_source=fit.terms_source,
                  engine=engine, allow_smaller=allow_smaller, resumed_merges=model.stats.get("resumed_merges", 0),
                  max_words=max_words, export_sizes=export_sizes)
    vocab_card = dict(model.vocabulary_card(), **fit.vocabulary)
    corpus_card = stream.corpus_card() if stream is not None else dict(
        source="word counts", **{k: model.stats[k] for k in ("distinct_words", "words") if k in model.stats})
    card = Card("bpe", params, corpus_card, timer.total(), vocab_card)
    tok = model.as_tokenizer(card, export_sizes=export_sizes)
    if out is not None:
        tok.save(out)
    return tok


def _check_terms(tok, terms: Sequence[str]) -> None:
    """Every term, alone and after a space, must come out as one token: a failure here is a bug."""
    for t in terms:
        for text in {t, " " + t}:
            enc = tok.encode(text, add_special_tokens=False)
            if len(enc.ids) != 1:
                raise AssertionError(f"term {text!r} encodes as {enc.tokens}")
