"""The previous batch-merge kernel (`pair_merge._merge_kernel` up to commit e81acbb), kept verbatim as a second oracle
for the incremental kernel and as the "old" engine of benchmarks/batch_merge.py. It re-sorts each merge's
occurrences, re-walks a pair's whole occurrence list whenever its first occurrence goes away and pushes a queue
entry per new occurrence, which made it 1-2 M tokens/s on 256 x 2048 batches."""

import numpy as np
from numba import njit

from tokkit.kernels.bpe_core import heap_insert, heap_pop, heapify, move_to_slots, pair_rehash, pair_room, pair_slot

_NO_LIMIT = np.iinfo(np.int64).max


INF = _NO_LIMIT


@njit(cache=True)
def _grow_table(hkeys, hvals):
    hkeys, dest, _ = pair_rehash(hkeys, hkeys != -1, 1)
    return hkeys, move_to_slots(hvals, dest, hkeys.shape[0], -1)


@njit(cache=True)
def _merge_kernel_v1(tok_in, join, base, max_merges, min_count, target_tokens):
    n = tok_in.size
    tok = tok_in.copy()
    alive = np.ones(n, dtype=np.uint8)
    # the batch as a doubly linked list of live positions
    nxt = np.empty(n, dtype=np.int64)
    prv = np.empty(n, dtype=np.int64)
    for i in range(n):
        nxt[i] = i + 1 if i + 1 < n else -1
        prv[i] = i - 1
    # every pair occurrence is created once: n-1 at the start, at most 2 per applied merge after
    cap = 3 * n + 4
    # per pair p: its ids (pa, pb), count, first position (a lower bound while stale), the head of its
    # occurrence list, and the (count, first) of its latest queue entry (older entries are superseded)
    pa = np.empty(cap, dtype=np.int64)
    pb = np.empty(cap, dtype=np.int64)
    cnt = np.empty(cap, dtype=np.int64)
    first = np.empty(cap, dtype=np.int64)
    stale = np.empty(cap, dtype=np.uint8)
    head = np.empty(cap, dtype=np.int64)
    pushed_c = np.empty(cap, dtype=np.int64)
    pushed_f = np.empty(cap, dtype=np.int64)
    # occurrence lists: position of the pair's left token, next entry
    occ_node = np.empty(cap, dtype=np.int64)
    occ_next = np.empty(cap, dtype=np.int64)
    # the queue: (count, first position, pair) entries, the best count first, then the first position
    hc = np.empty(2 * cap, dtype=np.int64)
    hf = np.empty(2 * cap, dtype=np.int64)
    hp = np.empty(2 * cap, dtype=np.int64)
    hsize = 0
    npairs = 0
    nocc = 0
    size = 64
    while size < 2 * (n + 16):
        size *= 2
    # the pair table: key (left << 32 | right) -> pair id
    hkeys = np.full(size, -1, dtype=np.int64)
    hvals = np.empty(size, dtype=np.int64)

    merges = np.empty((max(0, min(max_merges, n)), 2), dtype=np.int64)
    counts = np.empty(merges.shape[0], dtype=np.int64)
    k = 0
    total = n

    # initial count: no heap traffic until every pair is known
    for i in range(n - 1):
        if join[i] == 0:
            continue
        key = (tok[i] << 32) | tok[i + 1]
        h = pair_slot(hkeys, key)
        if hkeys[h] == key:
            p = hvals[h]
        else:
            # a new pair: its state is set here, so the big per-pair arrays are never swept. Written out here
            # and below rather than in a helper: passing it the eight arrays cost a few percent of the kernel
            p = npairs
            pa[p] = key >> 32
            pb[p] = key & 0xFFFFFFFF
            cnt[p] = 0
            first[p] = INF
            stale[p] = 0
            head[p] = -1
            pushed_c[p] = -1
            pushed_f[p] = -1
            npairs += 1
            if not pair_room(hkeys, npairs, 0):
                hkeys, hvals = _grow_table(hkeys, hvals)
                h = pair_slot(hkeys, key)
            hkeys[h] = key
            hvals[h] = p
        cnt[p] += 1
        if i < first[p]:
            first[p] = i
        occ_node[nocc] = i
        occ_next[nocc] = head[p]
        head[p] = nocc
        nocc += 1
    for p in range(npairs):
        hc[p] = cnt[p]
        hf[p] = first[p]
        hp[p] = p
        pushed_c[p] = cnt[p]
        pushed_f[p] = first[p]
    hsize = npairs
    heapify(hc, hf, hp, hsize)

    buf = np.empty(n, dtype=np.int64)
    while k < max_merges and total > target_tokens:
        # select: pop until the latest, up-to-date entry of some pair is on top
        best = -1
        while hsize > 0:
            hsize, c, f, p = heap_pop(hc, hf, hp, hsize)
            if c != pushed_c[p] or f != pushed_f[p]:
                continue  # superseded by a later entry
            if cnt[p] == 0:
                pushed_c[p] = -1
                continue
            if stale[p]:
                # the first occurrence went away: walk the list, drop dead entries, take the minimum
                m = INF
                e = head[p]
                last = -1
                while e != -1:
                    x = occ_node[e]
                    y = nxt[x]
                    ok = alive[x] == 1 and tok[x] == pa[p] and y != -1 and tok[y] == pb[p] \
                        and join[y - 1] == 1
                    if ok:
                        if x < m:
                            m = x
                        last = e
                    elif last == -1:
                        head[p] = occ_next[e]
                    else:
                        occ_next[last] = occ_next[e]
                    e = occ_next[e]
                first[p] = m
                stale[p] = 0
            if cnt[p] == c and first[p] == f:
                best = p
                break
            hsize = heap_insert(hc, hf, hp, hsize, cnt[p], first[p], p)
            pushed_c[p] = cnt[p]
            pushed_f[p] = first[p]
        if best < 0 or cnt[best] < min_count:
            break
        a = pa[best]
        b = pb[best]
        new = base + k
        merges[k, 0] = a
        merges[k, 1] = b
        counts[k] = cnt[best]
        k += 1
        # occurrences in sequence order, so overlapping runs ("a a a") merge greedily left to right
        m = 0
        e = head[best]
        while e != -1:
            buf[m] = occ_node[e]
            m += 1
            e = occ_next[e]
        nodes = np.sort(buf[:m])
        head[best] = -1
        for j in range(m):
            x = nodes[j]
            y = nxt[x]
            if not (alive[x] == 1 and tok[x] == a and y != -1 and tok[y] == b and join[y - 1] == 1):
                continue
            w = prv[x]
            z = nxt[y]
            left = w != -1 and join[x - 1] == 1
            right = z != -1 and join[z - 1] == 1
            if left:
                q = hvals[pair_slot(hkeys, (tok[w] << 32) | a)]
                cnt[q] -= 1
                if first[q] == w:
                    stale[q] = 1
            if right:
                q = hvals[pair_slot(hkeys, (b << 32) | tok[z])]
                cnt[q] -= 1
                if first[q] == y:
                    stale[q] = 1
            cnt[best] -= 1
            tok[x] = new
            alive[y] = 0
            nxt[x] = z
            if z != -1:
                prv[z] = x
            total -= 1
            for side in range(2):
                if side == 0:
                    if not left:
                        continue
                    u = w
                    key = (tok[w] << 32) | new
                else:
                    if not right:
                        continue
                    u = x
                    key = (new << 32) | tok[z]
                h = pair_slot(hkeys, key)
                if hkeys[h] == key:
                    q = hvals[h]
                else:  # a new pair (as in the initial count)
                    q = npairs
                    pa[q] = key >> 32
                    pb[q] = key & 0xFFFFFFFF
                    cnt[q] = 0
                    first[q] = INF
                    stale[q] = 0
                    head[q] = -1
                    pushed_c[q] = -1
                    pushed_f[q] = -1
                    npairs += 1
                    if not pair_room(hkeys, npairs, 0):
                        hkeys, hvals = _grow_table(hkeys, hvals)
                        h = pair_slot(hkeys, key)
                    hkeys[h] = key
                    hvals[h] = q
                cnt[q] += 1
                occ_node[nocc] = u
                occ_next[nocc] = head[q]
                head[q] = nocc
                nocc += 1
                if u < first[q]:
                    # below the (possibly stale) lower bound, so below every live occurrence: exact again
                    first[q] = u
                    stale[q] = 0
                # its key improved (count up, maybe first down): a fresh entry keeps the heap a bound
                hsize = heap_insert(hc, hf, hp, hsize, cnt[q], first[q], q)
                pushed_c[q] = cnt[q]
                pushed_f[q] = first[q]
        first[best] = INF
        stale[best] = 0
    for i in range(n):  # dead positions keep their input id, so the outputs are canonical
        if alive[i] == 0:
            tok[i] = tok_in[i]
    return tok, alive, merges[:k].copy(), counts[:k].copy()


def merge_pairs_v1(tok, join, base: int, max_merges: int | None = None, min_count: int = 2, target_tokens: int = 0):
    tok = np.ascontiguousarray(tok, dtype=np.int64)
    join = np.ascontiguousarray(join, dtype=np.uint8)
    mm = tok.size if max_merges is None else min(int(max_merges), tok.size)
    return _merge_kernel_v1(tok, join, np.int64(base), np.int64(mm), np.int64(max(1, min_count)),
                            np.int64(target_tokens))
