"""Segment-mean pooling: average the rows of x that share a segment id, differentiable.

    pooled = segment_mean(x, segment_ids, num_segments)
    # x[N, D],    segment_ids[N]    -> pooled[S, D]
    # x[B, T, D], segment_ids[B, T] -> pooled[B, S, D]   (ids are per sequence)

Ids may come in any order (they need not be sorted or contiguous); a negative id drops the row (padding);
an empty segment pools to zeros. Sums accumulate in float32 (float64 for float64 input in the torch path).
The backward pass is a row gather: d x[n] = d pooled[id(n)] / count[id(n)].

Implementations: `segment_mean_reference` (torch index_add / index_select; the dense one-hot matrix of
dynamic-pooling gives the same numbers and was 1.7x slower on this CPU) and triton kernels (an atomic
row-add forward, a row-gather backward), both behind one autograd Function; `segment_mean` dispatches
(triton on CUDA tensors). `segment_gather(pooled, ids)` is the matching upsampling (pooled row per token).
"""

from __future__ import annotations

from ..errors import InputError
from ._triton import block_size, triton_kernels, use_triton

__all__ = ["segment_mean", "segment_mean_reference", "segment_gather", "segment_counts"]


def _flatten(x, ids, num_segments: int, validate: bool):
    """-> (rows[N, D], flat ids[N] (negative = drop), batch, S)."""
    import torch

    if not isinstance(x, torch.Tensor) or not isinstance(ids, torch.Tensor):
        raise InputError("segment_mean: x and segment_ids must be torch tensors")
    if ids.dtype.is_floating_point or ids.dtype == torch.bool:
        raise InputError(f"segment_mean: segment_ids must be integers, got {ids.dtype}")
    if x.dim() not in (2, 3) or ids.shape != x.shape[:-1]:
        raise InputError(f"segment_mean: expected x[N, D] with ids[N] or x[B, T, D] with ids[B, T]; "
                         f"got x {tuple(x.shape)}, ids {tuple(ids.shape)}")
    S = int(num_segments)
    if S < 0:
        raise InputError(f"segment_mean: num_segments must be >= 0, got {num_segments}")
    ids = ids.to(device=x.device, dtype=torch.long)
    if validate and ids.numel() and int(ids.max()) >= S:
        raise InputError(f"segment_mean: segment id {int(ids.max())} >= num_segments={S}")
    D = x.shape[-1]
    if x.dim() == 3:
        B, T = ids.shape
        off = (torch.arange(B, device=x.device) * S)[:, None]
        flat = torch.where(ids >= 0, ids + off, ids).reshape(-1)
        return x.reshape(B * T, D), flat, B, S
    return x, ids, None, S


def _shape(out, batch, S):
    return out if batch is None else out.view(batch, S, out.shape[-1])


def segment_counts(flat, total: int):
    import torch

    valid = flat >= 0
    return torch.bincount(flat[valid], minlength=total)[:total] if total else flat.new_zeros(0)


# ----------------------------------------------------------------------------------- torch reference

def _fwd_torch(rows, flat, total):
    import torch

    # dropped rows (negative ids) go to one spare row past the end instead of a boolean-mask copy of x
    acc = torch.promote_types(rows.dtype, torch.float32)
    idx = torch.where(flat >= 0, flat, total)
    sums = torch.zeros(total + 1, rows.shape[1], dtype=acc, device=rows.device)
    sums.index_add_(0, idx, rows if rows.dtype == acc else rows.to(acc))
    counts = segment_counts(flat, total)
    sums = sums[:total].div_(counts.clamp(min=1).to(acc)[:, None])
    return sums.to(rows.dtype), counts


def _bwd_torch(grad, flat, counts):
    import torch

    acc = torch.promote_types(grad.dtype, torch.float32)
    g = grad.to(acc) / counts.clamp(min=1).to(acc)[:, None]
    if not grad.shape[0]:
        return g.new_zeros(flat.shape[0], grad.shape[1]).to(grad.dtype)
    out = g.index_select(0, flat.clamp(min=0))
    dropped = flat < 0
    if bool(dropped.any()):
        out.masked_fill_(dropped[:, None], 0)
    return out.to(grad.dtype)


def segment_mean_reference(x, segment_ids, num_segments: int, *, validate: bool = True):
    """Plain torch (differentiable through autograd's own index_add / index_select)."""
    import torch

    rows, flat, batch, S = _flatten(x, segment_ids, num_segments, validate)
    total = S * (batch if batch is not None else 1)
    valid = flat >= 0
    acc = torch.promote_types(rows.dtype, torch.float32)
    sums = torch.zeros(total, rows.shape[1], dtype=acc, device=rows.device)
    sums = sums.index_add(0, flat[valid], rows[valid].to(acc))
    counts = segment_counts(flat, total)
    return _shape((sums / counts.clamp(min=1)[:, None]).to(rows.dtype), batch, S)


# ------------------------------------------------------------------------------------------ triton

