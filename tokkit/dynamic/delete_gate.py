"""MrT5's delete gate (Kallini et al. 2024, jkallini/mrt5): a learnt per-token gate in front of a fixed encoder
block that removes tokens from that block on, and from the decoder's cross-attention.

    G = k * sigmoid(-(w . RMSNorm(h) + b))          # [B, T], in (k, 0); k = -30 (MrT5's sigmoid_mask_scale)
    G = k on padding;  deleted where G <= threshold (MrT5's deletion_threshold, default k/2 = -15)

Soft mode (training): nothing is removed; G is added to the attention scores as a per-key bias in every
encoder self-attention from the gated block on and in decoder cross-attention, so a deleted token (G near k)
receives ~e^-30 of the attention and the gate gets gradients through the model's loss. Hard mode (inference):
deleted tokens are compacted out (order kept, `tokkit.kernels.compact`), the relative position bias is
gathered at the kept positions so distances stay the original ones, and, as in MrT5, the kept tokens get no
G bias (`keep_hard_bias=True` keeps it). The deletion rate is steered by a regulariser alpha * mean(G) whose
weight alpha comes from a PI controller toward a target rate (`RateController`).

The defaults reproduce MrT5's code (commit e79c3e752ef73fb8c375ac3ef61aa2fc2dcff323): placement numbered as
its `delete_gate_layer` (default 3), T5's RMS norm without bias, Xavier-uniform weights with bias 1 (about
25% of tokens deleted at start), no G bias in hard mode, an error when every token of the batch is deleted.
tokkit's departures are named options (see `DeleteGate`). Not reproduced: softmax1, the attention-score
regulariser and hard deletion during training (set `gate.mode = "hard"` for a step to get the last).

Use with Hugging Face T5 / ByT5 / MT5 (`insert_delete_gate`) or with any encoder (the hook point):

    gate = DeleteGate(d_model)
    ...before your block k:  g = gate(hidden, attention_mask)          # GateOutput
    soft: add g.attention_bias(dtype)  ([B, 1, 1, T]) to the scores of block k and every later block,
          instead of the padding mask
    hard: hidden, key_mask, index = g.compact(hidden); bias = g.compact_bias(index, dtype)
    loss = task_loss + gate.penalty()   # alpha * mean(G), then the controller sees this step's rate
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputError
from ..kernels.compact import compact

__all__ = ["DeleteGate", "GateOutput", "RateController", "insert_delete_gate", "remove_delete_gate"]

NORMS = ("rms", "layer", "none")
INITS = ("mrt5", "keep_all")
ON_ALL_DELETED = ("raise", "keep_best")


class RateController:
    """PI controller of the regulariser weight alpha toward a target deletion rate (MrT5's recipe):
    err = target - rate; p = beta*p + (1-beta)*kp*err; i = i + ki*err; alpha = max(alpha_min, p + i).

    Call `update(rate)` once per optimiser step (not per micro-batch: pass the mean rate of the accumulated
    micro-batches), so the integral does not run faster with gradient accumulation."""

    def __init__(self, target: float, kp: float = 0.5, ki: float = 1e-5, beta: float = 0.9,
                 alpha_min: float = 0.0):
        if not 0.0 <= target < 1.0:
            raise InputError(f"target_rate must be in [0, 1), got {target}")
        if not 0.0 <= beta < 1.0:
            raise InputError(f"beta must be in [0, 1), got {beta}")
        self.target, self.kp, self.ki, self.beta, self.alpha_min = float(target), kp, ki, beta, alpha_min
        self.p = 0.0
        self.i = 0.0
        self.alpha = max(alpha_min, 0.0)

    def update(self, rate: float) -> float:
        rate = float(rate)
        if not math.isfinite(rate):
            raise InputError(f"deletion rate is not finite: {rate}")
        err = self.target - rate
        self.p = self.beta * self.p + (1.0 - self.beta) * self.kp * err
        self.i += self.ki * err
        self.alpha = max(self.alpha_min, self.p + self.i)
        return self.alpha

    def state_dict(self) -> dict:
        return {"target": self.target, "p": self.p, "i": self.i, "alpha": self.alpha}

    def load_state_dict(self, d: dict) -> None:
        self.target, self.p, self.i, self.alpha = d["target"], d["p"], d["i"], d["alpha"]


@dataclass
class GateOutput:
    gate: torch.Tensor      # [B, T] G in [k, 0]; k on padding
    keep: torch.Tensor      # [B, T] bool: real token with G > threshold
    mask: torch.Tensor      # [B, T] bool: real (non-padding) tokens
    hard_bias: bool = False  # compact_bias adds the kept tokens' G (DeleteGate.keep_hard_bias)

    @property
    def deleted(self) -> torch.Tensor:
        return self.mask & ~self.keep

    def deletion_rate(self) -> torch.Tensor:
        """Share of real tokens deleted (a 0-dim tensor)."""
        return self.deleted.sum() / self.mask.sum().clamp(min=1)

    def attention_bias(self, dtype=torch.float32) -> torch.Tensor:
        """[B, 1, 1, T] additive key bias for soft mode: G on real tokens, the dtype's minimum on padding
        (set, not added, so fp16 never overflows to -inf)."""
        return _key_bias(self.gate, self.mask, dtype)

    def compact(self, hidden: torch.Tensor, max_len: int | None = None):
        """Hard deletion: (hidden[B, T', D], key_mask[B, T'] bool, index[B, T'] original positions, -1 on
        padding). T' >= 1 even when nothing is kept (an all-padding batch), so the layers after the gate
        still get a well-formed, fully masked input instead of a length-0 one."""
        out, lengths, index = compact(hidden, self.keep, max_len=max_len)
        if out.shape[1] == 0:
            out = hidden.new_zeros(hidden.shape[0], 1, hidden.shape[2])
            index = torch.full((hidden.shape[0], 1), -1, dtype=index.dtype, device=index.device)
        key_mask = torch.arange(out.shape[1], device=out.device)[None, :] < lengths[:, None]
        return out, key_mask, index

    def compact_bias(self, index: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        """[B, 1, 1, T'] key bias after `compact`: 0 on kept tokens (MrT5), or their G with hard_bias; the
        dtype's minimum on padding."""
        g = self.gate.gather(1, index.clamp(min=0))
        if not self.hard_bias:
            g = torch.zeros_like(g)
        return _key_bias(g, index >= 0, dtype)


def _key_bias(g, mask, dtype):
    lo = torch.finfo(dtype).min
    return torch.where(mask, g.to(dtype), torch.full((), lo, dtype=dtype, device=g.device))[:, None, None, :]


class _T5RMSNorm(nn.Module):
    """T5's layer norm: scale only, no mean subtraction and no bias, variance in fp32 (as T5LayerNorm)."""

    def __init__(self, d_model: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d_model))
        self.eps = eps

    def forward(self, h):
        var = h.to(torch.float32).pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(var + self.eps)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            h = h.to(self.weight.dtype)
        return self.weight * h


class DeleteGate(nn.Module):
    """A learnt delete gate (MrT5): G = k * sigmoid(-Linear(Norm(h))); see the module docstring.

    Defaults as MrT5's code. tokkit's options (`norm`, `init`, `keep_hard_bias`, `on_all_deleted`) are each off by
    default.

    Args:
        d_model: hidden size.
        k: the gate's floor (MrT5's sigmoid_mask_scale, -30).
        threshold: a token is deleted where G <= threshold (MrT5's deletion_threshold; default k/2).
        norm: "rms" (T5's RMS norm, MrT5), "layer" (nn.LayerNorm with bias: tokkit's earlier gate, for encoders
            whose blocks use LayerNorm) or "none" (MrT5's gate_layer_norm=False).
        init: "mrt5" (Xavier-uniform weights, bias init_bias=1: about a quarter of the tokens start deleted) or
            "keep_all" (weights N(0, init_std^2/d_model), bias init_bias: G near -8 for every token, so nothing
            is deleted at start and the rate rises smoothly from 0, which short runs without a warm-up prefer).
        init_bias: the gate's initial bias.
        init_std: the weights' scale under init="keep_all".
        eps: the norm's epsilon.
        gumbel_noise: add Gumbel noise to the gate logits while training (MrT5's use_gumbel_noise).
        keep_hard_bias: in hard mode still add each kept token's G as an attention bias, so hard and soft mode
            compute the same function (MrT5 drops the bias, so its hard mode differs from its soft mode).
        on_all_deleted: "raise" (MrT5: an error when every real token of the batch is deleted) or "keep_best"
            (each sequence keeps its highest-G token, so training never stops on an over-eager gate). A single
            sequence that loses every token while others keep some is not an error (as MrT5): in hard mode it
            has no keys left and its attention is uniform over masked slots.
        target_rate: optional deletion-rate target; builds a `RateController` with kp, ki, beta, alpha_min.
        kp: the controller's proportional gain.
        ki: the controller's integral gain.
        beta: the controller's smoothing of the measured rate.
        alpha_min: the smallest regulariser weight.
        regularizer_delay: optimiser steps (penalty calls with update) before the regulariser and the controller
            start (MrT5's regularizer_delay).
        mode: "auto" (soft while training, hard in eval), "soft" or "hard".
        check_finite: raise on NaN/inf hidden states (one host sync per call).
    """

    def __init__(self, d_model: int, *, k: float = -30.0, threshold: float | None = None, norm: str = "rms",
                 init: str = "mrt5", init_bias: float = 1.0, init_std: float = 0.3, eps: float = 1e-6,
                 gumbel_noise: bool = False, keep_hard_bias: bool = False, on_all_deleted: str = "raise",
                 target_rate: float | None = None, kp: float = 0.5, ki: float = 1e-5, beta: float = 0.9,
                 alpha_min: float = 0.0, regularizer_delay: int = 0, mode: str = "auto",
                 check_finite: bool = True):
        super().__init__()
        if d_model <= 0:
            raise InputError(f"d_model must be positive, got {d_model}")
        if not k < 0:
            raise InputError(f"k must be negative (the gate's floor), got {k}")
        threshold = k / 2 if threshold is None else float(threshold)
        if not k < threshold < 0:
            raise InputError(f"threshold must lie in (k, 0) = ({k}, 0), got {threshold}")
        if norm not in NORMS:
            raise InputError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        if init not in INITS:
            raise InputError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if on_all_deleted not in ON_ALL_DELETED:
            raise InputError(f"on_all_deleted must be one of {', '.join(ON_ALL_DELETED)}, got {on_all_deleted!r}")
        if not isinstance(regularizer_delay, int) or regularizer_delay < 0:
            raise InputError(f"regularizer_delay must be a non-negative integer, got {regularizer_delay!r}")
        self.k, self.threshold = float(k), threshold
        self.norm = (_T5RMSNorm(d_model, eps) if norm == "rms" else nn.LayerNorm(d_model, eps=eps) if norm == "layer"
                     else nn.Identity())
        self.proj = nn.Linear(d_model, 1)
        with torch.no_grad():
            if init == "mrt5":
                # logit ~ N(1, ~2) on unit-RMS inputs: P(logit < 0) ~ 0.24, MrT5's starting deletion rate
                nn.init.xavier_uniform_(self.proj.weight)
            else:
                self.proj.weight.normal_(0.0, init_std / math.sqrt(d_model))
            self.proj.bias.fill_(init_bias)
        self.norm_kind, self.init_kind = norm, init
        self.gumbel_noise, self.keep_hard_bias, self.on_all_deleted = gumbel_noise, keep_hard_bias, on_all_deleted
        self.regularizer_delay, self.steps = regularizer_delay, 0
        self.mode = mode
        self.check_finite = check_finite
        self.controller = (RateController(target_rate, kp=kp, ki=ki, beta=beta, alpha_min=alpha_min)
                           if target_rate is not None else None)
        self.last: GateOutput | None = None
        self.layer_name = "delete gate"

    @property
    def mode(self) -> str:
        """"auto", "soft" or "hard" (settable; see the constructor)."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in ("auto", "soft", "hard"):
            raise InputError(f"mode must be 'auto', 'soft' or 'hard', not {value!r}")
        self._mode = value

    @property
    def hard(self) -> bool:
        """Whether the next forward deletes tokens for real (hard mode, or auto in eval)."""
        return self._mode == "hard" or (self._mode == "auto" and not self.training)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> GateOutput:
        """The gate of each token of a batch.

        Args:
            hidden: [B, T, D] hidden states.
            attention_mask: [B, T] real tokens; None: all real.

        Returns:
            A `GateOutput` (gate values, kept tokens, mask), also kept as `self.last`.

        Raises:
            InputError: NaN/inf hidden states (with `check_finite`), or every real token deleted with
                on_all_deleted="raise".
        """
        if hidden.dim() != 3:
            raise InputError(f"{self.layer_name}: hidden states must be [B, T, D], got {tuple(hidden.shape)}")
        B, T, _ = hidden.shape
        if T == 0:
            raise InputError(f"{self.layer_name}: applied to a length-0 sequence (T = 0); nothing to gate")
        if self.check_finite and not torch.isfinite(hidden).all():
            raise InputError(f"{self.layer_name}: hidden states contain NaN or inf (check the inputs and the "
                             "layers before the gate)")
        if attention_mask is None:
            mask = torch.ones(B, T, dtype=torch.bool, device=hidden.device)
        else:
            if attention_mask.shape != (B, T):
                raise InputError(f"{self.layer_name}: attention_mask must be [B, T] = {(B, T)}, "
                                 f"got {tuple(attention_mask.shape)}")
            mask = attention_mask.to(hidden.device) != 0
        logit = self.proj(self.norm(hidden)).squeeze(-1).float()      # [B, T]
        if self.gumbel_noise and self.training:
            u = torch.empty_like(logit).uniform_(1e-10, 1 - 1e-10)
            logit = logit - torch.log(-torch.log(u))
        g = self.k * torch.sigmoid(-logit)
        g = torch.where(mask, g, torch.full((), self.k, device=g.device))
        keep = (g > self.threshold) & mask
        if self.on_all_deleted == "keep_best":
            empty = ~keep.any(1) & mask.any(1)                          # [B]
            best = g.masked_fill(~mask, -math.inf).argmax(1)            # [B]
            keep = keep | (torch.nn.functional.one_hot(best, T).bool() & empty[:, None])
        elif bool(mask.any()) and not bool(keep.any()):
            raise InputError(f"{self.layer_name}: every token of the batch is deleted (as MrT5, this is an "
                             "error): lower the target rate or the regulariser weight, or pass "
                             "on_all_deleted='keep_best'")
        out = GateOutput(gate=g, keep=keep, mask=mask, hard_bias=self.keep_hard_bias)
        self.last = out
        return out

    def penalty(self, out: GateOutput | None = None, update: bool = True, per_sequence: float = 0.0) -> torch.Tensor:
        """The regulariser: alpha * mean(G over real tokens) for the last (or given) forward.

        With `update`, the controller then sees that forward's deletion rate. Without a target (no controller) alpha
        is 0. During the first `regularizer_delay` updates the penalty is 0 and the controller waits (MrT5).

        Args:
            out: a `GateOutput`; None: the last forward's.
            update: let the controller see this forward's rate.
            per_sequence: > 0 (an extension, not MrT5): each sequence's mean G gets the weight
                alpha + per_sequence * (target - its own rate), so sequences above the target are pushed back and
                those below pushed on, instead of only the batch's mean rate being steered.

        Returns:
            A scalar tensor to add to the loss.
        """
        out = out if out is not None else self.last
        if out is None:
            raise InputError("penalty() before any forward of the delete gate")
        mean_g = (out.gate * out.mask).sum() / out.mask.sum().clamp(min=1)
        if update:
            self.steps += 1
            if self.steps <= self.regularizer_delay:
                return mean_g * 0.0
        alpha = self.controller.alpha if self.controller is not None else 0.0
        if per_sequence and self.controller is not None:
            n = out.mask.sum(1).clamp(min=1)
            rate_b = (out.deleted.sum(1) / n).detach()
            w = alpha + per_sequence * (self.controller.target - rate_b)
            pen = ((out.gate * out.mask).sum(1) / n * w).mean()
        else:
            pen = alpha * mean_g
        if update and self.controller is not None:
            self.controller.update(float(out.deletion_rate()))
        return pen

    @property
    def alpha(self) -> float:
        """The regulariser's current weight (0 without a controller)."""
        return self.controller.alpha if self.controller is not None else 0.0

    def extra_repr(self) -> str:
        """The module's settings, for its repr.

        Returns:
            A short string.
        """
        t = f", target_rate={self.controller.target}" if self.controller is not None else ""
        return (f"k={self.k}, threshold={self.threshold}, norm={self.norm_kind!r}, init={self.init_kind!r}, "
                f"mode={self._mode!r}{t}")


# ------------------------------------------------------------------------------- Hugging Face T5 family

class _State:
    """What one encoder forward leaves for the layers after the gate and for the decoder."""

    def __init__(self):
        self.mask2d: torch.Tensor | None = None      # [B, T] the encoder's attention mask (as given)
        self.key_mask: torch.Tensor | None = None    # [B, T'] keys the later layers may attend to
        self.bias: torch.Tensor | None = None        # [B, 1, 1, T'] key bias (G, or min on padding)
        self.index: torch.Tensor | None = None       # [B, T'] original positions (hard mode)
        self.folded = False                          # bias already added into the position bias


def _ref(module):
    # keep a reference without registering the module a second time (no duplicate state_dict keys)
    return (module,)


class _GateBlock(nn.Module):
    """The encoder block at the gate's layer with the gate in front of it (MrT5's placement: the gate reads
    the block's input, and the block's own self-attention already sees the gate)."""

    def __init__(self, block, gate, state):
        super().__init__()
        self.block = block
        self._gate, self._state = _ref(gate), state

    def forward(self, hidden_states, attention_mask=None, position_bias=None, *args, **kwargs):
        gate, st = self._gate[0], self._state
        h, pb = hidden_states, position_bias
        mask2d = st.mask2d
        if mask2d is not None and mask2d.shape != h.shape[:2]:
            mask2d = None
        g = gate(h, mask2d)
        if gate.hard:
            h, key_mask, index = g.compact(h)
            st.key_mask, st.index = key_mask, index
            st.bias = g.compact_bias(index, h.dtype)
            if pb is not None:
                pb = _gather_position_bias(pb, index)
        else:
            st.key_mask, st.index = g.mask, None
            st.bias = g.attention_bias(h.dtype)
        st.folded = pb is not None
        if st.folded:
            # fold the key bias into the shared position bias once, [B, H, T', T'], so this and the later
            # layers run without a mask (sdpa would otherwise rebuild position bias + mask in every layer);
            # the block hands the folded bias on to the next ones
            lo = torch.finfo(pb.dtype).min
            pb = torch.where(st.key_mask[:, None, None, :], pb + st.bias.to(pb.dtype),
                             torch.full((), lo, dtype=pb.dtype, device=pb.device))
            attention_mask = None
        else:
            attention_mask = st.bias.to(h.dtype)
        return self.block(h, attention_mask, pb, *args, **kwargs)


def _gather_position_bias(pb, index):
    """[1 or B, H, T, T] -> [B, H, T', T'] at the kept positions, so relative distances stay the original
    ones. One flat index_select (a double gather with expanded indices was 2x slower here); skipped when
    nothing was deleted."""
    B, Tout = index.shape
    H, T = pb.shape[1], pb.shape[-1]
    if Tout == T and bool((index == torch.arange(T, device=index.device)).all()):
        return pb
    ix = index.clamp(min=0)
    flat = (ix[:, :, None] * T + ix[:, None, :]).reshape(-1)          # [B * T' * T']
    if pb.shape[0] == 1:
        out = pb.reshape(H, T * T).index_select(1, flat).view(H, B, Tout, Tout)
        return out.transpose(0, 1)
    rows = torch.arange(B, device=pb.device).repeat_interleave(Tout * Tout) * (T * T) + flat
    return pb.transpose(0, 1).reshape(H, B * T * T).index_select(1, rows).view(H, B, Tout, Tout).transpose(0, 1)


class _BiasedEncoderBlock(nn.Module):
    """An encoder block after the gate: its padding mask is replaced by the gate's key bias."""

    def __init__(self, block, state):
        super().__init__()
        self.block = block
        self._state = state

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        bias = self._state.bias
        if bias is not None and bias.shape[-1] == hidden_states.shape[1]:
            # the gate's bias (and the padding) is already in the position bias, or goes in as the mask
            attention_mask = None if self._state.folded else bias.to(hidden_states.dtype)
        return self.block(hidden_states, attention_mask, *args, **kwargs)


class _BiasedDecoderBlock(nn.Module):
    """A decoder block: its cross-attention mask is replaced by the gate's key bias."""

    def __init__(self, block, state):
        super().__init__()
        self.block = block
        self._state = state

    def forward(self, hidden_states, attention_mask=None, position_bias=None, encoder_hidden_states=None,
                encoder_attention_mask=None, *args, **kwargs):
        bias = self._state.bias
        if encoder_hidden_states is not None and bias is not None and bias.shape[-1] == encoder_hidden_states.shape[1]:
            if bias.shape[0] != encoder_hidden_states.shape[0]:      # beam search expanded the batch
                bias = bias.repeat_interleave(encoder_hidden_states.shape[0] // bias.shape[0], 0)
            encoder_attention_mask = bias.to(hidden_states.dtype)
        return self.block(hidden_states, attention_mask, position_bias, encoder_hidden_states,
                          encoder_attention_mask, *args, **kwargs)


def _find_stacks(model):
    enc = getattr(model, "encoder", None)
    if enc is None and hasattr(model, "block") and not getattr(model, "is_decoder", False):
        enc = model
    if enc is None or not isinstance(getattr(enc, "block", None), nn.ModuleList):
        raise InputError(
            f"insert_delete_gate: {type(model).__name__} has no T5-style encoder (expected model.encoder.block, "
            "a ModuleList of blocks). For other encoders use DeleteGate directly at your layer (see the "
            "tokkit.dynamic.delete_gate docstring for the hook point)")
    dec = getattr(model, "decoder", None)
    if dec is not None and not isinstance(getattr(dec, "block", None), nn.ModuleList):
        dec = None
    return enc, dec


def insert_delete_gate(model, layer: int = 3, *, k: float = -30.0, threshold: float | None = None,
                       target_rate: float | None = None, mode: str = "auto", kp: float = 0.5, ki: float = 1e-5,
                       beta: float = 0.9, alpha_min: float = 0.0, norm: str = "rms", init: str = "mrt5",
                       init_bias: float = 1.0, init_std: float = 0.3, gumbel_noise: bool = False,
                       keep_hard_bias: bool = False, on_all_deleted: str = "raise", regularizer_delay: int = 0,
                       check_finite: bool = True) -> DeleteGate:
    """Put a `DeleteGate` in front of encoder block `layer` of a Hugging Face T5-style model, in place.

    Works on T5 / ByT5 / MT5 / UMT5-style models (T5ForConditionalGeneration, T5Model, T5EncoderModel or a bare
    encoder stack). The gate reads the output of block layer-1, and blocks layer.. see its key bias (soft mode)
    or only the kept tokens (hard mode: the encoder output is shorter; `gate.last` and
    `model.encoder.delete_gate_state.index` map it back). The decoder's cross-attention sees the same. (Earlier
    tokkit put the gate after block `layer`: old `layer=k` is `layer=k+1` now.) Train with
    `loss = out.loss + gate.penalty()`.

    Args:
        model: the model (changed in place).
        layer: numbered as MrT5's delete_gate_layer (0-based; default 3, MrT5's).
        k: as `DeleteGate`.
        threshold: as `DeleteGate`.
        target_rate: as `DeleteGate`.
        mode: as `DeleteGate`.
        kp: as `DeleteGate`.
        ki: as `DeleteGate`.
        beta: as `DeleteGate`.
        alpha_min: as `DeleteGate`.
        norm: as `DeleteGate`.
        init: as `DeleteGate`.
        init_bias: as `DeleteGate`.
        init_std: as `DeleteGate`.
        gumbel_noise: as `DeleteGate`.
        keep_hard_bias: as `DeleteGate`.
        on_all_deleted: as `DeleteGate`.
        regularizer_delay: as `DeleteGate`.
        check_finite: as `DeleteGate`.

    Returns:
        The gate (also at `model.encoder.delete_gate`).

    Raises:
        InputError: not a T5-style model, a layer out of range, or a gate already inserted.
    """
    enc, dec = _find_stacks(model)
    n = len(enc.block)
    if getattr(enc, "delete_gate", None) is not None:
        raise InputError("insert_delete_gate: the model already has a delete gate (remove_delete_gate first)")
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer < n:
        raise InputError(f"insert_delete_gate: layer={layer} is not an encoder block with one before it (the gate "
                         f"sits in front of block `layer`, as MrT5's delete_gate_layer); this encoder has {n} blocks "
                         f"(valid: 1..{n - 1})")
    d_model = getattr(getattr(model, "config", None), "d_model", None) or enc.config.d_model
    first = next(model.parameters())
    gate = DeleteGate(d_model, k=k, threshold=threshold, norm=norm, init=init, init_bias=init_bias,
                      init_std=init_std, gumbel_noise=gumbel_noise, keep_hard_bias=keep_hard_bias,
                      on_all_deleted=on_all_deleted, target_rate=target_rate, kp=kp, ki=ki, beta=beta,
                      alpha_min=alpha_min, regularizer_delay=regularizer_delay, mode=mode,
                      check_finite=check_finite)
    gate.to(device=first.device, dtype=first.dtype if first.dtype.is_floating_point else None)
    gate.layer_name = f"delete gate before encoder block {layer}"
    gate.train(model.training)
    state = _State()
    enc.delete_gate = gate
    enc.delete_gate_state = state
    enc.block[layer] = _GateBlock(enc.block[layer], gate, state)
    for i in range(layer + 1, n):
        enc.block[i] = _BiasedEncoderBlock(enc.block[i], state)

    def _capture_mask(module, args, kwargs):
        m = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)
        state.mask2d = m if m is not None and m.dim() == 2 else None
        state.bias = state.key_mask = state.index = None

    handles = [enc.register_forward_pre_hook(_capture_mask, with_kwargs=True)]
    if dec is not None:
        for i in range(len(dec.block)):
            dec.block[i] = _BiasedDecoderBlock(dec.block[i], state)

        def _decoder_mask(module, args, kwargs):
            ehs = kwargs.get("encoder_hidden_states")
            if ehs is not None and state.key_mask is not None and state.key_mask.shape[1] == ehs.shape[1]:
                km = state.key_mask
                if km.shape[0] != ehs.shape[0]:
                    km = km.repeat_interleave(ehs.shape[0] // km.shape[0], 0)
                kwargs["encoder_attention_mask"] = km.long()
            return args, kwargs

        handles.append(dec.register_forward_pre_hook(_decoder_mask, with_kwargs=True))
    gate._hf_handles = (enc, dec, layer, handles)
    return gate


def remove_delete_gate(model) -> DeleteGate:
    """Undo `insert_delete_gate`.

    Args:
        model: the model with a gate.

    Returns:
        The removed gate.

    Raises:
        InputError: the model has no gate.
    """
    enc, dec = _find_stacks(model)
    gate = getattr(enc, "delete_gate", None)
    if gate is None:
        raise InputError("remove_delete_gate: the model has no delete gate")
    _, _, layer, handles = gate._hf_handles
    for h in handles:
        h.remove()
    for stack in (enc, dec):
        if stack is None:
            continue
        for i, b in enumerate(stack.block):
            if isinstance(b, (_GateBlock, _BiasedEncoderBlock, _BiasedDecoderBlock)):
                stack.block[i] = b.block
    del enc.delete_gate
    del enc.delete_gate_state
    return gate
