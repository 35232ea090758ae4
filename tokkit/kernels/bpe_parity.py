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

from . import bpe_core as core
from .bpe import merge_word_reference, token_id_reference


@nb.njit(inline="always")
def _queue_push(qc, qa, qb, qn, g, c, a, b):
    """Push (c, a, b) onto language g's queue, row g of the 2-D arrays qc, qa, qb (qn[g] entries), widening
    every row when this one is full. Returns (qc, qa, qb)."""
    if qn[g] >= qc.shape[1]:
        cols = 2 * qc.shape[1]
        qc = core.grow_rows(qc, cols)
        qa = core.grow_rows(qa, cols)
        qb = core.grow_rows(qb, cols)
    qn[g] = core.heap_insert(qc[g], qa[g], qb[g], qn[g], c, a, b)
    return qc, qa, qb


@nb.njit(inline="always")
def _group_of(key):
    return np.int64(key >> 50) - 1


@nb.njit(cache=True, nogil=True)
def bpe_train_parity(sym, wstart, wcount, wgroup, wdev, n_groups, target, tok_pool, tok_off, tok_len,
                     n_tokens, vocab_size, min_frequency, global_merges, progress):
    """Parity-aware merge loop. wgroup: language of each word; wdev: 1 for dev words; target: float64
    weight per language (dev length / target is compared). Returns (merge_a, merge_b, merge_new,
    merge_group (-1: a global merge), tok_pool, tok_off, tok_len, n_tokens, dev_lengths)."""
    n_words = wcount.shape[0]
    G = n_groups
    wlen, wmark, changes = core.word_state(wstart)
    devlen = np.zeros(G, np.int64)  # each language's dev length in tokens
    for w in range(n_words):
        if wdev[w]:
            devlen[wgroup[w]] += wcount[w] * wlen[w]

    cap_tok = max(vocab_size, n_tokens) + 16
    tok_off, tok_len, pool_used, th, tid, tmask = core.token_table(tok_pool, tok_off, tok_len, n_tokens, cap_tok)

    # global pairs: pk (keys), pc (count over training words), ph (word list over every word), pm (mark)
    pk, pc, ph, pm = core.new_pair_table(1 << 12)
    # per-language pairs, keyed core.group_pair_key(g, a, b): gk, gc (count), gm (mark); gh stays empty (no lists)
    gk, gc, gh, gm = core.new_pair_table(1 << 12)
    gused = 0
    # word-list nodes; never recycled here (free stays -1): spent lists are only cut off
    nw = np.zeros(1024, np.int32)
    nn = np.full(1024, -1, np.int32)
    free = -1
    touched = np.zeros(1024, np.int64)
    gtouched = np.zeros(1024, np.int64)

    # per-language queues: row g of qc/qa/qb, qn[g] entries
    qc = np.zeros((G, 64), np.int64)
    qa = np.zeros((G, 64), np.int32)
    qb = np.zeros((G, 64), np.int32)
    qn = np.zeros(G, np.int64)

    ma, mb, mt, mg = core.new_merge_record(vocab_size - n_tokens + 16)
    nm = 0
    exhausted = np.zeros(G, np.bool_)

    # the initial pairs: every word's pairs go on the word lists, training words' pairs are counted,
    # globally and for their language
    step = 0
    pk, pc, ph, pm, pused, nw, nn, nused = core.count_word_pairs(sym, wstart, wlen, wcount, wdev, pk, pc, ph, pm,
                                                                 0, nw, nn, 0, False)
    for w in range(n_words):
        if wdev[w]:
            continue
        s = wstart[w]
        for k in range(s, s + wlen[w] - 1):
            if not core.pair_room(gk, gused, 1):
                gk, gc, gh, gm, gused, free = core.pair_table_grow(gk, gc, gh, gm, nn, free, gk.shape[0] // 2, False)
            j, gused = core.pair_insert(gk, core.group_pair_key(wgroup[w], sym[k], sym[k + 1]), gused)
            gc[j] += wcount[w]
    hc, ha, hb, hn = core.new_pair_heap(pk, pc, pused)
    for j in range(gk.shape[0]):
        if gk[j] != -1 and gc[j] > 0:
            qc, qa, qb = _queue_push(qc, qa, qb, qn, _group_of(gk[j]), gc[j], np.int32((gk[j] >> 25) & 0x1FFFFFF),
                                     np.int32(gk[j] & 0x1FFFFFF))

    while n_tokens < vocab_size:
        chosen_group = -1
        found = False
        if nm < global_merges:
            hn, found, c, a, b = core.heap_pop_current(hc, ha, hb, hn, pk, pc, -1)
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
                qn[g], found, c, a, b = core.heap_pop_current(qc[g], qa[g], qb[g], qn[g], gk, gc, g)
                found = found and c >= 1 and c >= min_frequency
                if found:
                    chosen_group = g
                else:
                    exhausted[g] = True
        if not found:
            break
        step += 1
        tok_pool, n_new = core.token_concat(tok_pool, tok_off, tok_len, pool_used, a, b)
        t, n_tokens, pool_used = core.token_id(tok_pool, tok_off, tok_len, pool_used, n_new, n_tokens, th, tid, tmask)
        ma, mb, mt, mg, nm = core.record_merge(ma, mb, mt, mg, nm, a, b, t, chosen_group)

        # room for the new pairs of this step: at most two per existing token (and language)
        if not core.pair_room(pk, pused, 2 * n_tokens + 2):
            pk, pc, ph, pm, pused, free = core.pair_table_grow(pk, pc, ph, pm, nn, free, 2 * n_tokens + 2, False)
        if not core.pair_room(gk, gused, 2 * n_tokens * G + 2):
            gk, gc, gh, gm, gused, free = core.pair_table_grow(gk, gc, gh, gm, nn, free, 2 * n_tokens * G + 2, False)
        slot = core.pair_slot(pk, core.pair_key(a, b))
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
            dev = wdev[w] != 0
            grp = wgroup[w]
            s = wstart[w]
            end, nch = core.merge_in_word(sym, s, s + wlen[w], a, b, t, changes)
            if dev:
                devlen[grp] -= cw * (s + wlen[w] - end)  # one token less per replacement
            wlen[w] = end - s
            pused, nw, nn, nused, free, touched, nt = core.apply_pair_changes(
                pk, pc, ph, pm, pused, nw, nn, nused, free, touched, nt, changes, nch, w, cw, step, not dev)
            if dev:
                continue
            for ch in range(nch):
                gc[core.pair_slot(gk, core.group_pair_key(grp, changes[ch, 0], changes[ch, 1]))] -= cw
                q, gused = core.pair_insert(gk, core.group_pair_key(grp, changes[ch, 2], changes[ch, 3]), gused)
                gc[q] += cw
                gtouched, ngt = core.touch(gm, q, step, gtouched, ngt)
        if pk[slot] != -1:
            pc[slot] = 0
            ph[slot] = -1
        for g in range(G):
            q = core.pair_slot(gk, core.group_pair_key(g, a, b))
            if gk[q] != -1:
                gc[q] = 0
        for q in range(nt):
            j = touched[q]
            if pc[j] > 0:
                hc, ha, hb, hn = core.heap_push(hc, ha, hb, hn, pc[j], core.pair_left(pk[j]), core.pair_right(pk[j]))
        for q in range(ngt):
            j = gtouched[q]
            if gc[j] > 0:
                qc, qa, qb = _queue_push(qc, qa, qb, qn, _group_of(gk[j]), gc[j],
                                         np.int32((gk[j] >> 25) & 0x1FFFFFF), np.int32(gk[j] & 0x1FFFFFF))
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
        t = token_id_reference(toks, by_bytes, a, b)
        merges.append((a, b, t, group))
        ws = [merge_word_reference(w, a, b, t) for w in ws]
    devlen = [0] * n_groups
    for (_, c, g, dev), w in zip(words, ws):
        if dev:
            devlen[g] += c * len(w)
    return merges, toks, devlen
