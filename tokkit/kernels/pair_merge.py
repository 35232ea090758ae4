"""Batch-level pair merging of token ids: count adjacent pairs, pick the most frequent, replace it, repeat.

The rules are those of Dynamic BPE (Feher et al. 2024): one count of all adjacent mergeable pairs over the
whole batch, the most frequent pair wins, ties go to the pair seen first when the batch is read sequence by
sequence, left to right, and a chosen pair is replaced greedily left to right in every sequence (so "a a a"
under (a, a) becomes "aa a"). Merged tokens get fresh ids `base + k` for the k-th merge.

Layout shared by both implementations: the batch is flattened into one array `tok` (int64, N) and
`join` (uint8, N), where `join[i] == 1` means original positions i and i+1 lie in the same word (and the same
sequence), so a token ending at i may merge with a token starting at i+1. `join` must be 0 at the last
position of every sequence. Both return `(tok, alive, merges, counts)`: `alive[i]` is 1 where an output token
starts (its id in `tok[i]`), `merges` is (K, 2) int64 of (left, right) ids, `counts` (K,) the count of each
merge when it was chosen.

`merge_pairs_reference` recounts every pair for every merge: O(merges x tokens), kept small and obvious
as the oracle. `merge_pairs_numba` keeps counts incrementally, in time proportional to the occurrences a
merge touches, and rests on one fact: every occurrence of a pair is created in a single pass (the first
count, or the merge that makes the newer of its two ids, since a pair of older ids never appears anew).
Hence after that pass a pair's count only falls and its first occurrence only moves right, so

- each position remembers the pair it starts, and a neighbour's count falls without a lookup; a position's
  token, links and pair share one 16-byte row, so a merge's four positions cost one or two cache lines;
- each pair's occurrences are written once, in ascending position order, into a pooled array (the merge
  walks them in order, greedy left to right for free; the first live one is the tie-breaking position);
- the first count goes through an open-addressing pair table (`bpe_core`); the pairs a merge creates are
  found through one array indexed by the neighbouring id, and those under min_count are dropped at once
  (they can never reach it again);
- the best count never rises, so the queue is one list per count plus a heap, by first occurrence, of the
  pairs at the current best count: a pair whose count fell moves down a list in O(1) instead of a heap. A
  list becomes the heap without a visit to its pairs' occurrences: the count says where a pair belongs, and
  its key, the pool entry at its head, may be stale (too far left), which is corrected when it comes on top;
- the settling of a pass's new pairs (ids, pool, queue) is written once, inside the merge loop, whose first
  pass settles the first count: as an inlined function, numba counted references to each of its 14 array
  arguments, 28 atomic operations per merge (with the key heap's, 16% of the samples in perf); in the loop,
  a call is 9-10% faster;
- the arrays live in per-thread buffers reused from call to call, so a data loader's batches cause no page
  faults;
- with word boundaries, every copy of a word changes alike under any merge, so each distinct word is merged
  once, its positions weighted by its number of copies (`_words`; the first copies are the ones kept, in
  batch order, so first occurrences and hence ties are those of the whole batch), and the result is copied
  back to every copy as the kernel writes its output (`occ`: each word's start, kept start and length). On
  256 x 2048 GPT-2 ids of UDHR (many scripts: long words of byte tokens) 114k words keep 269k of 524k
  positions, and finding them (5.3 ms) costs about what it saves in the merges: that batch takes the same
  time either way; batches of shorter words gain;
- rows are prefetched where the next positions are known: a merge's first occurrences, the occurrence 8
  places ahead and its neighbours 4 places ahead, the next pair of a count's list, and the first count's
  table slots 16 positions ahead.

Where the time goes (256 x 2048 UDHR with words, 35,882 merges, about 28 ms on a quiet shared core): finding
the words 5.3 ms, the first count 3.2 and its settling 2.6, the merges 13 (finding the best 4.4, the merge loop
6.1, settling 2.8; spread evenly over the count bands, about 12 us per merge above count 100, 0.3 us at count 2),
the output 4 (half of it the fresh output arrays). The same kernel on 64 x 512 (in L2) is only ~20% faster
per token: beside cache misses, branch misses and the instructions per position weigh.

Tried and left out (exact, but not faster on 2 shared cores): the first count by a counting sort on the
left id and dense per-left-id arrays instead of the pair table (setup 10-15% slower), the per-pair fields
interleaved in one row (strided views: sequences mode 15% slower), prefetching counts and stamps two
occurrences ahead, or the next best pair's row, or the chain of the next top (its fields at the pop, its
pool entry before the merge loop, its row after: within noise), or wt[x] with the rows; a pair table of
half the size for words (no change; sequences then grow it); `_words` in two passes, every word's hash
first, then the table with slots prefetched 16 words ahead (5.7 against 5.3 ms); the settling as a real
(not inlined) function (call overhead: 3% slower) and bpe_core's key heap likewise (no gain); the first count
also counting positions so that the first settling skips its counting pass (no gain); finding a new pair's
temporary id by scanning the few made so far instead of the stamp array (2% slower); the output of words
read from the kept ids gathered first into a dense array instead of the rows (2% slower).

The previous kernel (kept in tests/_pair_merge_v1.py as a second oracle) pushed an entry per new
occurrence, re-walked unordered occurrence lists and sorted each merge's occurrences: 3-7x slower.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import bpe_core as core

_NO_LIMIT = np.iinfo(np.int64).max
_WORDS_BELOW = 64  # at least one word per this many tokens (not whole sequences): merge per distinct word
_WORDS_MERGES = 50  # ... if max_merges allows at least one merge per this many tokens


def merge_pairs_reference(tok, join, base: int, max_merges: int | None = None, min_count: int = 2,
                          target_tokens: int = 0):
    tok = np.asarray(tok, dtype=np.int64)
    join = np.asarray(join, dtype=np.uint8)
    n = tok.size
    # the batch as a list of [id, start] segments; a segment ends where the next one starts
    segs = [[int(tok[i]), i] for i in range(n)]
    merges: list[tuple[int, int]] = []
    counts: list[int] = []
    limit = _NO_LIMIT if max_merges is None else max_merges

    def mergeable(j):  # segment j with segment j+1: the original boundary between them is inside a word
        return j + 1 < len(segs) and join[segs[j + 1][1] - 1] == 1

    while len(merges) < limit and len(segs) > target_tokens:
        pairs = Counter()
        for j in range(len(segs) - 1):
            if mergeable(j):
                pairs[(segs[j][0], segs[j + 1][0])] += 1
        if not pairs:
            break
        best = max(pairs, key=pairs.__getitem__)  # first inserted among equals = first seen
        if pairs[best] < min_count:
            break
        new = base + len(merges)
        merges.append(best)
        counts.append(pairs[best])
        out = []
        j = 0
        while j < len(segs):
            if mergeable(j) and segs[j][0] == best[0] and segs[j + 1][0] == best[1]:
                out.append([new, segs[j][1]])
                j += 2
            else:
                out.append(segs[j])
                j += 1
        segs = out
    res = tok.copy()
    alive = np.zeros(n, dtype=np.uint8)
    for t, s in segs:
        res[s] = t
        alive[s] = 1
    return (res, alive, np.asarray(merges, dtype=np.int64).reshape(-1, 2),
            np.asarray(counts, dtype=np.int64))


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Ask the CPU to bring arr[idx] into cache (any index is safe: a prefetch never faults). The merge loop
    knows its next positions in advance, and reading their rows ahead saves about a tenth of its time."""
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all cache levels, data
        return context.get_dummy_value()
    return types.void(arr, idx), codegen


