"""Parity-aware BPE (Foroutan et al. 2025) in numba: at each merge, the language whose parallel dev set is
currently longest in tokens (relative to its target) picks the merge: its most frequent pair in its own
training words. With global_merges = M, the first M merges use the ordinary global objective (hybrid).

Words carry a language (group) id; dev words are merged like all others but count only toward their
language's dev length, never toward pair counts. Pair counts are kept globally (for the global phase and
the word lists) and per language (a table keyed by language and pair, and one lazy max-queue per language).
Ties as in the standard trainer: highest count, then the smallest (left id, right id). The plain reference
is `bpe_parity_reference`.
"""

from __future__ import annotations


import numba as nb
import numpy as np

from .bpe import (_hdown, _hpop_live, _hpush, _hup, _pinsert, _pkey, _pslot, _token_concat, _token_id,
                  _token_table, _touch, _wlink)


@nb.njit
def _grow_table(pk, pc, ph, pm):
    cap = pk.shape[0] * 2
    nk = np.full(cap, -1, np.int64)
    nc = np.zeros(cap, np.int64)
    nh = np.full(cap, -1, np.int32)
    nm = np.zeros(cap, np.int32)
    for i in range(pk.shape[0]):
        if pk[i] != -1:
            j = _pslot(nk, pk[i], cap - 1)
            nk[j] = pk[i]
            nc[j] = pc[i]
            nh[j] = ph[i]
            nm[j] = pm[i]
    return nk, nc, nh, nm


@nb.njit(inline="always")
def _gkey(g, a, b):
    return (np.int64(g + 1) << 50) | (np.int64(a) << 25) | np.int64(b)


@nb.njit
def _qpush(hc, ha, hb, hn, g, c, a, b):
    """Push onto language g's queue (rows of 2-D arrays), growing every row when one is full."""
    if hn[g] >= hc.shape[1]:
        cap = hc.shape[1] * 2
        h2 = np.zeros((hc.shape[0], cap), np.int64)
        h2[:, :hc.shape[1]] = hc
        hc = h2
        a2 = np.zeros((ha.shape[0], cap), np.int32)
        a2[:, :ha.shape[1]] = ha
        ha = a2
        b2 = np.zeros((hb.shape[0], cap), np.int32)
        b2[:, :hb.shape[1]] = hb
        hb = b2
    n = hn[g]
    hc[g, n] = c
    ha[g, n] = a
    hb[g, n] = b
    _hup(hc[g], ha[g], hb[g], n)
    hn[g] = n + 1
    return hc, ha, hb


@nb.njit
def _qpop(hc, ha, hb, hn, g):
    c = hc[g, 0]
    a = ha[g, 0]
    b = hb[g, 0]
    n = hn[g] - 1
    hn[g] = n
    if n > 0:
        hc[g, 0] = hc[g, n]
        ha[g, 0] = ha[g, n]
        hb[g, 0] = hb[g, n]
        _hdown(hc[g], ha[g], hb[g], n, 0)
    return c, a, b


