"""Kernel timings for the sequence gates, against what a user would otherwise write, in one run:

- compaction of x[B, T, D] by a keep mask: tokkit.kernels.compact vs an element gather with an expanded
  index (MrT5's way: stable sort of the mask, gather, slice);
- segment mean: tokkit.kernels.segment.segment_mean (forward + backward) vs a dense one-hot B x S x T
  matrix product (dynamic-pooling's way);
- ToMe merge scatter: tokkit.kernels.tome_scatter vs torch scatter_reduce(mean-style sum).

On CUDA the triton kernels run and the device-to-device copy bandwidth is measured for reference; on the
CPU the dispatch uses the torch references.

    PYTHONPATH=. python benchmarks/gate_kernels.py [--B 16 --T 1024 --D 512 --dtype float32 --repeats 5 --threads 1]
"""

from __future__ import annotations

import argparse
import json
import time


def bench(fn, repeats, sync):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main(argv=None):
    import torch

    from tokkit.kernels.compact import compact
    from tokkit.kernels.segment import segment_mean
    from tokkit.kernels.tome_scatter import tome_scatter_add

    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=16)
    ap.add_argument("--T", type=int, default=1024)
    ap.add_argument("--D", type=int, default=512)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--keep", type=float, default=0.5)
    ap.add_argument("--seg-len", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=None)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = getattr(torch, a.dtype)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    torch.manual_seed(0)
    B, T, D = a.B, a.T, a.D
    x = torch.randn(B, T, D, device=dev).to(dtype)
    keep = torch.rand(B, T, device=dev) < a.keep
    rows = []

    def mrt5_compact():
        idx = torch.sort((~keep).to(torch.int8), dim=1, stable=True).indices
        n = int(keep.sum(1).max())
        return torch.gather(x, 1, idx[..., None].expand(-1, -1, D))[:, :n]

    t_ref = bench(mrt5_compact, a.repeats, sync)
    t_tk = bench(lambda: compact(x, keep), a.repeats, sync)
    t_tk_bound = bench(lambda: compact(x, keep, max_len=T), a.repeats, sync)
    rows.append(("compact", "element gather (MrT5)", t_ref, t_tk, t_ref / t_tk))
    rows.append(("compact, max_len=T (no sync)", "element gather (MrT5)", t_ref, t_tk_bound, t_ref / t_tk_bound))

    # segment mean, contiguous segments of mean length seg_len
    b = torch.rand(B, T, device=dev) < 1.0 / a.seg_len
    ids = torch.cumsum(b.long(), 1) - b.long()
    S = int(ids.max()) + 1
    xg = x.clone().requires_grad_(True)

    def dense():
        onehot = torch.nn.functional.one_hot(ids, S).to(dtype)          # [B, T, S]
        cnt = onehot.sum(1).clamp(min=1)                                 # [B, S]
        y = torch.einsum("bts,btd->bsd", onehot, xg) / cnt[..., None]
        y.sum().backward()
        return y

    def ours():
        y = segment_mean(xg, ids, S)
        y.sum().backward()
        return y

    t_ref = bench(dense, a.repeats, sync)
    t_tk = bench(ours, a.repeats, sync)
    rows.append(("segment mean fwd+bwd", "dense one-hot matmul (dynamic-pooling)", t_ref, t_tk, t_ref / t_tk))

    # ToMe merge scatter: r = T/4 sources into T/2 destinations
    r = T // 4
    dst = x[:, 1::2].contiguous()
    src = x[:, 0::2][:, :r].contiguous()
    index = torch.randint(0, dst.shape[1], (B, r), device=dev)
    t_ref = bench(lambda: dst.scatter_reduce(1, index[..., None].expand(-1, -1, D), src, reduce="sum"),
                  a.repeats, sync)
    t_tk = bench(lambda: tome_scatter_add(dst, index, src), a.repeats, sync)
    rows.append(("ToMe scatter-add", "scatter_reduce(sum)", t_ref, t_tk, t_ref / t_tk))

    extra = {}
    if dev == "cuda":
        y = torch.empty_like(x)
        t_copy = bench(lambda: y.copy_(x), a.repeats, sync)
        bw = 2 * x.numel() * x.element_size() / (t_copy / 1e3) / 1e9
        kept = int(keep.sum())
        t_c = bench(lambda: compact(x, keep, max_len=T), a.repeats, sync)
        extra = {"d2d_copy_GBps": bw,
                 "compact_GBps": 2 * kept * D * x.element_size() / (t_c / 1e3) / 1e9}
    print(f"device {dev}, dtype {a.dtype}, B={B} T={T} D={D}, keep {a.keep:.0%}, mean segment {a.seg_len}, "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'operation':32s} {'baseline':40s} {'baseline ms':>11s} {'tokkit ms':>10s} {'speed-up':>9s}")
    for op, base, tb, tt, ratio in rows:
        print(f"{op:32s} {base:40s} {tb:11.2f} {tt:10.2f} {ratio:8.2f}x")
    for k, v in extra.items():
        print(f"{k}: {v:.0f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"device": dev, "args": vars(a), "rows": rows, **extra}, fh, indent=1)


if __name__ == "__main__":
    main()
