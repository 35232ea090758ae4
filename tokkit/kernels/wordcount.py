"""Word counting in numba: pre-tokenize documents and count the pieces in a hash table keyed by their
bytes, with 64-bit counts; documents are shared out to threads (the kernels release the GIL), and the
per-thread tables are merged at the end. The reference is `count_words_reference` (regex + Counter)."""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import numba as nb
import numpy as np

from .pretokenize import check_pattern, next_piece, pretokenize_reference
from .unicode_table import class_table

_EMPTY = np.int64(-1)


@nb.njit(inline="always")
def _hash(buf, s, e):
    h = np.uint64(0xCBF29CE484222325)
    for k in range(s, e):
        h = (h ^ np.uint64(buf[k])) * np.uint64(0x100000001B3)
    return h


@nb.njit(inline="always")
def _same(buf, s1, s2, n):
    for k in range(n):
        if buf[s1 + k] != buf[s2 + k]:
            return False
    return True


@nb.njit
def _insert(buf, s, n, h, c, hs, hl, hh, hc, mask):
    """Add count c to the piece buf[s:s+n] (hash h); returns 1 when it opened a new slot."""
    i = np.int64(h >> np.uint64(20)) & mask
    while True:
        if hs[i] == -1:
            hs[i] = s
            hl[i] = n
            hh[i] = h
            hc[i] = c
            return 1
        if hh[i] == h and hl[i] == n and _same(buf, hs[i], s, n):
            hc[i] += c
            return 0
        i = (i + 1) & mask


@nb.njit
def _grow(buf, hs, hl, hh, hc):
    cap = hs.shape[0] * 2
    ns = np.full(cap, -1, np.int64)
    nl = np.zeros(cap, np.int32)
    nh = np.zeros(cap, np.uint64)
    nc = np.zeros(cap, np.int64)
    for i in range(hs.shape[0]):
        if hs[i] != -1:
            _insert(buf, hs[i], hl[i], hh[i], hc[i], ns, nl, nh, nc, cap - 1)
    return ns, nl, nh, nc


@nb.njit
def _prune(buf, hs, hl, hh, hc, keep_max):
    """Drop the rarest entries so that at most keep_max remain (all entries at or under a count
    threshold go, so ties never overflow the bound); returns the new table, its size and the threshold."""
    used = np.flatnonzero(hs != -1)
    counts = hc[used]
    n = counts.shape[0]
    threshold = np.sort(counts)[n - keep_max - 1] if n > keep_max else 0
    ns = np.full(hs.shape[0], -1, np.int64)
    nl = np.zeros(hs.shape[0], np.int32)
    nh = np.zeros(hs.shape[0], np.uint64)
    nc = np.zeros(hs.shape[0], np.int64)
    m = 0
    for k in used:
        if hc[k] > threshold:
            m += _insert(buf, hs[k], hl[k], hh[k], hc[k], ns, nl, nh, nc, hs.shape[0] - 1)
    return ns, nl, nh, nc, m, threshold


@nb.njit(cache=True, nogil=True)
def count_pieces(buf, bounds, weights, d0, d1, pattern, table, cap, max_words):
    """Count the pieces of documents d0..d1-1 (document d is buf[bounds[d]:bounds[d+1]], counted
    weights[d] times). With max_words > 0 the table is pruned to max_words whenever it reaches twice
    that (bounded memory; counts of pruned words are lost). Returns piece start, length, count for each
    used slot, and the highest pruning threshold (0: nothing pruned)."""
    hs = np.full(cap, -1, np.int64)
    hl = np.zeros(cap, np.int32)
    hh = np.zeros(cap, np.uint64)
    hc = np.zeros(cap, np.int64)
    used = 0
    pruned = 0
    for d in range(d0, d1):
        i = bounds[d]
        end = bounds[d + 1]
        w = weights[d]
        if w == 0:
            continue
        while i < end:
            j = next_piece(buf, i, end, pattern, table)
            if max_words > 0 and used >= 2 * max_words:
                hs, hl, hh, hc, used, th = _prune(buf, hs, hl, hh, hc, max_words)
                pruned = max(pruned, th)
            if 2 * used >= hs.shape[0]:
                hs, hl, hh, hc = _grow(buf, hs, hl, hh, hc)
            used += _insert(buf, i, j - i, _hash(buf, i, j), w, hs, hl, hh, hc, hs.shape[0] - 1)
            i = j
    keep = np.flatnonzero(hs != -1)
    return hs[keep], hl[keep], hc[keep], pruned


