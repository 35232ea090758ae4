"""Token merging (ToMe, Bolya et al. 2023) for sequences: bipartite soft matching merges r tokens per call.

Tokens alternate into sets A (even positions) and B (odd positions); each A token finds its most similar B
token by cosine similarity of a metric (ToMe uses the attention keys); the r best-scoring A tokens are
merged into their B partners by a size-weighted average (a scatter-add, `tokkit.kernels.tome_scatter`), and
sizes are tracked so attention can be made proportional (add log(size) to the logits: `log_size_bias`).

`TokenMerge(r, keep_order=False, protect_first=...)` is ToMe's `bipartite_soft_matching` + `merge_wavg`
(facebookresearch/ToMe, commit af95e4b1befa172dadccd8c81e223b10090f9579): the same merges, the same
[unmerged A, B] output order, the class token kept first, r lowered to (N - protected) // 2 when larger.
tokkit's additions:

- keep_order=True (the default): the output keeps sequence order (a merged token sits at its B partner's
  position), which text models with positions need; ToMe's image order is keep_order=False.
- `source` records, for every original token, the slot that now holds it: `unmerge(y, source)` copies
  outputs back to the original length.
- Padding (ToMe has none): pass `mask`; padding only ever merges with padding, and only after every
  admissible real pair, so padding never uses up r while real tokens could still merge.
- An all-zero metric row has similarity 0 to every token (the norm is clamped at 1e-12); ToMe divides by the
  zero norm and its scores turn NaN.

    tm = TokenMerge(r=8)
    st = tm.init(x, mask)                          # MergeState: x, size, source, mask
    st = tm(st, metric=keys)                       # after a layer; repeat per layer
    bias = log_size_bias(st.size)                  # [B, 1, 1, N'] for proportional attention
    y_full = unmerge(y, st.source)                 # [B, N0, C]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputError
from ..kernels.tome_scatter import tome_scatter_add

__all__ = ["TokenMerge", "MergeState", "unmerge", "log_size_bias"]


@dataclass
class MergeState:
    x: torch.Tensor          # [B, N, C] tokens (size-weighted means of the originals they hold)
    size: torch.Tensor       # [B, N] how many original tokens each holds (float)
    source: torch.Tensor     # [B, N0] slot of each original token in x (int64)
    mask: torch.Tensor       # [B, N] bool, real tokens


def unmerge(y: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """y[B, N, C] -> [B, N0, C]: every original token gets the output of the slot that holds it."""
    if y.dim() != 3 or source.dim() != 2 or source.shape[0] != y.shape[0]:
        raise InputError(f"unmerge: expected y[B, N, C] and source[B, N0]; got {tuple(y.shape)}, {tuple(source.shape)}")
    return y.gather(1, source[..., None].expand(-1, -1, y.shape[2]))


def log_size_bias(size: torch.Tensor, mask: torch.Tensor | None = None, dtype=torch.float32) -> torch.Tensor:
    """[B, 1, 1, N] additive key bias for proportional attention: log(size), the dtype's min on padding."""
    b = size.to(dtype).clamp(min=1e-6).log()
    if mask is not None:
        b = torch.where(mask, b, torch.full((), torch.finfo(dtype).min, dtype=dtype, device=b.device))
    return b[:, None, None, :]


