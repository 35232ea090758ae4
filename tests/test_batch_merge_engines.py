"""The incremental merge kernel against both oracles: the plain recounting reference and the previous kernel
(tests/_pair_merge_v1.py), on random flat batches, through merge_batch in every boundary mode and stop rule,
and on real GPT-2 batches of UDHR."""

import numpy as np
import pytest
from _pair_merge_v1 import merge_pairs_v1
from hypothesis import given
from hypothesis import strategies as st

from tokkit.dynamic.batch_merge import build_join, merge_batch
from tokkit.kernels.pair_merge import merge_pairs_numba, merge_pairs_reference


def _same(a, b, what=""):
    names = ("tok", "alive", "merges", "counts")
    for name, x, y in zip(names, a, b):
        np.testing.assert_array_equal(x, y, err_msg=f"{what} {name}")


@given(st.lists(st.integers(0, 5), max_size=120), st.lists(st.booleans(), max_size=120),
       st.integers(1, 4), st.one_of(st.none(), st.integers(0, 50)), st.integers(0, 100),
       st.integers(0, 3), st.sampled_from([0, 1, 1 << 20, (1 << 30) - 100]))
def test_three_engines_agree_on_random_flat_batches(toks, joins, min_count, max_merges, target, extra, shift):
    # shift moves every id up, so sparse ids (the kernel's relabelling) are covered as well as dense ones
    n = len(toks)
    tok = np.array(toks, dtype=np.int64) + shift
    join = np.array((joins + [True] * n)[:n], dtype=np.uint8)
    if n:
        join[-1] = 0
    base = int(tok.max()) + 1 + extra if n else extra
    new = merge_pairs_numba(tok, join, base, max_merges, min_count, target)
    _same(new, merge_pairs_reference(tok, join, base, max_merges, min_count, target), "reference")
    _same(new, merge_pairs_v1(tok, join, base, max_merges, min_count, target), "previous kernel")


@given(st.integers(0, 2 ** 32 - 1), st.integers(2, 60), st.floats(0.0, 1.0))
def test_new_kernel_equals_previous_on_long_zipf_batches(seed, vocab, p_join):
    # long runs of repeated ids and many ties in count: where the queue's tie rule is exercised most
    rng = np.random.default_rng(seed)
    tok = np.minimum(rng.zipf(1.5, 3000), vocab) - 1
    join = (rng.random(tok.size) < p_join).astype(np.uint8)
    join[255::256] = 0
    join[-1] = 0
    for mc in (1, 2, 3):
        _same(merge_pairs_numba(tok, join, vocab, None, mc), merge_pairs_v1(tok, join, vocab, None, mc), f"mc={mc}")


@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 3), st.sampled_from([0, 40000, 70000, 2 ** 20]))
def test_distinct_words_merged_once_equal_the_whole_batch(seed, min_count, low):
    # a batch of repeated words (ids from `low`: past 2**16 the words are compared id by id, not packed; past
    # the relabelling threshold they are ranks), merged per distinct word (weighted by copies) and as one flat
    # batch: the same output, and the same as the previous kernel and the reference
    import tokkit.kernels.pair_merge as pm

    rng = np.random.default_rng(seed)
    lexicon = [low + rng.integers(0, 12, rng.integers(1, 9)) for _ in range(40)]
    words = [lexicon[i] for i in rng.zipf(1.3, 600) % len(lexicon)]
    tok = np.concatenate(words).astype(np.int64)
    join = np.concatenate([np.r_[np.ones(len(w) - 1), 0] for w in words]).astype(np.uint8)
    base = int(tok.max()) + 1
    target = tok.size * 3 // 4
    kept = pm._WORDS_BELOW, pm._WORDS_MERGES
    try:
        pm._WORDS_BELOW, pm._WORDS_MERGES = 1 << 20, 1 << 20  # always per word
        per_word = merge_pairs_numba(tok, join, base, None, min_count)
        capped = merge_pairs_numba(tok, join, base, 30, min_count, target)
        pm._WORDS_BELOW = 0  # never per word
        whole = merge_pairs_numba(tok, join, base, None, min_count)
    finally:
        pm._WORDS_BELOW, pm._WORDS_MERGES = kept
    _same(per_word, whole, "per word vs whole batch")
    _same(per_word, merge_pairs_v1(tok, join, base, None, min_count), "previous kernel")
    _same(capped, merge_pairs_reference(tok, join, base, 30, min_count, target), "reference")


def _batch_results(res):
    return [s.tolist() for s in res.seqs], [s.tolist() for s in res.starts], res.merges.tolist(), res.counts.tolist()


