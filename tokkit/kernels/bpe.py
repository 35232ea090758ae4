"""The byte-level BPE merge loop in numba, choosing exactly the merges of Hugging Face's `BpeTrainer`.

Rules reproduced (tokenizers `src/models/bpe/trainer.rs`, `word.rs`):
- ids: special tokens first, then the 256 byte symbols ordered by their byte-level character, then each new
  token in the order it is made; a merge whose string already exists reuses that id (no new token);
- pair counts are over all adjacent symbol pairs of each distinct word, weighted by the word's count;
- the best pair has the highest count, ties go to the smallest (left id, right id);
- training stops when the vocabulary reaches `vocab_size`, or the best count is below 1 or `min_frequency`;
- a merge rewrites each word left to right, non-overlapping, and updates neighbour pair counts.

Unlike HF, words are not tracked with a hash set per pair (the memory blow-up of tokenizers #1345, #1681,
#1824): each pair keeps a singly linked list of the words where it was created, in one pooled array whose
nodes are recycled once the pair is merged, and stale entries are skipped with a per-word step mark.
The plain reference is `bpe_reference`.
"""

from __future__ import annotations

import heapq

import numba as nb
import numpy as np

@nb.njit(inline="always")
def _pkey(a, b):
    return (np.int64(a) << 32) | np.int64(b)


@nb.njit(inline="always")
def _pslot(keys, key, mask):
    i = np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(24)) & mask
    while keys[i] != -1 and keys[i] != key:
        i = (i + 1) & mask
    return i


@nb.njit
def _pgrow(pk, pc, ph, pm, nn, free, need):
    """Rehash the pair table, dropping pairs whose count fell to zero (no word holds them any more; their
    word-list nodes go to the free list), at a size with room for `need` more pairs at half load."""
    live = 0
    for i in range(pk.shape[0]):
        if pk[i] != -1 and pc[i] > 0:
            live += 1
    cap = pk.shape[0]
    while 10 * (live + need) > 7 * cap:  # linear probing stays short up to 70% load
        cap *= 2
    nk = np.full(cap, -1, np.int64)
    nc = np.zeros(cap, np.int64)
    nh = np.full(cap, -1, np.int32)
    nm = np.zeros(cap, np.int32)
    for i in range(pk.shape[0]):
        if pk[i] == -1:
            continue
        if pc[i] <= 0:
            node = ph[i]
            while node != -1:  # recycle the spent list
                nxt = nn[node]
                nn[node] = free
                free = node
                node = nxt
            continue
        j = _pslot(nk, pk[i], cap - 1)
        nk[j] = pk[i]
        nc[j] = pc[i]
        nh[j] = ph[i]
        nm[j] = pm[i]
    return nk, nc, nh, nm, live, free


@nb.njit(inline="always")
def _hgreater(hc, ha, hb, i, j):
    if hc[i] != hc[j]:
        return hc[i] > hc[j]
    if ha[i] != ha[j]:
        return ha[i] < ha[j]
    return hb[i] < hb[j]


@nb.njit
def _hdown(hc, ha, hb, n, i):
    while True:
        l = 2 * i + 1
        if l >= n:
            return
        m = l
        if l + 1 < n and _hgreater(hc, ha, hb, l + 1, l):
            m = l + 1
        if not _hgreater(hc, ha, hb, m, i):
            return
        hc[i], hc[m] = hc[m], hc[i]
        ha[i], ha[m] = ha[m], ha[i]
        hb[i], hb[m] = hb[m], hb[i]
        i = m


@nb.njit
def _hup(hc, ha, hb, i):
    while i > 0:
        p = (i - 1) // 2
        if not _hgreater(hc, ha, hb, i, p):
            return
        hc[i], hc[p] = hc[p], hc[i]
        ha[i], ha[p] = ha[p], ha[i]
        hb[i], hb[p] = hb[p], hb[i]
        i = p


@nb.njit(inline="always")
def _thash(pool, s, n):
    h = np.uint64(0xCBF29CE484222325)
    for k in range(s, s + n):
        h = (h ^ np.uint64(pool[k])) * np.uint64(0x100000001B3)
    return h


# Helpers shared with the parity trainer (bpe_parity.py). Those run per merge or per pair occurrence are
# inlined at numba IR level, as the code was written in place before, so the merge loop makes no real
# calls that pass many arrays (each would cost reference counting and argument packing).