class TokenMerge(nn.Module):
    """Merge r tokens per call by bipartite soft matching (ToMe; no parameters).

    Args:
        r: tokens removed per call, lowered to (N - protected) // 2 as ToMe does.
        keep_order: output in sequence order (default; text needs it) or ToMe's [unmerged A, B] order (False).
        protect_first: never merge the first token (ToMe's class_token); it stays first in either order, call
            after call.
        backend: for the scatter-add kernel ("auto", "torch", "triton").
    """

    def __init__(self, r: int, *, keep_order: bool = True, protect_first: bool = False, backend: str = "auto"):
        super().__init__()
        if not isinstance(r, int) or r < 0:
            raise InputError(f"TokenMerge: r must be a non-negative int, got {r!r}")
        self.r, self.keep_order, self.protect_first, self.backend = r, keep_order, protect_first, backend

    @staticmethod
    def init(x: torch.Tensor, mask: torch.Tensor | None = None) -> MergeState:
        """The starting state of a sequence batch: every token its own slot, size 1.

        Args:
            x: [B, N, C] token vectors.
            mask: [B, N] real tokens (nonzero); None: all real.

        Returns:
            The `MergeState` to pass to `forward`.

        Raises:
            InputError: wrong shapes.
        """
        if x.dim() != 3:
            raise InputError(f"TokenMerge: x must be [B, N, C], got {tuple(x.shape)}")
        B, N, _ = x.shape
        m = torch.ones(B, N, dtype=torch.bool, device=x.device) if mask is None else mask.to(x.device) != 0
        if m.shape != (B, N):
            raise InputError(f"TokenMerge: mask must be [B, N] = {(B, N)}, got {tuple(m.shape)}")
        src = torch.arange(N, device=x.device).expand(B, N).contiguous()
        return MergeState(x=x, size=torch.ones(B, N, dtype=x.dtype, device=x.device), source=src, mask=m)

    def forward(self, state: MergeState, metric: torch.Tensor | None = None, r: int | None = None) -> MergeState:
        """Merge up to r more tokens of a state.

        Args:
            state: the current `MergeState` (from `init` or a previous call).
            metric: [B, N, *] the vectors similarity is measured on (ToMe uses the keys); None: the state's x.
            r: tokens to remove in this call; None: the module's r.

        Returns:
            The new `MergeState` (x as size-weighted means; `source` maps every original token to its slot).

        Raises:
            InputError: a metric of the wrong shape or with NaN/inf.
        """
        x, size, mask = state.x, state.size, state.mask
        B, N, C = x.shape
        r = self.r if r is None else r
        metric = x if metric is None else metric
        if metric.shape[:2] != (B, N):
            raise InputError(f"TokenMerge: metric must be [B, N, *] = {(B, N)}, got {tuple(metric.shape)}")
        if not torch.isfinite(metric).all():
            raise InputError("TokenMerge: metric contains NaN or inf")
        r = min(r, (N - int(self.protect_first)) // 2)           # ToMe: at most half the unprotected tokens
        if r <= 0:
            return state
        # similarity of A (even) to B (odd) tokens; padding pairs with padding only, ranked below every real
        # pair (-2 < cosine), so it merges only when a sequence has fewer than r admissible real merges
        k = metric / metric.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        ka, kb = k[:, 0::2], k[:, 1::2]                       # [B, Na, Cm], [B, Nb, Cm]
        ma, mb = mask[:, 0::2], mask[:, 1::2]
        scores = ka @ kb.transpose(1, 2)                      # [B, Na, Nb] in [-1, 1]
        real = ma[:, :, None] & mb[:, None, :]
        pads = ~ma[:, :, None] & ~mb[:, None, :]
        scores = torch.where(real, scores, torch.where(pads, torch.full_like(scores, -2.0),
                                                      torch.full_like(scores, -torch.inf)))
        if self.protect_first:
            scores[:, 0, :] = -torch.inf
        node_max, node_idx = scores.max(-1)                    # [B, Na]
        edge_idx = torch.sort(node_max, dim=-1, descending=True, stable=True).indices
        src_idx, unm_idx = edge_idx[:, :r], edge_idx[:, r:]   # A tokens merged / kept
        if self.protect_first:
            # ToMe sorts the unmerged A tokens so the class token (A 0) stays first in its output order, and the
            # next call's protect_first protects it again
            unm_idx = unm_idx.sort(dim=1).values
        dst_idx = node_idx.gather(1, src_idx)                  # their B partners
        # a -inf best score means no admissible partner: such a token must stay (only when r is too large)
        src_ok = node_max.gather(1, src_idx) > -torch.inf
        if not bool(src_ok.all()):
            raise InputError(f"TokenMerge: r={r} exceeds the tokens that can merge (padding never merges with "
                             "real tokens; protect_first keeps the first); lower r")
        xs = x * size[..., None]
        xa, xb = xs[:, 0::2], xs[:, 1::2]
        sa, sb = size[:, 0::2], size[:, 1::2]
        Nb = xb.shape[1]

        def pick(t, idx):
            return t.gather(1, idx[..., None].expand(-1, -1, t.shape[-1]))

        xb = tome_scatter_add(xb, dst_idx, pick(xa, src_idx), backend=self.backend)
        sb = tome_scatter_add(sb[..., None], dst_idx, pick(sa[..., None], src_idx), backend=self.backend)[..., 0]
        x_new = torch.cat([pick(xa, unm_idx), xb], 1)          # [B, N - r, C], ToMe order
        s_new = torch.cat([sa.gather(1, unm_idx), sb], 1)
        m_new = torch.cat([ma.gather(1, unm_idx), mb], 1)
        pos = torch.cat([2 * unm_idx, 2 * torch.arange(Nb, device=x.device).expand(B, Nb) + 1], 1)
        # slot in the new sequence of every current token
        na_, nu = ka.shape[1], unm_idx.shape[1]
        slot_a = torch.empty(B, na_, dtype=torch.long, device=x.device)
        slot_a.scatter_(1, unm_idx, torch.arange(nu, device=x.device).expand(B, nu).contiguous())
        slot_a.scatter_(1, src_idx, nu + dst_idx)
        slot_b = nu + torch.arange(Nb, device=x.device).expand(B, Nb)
        if self.keep_order:
            order = pos.argsort(-1)                            # new slot -> ToMe slot
            rank = order.argsort(-1)                           # ToMe slot -> new slot
            x_new, s_new, m_new = pick(x_new, order), s_new.gather(1, order), m_new.gather(1, order)
            slot_a, slot_b = rank.gather(1, slot_a), rank.gather(1, slot_b.contiguous())
        cur = torch.empty(B, N, dtype=torch.long, device=x.device)
        cur[:, 0::2], cur[:, 1::2] = slot_a, slot_b
        return MergeState(x=x_new / s_new[..., None].clamp(min=1e-6).to(x.dtype), size=s_new,
                          source=cur.gather(1, state.source), mask=m_new)

    def extra_repr(self) -> str:
        """The module's settings, for its repr.

        Returns:
            A short string.
        """
        return f"r={self.r}, keep_order={self.keep_order}, protect_first={self.protect_first}"