@given(st.lists(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), max_size=40), min_size=1, max_size=6),
       st.sampled_from(["word_ids", "boundaries", "none"]), st.integers(1, 3),
       st.one_of(st.none(), st.integers(0, 30)), st.one_of(st.none(), st.floats(0.05, 1.0)), st.booleans())
def test_merge_batch_modes_numba_equals_reference(batch, how, min_count, max_merges, target_ratio, padded):
    ids = [[t for t, _ in s] for s in batch]
    words = [[(w if w < 3 else -1) for _, w in s] for s in batch]
    kw = dict(min_count=min_count, max_merges=max_merges, target_ratio=target_ratio, vocab_size=7)
    if how == "word_ids":
        kw["word_ids"] = words
    elif how == "boundaries":
        kw["boundaries"] = [[i == 0 or w[i] != w[i - 1] for i in range(len(w))] for w in words]
    if padded:
        width = max(len(s) for s in ids) + 2
        lengths = np.array([len(s) for s in ids])
        arr = np.full((len(ids), width), 3, dtype=np.int64)
        for i, s in enumerate(ids):
            arr[i, : len(s)] = s
        for key in ("word_ids", "boundaries"):
            if key in kw:
                pad = np.zeros((len(ids), width), dtype=np.int64)
                for i, s in enumerate(kw[key]):
                    pad[i, : len(s)] = s
                kw[key] = pad
        a = merge_batch(arr, lengths=lengths, backend="numba", **kw)
        b = merge_batch(arr, lengths=lengths, backend="reference", **kw)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.segments, b.segments)
    else:
        a = merge_batch(ids, backend="numba", **kw)
        b = merge_batch(ids, backend="reference", **kw)
    assert _batch_results(a) == _batch_results(b)


def _udhr_batch(udhr, tok, mode, rows, width, start=0):
    """rows x width GPT-2 ids (and word ids in `mode`) cut from UDHR, language after language."""
    from tokkit.dynamic.boundaries import tokenize_with_words

    texts = [t for c in udhr.codes for t in udhr.texts(c)]
    ids_parts, word_parts, have, off = [], [], 0, 0
    for i in range(start, len(texts), 64):
        ids, words = tokenize_with_words(tok, texts[i: i + 64], mode=mode)
        for s, w in zip(ids, words):
            ids_parts.append(s)
            word_parts.append(np.where(w >= 0, w + off, -1))
            off += int(w.max(initial=-1)) + 1
            have += len(s)
        if have >= rows * width:
            break
    need = rows * width
    return np.concatenate(ids_parts)[:need].reshape(rows, width), np.concatenate(word_parts)[:need].reshape(rows, width)


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("mode", ["word", "pretokens", "sentence", "sequence"])
def test_udhr_batches_all_engines_agree(udhr, gpt2, mode):
    """Real GPT-2 ids of UDHR in every boundary mode: new kernel == previous kernel merged to exhaustion
    (min_count 1 and 2) on 64 x 512, and == the plain reference for its first merges on 8 x 256."""
    v = gpt2.get_vocab_size()
    ids, words = _udhr_batch(udhr, gpt2, mode, 64, 512, start=1000)
    rows, width = ids.shape
    join = build_join(np.full(rows, width), None if mode == "sequence" else list(words))
    flat = ids.reshape(-1)
    for mc in (1, 2):
        _same(merge_pairs_numba(flat, join, v, None, mc), merge_pairs_v1(flat, join, v, None, mc), f"{mode} mc={mc}")
    small = ids[:8, :256].reshape(-1)
    sjoin = build_join(np.full(8, 256), None if mode == "sequence" else list(words[:8, :256]))
    _same(merge_pairs_numba(small, sjoin, v, 80, 2), merge_pairs_reference(small, sjoin, v, 80, 2), mode)
    # through merge_batch with padding, lengths and a target: same as the reference backend
    lengths = np.random.default_rng(0).integers(0, 257, 8)
    kw = dict(word_ids=None if mode == "sequence" else words[:8, :256], lengths=lengths, vocab_size=v,
              target_ratio=0.8)
    a = merge_batch(ids[:8, :256], backend="numba", **kw)
    b = merge_batch(ids[:8, :256], backend="reference", **kw)
    assert _batch_results(a) == _batch_results(b)
    np.testing.assert_array_equal(a.segments, b.segments)
    back = a.unmerge()
    for i, n in enumerate(lengths):
        np.testing.assert_array_equal(back[i, :n], ids[i, :n])