@nb.njit(cache=True, nogil=True)
def bpe_train_parity(sym, wstart, wcount, wgroup, wdev, n_groups, target, tok_pool, tok_off, tok_len,
                     n_tokens, vocab_size, min_frequency, global_merges, progress):
    """Parity-aware merge loop. wgroup: language of each word; wdev: 1 for dev words; target: float64
    weight per language (dev length / target is compared). Returns (merge_a, merge_b, merge_new,
    merge_group (-1: a global merge), tok_pool, tok_off, tok_len, n_tokens, dev_lengths)."""
    n_words = wcount.shape[0]
    G = n_groups
    wlen = np.empty(n_words, np.int32)
    for w in range(n_words):
        wlen[w] = wstart[w + 1] - wstart[w]
    wmark = np.zeros(n_words, np.int32)
    devlen = np.zeros(G, np.int64)
    for w in range(n_words):
        if wdev[w]:
            devlen[wgroup[w]] += wcount[w] * wlen[w]

    cap_tok = max(vocab_size, n_tokens) + 16
    tok_off, tok_len, pool_used, th, tid, tmask = _token_table(tok_pool, tok_off, tok_len, n_tokens, cap_tok)

    # global pairs (counts from training words; word lists for every word) and per-language counts
    pk = np.full(1 << 12, -1, np.int64)
    pc = np.zeros(1 << 12, np.int64)
    ph = np.full(1 << 12, -1, np.int32)
    pm = np.zeros(1 << 12, np.int32)
    pused = 0
    gk = np.full(1 << 12, -1, np.int64)
    gc = np.zeros(1 << 12, np.int64)
    gh = np.full(1 << 12, -1, np.int32)  # unused lists, kept for the shared grow helper
    gm = np.zeros(1 << 12, np.int32)
    gused = 0
    nw = np.zeros(1024, np.int32)
    nn = np.full(1024, -1, np.int32)
    nused = 0
    touched = np.zeros(1024, np.int64)
    gtouched = np.zeros(1024, np.int64)

    hc = np.zeros(1024, np.int64)
    ha = np.zeros(1024, np.int32)
    hb = np.zeros(1024, np.int32)
    hn = 0
    qc = np.zeros((G, 64), np.int64)
    qa = np.zeros((G, 64), np.int32)
    qb = np.zeros((G, 64), np.int32)
    qn = np.zeros(G, np.int64)

    mcap = max(16, vocab_size - n_tokens + 16)
    ma = np.zeros(mcap, np.int32)
    mb = np.zeros(mcap, np.int32)
    mt = np.zeros(mcap, np.int32)
    mg = np.zeros(mcap, np.int32)
    nm = 0
    exhausted = np.zeros(G, np.bool_)

    # step 0 counts the initial pairs through the same delta path as merges: every pair of every word is
    # a +count change at "step 0"
    step = 0
    for w in range(n_words):
        s = wstart[w]
        for k in range(s, s + wlen[w] - 1):
            if 2 * (pused + 1) > pk.shape[0]:
                pk, pc, ph, pm = _grow_table(pk, pc, ph, pm)
            i, pused = _pinsert(pk, _pkey(sym[k], sym[k + 1]), pk.shape[0] - 1, pused)
            if ph[i] == -1 or nw[ph[i]] != w:
                # nodes are never recycled here (free = -1): spent lists are only cut off
                nw, nn, nused, _unused, node = _wlink(nw, nn, nused, -1, ph[i], w)
                ph[i] = node
            if wdev[w]:
                continue
            pc[i] += wcount[w]
            if 2 * (gused + 1) > gk.shape[0]:
                gk, gc, gh, gm = _grow_table(gk, gc, gh, gm)
            j, gused = _pinsert(gk, _gkey(wgroup[w], sym[k], sym[k + 1]), gk.shape[0] - 1, gused)
            gc[j] += wcount[w]
    for i in range(pk.shape[0]):
        if pk[i] != -1 and pc[i] > 0:
            hc, ha, hb, hn = _hpush(hc, ha, hb, hn, pc[i], np.int32(pk[i] >> 32), np.int32(pk[i] & 0xFFFFFFFF))
    for j in range(gk.shape[0]):
        if gk[j] != -1 and gc[j] > 0:
            g = np.int64(gk[j] >> 50) - 1
            qc, qa, qb = _qpush(qc, qa, qb, qn, g, gc[j], np.int32((gk[j] >> 25) & 0x1FFFFFF),
                                np.int32(gk[j] & 0x1FFFFFF))

    while n_tokens < vocab_size:
        chosen_group = -1
        found = False
        if nm < global_merges:
            hn, found, c, a, b = _hpop_live(hc, ha, hb, hn, pk, pc)
            found = found and c >= 1 and c >= min_frequency
        else:
            while not found:
                # the language furthest above its target
                g = -1
                best = 0.0
                for q in range(G):
                    if not exhausted[q]:
                        r = devlen[q] / target[q]
                        if g == -1 or r > best:
                            g = q
                            best = r
                if g == -1:
                    break
                while qn[g] > 0:
                    c, a, b = _qpop(qc, qa, qb, qn, g)
                    cur = gc[_pslot(gk, _gkey(g, a, b), gk.shape[0] - 1)]
                    if c != cur:
                        if cur > 0:
                            qc, qa, qb = _qpush(qc, qa, qb, qn, g, cur, a, b)
                        continue
                    found = c >= 1 and c >= min_frequency
                    break
                if found:
                    chosen_group = g
                else:
                    exhausted[g] = True
        if not found:
            break
        step += 1
        tok_pool, n_new = _token_concat(tok_pool, tok_off, tok_len, pool_used, a, b)
        t, n_tokens, pool_used = _token_id(tok_pool, tok_off, tok_len, pool_used, n_new, n_tokens, th, tid, tmask)
        if nm >= ma.shape[0]:
            ma = np.concatenate((ma, np.zeros(nm, np.int32)))
            mb = np.concatenate((mb, np.zeros(nm, np.int32)))
            mt = np.concatenate((mt, np.zeros(nm, np.int32)))
            mg = np.concatenate((mg, np.zeros(nm, np.int32)))
        ma[nm] = a
        mb[nm] = b
        mt[nm] = t
        mg[nm] = chosen_group
        nm += 1

        while 2 * (pused + 2 * n_tokens + 2) > pk.shape[0]:
            pk, pc, ph, pm = _grow_table(pk, pc, ph, pm)
        while 2 * (gused + 2 * n_tokens * G + 2) > gk.shape[0]:
            gk, gc, gh, gm = _grow_table(gk, gc, gh, gm)
        pmask = pk.shape[0] - 1
        gmask = gk.shape[0] - 1
        slot = _pslot(pk, _pkey(a, b), pmask)
        nt = 0
        ngt = 0
        node = ph[slot] if pk[slot] != -1 else -1
        while node != -1:
            w = nw[node]
            node = nn[node]
            if wmark[w] == step:
                continue
            wmark[w] = step
            cw = wcount[w]
            dev = wdev[w]
            grp = wgroup[w]
            s = wstart[w]
            end = s + wlen[w]
            out = s
            k = s
            while k < end:
                if k + 1 < end and sym[k] == a and sym[k + 1] == b:
                    if dev:
                        devlen[grp] -= cw
                    for side in range(2):
                        if side == 0:
                            if out == s:
                                continue
                            x = sym[out - 1]
                            ox, oy, nx, ny = x, a, x, t
                        else:
                            if k + 2 >= end:
                                continue
                            y = sym[k + 2]
                            ox, oy, nx, ny = b, y, t, y
                        j, pused = _pinsert(pk, _pkey(nx, ny), pmask, pused)
                        if ph[j] == -1 or nw[ph[j]] != w:
                            nw, nn, nused, _unused, fnode = _wlink(nw, nn, nused, -1, ph[j], w)
                            ph[j] = fnode
                        if dev:
                            continue
                        pc[_pslot(pk, _pkey(ox, oy), pmask)] -= cw
                        pc[j] += cw
                        touched, nt = _touch(pm, j, step, touched, nt)
                        gc[_pslot(gk, _gkey(grp, ox, oy), gmask)] -= cw
                        q, gused = _pinsert(gk, _gkey(grp, nx, ny), gmask, gused)
                        gc[q] += cw
                        gtouched, ngt = _touch(gm, q, step, gtouched, ngt)
                    sym[out] = t
                    out += 1
                    k += 2
                else:
                    sym[out] = sym[k]
                    out += 1
                    k += 1
            wlen[w] = out - s
        if pk[slot] != -1:
            pc[slot] = 0
            ph[slot] = -1
        for g in range(G):
            q = _pslot(gk, _gkey(g, a, b), gmask)
            if gk[q] != -1:
                gc[q] = 0
        for q in range(nt):
            j = touched[q]
            if pc[j] > 0:
                hc, ha, hb, hn = _hpush(hc, ha, hb, hn, pc[j], np.int32(pk[j] >> 32), np.int32(pk[j] & 0xFFFFFFFF))
        for q in range(ngt):
            j = gtouched[q]
            if gc[j] > 0:
                g = np.int64(gk[j] >> 50) - 1
                qc, qa, qb = _qpush(qc, qa, qb, qn, g, gc[j], np.int32((gk[j] >> 25) & 0x1FFFFFF),
                                    np.int32(gk[j] & 0x1FFFFFF))
        progress[0] = nm
    return ma[:nm].copy(), mb[:nm].copy(), mt[:nm].copy(), mg[:nm].copy(), tok_pool[:pool_used].copy(), \
        tok_off[:n_tokens].copy(), tok_len[:n_tokens].copy(), n_tokens, devlen