@nb.njit(cache=True, nogil=True)
def merge_counts(buf, s1, l1, c1, s2, l2, c2):
    """Union of two count tables over the same buffer."""
    n = s1.shape[0] + s2.shape[0]
    cap = 16
    while cap < 2 * n:
        cap *= 2
    hs = np.full(cap, -1, np.int64)
    hl = np.zeros(cap, np.int32)
    hh = np.zeros(cap, np.uint64)
    hc = np.zeros(cap, np.int64)
    for k in range(s1.shape[0]):
        _insert(buf, s1[k], l1[k], _hash(buf, s1[k], s1[k] + l1[k]), c1[k], hs, hl, hh, hc, cap - 1)
    for k in range(s2.shape[0]):
        _insert(buf, s2[k], l2[k], _hash(buf, s2[k], s2[k] + l2[k]), c2[k], hs, hl, hh, hc, cap - 1)
    keep = np.flatnonzero(hs != -1)
    return hs[keep], hl[keep], hc[keep]


def _shares(bounds: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Split documents into `parts` contiguous ranges of about equal bytes."""
    n = len(bounds) - 1
    if n <= 0:
        return [(0, 0)]
    cuts = np.searchsorted(bounds, np.linspace(bounds[0], bounds[-1], parts + 1)[1:-1])
    edges = [0] + sorted(set(int(min(max(c, 0), n)) for c in cuts)) + [n]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a] or [(0, 0)]


def count_buffer(buf: np.ndarray, bounds: np.ndarray, pattern: str = "gpt2", *,
                 weights: np.ndarray | None = None, threads: int | None = None, max_words: int | None = None):
    """Count the pieces of the documents buf[bounds[d]:bounds[d+1]]; returns (starts, lengths, counts)
    of the distinct pieces, as offsets into buf. max_words bounds each thread's table (see count_pieces)."""
    pid = check_pattern(pattern)
    table = class_table()
    bounds = np.ascontiguousarray(bounds, dtype=np.int64)
    if weights is None:
        weights = np.ones(max(0, len(bounds) - 1), dtype=np.int64)
    threads = max(1, threads or os.cpu_count() or 1)
    shares = _shares(bounds, threads)
    cap = 1 << 14

    def run(share):
        return count_pieces(buf, bounds, weights, share[0], share[1], pid, table, cap, max_words or 0)[:3]

    if len(shares) == 1:
        return run(shares[0])
    with ThreadPoolExecutor(len(shares)) as pool:
        parts = list(pool.map(run, shares))
    out = parts[0]
    for p in parts[1:]:
        out = merge_counts(buf, *out, *p)
    return out


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
    s, n, c = count_buffer(buf, bounds, pattern, threads=threads)
    raw = buf.tobytes()
    return {raw[a:a + b]: int(k) for a, b, k in zip(s.tolist(), n.tolist(), c.tolist())}


def count_words_reference(texts: Iterable[str], pattern: str = "gpt2") -> dict[bytes, int]:
    out: Counter = Counter()
    for t in texts:
        out.update(p.encode("utf-8", "surrogatepass") for p in pretokenize_reference(t, pattern))
    return dict(out)


@nb.njit(cache=True, nogil=True)
def gather_pieces(buf, starts, lens):
    """Copy the pieces into one contiguous pool; returns (pool, offsets with a final end)."""
    off = np.zeros(starts.shape[0] + 1, np.int64)
    for k in range(starts.shape[0]):
        off[k + 1] = off[k] + lens[k]
    pool = np.empty(off[-1], np.uint8)
    for k in range(starts.shape[0]):
        pool[off[k]:off[k + 1]] = buf[starts[k]:starts[k] + lens[k]]
    return pool, off
