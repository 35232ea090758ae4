"""TokenMerge: bipartite soft matching against a plain-loop implementation of ToMe's rule, size tracking,
order keeping, unmerge, padding."""

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings, strategies as st  # noqa: E402

from tokkit.dynamic.tome import TokenMerge, log_size_bias, unmerge  # noqa: E402
from tokkit.errors import InputError  # noqa: E402


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


@settings(max_examples=25, deadline=None)
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
    st = TokenMerge(3, protect_first=True, backend="torch")
    with pytest.raises(InputError, match="exceeds"):
        st(TokenMerge.init(x))
    out = TokenMerge(2, protect_first=True, backend="torch")(TokenMerge.init(x))
    assert int((out.source[0] == out.source[0, 0]).sum()) == 1   # the first token stays alone
    assert out.x.shape[1] == 4
    one = TokenMerge(5)(TokenMerge.init(torch.randn(1, 1, 4)))
    assert one.x.shape == (1, 1, 4)                        # nothing to merge with
    with pytest.raises(InputError, match="NaN"):
        TokenMerge(1)(TokenMerge.init(torch.full((1, 4, 2), float("nan"))))
    with pytest.raises(InputError, match="non-negative"):
        TokenMerge(-1)
