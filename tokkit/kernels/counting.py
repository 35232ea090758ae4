"""Counting drivers: pre-tokenize and count documents, buffers and files with the word-count kernels.

Documents are shared out to threads (the kernels release the GIL), each with its own table, merged at the
end; files read per line are streamed in blocks so memory stays at a few blocks plus the tables. The
kernels come from `tokkit.kernels.aot` (compiled ahead of time where possible, else numba's JIT), so this
module does not import numba.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

import numpy as np

from .aot import kernel
from .split_patterns import check_pattern
from .unicode_table import class_table

# the kernels' state vector: used slots, pool bytes used, highest pruning threshold so far
_USED, _POOL, _PRUNED = 0, 1, 2


class WordTable:
    """A growing piece -> count table (one per thread)."""

    def __init__(self, pattern: str = "gpt2", max_words: int | None = None, unicode: str = "regex"):
        self.pattern = check_pattern(pattern)
        self.max_words = int(max_words or 0)
        self.T = np.zeros((1 << 12, 3), np.int64)
        self.pool = np.empty(1 << 16, np.uint8)
        self.state = np.zeros(3, np.int64)
        self.table = class_table(unicode)

    def add(self, buf: np.ndarray, bounds: np.ndarray, weights: np.ndarray | None = None,
            d0: int = 0, d1: int | None = None) -> "WordTable":
        bounds = np.ascontiguousarray(bounds, np.int64)
        d1 = len(bounds) - 1 if d1 is None else d1
        if weights is None:
            weights = np.ones(max(0, len(bounds) - 1), np.int64)
        self.T, self.pool = kernel("count_into")(self.T, self.pool, self.state, buf, bounds, weights, d0, d1,
                                       self.pattern, self.table, self.max_words)
        return self

    def merge(self, other: "WordTable") -> "WordTable":
        self.T, self.pool = kernel("merge_into")(self.T, self.pool, self.state, other.T, other.pool, self.max_words)
        return self

    @property
    def pruned_below(self) -> int:
        """Words with a count under this were dropped (0: none)."""
        return int(self.state[_PRUNED]) + 1 if self.state[_PRUNED] else 0

    def words(self):
        """(pool uint8, offsets int64 with a final end, counts int64) of the distinct words."""
        return kernel("table_words")(self.T, self.pool, self.state, self.max_words)


def _shares(bounds: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Split documents into `parts` contiguous ranges of about equal bytes."""
    n = len(bounds) - 1
    if n <= 0:
        return [(0, 0)]
    cuts = np.searchsorted(bounds, np.linspace(bounds[0], bounds[-1], parts + 1)[1:-1])
    edges = [0] + sorted(set(int(min(max(c, 0), n)) for c in cuts)) + [n]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a] or [(0, 0)]


def _threads(threads: int | None) -> int:
    return max(1, threads or os.cpu_count() or 1)


def count_buffer(buf: np.ndarray, bounds: np.ndarray, pattern: str = "gpt2", *,
                 weights: np.ndarray | None = None, threads: int | None = None,
                 max_words: int | None = None, unicode: str = "regex") -> WordTable:
    """Count the pieces of the documents buf[bounds[d]:bounds[d+1]] with all cores."""
    bounds = np.ascontiguousarray(bounds, np.int64)
    if weights is None:
        weights = np.ones(max(0, len(bounds) - 1), np.int64)
    shares = _shares(bounds, _threads(threads))
    tables = [WordTable(pattern, max_words, unicode) for _ in shares]
    if len(shares) == 1:
        return tables[0].add(buf, bounds, weights, *shares[0])
    with ThreadPoolExecutor(len(shares)) as ex:
        list(ex.map(lambda k: tables[k].add(buf, bounds, weights, *shares[k]), range(len(shares))))
    for t in tables[1:]:
        tables[0].merge(t)
    return tables[0]


_UTF8_REASONS = {1: "invalid start byte", 2: "invalid continuation byte", 3: "unexpected end of data"}


def check_utf8(arr: np.ndarray, path: str, base: int = 0) -> None:
    """Raise InputError naming the file and byte offset of the first invalid UTF-8 in arr."""
    from ..errors import InputError

    pos, kind = kernel("utf8_error")(arr)
    if pos >= 0:
        raise InputError(f"{path}: invalid UTF-8 at byte offset {base + pos} ({_UTF8_REASONS[kind]})")


def count_files(paths: Sequence[str], pattern: str = "gpt2", *, per_line: bool = True,
                threads: int | None = None, max_words: int | None = None, block: int = 1 << 21,
                max_bytes: int | None = None, on_bytes=None, unicode: str = "regex") -> WordTable:
    """Count the pieces of UTF-8 text files (each line a document, or each file one document), reading
    per-line files in blocks cut at line ends so that at most a few blocks are in memory."""
    from ..errors import InputError

    n = _threads(threads)
    tables = [WordTable(pattern, max_words, unicode) for _ in range(n)]
    futures = [None] * n
    budget = max_bytes
    k = 0
    with ThreadPoolExecutor(n) as ex:
        def submit(arr, bounds):
            nonlocal k
            slot = k % n
            if futures[slot] is not None:
                futures[slot].result()
            futures[slot] = ex.submit(tables[slot].add, arr, bounds)
            k += 1

        for path in paths:
            path = os.fspath(path)
            try:
                fh = open(path, "rb")
            except OSError as e:
                raise InputError(f"{path}: cannot read ({e.strerror})") from None
            with fh:
                if not per_line:
                    data = fh.read() if budget is None else fh.read(budget)
                    arr = np.frombuffer(data, np.uint8)
                    check_utf8(arr, path)
                    if budget is not None:
                        budget -= len(data)
                    if data:
                        submit(arr, np.array([0, len(data)], np.int64))
                    continue
                carry = b""
                base = 0  # file offset of the carried bytes
                while budget is None or budget > 0:
                    chunk = fh.read(block if budget is None else min(block, budget))
                    if budget is not None:
                        budget -= len(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                    last = not chunk or (budget is not None and budget <= 0)
                    data = carry + chunk if carry else chunk
                    cut = len(data) if last else data.rfind(b"\n") + 1
                    if cut:
                        # a newline never falls inside a character, so each block is checked whole
                        arr = np.frombuffer(data[:cut] if cut < len(data) else data, np.uint8)
                        check_utf8(arr, path, base)
                        submit(arr, np.append(kernel("line_starts")(arr, 0), cut))
                    carry = data[cut:]
                    base += cut
                    if last:
                        break
        for f in futures:
            if f is not None:
                f.result()
    for t in tables[1:]:
        tables[0].merge(t)
    return tables[0]


def pack_texts(texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 encode texts into one buffer with document boundaries."""
    chunks = [t.encode("utf-8", "surrogatepass") for t in texts]
    bounds = np.zeros(len(chunks) + 1, dtype=np.int64)
    if chunks:
        np.cumsum([len(c) for c in chunks], out=bounds[1:])
    return np.frombuffer(b"".join(chunks), dtype=np.uint8), bounds


def count_words(texts: Iterable[str], pattern: str = "gpt2", *, threads: int | None = None) -> dict[bytes, int]:
    """Pre-tokenize and count: piece bytes -> count (a convenience over `count_buffer`)."""
    buf, bounds = pack_texts(texts)
    pool, off, counts = count_buffer(buf, bounds, pattern, threads=threads).words()
    raw = pool.tobytes()
    return {raw[off[k]:off[k + 1]]: int(counts[k]) for k in range(len(counts))}
