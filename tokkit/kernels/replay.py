"""Replaying a merge list on distinct words, before a merge loop continues it (resume, extension, the second
stage of superword training).

Each word is rewritten on its own with a small heap of its pairs, to exactly what applying the merges one
after another to every word gives (each merge left to right, non-overlapping, as the merge loop does). The
merge loop then indexes the pairs of the short replayed words instead of those of their bytes: its memory
follows the replayed text (a third to a quarter of the bytes), and the replay costs O(n log n) per word of
n bytes, however long the merge list is.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from . import bpe_core as core


@nb.njit(cache=True, nogil=True)
def _rank_table(fa, fb):
    """(keys, first rank by slot, next rank of the same pair by rank): the merges by pair, in bpe_core's
    open-addressed pair table."""
    n = fa.shape[0]
    cap = 16
    while 10 * (n + 1) > 7 * cap:  # bpe_core's load limit (pair_room)
        cap *= 2
    keys = np.full(cap, -1, np.int64)
    first = np.full(cap, -1, np.int32)
    last = np.full(cap, -1, np.int32)
    nxt = np.full(max(n, 1), -1, np.int32)
    used = 0
    for r in range(n):
        i, used = core.pair_insert(keys, core.pair_key(fa[r], fb[r]), used)
        if first[i] == -1:
            first[i] = r
        else:
            nxt[last[i]] = r
        last[i] = r
    return keys, first, nxt


@nb.njit(cache=True, nogil=True)
def _rank_after(keys, first, nxt, a, b, r):
    """The first rank above r of the merge (a, b), or -1 (a pair merged again later, after one of its parts
    was made anew, appears several times in a merge list)."""
    i = core.pair_slot(keys, core.pair_key(a, b))
    if keys[i] == -1:
        return -1
    k = first[i]
    while k != -1 and k <= r:
        k = nxt[k]
    return k


@nb.njit(cache=True, nogil=True)
def replay_merges(pool, off, byte_id, fa, fb, ft):
    """The words after the merges (fa[r], fb[r]) -> ft[r], applied in order to every word.

    pool, off: the distinct words as bytes, word w at pool[off[w]:off[w + 1]]; byte_id: the id of each byte's
    one-byte token. Returns (sym int32, wstart int64): word w's ids at sym[wstart[w]:wstart[w + 1]].
    A heap holds (rank, position) of the word's pairs: the smallest rank is applied next, left to right, so
    every merge sees the word as the merges before it left it; a pair formed after its own rank has passed
    never merges, as in the one-merge-after-another replay.
    """
    keys, first, nxt = _rank_table(fa, fb)
    n_words = off.shape[0] - 1
    longest = 1
    for w in range(n_words):
        longest = max(longest, off[w + 1] - off[w])
    s = np.empty(longest, np.int32)
    right = np.empty(longest, np.int64)
    left = np.empty(longest, np.int64)
    # the word's pairs as (rank << 32 | position, position) in bpe_core's key heap: smallest rank, then leftmost
    hk = np.empty(3 * longest + 4, np.int64)
    hq = np.empty(3 * longest + 4, np.int64)
    cap = max(16, pool.shape[0] // 2)
    out = np.empty(cap, np.int32)
    wstart = np.zeros(n_words + 1, np.int64)
    used = 0
    for w in range(n_words):
        n = off[w + 1] - off[w]
        for k in range(n):
            s[k] = byte_id[pool[off[w] + k]]
            left[k] = k - 1
            right[k] = k + 1 if k + 1 < n else -1
        hn = 0
        for k in range(n - 1):
            r = _rank_after(keys, first, nxt, s[k], s[k + 1], -1)
            if r >= 0:
                hn = core.key_heap_push(hk, hq, hn, (np.int64(r) << 32) | k, k)
        while hn > 0:
            r = hk[0] >> 32
            p = hq[0]
            hn = core.key_heap_pop(hk, hq, hn)
            q = right[p]
            # stale: p was absorbed (left[p] == -2), or its pair changed since the entry was made
            if left[p] == -2 or q == -1 or s[p] != fa[r] or s[q] != fb[r]:
                continue
            s[p] = ft[r]
            right[p] = right[q]
            if right[q] != -1:
                left[right[q]] = p
            left[q] = -2
            if left[p] >= 0:
                k = _rank_after(keys, first, nxt, s[left[p]], s[p], r)
                if k >= 0:
                    hn = core.key_heap_push(hk, hq, hn, (np.int64(k) << 32) | left[p], left[p])
            if right[p] != -1:
                k = _rank_after(keys, first, nxt, s[p], s[right[p]], r)
                if k >= 0:
                    hn = core.key_heap_push(hk, hq, hn, (np.int64(k) << 32) | p, p)
        if used + n > cap:
            cap = max(used + n, cap + cap // 2)
            grown = np.empty(cap, np.int32)
            grown[:used] = out[:used]
            out = grown
        k = 0 if n > 0 else -1
        while k != -1:
            out[used] = s[k]
            used += 1
            k = right[k]
        wstart[w + 1] = used
    if used == cap:
        return out, wstart
    return out[:used].copy(), wstart
