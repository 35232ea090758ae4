"""The quickstart's main job on data that ships inside installed packages (works offline): train one
multilingual byte-level BPE from wordfreq word counts, optionally save it as an artifact, and measure what it
costs each language. `tokkit demo` prints what `run_demo` returns."""

from __future__ import annotations

import time
from typing import Sequence

from .._progress import progress
from ..errors import InputError

DEMO_LANGUAGES = ["en", "de", "fr", "ru", "ar", "hi", "zh", "ko"]
# engine -> the registry's algorithm (tokkit.train.registry) trained on the merged counts
_ALGORITHM = {"native": "native-bpe", "hf": "hf-bpe"}


def run_demo(languages: Sequence[str] = DEMO_LANGUAGES, *, vocab_size: int = 8192, n_words: int = 20_000,
             total: int = 200_000, out: str | None = None, engine: str = "native", quiet: bool = True) -> dict:
    """Tokens per word per language of one tokenizer trained on all languages' wordfreq counts, beside bytes per word.

    Tokens per word are frequency-weighted, each word with the leading space it has in running text. Runs offline.

    Args:
        languages: wordfreq language codes.
        vocab_size: the tokenizer's vocabulary size.
        n_words: the most frequent words taken per language.
        total: the token count the frequencies are scaled to.
        out: save the tokenizer there (tokenizer.json and card).
        engine: "native" (tokkit's trainer) or "hf" (Hugging Face's BpeTrainer).
        quiet: no progress notices.

    Returns:
        dict(vocab_size, train_seconds, out, engine, algorithm, languages=[rows]).
    """
    from ..corpora import WordCounts, script_counts, wordfreq_counts
    from ..train.artifacts import Card, vocabulary_stats, write_artifacts
    from ..train.registry import resolve_algorithm

    languages = list(languages)
    if not languages:
        raise InputError("demo: no languages")
    if engine not in _ALGORITHM:
        raise InputError(f"engine={engine!r}: expected one of {', '.join(_ALGORITHM)}")
    algorithm = _ALGORITHM[engine]
    for name, v in (("vocab_size", vocab_size), ("n_words", n_words), ("total", total)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"demo: {name} must be a whole number >= 1, got {v!r}")
    if vocab_size <= 256:  # before reading the counts: a byte-level vocabulary holds the 256 bytes first
        raise InputError(f"demo: vocab_size={vocab_size} must exceed the 256-byte alphabet")
    tables = {}
    with progress("wordfreq counts", total=len(languages), quiet=quiet, unit="languages") as bar:
        for lang in languages:
            tables[lang] = wordfreq_counts(lang, n_words=n_words, total=total)
            bar.advance()
    merged = WordCounts({})
    for wc in tables.values():
        merged = merged + wc
    if engine == "native":  # a first compile (once per installation) is announced, and is not training time
        from ..train.native import prepare_kernels

        prepare_kernels(quiet=quiet)
    t = time.perf_counter()
    tok = resolve_algorithm(algorithm)(merged, vocab_size, 0)
    seconds = time.perf_counter() - t
    rows = []
    for lang, wc in tables.items():
        words = list(wc)
        counts = tok.count_batch([" " + w for w in words])
        weight = wc.total
        tokens_per_word = sum(n * wc[w] for n, w in zip(counts, words)) / weight
        bytes_per_word = sum(len(w.encode()) * c for w, c in wc.items()) / weight
        scripts = script_counts("".join(words))
        rows.append(dict(language=lang, script=scripts.most_common(1)[0][0] if scripts else "Zyyy",
                         words=len(wc), tokens_per_word=round(tokens_per_word, 3),
                         bytes_per_word=round(bytes_per_word, 3)))
    if out:
        hf = tok.engine
        card = Card(recipe=f"demo: {algorithm} from wordfreq counts",
                    parameters=dict(languages=languages, vocab_size=vocab_size, n_words=n_words, total=total,
                                    engine=engine),
                    corpus=dict(source="wordfreq", words=len(merged), total=merged.total),
                    timings=dict(train_seconds=round(seconds, 3)),
                    vocabulary=vocabulary_stats(hf.get_vocab()))
        write_artifacts(out, card, {"tokenizer.json": lambda p: hf.save(p)})
    return dict(vocab_size=tok.vocab_size, train_seconds=seconds, out=out, engine=engine, algorithm=algorithm,
                languages=rows)
