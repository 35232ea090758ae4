"""The one interface every tokenizer backend implements: ids, counts and character offsets, never
special tokens added, and never a special token's id for text that happens to spell it.

Special tokens in text: `encode(text)` (and every batch, count and offsets path) treats text that spells a
special token (`<|system|>`, `<|endoftext|>`, `<s>`) as plain text, as tiktoken's encode_ordinary does, so
user text cannot forge a role boundary or a document end. A caller who builds a prompt and wants the
markers matched opts in: `encode(text, allowed_special={"<|system|>"})` or `allowed_special="all"`, as
tiktoken's keyword (text outside the matches is encoded plainly, piece by piece).
"""

from __future__ import annotations

import re
from typing import AbstractSet, Literal, Sequence

from ..errors import InputError


class Tokenizer:
    """A loaded tokenizer. Backends override encode / count_batch / encode_with_offsets with the engine's
    own fast paths; the defaults here are correct but slow."""

    name: str = "tokenizer"
    kind: str = "?"                  # hf | sentencepiece | tiktoken | bytes | chars
    source: str = ""                 # the path or spec it was loaded from
    # True where decode([i]) is the token's own text and encoding that text alone must give [i] if the
    # entry is reachable at all (byte-level BPE); used by the unreachable-entries check
    isolated_roundtrip: bool = False
    # True where the model can silently drop characters it has no token for (a BPE with neither an UNK
    # token, byte fallback nor a byte-level pre-tokenizer): counts alone would then look cheap
    may_drop_characters: bool = False
    # what made it, where tokkit trained it: the artifact card (recipe, parameters, corpus, timings,
    # vocabulary statistics) as a dict; None for a tokenizer loaded from elsewhere
    card: dict | None = None
    # the engine encode / encode_batch / count_batch run on: "reference" (the one named by `kind`, also
    # `.engine`) or a fast exact one from tokenizer.fast ("tokie", "splintr"), chosen by load_tokenizer
    encoder: str = "reference"

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    @property
    def unk_id(self) -> int | None:
        return None

    @property
    def byte_fallback_ids(self) -> frozenset[int]:
        """Ids of byte-fallback pieces (<0xAB>), empty where the model has none."""
        return frozenset()

    @property
    def special_ids(self) -> frozenset[int]:
        """Ids of control/added special tokens: excluded from vocabulary checks."""
        return frozenset()

    @property
    def special_tokens(self) -> dict[str, int]:
        """Special token text -> id: what `encode(..., allowed_special=...)` may match in text."""
        return {}

    def encode(self, text: str, *, allowed_special: "AbstractSet[str] | Literal['all']" = frozenset()) -> list[int]:
        """Ids of `text`; special tokens are plain text unless named in allowed_special (module docstring)."""
        raise NotImplementedError

    def encode_special(self, text: str, allowed_special: "AbstractSet[str] | Literal['all']") -> list[int]:
        """Ids of `text` with the allowed special tokens matched where the text spells them, and the text
        between them encoded plainly (what `encode(text, allowed_special=...)` does in every backend)."""
        table = self.special_tokens
        if allowed_special == "all":
            allowed = table
        else:
            if isinstance(allowed_special, str):
                raise InputError("allowed_special: expected a set of special tokens or 'all', got a string")
            unknown = sorted(set(allowed_special) - set(table))
            if unknown:
                raise InputError(f"{self.name}: {', '.join(map(repr, unknown[:5]))} not special tokens of this "
                                 f"tokenizer (it has {len(table)})")
            allowed = {t: table[t] for t in allowed_special}
        if not allowed:
            return self.encode(text)
        rx = re.compile("|".join(re.escape(t) for t in sorted(allowed, key=len, reverse=True)))
        out: list[int] = []
        pos = 0
        for m in rx.finditer(text):
            if m.start() > pos:
                out += self.encode(text[pos:m.start()])
            out.append(allowed[m.group()])
            pos = m.end()
        if pos < len(text):
            out += self.encode(text[pos:])
        return out

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def count(self, text: str) -> int:
        """The number of tokens of one text."""
        return self.count_batch([text])[0]

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        """Token counts of each text: the fast path used by premiums (no ids kept)."""
        return [len(ids) for ids in self.encode_batch(texts)]

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and (start, end) character offsets into `text` of each token."""
        raise NotImplementedError

    def encode_batch_with_offsets(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        return [self.encode_with_offsets(t) for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        raise NotImplementedError

    def check_ids(self, ids: Sequence[int]) -> list[int]:
        """ids as a list of ints, each a token of this vocabulary (0 <= id < vocab_size), else InputError
        naming the first that is not: decode never wraps, overflows or drops an id silently."""
        import numpy as np

        n = self.vocab_size
        arr = np.asarray(ids) if not isinstance(ids, (str, bytes)) else None
        if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iu":  # the usual case, vectorised
            bad = np.flatnonzero((arr < 0) | (arr >= n))
            if not len(bad):
                return arr.tolist()
            k = int(bad[0])
            raise InputError(f"{self.name}: ids[{k}] = {int(arr[k])} is outside the vocabulary (0..{n - 1})")
        out = []
        for k, i in enumerate(ids):
            if isinstance(i, bool) or not hasattr(i, "__index__"):
                raise InputError(f"{self.name}: ids[{k}] = {i!r} is not an integer token id")
            i = i.__index__()
            if not 0 <= i < n:
                raise InputError(f"{self.name}: ids[{k}] = {i} is outside the vocabulary (0..{n - 1})")
            out.append(i)
        return out

    def id_to_token(self, i: int) -> str:
        raise NotImplementedError

    def save(self, path) -> str:
        """Write the tokenizer: a path ending in .json gets the tokenizer file alone, any other path is an
        artifact folder (the tokenizer file and, for a trained tokenizer, its config and card). Returns
        the path written."""
        raise InputError(f"{self.name}: {self.kind} tokenizers cannot be saved by tokkit")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} kind={self.kind} vocab_size={self.vocab_size}>"


def byte_to_char_offsets(text: str) -> list[int]:
    """b2c[k] = index of the character holding UTF-8 byte k of `text`; b2c[len(bytes)] = len(text)."""
    out: list[int] = []
    for i, ch in enumerate(text):
        o = ord(ch)
        n = 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
        out.extend([i] * n)
    out.append(len(text))
    return out