@nb.njit
def _token_table(tok_pool, tok_off, tok_len, n_tokens, cap_tok):
    """Room for cap_tok tokens, the pool bytes in use, and a hash of token bytes -> id (for reusing the id
    of a merge result that already exists). Returns (tok_off, tok_len, pool_used, th, tid, tmask)."""
    if tok_off.shape[0] < cap_tok:
        o2 = np.zeros(cap_tok, np.int64)
        l2 = np.full(cap_tok, -1, np.int32)
        o2[:n_tokens] = tok_off[:n_tokens]
        l2[:n_tokens] = tok_len[:n_tokens]
        tok_off, tok_len = o2, l2
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
            h = _thash(tok_pool, tok_off[t], tok_len[t])
            i = np.int64(h >> np.uint64(20)) & tmask
            while tid[i] != -1:
                i = (i + 1) & tmask
            th[i] = h
            tid[i] = t
    return tok_off, tok_len, pool_used, th, tid, tmask


@nb.njit(inline="always")
def _token_concat(tok_pool, tok_off, tok_len, pool_used, a, b):
    """Spell a + b after the used part of the pool; the bytes stay uncommitted until `_token_id` keeps
    them (superword training may still reject the merge). Returns (tok_pool, n_new)."""
    la = tok_len[a]
    lb = tok_len[b]
    n_new = la + lb
    if pool_used + n_new > tok_pool.shape[0]:
        g8 = np.zeros(max(2 * tok_pool.shape[0], pool_used + n_new + 1024), np.uint8)
        g8[:pool_used] = tok_pool[:pool_used]
        tok_pool = g8
    tok_pool[pool_used:pool_used + la] = tok_pool[tok_off[a]:tok_off[a] + la]
    tok_pool[pool_used + la:pool_used + n_new] = tok_pool[tok_off[b]:tok_off[b] + lb]
    return tok_pool, n_new


@nb.njit(inline="always")
def _token_id(tok_pool, tok_off, tok_len, pool_used, n_new, n_tokens, th, tid, tmask):
    """Id of the token spelled by the n_new bytes at pool_used: an existing token with the same bytes keeps
    its id, as in HF; otherwise a new id, committing the bytes. Returns (t, n_tokens, pool_used)."""
    h = _thash(tok_pool, pool_used, n_new)
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


@nb.njit(inline="always")
def _pinsert(pk, key, mask, used):
    """Slot of key, claimed if new. Returns (slot, used)."""
    j = _pslot(pk, key, mask)
    if pk[j] == -1:
        pk[j] = key
        used += 1
    return j, used


@nb.njit(inline="always")
def _wlink(nw, nn, nused, free, head, w):
    """Prepend word w to a pair's word list (head: its first node), on a recycled node when free != -1.
    Returns (nw, nn, nused, free, new head)."""
    if free != -1:
        node = free
        free = nn[free]
    else:
        if nused >= nw.shape[0]:
            g = np.zeros(nw.shape[0] * 2, np.int32)
            g[:nused] = nw[:nused]
            nw = g
            g = np.full(nn.shape[0] * 2, -1, np.int32)
            g[:nused] = nn[:nused]
            nn = g
        node = nused
        nused += 1
    nw[node] = w
    nn[node] = head
    return nw, nn, nused, free, node


@nb.njit(inline="always")
def _touch(pm, j, step, touched, nt):
    """Note slot j once per step, so that its queue entry is refreshed when the step ends.
    Returns (touched, nt)."""
    if pm[j] != step:
        pm[j] = step
        if nt >= touched.shape[0]:
            g64 = np.zeros(2 * nt, np.int64)
            g64[:nt] = touched[:nt]
            touched = g64
        touched[nt] = j
        nt += 1
    return touched, nt


@nb.njit(inline="always")
def _hpush(hc, ha, hb, hn, c, a, b):
    """Push (c, a, b), doubling the queue when it is full. Returns (hc, ha, hb, hn)."""
    if hn >= hc.shape[0]:
        g64 = np.zeros(2 * hn, np.int64)
        g64[:hn] = hc[:hn]
        hc = g64
        g = np.zeros(2 * hn, np.int32)
        g[:hn] = ha[:hn]
        ha = g
        g = np.zeros(2 * hn, np.int32)
        g[:hn] = hb[:hn]
        hb = g
    hc[hn] = c
    ha[hn] = a
    hb[hn] = b
    _hup(hc, ha, hb, hn)
    return hc, ha, hb, hn + 1


