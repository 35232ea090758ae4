"""The byte-level BPE merge loop in numba, choosing exactly the merges of Hugging Face's `BpeTrainer`.

Rules reproduced (tokenizers `src/models/bpe/trainer.rs`, `word.rs`):
- ids: special tokens first, then the 256 byte symbols ordered by their byte-level character, then each new
  token in the order it is made; a merge whose string already exists reuses that id (no new token);
- pair counts are over all adjacent symbol pairs of each distinct word, weighted by the word's count;
- the best pair has the highest count, ties go to the smallest (left id, right id);
- training stops when the vocabulary reaches `vocab_size`, or the best count is below 1 or `min_frequency`;
- a merge rewrites each word left to right, non-overlapping, and updates neighbour pair counts.

Unlike HF, words are not tracked with a hash set per pair (the memory blow-up of tokenizers #1345, #1681,
#1824): each pair keeps a vector of the words where it was created, in one pooled array (garbage once the
pair is merged, compacted now and then), and stale entries are skipped with a per-word step mark.
The loop is bound by cache misses, not instructions, so its layout is chosen for them (`bpe_core`'s pair
rows): a pair's key, count, list and mark share one row, a word's start, length, count and mark share one
row, the queue is a 4-ary heap of (count, key) rows, and the walk over a merged pair's words prefetches
the words a few places ahead. Any layout gives the same merges: they depend only on the counts.
The plain reference is `bpe_reference`.
"""

from __future__ import annotations

import heapq

import numba as nb
import numpy as np

