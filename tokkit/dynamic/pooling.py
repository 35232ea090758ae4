"""Dynamic token pooling (Nawrot et al. 2023): a boundary predictor marks where segments end, tokens of a
segment are mean-pooled (`tokkit.kernels.segment.segment_mean`), and the pooled sequence can be upsampled
back to the full length (each token gets its segment's vector) for a residual connection.

    pool = BoundaryPooler(d_model, prior=0.25)     # aim for one boundary per ~4 tokens
    p = pool(x, mask)                              # PoolOutput
    short = p.pooled                               # [B, S, D], p.pooled_mask [B, S]
    ...run layers on the short sequence...
    full = pool.upsample(short, p) + x             # [B, T, D]
    loss = task + pool.prior_loss(p)               # binomial prior on the boundary count

Boundary b[t] = 1 means token t is the last of its segment; the last real token of each sequence always
closes one. Segment ids count the boundaries before a token, so segments are contiguous and in order.
Training draws boundaries from a relaxed Bernoulli (Gumbel-sigmoid, straight-through hard values); eval
thresholds the probabilities. As in the reference (hard boundaries define the segments), the predictor
learns from `prior_loss` and, where available, from boundary supervision (`supervised_loss`, e.g. word
starts or entropy spikes), not through the pooling itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputError
from ..kernels.segment import segment_gather, segment_mean

__all__ = ["BoundaryPooler", "PoolOutput", "segment_ids_from_boundaries"]


@dataclass
class PoolOutput:
    pooled: torch.Tensor         # [B, S, D]
    pooled_mask: torch.Tensor    # [B, S] bool
    segment_ids: torch.Tensor    # [B, T] int64, -1 on padding
    boundaries: torch.Tensor     # [B, T] float 0/1 (straight-through gradient to probs while training)
    probs: torch.Tensor          # [B, T] boundary probabilities
    mask: torch.Tensor           # [B, T] bool

    @property
    def lengths(self) -> torch.Tensor:
        return self.pooled_mask.sum(1)


def segment_ids_from_boundaries(boundaries: torch.Tensor, mask: torch.Tensor):
    """boundaries[B, T] (0/1, 1 = last token of a segment), mask[B, T] -> (ids[B, T] with -1 on padding,
    segments per sequence[B]). The last real token of each sequence is forced to close a segment."""
    b = (boundaries > 0.5) & mask
    last = mask & ~torch.cat([mask[:, 1:], torch.zeros_like(mask[:, :1])], 1)
    b = b | last
    ids = torch.cumsum(b.long(), 1) - b.long()
    ids = torch.where(mask, ids, torch.full_like(ids, -1))
    return ids, b.sum(1)


class BoundaryPooler(nn.Module):
    """Boundary pooling (Nawrot et al. 2023): predict segment ends and average the vectors of each segment.

    Args:
        d_model: input width.
        hidden: predictor width (default d_model).
        prior: target share of tokens that end a segment (for `prior_loss`).
        temperature: Gumbel-sigmoid temperature while training.
        threshold: a boundary where prob > threshold at eval.
    """

    def __init__(self, d_model: int, hidden: int | None = None, *, prior: float = 0.2, temperature: float = 0.5,
                 threshold: float = 0.5):
        super().__init__()
        if not 0.0 < prior < 1.0:
            raise InputError(f"BoundaryPooler: prior must be in (0, 1), got {prior}")
        if temperature <= 0:
            raise InputError(f"BoundaryPooler: temperature must be positive, got {temperature}")
        h = hidden or d_model
        self.predictor = nn.Sequential(nn.Linear(d_model, h), nn.GELU(), nn.Linear(h, 1))
        self.prior, self.temperature, self.threshold = prior, temperature, threshold

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                boundaries: torch.Tensor | None = None) -> PoolOutput:
        """Pool a batch into segments.

        Args:
            x: [B, T, D] token vectors.
            mask: [B, T] real tokens; None: all real.
            boundaries: optional given 0/1 boundaries (e.g. word ends) instead of the predictor's.

        Returns:
            A `PoolOutput`: pooled [B, S, D], pooled_mask, segment_ids, boundaries, probs, mask.
        """
        if x.dim() != 3:
            raise InputError(f"BoundaryPooler: x must be [B, T, D], got {tuple(x.shape)}")
        B, T, D = x.shape
        if T == 0:
            raise InputError("BoundaryPooler: applied to a length-0 sequence (T = 0)")
        if not torch.isfinite(x).all():
            raise InputError("BoundaryPooler: x contains NaN or inf")
        m = torch.ones(B, T, dtype=torch.bool, device=x.device) if mask is None else mask.to(x.device) != 0
        if m.shape != (B, T):
            raise InputError(f"BoundaryPooler: mask must be [B, T] = {(B, T)}, got {tuple(m.shape)}")
        logits = self.predictor(x).squeeze(-1).float()              # [B, T]
        probs = torch.sigmoid(logits)
        if boundaries is not None:
            if boundaries.shape != (B, T):
                raise InputError(f"BoundaryPooler: boundaries must be [B, T] = {(B, T)}, got {tuple(boundaries.shape)}")
            hard = (boundaries.to(x.device) > 0.5).float()
            b = hard
        elif self.training:
            u = torch.rand_like(logits).clamp(1e-6, 1 - 1e-6)
            soft = torch.sigmoid((logits + torch.log(u) - torch.log1p(-u)) / self.temperature)
            hard = (soft > 0.5).float()
            b = hard + soft - soft.detach()                         # straight-through
        else:
            hard = (probs > self.threshold).float()
            b = hard
        ids, n_seg = segment_ids_from_boundaries(hard, m)
        S = int(n_seg.max()) if B else 0                            # one host sync: the pooled length
        pooled = segment_mean(x, ids, S, validate=False)
        pooled_mask = torch.arange(S, device=x.device)[None, :] < n_seg[:, None]
        return PoolOutput(pooled=pooled, pooled_mask=pooled_mask, segment_ids=ids, boundaries=b * m,
                          probs=probs, mask=m)

    @staticmethod
    def upsample(pooled: torch.Tensor, out: PoolOutput) -> torch.Tensor:
        """Every token gets its segment's row (zeros on padding): [B, S, D] -> [B, T, D].

        Args:
            pooled: [B, S, D] segment vectors.
            out: the `PoolOutput` that made the segments.

        Returns:
            [B, T, D].
        """
        return segment_gather(pooled, out.segment_ids)

    def prior_loss(self, out: PoolOutput) -> torch.Tensor:
        """Negative log-likelihood, per token, of the boundary count under Binomial(n_tokens, prior).

        The reference's prior loss; uses the straight-through boundaries so the predictor gets gradients.

        Args:
            out: the `PoolOutput` of a forward.

        Returns:
            A scalar loss.
        """
        n = out.mask.sum(1).float()
        k = out.boundaries.sum(1)
        p = torch.tensor(self.prior, device=n.device)
        logpmf = (torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
                  + k * torch.log(p) + (n - k) * torch.log1p(-p))
        return -(logpmf / n.clamp(min=1)).mean()

    def supervised_loss(self, out: PoolOutput, targets: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy of the boundary probabilities against given 0/1 boundaries (real tokens).

        Args:
            out: the `PoolOutput` of a forward.
            targets: [B, T] 0/1 boundaries.

        Returns:
            A scalar loss.
        """
        if targets.shape != out.probs.shape:
            raise InputError(f"supervised_loss: targets must be {tuple(out.probs.shape)}, got {tuple(targets.shape)}")
        loss = nn.functional.binary_cross_entropy(out.probs.clamp(1e-6, 1 - 1e-6), targets.float().to(out.probs.device),
                                                  reduction="none")
        return (loss * out.mask).sum() / out.mask.sum().clamp(min=1)

    def extra_repr(self) -> str:
        """The module's settings, for its repr.

        Returns:
            A short string.
        """
        return f"prior={self.prior}, temperature={self.temperature}, threshold={self.threshold}"


