"""Apply a batch's merge table on the GPU: one triton launch per merge, each merging and compacting rows.

The merge table (from `merge_pairs`, or any (left, right) list) is applied in order, exactly as the
selection loop applied it: merge (a, b) -> base + k wherever a is followed by b inside one word, greedily left
to right, so a run "a a a a a" under (a, a) becomes "aa aa a". Each launch handles whole rows (one program
per row, the row in one block): it finds the matches, keeps every other match of a run from the run's start
(a prefix max over the break positions gives the run start), drops the right halves and compacts the row with
a prefix sum, carrying the join flag and the input start position of every surviving token.

`apply_merges_reference` is the plain version the tests compare against. Tensors are (B, T) padded with
`lengths`; `join[b, i] = 1` where input positions i and i+1 share a word. Returns (ids, lengths, starts), with
ids padded by `pad_id` and starts by -1.
"""

from __future__ import annotations

import numpy as np

try:  # triton is optional (the `gpu` extra)
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover
    triton = None


def apply_merges_reference(ids, lengths, join, merges, base: int, pad_id: int = 0):
    """Plain Python: the same greedy left-to-right application, on NumPy arrays (B, T)."""
    ids = np.asarray(ids)
    join = np.asarray(join)
    lengths = np.asarray(lengths)
    b, t = ids.shape
    out_ids = np.full((b, t), pad_id, dtype=np.int64)
    out_starts = np.full((b, t), -1, dtype=np.int64)
    out_len = np.zeros(b, dtype=np.int64)
    for r in range(b):
        n = int(lengths[r])
        seg = [[int(ids[r, i]), i, int(join[r, i]) if i + 1 < n else 0] for i in range(n)]  # id, start, join
        for k, (x, y) in enumerate(np.asarray(merges).reshape(-1, 2)):
            res, i = [], 0
            while i < len(seg):
                if i + 1 < len(seg) and seg[i][2] and seg[i][0] == x and seg[i + 1][0] == y:
                    res.append([base + k, seg[i][1], seg[i + 1][2]])
                    i += 2
                else:
                    res.append(seg[i])
                    i += 1
            seg = res
        out_len[r] = len(seg)
        for j, (v, s, _) in enumerate(seg):
            out_ids[r, j] = v
            out_starts[r, j] = s
    return out_ids, out_len, out_starts


if triton is not None:

    @triton.jit
    def _max_combine(a, b):
        return tl.maximum(a, b)

    @triton.jit
    def _merge_step(tok_in, join_in, start_in, len_in, tok_out, join_out, start_out, len_out,
                    a, b, new, T, BLOCK: tl.constexpr):
        row = tl.program_id(0)
        base_ptr = row.to(tl.int64) * T
        i = tl.arange(0, BLOCK)
        n = tl.load(len_in + row)
        valid = i < n
        t = tl.load(tok_in + base_ptr + i, mask=valid, other=-1)
        t_next = tl.load(tok_in + base_ptr + i + 1, mask=(i + 1) < n, other=-1)
        t_prev = tl.load(tok_in + base_ptr + i - 1, mask=(i >= 1) & valid, other=-1)
        j = tl.load(join_in + base_ptr + i, mask=valid, other=0)
        j_prev = tl.load(join_in + base_ptr + i - 1, mask=(i >= 1) & valid, other=0)
        j_next = tl.load(join_in + base_ptr + i + 1, mask=(i + 1) < n, other=0)
        s = tl.load(start_in + base_ptr + i, mask=valid, other=-1)
        # (BLOCK,) match[i]: (tok[i], tok[i+1]) is the pair and may merge; same for i-1
        m = (t == a) & (t_next == b) & (j != 0)
        m_prev = (t_prev == a) & (t == b) & (j_prev != 0)
        # last non-match at or before i (-1 if none): a run of matches starts just after it
        lb = tl.associative_scan(tl.where(m, -1, i), 0, _max_combine)
        lb_prev = tl.associative_scan(tl.where(m_prev | (i == 0), -1, i - 1), 0, _max_combine)
        first = m & (((i - lb - 1) % 2) == 0)          # a merge starts at i
        eaten = m_prev & (((i - 1 - lb_prev - 1) % 2) == 0)  # i is the right half of a merge
        keep = valid & (eaten == 0)
        pos = tl.cumsum(keep.to(tl.int32), 0) - 1
        tl.store(tok_out + base_ptr + pos, tl.where(first, new, t), mask=keep)
        tl.store(join_out + base_ptr + pos, tl.where(first, j_next, j), mask=keep)
        tl.store(start_out + base_ptr + pos, s, mask=keep)
        tl.store(len_out + row, tl.sum(keep.to(tl.int32), 0))


def apply_merges_triton(ids, lengths, join, merges, base: int, pad_id: int = 0):
    """(B, T) torch tensors on the GPU (or the CPU under TRITON_INTERPRET=1) -> (ids, lengths, starts)."""
    if triton is None:
        raise ImportError("apply_merges_triton needs triton (pip install 'tokkit[gpu]')")
    import torch

    b, t = ids.shape
    dev = ids.device
    tok = [ids.to(torch.int64).contiguous(), torch.empty((b, t), dtype=torch.int64, device=dev)]
    jn = [join.to(torch.int32).contiguous(), torch.empty((b, t), dtype=torch.int32, device=dev)]
    st = [torch.arange(t, device=dev, dtype=torch.int64).expand(b, t).contiguous(),
          torch.empty((b, t), dtype=torch.int64, device=dev)]
    ln = [lengths.to(device=dev, dtype=torch.int32).contiguous(), torch.empty(b, dtype=torch.int32, device=dev)]
    merges = np.asarray(merges.cpu() if hasattr(merges, "cpu") else merges, dtype=np.int64).reshape(-1, 2)
    block = max(16, triton.next_power_of_2(max(t, 1)))
    if block > 65536:
        raise ValueError(f"rows of {t} tokens are longer than one block can hold (65,536): use merge_pairs")
    warps = min(16, max(4, block // 512))  # whole row in one program: more warps for longer rows
    cur = 0
    if b and t:
        for k, (x, y) in enumerate(merges):
            _merge_step[(b,)](tok[cur], jn[cur], st[cur], ln[cur], tok[1 - cur], jn[1 - cur], st[1 - cur],
                              ln[1 - cur], int(x), int(y), int(base + k), t, BLOCK=block, num_warps=warps)
            cur = 1 - cur
    n = ln[cur].to(torch.int64)
    width = int(n.max()) if b else 0
    live = torch.arange(width, device=dev)[None, :] < n[:, None]
    out_ids = torch.where(live, tok[cur][:, :width], torch.full_like(tok[cur][:, :width], pad_id))
    out_st = torch.where(live, st[cur][:, :width], torch.full_like(st[cur][:, :width], -1))
    return out_ids, n, out_st


def apply_merges(ids, lengths, join, merges, base: int, pad_id: int = 0, backend: str = "auto"):
    """Dispatch: triton for tensors on a GPU (or with backend='triton'), else the NumPy reference."""
    if backend == "auto":
        backend = "triton" if triton is not None and getattr(ids, "is_cuda", False) else "reference"
    if backend == "triton":
        return apply_merges_triton(ids, lengths, join, merges, base, pad_id)
    if backend == "reference":
        to_np = (lambda x: x.detach().cpu().numpy()) if hasattr(ids, "detach") else np.asarray
        return apply_merges_reference(to_np(ids), to_np(lengths), to_np(join), merges, base, pad_id)
    raise ValueError(f"backend must be 'auto', 'triton' or 'reference', got {backend!r}")
