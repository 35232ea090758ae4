"""ToMe scatter-reduce: add source rows into destination rows by index (the merge step of bipartite soft
matching, applied to size-weighted features and to sizes).

    out = tome_scatter_add(dst, index, src)
    # dst[B, M, C], index[B, r] (rows of dst), src[B, r, C] -> out[B, M, C]
    # out[b, index[b, j]] += src[b, j]; several sources may hit one destination

`tome_scatter_add_reference` is torch's scatter_add; the triton kernel copies dst and atomically adds one
source row per program. `tome_scatter_add` dispatches and is differentiable in dst and src either way.
"""

from __future__ import annotations

from ..errors import InputError
from ._triton import block_size, triton_kernels, use_triton

__all__ = ["tome_scatter_add", "tome_scatter_add_reference"]


def _check(dst, index, src):
    import torch

    if dst.dim() != 3 or src.dim() != 3 or index.dim() != 2:
        raise InputError(f"tome_scatter_add: expected dst[B, M, C], index[B, r], src[B, r, C]; got "
                         f"{tuple(dst.shape)}, {tuple(index.shape)}, {tuple(src.shape)}")
    B, M, C = dst.shape
    if src.shape[0] != B or src.shape[2] != C or index.shape != src.shape[:2]:
        raise InputError(f"tome_scatter_add: shapes disagree: dst {tuple(dst.shape)}, index "
                         f"{tuple(index.shape)}, src {tuple(src.shape)}")
    if index.dtype.is_floating_point:
        raise InputError("tome_scatter_add: index must be integer")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= M):
        raise InputError(f"tome_scatter_add: index out of range [0, {M})")
    return index.to(device=dst.device, dtype=torch.long)


def tome_scatter_add_reference(dst, index, src):
    index = _check(dst, index, src)
    return dst.scatter_add(1, index[..., None].expand(-1, -1, dst.shape[2]), src.to(dst.dtype))


@triton_kernels
def _kernel(triton, tl):
    @triton.jit
    def _scatter_add_kernel(out_ptr, index_ptr, src_ptr, M, R, C, BLOCK_C: tl.constexpr):
        # one program per source row (b, j): out[b, index[b, j]] += src[b, j]
        row = tl.program_id(0)
        b = row // R
        dst = b.to(tl.int64) * M + tl.load(index_ptr + row)
        for start in range(0, C, BLOCK_C):
            c = start + tl.arange(0, BLOCK_C)
            m = c < C
            v = tl.load(src_ptr + row.to(tl.int64) * C + c, mask=m, other=0.0)
            tl.atomic_add(out_ptr + dst * C + c, v.to(out_ptr.dtype.element_ty), mask=m)

    return _scatter_add_kernel


def tome_scatter_add_triton(dst, index, src):
    import torch

    index = _check(dst, index, src)
    # atomics add in fp32: half-precision atomics are missing or slow on most hardware
    out = dst.to(torch.float32, copy=True).contiguous()
    B, R, C = src.shape
    if B * R and C:
        _kernel()[(B * R,)](out, index.contiguous(), src.contiguous(), dst.shape[1], R, C, BLOCK_C=block_size(C))
    return out.to(dst.dtype)


_Fn = None


def _autograd_fn():
    import torch

    class _ScatterAdd(torch.autograd.Function):
        @staticmethod
        def forward(ctx, dst, index, src):
            ctx.save_for_backward(index)
            ctx.src_dtype = src.dtype
            return tome_scatter_add_triton(dst, index, src)

        @staticmethod
        def backward(ctx, g):
            (index,) = ctx.saved_tensors
            gs = g.gather(1, index[..., None].expand(-1, -1, g.shape[2])).to(ctx.src_dtype)
            return g, None, gs

    return _ScatterAdd


def tome_scatter_add(dst, index, src, *, backend: str = "auto"):
    """out[b, index[b, j]] += src[b, j] over a copy of dst; see the module docstring."""
    global _Fn
    if not use_triton(dst, backend=backend):
        return tome_scatter_add_reference(dst, index, src)
    if _Fn is None:
        _Fn = _autograd_fn()

    return _Fn.apply(dst, _check(dst, index, src), src)
