"""The merge kernel's first pair count: the dense path (an alphabet of bytes and a few special tokens) and
the hashed path (larger alphabets) give the same counts and word lists, and both give the reference's merges."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tokkit.kernels import bpe_core
from tokkit.kernels.bpe import bpe_reference, bpe_train

BIG = bpe_core._DENSE_SYMBOLS + 80  # an alphabet too large for the dense table


def _pairs(words: list[tuple[int, ...]], counts: list[int]):
    """{(a, b): (count, sorted words holding it)}, in plain Python."""
    out: dict = {}
    for w, (word, c) in enumerate(zip(words, counts)):
        for p in zip(word, word[1:]):
            n, ws = out.get(p, (0, []))
            out[p] = (n + c, ws if ws and ws[-1] == w else ws + [w])
    return out


def _kernel_merges(words: dict, token_bytes: list, vocab_size: int) -> list:
    """The merges bpe_train makes on a word -> count table over the given initial tokens."""
    keys = list(words)
    sym = np.asarray([s for w in keys for s in w], np.int32)
    wstart = np.zeros(len(keys) + 1, np.int64)
    np.cumsum([len(w) for w in keys], out=wstart[1:])
    pool = np.frombuffer(b"".join(token_bytes), np.uint8).copy()
    lens = np.asarray([len(t) for t in token_bytes], np.int32)
    off = np.concatenate([[0], np.cumsum(lens[:-1])]).astype(np.int64)
    none = np.zeros(0, np.int32)
    ma, mb, mt, *_ = bpe_train(sym, wstart, np.asarray([words[w] for w in keys], np.int64), pool, off, lens,
                               len(token_bytes), vocab_size, 0, none, none, np.zeros(1, np.int64))
    return list(zip(ma.tolist(), mb.tolist(), mt.tolist()))


words_st = st.dictionaries(st.lists(st.integers(0, 6), min_size=1, max_size=12).map(tuple),
                           st.integers(1, 50), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(words=st.dictionaries(st.lists(st.sampled_from([0, 1, 2, BIG - 2, BIG - 1]), min_size=1, max_size=9)
                             .map(tuple), st.integers(1, 50), max_size=30),
       extra=st.integers(0, 30))
def test_merge_kernel_on_a_large_alphabet_matches_reference(words, extra):
    token_bytes = [bytes([i % 256, i // 256]) for i in range(BIG)]  # two bytes each: all distinct
    ref_merges, _ = bpe_reference(words, token_bytes, BIG + extra)
    assert _kernel_merges(words, token_bytes, BIG + extra) == ref_merges


# ------------------------------------------------------------------------------------------ pair rows


def _rows(words: list[tuple[int, ...]], counts: list[int], force_hash: bool):
    """{(a, b): (count, sorted words on its list)} after count_pair_rows; force_hash: a one-symbol word of a
    large id (no pairs) sends it down the hashed path."""
    if force_hash:
        words, counts = list(words) + [(BIG,)], list(counts) + [1]
    sym = np.asarray([s for w in words for s in w], np.int32)
    wstart = np.zeros(len(words) + 1, np.int64)
    np.cumsum([len(w) for w in words], out=wstart[1:])
    pt, used, lw, lused = bpe_core.count_pair_rows(sym, bpe_core.word_rows(wstart, np.asarray(counts, np.int64)))
    return _row_lists(pt, lw), used, pt


def _row_lists(pt, lw):
    out = {}
    for i in np.flatnonzero(pt[:, 0] != -1):
        n = int(pt[i, 3]) & 0xFFFFFFFF
        ws = lw[pt[i, 2]:pt[i, 2] + n].tolist()
        assert len(set(ws)) == len(ws)  # one entry per word
        out[(int(bpe_core.pair_left(pt[i, 0])), int(bpe_core.pair_right(pt[i, 0])))] = (int(pt[i, 1]), sorted(ws))
    return out


@settings(max_examples=200, deadline=None)
@given(words=words_st)
def test_pair_rows_dense_and_hashed_agree_with_plain_counts(words):
    keys = list(words)
    counts = [words[w] for w in keys]
    dense, used, pt = _rows(keys, counts, False)
    assert dense == _rows(keys, counts, True)[0] == _pairs(keys, counts)
    assert used == len(dense)
    assert not (pt[:, 3] >> 32).any()  # the step marks start clean


@settings(max_examples=100, deadline=None)
@given(words=words_st, spent=st.sets(st.integers(0, 48)))
def test_pair_rows_compaction_keeps_the_live_lists(words, spent):
    keys = list(words)
    lists, _, pt = _rows(keys, [words[w] for w in keys], False)
    sym = np.asarray([s for w in keys for s in w], np.int32)
    wstart = np.zeros(len(keys) + 1, np.int64)
    np.cumsum([len(w) for w in keys], out=wstart[1:])
    pt, _, lw, lused = bpe_core.count_pair_rows(sym, bpe_core.word_rows(wstart, np.asarray(
        [words[w] for w in keys], np.int64)))
    rows = np.flatnonzero(pt[:, 0] != -1)
    for k in spent:  # spent pairs: count zero, their lists dropped by the compaction
        if k < len(rows):
            pt[rows[k], 1] = 0
    pt2 = pt.copy()
    lw2, lused2 = bpe_core.rows_compact(pt2, lw, lused, False)
    after = _row_lists(pt2, lw2)
    for pair, (count, ws) in _row_lists(pt, lw).items():
        assert after[pair] == ((count, ws) if count > 0 else (0, []))
    assert lused2 <= lused and lused2 == sum(bpe_core.list_room(len(ws)) for c, ws in after.values() if ws)
    # parity training keeps the lists of pairs with a count of zero (pairs of uncounted dev words)
    pt3 = pt.copy()
    lw3, _ = bpe_core.rows_compact(pt3, lw, lused, True)
    assert _row_lists(pt3, lw3) == _row_lists(pt, lw)


@settings(max_examples=100, deadline=None)
@given(words=words_st, dev=st.sets(st.integers(0, 40)), force_hash=st.booleans())
def test_pair_rows_keep_the_pairs_of_words_weighing_zero(words, dev, force_hash):
    """Parity's dev words weigh 0: their pairs stay in the table, at a count of zero, with their words listed
    (the hashed path grows its table without dropping them)."""
    keys = list(words)
    counts = [0 if i in dev else words[w] for i, w in enumerate(keys)]
    assert _rows(keys, counts, force_hash)[0] == _pairs(keys, counts)


def test_merge_kernel_on_a_larger_corpus_matches_reference():
    """Enough words and merges that the pair rows grow, lists move and the pool is compacted."""
    rng = np.random.default_rng(7)
    words = {}
    for _ in range(3000):
        w = tuple(int(x) for x in rng.integers(0, 12, rng.integers(2, 14)))
        words[w] = words.get(w, 0) + int(rng.integers(1, 30))
    token_bytes = [bytes([i]) for i in range(12)]
    vocab = 12 + 1500
    ref_merges, _ = bpe_reference(words, token_bytes, vocab)
    assert len(ref_merges) > 1000
    assert _kernel_merges(words, token_bytes, vocab) == ref_merges
