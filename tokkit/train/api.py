"""`tokkit.train(corpus, recipe=...)`: one entry point over the recipes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    from ..tokenizer.base import Tokenizer

RECIPES = ("bpe", "char", "superword", "spm", "parity", "native")


def train(corpus: Any, recipe: str = "bpe", *, out: str | os.PathLike | None = None, **options) -> "Tokenizer":
    """Train a tokenizer with one of the recipes and, with `out`, write it as an artifact folder.

    Args:
        corpus: what the recipe trains on: documents, paths, texts or a word-count table; for "parity" a
            parallel corpus (udhr / ntrex / flores, a folder or a `ParallelCorpus`), split into train and dev
            units with `languages` and `dev_fraction`.
        recipe: "bpe" (domain byte-level BPE, `train_bpe`), "char" (character-level BPE, `train_char`),
            "superword" (SuperBPE, `train_superword`), "spm" (SentencePiece unigram/BPE, `train_spm`) or "parity"
            (parity-aware BPE, `train_parity`); "native" is "bpe" on the native engine given texts, files or a
            word-count table (`train_native`).
        out: the artifact folder to write; None: nothing is written.
        **options: that recipe's keywords, plus `read_documents` keywords when `corpus` is a path.

    Returns:
        A `tokkit.tokenizer.Tokenizer` carrying its card (every recipe).

    Raises:
        InputError: an unknown recipe or keyword, or what the recipe raises.

    Example:
        >>> tok = tokkit.train("domain/legal", recipe="bpe", vocab_size=32768, out="legal-32k", split="train",
        ...                    terms="legal_terms.txt")
    """
    if recipe == "bpe":
        from .bpe import train_bpe as fn
    elif recipe == "char":
        from .char import train_char as fn
    elif recipe == "superword":
        from .superword import train_superword as fn
    elif recipe in ("spm", "sentencepiece"):
        from .spm import train_spm as fn
    elif recipe == "parity":
        return _train_parity(corpus, out, **options)
    elif recipe == "native":
        return _train_native(corpus, out, **options)
    else:
        raise InputError(f"recipe={recipe!r}: expected one of {', '.join(RECIPES)}")
    return fn(corpus, out, **options)


def _train_parity(corpus: Any, out, *, languages=None, dev_fraction: float = 0.2, **options):
    from ..corpora import load_parallel, parallel_split
    from .parity import train_parity

    if isinstance(corpus, (str, os.PathLike)):
        corpus = load_parallel(os.fspath(corpus))
    train_units, dev_units, _ = parallel_split(corpus, languages, dev_fraction=dev_fraction)
    return train_parity(train_units, dev_units, out=out, **options)


def _train_native(corpus: Any, out, *, quiet: bool = True, **options):
    """The native engine takes texts, files or a word-count table: a corpus path goes through the same
    reader as the other recipes, a mapping is a word-count table."""
    from collections.abc import Mapping

    from .common import CorpusStream
    from .native import train_native

    native_kw = {k: options.pop(k) for k in list(options) if k in _NATIVE_KEYWORDS}
    if "engine" in native_kw and native_kw.pop("engine") != "native":
        raise InputError("recipe='native' runs on the native engine: use recipe='bpe' with engine='hf'")
    if isinstance(corpus, Mapping):
        if options:
            raise InputError(f"unexpected options for a word-count table: {', '.join(options)}")
        return train_native(word_counts=corpus, out=out, quiet=quiet, **native_kw)
    texts = CorpusStream(corpus, quiet=quiet, **options)
    return train_native(texts, out=out, quiet=quiet, **native_kw)


_NATIVE_KEYWORDS = {"vocab_size", "pre_tokenizer", "min_frequency", "special_tokens", "resume", "terms",
                    "terms_file", "max_words", "threads", "max_bytes", "export_sizes", "max_token_words",
                    "unicode", "allow_smaller", "engine"}
