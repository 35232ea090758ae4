"""Long texts cut at safe pre-token boundaries, so that encoding the pieces gives the same token count as
encoding the whole text while memory stays bounded by the piece size.

The rule: cut only before a U+0020 space that has a non-whitespace character on both sides ("x| y"), and
only for tokenizers whose pre-tokenizer is one of the split patterns below (GPT-2 / r50k / p50k, cl100k,
o200k / GPT-4o, Llama 3, tokkit's whitespace split, and their split-digit variants), with no normalizer other
than NFC and no added token that holds a space or strips whitespace. In each of these patterns a piece that
holds a non-whitespace character holds no space except as its first character, and none of them looks
behind. So the piece holding x ends at x (it cannot take the space after it), the next piece starts at the
space and is matched from there exactly as it is in the whole text, and nothing before the cut looks past
it (the one lookahead, `\\s+(?!\\S)`, and cl100k's `\\s++$` only end whitespace runs, and the text before
the cut ends in x). The pieces, and so the BPE tokens, are the same; tests/test_chunks.py checks the counts
against whole-text encodes on real text. Other tokenizers (SentencePiece, Metaspace, WordPiece, custom
splits such as SuperBPE's, whose merges cross single spaces) are encoded whole.
"""

from __future__ import annotations

import json
from typing import Iterator, Sequence

import numpy as np

from ..kernels.split_patterns import ENCODINGS, PATTERNS, SPLIT_DIGITS
from .base import Tokenizer

# split patterns with the property above (SuperBPE's stage-2 split lacks it: its gaps hold single spaces)
SAFE_PATTERNS = frozenset({*ENCODINGS.values(), *SPLIT_DIGITS.values()}
                          | {p for k, p in PATTERNS.items() if p is not None and k != "superword"})
MAX_CHARS = 1 << 16       # characters per piece
BATCH_CHARS = 1 << 22     # characters handed to the engine at once


def _hf_safe(spec: dict) -> bool:
    norm = spec.get("normalizer")
    if norm is not None and norm.get("type") != "NFC":
        return False
    for t in spec.get("added_tokens") or []:
        if " " in t.get("content", "") or t.get("lstrip") or t.get("rstrip"):
            return False
    if (spec.get("model") or {}).get("type") != "BPE":
        return False
    pre = spec.get("pre_tokenizer")
    steps = pre.get("pretokenizers", []) if pre and pre.get("type") == "Sequence" else [pre]
    split = False
    for s in steps:
        if not s:
            return False
        if s.get("type") == "ByteLevel":
            split |= s.get("use_regex", True)        # ByteLevel's own regex is GPT-2's
        elif s.get("type") == "Split":
            if (s.get("pattern") or {}).get("Regex") not in SAFE_PATTERNS or s.get("invert") \
                    or s.get("behavior") != "Isolated":
                return False
            split = True
        elif s.get("type") != "Digits":               # one piece per digit (run) only adds boundaries
            return False
    return split


def chunk_safe(tok: Tokenizer) -> bool:
    """True when cutting a text by the rule above leaves `tok`'s token count unchanged."""
    if tok.kind in ("bytes", "chars"):
        return True
    if tok.kind == "tiktoken":
        return getattr(tok, "pattern", None) in SAFE_PATTERNS
    if tok.kind == "hf":
        spec = getattr(tok, "_spec", None)
        if spec is None:
            try:
                spec = json.loads(tok.engine.to_str())
            except Exception:  # noqa: BLE001 - an engine that cannot describe itself is encoded whole
                return False
        return _hf_safe(spec)
    return False


def safe_cut(text: str, i: int) -> bool:
    """A cut before text[i] is safe: text[i] is a space with a non-whitespace character on both sides.
    (str.isspace is true for every Unicode White_Space character and a few more, so the test is strict.)"""
    return 0 < i < len(text) - 1 and text[i] == " " and not text[i - 1].isspace() and not text[i + 1].isspace()


def split_text(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """text cut at safe points into pieces of at most max_chars where a safe point allows (the last one
    before the limit, within its second half; else the first one after it); "".join(pieces) == text."""
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    out, start, n = [], 0, len(text)
    while n - start > max_chars:
        hi, lo = start + max_chars, start + max_chars // 2
        cut = text.rfind(" ", lo, hi + 1)
        while cut > start and not safe_cut(text, cut):
            cut = text.rfind(" ", lo, cut)
        if cut <= start:  # none in the window: the first safe point after it
            cut = text.find(" ", hi)
            while cut != -1 and not safe_cut(text, cut):
                cut = text.find(" ", cut + 1)
            if cut == -1:
                break
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


def chunk_texts(tok: Tokenizer, texts: Sequence[str], max_chars: int = MAX_CHARS) -> tuple[list[str], np.ndarray]:
    """(pieces, owner): the texts cut at safe points where `tok` allows it (else whole), and the index of the
    text each piece came from."""
    if not any(len(t) > max_chars for t in texts) or not chunk_safe(tok):
        return list(texts), np.arange(len(texts), dtype=np.int64)
    pieces, owner = [], []
    for k, t in enumerate(texts):
        parts = split_text(t, max_chars) if len(t) > max_chars else [t]
        pieces += parts
        owner += [k] * len(parts)
    return pieces, np.asarray(owner, dtype=np.int64)


def batches(texts: Sequence[str], batch_chars: int = BATCH_CHARS) -> Iterator[tuple[int, int]]:
    """(start, end) ranges of consecutive texts holding about batch_chars characters each (at least one)."""
    start, size = 0, 0
    for k, t in enumerate(texts):
        if size and size + len(t) > batch_chars:
            yield start, k
            start, size = k, 0
        size += len(t)
    if start < len(texts):
        yield start, len(texts)


def count_chunked(tok: Tokenizer, texts: Sequence[str], *, max_chars: int = MAX_CHARS,
                  batch_chars: int = BATCH_CHARS) -> list[int]:
    """Token counts of texts of any length: cut at safe points, encoded in bounded batches, summed back."""
    pieces, owner = chunk_texts(tok, texts, max_chars)
    out = np.zeros(len(texts), dtype=np.int64)
    for a, b in batches(pieces, batch_chars):
        np.add.at(out, owner[a:b], np.asarray(tok.count_batch(pieces[a:b]), dtype=np.int64))
    return out.tolist()
