"""Give a pretrained model the embeddings of an extended tokenizer's new tokens (`tokkit.train.extension`).

Methods for the row of a new token:
- fvt: the mean of the embeddings of the base tokens its text encodes to (Fast Vocabulary Transfer, Gee et
  al. 2022; the same mean `tokkit.dynamic` gives merged tokens per batch, on the shared segment-mean kernel);
- merge: the mean of the rows of the two tokens its merge joins, new ones built first, so a long token
  inherits from its halves rather than equally from every piece;
- mean: the mean row of the base vocabulary; random: normal with the base rows' standard deviation;
- chain: the fvt input row, and an output row of its own (the output table is untied if it was tied, base
  rows copied unchanged): the output row of its first base token plus a bias, so its logit is
  logit(first base token) + b, i.e. log p(first) + log p(rest | first) with p(rest | first) taken as
  e^b. b is fitted on calibration text (training text, never the evaluation text) by maximum likelihood under
  the base model: e^b = (count of the token in the extended encoding) / (sum over the extended encoding's
  token starts of p(first base token) / Z), Z the extended model's normaliser (fixed-point iteration).
Input and output embeddings are resized (one table when tied) and the base rows are untouched, so on text
without new tokens the model's logits over the base vocabulary stay identical.
"""

from __future__ import annotations

import os
from typing import Sequence

from .._extras import require
from ..errors import InputError

METHODS = ("fvt", "merge", "mean", "random", "chain")


def _init_rows(weight, base_size: int, parts: Sequence, method: str, seed: int):
    """Fill rows base_size.. of `weight` (V', D) in place from the base rows."""
    torch = require("torch", "torch")
    from ..kernels.segment import segment_mean

    if not parts:
        return
    new_ids = torch.tensor([i for i, _, _ in parts], dtype=torch.long, device=weight.device)
    base = weight[:base_size]
    if method in ("fvt", "chain"):
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


def _token_bytes(tok, split_pattern):
    """id -> byte length of every ordinary token of a byte-level BPE (for aligning two encodings)."""
    from .extension import load_base

    return {i: len(t) for t, i in load_base(tok, split_pattern=split_pattern).ids.items()}


def _encoder(tok, split_pattern):
    from ..tokenizer import load_tokenizer

    if not isinstance(tok, (str, os.PathLike)) and hasattr(tok, "encode"):
        return tok
    return load_tokenizer(tok, split_pattern=split_pattern)


def chain_biases(model, base_tok, new_tok, parts: Sequence, texts: Sequence[str], *, max_tokens: int = 20000,
                 window: int = 512, prior: float = 1.0, iterations: int = 5, split_pattern: str | None = None):
    """The per-token output biases of the `chain` initialisation, fitted on `texts` under the base model.

    Args:
        model: the base causal LM (its table still of the base tokenizer's size).
        base_tok: the base tokenizer (path or tokkit Tokenizer).
        new_tok: its extension.
        parts: `tokkit.train.extension.new_token_parts(base_tok, new_tok)[2]`.
        texts: calibration text (training text; the evaluation text must not be among it).
        max_tokens: stop reading `texts` after this many base tokens (each one forward position).
        window: base tokens read from each text (its first ones), one forward pass.
        prior: pseudo-count pulling a token seen rarely towards the pooled ratio of all new tokens.
        iterations: fixed-point iterations for the normaliser.
        split_pattern: a tiktoken ranks file's split regex.

    Returns:
        (K,) float tensor: the bias b of each new token of `parts`, in order (logit = first base token's + b).
    """
    torch = require("torch", "torch")

    bos = getattr(model.config, "bos_token_id", None)
    if isinstance(bos, (list, tuple)):
        bos = bos[0]
    base_enc, new_enc = _encoder(base_tok, split_pattern), _encoder(new_tok, split_pattern)
    nbytes = {**_token_bytes(base_tok, split_pattern), **_token_bytes(new_tok, split_pattern)}
    first = torch.tensor([seg[0] for _, seg, _ in parts], dtype=torch.long)
    uniq, col = torch.unique(first, return_inverse=True)  # distinct first base tokens; token k's column col[k]
    index = {i: k for k, (i, _, _) in enumerate(parts)}
    counts = torch.zeros(len(parts))
    probs = []  # per extended-token start: p(first base token u | base context), for every distinct u
    seen = 0
    with torch.no_grad():
        for text in texts:
            if seen >= max_tokens:
                break
            # one window per text (many texts give the biases more contexts than one long one), and never
            # more than max_tokens in all
            text = text[:16 * window]  # ample for one window of tokens; encoding stays cheap on long documents
            b_ids, n_ids = list(base_enc.encode(text)), list(new_enc.encode(text))
            b_ids = b_ids[:min(window, max_tokens - seen)]
            # byte offsets where each base token starts, and where each extended token starts: the extended
            # encoding coarsens the base one, so an extended token's start is a base token's start
            starts, at = {}, 0
            for p, i in enumerate(b_ids):
                starts[at] = p
                at += nbytes.get(i, 0)
            want: dict[int, int] = {}  # base position -> the new token starting there (or -1)
            at = 0
            for i in n_ids:
                if at in starts:
                    want[starts[at]] = index.get(i, -1)
                at += nbytes.get(i, 0)
            pos = [p for p in range(len(b_ids)) if p in want]
            if not pos:
                continue
            logits = model(input_ids=torch.tensor([[bos] + b_ids])).logits[0, :-1]  # row r predicts b_ids[r]
            probs.append(torch.softmax(logits[torch.tensor(pos)].float(), -1)[:, uniq])
            for p in pos:
                if want[p] >= 0:
                    counts[want[p]] += 1
            seen += len(b_ids)
    if not probs:
        raise InputError("chain initialisation: the calibration text gives no tokens")
    P = torch.cat(probs)                         # (positions, distinct first tokens)
    # maximum likelihood of b (the loss is convex in b): N_k = sum_pos p(first_k) e^b_k / Z_pos, solved by
    # fixed-point iteration; Z_pos = 1 + sum_k p(first_k) e^b_k is the mass the new tokens add at pos
    scale = torch.ones(len(parts))
    pooled = None
    for _ in range(max(1, iterations)):
        w = torch.zeros(len(uniq)).index_add_(0, col, scale)
        z = 1 + P @ w
        s = (P / z[:, None]).sum(0)[col]         # expected count of each token per unit of e^b
        if pooled is None:
            pooled = float(counts.sum() / s.sum().clamp_min(1e-12))
        scale = (counts + prior * pooled) / (s + prior)
    return scale.clamp_min(1e-12).log()