_NO_PAIR = -1   # a position's pair: the token here may not merge with the next one (a word or sequence boundary)
_JUNK = 0       # a position's pair that can never be chosen again (fewer than min_count occurrences)
# the fields of `node`, four per position (node[4 i + field]; a 2-d array was 4x slower in numba): a row's four
# fields share a cache line, which is what makes the merge loop fast (a merge touches four neighbouring positions
# and little else)
_TOK = 0        # token id starting here (-1: inside an earlier token)
_NXT = 1        # next live position (the sentinel row n after the last)
_PRV = 2        # previous live position (the sentinel before the first)
_PAIR = 3       # pair id of (this token, next token), _NO_PAIR or _JUNK
_AHEAD = 8      # the merge loop prefetches the row of the occurrence this many places ahead


@njit(cache=True, inline="always")
def _temp_pair(node, temp, j, every, prev):
    """The j-th position to settle and the pair it starts, or -1 if it repeats the one before, prev."""
    x = j if every else temp[j]
    return x, node[4 * x + _PAIR] if x != prev else -1


@njit(cache=True)
def _count_from(node, join, wt, keys, slot_id, cnt, i, n, t, used):
    """The first count from position i on, until the table is full: pair ids t, t + 1, ... in order of first
    occurrence. Returns (position reached, next id, keys used). Kept apart from the caller, which grows the
    table: an array reassigned inside a numba loop costs reference counting on every pass (4x here)."""
    mask = keys.size - 1
    while i < n - 1:
        if i + 17 < n:  # the slots are random: ask for those of the pair 16 places ahead
            s = core.pair_home(core.pair_key(node[4 * i + 64 + _TOK], node[4 * i + 68 + _TOK]), mask)
            _prefetch(keys, s)
            _prefetch(slot_id, s)
        if join[i]:
            if not core.pair_room(keys, used, 1):
                break
            key = core.pair_key(node[4 * i + _TOK], node[4 * i + 4 + _TOK])
            s = core.pair_slot(keys, key)
            if keys[s] == -1:
                keys[s] = key
                used += 1
                slot_id[s] = t
                cnt[t] = 0
                t += 1
            q = slot_id[s]
            cnt[q] += wt[i] if wt.size else 1
            node[4 * i + _PAIR] = q
        i += 1
    return i, t, used