@pytest.mark.data
@pytest.mark.slow
def test_udhr_256x2048_new_equals_previous(udhr, gpt2):
    """The benchmark's batch (256 x 2048 GPT-2 ids of UDHR, word boundaries), merged until no pair repeats."""
    v = gpt2.get_vocab_size()
    ids, words = _udhr_batch(udhr, gpt2, "word", 256, 2048)
    join = build_join(np.full(256, 2048), list(words))
    flat = ids.reshape(-1)
    new = merge_pairs_numba(flat, join, v, None, 2)
    _same(new, merge_pairs_v1(flat, join, v, None, 2), "256x2048")
    assert len(new[2]) > 10000


def test_kernel_rejects_new_ids_that_collide():
    with pytest.raises(ValueError, match="above every id"):
        merge_pairs_numba(np.array([3, 5, 3, 5]), np.array([1, 1, 1, 0], np.uint8), 5)
    with pytest.raises(ValueError, match="2\\*\\*31"):
        merge_pairs_numba(np.array([3, -1]), np.array([1, 0], np.uint8), 10)


@given(st.integers(0, 2 ** 32 - 1), st.integers(200, 5000), st.integers(1, 3))
def test_many_distinct_pairs_grow_the_first_count_table(seed, vocab, min_count):
    # ids drawn from a large vocabulary make nearly every pair distinct, so the first count's table (sized
    # for natural text) has to grow while counting
    rng = np.random.default_rng(seed)
    tok = rng.integers(0, vocab, 4000)
    tok[rng.random(4000) < 0.3] = 7  # and some repeats, so there is something to merge
    join = (rng.random(tok.size) < 0.9).astype(np.uint8)
    join[-1] = 0
    _same(merge_pairs_numba(tok, join, vocab, None, min_count), merge_pairs_v1(tok, join, vocab, None, min_count))


def test_scratch_reused_across_calls_of_any_size():
    # the kernel reuses its buffers between calls without clearing them: a small batch after a large one (and
    # the large one again) gives what a fresh process gives, checked against the reference
    rng = np.random.default_rng(5)
    big = np.minimum(rng.zipf(1.3, 20000), 300) - 1
    big_join = np.ones(big.size, np.uint8)
    big_join[-1] = 0
    first = merge_pairs_numba(big, big_join, 300, None, 2)
    for n in (0, 1, 2, 5, 40, 300):
        tok = np.minimum(rng.zipf(1.5, n), 6) - 1
        join = (rng.random(n) < 0.8).astype(np.uint8)
        if n:
            join[-1] = 0
        for mc in (1, 2):
            _same(merge_pairs_numba(tok, join, 6, None, mc), merge_pairs_reference(tok, join, 6, None, mc), f"n={n}")
    _same(merge_pairs_numba(big, big_join, 300, None, 2), first, "the large batch again")


@given(st.lists(st.lists(st.integers(0, 4), max_size=30), min_size=1, max_size=6), st.integers(0, 4))
def test_padded_outputs_equal_rows_written_one_by_one(batch, extra_width):
    # segments, ids and model inputs are padded by one masked copy of all rows: compare with the obvious loop
    res = merge_batch(batch, vocab_size=5)
    n_out = [len(s) for s in res.seqs]
    t = max(n_out)
    ids = np.zeros((len(batch), t), np.int64)
    spans = np.full((len(batch), t, 2), -1, np.int64)
    for i, (s, st_, n) in enumerate(zip(res.seqs, res.starts, res.input_lengths)):
        ids[i, : len(s)] = s
        spans[i, : len(s), 0] = st_
        spans[i, : len(s), 1] = np.append(st_[1:], n)
    inp = res.model_inputs("np")
    np.testing.assert_array_equal(inp["input_ids"], ids)
    np.testing.assert_array_equal(inp["segments"], spans)
    np.testing.assert_array_equal(inp["attention_mask"], (np.arange(t) < np.array(n_out)[:, None]).astype(np.int64))
    np.testing.assert_array_equal(inp["lengths"], n_out)
    for s, g in zip(spans, res.segments):
        np.testing.assert_array_equal(s[: len(g)], g)
    width = max(len(s) for s in batch) + extra_width
    arr = np.full((len(batch), width), 3, np.int64)
    for i, s in enumerate(batch):
        arr[i, : len(s)] = s
    padded = merge_batch(arr, lengths=[len(s) for s in batch], vocab_size=5, pad_id=9)
    np.testing.assert_array_equal(padded.segments, spans)
    back = padded.unmerge()
    assert back.shape == (len(batch), width)
    for i, s in enumerate(batch):
        np.testing.assert_array_equal(back[i, : len(s)], s)
        assert (back[i, len(s):] == 9).all()
