"""TokenMerge: bipartite soft matching against a plain-loop implementation of ToMe's rule and against a
restatement of ToMe's own code, size tracking, order keeping, unmerge, padding.

`tome_oracle` restates facebookresearch/ToMe at commit af95e4b1befa172dadccd8c81e223b10090f9579
(tome/merge.py: bipartite_soft_matching with class_token, merge_wavg): r capped at (N - protected) // 2,
cosine scores of even (A) to odd (B) tokens, the class token's row set to -inf, A tokens ranked by their best
score, the top r summed into their B partners (x * size and size, then divided), output [unmerged A sorted
when there is a class token, B].
"""

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

from tokkit.dynamic.tome import TokenMerge, log_size_bias, unmerge  # noqa: E402
from tokkit.errors import InputError  # noqa: E402


def tome_oracle(metric, x, size, r, class_token=False):
    """One call of ToMe on [B, N, C] tensors (size [B, N, 1]); returns (x, size, src, dst, unm)."""
    r = min(r, (metric.shape[1] - int(class_token)) // 2)
    if r <= 0:
        return x, size
    m = metric / metric.norm(dim=-1, keepdim=True)
    scores = m[:, ::2] @ m[:, 1::2].transpose(-1, -2)
    if class_token:
        scores[:, 0, :] = -float("inf")
    node_max, node_idx = scores.max(-1)
    order = node_max.argsort(-1, descending=True)
    src, unm = order[:, :r], order[:, r:]
    if class_token:
        unm = unm.sort(1).values
    dst = node_idx.gather(1, src)

    def merge_sum(v):
        a, b = v[:, ::2], v[:, 1::2]
        c = v.shape[-1]
        kept = a.gather(1, unm[..., None].expand(-1, -1, c))
        moved = a.gather(1, src[..., None].expand(-1, -1, c))
        return torch.cat([kept, b.scatter_reduce(1, dst[..., None].expand(-1, -1, c), moved, reduce="sum")], 1)

    xs, s = merge_sum(x * size), merge_sum(size)
    return xs / s, s


@pytest.mark.parametrize("class_token", [False, True])
@pytest.mark.parametrize("N,r", [(16, 3), (17, 5), (6, 3), (7, 4), (10, 9)])
def test_one_call_equals_tome(N, r, class_token):
    g = torch.Generator().manual_seed(N * 31 + r)
    x = torch.randn(3, N, 5, generator=g, dtype=torch.float64)
    want_x, want_s = tome_oracle(x, x, torch.ones(3, N, 1, dtype=torch.float64), r, class_token)
    st = TokenMerge(r, keep_order=False, protect_first=class_token, backend="torch")(TokenMerge.init(x))
    assert st.x.shape == want_x.shape      # for even N and r >= N/2 ToMe lowers r; so does tokkit
    assert torch.allclose(st.x, want_x, atol=1e-12) and torch.equal(st.size, want_s[..., 0])


def test_class_token_stays_first_and_unmerged_over_five_calls_as_tome():
    """The bug: with keep_order=False the class token left slot 0, so protect_first guarded another token."""
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(2, 40, 6, generator=g, dtype=torch.float64)
        x[:, 0] = x[:, 1:].mean(1) + 0.01 * torch.randn(2, 6, generator=g, dtype=torch.float64)  # very mergeable
        want_x, want_s = x, torch.ones(2, 40, 1, dtype=torch.float64)
        tm = TokenMerge(4, keep_order=False, protect_first=True, backend="torch")
        st = tm.init(x)
        for _ in range(5):
            want_x, want_s = tome_oracle(want_x, want_x, want_s, 4, class_token=True)
            st = tm(st)
            assert torch.allclose(st.x, want_x, atol=1e-12) and torch.equal(st.size, want_s[..., 0])
            assert torch.equal(st.source[:, 0], torch.zeros(2, dtype=torch.long))   # class token in slot 0
            assert torch.equal(st.size[:, 0], torch.ones(2, dtype=torch.float64))    # and never merged
            assert torch.equal(st.x[:, 0], x[:, 0])


def test_padding_does_not_use_up_r():
    """The bug: padding pairs scored highest and merged first (1 real merge instead of 3)."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 16, 4, generator=g, dtype=torch.float64)
    mask = torch.ones(2, 16, dtype=torch.bool)
    mask[1, 10:] = False
    st = TokenMerge(3, backend="torch")(TokenMerge.init(x, mask))
    alone = TokenMerge(3, backend="torch")(TokenMerge.init(x[1:, :10]))
    real_slots = st.source[1, :10]
    assert real_slots.unique().numel() == 10 - 3                   # three real merges in the padded row
    # the same groups of real tokens as the row without padding
    groups = {frozenset((real_slots == s).nonzero().squeeze(1).tolist()) for s in real_slots.unique()}
    groups_alone = {frozenset((alone.source[0] == s).nonzero().squeeze(1).tolist()) for s in alone.source[0].unique()}
    assert groups == groups_alone
    # padding merges only when a row runs out of real merges: 2 real tokens and r=3 -> 1 real + 2 padding
    m2 = torch.zeros(1, 10, dtype=torch.bool)
    m2[0, :2] = True
    st2 = TokenMerge(3, backend="torch")(TokenMerge.init(x[:1, :10], m2))
    assert st2.source[0, 0] == st2.source[0, 1] and int(st2.mask.sum()) == 1


def test_all_zero_metric_row_is_clamped_not_nan():
    x = torch.randn(1, 6, 3)
    x[0, 2] = 0.0
    st = TokenMerge(2, backend="torch")(TokenMerge.init(x))
    assert torch.isfinite(st.x).all()
    m = x / x.norm(dim=-1, keepdim=True)               # ToMe's normalisation: NaN on the zero row
    assert torch.isnan(m[0, 2]).all()


def loop_merge(x, size, r):
    """One sequence, ToMe's rule written out: returns {frozenset(original members): mean vector}."""
    N = x.shape[0]
    k = x / x.norm(dim=-1, keepdim=True)
    A, B = list(range(0, N, 2)), list(range(1, N, 2))
    best = {a: max(B, key=lambda b: (float(k[a] @ k[b]), -b)) for a in A}
    score = {a: float(k[a] @ k[best[a]]) for a in A}
    merged = sorted(A, key=lambda a: (-score[a], a))[:r]
    groups = {b: [b] for b in B}
    for a in merged:
        groups[best[a]].append(a)
    for a in A:
        if a not in merged:
            groups[a] = [a]
    out = {}
    for members in groups.values():
        w = size[members]
        out[frozenset(members)] = ((x[members] * w[:, None]).sum(0) / w.sum(), float(w.sum()))
    return out


@settings(max_examples=25)  # each example runs triton's CPU interpreter: a cap in every profile
@given(N=st.integers(2, 11), r=st.integers(0, 6), seed=st.integers(0, 999))
def test_single_merge_matches_loop(N, r, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, N, 4, generator=g, dtype=torch.float64)
    tm = TokenMerge(r, backend="torch")
    st0 = tm.init(x)
    st1 = tm(st0)
    expect = loop_merge(x[0], torch.ones(N, dtype=torch.float64), min(r, N // 2))
    assert st1.x.shape[1] == N - min(r, N // 2)
    # group the originals by the slot that holds them
    got = {}
    for slot in range(st1.x.shape[1]):
        members = frozenset((st1.source[0] == slot).nonzero().squeeze(1).tolist())
        got[members] = (st1.x[0, slot], float(st1.size[0, slot]))
    assert got.keys() == expect.keys()
    for m, (v, s) in expect.items():
        assert torch.allclose(got[m][0], v) and got[m][1] == s
    # order kept: slots (dict order = slot order) sit at their B member's position, or their own
    pos = [next(i for i in m if i % 2 == 1) if len(m) > 1 else min(m) for m in got]
    assert pos == sorted(pos)


def test_repeated_merges_track_sizes_and_unmerge():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 8)
    tm = TokenMerge(3, backend="torch")
    st = tm.init(x)
    for _ in range(4):
        st = tm(st)
    assert st.x.shape == (2, 4, 8)
    assert torch.equal(st.size.sum(1), torch.full((2,), 16.0))
    # each slot is exactly the mean of the originals it holds
    for b in range(2):
        for slot in range(4):
            members = st.source[b] == slot
            assert int(members.sum()) == int(st.size[b, slot])
            assert torch.allclose(st.x[b, slot], x[b, members].mean(0), atol=1e-5)
    full = unmerge(st.x, st.source)
    assert full.shape == x.shape and torch.equal(full[0, st.source[0] == 0][0], st.x[0, 0])
    bias = log_size_bias(st.size)
    assert bias.shape == (2, 1, 1, 4) and torch.allclose(bias.exp().squeeze(), st.size)


def test_triton_scatter_backend_equals_torch():
    pytest.importorskip("triton")
    torch.manual_seed(1)
    x = torch.randn(2, 9, 5)
    a = TokenMerge(3, backend="torch")(TokenMerge.init(x))
    b = TokenMerge(3, backend="triton")(TokenMerge.init(x))
    assert torch.equal(a.source, b.source) and torch.allclose(a.x, b.x, atol=1e-6)


def test_padding_never_merges_with_real_tokens():
    torch.manual_seed(2)
    x = torch.randn(2, 10, 4)
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[1, 6:] = False
    st = TokenMerge(2, backend="torch")(TokenMerge.init(x, mask))
    for b in range(2):
        for slot in range(st.x.shape[1]):
            members = mask[b][st.source[b] == slot]
            assert members.all() or (~members).all()
            assert bool(st.mask[b, slot]) == bool(members.all())


def test_protect_first_and_edge_cases():
    torch.manual_seed(3)
    x = torch.randn(1, 6, 4)
    lowered = TokenMerge(3, protect_first=True, backend="torch")(TokenMerge.init(x))
    assert lowered.x.shape[1] == 4                         # r = min(3, (6 - 1) // 2) as ToMe
    out = TokenMerge(2, protect_first=True, backend="torch")(TokenMerge.init(x))
    assert int((out.source[0] == out.source[0, 0]).sum()) == 1   # the first token stays alone
    assert out.x.shape[1] == 4
    one = TokenMerge(5)(TokenMerge.init(torch.randn(1, 1, 4)))
    assert one.x.shape == (1, 1, 4)                        # nothing to merge with
    with pytest.raises(InputError, match="NaN"):
        TokenMerge(1)(TokenMerge.init(torch.full((1, 4, 2), float("nan"))))
    with pytest.raises(InputError, match="non-negative"):
        TokenMerge(-1)
