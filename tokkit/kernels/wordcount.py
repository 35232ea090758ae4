"""Word counting in numba: pre-tokenize documents and count the pieces in a hash table keyed by their
bytes, with 64-bit counts.

Each table slot is three int64 (32 hash bits with the length, offset, count), and the bytes of each
distinct piece are copied into a small pool owned by the table, so a lookup touches the slot and the hot
pool, never the (large, cold) input buffer. With max_words the table is pruned to the most frequent
words whenever it doubles past that bound. The kernels release the GIL so that `counting` can run one
table per thread. The reference is `count_words_reference` (regex + Counter).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

import numba as nb
import numpy as np

from .counting import _POOL, _PRUNED, _USED
from .pretokenize import next_piece, pretokenize_reference

# slot layout in the (cap, 3) int64 table: high 32 bits of the hash with the length in the low 32 bits
# (0 marks an empty slot: the hash is never 0 in its high bits), offset into the pool, count
_HL, _OFF, _CNT = 0, 1, 2
_LOW = np.int64(0xFFFFFFFF)


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


@nb.njit(inline="always")
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
            h = _hash(buf, i, j)
            k = _find(T, pool, h, buf, i, j - i)
            if T[k, _HL] != 0:  # a word seen before (most pieces): counted here, without a call returning arrays
                T[k, _CNT] += w
            else:
                T, pool = _add(T, pool, state, buf, i, j - i, h, w)
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


def count_words_reference(texts: Iterable[str], pattern: str = "gpt2") -> dict[bytes, int]:
    out: Counter = Counter()
    for t in texts:
        out.update(p.encode("utf-8", "surrogatepass") for p in pretokenize_reference(t, pattern))
    return dict(out)
