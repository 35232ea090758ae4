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

from .bpe import _hdown, _hup, _pkey, _pslot, _thash


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
            key = _pkey(sym[k], sym[k + 1])
            i = _pslot(pk, key, pk.shape[0] - 1)
            if pk[i] == -1:
                pk[i] = key
                pused += 1
            if ph[i] == -1 or nw[ph[i]] != w:
                if nused >= nw.shape[0]:
                    g2 = np.zeros(nw.shape[0] * 2, np.int32)
                    g2[:nused] = nw[:nused]
                    nw = g2
                    g2 = np.full(nn.shape[0] * 2, -1, np.int32)
                    g2[:nused] = nn[:nused]
                    nn = g2
                nw[nused] = w
                nn[nused] = ph[i]
                ph[i] = nused
                nused += 1
            if wdev[w]:
                continue
            pc[i] += wcount[w]
            if 2 * (gused + 1) > gk.shape[0]:
                gk, gc, gh, gm = _grow_table(gk, gc, gh, gm)
            gkey = _gkey(wgroup[w], sym[k], sym[k + 1])
            j = _pslot(gk, gkey, gk.shape[0] - 1)
            if gk[j] == -1:
                gk[j] = gkey
                gused += 1
            gc[j] += wcount[w]
    for i in range(pk.shape[0]):
        if pk[i] != -1 and pc[i] > 0:
            if hn >= hc.shape[0]:
                h2 = np.zeros(2 * hn, np.int64)
                h2[:hn] = hc[:hn]
                hc = h2
                a2 = np.zeros(2 * hn, np.int32)
                a2[:hn] = ha[:hn]
                ha = a2
                a2 = np.zeros(2 * hn, np.int32)
                a2[:hn] = hb[:hn]
                hb = a2
            hc[hn] = pc[i]
            ha[hn] = np.int32(pk[i] >> 32)
            hb[hn] = np.int32(pk[i] & 0xFFFFFFFF)
            _hup(hc, ha, hb, hn)
            hn += 1
    for j in range(gk.shape[0]):
        if gk[j] != -1 and gc[j] > 0:
            g = np.int64(gk[j] >> 50) - 1
            qc, qa, qb = _qpush(qc, qa, qb, qn, g, gc[j], np.int32((gk[j] >> 25) & 0x1FFFFFF),
                                np.int32(gk[j] & 0x1FFFFFF))

    while n_tokens < vocab_size:
        chosen_group = -1
        found = False
        if nm < global_merges:
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
                found = c >= 1 and c >= min_frequency
                break
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
        la = tok_len[a]
        lb = tok_len[b]
        n_new = la + lb
        if pool_used + n_new > tok_pool.shape[0]:
            g8 = np.zeros(max(2 * tok_pool.shape[0], pool_used + n_new + 1024), np.uint8)
            g8[:pool_used] = tok_pool[:pool_used]
            tok_pool = g8
        tok_pool[pool_used:pool_used + la] = tok_pool[tok_off[a]:tok_off[a] + la]
        tok_pool[pool_used + la:pool_used + n_new] = tok_pool[tok_off[b]:tok_off[b] + lb]
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
                        new = _pkey(nx, ny)
                        j = _pslot(pk, new, pmask)
                        if pk[j] == -1:
                            pk[j] = new
                            pused += 1
                        if ph[j] == -1 or nw[ph[j]] != w:
                            if nused >= nw.shape[0]:
                                g2 = np.zeros(nw.shape[0] * 2, np.int32)
                                g2[:nused] = nw[:nused]
                                nw = g2
                                g2 = np.full(nn.shape[0] * 2, -1, np.int32)
                                g2[:nused] = nn[:nused]
                                nn = g2
                            nw[nused] = w
                            nn[nused] = ph[j]
                            ph[j] = nused
                            nused += 1
                        if dev:
                            continue
                        pc[_pslot(pk, _pkey(ox, oy), pmask)] -= cw
                        pc[j] += cw
                        if pm[j] != step:
                            pm[j] = step
                            if nt >= touched.shape[0]:
                                touched = np.concatenate((touched, np.zeros(nt, np.int64)))
                            touched[nt] = j
                            nt += 1
                        gc[_pslot(gk, _gkey(grp, ox, oy), gmask)] -= cw
                        gnew = _gkey(grp, nx, ny)
                        q = _pslot(gk, gnew, gmask)
                        if gk[q] == -1:
                            gk[q] = gnew
                            gused += 1
                        gc[q] += cw
                        if gm[q] != step:
                            gm[q] = step
                            if ngt >= gtouched.shape[0]:
                                gtouched = np.concatenate((gtouched, np.zeros(ngt, np.int64)))
                            gtouched[ngt] = q
                            ngt += 1
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
                if hn >= hc.shape[0]:
                    hc = np.concatenate((hc, np.zeros(hn, np.int64)))
                    ha = np.concatenate((ha, np.zeros(hn, np.int32)))
                    hb = np.concatenate((hb, np.zeros(hn, np.int32)))
                hc[hn] = pc[j]
                ha[hn] = np.int32(pk[j] >> 32)
                hb[hn] = np.int32(pk[j] & 0xFFFFFFFF)
                _hup(hc, ha, hb, hn)
                hn += 1
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
