"""The numba building blocks of every merge loop: BPE training (`bpe`), parity-aware training (`bpe_parity`)
and batch pair merging (`pair_merge`) each use these, and only these, for their data structures.

- array growth: `grow`, `grow_rows`, `grow_2d`; `prefetch` (a cache hint for memory a loop reads soon, and
  `prefetch_words` for the words of a word list)
- a max-heap of (count, a, b) entries in three parallel arrays: `heap_*` (only the previous batch-merge
  kernel, tests/_pair_merge_v1.py, still uses it)
- a min-heap of one int64 key per entry with an id beside it: `key_heap_*` (batch pair merging, which
  packs its whole order into the key)
- an open-addressing table pair -> slot, with the per-slot columns kept by its user: `pair_*` (batch pair
  merging), and `note` (a list of the slots touched in a step)
- the token table (bytes of each token id, and bytes -> id): `token_*`
- the merges made (`new_merge_record`, `record_merge`)
- the word rewrite: `merge_in_word` applies a merge inside one word and lists the pair changes (into
  `change_buffer`)
- the training pair table, a cache-friendly layout with one row per pair and per word (both trainers):
  `row_*`, `rows_*`, `list_room`, `word_rows`, `count_pair_rows`, and its queue `queue_*`

Helpers that run per merge or per pair occurrence are inlined at numba IR level (`inline="always"`): the
merge loops then make no real calls that pass many arrays (each would cost reference counting and
argument packing). Helpers that run a few times per training (rehash, heap build) are ordinary functions.
Everything here works on bytes and ids only; the rules of each algorithm stay in its own module.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

# ------------------------------------------------------------------------------------------ array growth


@nb.njit(cache=True, inline="always")
def grow(arr, used, cap):
    """arr (1-D) copied into a zeroed array of cap entries; only arr[:used] is kept."""
    out = np.zeros(cap, arr.dtype)
    out[:used] = arr[:used]
    return out


@nb.njit(cache=True)
def grow_2d(arr, used, rows):
    """arr (2-D) copied into a zeroed array of `rows` rows; only its first `used` rows are kept."""
    out = np.zeros((rows, arr.shape[1]), arr.dtype)
    out[:used] = arr[:used]
    return out


@nb.njit(cache=True)
def grow_rows(arr, cols):
    """arr (3-D, rows x cols0 x k: one queue per row, say) copied into a zeroed rows x cols x k array,
    cols >= cols0."""
    out = np.zeros((arr.shape[0], cols, arr.shape[2]), arr.dtype)
    out[:, :arr.shape[1]] = arr
    return out


# ------------------------------------------------------------------------------------------ prefetch


@intrinsic
def prefetch(typingctx, arr, i):
    """Ask the CPU to bring row i of arr (element i of a 1-D array) into the cache, without waiting for it:
    a merge loop reads words and pairs at random places, and knows them a few iterations ahead."""
    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        inds = [context.cast(builder, args[1], signature.args[1], types.intp)] + [zero] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer2(context, builder, data=ary.data,
                                        shape=cgutils.unpack_tuple(builder, ary.shape),
                                        strides=cgutils.unpack_tuple(builder, ary.strides), layout=aryty.layout,
                                        inds=inds, wraparound=False, boundscheck=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])  # read, keep, data
        return context.get_dummy_value()
    return types.void(arr, i), codegen


# ------------------------------------------------------------------------------------------ key min-heap
# n entries in two parallel arrays: hk (int64 key, smallest first) and hq (the entry's id); four children per
# entry (half the levels of a binary heap; a node's children lie side by side in memory). One compare per child,
# which is what makes it worth having beside the three-array heap when the order fits in 63 bits.


@nb.njit(cache=True, inline="always")
def key_heap_push(hk, hq, n, key, q):
    """Insert (key, q) into the heap of n entries; returns n + 1."""
    i = n
    while i > 0:
        p = (i - 1) >> 2
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hq[i] = hq[p]
        i = p
    hk[i] = key
    hq[i] = q
    return n + 1


@nb.njit(cache=True, inline="always")
def key_heap_down(hk, hq, n, i):
    """Restore the order below entry i (after its key grew or it was replaced)."""
    key = hk[i]
    q = hq[i]
    while True:
        c = 4 * i + 1
        if c >= n:
            break
        m = c
        mk = hk[c]
        for d in range(c + 1, min(c + 4, n)):
            if hk[d] < mk:
                mk = hk[d]
                m = d
        if mk >= key:
            break
        hk[i] = mk
        hq[i] = hq[m]
        i = m
    hk[i] = key
    hq[i] = q


@nb.njit(cache=True, inline="always")
def key_heap_pop(hk, hq, n):
    """Drop the top entry of the heap of n entries; returns n - 1."""
    n -= 1
    if n > 0:
        hk[0] = hk[n]
        hq[0] = hq[n]
        key_heap_down(hk, hq, n, 0)
    return n


# ------------------------------------------------------------------------------------------ max-heap
# A heap of n entries in three parallel arrays: hc (count, int64), ha and hb (two ids). Best first: the
# highest count, then the smallest ha, then the smallest hb. Entries are compared whole, so the order of pops
# does not depend on the order of pushes.


@nb.njit(cache=True, inline="always")
def heap_before(hc, ha, hb, i, j):
    """Entry i comes out before entry j."""
    if hc[i] != hc[j]:
        return hc[i] > hc[j]
    if ha[i] != ha[j]:
        return ha[i] < ha[j]
    return hb[i] < hb[j]


@nb.njit(cache=True, inline="always")
def heap_settle(hc, ha, hb, i, parent):
    """Swap entry i with its parent when i comes out before it. Returns whether it did: a sift, up or down,
    goes on while entries move."""
    if not heap_before(hc, ha, hb, i, parent):
        return False
    hc[i], hc[parent] = hc[parent], hc[i]
    ha[i], ha[parent] = ha[parent], ha[i]
    hb[i], hb[parent] = hb[parent], hb[i]
    return True


# The sifts keep this loop shape, with early returns: written as `while i > 0 and heap_settle(...)` the
# training merge loop ran 20% slower (the heap alone 2x).
@nb.njit(cache=True)
def heap_sift_down(hc, ha, hb, n, i):
    while True:
        child = 2 * i + 1
        if child >= n:
            return
        if child + 1 < n and heap_before(hc, ha, hb, child + 1, child):
            child += 1  # the better child
        if not heap_settle(hc, ha, hb, child, i):
            return
        i = child


@nb.njit(cache=True)
def heap_sift_up(hc, ha, hb, i):
    while i > 0:
        parent = (i - 1) // 2
        if not heap_settle(hc, ha, hb, i, parent):
            return
        i = parent


@nb.njit(cache=True)
def heapify(hc, ha, hb, n):
    """Make the first n entries a heap, bottom up in O(n)."""
    for i in range(n // 2 - 1, -1, -1):
        heap_sift_down(hc, ha, hb, n, i)


@nb.njit(cache=True, inline="always")
def heap_insert(hc, ha, hb, n, c, a, b):
    """Add (c, a, b) where the caller guarantees room (n < capacity). Returns n + 1."""
    hc[n] = c
    ha[n] = a
    hb[n] = b
    heap_sift_up(hc, ha, hb, n)
    return n + 1


@nb.njit(cache=True, inline="always")
def heap_pop(hc, ha, hb, n):
    """Remove the best entry (n > 0). Returns (n - 1, c, a, b)."""
    c = hc[0]
    a = ha[0]
    b = hb[0]
    n -= 1
    if n > 0:
        hc[0] = hc[n]
        ha[0] = ha[n]
        hb[0] = hb[n]
        heap_sift_down(hc, ha, hb, n, 0)
    return n, c, a, b


# ------------------------------------------------------------------------------------------ pair table
# Open addressing with linear probing over `keys` (int64, a power of two in size, -1: empty). A pair of ids
# (a, b) has the key a << 32 | b; parity training also keys (language g, a, b) as (g + 1) << 50 | a << 25 | b.
# The user keeps its per-pair values in arrays indexed by the same slot, and moves them with `move_to_slots`
# when the table is rehashed. The load stays under 70%. The pair rows below probe the same way.


@nb.njit(cache=True, inline="always")
def pair_key(a, b):
    return (np.int64(a) << 32) | np.int64(b)


@nb.njit(cache=True, inline="always")
def pair_left(key):
    return np.int32(key >> 32)


@nb.njit(cache=True, inline="always")
def pair_right(key):
    return np.int32(key & 0xFFFFFFFF)


@nb.njit(cache=True, inline="always")
def group_pair_key(g, a, b):
    """Key of pair (a, b) within group g >= 0; ids below 2**25."""
    return (np.int64(g + 1) << 50) | (np.int64(a) << 25) | np.int64(b)


@nb.njit(cache=True, inline="always")
def pair_home(key, mask):
    """The first slot probed for key in a table of mask + 1 slots."""
    # a multiplicative hash, its high bits folded onto the low ones that the mask keeps
    x = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    return np.int64((x ^ (x >> np.uint64(29))) & np.uint64(mask))


@nb.njit(cache=True, inline="always")
def pair_slot(keys, key):
    """The slot holding key, or the empty slot where it would go."""
    mask = keys.shape[0] - 1
    i = pair_home(key, mask)
    while keys[i] != -1 and keys[i] != key:
        i = (i + 1) & mask
    return i


@nb.njit(cache=True, inline="always")
def pair_insert(keys, key, used):
    """Slot of key, claimed if new (the caller checked `pair_room`). Returns (slot, used)."""
    j = pair_slot(keys, key)
    if keys[j] == -1:
        keys[j] = key
        used += 1
    return j, used


@nb.njit(cache=True, inline="always")
def pair_room(keys, used, need):
    """Whether `need` more keys fit beside `used` under the 70% load (linear probing stays short)."""
    return 10 * (used + need) <= 7 * keys.shape[0]


@nb.njit(cache=True)
def pair_rehash(keys, keep, need):
    """The keys where `keep` is set, in a new table with room for `need` more (at least the old size).
    Returns (new keys, dest: new slot of each old slot or -1, number kept)."""
    live = 0
    for i in range(keys.shape[0]):
        if keep[i]:
            live += 1
    cap = keys.shape[0]
    while 10 * (live + need) > 7 * cap:
        cap *= 2
    new_keys = np.full(cap, -1, np.int64)
    dest = np.full(keys.shape[0], -1, np.int64)
    for i in range(keys.shape[0]):
        if keep[i]:
            j = pair_slot(new_keys, keys[i])
            new_keys[j] = keys[i]
            dest[i] = j
    return new_keys, dest, live


@nb.njit(cache=True)
def move_to_slots(col, dest, cap, fill):
    """A per-slot column after `pair_rehash`: col[i] goes to slot dest[i]; new slots hold fill."""
    out = np.full(cap, fill, col.dtype)
    for i in range(dest.shape[0]):
        if dest[i] != -1:
            out[dest[i]] = col[i]
    return out


@nb.njit(cache=True, inline="always")
def note(touched, nt, slot):
    """Append slot to touched[:nt], doubling touched when full. Returns (touched, nt + 1)."""
    if nt >= touched.shape[0]:
        touched = grow(touched, nt, 2 * nt)
    touched[nt] = slot
    return touched, nt + 1


# ------------------------------------------------------------------------------------------ token table
# Token t's bytes are tok_pool[tok_off[t]:tok_off[t] + tok_len[t]] (uint8 pool, int64 offsets, int32
# lengths; length -1: a special token no merge can spell). A hash of the bytes -> id (th: uint64 hashes,
# tid: int32 ids or -1, size tmask + 1) finds a merge result that already exists, which keeps its id as in
# Hugging Face's trainer.


@nb.njit(cache=True, inline="always")
def token_hash(pool, start, n):
    """FNV-1a of pool[start:start + n]."""
    h = np.uint64(0xCBF29CE484222325)
    for k in range(start, start + n):
        h = (h ^ np.uint64(pool[k])) * np.uint64(0x100000001B3)
    return h


@nb.njit(cache=True)
def token_table(tok_pool, tok_off, tok_len, n_tokens, cap_tok):
    """Room for cap_tok tokens, the pool bytes in use, and the bytes -> id hash of the first n_tokens.
    Returns (tok_off, tok_len, pool_used, th, tid, tmask)."""
    if tok_off.shape[0] < cap_tok:
        tok_off = grow(tok_off, n_tokens, cap_tok)
        tok_len = grow(tok_len, n_tokens, cap_tok)
    pool_used = 0
    for t in range(n_tokens):
        if tok_len[t] > 0:
            pool_used = max(pool_used, tok_off[t] + tok_len[t])
    tcap = 16
    while tcap < 4 * cap_tok:
        tcap *= 2
    tmask = tcap - 1
    th = np.zeros(tcap, np.uint64)
    tid = np.full(tcap, -1, np.int32)
    for t in range(n_tokens):
        if tok_len[t] > 0:
            h = token_hash(tok_pool, tok_off[t], tok_len[t])
            i = np.int64(h >> np.uint64(20)) & tmask
            while tid[i] != -1:
                i = (i + 1) & tmask
            th[i] = h
            tid[i] = t
    return tok_off, tok_len, pool_used, th, tid, tmask


@nb.njit(cache=True, inline="always")
def token_concat(tok_pool, tok_off, tok_len, pool_used, a, b):
    """Spell a + b after the used part of the pool; the bytes stay uncommitted until `token_id` keeps
    them (superword training may still reject the merge). Returns (tok_pool, n_new)."""
    la = tok_len[a]
    lb = tok_len[b]
    n_new = la + lb
    if pool_used + n_new > tok_pool.shape[0]:
        tok_pool = grow(tok_pool, pool_used, max(2 * tok_pool.shape[0], pool_used + n_new + 1024))
    tok_pool[pool_used:pool_used + la] = tok_pool[tok_off[a]:tok_off[a] + la]
    tok_pool[pool_used + la:pool_used + n_new] = tok_pool[tok_off[b]:tok_off[b] + lb]
    return tok_pool, n_new


@nb.njit(cache=True, inline="always")
def token_id(tok_pool, tok_off, tok_len, pool_used, n_new, n_tokens, th, tid, tmask):
    """Id of the token spelled by the n_new bytes at pool_used: an existing token with the same bytes keeps
    its id; otherwise a new id, committing the bytes. Returns (t, n_tokens, pool_used)."""
    h = token_hash(tok_pool, pool_used, n_new)
    i = np.int64(h >> np.uint64(20)) & tmask
    t = -1
    while tid[i] != -1:
        u = tid[i]
        if th[i] == h and tok_len[u] == n_new:
            same = True
            for k in range(n_new):
                if tok_pool[tok_off[u] + k] != tok_pool[pool_used + k]:
                    same = False
                    break
            if same:
                t = u
                break
        i = (i + 1) & tmask
    if t == -1:
        t = n_tokens
        n_tokens += 1
        tok_off[t] = pool_used
        tok_len[t] = n_new
        pool_used += n_new
        th[i] = h
        tid[i] = t
    return t, n_tokens, pool_used


# ------------------------------------------------------------------------------------------ words
# Word w's symbols are sym[wstart[w]:wstart[w] + length] (int32 ids, rewritten in place, so words only
# shrink; its current length is in its row of `word_rows`).


@nb.njit(cache=True)
def change_buffer(wstart):
    """The buffer `merge_in_word` fills, with room for the longest word."""
    max_len = 0
    for w in range(wstart.shape[0] - 1):
        max_len = max(max_len, wstart[w + 1] - wstart[w])
    return np.empty((2 * max_len + 2, 4), np.int32)


@nb.njit(cache=True)
def new_merge_record(cap):
    """The arrays `record_merge` fills: (ma, mb, mt, mg), room for cap merges (they grow beyond)."""
    cap = max(16, cap)
    return np.zeros(cap, np.int32), np.zeros(cap, np.int32), np.zeros(cap, np.int32), np.zeros(cap, np.int32)


# below this many symbols (the 256 bytes and a few special tokens: every first training) the pairs are first
# counted in a dense symbols x symbols table (1.5 MB at 300), without hashing (`count_pair_rows`)
_DENSE_SYMBOLS = 320


@nb.njit(cache=True, inline="always")
def record_merge(ma, mb, mt, mg, nm, a, b, t, g):
    """Merge number nm: (ma[nm], mb[nm]) -> mt[nm], chosen for group mg[nm] (-1: none), doubling the int32
    arrays when full. Returns (ma, mb, mt, mg, nm + 1)."""
    if nm >= ma.shape[0]:
        ma = grow(ma, nm, 2 * nm)
        mb = grow(mb, nm, 2 * nm)
        mt = grow(mt, nm, 2 * nm)
        mg = grow(mg, nm, 2 * nm)
    ma[nm] = a
    mb[nm] = b
    mt[nm] = t
    mg[nm] = g
    return ma, mb, mt, mg, nm + 1


# ------------------------------------------------------------------------------------------ word rewrite


@nb.njit(cache=True, inline="always")
def merge_in_word(sym, start, end, a, b, t, changes):
    """Rewrite the word sym[start:end] (int32 ids) in place, replacing each (a, b) by t left to right,
    non-overlapping ("a a a" under (a, a) becomes "t a"). Each replacement changes the pairs beside it:
    the pair (left neighbour, a) becomes (left neighbour, t) and (b, right neighbour) becomes
    (t, right neighbour). These go to changes (int32, rows of (old left, old right, new left, new right),
    at least 2 * (end - start) rows) in the order they happen. Returns (new end, number of changes)."""
    nch = 0
    out = start
    k = start
    while k < end:
        if k + 1 < end and sym[k] == a and sym[k + 1] == b:
            if out > start:
                x = sym[out - 1]  # t itself after an earlier replacement: "a b a b" -> (t, a) -> (t, t)
                changes[nch, 0] = x
                changes[nch, 1] = a
                changes[nch, 2] = x
                changes[nch, 3] = t
                nch += 1
            if k + 2 < end:
                y = sym[k + 2]
                changes[nch, 0] = b
                changes[nch, 1] = y
                changes[nch, 2] = t
                changes[nch, 3] = y
                nch += 1
            sym[out] = t
            out += 1
            k += 2
        else:
            sym[out] = sym[k]
            out += 1
            k += 1
    return out, nch


# ------------------------------------------------------------------------------------------ pair rows
# The layout of BPE training's pair table, where each merge touches a few random pairs and words and the time
# goes in cache misses: everything about a pair is one row of pt (int64, cap x 4): key (as `pair_key`, -1:
# empty slot), count, the offset of its word list in the pool lw (int32), and its list length (low 32 bits)
# with the step of its last touch (high 32 bits). A word list is a vector, not a linked list: it holds n words
# in room for `list_room(n)`, so walking it reads memory in order and never chases pointers; a full list
# moves to the end of the pool with twice the room, and the lists of spent pairs are garbage until
# `rows_compact` copies the live lists into a new pool. Each word is one row of wr (int64, n_words x 4):
# start, length, count, and the step that last rewrote it.

_LOW = 0xFFFFFFFF


@nb.njit(cache=True, inline="always")
def list_room(n):
    """Room of a word list holding n words: 4, then the next power of two (full at n >= 4, a power of two)."""
    room = 4
    while room < n:
        room *= 2
    return room


@nb.njit(cache=True)
def new_pair_rows(cap):
    """An empty row table of cap slots (a power of two)."""
    pt = np.zeros((cap, 4), np.int64)
    pt[:, 0] = -1
    return pt


@nb.njit(cache=True, inline="always")
def row_slot(pt, key):
    """The row holding key, or the empty row where it would go."""
    mask = pt.shape[0] - 1
    i = pair_home(key, mask)
    while pt[i, 0] != -1 and pt[i, 0] != key:
        i = (i + 1) & mask
    return i


@nb.njit(cache=True, inline="always")
def row_insert(pt, key, used):
    """Row of key, claimed (count 0, empty list) if new; the caller checked `pair_room`. Returns (row, used)."""
    j = row_slot(pt, key)
    if pt[j, 0] == -1:
        pt[j, 0] = key
        pt[j, 1] = 0
        pt[j, 2] = 0
        pt[j, 3] = 0
        used += 1
    return j, used


@nb.njit(cache=True, inline="always")
def row_len(pt, j):
    return pt[j, 3] & _LOW


@nb.njit(cache=True, inline="always")
def row_touch(pt, j, step, touched, nt):
    """Note row j once per step (touched[:nt]), so that its queue entry is refreshed when the step ends.
    Returns (touched, nt)."""
    if (pt[j, 3] >> 32) != step:
        pt[j, 3] = (np.int64(step) << 32) | (pt[j, 3] & _LOW)
        touched, nt = note(touched, nt, j)
    return touched, nt


@nb.njit(cache=True, inline="always")
def row_push_word(pt, j, w, lw, lused, garbage):
    """Append word w to row j's list unless it is the last one there, moving a full list to the end of the
    pool (growing the pool, offsets kept). Returns (lw, lused, garbage)."""
    n = pt[j, 3] & _LOW
    off = pt[j, 2]
    if n > 0 and lw[off + n - 1] == w:
        return lw, lused, garbage
    if n == 0 or (n >= 4 and (n & (n - 1)) == 0):
        room = 4 if n == 0 else 2 * n
        if lused + room > lw.shape[0]:
            lw = grow(lw, lused, max(2 * lw.shape[0], lused + room))
        for k in range(n):
            lw[lused + k] = lw[off + k]
        if n > 0:
            garbage += n
        off = lused
        lused += room
        pt[j, 2] = off
    lw[off + n] = w
    pt[j, 3] += 1
    return lw, lused, garbage


@nb.njit(cache=True, inline="always")
def rows_apply_changes(pt, used, lw, lused, garbage, touched, nt, changes, nch, w, weight, step):
    """Apply the pair changes of word w (from `merge_in_word`) to the row table: each new pair gets w on its
    list, the old pair loses and the new pair gains `weight` (w's count), the new pair being touched for the
    queue. A word of weight 0 (parity's dev words) only joins the lists. The caller checked `pair_room`.
    Returns (used, lw, lused, garbage, touched, nt)."""
    for row in range(nch):
        j, used = row_insert(pt, pair_key(changes[row, 2], changes[row, 3]), used)
        lw, lused, garbage = row_push_word(pt, j, w, lw, lused, garbage)
        if weight != 0:
            pt[row_slot(pt, pair_key(changes[row, 0], changes[row, 1])), 1] -= weight
            pt[j, 1] += weight
            touched, nt = row_touch(pt, j, step, touched, nt)
    return used, lw, lused, garbage, touched, nt


@nb.njit(cache=True, inline="always")
def prefetch_words(lw, off, i, n, wr, sym):
    """While the loop over a word list (n words at lw[off:]) is at word i: the words a few places ahead, their
    rows, then (rows in the cache by then) their symbols; the misses of the next words then overlap the
    rewrite of this one."""
    if i + 8 < n:
        prefetch(wr, lw[off + i + 8])
    if i + 4 < n:
        prefetch(sym, wr[lw[off + i + 4], 0])


@nb.njit(cache=True)
def rows_grow(pt, need, drop_spent):
    """The row table rehashed with room for `need` more pairs; drop_spent: without the pairs whose count fell to
    zero (no word holds them). Returns (pt, used, words of the dropped lists)."""
    live = 0
    for i in range(pt.shape[0]):
        if pt[i, 0] != -1 and (pt[i, 1] > 0 or not drop_spent):
            live += 1
    cap = pt.shape[0]
    while 10 * (live + need) > 7 * cap:
        cap *= 2
    out = new_pair_rows(cap)
    dropped = 0
    for i in range(pt.shape[0]):
        if pt[i, 0] == -1:
            continue
        if pt[i, 1] <= 0 and drop_spent:
            dropped += list_room(pt[i, 3] & _LOW) if (pt[i, 3] & _LOW) > 0 else 0
            continue
        j = row_slot(out, pt[i, 0])
        for c in range(4):
            out[j, c] = pt[i, c]
    return out, live, dropped


@nb.njit(cache=True)
def rows_compact(pt, lw, lused, keep_uncounted):
    """The word lists of the pairs with a positive count copied into a new pool, each in its `list_room`;
    the others emptied. keep_uncounted: keep every list that is not empty (parity training: a pair held only
    by dev words, which are not counted, has a count of zero and needs its list; a spent pair's list was
    emptied when it was merged). Returns (lw, lused)."""
    total = 0
    for i in range(pt.shape[0]):
        if pt[i, 0] != -1 and (pt[i, 1] > 0 or keep_uncounted) and (pt[i, 3] & _LOW) > 0:
            total += list_room(pt[i, 3] & _LOW)
    out = np.empty(max(1024, 2 * total), np.int32)
    used = 0
    for i in range(pt.shape[0]):
        if pt[i, 0] == -1:
            continue
        n = pt[i, 3] & _LOW
        if (pt[i, 1] <= 0 and not keep_uncounted) or n == 0:
            pt[i, 3] &= ~np.int64(_LOW)
            continue
        off = pt[i, 2]
        for k in range(n):
            out[used + k] = lw[off + k]
        pt[i, 2] = used
        used += list_room(n)
    return out, used


# The queue of a row table: a max-heap of (count, pair key) rows in hq (int64, cap x 2), best first: the highest
# count, then the smallest key, i.e. the smallest (left, right). Four children per entry, side by side (half
# the levels of a binary heap, and a level's compares in one or two cache lines). Lazy like the three-array
# heap: only a count that grew is pushed, and an entry whose count is no longer current is fixed when it
# reaches the top (`queue_pop_current`).


@nb.njit(cache=True, inline="always")
def queue_before(c1, k1, c2, k2):
    """Entry (c1, k1) comes out before (c2, k2)."""
    return c1 > c2 or (c1 == c2 and k1 < k2)


@nb.njit(cache=True, inline="always")
def queue_down(hq, n, i):
    """Restore the order below entry i (after it was replaced by a worse one)."""
    c = hq[i, 0]
    key = hq[i, 1]
    while True:
        ch = 4 * i + 1
        if ch >= n:
            break
        m = ch
        mc = hq[ch, 0]
        mk = hq[ch, 1]
        for d in range(ch + 1, min(ch + 4, n)):
            if queue_before(hq[d, 0], hq[d, 1], mc, mk):
                m = d
                mc = hq[d, 0]
                mk = hq[d, 1]
        if not queue_before(mc, mk, c, key):
            break
        hq[i, 0] = mc
        hq[i, 1] = mk
        i = m
    hq[i, 0] = c
    hq[i, 1] = key


@nb.njit(cache=True, inline="always")
def queue_push(hq, n, c, key):
    """Add (c, key), doubling hq when full. Returns (hq, n + 1)."""
    if n >= hq.shape[0]:
        hq = grow_2d(hq, n, max(16, 2 * n))
    i = n
    while i > 0:
        p = (i - 1) >> 2
        if not queue_before(c, key, hq[p, 0], hq[p, 1]):
            break
        hq[i, 0] = hq[p, 0]
        hq[i, 1] = hq[p, 1]
        i = p
    hq[i, 0] = c
    hq[i, 1] = key
    return hq, n + 1


@nb.njit(cache=True)
def queue_build(pt, hq):
    """Fill hq with (count, key) of every row with a positive count and heapify it; the caller guarantees
    the room. Returns n."""
    n = 0
    for i in range(pt.shape[0]):
        if pt[i, 0] != -1 and pt[i, 1] > 0:
            hq[n, 0] = pt[i, 1]
            hq[n, 1] = pt[i, 0]
            n += 1
    for i in range((n - 2) // 4, -1, -1):
        queue_down(hq, n, i)
    return n


@nb.njit(cache=True)
def new_queue(pt, used):
    """The queue of every pair of the row table (`used` rows taken) with a positive count, with room for as
    many again. Returns (hq, n)."""
    hq = np.zeros((max(1024, 2 * used), 2), np.int64)
    return hq, queue_build(pt, hq)


@nb.njit(cache=True, inline="always")
def queue_pop_current(hq, n, pt):
    """Pop the best pair whose queued count is still its count in the row table; a stale entry goes back at
    its current count (dropped at zero). Returns (n, found, count, key)."""
    while n > 0:
        c = hq[0, 0]
        key = hq[0, 1]
        cur = pt[row_slot(pt, key), 1]
        if c == cur:
            n -= 1
            if n > 0:
                hq[0, 0] = hq[n, 0]
                hq[0, 1] = hq[n, 1]
                queue_down(hq, n, 0)
            return n, True, c, key
        if cur > 0:
            hq[0, 0] = cur
        else:
            n -= 1
            hq[0, 0] = hq[n, 0]
            hq[0, 1] = hq[n, 1]
        if n > 0:
            queue_down(hq, n, 0)
    return n, False, np.int64(0), np.int64(0)


@nb.njit(cache=True)
def word_rows(wstart, wcount):
    """wr (see above) of the words sym[wstart[w]:wstart[w + 1]] with counts wcount."""
    n = wcount.shape[0]
    wr = np.zeros((n, 4), np.int64)
    for w in range(n):
        wr[w, 0] = wstart[w]
        wr[w, 1] = wstart[w + 1] - wstart[w]
        wr[w, 2] = wcount[w]
    return wr


@nb.njit(cache=True)
def count_pair_rows(sym, wr):
    """The row table of every adjacent pair of every word (counts weighted by the word counts) with the word
    lists, in word order. Returns (pt, used, lw, lused)."""
    n_sym = 1
    for k in range(sym.shape[0]):
        n_sym = max(n_sym, sym[k] + 1)
    n_words = wr.shape[0]
    if n_sym > _DENSE_SYMBOLS:
        # replayed merges or many special tokens: the table grows as pairs appear. Two passes, as the dense
        # table below: counts and list lengths first (column 2 holds 1 + the last word counted meanwhile), then
        # each list laid out at its final room and filled, so no list moves and the pool never doubles (a
        # superword stage 2 has millions of pairs, most in one word)
        pt = new_pair_rows(1 << 12)
        used = 0
        for w in range(n_words):
            s = wr[w, 0]
            for k in range(s, s + wr[w, 1] - 1):
                if not pair_room(pt[:, 0], used, 1):
                    pt, used, _ = rows_grow(pt, pt.shape[0] // 2, False)
                j, used = row_insert(pt, pair_key(sym[k], sym[k + 1]), used)
                pt[j, 1] += wr[w, 2]
                if pt[j, 2] != w + 1:
                    pt[j, 2] = w + 1
                    pt[j, 3] += 1
        total = 0
        for j in range(pt.shape[0]):
            if pt[j, 0] != -1:
                total += list_room(pt[j, 3])
        lw = np.empty(max(1024, total + total // 2), np.int32)
        lused = 0
        for j in range(pt.shape[0]):
            if pt[j, 0] != -1:
                room = list_room(pt[j, 3])
                pt[j, 2] = lused
                pt[j, 3] = 0
                lused += room
        for w in range(n_words):
            s = wr[w, 0]
            for k in range(s, s + wr[w, 1] - 1):
                j = row_slot(pt, pair_key(sym[k], sym[k + 1]))
                n = pt[j, 3]
                if n == 0 or lw[pt[j, 2] + n - 1] != w:
                    lw[pt[j, 2] + n] = w
                    pt[j, 3] = n + 1
        return pt, used, lw, lused
    # the pairs of the first training (bytes and a few specials) are counted in a dense table first, then
    # their lists laid out whole: no hashing and no list moves per pair occurrence
    nd = n_sym * n_sym
    dc = np.zeros(nd, np.int64)
    dn = np.zeros(nd, np.int64)  # distinct words holding the pair
    dw = np.zeros(nd, np.int32)  # 1 + the last word counted in dn
    for w in range(n_words):
        s = wr[w, 0]
        c = wr[w, 2]
        for k in range(s, s + wr[w, 1] - 1):
            d = sym[k] * n_sym + sym[k + 1]
            dc[d] += c
            if dw[d] != w + 1:
                dw[d] = w + 1
                dn[d] += 1
    distinct = 0
    total = 0
    for d in range(nd):
        if dn[d] > 0:
            distinct += 1
            total += list_room(dn[d])
    cap = 1 << 12
    while 10 * (2 * distinct + 1) > 7 * cap:
        cap *= 2
    pt = new_pair_rows(cap)
    lw = np.empty(max(1024, total + total // 2), np.int32)
    slot = np.zeros(nd, np.int64)
    used = 0
    lused = 0
    for d in range(nd):
        if dn[d] > 0:
            j, used = row_insert(pt, pair_key(d // n_sym, d % n_sym), used)
            pt[j, 1] = dc[d]
            pt[j, 2] = lused
            lused += list_room(dn[d])
            slot[d] = j
            dw[d] = 0
    for w in range(n_words):
        s = wr[w, 0]
        for k in range(s, s + wr[w, 1] - 1):
            d = sym[k] * n_sym + sym[k + 1]
            if dw[d] != w + 1:
                dw[d] = w + 1
                j = slot[d]
                lw[pt[j, 2] + (pt[j, 3] & _LOW)] = w
                pt[j, 3] += 1
    return pt, used, lw, lused