@nb.njit(inline="always")
def _hpop_live(hc, ha, hb, hn, pk, pc):
    """Pop the best pair whose queued count is still its count; a stale entry goes back at its current
    count (dropped at zero), so the queue never needs a decrease-key. Returns (hn, found, c, a, b)."""
    while hn > 0:
        c = hc[0]
        a = ha[0]
        b = hb[0]
        hn -= 1
        if hn > 0:
            hc[0] = hc[hn]
            ha[0] = ha[hn]
            hb[0] = hb[hn]
            _hdown(hc, ha, hb, hn, 0)
        cur = pc[_pslot(pk, _pkey(a, b), pk.shape[0] - 1)]
        if c != cur:
            if cur > 0:
                hc[hn] = cur
                ha[hn] = a
                hb[hn] = b
                _hup(hc, ha, hb, hn)
                hn += 1
            continue
        return hn, True, c, a, b
    return hn, False, np.int64(0), np.int32(0), np.int32(0)


@nb.njit
def _hbuild(pk, pc, hc, ha, hb):
    """Fill the queue with every live pair and heapify it; the caller guarantees the room.
    Returns hn."""
    hn = 0
    for i in range(pk.shape[0]):
        if pk[i] != -1 and pc[i] > 0:
            hc[hn] = pc[i]
            ha[hn] = np.int32(pk[i] >> 32)
            hb[hn] = np.int32(pk[i] & 0xFFFFFFFF)
            hn += 1
    for i in range(hn // 2 - 1, -1, -1):
        _hdown(hc, ha, hb, hn, i)
    return hn


@nb.njit(cache=True, nogil=True)
def bpe_train(sym, wstart, wcount, tok_pool, tok_off, tok_len, n_tokens, vocab_size, min_frequency,
              forced_a, forced_b, progress, max_token_words=0):
    """Run the merge loop.

    sym: int32 symbols of every distinct word, word w at sym[wstart[w]:wstart[w+1]] (rewritten in place);
    wcount: int64 count of each word; tok_pool/tok_off/tok_len: the bytes of the first n_tokens tokens
    (a special token spelled in byte-level characters holds its bytes, so a merge that spells it reuses its
    id as HF does; any other special token has length -1). forced_a/forced_b: merges (by id) applied
    first, in order (resume).
    progress[0] is set to the number of merges done, for a progress bar in another thread.
    max_token_words > 0 (superword training): a chosen pair whose token would span more words (runs of
    non-space bytes) than that, or hold ": ", is skipped, as SuperBPE's stage 2 does.

    Returns (merge_a, merge_b, merge_new, tok_pool, tok_off, tok_len, n_tokens, wlen).
    """
    n_words = wcount.shape[0]
    wlen = np.empty(n_words, np.int32)
    for w in range(n_words):
        wlen[w] = wstart[w + 1] - wstart[w]
    wmark = np.zeros(n_words, np.int32)

    # token strings, for reusing the id of a merge result that already exists
    cap_tok = max(vocab_size, n_tokens) + forced_a.shape[0] + 16
    tok_off, tok_len, pool_used, th, tid, tmask = _token_table(tok_pool, tok_off, tok_len, n_tokens, cap_tok)

    # pair table: key (a << 32 | b) -> count, head of its word list, touched-in-step mark
    total = 0
    for w in range(n_words):
        total += max(0, wlen[w] - 1)
    pcap = 1 << 12  # grows as pairs appear: distinct pairs are far fewer than pair occurrences
    while pcap < min(2 * (total + 1), 1 << 16):
        pcap *= 2
    pk = np.full(pcap, -1, np.int64)
    pc = np.zeros(pcap, np.int64)
    ph = np.full(pcap, -1, np.int32)
    pm = np.zeros(pcap, np.int32)
    pused = 0
    # word-list nodes: word id and next node; recycled through a free list
    ncap = max(1024, total)
    nw = np.zeros(ncap, np.int32)
    nn = np.full(ncap, -1, np.int32)
    nused = 0
    free = -1

    for w in range(n_words):
        s = wstart[w]
        for k in range(s, s + wlen[w] - 1):
            if 10 * (pused + 1) > 7 * pk.shape[0]:
                pk, pc, ph, pm, pused, free = _pgrow(pk, pc, ph, pm, nn, free, pk.shape[0] // 2)
            i, pused = _pinsert(pk, _pkey(sym[k], sym[k + 1]), pk.shape[0] - 1, pused)
            pc[i] += wcount[w]
            if ph[i] == -1 or nw[ph[i]] != w:
                # fresh nodes only, as before any merge (a dropped pair's nodes wait in `free`)
                nw, nn, nused, _unused, node = _wlink(nw, nn, nused, -1, ph[i], w)
                ph[i] = node

    # max-heap of (count, a, b), stale entries fixed lazily when they reach the top
    hcap = max(1024, pused * 2)
    hc = np.zeros(hcap, np.int64)
    ha = np.zeros(hcap, np.int32)
    hb = np.zeros(hcap, np.int32)
    hn = _hbuild(pk, pc, hc, ha, hb)

    mcap = max(16, vocab_size - n_tokens + forced_a.shape[0] + 16)
    ma = np.zeros(mcap, np.int32)
    mb = np.zeros(mcap, np.int32)
    mt = np.zeros(mcap, np.int32)
    nm = 0
    touched = np.zeros(1024, np.int64)
    n_forced = forced_a.shape[0]
    fi = 0
    step = 0
    while fi < n_forced or n_tokens < vocab_size:
        is_forced = fi < n_forced
        if is_forced:
            a = forced_a[fi]
            b = forced_b[fi]
            fi += 1
        else:
            hn, found, c, a, b = _hpop_live(hc, ha, hb, hn, pk, pc)
            if not found or c < 1 or c < min_frequency:
                break
        step += 1
        # the merged token's bytes, and its id (an existing token with the same bytes keeps its id)
        tok_pool, n_new = _token_concat(tok_pool, tok_off, tok_len, pool_used, a, b)
        if max_token_words > 0 and not is_forced:
            words = 0
            bad = False
            prev = np.uint8(32)
            for k in range(pool_used, pool_used + n_new):
                ch = tok_pool[k]
                if ch != 32 and prev == 32:
                    words += 1
                if ch == 32 and prev == 58:
                    bad = True
                prev = ch
            if bad or words > max_token_words:
                continue
        t, n_tokens, pool_used = _token_id(tok_pool, tok_off, tok_len, pool_used, n_new, n_tokens, th, tid, tmask)
        if nm >= ma.shape[0]:
            g = np.zeros(2 * nm, np.int32)
            g[:nm] = ma[:nm]
            ma = g
            g = np.zeros(2 * nm, np.int32)
            g[:nm] = mb[:nm]
            mb = g
            g = np.zeros(2 * nm, np.int32)
            g[:nm] = mt[:nm]
            mt = g
        ma[nm] = a
        mb[nm] = b
        mt[nm] = t
        nm += 1

        # room for the new pairs of this step: at most two per existing token
        if 10 * (pused + 2 * n_tokens + 2) > 7 * pk.shape[0]:
            pk, pc, ph, pm, pused, free = _pgrow(pk, pc, ph, pm, nn, free, 2 * n_tokens + 2 + pused // 2)
        pmask = pk.shape[0] - 1
        slot = _pslot(pk, _pkey(a, b), pmask)
        if pk[slot] == -1:
            progress[0] = nm
            continue
        nt = 0
        node = ph[slot]
        last = -1
        while node != -1:
            w = nw[node]
            last = node
            node = nn[node]
            if wmark[w] == step:
                continue
            wmark[w] = step
            cw = wcount[w]
            s = wstart[w]
            end = s + wlen[w]
            out = s
            k = s
            while k < end:
                if k + 1 < end and sym[k] == a and sym[k + 1] == b:
                    for side in range(2):
                        if side == 0:
                            if out == s:
                                continue
                            x = sym[out - 1]
                            old = _pkey(x, a)
                            new = _pkey(x, t)
                        else:
                            if k + 2 >= end:
                                continue
                            y = sym[k + 2]
                            old = _pkey(b, y)
                            new = _pkey(t, y)
                        j = _pslot(pk, old, pmask)
                        pc[j] -= cw
                        j, pused = _pinsert(pk, new, pmask, pused)
                        pc[j] += cw
                        if ph[j] == -1 or nw[ph[j]] != w:
                            nw, nn, nused, free, fnode = _wlink(nw, nn, nused, free, ph[j], w)
                            ph[j] = fnode
                        touched, nt = _touch(pm, j, step, touched, nt)
                    sym[out] = t
                    out += 1
                    k += 2
                else:
                    sym[out] = sym[k]
                    out += 1
                    k += 1
            wlen[w] = out - s
        # the merged pair is spent: HF leaves a residual count (overlaps such as "aaa") that nothing reads
        # again; zeroing it lets a replayed merge's queue entry die and the queue be rebuilt from counts
        pc[slot] = 0
        # the merged pair's word list is spent: recycle its nodes
        if last != -1:
            nn[last] = free
            free = ph[slot]
            ph[slot] = -1
        for q in range(nt):
            j = touched[q]
            if pc[j] > 0:
                hc, ha, hb, hn = _hpush(hc, ha, hb, hn, pc[j], np.int32(pk[j] >> 32), np.int32(pk[j] & 0xFFFFFFFF))
        if hn > 2 * pused + 4096:
            # mostly stale entries: rebuild the queue from the live counts (the same order, less memory)
            hn = _hbuild(pk, pc, hc, ha, hb)
        progress[0] = nm
    return ma[:nm].copy(), mb[:nm].copy(), mt[:nm].copy(), tok_pool[:pool_used].copy(), \
        tok_off[:n_tokens].copy(), tok_len[:n_tokens].copy(), n_tokens, wlen


def bpe_reference(words: dict[tuple[int, ...], int], token_bytes: list[bytes | None], vocab_size: int,
                  min_frequency: int = 0, forced: list[tuple[int, int]] = ()) -> tuple[list, list]:
    """Plain-Python HF BpeTrainer merge loop on words given as tuples of initial ids.

    token_bytes: bytes of each initial id (None for a special token that no merge can produce).
    Returns (merges as (a, b, new_id), token_bytes extended)."""
    toks = list(token_bytes)
    by_bytes = {b: i for i, b in enumerate(toks) if b is not None}
    ws = [list(w) for w in words]
    counts = list(words.values())
    pairs: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}
    for i, w in enumerate(ws):
        for p in zip(w, w[1:]):
            pairs[p] = pairs.get(p, 0) + counts[i]
            where.setdefault(p, set()).add(i)
    heap = [(-c, p) for p, c in pairs.items() if c > 0]
    heapq.heapify(heap)
    merges = []
    forced = list(forced)
    while forced or len(toks) < vocab_size:
        if forced:
            p = forced.pop(0)
        else:
            while heap:
                negc, p = heapq.heappop(heap)
                if -negc != pairs.get(p, 0):
                    if pairs.get(p, 0) > 0:
                        heapq.heappush(heap, (-pairs[p], p))
                    continue
                break
            else:
                break
            if -negc < 1 or -negc < min_frequency:
                break
        a, b = p
        new = toks[a] + toks[b]
        t = by_bytes.get(new)
        if t is None:
            t = len(toks)
            toks.append(new)
            by_bytes[new] = t
        merges.append((a, b, t))
        changed = set()
        for i in where.pop(p, ()):
            w, c = ws[i], counts[i]
            out, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and w[k] == a and w[k + 1] == b:
                    if out:
                        pairs[(out[-1], a)] -= c
                        q = (out[-1], t)
                        pairs[q] = pairs.get(q, 0) + c
                        where.setdefault(q, set()).add(i)
                        changed.add(q)
                    if k + 2 < len(w):
                        pairs[(b, w[k + 2])] -= c
                        q = (t, w[k + 2])
                        pairs[q] = pairs.get(q, 0) + c
                        where.setdefault(q, set()).add(i)
                        changed.add(q)
                    out.append(t)
                    k += 2
                else:
                    out.append(w[k])
                    k += 1
            ws[i] = out
        pairs[p] = 0  # spent (see the kernel)
        for q in changed:
            if pairs[q] > 0:
                heapq.heappush(heap, (-pairs[q], q))
    return merges, toks
