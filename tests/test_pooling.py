"""BoundaryPooler: segment ids from boundaries, pooling equal to per-segment means, upsampling, losses."""

import math

import pytest

torch = pytest.importorskip("torch")

from tokkit.dynamic.pooling import BoundaryPooler, segment_ids_from_boundaries  # noqa: E402
from tokkit.errors import InputError  # noqa: E402


def test_segment_ids_from_boundaries():
    b = torch.tensor([[0, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    ids, n = segment_ids_from_boundaries(b, mask)
    assert ids.tolist() == [[0, 0, 1, 1, 1, 2], [0, 1, 1, -1, -1, -1]]
    assert n.tolist() == [3, 2]                            # the last real token always closes a segment


def test_given_boundaries_pool_to_segment_means_and_upsample():
    torch.manual_seed(0)
    pool = BoundaryPooler(6).eval()
    x = torch.randn(2, 7, 6)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3], dtype=torch.bool)
    b = torch.tensor([[1, 0, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0]])
    out = pool(x, mask, boundaries=b)
    assert out.pooled.shape == (2, 4, 6)
    assert out.pooled_mask.tolist() == [[True] * 4, [True, False, False, False]]
    segs = [[0], [1, 2, 3], [4, 5], [6]]
    for s, idx in enumerate(segs):
        assert torch.allclose(out.pooled[0, s], x[0, idx].mean(0), atol=1e-6)
    assert torch.allclose(out.pooled[1, 0], x[1, :4].mean(0), atol=1e-6)
    up = pool.upsample(out.pooled, out)
    assert up.shape == x.shape and torch.equal(up[0, 2], out.pooled[0, 1]) and torch.equal(up[1, 5], torch.zeros(6))


def test_predicted_boundaries_train_and_eval():
    torch.manual_seed(1)
    pool = BoundaryPooler(8, prior=0.3)
    x = torch.randn(3, 20, 8, requires_grad=True)
    out = pool(x)                                          # training: relaxed Bernoulli
    assert out.pooled.shape[1] == int(out.lengths.max())
    loss = out.pooled.sum() + pool.prior_loss(out)
    loss.backward()
    assert x.grad is not None and pool.predictor[0].weight.grad is not None
    pool.eval()
    e1, e2 = pool(x.detach()), pool(x.detach())
    assert torch.equal(e1.segment_ids, e2.segment_ids)     # deterministic at eval
    assert torch.equal(e1.boundaries, (e1.probs > 0.5).float())


def test_prior_loss_is_binomial_nll():
    pool = BoundaryPooler(4, prior=0.25).eval()
    x = torch.randn(1, 8, 4)
    b = torch.tensor([[0, 1, 0, 0, 0, 1, 0, 1]])
    out = pool(x, boundaries=b)
    k, n, p = 3, 8, 0.25
    nll = -(math.log(math.comb(n, k)) + k * math.log(p) + (n - k) * math.log(1 - p)) / n
    assert float(pool.prior_loss(out)) == pytest.approx(nll, rel=1e-5)
    sup = pool.supervised_loss(out, b)
    assert float(sup.detach()) > 0


def test_supervised_loss_learns_given_boundaries():
    torch.manual_seed(2)
    pool = BoundaryPooler(4, hidden=16)
    x = torch.randn(4, 12, 4)
    target = (x[..., 0] > 0).float()                       # a learnable rule
    opt = torch.optim.Adam(pool.parameters(), lr=0.05)
    for _ in range(60):
        out = pool(x)
        loss = pool.supervised_loss(out, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    pool.eval()
    acc = float(((pool(x).probs > 0.5).float() == target).float().mean())
    assert acc > 0.9


def test_bad_input():
    pool = BoundaryPooler(4)
    with pytest.raises(InputError, match="length-0"):
        pool(torch.randn(2, 0, 4))
    with pytest.raises(InputError, match="NaN"):
        pool(torch.full((1, 3, 4), float("nan")))
    with pytest.raises(InputError, match="prior"):
        BoundaryPooler(4, prior=0.0)
    with pytest.raises(InputError, match="mask"):
        pool(torch.randn(1, 3, 4), torch.ones(1, 2))
    one = pool.eval()(torch.randn(2, 1, 4))
    assert one.pooled.shape == (2, 1, 4)                   # a length-1 sequence is one segment
