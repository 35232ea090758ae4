"""Give a pretrained model the embeddings of an extended tokenizer's new tokens (`tokkit.train.extension`).

Methods for the row of a new token:
- fvt: the mean of the embeddings of the base tokens its text encodes to (Fast Vocabulary Transfer, Gee et
  al. 2022; the same mean `tokkit.dynamic` gives merged tokens per batch, on the shared segment-mean kernel);
- merge: the mean of the rows of the two tokens its merge joins, new ones built first, so a long token
  inherits from its halves rather than equally from every piece;
- mean: the mean row of the base vocabulary; random: normal with the base rows' standard deviation.
Input and output embeddings are resized (one table when tied) and the base rows are untouched, so on text
without new tokens the model's logits over the base vocabulary stay identical.
"""

from __future__ import annotations

from typing import Sequence

from .._extras import require
from ..errors import InputError

METHODS = ("fvt", "merge", "mean", "random")


def _init_rows(weight, base_size: int, parts: Sequence, method: str, seed: int):
    """Fill rows base_size.. of `weight` (V', D) in place from the base rows."""
    torch = require("torch", "torch")
    from ..kernels.segment import segment_mean

    if not parts:
        return
    new_ids = torch.tensor([i for i, _, _ in parts], dtype=torch.long, device=weight.device)
    base = weight[:base_size]
    if method == "fvt":
        flat = torch.tensor([j for _, seg, _ in parts for j in seg], dtype=torch.long, device=weight.device)
        seg = torch.repeat_interleave(torch.arange(len(parts), device=weight.device),
                                      torch.tensor([len(s) for _, s, _ in parts], device=weight.device))
        rows = segment_mean(base[flat].float(), seg, len(parts)).to(weight.dtype)
        weight[new_ids] = rows
    elif method == "merge":
        # in id order: a merge's parts are base tokens or new tokens with smaller ids
        for i, _, (a, b) in parts:
            weight[i] = (weight[a].float() + weight[b].float()).div(2).to(weight.dtype)
    elif method == "mean":
        weight[new_ids] = base.float().mean(0).to(weight.dtype)
    else:
        g = torch.Generator(device="cpu").manual_seed(seed)
        rows = torch.randn((len(parts), weight.shape[1]), generator=g) * base.float().std()
        weight[new_ids] = rows.to(weight.device, weight.dtype)


def extend_model(model, base_tok, new_tok, method: str = "fvt", *, seed: int = 0,
                 split_pattern: str | None = None):
    """Resize a Hugging Face model's embeddings from `base_tok`'s vocabulary to `new_tok`'s and initialise the new rows.

    `new_tok` is an extension of `base_tok` (see `tokkit.extend`). Input and output embeddings are resized (tied or
    not); base rows are untouched.

    Args:
        model: the Hugging Face model (changed in place).
        base_tok: the base tokenizer: a path (tokenizer.json, folder, ranks file) or a tokkit `Tokenizer` with a
            path.
        new_tok: the extended tokenizer, likewise.
        method: how new rows start: "fvt", "merge", "mean" or "random".
        seed: the seed of "random".
        split_pattern: a tiktoken ranks file's split regex or known name.

    Returns:
        The model.

    Raises:
        InputError: before changing the model, when its embedding table does not have `base_tok`'s size, or for an
            unknown method.
    """
    torch = require("torch", "torch")
    from .extension import new_token_parts

    if method not in METHODS:
        raise InputError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    base_size, new_size, parts = new_token_parts(base_tok, new_tok, split_pattern=split_pattern)
    emb = model.get_input_embeddings()
    rows = emb.weight.shape[0]
    if rows != base_size:
        raise InputError(f"the model has {rows} embedding rows but the base tokenizer has {base_size} ids: "
                         "extend_model needs the model the base tokenizer belongs to")
    out = model.get_output_embeddings()
    tied = out is not None and out.weight is emb.weight
    model.resize_token_embeddings(new_size, mean_resizing=False)
    with torch.no_grad():
        _init_rows(model.get_input_embeddings().weight, base_size, parts, method, seed)
        out = model.get_output_embeddings()
        if out is not None and not tied:
            _init_rows(out.weight, base_size, parts, method, seed + 1)
            if getattr(out, "bias", None) is not None:
                out.bias[base_size:] = out.bias[:base_size].mean()
    # ids between the base size and a new token (a hole left for a tiktoken encoding's special tokens) keep
    # the rows resize gave them (zeros with mean_resizing=False): they are never produced
    return model
