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
    """A loaded tokenizer: one interface over tokenizers, tiktoken, SentencePiece and the built-ins.

    Backends override encode / count_batch / encode_with_offsets with the engine's own fast paths; the defaults
    here are correct but slow. Get one from `load_tokenizer` or a trainer.
    """

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
        """The number of ids, special and added tokens included."""
        raise NotImplementedError

    @property
    def unk_id(self) -> int | None:
        """The UNK token's id, or None when the model has none."""
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
        """The ids of one text (no special tokens added).

        Special tokens are plain text unless named in `allowed_special` (see the module docstring): text that
        spells `<|system|>` never yields the special id by default.

        Args:
            text: the text.
            allowed_special: special tokens to match where the text spells them, or "all".

        Returns:
            The token ids.
        """
        if allowed_special:
            return self.encode_special(text, allowed_special)
        return self.encode_ordinary(text)

    def encode_ordinary(self, text: str) -> list[int]:
        """The ids of one text with every special token's spelling read as plain text: what a backend
        implements (`encode` matches the allowed special tokens around it).

        Args:
            text: the text.

        Returns:
            The token ids.
        """
        raise NotImplementedError

    def encode_special(self, text: str, allowed_special: "AbstractSet[str] | Literal['all']") -> list[int]:
        """Ids of `text` with the allowed special tokens matched where the text spells them.

        The text between matches is encoded plainly; this is what `encode(text, allowed_special=...)` does in
        every backend.

        Args:
            text: the text.
            allowed_special: the special tokens to match, or "all".

        Returns:
            The token ids.

        Raises:
            InputError: a name that is not a special token of this tokenizer, or a plain string.
        """
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
            return self.encode_ordinary(text)
        rx = re.compile("|".join(re.escape(t) for t in sorted(allowed, key=len, reverse=True)))
        out: list[int] = []
        pos = 0
        for m in rx.finditer(text):
            if m.start() > pos:
                out += self.encode_ordinary(text[pos:m.start()])
            out.append(allowed[m.group()])
            pos = m.end()
        if pos < len(text):
            out += self.encode_ordinary(text[pos:])
        return out

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """The ids of each text.

        Args:
            texts: the texts.

        Returns:
            One list of ids per text.
        """
        return [self.encode(t) for t in texts]

    def count(self, text: str) -> int:
        """The number of tokens of one text.

        Args:
            text: the text.

        Returns:
            The token count.
        """
        return self.count_batch([text])[0]

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        """Token counts of each text: the fast path used by premiums (no ids kept).

        Args:
            texts: the texts.

        Returns:
            One count per text.
        """
        return [len(ids) for ids in self.encode_batch(texts)]

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and (start, end) character offsets into `text` of each token.

        Args:
            text: the text.

        Returns:
            (ids, offsets).
        """
        raise NotImplementedError

    def encode_batch_with_offsets(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """Ids and character offsets of each text.

        Args:
            texts: the texts.

        Returns:
            One (ids, offsets) pair per text.
        """
        return [self.encode_with_offsets(t) for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of a sequence of ids.

        Args:
            ids: token ids.

        Returns:
            The decoded text.
        """
        raise NotImplementedError

    def check_ids(self, ids: Sequence[int]) -> list[int]:
        """The ids as a list of ints, each checked to be a token of this vocabulary (0 <= id < vocab_size).

        decode never wraps, overflows or drops an id silently.

        Args:
            ids: token ids.

        Returns:
            The ids as Python ints.

        Raises:
            InputError: naming the first id that is not an integer token id of this vocabulary.
        """
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
        """The vocabulary entry of an id, in the model's own spelling (e.g. "Ġthe").

        Args:
            i: the id.

        Returns:
            The token string.
        """
        raise NotImplementedError

    def save(self, path) -> str:
        """Write the tokenizer.

        Args:
            path: a path ending in .json gets the tokenizer file alone; any other path is an artifact folder (the
                tokenizer file and, for a trained tokenizer, its config and card).

        Returns:
            The path written.
        """
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
