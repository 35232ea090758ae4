"""The triton merge application (CPU interpreter, TRITON_INTERPRET=1 from conftest) against the plain
reference and against merge_batch's own output."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from tokkit.dynamic.batch_merge import merge_batch  # noqa: E402
from tokkit.kernels.merge_triton import apply_merges, apply_merges_reference, apply_merges_triton  # noqa: E402


def _case(seed, b, t, vocab, p_word):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, (b, t))
    lens = rng.integers(0, t + 1, b) if b else np.zeros(0, np.int64)
    if b:
        lens[0] = t  # one row at the maximal length
    words = np.cumsum(rng.random((b, t)) < p_word, axis=1)
    join = np.zeros((b, t), np.int64)
    if t > 1:
        join[:, :-1] = words[:, :-1] == words[:, 1:]
    for r in range(b):
        join[r, max(lens[r] - 1, 0):] = 0
    return ids, lens, words, join


def _check(ids, lens, words, join, max_merges=12):
    res = merge_batch(ids, words, lengths=lens, min_count=1, max_merges=max_merges, vocab_size=int(ids.max(initial=0)) + 1)
    base = res.vocab_size
    ref = apply_merges_reference(ids, lens, join, res.merges, base)
    out_ids, out_len, out_st = apply_merges_triton(torch.tensor(ids), torch.tensor(lens), torch.tensor(join),
                                                   res.merges, base)
    w = out_ids.shape[1]
    assert out_len.tolist() == ref[1].tolist() == np.asarray(res.lengths).tolist()
    np.testing.assert_array_equal(out_ids.numpy(), ref[0][:, :w])
    np.testing.assert_array_equal(out_st.numpy(), ref[2][:, :w])
    np.testing.assert_array_equal(out_ids.numpy(), res.ids[:, :w] if res.ids.size else out_ids.numpy())
    assert (ref[0][:, w:] == 0).all()


@pytest.mark.parametrize("seed,b,t,vocab,p_word", [
    (0, 4, 33, 3, 0.2),     # random small vocabulary: many overlaps
    (1, 3, 16, 1, 0.0),     # all-identical tokens, one word: "a a a a ..." runs
    (2, 2, 17, 1, 0.3),     # odd runs cut by word boundaries
    (3, 1, 1, 5, 0.5),      # one token
    (4, 2, 64, 40, 0.1),    # mostly distinct ids: a != b merges only
])
def test_triton_equals_reference(seed, b, t, vocab, p_word):
    _check(*_case(seed, b, t, vocab, p_word))


def test_empty_batch_and_no_merges():
    ids = torch.zeros((0, 5), dtype=torch.long)
    out = apply_merges_triton(ids, torch.zeros(0, dtype=torch.long), torch.zeros((0, 5), dtype=torch.long),
                              np.zeros((0, 2), np.int64), 10)
    assert out[0].shape == (0, 0) and out[1].shape == (0,)
    ids = torch.tensor([[3, 4, 5]])
    out = apply_merges_triton(ids, torch.tensor([3]), torch.tensor([[1, 1, 0]]), np.zeros((0, 2), np.int64), 10)
    assert out[0].tolist() == [[3, 4, 5]] and out[2].tolist() == [[0, 1, 2]]


def test_dispatch():
    ids, lens, words, join = _case(5, 2, 8, 2, 0.0)
    merges = np.array([[0, 1], [1, 0]])
    a = apply_merges(torch.tensor(ids), torch.tensor(lens), torch.tensor(join), merges, 2)  # CPU -> reference
    b = apply_merges(torch.tensor(ids), torch.tensor(lens), torch.tensor(join), merges, 2, backend="triton")
    np.testing.assert_array_equal(a[0][:, : b[0].shape[1]], b[0].numpy())
    with pytest.raises(ValueError, match="backend"):
        apply_merges(ids, lens, join, merges, 2, backend="cuda")
