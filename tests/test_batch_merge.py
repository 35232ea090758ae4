"""merge_batch / unmerge: kernel equivalence, containers, stop rules, word boundaries, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokkit.dynamic.batch_merge import merge_batch, unmerge
from tokkit.errors import InputError
from tokkit.kernels.pair_merge import merge_pairs_numba, merge_pairs_reference


def _flat_case(rng, n, vocab, p_join):
    tok = rng.integers(0, vocab, n)
    join = (rng.random(n) < p_join).astype(np.uint8)
    if n:
        join[-1] = 0
    return tok, join


def _same(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("n,vocab,p_join", [(0, 1, 1.0), (1, 1, 1.0), (2, 1, 1.0), (9, 1, 1.0), (64, 1, 1.0),
                                            (63, 1, 1.0), (200, 2, 0.9), (300, 50, 0.7), (40, 3, 0.0)])
@pytest.mark.parametrize("min_count", [1, 2])
def test_kernel_equals_reference_edge_cases(n, vocab, p_join, min_count):
    tok, join = _flat_case(np.random.default_rng(n * 7 + vocab), n, vocab, p_join)
    _same(merge_pairs_numba(tok, join, 1000, None, min_count), merge_pairs_reference(tok, join, 1000, None, min_count))


def test_all_identical_tokens_merge_greedily_left_to_right():
    tok, alive, merges, counts = merge_pairs_numba(np.zeros(7, np.int64), np.array([1] * 6 + [0], np.uint8), 5,
                                                   None, 1)
    # a a a a a a a -> (aa)(aa)(aa) a -> (aaaa)(aa) a -> (aaaaaa) a -> (aaaaaaa)
    assert merges.tolist() == [[0, 0], [5, 5], [6, 5], [7, 0]]
    assert counts.tolist() == [6, 2, 1, 1]  # Counter counts overlapping pairs: (aa)(aa)(aa) has 2
    assert np.flatnonzero(alive).tolist() == [0]
    assert tok[0] == 8
    tok, alive, merges, counts = merge_pairs_numba(np.zeros(7, np.int64), np.array([1] * 6 + [0], np.uint8), 5,
                                                   None, 2)
    assert merges.tolist() == [[0, 0], [5, 5]] and np.flatnonzero(alive).tolist() == [0, 4, 6]


@given(st.lists(st.integers(0, 4), max_size=80), st.lists(st.booleans(), max_size=80), st.integers(1, 3),
       st.one_of(st.none(), st.integers(0, 40)), st.integers(0, 60))
def test_kernel_equals_reference_property(toks, joins, min_count, max_merges, target):
    n = len(toks)
    tok = np.array(toks, dtype=np.int64)
    join = np.array((joins + [True] * n)[:n], dtype=np.uint8)
    if n:
        join[-1] = 0
    _same(merge_pairs_numba(tok, join, 10, max_merges, min_count, target),
          merge_pairs_reference(tok, join, 10, max_merges, min_count, target))


def test_kernel_equals_reference_maximal_batch():
    # a long batch with a realistic Zipf-like id distribution; the reference is capped to keep it quick
    rng = np.random.default_rng(1)
    tok = np.minimum(rng.zipf(1.3, 8 * 512), 2000) - 1
    join = (rng.random(tok.size) < 0.75).astype(np.uint8)
    join[511::512] = 0
    _same(merge_pairs_numba(tok, join, 5000, 60, 2), merge_pairs_reference(tok, join, 5000, 60, 2))


@given(st.lists(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=30), max_size=6),
       st.integers(1, 3))
def test_round_trip_and_words_are_respected(batch, min_count):
    ids = [[t for t, _ in s] for s in batch]
    # word ids: the running count of "starts" so words are contiguous; -1 never merges
    words = [[(w if w < 3 else -1) for _, w in s] for s in batch]
    res = merge_batch(ids, words, min_count=min_count, vocab_size=6)
    assert res.unmerge() == ids
    for seq, spans, w in zip(res.ids, res.segments, words):
        assert len(seq) == len(spans)
        if len(spans):
            assert spans[0][0] == 0 and spans[-1][1] == len(w)
            assert (spans[1:, 0] == spans[:-1, 1]).all()
        for (s, e), t in zip(spans, seq):
            assert (e - s == 1) == (t < 6)
            if e - s > 1:  # a merged token lies inside one word
                assert len(set(w[s:e])) == 1 and w[s] >= 0


def test_containers_padded_numpy_torch_and_ragged():
    torch = pytest.importorskip("torch")
    ids = [[5, 1, 2, 1, 2, 3], [1, 2, 1, 2], [], [7]]
    ref = merge_batch(ids, min_count=1)
    padded = np.zeros((4, 6), dtype=np.int32)
    lengths = np.array([6, 4, 0, 1])
    for i, s in enumerate(ids):
        padded[i, : len(s)] = s
    r = merge_batch(padded, lengths=lengths, min_count=1)
    assert r.ids.dtype == np.int32 and r.ids.shape == (4, max(len(s) for s in ref.ids))
    assert r.lengths.tolist() == [len(s) for s in ref.ids]
    assert [row[:n].tolist() for row, n in zip(r.ids, r.lengths)] == ref.ids
    np.testing.assert_array_equal(r.unmerge(), padded)
    assert r.segments.shape == (4, r.ids.shape[1], 2) and (r.segments[2] == -1).all()
    t = merge_batch(torch.from_numpy(padded).long(), lengths=torch.from_numpy(lengths), min_count=1)
    assert torch.equal(t.ids, torch.from_numpy(r.ids).long())
    assert torch.equal(t.unmerge(), torch.from_numpy(padded).long())
    assert torch.equal(unmerge(t.ids, t.merges, t.vocab_size, lengths=t.lengths), t.unmerge())
    rt = merge_batch([torch.tensor(s, dtype=torch.long) for s in ids], min_count=1)
    assert [x.tolist() for x in rt.ids] == ref.ids and all(isinstance(x, torch.Tensor) for x in rt.unmerge())
    ra = merge_batch([np.array(s, dtype=np.int64) for s in ids], min_count=1)
    assert [x.tolist() for x in ra.ids] == ref.ids
    assert unmerge(ref.ids, ref.merges, ref.vocab_size) == ids


def test_stop_rules():
    rng = np.random.default_rng(3)
    ids = [rng.integers(0, 4, 100).tolist() for _ in range(8)]
    full = merge_batch(ids, min_count=2)
    assert full.counts.min() >= 2 and len(full.merges) > 10
    assert merge_batch(ids, max_merges=5).merges.tolist() == full.merges[:5].tolist()
    assert len(merge_batch(ids, max_merges=0).merges) == 0
    r = merge_batch(ids, target_ratio=0.5)
    assert r.ratio <= 0.5 and r.merges.tolist() == full.merges[: len(r.merges)].tolist()
    # one merge fewer would not have reached the target
    assert merge_batch(ids, max_merges=len(r.merges) - 1).ratio > 0.5
    assert merge_batch(ids, min_count=1).ratio < full.ratio
    assert merge_batch(ids, vocab_size=1000).merges.min() >= 0
    assert merge_batch(ids, vocab_size=1000).ids[0][0] < 1004 + 10 ** 6


def test_new_ids_start_at_vocab_size_and_expand():
    r = merge_batch([[3, 4, 3, 4]], vocab_size=10, min_count=1)
    assert r.ids == [[11]] and r.merges.tolist() == [[3, 4], [10, 10]]
    assert r.expansion(11).tolist() == [3, 4, 3, 4] and r.expansion(3).tolist() == [3]


def test_boundaries_argument_equals_word_ids():
    ids = [[1, 2, 1, 2, 1, 2]]
    b = merge_batch(ids, boundaries=[[True, False, True, False, True, True]], min_count=1)
    w = merge_batch(ids, [[0, 0, 1, 1, 2, 3]], min_count=1)
    assert b.ids == w.ids and b.merges.tolist() == w.merges.tolist() == [[1, 2]]


@pytest.mark.parametrize("kwargs,match", [
    (dict(ids=[[1, -2]]), "negative id"),
    (dict(ids=[[1, 2]], word_ids=[[0]]), r"word_ids\[0\] has 1 entries for 2 ids"),
    (dict(ids=[[1, 2]], word_ids=[[0, 0]], boundaries=[[1, 0]]), "not both"),
    (dict(ids=[[1, 2]], max_merges=-1), "max_merges"),
    (dict(ids=[[1, 2]], target_ratio=0.0), "target_ratio"),
    (dict(ids=[[1, 2]], min_count=0), "min_count"),
    (dict(ids=[[1, 2]], vocab_size=2), "vocab_size=2"),
    (dict(ids=np.zeros((2, 3, 4), dtype=int)), "2-d"),
    (dict(ids=np.zeros((2, 3), dtype=int), lengths=[1, 4]), "lengths"),
    (dict(ids=[["a", "b"]]), "not a sequence of integers"),
    (dict(ids=[[1.5, 2.0]]), "not a sequence of integers"),
    (dict(ids=np.ones((2, 2))), "integer ids"),
    (dict(ids="hello"), "expected a batch"),
    (dict(ids=[[1, 2]], backend="gpu"), "backend"),
])
def test_bad_input(kwargs, match):
    ids = kwargs.pop("ids")
    with pytest.raises(InputError, match=match):
        merge_batch(ids, **kwargs)


def test_unmerge_bad_input():
    with pytest.raises(InputError, match="merge table"):
        unmerge([[12]], [[1, 2]], 10)
    with pytest.raises(InputError, match="created later"):
        unmerge([[10]], [[1, 11]], 10)
    with pytest.raises(InputError, match="needed"):
        unmerge([[1]])


@pytest.mark.slow
@pytest.mark.data
def test_exact_round_trip_on_every_udhr_language(udhr, tokenizers_dir):
    """Every language of UDHR, GPT-2 byte-level ids, word boundaries, batches of 32: unmerge is exact,
    no merged token crosses a word, and every language gets shorter."""
    from tokenizers import Tokenizer

    from tokkit.dynamic.boundaries import tokenize_with_words

    tok = Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    for code in udhr.codes:
        ids, words = tokenize_with_words(tok, udhr.texts(code)[:32], max_length=256)
        res = merge_batch(ids, words, vocab_size=tok.get_vocab_size())
        back = res.unmerge()
        assert all(np.array_equal(a, b) for a, b in zip(back, ids)), code
        for spans, w in zip(res.segments, words):
            ws = w[spans[:, 0]]
            assert (w[spans[:, 1] - 1] == ws).all(), code
        assert res.ratio < 1.0, code
