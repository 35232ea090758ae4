"""`tokkit.train(corpus, recipe=...)`: one entry point over the recipes."""

from __future__ import annotations

import os
from typing import Any

from ..errors import InputError

RECIPES = ("bpe", "char", "superword", "spm")


def train(corpus: Any, recipe: str = "bpe", *, out: str | os.PathLike | None = None, **options):
    """Train a tokenizer with one of the recipes and, with `out`, write it as an artifact folder.

    >>> tok = tokkit.train("domain/legal", recipe="bpe", vocab_size=32768, out="legal-32k", split="train",
    ...                    terms="legal_terms.txt")

    recipe: "bpe" (domain byte-level BPE, `train_bpe`), "char" (character-level BPE, `train_char`),
    "superword" (SuperBPE, `train_superword`) or "spm" (SentencePiece unigram/BPE, `train_spm`); `options`
    are that function's keywords, plus `read_documents` keywords when `corpus` is a path. Returns a
    `tokenizers.Tokenizer` (a `sentencepiece.SentencePieceProcessor` for "spm").
    """
    if recipe == "bpe":
        from .bpe import train_bpe as fn
    elif recipe == "char":
        from .char import train_char as fn
    elif recipe == "superword":
        from .superword import train_superword as fn
    elif recipe in ("spm", "sentencepiece"):
        from .spm import train_spm as fn
    elif recipe == "native":
        try:
            from .native import train_native as fn  # written by the native-trainer issue
        except ImportError:
            raise InputError("recipe 'native' is not available in this build") from None
    else:
        raise InputError(f"recipe={recipe!r}: expected one of {', '.join(RECIPES)}")
    return fn(corpus, out, **options)