@njit(cache=True)
def _capacity(n):
    """Pair ids, pool slots and queue entries for n tokens: every pair occurrence is created once, n - 1 at
    the start and at most 2 per applied merge after (and room for the smallest first-count table)."""
    return 3 * n + 16


@njit(cache=True)
def _scratch_size(n, top, max_merges, n_total):
    """int32 entries of the kernel's scratch buffer for n positions (standing for n_total tokens), ids below
    top and max_merges merges (the int64 buffer, the queue's keys, needs _capacity(n))."""
    return 4 * (n + 1) + 7 * _capacity(n) + (2 * n + 2) + (n_total + 2) + 2 * (top + max_merges + 1)


@njit(cache=True)
def _merge_kernel(tok_in, orig, occ, relabel, join, wt, n_total, top, base, max_merges, min_count, target_tokens,
                  work, hk):
    # tok_in: the (dense) ids to merge; orig: the caller's ids. Per distinct word (see _words): wt the number of
    # tokens each position stands for, n_total their sum (orig.size), occ the words of orig that copy a kept
    # one, (start, kept start, length) each; else wt and occ are empty
    n = tok_in.size
    weighted = wt.size > 0
    # all arrays are slices of the caller's buffers `work` (int32, _scratch_size entries) and `hk` (int64,
    # _capacity), which it reuses from call to call: fresh arrays cost a page fault per 4 KiB touched, 5-15%
    # of a call
    cap = _capacity(n)
    m = 4 * (n + 1)
    node = work[:m]
    cols = work[m: m + 7 * cap].reshape(7, cap)  # per pair id (cnt, head, end, bnext, scratch) or slot (pool, hq)
    cnt, head, end, pool, hq, scratch, bnext = cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]
    rest = work[m + 7 * cap:]
    temp = rest[: 2 * n + 2]
    bhead = rest[2 * n + 2: 2 * n + n_total + 4]
    # neighbour id and side -> temporary pair id in the current merge (see below); only touched slots matter
    stamp = rest[2 * n + n_total + 4: 2 * n + n_total + 4 + 2 * (top + max_merges + 1)]
    for i in range(n):
        node[4 * i + _TOK] = tok_in[i]
        node[4 * i + _NXT] = i + 1
        node[4 * i + _PRV] = i - 1
        node[4 * i + _PAIR] = _NO_PAIR
    node[4 * n + _TOK] = -1
    node[4 * n + _NXT] = n
    node[4 * n + _PRV] = n
    node[4 * n + _PAIR] = _NO_PAIR
    if n:
        node[_PRV] = n

    # the first count: pair ids 1, 2, ... (0 is _JUNK) in order of first occurrence, through a pair table
    size = 16
    while 2 * size < n:  # room for n / 2.8 distinct pairs before the table grows (natural text has fewer)
        size *= 2
    keys = hk[:size]  # the queue's keys and the scratch column are free until the first count is done
    keys[:] = -1
    slot_id = scratch[:size]
    i, t, used = _count_from(node, join, wt, keys, slot_id, cnt, 0, n, 1, 0)
    while i < n - 1:
        keys, dest, used = core.pair_rehash(keys, keys != -1, 1)
        slot_id = core.move_to_slots(slot_id, dest, keys.size, 0)
        i, t, used = _count_from(node, join, wt, keys, slot_id, cnt, i, n, t, used)
    # the queue: the best count at any time never exceeds the best count before (a new pair occurs at most
    # once per occurrence of the merge that makes it, and counts only fall), so pairs wait on one list per
    # count (bhead, bnext) and only those of the current best count `level` are in a heap ordered by first
    # occurrence; an entry that went stale is moved to the list of its count when it reaches the top
    bhead[:] = -1
    merges = np.empty((max(0, max_merges), 2), dtype=np.int64)
    counts = np.empty(max(0, max_merges), dtype=np.int64)
    k = 0
    total = n_total
    perm = 1
    used = 0
    hsize = 0
    t0 = 1
    ntemp = max(0, n - 1)
    first = True  # the first pass settles the first count: every position, and every pair onto its list
    level = n_total + 1
    while True:
        # make the pairs counted as temporary ids t0..t permanent: ids for those with at least min_count
        # occurrences (the others become _JUNK: a pair's count never grows after the pass that created it),
        # their occurrence positions in the pool in ascending order, and one queue entry each. The positions to
        # look at are temp[:ntemp], or all with `first`. Written once, here in the loop, not as a function: an
        # inlined function's array arguments cost two atomic reference counts each per call (a fifth of a
        # call's time in all)
        if weighted:
            # a weighted count is not a number of positions: count the positions first (in scratch, then
            # replaced by the permanent ids)
            for j in range(t - t0):
                scratch[j] = 0
            prev = -1
            for j in range(ntemp):
                prev, tj = _temp_pair(node, temp, j, first, prev)
                if tj >= t0:
                    scratch[tj - t0] += 1
        for tj in range(t0, t):
            c = cnt[tj]
            if c >= min_count:
                q = perm
                perm += 1
                cnt[q] = c
                head[q] = used
                end[q] = used
                used += scratch[tj - t0] if weighted else c
                scratch[tj - t0] = q
            else:
                scratch[tj - t0] = _JUNK
        prev = -1
        for j in range(ntemp):
            x, tj = _temp_pair(node, temp, j, first, prev)
            prev = x
            if tj < t0:
                continue
            q = scratch[tj - t0]
            node[4 * x + _PAIR] = q
            if q != _JUNK:
                pool[end[q]] = x
                end[q] += 1
        for q in range(t0, perm):
            c = cnt[q]
            if c >= level:
                hsize = core.key_heap_push(hk, hq, hsize, pool[head[q]], q)
            else:
                bnext[q] = bhead[c]
                bhead[c] = q
        if first:
            first = False
            level = min_count - 1
            for q in range(1, perm):
                level = max(level, cnt[q])
            level += 1
        if k >= max_merges or total <= target_tokens:
            break
        # the best pair: pop until an entry is up to date (entries only ever overstate a pair's rank, since
        # after the pass that creates a pair its count only falls and its first occurrence only moves right)
        best = -1
        while True:
            if hsize == 0:
                # the level is spent: the next non-empty list becomes the heap
                level -= 1
                while level >= min_count and bhead[level] == -1:
                    level -= 1
                if level < min_count:
                    break
                q = bhead[level]
                bhead[level] = -1
                while q != -1:
                    nq = bnext[q]
                    if nq != -1:  # a linked walk: ask for the next pair's fields while this one waits
                        _prefetch(head, nq)
                        _prefetch(bnext, nq)
                        _prefetch(cnt, nq)
                    c = cnt[q]
                    # a count above zero means a live occurrence (weights are >= 1); the key, the pool entry at
                    # head, may be stale (too far left): it is checked when the entry reaches the top
                    if c >= level:
                        hsize = core.key_heap_push(hk, hq, hsize, pool[head[q]], q)
                    elif c >= min_count:
                        bnext[q] = bhead[c]
                        bhead[c] = q
                    q = nq
                continue
            q = hq[0]
            c = cnt[q]
            if c < level:  # fell to a lower count: onto its list (or gone)
                hsize = core.key_heap_pop(hk, hq, hsize)
                if c >= min_count:
                    bnext[q] = bhead[c]
                    bhead[c] = q
                continue
            h = head[q]
            e = end[q]
            while h < e and node[4 * pool[h] + _PAIR] != q:
                h += 1
            head[q] = h
            if pool[h] == hk[0]:
                best = q
                hsize = core.key_heap_pop(hk, hq, hsize)
                break
            hk[0] = pool[h]
            core.key_heap_down(hk, hq, hsize, 0)
        if best < 0:
            break
        x0 = pool[head[best]]
        new = top + k
        merges[k, 0] = node[4 * x0 + _TOK]
        merges[k, 1] = node[4 * node[4 * x0 + _NXT] + _TOK]
        counts[k] = cnt[best]
        t0 = perm
        t = perm
        ntemp = 0
        # occurrences in sequence order, so overlapping runs ("a a a") merge greedily left to right
        e = end[best]
        for j in range(head[best] + 1, min(head[best] + _AHEAD, e)):  # the loop prefetches from the 9th on
            _prefetch(node, 4 * pool[j])
        for j in range(head[best], e):
            if j + _AHEAD < e:
                _prefetch(node, 4 * pool[j + _AHEAD])
            if j + _AHEAD // 2 < e:  # by now that row has come: its neighbours' rows next
                x = pool[j + _AHEAD // 2]
                _prefetch(node, 4 * node[4 * x + _PRV])
                _prefetch(node, 4 * node[4 * x + _NXT])
            x = pool[j]
            if node[4 * x + _PAIR] != best:
                continue
            y = node[4 * x + _NXT]
            w = node[4 * x + _PRV]
            z = node[4 * y + _NXT]
            wx = wt[x] if weighted else 1
            node[4 * x + _PAIR] = _NO_PAIR
            # the pair (w, x) becomes (w, new), kept at w; the pair (y, z) becomes (new, z), kept at x. The new
            # pairs of this merge get temporary ids t0, t0 + 1, ..., one per neighbour id and side: stamp[2 id +
            # side] holds it, valid if it lies in [t0, t) and scratch[it - t0] points back (so neither array
            # needs clearing). One loop over the two sides: a helper function, even inlined, cost 10-50% here
            for side in range(2):
                src = y if side else w
                p = node[4 * src + _PAIR]
                if p != _NO_PAIR:
                    cnt[p] -= wx
                    c = 2 * node[4 * (z if side else w) + _TOK] + side
                    q = stamp[c]
                    if q < t0 or q >= t or scratch[q - t0] != c:
                        q = t
                        stamp[c] = q
                        scratch[q - t0] = c
                        cnt[q] = 0
                        t += 1
                    cnt[q] += wx
                    dst = x if side else w
                    node[4 * dst + _PAIR] = q
                    temp[ntemp] = dst
                    ntemp += 1
            node[4 * y + _PAIR] = _NO_PAIR
            node[4 * x + _TOK] = new
            node[4 * y + _TOK] = -1
            node[4 * x + _NXT] = z
            node[4 * z + _PRV] = x
            total -= wx
        cnt[best] = 0
        head[best] = end[best]
        k += 1
    # back to the caller's ids: new ids from base; an alive position below top holds its input id, and a dead
    # one keeps it, so the outputs are canonical and only new ids are written
    out = orig.copy()
    alive = np.ones(orig.size, dtype=np.uint8)
    if weighted:  # words: each copy reads the kept one (one-token words keep their id)
        for w in range(occ.size // 3):
            s = occ[3 * w]
            x = occ[3 * w + 1]
            for r in range(occ[3 * w + 2]):
                v = node[4 * (x + r) + _TOK]
                alive[s + r] = v >= 0
                if v >= top:
                    out[s + r] = v + base - top
    else:
        for i in range(orig.size):
            v = node[4 * i + _TOK]
            alive[i] = v >= 0
            if v >= top:
                out[i] = v + base - top
    for j in range(k):
        for s in range(2):
            v = merges[j, s]
            merges[j, s] = v + base - top if v >= top else (relabel[v] if relabel.size else v)
    return out, alive, merges[:k].copy(), counts[:k].copy()


@njit(cache=True)
def _words(tok, join, slot_word, rec, occ, ktok, kjoin, wt):
    """The words of the batch (maximal runs joined by `join`) that may merge, each distinct one once: what
    every copy of a word does under a merge is the same, so the kernel merges one copy per distinct word,
    weighted by its number of copies. The copies kept are the first ones, in batch order, so a pair's first
    occurrence among them is its first occurrence in the batch and ties break as before. Fills, for the kept
    positions, ktok (ids), kjoin and wt (copies of its word), and per word of two or more tokens, occ[3 w:
    3 w + 3] = (its start, the kept copy's start, its length). Returns the number of positions kept.
    slot_word (a power of two >= 2 entries per word of two or more tokens) and rec (4 per word): scratch."""
    n = tok.size
    mask = slot_word.size - 1
    slot_word[:] = -1  # slot -> distinct word d
    # per distinct word, one row of 32 bytes, so that a word costs one random access to it: hash, exact key (the
    # ids packed, for words of up to 4 ids below 2**16, else -1: then the ids are compared with the kept copy),
    # kept start << 32 | length, copies. A new word's ids go to ktok at once, while they are in cache
    nd = 0
    m = 0
    nw = 0
    i = 0
    while i < n - 1:
        if not join[i]:
            i += 1
            continue
        s = i
        h = np.uint64(0xCBF29CE484222325)
        exact = np.int64(0)
        small = True
        while True:
            t = tok[i]
            h = (h ^ np.uint64(t)) * np.uint64(0x100000001B3)
            small &= t < 65536
            exact = (exact << 16) | t
            i += 1
            if i >= n or not join[i - 1]:
                break
        ln = i - s
        if not small or ln > 4:
            exact = -1
        hk = np.int64(h ^ (h >> np.uint64(31)))
        j = hk & mask
        while True:
            d = slot_word[j]
            if d == -1:
                d = nd
                nd += 1
                slot_word[j] = d
                rec[4 * d] = hk
                rec[4 * d + 1] = exact
                rec[4 * d + 2] = (np.int64(m) << 32) | ln
                rec[4 * d + 3] = 0
                for r in range(ln):
                    ktok[m + r] = tok[s + r]
                    kjoin[m + r] = r < ln - 1
                m += ln
                break
            if rec[4 * d] == hk and (rec[4 * d + 2] & 0xFFFFFFFF) == ln:
                if exact >= 0:
                    if rec[4 * d + 1] == exact:
                        break
                else:
                    a = rec[4 * d + 2] >> 32
                    r = 0
                    while r < ln and ktok[a + r] == tok[s + r]:
                        r += 1
                    if r == ln:
                        break
            j = (j + 1) & mask
        rec[4 * d + 3] += 1
        occ[3 * nw] = s
        occ[3 * nw + 1] = rec[4 * d + 2] >> 32
        occ[3 * nw + 2] = ln
        nw += 1
    for d in range(nd):  # in kept order: one sequential pass (a loop: a slice here costs a view per word)
        k = rec[4 * d + 2] >> 32
        for r in range(k, k + (rec[4 * d + 2] & 0xFFFFFFFF)):
            wt[r] = rec[4 * d + 3]
    return m


@njit(cache=True)
def alive_rows(tok, alive, lens):
    """The output of merge_pairs cut into its rows of lens[i] input positions: the ids of the tokens that
    start at alive positions, their starts within their row, and each row's number of tokens (one pass,
    where nonzero + searchsorted + split cost 3-4x as much)."""
    ids = np.empty(tok.size, np.int64)
    starts = np.empty(tok.size, np.int64)
    olen = np.zeros(lens.size, np.int64)
    i = 0
    o = 0
    for r in range(lens.size):
        o0 = o
        for j in range(lens[r]):
            ids[o] = tok[i]
            starts[o] = j
            o += alive[i] != 0
            i += 1
        olen[r] = o - o0
    return ids[:o], starts[:o], olen


def merge_pairs_numba(tok, join, base: int, max_merges: int | None = None, min_count: int = 2,
                      target_tokens: int = 0):
    tok = np.ascontiguousarray(tok, dtype=np.int64)
    join = np.ascontiguousarray(join, dtype=np.uint8)
    if tok.shape != join.shape or tok.ndim != 1:
        raise ValueError(f"tok and join must be 1-d of one length, got {tok.shape} and {join.shape}")
    lo, top = (int(tok.min()), int(tok.max()) + 1) if tok.size else (0, 0)
    if lo < 0 or max(top - 1, base + (max_merges or tok.size)) >= 1 << 31:
        raise ValueError("token ids must lie in [0, 2**31) including the new ids")
    if base < top:
        raise ValueError(f"base {base} must be above every id (the batch holds {top - 1})")
    if tok.size >= 1 << 29:
        raise ValueError(f"{tok.size} tokens: the kernel's int32 state holds batches below 2**29 tokens")
    mm = tok.size if max_merges is None else min(int(max_merges), tok.size)
    relabel = np.zeros(0, dtype=np.int64)
    dense = tok
    if top > 4 * tok.size + 65536:
        # sparse ids: the kernel indexes arrays by id, so work on ranks 0..D-1 and map back at the end
        relabel, dense = np.unique(tok, return_inverse=True)
        dense = dense.astype(np.int64).reshape(-1)
        top = relabel.size
    n = tok.size
    if mm == 0 or target_tokens >= n:
        return tok.copy(), np.ones(n, dtype=np.uint8), np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    args = np.int64(top), np.int64(base), np.int64(mm), np.int64(max(1, min_count)), np.int64(target_tokens)
    nw = int(join[0]) + np.count_nonzero(join[1:] > join[:-1])  # words of two or more tokens
    if nw * _WORDS_BELOW > n and mm * _WORDS_MERGES >= n:
        # words (short runs; whole sequences seldom repeat), and enough merges to pay for finding the distinct
        # ones (about what n / 50 merges of the whole batch cost): merge each distinct word once, weighted
        size = 16
        while size < 2 * nw:
            size *= 2
        slot_word, occ, wt, kjoin = (_buffer(name, k, dt) for name, k, dt in (
            ("slot_word", size, np.int32), ("occ", 3 * nw, np.int32), ("wt", n, np.int32), ("kjoin", n, np.uint8)))
        rec, ktok = _buffer("rec", 4 * nw, np.int64), _buffer("ktok", n, np.int64)
        m = _words(dense, join, slot_word, rec, occ, ktok, kjoin, wt)
        work, hk = _scratch(int(_scratch_size(m, top, mm, n)), int(_capacity(m)))
        return _merge_kernel(ktok[:m], tok, occ, relabel, kjoin[:m], wt[:m], np.int64(n), *args, work, hk)
    work, hk = _scratch(int(_scratch_size(n, top, mm, n)), int(_capacity(n)))
    none = np.zeros(0, np.int32)
    return _merge_kernel(dense, tok, none, relabel, join, none, np.int64(n), *args, work, hk)


_SCRATCH = threading.local()
_SCRATCH_KEPT = 1 << 28  # bytes: larger buffers are not kept between calls


def _buffer(name: str, size: int, dtype) -> np.ndarray:
    """A named scratch array of `size` entries, kept per thread like `_scratch` (for the per-word path)."""
    kept = getattr(_SCRATCH, "named", None)
    if kept is None:
        kept = _SCRATCH.named = {}
    buf = kept.get(name)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        if buf.nbytes <= _SCRATCH_KEPT // 8:
            kept[name] = buf
    return buf[:size]


def _scratch(n32: int, n64: int) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's scratch buffers, kept per thread and grown to the largest batch seen (up to
    _SCRATCH_KEPT bytes): the same memory for every batch of a data loader, hence no page faults."""
    kept = getattr(_SCRATCH, "buffers", None)
    if kept is not None and kept[0].size >= n32 and kept[1].size >= n64:
        return kept
    bufs = np.empty(n32, dtype=np.int32), np.empty(n64, dtype=np.int64)
    if 4 * n32 + 8 * n64 <= _SCRATCH_KEPT:
        _SCRATCH.buffers = bufs
    return bufs


def merge_pairs(tok, join, base: int, max_merges: int | None = None, min_count: int = 2,
                target_tokens: int = 0, backend: str = "numba"):
    """Dispatch: `numba` (default, incremental) or `reference` (plain Python, recounting)."""
    if backend == "numba":
        return merge_pairs_numba(tok, join, base, max_merges, min_count, target_tokens)
    if backend == "reference":
        return merge_pairs_reference(tok, join, base, max_merges, min_count, target_tokens)
    raise ValueError(f"backend must be 'numba' or 'reference', got {backend!r}")
