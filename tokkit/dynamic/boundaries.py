"""Word ids for token sequences, from any tokenizer's character offsets.

Merging must not cross word boundaries, and only the tokenizer knows where its tokens sit in the text, so
boundaries come from offsets. Modes:

- "word": whitespace-delimited words, Dynamic BPE's `word` mode. Two adjacent tokens share a word when the
  text they cover together has whitespace only at its start: "Ġthe"+"se" joins, "the"+"Ġcat" does not, a
  newline token joins the word after it ("\\n"+"The"), punctuation stays with its word ("world"+","). Runs of
  whitespace tokens do not merge with each other (Dynamic BPE lets them; tokkit keeps layout tokens apart).
- "pretokens": the tokenizer's own pre-tokens (Hugging Face `Encoding.word_ids`), Dynamic BPE's default.
- "sentence": every pair of adjacent non-special tokens may merge.

Special tokens and tokens covering no text get word id -1: they never merge.

Tokenizers accepted: anything with `encode_with_offsets(text) -> (ids, offsets)` (what `tokkit` loads), a
`tokenizers.Tokenizer`, or a `transformers` fast tokenizer.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from ..errors import InputError

__all__ = ["word_ids_from_offsets", "tokenize_with_words", "MODES"]

MODES = ("word", "pretokens", "sentence")
_WS = re.compile(r"\s")


def word_ids_from_offsets(text: str, offsets: Sequence[tuple[int, int]], special_mask: Sequence[int] | None = None,
                          mode: str = "word", pretoken_ids: Sequence[int | None] | None = None) -> np.ndarray:
    """Word id of each token (int64, -1 where it may not merge) from its (start, end) character offsets."""
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    n = len(offsets)
    off = np.asarray(offsets, dtype=np.int64).reshape(n, 2)
    s, e = off[:, 0], off[:, 1]
    dead = e <= s
    if special_mask is not None:
        dead |= np.asarray(special_mask, dtype=bool)
    if mode == "pretokens":
        if pretoken_ids is None:
            raise InputError("mode='pretokens' needs the tokenizer's pre-token ids (a Hugging Face tokenizer); "
                             "use mode='word' with other tokenizers")
        w = np.array([-1 if p is None else p for p in pretoken_ids], dtype=np.int64)
        w[dead] = -1
        return w
    if mode == "sentence":
        start = dead.copy()
        start[1:] |= dead[:-1]
    else:
        ws = np.zeros(len(text) + 1, dtype=np.int64)
        for m in _WS.finditer(text):
            ws[m.start() + 1] = 1
        cws = np.cumsum(ws)  # cws[i] = whitespace characters in text[:i]
        nonws = np.flatnonzero(ws[1:] == 0)  # positions of non-whitespace characters
        # first non-whitespace character at or after each token start
        k = np.searchsorted(nonws, s)
        nxt_nonws = np.where(k < nonws.size, nonws[np.minimum(k, max(nonws.size - 1, 0))] if nonws.size else 0,
                             len(text))
        n_ws = cws[e] - cws[s]
        lead = np.minimum(nxt_nonws, e) - s
        has_ws = n_ws > 0
        ws_prefix_only = n_ws == lead  # whitespace, if any, is a prefix of the token's text
        start = dead | has_ws
        start[1:] |= ~ws_prefix_only[:-1] | dead[:-1]
        if n > 1:  # whitespace the tokenizer dropped (WordPiece offsets skip it) also separates words
            gap_end = np.maximum(s[1:], e[:-1])
            start[1:] |= (cws[gap_end] - cws[e[:-1]]) > 0
    if n:
        start[0] = True
    w = np.cumsum(start) - 1
    w[dead] = -1
    return w.astype(np.int64)


class _Encoder:
    """One text -> (ids, offsets, special mask or None, pre-token ids or None), for any supported tokenizer."""

    def __init__(self, tokenizer, add_special_tokens: bool):
        self.add = add_special_tokens
        backend = getattr(tokenizer, "backend_tokenizer", None)  # transformers fast tokenizer
        try:
            import tokenizers

            if isinstance(tokenizer, tokenizers.Tokenizer):
                backend = tokenizer
        except ImportError:  # pragma: no cover - tokenizers is a core dependency
            pass
        if backend is not None and (backend.padding is not None or backend.truncation is not None):
            # padding and truncation saved in a tokenizer.json (MiniLM's pads every text to 128) would put pad
            # tokens into the sequences to merge: encode with a copy that has neither; max_length truncates
            import tokenizers

            backend = tokenizers.Tokenizer.from_str(backend.to_str())
            backend.no_padding()
            backend.no_truncation()
        self.hf = backend
        self.tok = tokenizer
        if backend is None and not hasattr(tokenizer, "encode_with_offsets"):
            raise InputError(f"tokenizer {type(tokenizer).__name__} has no encode_with_offsets(text) and is not a "
                             "tokenizers.Tokenizer or transformers fast tokenizer")

    def batch(self, texts: list[str]):
        if self.hf is not None:
            encs = self.hf.encode_batch(texts, add_special_tokens=self.add)
            return [(np.asarray(e.ids, dtype=np.int64), e.offsets, e.special_tokens_mask, e.word_ids) for e in encs]
        out = []
        for t in texts:
            ids, offsets = self.tok.encode_with_offsets(t)
            out.append((np.asarray(ids, dtype=np.int64), list(offsets), None, None))
        return out


def tokenize_with_words(tokenizer, texts: str | Iterable[str], *, mode: str = "word",
                        add_special_tokens: bool = False, max_length: int | None = None):
    """Tokenize texts and give each token its word id: returns (ids, word_ids), two lists of int64 arrays.

    Padding and truncation configured in a Hugging Face tokenizer are ignored (sequences are never padded
    here); `max_length` truncates each sequence instead."""
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"texts[{i}] is {type(t).__name__}, not str")
    if max_length is not None and max_length < 1:
        raise InputError(f"max_length must be >= 1, got {max_length}")
    enc = _Encoder(tokenizer, add_special_tokens)
    all_ids, all_words = [], []
    for text, (ids, offsets, special, pre) in zip(texts, enc.batch(texts)):
        w = word_ids_from_offsets(text, offsets, special, mode, pre)
        if max_length is not None:
            ids, w = ids[:max_length], w[:max_length]
        all_ids.append(ids)
        all_words.append(w)
    return all_ids, all_words
