"""Keep-mask compaction of a batch: drop the rows of x[B, T, D] where keep is False, shift the kept rows
left in their original order, pad each sequence to a common length.

    out, lengths, index = compact(x, keep)
    # out[B, T', D]   kept rows, zeros after lengths[b]
    # lengths[B]      kept rows per sequence (int64)
    # index[B, T']    original position of each output row, -1 on padding (int64)

T' is the longest kept length, which costs one host sync; pass `max_len` (a bound you already know, e.g. T)
to avoid it (rows past max_len are dropped and lengths clipped). Implementations: `compact_reference`
(torch: nonzero + index_select row gather, ~10x faster than an element gather with an expanded index) and
`compact_triton` (a per-row prefix-sum kernel, then a row-copy kernel). `compact` dispatches and is
differentiable in x either way.
"""

from __future__ import annotations

from ..errors import InputError
from ._triton import block_size, triton_kernels, use_triton

__all__ = ["compact", "compact_reference", "compact_triton", "scatter_back"]


def _check(x, keep):
    import torch

    if not isinstance(x, torch.Tensor) or not isinstance(keep, torch.Tensor):
        raise InputError("compact: x and keep must be torch tensors")
    if x.dim() != 3:
        raise InputError(f"compact: x must be [B, T, D], got shape {tuple(x.shape)}")
    if keep.shape != x.shape[:2]:
        raise InputError(f"compact: keep must be [B, T] = {tuple(x.shape[:2])}, got {tuple(keep.shape)}")
    if keep.dtype != torch.bool:
        keep = keep != 0
    return keep.to(x.device)


def _out_len(lengths, T: int, max_len: int | None) -> int:
    if max_len is not None:
        if max_len < 0:
            raise InputError(f"compact: max_len must be >= 0, got {max_len}")
        return int(max_len)
    return int(lengths.max()) if lengths.numel() else 0  # the one host sync


def compact_reference(x, keep, max_len: int | None = None):
    """Plain torch: output slots from a cumulative sum, rows moved by one index_select (a row gather;
    index_copy / element gathers with an expanded index are several times slower on the CPU)."""
    import torch

    keep = _check(x, keep)
    B, T, D = x.shape
    counts = keep.sum(1)
    Tout = _out_len(counts, T, max_len)
    dest = keep.long().cumsum(1) - 1                          # [B, T] output slot of each kept row
    ok = keep & (dest < Tout)
    src = ok.reshape(-1).nonzero().squeeze(1)                 # flat source rows
    b = src // T if T else src
    dst = b * Tout + dest.reshape(-1)[src]                    # flat destination rows
    gidx = torch.zeros(B * Tout, dtype=torch.long, device=x.device)
    gidx[dst] = src
    valid = torch.zeros(B * Tout, dtype=torch.bool, device=x.device)
    valid[dst] = True
    out = x.reshape(B * T, D).index_select(0, gidx).masked_fill(~valid[:, None], 0)
    row0 = torch.arange(B * Tout, device=x.device) // max(Tout, 1) * T
    index = torch.where(valid, gidx - row0, torch.full_like(gidx, -1))
    return out.view(B, Tout, D), counts.clamp(max=Tout), index.view(B, Tout)


