"""tiktoken ranks files (one `base64(token) rank` per line) with their pre-tokenizer split pattern.

A ranks file does not carry its split pattern, so the pattern comes from the caller or, for the public
encodings, from the file's name (r50k_base, p50k_base, cl100k_base, o200k_base, Llama 3).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from functools import cached_property
from typing import Sequence

import numpy as np

from .._extras import require
from ..errors import InputError
from ..kernels.split_patterns import ENCODINGS
from .base import Tokenizer
from .hf import _default_name

# the public encodings' split patterns, from the one registry of split patterns
PATTERNS = ENCODINGS


def known_pattern(path: str) -> str | None:
    """The split pattern of a public encoding recognised from the file or folder name."""
    stem = os.path.basename(path).split(".")[0].lower()
    parent = os.path.basename(os.path.dirname(os.path.abspath(path))).lower()
    for key in (stem, parent):
        if key in PATTERNS:
            return key
        if key.replace("-", "").replace("_", "").startswith("llama3"):
            return "llama3"
    return None


def looks_like_ranks(path: str) -> bool:
    """True when the file's first line is `base64 integer` (a tiktoken ranks file)."""
    try:
        with open(path, "rb") as fh:
            head = fh.readline(4096)
    except OSError:
        return False
    parts = head.split()
    if len(parts) != 2 or not parts[1].isdigit():
        return False
    try:
        base64.b64decode(parts[0], validate=True)
    except Exception:
        return False
    return True


# whitespace that is not one space inside a line: a tab, CR, FF, VT, a space at the start or end of a line,
# a blank line (substring tests: one regular expression for them all took half the read's time)
_ODD_SPACE = (b"\t", b"\r", b"\f", b"\v", b" \n", b"\n ", b"\n\n")
_TWO_SPACES = re.compile(rb" [^ \n]* ")  # in one line


def read_ranks(path: str) -> dict[bytes, int]:
    """token bytes -> rank of a tiktoken ranks file ('base64 rank' per line). All fields at once where the
    file is laid out as tiktoken writes it, one space in every line (half the time of reading line by line:
    cl100k's 100k lines in 0.06 s); else line by line, which also gives the error that names the line."""
    with open(path, "rb") as fh:
        data = fh.read()
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    # as many spaces as lines, none with two: one in every line, inside it (so two fields per line)
    if (data[:1] not in (b"", b" ", b"\n") and data.count(b" ") == lines and not any(w in data for w in _ODD_SPACE)
            and not _TWO_SPACES.search(data)):
        fields = iter(data.split())
        try:
            return {binascii.a2b_base64(t, strict_mode=True): int(r) for t, r in zip(fields, fields)}
        except ValueError:
            pass
    return _read_ranks_by_line(path)


def _read_ranks_by_line(path: str) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            parts = line.split()
            try:
                if len(parts) != 2:
                    raise ValueError("expected 2 fields")
                ranks[base64.b64decode(parts[0], validate=True)] = int(parts[1])
            except ValueError as e:
                raise InputError(f"{path}:{lineno}: not a tiktoken ranks line ('base64 rank'): {e}") from None
    if not ranks:
        raise InputError(f"{path}: empty tiktoken ranks file")
    return ranks


class TiktokenTokenizer(Tokenizer):
    kind = "tiktoken"
    isolated_roundtrip = True

    def __init__(self, path: str, *, pattern: str | None = None, name: str | None = None, threads: int = 8):
        tiktoken = require("tiktoken", "tiktoken", purpose=f"to load {path}")
        if pattern is None:
            key = known_pattern(path)
            if key is None:
                raise InputError(f"{path}: a tiktoken ranks file carries no split pattern; pass pattern= (CLI: "
                                 f"--pattern) as a regex or one of {', '.join(sorted(PATTERNS))}")
            pattern = PATTERNS[key]
        else:
            pattern = PATTERNS.get(pattern, pattern)
        ranks = read_ranks(path)
        self.source, self.name, self._threads = path, name or _default_name(path), threads
        try:
            self._enc = tiktoken.Encoding(self.name, pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
        except Exception as e:
            raise InputError(f"{path}: tiktoken rejected the ranks or the pattern ({e})") from None
        self.pattern = pattern
        # byte length of every token, for offsets without tiktoken's per-token Python decode_with_offsets
        self._lens = np.zeros(max(ranks.values()) + 1, dtype=np.int64)
        self._lens[np.fromiter(ranks.values(), np.int64, len(ranks))] = np.fromiter(map(len, ranks), np.int64,
                                                                                    len(ranks))

    @property
    def engine(self):
        return self._enc

    @cached_property
    def vocab_size(self) -> int:
        return self._enc.n_vocab

    def encode_ordinary(self, text: str) -> list[int]:
        return self._enc.encode_ordinary(text)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self._enc.encode_ordinary_batch(list(texts), num_threads=self._threads)

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(x) for x in self.encode_batch(texts)]

    def encode_with_offsets(self, text: str):
        return self._offsets(text, self._enc.encode_ordinary(text))

    def encode_batch_with_offsets(self, texts: Sequence[str]):
        return [self._offsets(t, ids) for t, ids in zip(texts, self.encode_batch(texts))]

    def _offsets(self, text: str, ids: list[int]):
        if not ids:
            return ids, []
        raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        # character index of every byte: count the bytes that start a character
        b2c = np.cumsum((raw & 0xC0) != 0x80) - 1                     # (n_bytes,)
        ends_b = np.cumsum(self._lens[np.asarray(ids, dtype=np.int64)])  # (T,) byte end of each token
        starts = b2c[ends_b - self._lens[ids]]
        ends = np.append(starts[1:], len(text))
        # a token that ends inside a character starts where the next one does: give it that character
        ends = np.maximum(ends, np.minimum(starts + 1, len(text)))
        return ids, list(zip(starts.tolist(), ends.tolist()))

    def decode(self, ids: Sequence[int]) -> str:
        ids = self.check_ids(ids)
        try:
            return self._enc.decode(ids)
        except KeyError:  # a gap in the ranks: an id below n_vocab that is no token
            bad = next(i for i in ids if self._lens[i] == 0)
            raise InputError(f"{self.name}: id {bad} is not a token of this encoding") from None

    def token_bytes(self, i: int) -> bytes:
        try:
            return self._enc.decode_single_token_bytes(i)
        except KeyError:
            raise InputError(f"{self.name}: id {i} is not a token of this encoding") from None

    def id_to_token(self, i: int) -> str:
        return self.token_bytes(i).decode("utf-8", "backslashreplace")
