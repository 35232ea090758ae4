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
splits such as SuperBPE's, whose merges cross single spaces) are exact under the rules below, or cut
approximately.

SentencePiece models that split by whitespace (its default) encode each space-led word on its own: with
the dummy prefix (add_dummy_prefix) a cut drops the space at the cut and the prefix puts it back as the
next piece's leading "▁"; without it the space stays with the next piece. With identity normalization and
whitespace kept (remove_extra_whitespaces off, or the dummy prefix on) the counts are the whole text's;
tests/test_chunks.py checks llama2 and tokkit's own spm artifacts.

Bounded memory for every tokenizer: a text longer than LONG_CHARS that no exact rule covers (another
normalization or split, WordPiece, Metaspace without a split, SuperBPE) is still cut, at the last space
(else the last character) before each LONG_CHARS characters, and an exact tokenizer whose text holds no
safe point in LONG_CHARS characters (a megabyte of unspaced script) is cut at LONG_CHARS too. Such cuts may
change a count by a few tokens per cut, i.e. per million characters (tests/test_chunks.py bounds it); no
text under LONG_CHARS characters is ever cut approximately.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..kernels.split_patterns import ENCODINGS, PATTERNS, SPLIT_DIGITS
from .base import Tokenizer

# split patterns with the property above (SuperBPE's stage-2 split lacks it: its gaps hold single spaces)
SAFE_PATTERNS = frozenset({*ENCODINGS.values(), *SPLIT_DIGITS.values()}
                          | {p for k, p in PATTERNS.items() if p is not None and k != "superword"})
MAX_CHARS = 1 << 16       # characters per piece
BATCH_CHARS = 1 << 22     # characters handed to the engine at once
LONG_CHARS = 1 << 20      # beyond this, a text is cut even where no exact rule holds (approximate)


@dataclass(frozen=True)
class Rule:
    """How a tokenizer's texts are cut: `exact` (counts unchanged) at max_chars, or approximately at
    LONG_CHARS; `drop_space`: the space at a cut is left out (the dummy prefix puts it back)."""

    exact: bool
    drop_space: bool = False

    @property
    def max_chars(self) -> int:
        return MAX_CHARS if self.exact else LONG_CHARS


def _hf_safe(spec: dict) -> bool:
    norm = spec.get("normalizer")
    if norm is not None and norm.get("type") != "NFC":
        return False
    for t in spec.get("added_tokens") or []:
        if t.get("special"):  # special tokens are encoded as plain text (tokenizer.hf), never matched
            continue
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
    """True when cutting a text before a safe space, the space kept with the next piece (the first rule
    above), leaves `tok`'s token count unchanged: then any text may be encoded as such consecutive pieces
    (premiums' joined blocks). SentencePiece's dropped-space rule is exact too, but only through
    chunk_texts / piece_batches, which leave the space out."""
    rule = chunk_rule(tok)
    return rule.exact and not rule.drop_space


def chunk_rule(tok: Tokenizer) -> Rule:
    """How `tok`'s long texts are cut (module docstring)."""
    if tok.kind in ("bytes", "chars"):
        return Rule(True)
    if tok.kind == "tiktoken":
        return Rule(getattr(tok, "pattern", None) in SAFE_PATTERNS)
    if tok.kind == "hf":
        spec = getattr(tok, "_spec", None)
        if spec is None:
            try:
                spec = json.loads(tok.engine.to_str())
            except Exception:  # noqa: BLE001 - an engine that cannot describe itself is cut approximately
                return Rule(False)
        return Rule(_hf_safe(spec))
    if tok.kind == "sentencepiece":
        return _spm_rule(tok.engine.serialized_model_proto())
    return Rule(False)


@lru_cache(maxsize=32)
def _spm_rule(proto: bytes) -> Rule:
    try:
        from sentencepiece import sentencepiece_model_pb2 as pb

        m = pb.ModelProto()
        m.ParseFromString(proto)
    except Exception:  # noqa: BLE001 - protobuf missing or an unreadable proto: cut approximately
        return Rule(False)
    n, t = m.normalizer_spec, m.trainer_spec
    exact = (t.split_by_whitespace and not t.treat_whitespace_as_suffix and n.name == "identity"
             and not n.normalization_rule_tsv and (n.add_dummy_prefix or not n.remove_extra_whitespaces))
    return Rule(bool(exact), drop_space=bool(n.add_dummy_prefix))


def safe_cut(text: str, i: int) -> bool:
    """A cut before text[i] is safe: text[i] is a space with a non-whitespace character on both sides.
    (str.isspace is true for every Unicode White_Space character and a few more, so the test is strict.)"""
    return 0 < i < len(text) - 1 and text[i] == " " and not text[i - 1].isspace() and not text[i + 1].isspace()


