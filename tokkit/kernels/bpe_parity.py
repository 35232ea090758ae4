"""Parity-aware BPE (Foroutan et al. 2025) in numba: at each merge, the language whose parallel dev set is
currently longest in tokens (relative to its target) picks the merge: its most frequent pair in its own
training words. With global_merges = M, the first M merges use the ordinary global objective (hybrid).

Words carry a language (group) id; dev words are merged like all others but count only toward their
language's dev length, never toward pair counts. Pair counts are kept globally (for the global phase and
the word lists) and per language (a table keyed by language and pair, and one lazy max-queue per language),
all in `bpe_core`'s pair rows and queues, as `bpe_train` keeps them.
Ties as in the standard trainer: highest count, then the smallest (left id, right id). The plain reference
is `bpe_parity_reference`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from . import bpe_core as core
from .bpe import merge_word_reference, token_id_reference


@nb.njit(inline="always")
def _group_push(gq, qn, g, c, key):
    """Push (c, key) onto language g's queue, row g of gq (G x cap x 2, qn[g] entries), widening every row
    when this one is full. Returns gq."""
    if qn[g] >= gq.shape[1]:
        gq = core.grow_rows(gq, 2 * gq.shape[1])
    qn[g] = core.queue_push(gq[g], qn[g], c, key)[1]
    return gq


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
    # the word rows (`bpe_core` pair rows) weigh the pair counts: a dev word weighs 0 there, its own count
    # stays in wcount for its language's dev length
    wr = core.word_rows(wstart, wcount)
    changes = core.change_buffer(wstart)
    devlen = np.zeros(G, np.int64)  # each language's dev length in tokens
    for w in range(n_words):
        if wdev[w]:
            devlen[wgroup[w]] += wcount[w] * wr[w, 1]
            wr[w, 2] = 0

    cap_tok = max(vocab_size, n_tokens) + 16
    tok_off, tok_len, pool_used, th, tid, tmask = core.token_table(tok_pool, tok_off, tok_len, n_tokens, cap_tok)

    # global pairs: one row each (count over training words, word list over every word, dev words included);
    # a pair of dev words only has a count of zero and keeps its list, so nothing here drops zero-count pairs
    pt, pused, lw, lused = core.count_pair_rows(sym, wr)
    garbage = 0
    # per-language pairs, keyed core.group_pair_key(g, a, b), in a row table of their own (counts, no lists)
    gt = core.new_pair_rows(1 << 12)
    gused = 0
    for w in range(n_words):
        if wdev[w]:
            continue
        s = wr[w, 0]
        for k in range(s, s + wr[w, 1] - 1):
            if not core.pair_room(gt[:, 0], gused, 1):
                gt, gused, _ = core.rows_grow(gt, gt.shape[0] // 2, False)
            j, gused = core.row_insert(gt, core.group_pair_key(wgroup[w], sym[k], sym[k + 1]), gused)
            gt[j, 1] += wcount[w]
    touched = np.zeros(1024, np.int64)
    gtouched = np.zeros(1024, np.int64)

    # the queues (`bpe_core` queue_*): the global one, and one per language (row g of gq, qn[g] entries)
    hq, hn = core.new_queue(pt, pused)
    gq = np.zeros((G, 64, 2), np.int64)
    qn = np.zeros(G, np.int64)
    for j in range(gt.shape[0]):
        if gt[j, 0] != -1 and gt[j, 1] > 0:
            gq = _group_push(gq, qn, _group_of(gt[j, 0]), gt[j, 1], gt[j, 0])

    ma, mb, mt, mg = core.new_merge_record(vocab_size - n_tokens + 16)
    nm = 0
    exhausted = np.zeros(G, np.bool_)
    step = 0
    while n_tokens < vocab_size:
        chosen_group = -1
        found = False
        c = np.int64(0)
        key = np.int64(0)
        if nm < global_merges:
            hn, found, c, key = core.queue_pop_current(hq, hn, pt)
            found = found and c >= 1 and c >= min_frequency
            a = core.pair_left(key)
            b = core.pair_right(key)
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
                qn[g], found, c, key = core.queue_pop_current(gq[g], qn[g], gt)
                found = found and c >= 1 and c >= min_frequency
                if found:
                    chosen_group = g
                else:
                    exhausted[g] = True
            a = np.int32((key >> 25) & 0x1FFFFFF)
            b = np.int32(key & 0x1FFFFFF)
        if not found:
            break
        step += 1
        tok_pool, n_new = core.token_concat(tok_pool, tok_off, tok_len, pool_used, a, b)
        t, n_tokens, pool_used = core.token_id(tok_pool, tok_off, tok_len, pool_used, n_new, n_tokens, th, tid, tmask)
        ma, mb, mt, mg, nm = core.record_merge(ma, mb, mt, mg, nm, a, b, t, chosen_group)

        # room for the new pairs of this step: at most two per existing token (and language)
        if not core.pair_room(pt[:, 0], pused, 2 * n_tokens + 2):
            pt, pused, _ = core.rows_grow(pt, 2 * n_tokens + 2 + pused // 2, False)
        if not core.pair_room(gt[:, 0], gused, 2 * n_tokens * G + 2):
            gt, gused, _ = core.rows_grow(gt, 2 * n_tokens * G + 2 + gused // 2, False)
        slot = core.row_slot(pt, core.pair_key(a, b))
        nt = 0
        ngt = 0
        n_list = core.row_len(pt, slot) if pt[slot, 0] != -1 else 0
        off = pt[slot, 2]
        for i in range(n_list):
            core.prefetch_words(lw, off, i, n_list, wr, sym)
            w = lw[off + i]
            if wr[w, 3] == step:
                continue
            wr[w, 3] = step
            s = wr[w, 0]
            end, nch = core.merge_in_word(sym, s, s + wr[w, 1], a, b, t, changes)
            grp = wgroup[w]
            if wdev[w]:
                devlen[grp] -= wcount[w] * (s + wr[w, 1] - end)  # one token less per replacement
            wr[w, 1] = end - s
            weight = wr[w, 2]  # 0 for a dev word: it only joins the word lists
            pused, lw, lused, garbage, touched, nt = core.rows_apply_changes(
                pt, pused, lw, lused, garbage, touched, nt, changes, nch, w, weight, step)
            if wdev[w]:
                continue
            for row in range(nch):  # the same changes, counted for the word's language
                gt[core.row_slot(gt, core.group_pair_key(grp, changes[row, 0], changes[row, 1])), 1] -= weight
                q, gused = core.row_insert(gt, core.group_pair_key(grp, changes[row, 2], changes[row, 3]), gused)
                gt[q, 1] += weight
                gtouched, ngt = core.row_touch(gt, q, step, gtouched, ngt)
        # the merged pair is spent, in every language; its word list is garbage now
        if pt[slot, 0] != -1:
            pt[slot, 1] = 0
            if n_list > 0:
                garbage += core.list_room(n_list)
                pt[slot, 3] &= ~np.int64(0xFFFFFFFF)
        for g in range(G):
            q = core.row_slot(gt, core.group_pair_key(g, a, b))
            if gt[q, 0] != -1:
                gt[q, 1] = 0
        if nm < global_merges:  # the global queue is read in the global phase only
            for q in range(nt):
                j = touched[q]
                if pt[j, 1] > 0:
                    hq, hn = core.queue_push(hq, hn, pt[j, 1], pt[j, 0])
        for q in range(ngt):
            j = gtouched[q]
            if gt[j, 1] > 0:
                gq = _group_push(gq, qn, _group_of(gt[j, 0]), gt[j, 1], gt[j, 0])
        if garbage > 4096 and 2 * garbage > lused:  # pairs of dev words keep their lists at a zero count
            lw, lused = core.rows_compact(pt, lw, lused, True)
            garbage = 0
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