@triton_kernels
def _kernels(triton, tl):
    @triton.jit
    def _sum_rows_kernel(x_ptr, ids_ptr, sums_ptr, counts_ptr, D, BLOCK_D: tl.constexpr):
        # one program per input row: atomically add it (in fp32) into its segment's row
        n = tl.program_id(0)
        sid = tl.load(ids_ptr + n)
        lim = tl.where(sid >= 0, D, 0)
        dst = tl.maximum(sid, 0)
        for start in range(0, D, BLOCK_D):
            d = start + tl.arange(0, BLOCK_D)
            m = d < lim
            v = tl.load(x_ptr + n.to(tl.int64) * D + d, mask=m, other=0.0).to(tl.float32)
            tl.atomic_add(sums_ptr + dst * D + d, v, mask=m)
        one = tl.arange(0, 1)
        tl.atomic_add(counts_ptr + dst + one * 0, tl.full((1,), 1, tl.int32), mask=(one * 0 + sid) >= 0)

    @triton.jit
    def _scale_rows_kernel(sums_ptr, counts_ptr, out_ptr, D, BLOCK_D: tl.constexpr):
        s = tl.program_id(0)
        c = tl.load(counts_ptr + s)
        inv = 1.0 / tl.maximum(c, 1).to(tl.float32)
        for start in range(0, D, BLOCK_D):
            d = start + tl.arange(0, BLOCK_D)
            m = d < D
            v = tl.load(sums_ptr + s.to(tl.int64) * D + d, mask=m, other=0.0)
            tl.store(out_ptr + s.to(tl.int64) * D + d, (v * inv).to(out_ptr.dtype.element_ty), mask=m)

    @triton.jit
    def _gather_rows_kernel(g_ptr, ids_ptr, counts_ptr, out_ptr, D, BLOCK_D: tl.constexpr):
        # backward: one program per input row, d x[n] = d pooled[id] / count[id] (zeros on dropped rows)
        n = tl.program_id(0)
        sid = tl.load(ids_ptr + n)
        src = tl.maximum(sid, 0)
        lim = tl.where(sid >= 0, D, 0)
        c = tl.load(counts_ptr + src, mask=sid >= 0, other=1)
        inv = 1.0 / tl.maximum(c, 1).to(tl.float32)
        for start in range(0, D, BLOCK_D):
            d = start + tl.arange(0, BLOCK_D)
            v = tl.load(g_ptr + src.to(tl.int64) * D + d, mask=d < lim, other=0.0).to(tl.float32)
            tl.store(out_ptr + n.to(tl.int64) * D + d, (v * inv).to(out_ptr.dtype.element_ty), mask=d < D)

    return (_sum_rows_kernel, _scale_rows_kernel, _gather_rows_kernel)


def _fwd_triton(rows, flat, total):
    import torch

    sum_k, scale_k, _ = _kernels()
    N, D = rows.shape
    sums = torch.zeros(total, D, dtype=torch.float32, device=rows.device)
    counts = torch.zeros(total, dtype=torch.int32, device=rows.device)
    out = torch.empty(total, D, dtype=rows.dtype, device=rows.device)
    if N and D and total:
        sum_k[(N,)](rows.contiguous(), flat.contiguous(), sums, counts, D, BLOCK_D=block_size(D))
    if total and D:
        scale_k[(total,)](sums, counts, out, D, BLOCK_D=block_size(D))
    else:
        out.zero_()
    return out, counts.long()


def _bwd_triton(grad, flat, counts):
    import torch

    _, _, gather_k = _kernels()
    N = flat.shape[0]
    D = grad.shape[1]
    out = torch.empty(N, D, dtype=grad.dtype, device=grad.device)
    if N and D and grad.shape[0]:
        gather_k[(N,)](grad.contiguous(), flat.contiguous(), counts.to(torch.int32).contiguous(), out, D,
                       BLOCK_D=block_size(D))
    else:
        out.zero_()
    return out


_Fn = None


def _autograd_fn():
    import torch

    class _SegmentMean(torch.autograd.Function):
        @staticmethod
        def forward(ctx, rows, flat, total, triton_):
            out, counts = (_fwd_triton if triton_ else _fwd_torch)(rows, flat, total)
            ctx.save_for_backward(flat, counts)
            ctx.triton_ = triton_
            return out

        @staticmethod
        def backward(ctx, grad):
            flat, counts = ctx.saved_tensors
            g = (_bwd_triton if ctx.triton_ else _bwd_torch)(grad.contiguous(), flat, counts)
            return g, None, None, None

    return _SegmentMean


def segment_mean(x, segment_ids, num_segments: int, *, backend: str = "auto", validate: bool = True):
    """Mean of the rows of x per segment id (see the module docstring); differentiable in x.

    backend: 'auto' (triton on CUDA, torch elsewhere), 'triton', 'torch'. validate: check that no id
    reaches num_segments (one host sync)."""
    global _Fn
    rows, flat, batch, S = _flatten(x, segment_ids, num_segments, validate)
    total = S * (batch if batch is not None else 1)
    if _Fn is None:
        _Fn = _autograd_fn()
    out = _Fn.apply(rows, flat, total, use_triton(rows, backend=backend))
    return _shape(out, batch, S)


def segment_gather(pooled, segment_ids, fill: float = 0.0):
    """Upsampling: each token gets its segment's pooled row (fill where the id is negative).
    pooled[S, D] with ids[N] -> [N, D]; pooled[B, S, D] with ids[B, T] -> [B, T, D]. Differentiable."""
    import torch

    ids = segment_ids.to(device=pooled.device, dtype=torch.long)
    if pooled.dim() == 3:
        if ids.dim() != 2 or ids.shape[0] != pooled.shape[0]:
            raise InputError(f"segment_gather: ids must be [B, T] for pooled {tuple(pooled.shape)}")
        g = pooled.gather(1, ids.clamp(min=0)[..., None].expand(-1, -1, pooled.shape[-1]))
    elif pooled.dim() == 2:
        g = pooled.index_select(0, ids.clamp(min=0).reshape(-1)).view(*ids.shape, pooled.shape[-1])
    else:
        raise InputError(f"segment_gather: pooled must be [S, D] or [B, S, D], got {tuple(pooled.shape)}")
    return torch.where((ids >= 0)[..., None], g, g.new_full((), fill))