from . import bpe_core as core


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
    wr = core.word_rows(wstart, wcount)
    changes = core.change_buffer(wstart)

    cap_tok = max(vocab_size, n_tokens) + forced_a.shape[0] + 16
    tok_off, tok_len, pool_used, th, tid, tmask = core.token_table(tok_pool, tok_off, tok_len, n_tokens, cap_tok)

    # the pair table (`bpe_core` pair rows: count, word list and step mark beside each key) and the pool of
    # word lists
    pt, pused, lw, lused = core.count_pair_rows(sym, wr)
    garbage = 0  # words in lists that no pair owns any more

    # the queue: a max-heap of (count, pair key), stale entries fixed lazily when they reach the top
    hq, hn = core.new_queue(pt, pused)

    # the merges made: (ma, mb) -> mt; mg (the choosing group) is unused here: one record for both trainers
    ma, mb, mt, mg = core.new_merge_record(vocab_size - n_tokens + forced_a.shape[0] + 16)
    nm = 0
    touched = np.zeros(1024, np.int64)  # rows whose count changed in this step
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
            hn, found, c, key = core.queue_pop_current(hq, hn, pt)
            if not found or c < 1 or c < min_frequency:
                break
            a = core.pair_left(key)
            b = core.pair_right(key)
        step += 1
        # the merged token's bytes, and its id (an existing token with the same bytes keeps its id)
        tok_pool, n_new = core.token_concat(tok_pool, tok_off, tok_len, pool_used, a, b)
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
        t, n_tokens, pool_used = core.token_id(tok_pool, tok_off, tok_len, pool_used, n_new, n_tokens, th, tid, tmask)
        ma, mb, mt, mg, nm = core.record_merge(ma, mb, mt, mg, nm, a, b, t, -1)

        # room for the new pairs of this step: at most two per existing token
        if not core.pair_room(pt[:, 0], pused, 2 * n_tokens + 2):
            pt, pused, dropped = core.rows_grow(pt, 2 * n_tokens + 2 + pused // 2, True)
            garbage += dropped
        slot = core.row_slot(pt, core.pair_key(a, b))
        if pt[slot, 0] == -1:
            progress[0] = nm
            continue
        nt = 0
        off = pt[slot, 2]
        n_list = core.row_len(pt, slot)
        for i in range(n_list):
            # the words a few places ahead: their rows, then (rows in the cache by then) their symbols; the
            # misses of the next words then overlap the rewrite of this one
            if i + 8 < n_list:
                core.prefetch(wr, lw[off + i + 8])
            if i + 4 < n_list:
                core.prefetch(sym, wr[lw[off + i + 4], 0])
            w = lw[off + i]
            if wr[w, 3] == step:
                continue
            wr[w, 3] = step
            s = wr[w, 0]
            end, nch = core.merge_in_word(sym, s, s + wr[w, 1], a, b, t, changes)
            wr[w, 1] = end - s
            weight = wr[w, 2]
            # `core.rows_apply_changes` (what parity training calls), written out: the call cost this loop
            # 10-15% (NTREX, 12 languages, V=32,000; alternating runs, same merges)
            for row in range(nch):
                j, pused = core.row_insert(pt, core.pair_key(changes[row, 2], changes[row, 3]), pused)
                lw, lused, garbage = core.row_push_word(pt, j, w, lw, lused, garbage)
                pt[core.row_slot(pt, core.pair_key(changes[row, 0], changes[row, 1])), 1] -= weight
                pt[j, 1] += weight
                touched, nt = core.row_touch(pt, j, step, touched, nt)
        # the merged pair is spent: HF leaves a residual count (overlaps such as "aaa") that nothing reads
        # again; zeroing it lets a replayed merge's queue entry die and the queue be rebuilt from counts.
        # Its word list is garbage now.
        pt[slot, 1] = 0
        if n_list > 0:
            garbage += core.list_room(n_list)
            pt[slot, 3] &= ~np.int64(0xFFFFFFFF)
        for q in range(nt):
            j = touched[q]
            if pt[j, 1] > 0:
                hq, hn = core.queue_push(hq, hn, pt[j, 1], pt[j, 0])
        if hn > 2 * pused + 4096:
            # mostly stale entries: rebuild the queue from the live counts (the same order, less memory)
            hn = core.queue_build(pt, hq)
        if garbage > 4096 and 2 * garbage > lused:  # half the pool is garbage: O(1) per garbage word
            lw, lused = core.rows_compact(pt, lw, lused, False)
            garbage = 0
        progress[0] = nm
    wlen = np.empty(wr.shape[0], np.int32)
    for w in range(wr.shape[0]):
        wlen[w] = wr[w, 1]
    return ma[:nm].copy(), mb[:nm].copy(), mt[:nm].copy(), tok_pool[:pool_used].copy(), \
        tok_off[:n_tokens].copy(), tok_len[:n_tokens].copy(), n_tokens, wlen


def token_id_reference(toks: list, by_bytes: dict, a: int, b: int) -> int:
    """Id of the token a + b: an existing token with the same bytes keeps its id, else a new one
    (appended to toks and by_bytes)."""
    new = toks[a] + toks[b]
    t = by_bytes.get(new)
    if t is None:
        t = len(toks)
        toks.append(new)
        by_bytes[new] = t
    return t


def merge_word_reference(word: list, a: int, b: int, t: int) -> list:
    """word with each (a, b) replaced by t, left to right, non-overlapping."""
    out, k = [], 0
    while k < len(word):
        if k + 1 < len(word) and word[k] == a and word[k + 1] == b:
            out.append(t)
            k += 2
        else:
            out.append(word[k])
            k += 1
    return out


def bpe_reference(words: dict[tuple[int, ...], int], token_bytes: list[bytes | None], vocab_size: int,
                  min_frequency: int = 0, forced: list[tuple[int, int]] = ()) -> tuple[list, list]:
    """Plain-Python HF BpeTrainer merge loop on words given as tuples of initial ids. A merge moves each
    rewritten word's weight from its old pairs to its new ones (HF's neighbour updates, which differ only on
    the merged pair, zeroed once spent).

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
        t = token_id_reference(toks, by_bytes, a, b)
        merges.append((a, b, t))
        changed = set()
        for i in where.pop(p, ()):
            before, c = ws[i], counts[i]
            ws[i] = after = merge_word_reference(before, a, b, t)
            for q in zip(before, before[1:]):
                pairs[q] -= c
            for q in zip(after, after[1:]):
                pairs[q] = pairs.get(q, 0) + c
                where.setdefault(q, set()).add(i)
                changed.add(q)
        pairs[p] = 0  # spent (see the kernel)
        for q in changed:
            if pairs[q] > 0:
                heapq.heappush(heap, (-pairs[q], q))
    return merges, toks
