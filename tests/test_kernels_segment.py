"""Segment mean (forward and backward) and the ToMe scatter-add: triton on the CPU interpreter equals the
torch references, which equal plain loops."""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

from tokkit.errors import InputError  # noqa: E402
from tokkit.kernels.segment import segment_gather, segment_mean, segment_mean_reference  # noqa: E402
from tokkit.kernels.tome_scatter import tome_scatter_add, tome_scatter_add_reference, tome_scatter_add_triton  # noqa: E402


def loop_mean(x, ids, S):
    out = torch.zeros(S, x.shape[-1], dtype=torch.float64)
    for s in range(S):
        rows = x[ids == s]
        if len(rows):
            out[s] = rows.double().mean(0)
    return out


def ids_for(case, N, S, g):
    if case == "sorted":
        return torch.sort(torch.randint(0, S, (N,), generator=g)).values
    if case == "shuffled":
        return torch.randint(0, S, (N,), generator=g)
    if case == "with padding":
        ids = torch.randint(0, S, (N,), generator=g)
        ids[N // 2:] = -1
        return ids
    if case == "one segment":
        return torch.zeros(N, dtype=torch.long)
    if case == "all dropped":
        return torch.full((N,), -1, dtype=torch.long)
    raise AssertionError(case)


CASES = ["sorted", "shuffled", "with padding", "one segment", "all dropped"]
TOL = {torch.float32: (1e-5, 1e-5), torch.bfloat16: (2e-2, 2e-2), torch.float16: (2e-3, 2e-3)}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_forward_backward_triton_equals_reference(case, dtype):
    g = torch.Generator().manual_seed(0)
    N, S, D = 13, 5, 18
    ids = ids_for(case, N, S, g)
    x = torch.randn(N, D, generator=g).to(dtype)
    ref = segment_mean_reference(x, ids, S)
    atol, rtol = TOL[dtype]
    torch.testing.assert_close(ref.double(), loop_mean(x, ids, S), atol=atol, rtol=rtol)
    outs, grads = [], []
    w = torch.randn(S, D, generator=g).to(dtype)
    for backend in ("torch", "triton"):
        xx = x.clone().requires_grad_(True)
        y = segment_mean(xx, ids, S, backend=backend)
        (y.float() * w.float()).sum().backward()
        outs.append(y)
        grads.append(xx.grad)
    torch.testing.assert_close(outs[1], outs[0], atol=atol, rtol=rtol)
    torch.testing.assert_close(outs[0], ref, atol=0, rtol=0)
    # backward: dx[n] = w[id(n)] / count(id(n)); zero for dropped rows
    counts = torch.bincount(ids[ids >= 0], minlength=S).clamp(min=1)
    expect = torch.where((ids >= 0)[:, None], w.float()[ids.clamp(min=0)] / counts[ids.clamp(min=0)][:, None], 0.0)
    for gr in grads:
        assert gr.dtype == dtype
        torch.testing.assert_close(gr.float(), expect, atol=atol, rtol=rtol)


@pytest.mark.parametrize("backend", ["torch", "triton"])
def test_batched_ids_are_per_sequence(backend):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 6, 4, generator=g, dtype=torch.float64).float()
    ids = torch.tensor([[0, 0, 1, 1, 1, -1], [0, 1, 2, 2, -1, -1]])
    y = segment_mean(x, ids, 3, backend=backend)
    assert y.shape == (2, 3, 4)
    for b in range(2):
        torch.testing.assert_close(y[b].double(), loop_mean(x[b], ids[b], 3), atol=1e-6, rtol=1e-6)
    up = segment_gather(y, ids)
    assert up.shape == x.shape and torch.equal(up[0, 2], y[0, 1]) and torch.equal(up[0, 5], torch.zeros(4))


@pytest.mark.parametrize("shape", [(0, 4), (1, 4), (5, 0)])
def test_empty_and_single(shape):
    x = torch.randn(*shape)
    ids = torch.zeros(shape[0], dtype=torch.long)
    for backend in ("torch", "triton"):
        y = segment_mean(x, ids, 2, backend=backend)
        assert y.shape == (2, shape[1])
        torch.testing.assert_close(y, segment_mean_reference(x, ids, 2))
    assert segment_mean(x, ids, 0 if shape[0] == 0 else 1).shape[0] == (0 if shape[0] == 0 else 1)


@pytest.mark.slow
def test_gradcheck_reference_and_triton():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(7, 3, dtype=torch.float64, generator=g, requires_grad=True)
    ids = torch.tensor([0, 2, 2, -1, 0, 1, 2])
    torch.autograd.gradcheck(lambda t: segment_mean(t, ids, 4, backend="torch"), (x,))
    # the triton kernels accumulate in float32: check in float32, with a step the float32 rounding of a
    # linear map cannot swamp (finite differences of a mean are exact up to that rounding)
    x32 = x.detach().float().requires_grad_(True)
    with pytest.warns(UserWarning, match="double precision"):
        assert torch.autograd.gradcheck(lambda t: segment_mean(t, ids, 4, backend="triton"), (x32,), eps=1e-2,
                                        atol=1e-3, rtol=1e-3)


@settings(max_examples=20)  # each example runs triton's CPU interpreter: a cap in every profile
@given(N=st.integers(0, 20), S=st.integers(1, 6), D=st.integers(1, 5), seed=st.integers(0, 99))
def test_property_reference_equals_loop(N, S, D, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, generator=g)
    ids = torch.randint(-1, S, (N,), generator=g)
    torch.testing.assert_close(segment_mean_reference(x, ids, S).double(), loop_mean(x, ids, S),
                               atol=1e-5, rtol=1e-5)


def test_segment_bad_input():
    x = torch.randn(4, 3)
    with pytest.raises(InputError, match="num_segments=2"):
        segment_mean(x, torch.tensor([0, 1, 2, 0]), 2)
    with pytest.raises(InputError, match="integers"):
        segment_mean(x, torch.zeros(4), 2)
    with pytest.raises(InputError, match="expected x"):
        segment_mean(x, torch.zeros(3, dtype=torch.long), 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_tome_scatter_triton_equals_reference(dtype):
    g = torch.Generator().manual_seed(4)
    B, M, R, C = 2, 5, 4, 7
    dst = torch.randn(B, M, C, generator=g).to(dtype)
    src = torch.randn(B, R, C, generator=g).to(dtype)
    index = torch.tensor([[0, 0, 3, 4], [2, 2, 2, 1]])  # repeated destinations
    ref = tome_scatter_add_reference(dst, index, src)
    loop = dst.double().clone()
    for b in range(B):
        for j in range(R):
            loop[b, index[b, j]] += src[b, j].double()
    atol = 1e-5 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(ref.double(), loop, atol=atol, rtol=atol)
    torch.testing.assert_close(tome_scatter_add_triton(dst, index, src), ref, atol=atol, rtol=atol)
    # empty merge and gradients through the triton path
    assert torch.equal(tome_scatter_add_triton(dst, index[:, :0], src[:, :0]), dst)
    d = dst.float().clone().requires_grad_(True)
    s = src.float().clone().requires_grad_(True)
    w = torch.randn(B, M, C, generator=g)
    (tome_scatter_add(d, index, s, backend="triton") * w).sum().backward()
    assert torch.equal(d.grad, w)
    assert torch.equal(s.grad, w.gather(1, index[..., None].expand(-1, -1, C)))


def test_tome_scatter_bad_input():
    with pytest.raises(InputError, match="out of range"):
        tome_scatter_add(torch.zeros(1, 2, 3), torch.tensor([[2]]), torch.zeros(1, 1, 3))
