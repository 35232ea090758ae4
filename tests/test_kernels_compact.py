"""Keep-mask compaction: the triton kernels (on the CPU interpreter) and the dispatch function equal the torch
reference, which in turn equals a per-sequence Python loop."""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

from tokkit.errors import InputError  # noqa: E402
from tokkit.kernels.compact import compact, compact_reference, compact_triton, scatter_back  # noqa: E402


def loop_compact(x, keep):
    B, T, D = x.shape
    rows = [x[b][keep[b]] for b in range(B)]
    L = max([r.shape[0] for r in rows] + [0])
    out = x.new_zeros(B, L, D)
    index = torch.full((B, L), -1, dtype=torch.long)
    for b, r in enumerate(rows):
        out[b, :len(r)] = r
        index[b, :len(r)] = keep[b].nonzero().squeeze(1)
    return out, torch.tensor([len(r) for r in rows], dtype=torch.long), index


def same(a, b):
    for u, v in zip(a, b):
        assert u.shape == v.shape and u.dtype == v.dtype
        assert torch.equal(u, v)


CASES = {
    "ragged": lambda B, T: torch.rand(B, T) < 0.5,
    "all kept": lambda B, T: torch.ones(B, T, dtype=torch.bool),
    "all deleted": lambda B, T: torch.zeros(B, T, dtype=torch.bool),
    "one token": lambda B, T: torch.nn.functional.one_hot(torch.randint(0, T, (B,)), T).bool(),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_triton_equals_reference(case, dtype):
    torch.manual_seed(0)
    B, T, D = 3, 9, 20
    x = torch.randn(B, T, D).to(dtype)
    keep = CASES[case](B, T)
    ref = compact_reference(x, keep)
    same(ref, loop_compact(x, keep))
    same(compact_triton(x, keep), ref)


@pytest.mark.parametrize("shape", [(0, 5, 4), (2, 0, 4), (2, 5, 0), (1, 1, 3)])
def test_empty_and_length_one(shape):
    x = torch.randn(*shape)
    keep = torch.ones(shape[:2], dtype=torch.bool)
    ref = compact_reference(x, keep)
    same(ref, loop_compact(x, keep))
    same(compact_triton(x, keep), ref)


def test_long_row_crosses_scan_blocks():
    # T > the scan block (1024) exercises the carried prefix sum
    torch.manual_seed(1)
    x = torch.randn(2, 1500, 2)
    keep = torch.rand(2, 1500) < 0.3
    same(compact_triton(x, keep), compact_reference(x, keep))


@settings(max_examples=25)  # each example runs triton's CPU interpreter: a cap in every profile
@given(B=st.integers(1, 3), T=st.integers(1, 12), D=st.integers(1, 6), p=st.floats(0, 1), seed=st.integers(0, 99))
def test_property_reference_and_round_trip(B, T, D, p, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, D, generator=g)
    keep = torch.rand(B, T, generator=g) < p
    out, lengths, index = compact_reference(x, keep)
    same((out, lengths, index), loop_compact(x, keep))
    assert torch.equal(scatter_back(out, index, T), x * keep[..., None])


def test_max_len_bound_avoids_sync_and_clips():
    x = torch.arange(12.0).view(1, 6, 2)
    keep = torch.tensor([[1, 0, 1, 1, 0, 1]], dtype=torch.bool)
    for fn in (compact_reference, compact_triton):
        out, lengths, index = fn(x, keep, max_len=6)
        assert out.shape == (1, 6, 2) and lengths.tolist() == [4] and index.tolist() == [[0, 2, 3, 5, -1, -1]]
        out, lengths, index = fn(x, keep, max_len=2)
        assert lengths.tolist() == [2] and index.tolist() == [[0, 2]] and out[0, 1].tolist() == [4.0, 5.0]


@pytest.mark.parametrize("backend", ["torch", "triton"])
def test_dispatch_is_differentiable(backend):
    torch.manual_seed(2)
    x = torch.randn(2, 7, 3, requires_grad=True)
    keep = torch.rand(2, 7) < 0.6
    out, lengths, index = compact(x, keep, backend=backend)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    assert torch.equal(x.grad, scatter_back(w, index, 7))


def test_bad_input():
    x = torch.randn(2, 3, 4)
    with pytest.raises(InputError, match=r"keep must be \[B, T\]"):
        compact(x, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(InputError, match=r"x must be \[B, T, D\]"):
        compact(torch.randn(3, 4), torch.ones(3, 4, dtype=torch.bool))
    with pytest.raises(InputError, match="backend"):
        compact(x, torch.ones(2, 3, dtype=torch.bool), backend="cuda")
