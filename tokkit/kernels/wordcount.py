"""Word counting in numba: pre-tokenize documents and count the pieces in a hash table keyed by their
bytes, with 64-bit counts.

Each table slot is three int64 (32 hash bits with the length, offset, count), and the bytes of each
distinct piece are copied into a small pool owned by the table, so a lookup touches the slot and the hot
pool, never the (large, cold) input buffer. Documents are shared out to threads (the kernels release the
GIL), each with its own table, merged at the end; files read per line are streamed in blocks so memory
stays at a few blocks plus the tables. With max_words the table is pruned to the most frequent words
whenever it doubles past that bound. The reference is `count_words_reference` (regex + Counter).
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

import numba as nb
import numpy as np

from .pretokenize import check_pattern, next_piece, pretokenize_reference
from .unicode_table import class_table

# slot layout in the (cap, 3) int64 table: high 32 bits of the hash with the length in the low 32 bits
# (0 marks an empty slot: the hash is never 0 in its high bits), offset into the pool, count
_HL, _OFF, _CNT = 0, 1, 2
_LOW = np.int64(0xFFFFFFFF)
# state: used slots, pool bytes used, highest pruning threshold so far
_USED, _POOL, _PRUNED = 0, 1, 2


@nb.njit(inline="always")
def _hash(buf, s, e):
    h = np.uint64(0xCBF29CE484222325)
    for k in range(s, e):
        h = (h ^ np.uint64(buf[k])) * np.uint64(0x100000001B3)
    h = h ^ (h >> np.uint64(29))
    return np.int64(h | np.uint64(1 << 32))


@nb.njit(inline="always")
def _tag(h, n):
    return (h & ~_LOW) | np.int64(n)


@nb.njit
def _find(T, pool, h, buf, s, n):
    """Slot of the piece buf[s:s+n] with hash h: its slot, or the empty slot where it belongs."""
    mask = T.shape[0] - 1
    i = (h >> 33) & mask
    tag = _tag(h, n)
    while True:
        th = T[i, _HL]
        if th == 0:
            return i
        if th == tag:
            o = T[i, _OFF]
            same = True
            for k in range(n):
                if pool[o + k] != buf[s + k]:
                    same = False
                    break
            if same:
                return i
        i = (i + 1) & mask


@nb.njit
def _place(N, row_hl, mask):
    i = ((row_hl >> 33) ^ 0) & mask
    while N[i, _HL] != 0:
        i = (i + 1) & mask
    return i


@nb.njit
def _rehash(T, cap):
    N = np.zeros((cap, 3), np.int64)
    mask = cap - 1
    for j in range(T.shape[0]):
        if T[j, _HL] != 0:
            i = _place(N, T[j, _HL], mask)
            N[i, :] = T[j, :]
    return N


@nb.njit
def _add(T, pool, state, buf, s, n, h, c):
    """Add c to the piece buf[s:s+n] (hash h); returns the (possibly regrown) table and pool."""
    i = _find(T, pool, h, buf, s, n)
    if T[i, _HL] != 0:
        T[i, _CNT] += c
        return T, pool
    p = state[_POOL]
    if p + n > pool.shape[0]:
        g = np.empty(max(2 * pool.shape[0], p + n + 4096), np.uint8)
        g[:p] = pool[:p]
        pool = g
    pool[p:p + n] = buf[s:s + n]
    T[i, _HL] = _tag(h, n)
    T[i, _OFF] = p
    T[i, _CNT] = c
    state[_POOL] = p + n
    state[_USED] += 1
    if 10 * state[_USED] > 7 * T.shape[0]:  # linear probing stays short up to 70% load
        T = _rehash(T, 2 * T.shape[0])
    return T, pool


@nb.njit
def _prune(T, pool, state, keep_max):
    """Keep at most keep_max entries: every entry at or under a count threshold goes (ties never
    overflow the bound); the pool is compacted."""
    used = np.flatnonzero(T[:, _HL] != 0)
    counts = T[used, _CNT]
    n = counts.shape[0]
    if n <= keep_max:
        return T, pool
    threshold = np.sort(counts)[n - keep_max - 1]
    N = np.zeros(T.shape, np.int64)
    newpool = np.empty(pool.shape[0], np.uint8)
    mask = T.shape[0] - 1
    p = 0
    m = 0
    for j in used:
        if T[j, _CNT] > threshold:
            ln = T[j, _HL] & _LOW
            newpool[p:p + ln] = pool[T[j, _OFF]:T[j, _OFF] + ln]
            i = _place(N, T[j, _HL], mask)
            N[i, :] = T[j, :]
            N[i, _OFF] = p
            p += ln
            m += 1
    state[_USED] = m
    state[_POOL] = p
    state[_PRUNED] = max(state[_PRUNED], threshold)
    return N, newpool


@nb.njit(cache=True, nogil=True)
def count_into(T, pool, state, buf, bounds, weights, d0, d1, pattern, table, max_words):
    """Count the pieces of documents d0..d1-1 (document d is buf[bounds[d]:bounds[d+1]], counted
    weights[d] times) into the table. With max_words > 0, prune to max_words whenever the table reaches
    twice that (bounded memory; the counts of pruned words are lost). Returns the table and pool."""
    for d in range(d0, d1):
        i = bounds[d]
        end = bounds[d + 1]
        w = weights[d]
        if w == 0:
            continue
        while i < end:
            j = next_piece(buf, i, end, pattern, table)
            T, pool = _add(T, pool, state, buf, i, j - i, _hash(buf, i, j), w)
            if max_words > 0 and state[_USED] >= 2 * max_words:
                T, pool = _prune(T, pool, state, max_words)
            i = j
    return T, pool


@nb.njit(cache=True, nogil=True)
def merge_into(T, pool, state, T2, pool2, max_words):
    """Add every entry of table 2 to table 1."""
    for j in range(T2.shape[0]):
        if T2[j, _HL] != 0:
            n = T2[j, _HL] & _LOW
            # the stored tag keeps the hash's high bits, which is all _find and _place use
            T, pool = _add(T, pool, state, pool2, T2[j, _OFF], n, T2[j, _HL], T2[j, _CNT])
            if max_words > 0 and state[_USED] >= 2 * max_words:
                T, pool = _prune(T, pool, state, max_words)
    return T, pool


@nb.njit(cache=True, nogil=True)
def table_words(T, pool, state, max_words):
    """The distinct words as (pool, offsets with a final end, counts), pruned to max_words if > 0."""
    if max_words > 0:
        T, pool = _prune(T, pool, state, max_words)
    used = np.flatnonzero(T[:, _HL] != 0)
    off = np.zeros(used.shape[0] + 1, np.int64)
    counts = np.empty(used.shape[0], np.int64)
    for k in range(used.shape[0]):
        off[k + 1] = off[k] + (T[used[k], _HL] & _LOW)
        counts[k] = T[used[k], _CNT]
    out = np.empty(off[-1], np.uint8)
    for k in range(used.shape[0]):
        j = used[k]
        out[off[k]:off[k + 1]] = pool[T[j, _OFF]:T[j, _OFF] + (T[j, _HL] & _LOW)]
    return out, off, counts


@nb.njit(cache=True, nogil=True)
def line_starts(buf, base):
    """Offsets (plus base) where each line of buf starts (a line keeps its newline)."""
    n = 1 if buf.shape[0] else 0
    for k in range(buf.shape[0] - 1):
        if buf[k] == 10:
            n += 1
    out = np.empty(n, np.int64)
    if n:
        out[0] = base
        m = 1
        for k in range(buf.shape[0] - 1):
            if buf[k] == 10:
                out[m] = base + k + 1
                m += 1
    return out


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
        self.T, self.pool = count_into(self.T, self.pool, self.state, buf, bounds, weights, d0, d1,
                                       self.pattern, self.table, self.max_words)
        return self

    def merge(self, other: "WordTable") -> "WordTable":
        self.T, self.pool = merge_into(self.T, self.pool, self.state, other.T, other.pool, self.max_words)
        return self

    @property
    def pruned_below(self) -> int:
        """Words with a count under this were dropped (0: none)."""
        return int(self.state[_PRUNED]) + 1 if self.state[_PRUNED] else 0

    def words(self):
        """(pool uint8, offsets int64 with a final end, counts int64) of the distinct words."""
        return table_words(self.T, self.pool, self.state, self.max_words)


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


@nb.njit(cache=True, nogil=True)
def utf8_error(buf):
    """(offset, kind) of the first invalid UTF-8 sequence in buf, as Python's strict decoder reports it
    (kind 1: invalid start byte, 2: invalid continuation byte, 3: unexpected end of data), or (-1, 0)."""
    n = buf.shape[0]
    i = 0
    while i < n:
        b = buf[i]
        if b < 0x80:
            i += 1
            continue
        if b < 0xC2 or b > 0xF4:
            return i, 1
        need = 1 if b < 0xE0 else (2 if b < 0xF0 else 3)
        lo = 0x80
        hi = 0xBF
        if b == 0xE0:
            lo = 0xA0
        elif b == 0xED:
            hi = 0x9F
        elif b == 0xF0:
            lo = 0x90
        elif b == 0xF4:
            hi = 0x8F
        for k in range(1, need + 1):
            if i + k >= n:
                return i, 3
            c = buf[i + k]
            if k == 1:
                if c < lo or c > hi:
                    return i, 2
            elif c < 0x80 or c > 0xBF:
                return i, 2
        i += need + 1
    return -1, 0


_UTF8_REASONS = {1: "invalid start byte", 2: "invalid continuation byte", 3: "unexpected end of data"}


def check_utf8(arr: np.ndarray, path: str, base: int = 0) -> None:
    """Raise InputError naming the file and byte offset of the first invalid UTF-8 in arr."""
    from ..errors import InputError

    pos, kind = utf8_error(arr)
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
                        submit(arr, np.append(line_starts(arr, 0), cut))
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


def count_words_reference(texts: Iterable[str], pattern: str = "gpt2") -> dict[bytes, int]:
    out: Counter = Counter()
    for t in texts:
        out.update(p.encode("utf-8", "surrogatepass") for p in pretokenize_reference(t, pattern))
    return dict(out)