def extend_model(model, base_tok, new_tok, method: str = "fvt", *, seed: int = 0,
                 split_pattern: str | None = None, calibration: Sequence[str] | None = None,
                 calibration_tokens: int = 20000):
    """Resize a Hugging Face model's embeddings from `base_tok`'s vocabulary to `new_tok`'s and initialise the new rows.

    `new_tok` is an extension of `base_tok` (see `tokkit.extend`). Input and output embeddings are resized (tied or
    not); base rows are untouched. `chain` unties a tied output table and adds an output bias (module docstring).

    Args:
        model: the Hugging Face model (changed in place).
        base_tok: the base tokenizer: a path (tokenizer.json, folder, ranks file) or a tokkit `Tokenizer` with a
            path.
        new_tok: the extended tokenizer, likewise.
        method: how new rows start: "fvt", "merge", "mean", "random" or "chain".
        seed: the seed of "random".
        split_pattern: a tiktoken ranks file's split regex or known name.
        calibration: "chain" only, required: training text its output biases are fitted on (never the
            evaluation text).
        calibration_tokens: "chain" only: at most this many base tokens of `calibration` are read.

    Returns:
        The model.

    Raises:
        InputError: before changing the model, when its embedding table does not have `base_tok`'s size, for an
            unknown method, or for "chain" without calibration text.
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
    if method == "chain":
        if out is None:
            raise InputError("method='chain' needs a model with output embeddings")
        if not calibration:
            raise InputError("method='chain' needs calibration= (training text, not the evaluation text)")
        biases = chain_biases(model, base_tok, new_tok, parts, calibration, max_tokens=calibration_tokens,
                              split_pattern=split_pattern)
        return _chain_head(model, base_size, new_size, parts, biases, tied, seed)
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


def _chain_head(model, base_size: int, new_size: int, parts, biases, tied: bool, seed: int):
    """Resize the input table (fvt rows) and give the model an untied output layer with a bias: base rows
    and zero biases as before, new rows = the first base token's output row, biases fitted."""
    torch = require("torch", "torch")

    old = model.get_output_embeddings()
    w_out = old.weight.detach().clone()
    b_old = getattr(old, "bias", None)
    if tied:
        model.config.tie_word_embeddings = False  # the new rows differ: input fvt, output first token + bias
        if hasattr(model.config, "get_text_config"):
            model.config.get_text_config().tie_word_embeddings = False
    model.resize_token_embeddings(new_size, mean_resizing=False)
    emb = model.get_input_embeddings()
    with torch.no_grad():
        _init_rows(emb.weight, base_size, parts, "fvt", seed)
        head = torch.nn.Linear(w_out.shape[1], new_size, bias=True, dtype=w_out.dtype, device=w_out.device)
        head.weight.zero_()
        head.bias.zero_()
        head.weight[:base_size] = w_out[:base_size]
        if b_old is not None:
            head.bias[:base_size] = b_old[:base_size]
        ids = torch.tensor([i for i, _, _ in parts], dtype=torch.long)
        first = torch.tensor([seg[0] for _, seg, _ in parts], dtype=torch.long)
        head.weight[ids] = w_out[first]
        head.bias[ids] = biases.to(head.bias.dtype) + (b_old[first] if b_old is not None else 0)
        # ids in holes between the base size and a new token are never produced: a very low logit
        hole = torch.ones(new_size, dtype=torch.bool)
        hole[:base_size] = False
        hole[ids] = False
        head.bias[hole] = torch.finfo(head.bias.dtype).min / 2
    model.set_output_embeddings(head)
    return model