def scatter_back(y, index, T: int, fill: float = 0.0):
    """Inverse of compact: y[B, T', D] back to [B, T, D] at the original positions (fill elsewhere)."""
    import torch

    B, Tout, D = y.shape
    if index.shape != (B, Tout):
        raise InputError(f"scatter_back: index must be [B, T'] = {(B, Tout)}, got {tuple(index.shape)}")
    flat = index.reshape(-1)
    valid = flat >= 0
    slots = torch.arange(B * Tout, device=y.device)
    orig = (slots // max(Tout, 1)) * T + flat.clamp(min=0)
    inv = torch.full((B * T,), -1, dtype=torch.long, device=y.device)   # original row -> output slot
    inv[orig[valid]] = slots[valid]
    out = y.reshape(B * Tout, D).index_select(0, inv.clamp(min=0)) if B * Tout else y.new_zeros(B * T, D)
    out = out.masked_fill((inv < 0)[:, None], fill)
    return out.view(B, T, D)


# ---------------------------------------------------------------------------------------------- triton

@triton_kernels
def _kernels(triton, tl):
    @triton.jit
    def _scan_kernel(keep_ptr, index_ptr, len_ptr, T, Tout, BLOCK_T: tl.constexpr):
        # one program per sequence: running prefix sum over the keep row, index[b, dest] = t
        b = tl.program_id(0)
        carry = tl.zeros((), dtype=tl.int32)
        for start in range(0, T, BLOCK_T):
            t = start + tl.arange(0, BLOCK_T)
            inb = t < T
            k = tl.load(keep_ptr + b * T + t, mask=inb, other=0).to(tl.int32)
            dest = tl.cumsum(k, 0) + carry - 1
            ok = (k != 0) & (dest < Tout) & inb
            tl.store(index_ptr + b * Tout + dest, t.to(tl.int64), mask=ok)
            carry += tl.sum(k, 0)
        tl.store(len_ptr + b, tl.minimum(carry, Tout).to(tl.int64))

    @triton.jit
    def _gather_rows_kernel(x_ptr, index_ptr, out_ptr, T, Tout, D, BLOCK_D: tl.constexpr):
        # one program per output row: copy the source row or write zeros on padding
        row = tl.program_id(0)
        b = row // Tout
        src = tl.load(index_ptr + row)
        src_row = b.to(tl.int64) * T + tl.maximum(src, 0)
        lim = tl.where(src >= 0, D, 0)  # padding rows read nothing and store zeros
        for start in range(0, D, BLOCK_D):
            d = start + tl.arange(0, BLOCK_D)
            m = d < D
            v = tl.load(x_ptr + src_row * D + d, mask=d < lim, other=0.0)
            tl.store(out_ptr + row.to(tl.int64) * D + d, v, mask=m)

    return (_scan_kernel, _gather_rows_kernel)


def _compact_index_triton(keep, Tout: int):
    import torch

    scan, _ = _kernels()
    B, T = keep.shape
    index = torch.full((B, Tout), -1, dtype=torch.long, device=keep.device)
    lengths = torch.empty(B, dtype=torch.long, device=keep.device)
    if B and T:
        scan[(B,)](keep.to(torch.int8).contiguous(), index, lengths, T, Tout, BLOCK_T=block_size(T))
    else:
        lengths.zero_()
    return index, lengths


def _gather_rows_triton(x, index):
    import torch

    _, gather = _kernels()
    B, T, D = x.shape
    Tout = index.shape[1]
    out = torch.empty(B, Tout, D, dtype=x.dtype, device=x.device)
    if B * Tout and D:
        gather[(B * Tout,)](x.contiguous(), index, out, T, Tout, D, BLOCK_D=block_size(D))
    elif B * Tout:
        out.zero_()
    return out


def compact_triton(x, keep, max_len: int | None = None):
    """Triton kernels (CUDA tensors, or CPU under TRITON_INTERPRET=1). Not differentiable by itself:
    `compact` wraps it in an autograd Function."""
    keep = _check(x, keep)
    Tout = _out_len(keep.sum(1) if max_len is None else None, keep.shape[1], max_len)
    index, lengths = _compact_index_triton(keep, Tout)
    return _gather_rows_triton(x, index), lengths, index


def _autograd_fn():
    import torch

    class _Compact(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, keep, max_len):
            out, lengths, index = compact_triton(x, keep, max_len)
            ctx.save_for_backward(index)
            ctx.T = x.shape[1]
            ctx.mark_non_differentiable(lengths, index)
            return out, lengths, index

        @staticmethod
        def backward(ctx, g_out, g_len, g_index):
            (index,) = ctx.saved_tensors
            return scatter_back(g_out, index, ctx.T), None, None

    return _Compact


_Fn = None


def compact(x, keep, *, max_len: int | None = None, backend: str = "auto"):
    """Order-preserving left compaction of x[B, T, D] by keep[B, T]; returns (out, lengths, index).

    backend 'auto' uses the triton kernels on CUDA tensors and the torch reference elsewhere."""
    global _Fn
    keep = _check(x, keep)
    if not use_triton(x, backend=backend):
        return compact_reference(x, keep, max_len)
    import torch

    if torch.is_grad_enabled() and x.requires_grad:
        if _Fn is None:
            _Fn = _autograd_fn()
        return _Fn.apply(x, keep, max_len)
    return compact_triton(x, keep, max_len)