def bpe_parity_reference(words: list[tuple[tuple[int, ...], int, int, bool]], n_groups: int,
                         token_bytes: list[bytes], vocab_size: int, *, target=None, min_frequency: int = 0,
                         global_merges: int = 0):
    """Plain-Python parity-aware BPE. words: (symbols, count, group, is_dev). Returns (merges as
    (a, b, new, group or -1), token bytes, dev lengths)."""
    target = list(target) if target is not None else [1.0] * n_groups
    toks = list(token_bytes)
    by_bytes = {b: i for i, b in enumerate(toks)}
    ws = [list(w[0]) for w in words]

    def counts(group=None):
        out: dict = {}
        for (_, c, g, dev), w in zip(words, ws):
            if dev or (group is not None and g != group):
                continue
            for p in zip(w, w[1:]):
                out[p] = out.get(p, 0) + c
        return out

    merges = []
    exhausted: set = set()
    while len(toks) < vocab_size:
        group = -1
        if len(merges) < global_merges:
            pc = counts()
        else:
            devlen = [0] * n_groups
            for (_, c, g, dev), w in zip(words, ws):
                if dev:
                    devlen[g] += c * len(w)
            live = [g for g in range(n_groups) if g not in exhausted]
            pc = {}
            while live and not pc:
                group = max(live, key=lambda g: (devlen[g] / target[g], -g))
                pc = {p: c for p, c in counts(group).items() if c >= max(1, min_frequency)}
                if not pc:
                    exhausted.add(group)
                    live.remove(group)
        pc = {p: c for p, c in pc.items() if c >= max(1, min_frequency)}
        if not pc:
            break
        (a, b) = min(pc, key=lambda p: (-pc[p], p))
        new = toks[a] + toks[b]
        t = by_bytes.get(new)
        if t is None:
            t = len(toks)
            toks.append(new)
            by_bytes[new] = t
        merges.append((a, b, t, group))
        for i, w in enumerate(ws):
            out, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and w[k] == a and w[k + 1] == b:
                    out.append(t)
                    k += 2
                else:
                    out.append(w[k])
                    k += 1
            ws[i] = out
    devlen = [0] * n_groups
    for (_, c, g, dev), w in zip(words, ws):
        if dev:
            devlen[g] += c * len(w)
    return merges, toks, devlen