def iter_pieces(text: str, max_chars: int = MAX_CHARS, *, drop_space: bool = False,
                long_chars: int | None = None) -> Iterator[str]:
    """text cut at safe points into pieces of at most max_chars where a safe point allows (the last one
    before the limit, within its second half; else the first one after it, up to long_chars; beyond
    long_chars of text without a safe point, at the last space or character before it: approximate).
    "".join(pieces) == text, or " ".join(pieces) == text with drop_space (the space at each cut left out)."""
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    long_chars = LONG_CHARS if long_chars is None else long_chars
    start, n = 0, len(text)
    while n - start > max_chars:
        hi, lo = start + max_chars, start + max_chars // 2
        cut = text.rfind(" ", lo, hi + 1)
        while cut > start and not safe_cut(text, cut):
            cut = text.rfind(" ", lo, cut)
        if cut <= start:  # none in the window: the first safe point after it
            far = min(n, start + max(long_chars, max_chars))
            cut = text.find(" ", hi, far)
            while cut != -1 and not safe_cut(text, cut):
                cut = text.find(" ", cut + 1, far)
            if cut == -1:
                if far >= n:
                    break
                cut = text.rfind(" ", lo, far)  # approximate: the last space, else the last character
                cut = cut if cut > start else far - 1
        yield text[start:cut]
        start = cut + 1 if drop_space and text[cut] == " " else cut
    yield text[start:]


def split_text(text: str, max_chars: int = MAX_CHARS, *, drop_space: bool = False,
               long_chars: int | None = None) -> list[str]:
    """The pieces of `iter_pieces` as a list."""
    return list(iter_pieces(text, max_chars, drop_space=drop_space, long_chars=long_chars))


def chunk_texts(tok: Tokenizer, texts: Sequence[str], max_chars: int | None = None) -> tuple[list[str], np.ndarray]:
    """(pieces, owner): the texts cut where `tok`'s rule allows it (chunk_rule; whole when short), and the
    index of the text each piece came from. max_chars: the piece size of exact rules (default MAX_CHARS)."""
    max_chars = max_chars or MAX_CHARS
    rule = chunk_rule(tok) if any(len(t) > min(max_chars, LONG_CHARS) for t in texts) else None
    limit = max_chars if rule is not None and rule.exact else LONG_CHARS
    if rule is None or not any(len(t) > limit for t in texts):
        return list(texts), np.arange(len(texts), dtype=np.int64)
    pieces, owner = [], []
    for k, t in enumerate(texts):
        parts = split_text(t, limit, drop_space=rule.drop_space) if len(t) > limit else [t]
        pieces += parts
        owner += [k] * len(parts)
    return pieces, np.asarray(owner, dtype=np.int64)


def piece_batches(tok: Tokenizer, texts: Sequence[str], batch_chars: int = BATCH_CHARS,
                  max_chars: int | None = None) -> Iterator[tuple[list[str], list[int]]]:
    """chunk_texts made lazy: (pieces, owner) in batches of about batch_chars characters, so that a huge
    text is never held twice (its pieces are cut as the batches are consumed)."""
    max_chars = max_chars or MAX_CHARS
    rule = chunk_rule(tok) if any(len(t) > min(max_chars, LONG_CHARS) for t in texts) else None
    limit = max_chars if rule is not None and rule.exact else LONG_CHARS
    pieces: list[str] = []
    owner: list[int] = []
    size = 0
    for k, t in enumerate(texts):
        parts = iter_pieces(t, limit, drop_space=rule.drop_space) if rule is not None and len(t) > limit else (t,)
        for p in parts:
            if size and size + len(p) > batch_chars:
                yield pieces, owner
                pieces, owner, size = [], [], 0
            pieces.append(p)
            owner.append(k)
            size += len(p)
    if pieces:
        yield pieces, owner


def batches(texts: Sequence[str], batch_chars: int = BATCH_CHARS, *,
            lengths: np.ndarray | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) ranges of consecutive texts holding about batch_chars characters each: a range ends before
    the text that would take it past batch_chars, unless the range holds no character yet. lengths: the
    texts' lengths, where the caller has them already."""
    if lengths is None:
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    ends = np.cumsum(lengths)
    start = 0
    while start < len(ends):  # the first text past the budget, found by bisection: no Python loop per text
        base = ends[start - 1] if start else 0
        end = int(np.searchsorted(ends, base + batch_chars, side="right"))
        if end < len(ends) and (end == start or ends[end - 1] == base):  # nothing held before it: it joins
            end += 1
        yield start, end
        start = end


def count_chunked(tok: Tokenizer, texts: Sequence[str], *, max_chars: int | None = None,
                  batch_chars: int = BATCH_CHARS) -> list[int]:
    """Token counts of texts of any length: cut at safe points, encoded in bounded batches, summed back."""
    pieces, owner = chunk_texts(tok, texts, max_chars)
    out = np.zeros(len(texts), dtype=np.int64)
    for a, b in batches(pieces, batch_chars):
        np.add.at(out, owner[a:b], np.asarray(tok.count_batch(pieces[a:b]), dtype=np.int64))
    return out.tolist()


def cut_for_split(texts: Iterable[str], split: str | None) -> Iterator[str]:
    """Training text for a trainer that pre-tokenizes and counts it itself (HF's BpeTrainer, a regex
    counter): each text cut into pieces whose pre-tokens under `split` (a regex; None: no split) are the
    whole text's, so the word counts and the merges learnt are unchanged, for the SAFE_PATTERNS (pieces of
    MAX_CHARS); under any other split cut at LONG_CHARS (approximate: a few pre-tokens per cut change).
    A cut before a space between two non-space characters is also safe for NFC / NFKC and lowercasing,
    which never join a space to the character before it."""
    limit = MAX_CHARS if split in SAFE_PATTERNS else LONG_CHARS
    for t in texts:
        if len(t) > limit:
            yield from iter_pieces(t, limit)
        else:
            yield t
