"""Embeddings for tokens created by batch merging, and a wrapper that feeds them to a Hugging Face model.

A merged token stands for a run of base tokens, so it needs an embedding the model never learned. The
baseline (FVT, "fast vocabulary transfer") is the mean of its constituents' input embeddings; anything
better (a hypernetwork such as ZeTT's) plugs in as a callable with the same signature:

    embed_new(merges (K, 2) LongTensor, vocab_size: int, embedding: nn.Embedding) -> (K, D) tensor

`DynamicMergeModel(model)` looks the merged ids up (base ids in the model's own table, new ids in the table
the callable computes for this batch) and calls `model(inputs_embeds=...)`. With no merges it computes exactly
what `model(input_ids=...)` does.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from .batch_merge import expansions

__all__ = ["segment_mean", "fvt_embeddings", "MergedEmbedding", "DynamicMergeModel", "mean_pool", "merge_similarity"]

NewTokenEmbedder = Callable[[torch.Tensor, int, nn.Module], torch.Tensor]


def segment_mean(values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Mean of the rows of `values` per segment id; empty segments give zeros.

    The shared kernel of tokkit.kernels.segment: triton on CUDA, index_add on the CPU, differentiable.

    Args:
        values: (N, D) rows.
        segment_ids: (N,) the segment of each row.
        num_segments: S, the number of segments.

    Returns:
        (S, D) means.
    """
    from ..kernels.segment import segment_mean as _segment_mean

    return _segment_mean(values, segment_ids, num_segments)


def fvt_embeddings(merges, vocab_size: int, embedding: nn.Module) -> torch.Tensor:
    """Fast vocabulary transfer: new id vocab_size + k gets the mean input embedding of the base tokens it expands to.

    Args:
        merges: (K, 2) the batch's merges, by id.
        vocab_size: the base vocabulary size (new ids start there).
        embedding: the model's input embedding.

    Returns:
        (K, D) embeddings of the new ids.
    """
    weight = embedding.weight
    m = merges.detach().cpu().numpy() if isinstance(merges, torch.Tensor) else np.asarray(merges)
    flat, off = expansions(m.reshape(-1, 2), int(vocab_size))
    k = len(off) - 1
    if k == 0:
        return weight.new_zeros((0, weight.shape[1]))
    seg = torch.from_numpy(np.repeat(np.arange(k), np.diff(off))).to(weight.device)
    return segment_mean(weight[torch.from_numpy(flat).to(weight.device)], seg, k)


class MergedEmbedding(nn.Module):
    """Input embedding for merged ids: base ids from `embedding`, new ids from `embed_new`.

    Args:
        embedding: the model's input embedding.
        embed_new: `embed_new(merges, vocab_size, embedding) -> (K, D)`; None: `fvt_embeddings`.
    """

    def __init__(self, embedding: nn.Module, embed_new: NewTokenEmbedder | None = None):
        super().__init__()
        self.embedding = embedding
        self.embed_new = embed_new or fvt_embeddings

    def forward(self, input_ids: torch.Tensor, merges=None, vocab_size: int | None = None) -> torch.Tensor:
        # input_ids (B, T) -> (B, T, D)
        """Embed a batch of merged ids.

        Args:
            input_ids: (B, T) ids, base and new.
            merges: (K, 2) the batch's merges; None: no new ids.
            vocab_size: the base vocabulary size (default the embedding's).

        Returns:
            (B, T, D) embeddings.
        """
        vocab = int(vocab_size) if vocab_size is not None else self.embedding.num_embeddings
        is_new = input_ids >= vocab
        out = self.embedding(torch.where(is_new, torch.zeros_like(input_ids), input_ids))
        if merges is not None and len(merges) and bool(is_new.any()):
            table = self.embed_new(torch.as_tensor(merges).reshape(-1, 2), vocab, self.embedding)  # (K, D)
            if table.shape[0] != len(merges):
                raise ValueError(f"embed_new returned {table.shape[0]} rows for {len(merges)} merges")
            new_rows = table.to(out.dtype)[(input_ids[is_new] - vocab)]
            out = out.masked_scatter(is_new.unsqueeze(-1), new_rows)
        elif bool(is_new.any()):
            raise ValueError(f"ids >= {vocab} need the batch's merges")
        return out


class DynamicMergeModel(nn.Module):
    """Wrap a Hugging Face model so it accepts merged batches.

    `forward(input_ids, attention_mask, merges, vocab_size, **kwargs)` embeds the merged ids and calls the model
    with `inputs_embeds`. Collator keys it does not use (`segments`, `lengths`) are dropped, so `Trainer` can pass
    whole batches. With no merges it computes exactly what `model(input_ids=...)` does.

    Args:
        model: the Hugging Face model.
        embed_new: how new ids are embedded; None: FVT (`fvt_embeddings`).
    """

    def __init__(self, model: nn.Module, embed_new: NewTokenEmbedder | None = None):
        super().__init__()
        self.model = model
        self.embed = MergedEmbedding(model.get_input_embeddings(), embed_new)

    @property
    def config(self):
        """The wrapped model's config."""
        return self.model.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, merges=None,
                vocab_size=None, segments=None, lengths=None, **kwargs):
        """Run the wrapped model on a merged batch.

        Args:
            input_ids: (B, T) merged ids.
            attention_mask: (B, T) real tokens.
            merges: (K, 2) the batch's merges.
            vocab_size: the base vocabulary size (a tensor is accepted, as collators pass it).
            segments: ignored (a collator key).
            lengths: ignored (a collator key).
            **kwargs: passed to the model (labels, ...).

        Returns:
            What the model returns.
        """
        if vocab_size is not None and isinstance(vocab_size, torch.Tensor):
            vocab_size = int(vocab_size.reshape(-1)[0])
        emb = self.embed(input_ids, merges, vocab_size)
        return self.model(inputs_embeds=emb, attention_mask=attention_mask, **kwargs)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T, D), (B, T) -> (B, D): mean over the positions the mask keeps (sentence-transformers style)."""
    m = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)


@torch.no_grad()
def merge_similarity(model, tokenizer, texts, budgets=(0, 10, 50, 200, None), *, mode: str = "word",
                     batch_size: int = 32, max_length: int = 256, min_count: int = 2,
                     embed_new: NewTokenEmbedder | None = None) -> list[dict]:
    """What merging costs a sentence encoder: cosine similarity of mean-pooled last hidden states with and without.

    Args:
        model: a Hugging Face encoder.
        tokenizer: its tokenizer.
        texts: the texts.
        budgets: merge budgets: max merges per batch; None = until `min_count` stops; "words" = Dynamic BPE's
            run-out, min_count 1, which leaves every word one token.
        mode: as `tokenize_with_words`.
        batch_size: texts per batch.
        max_length: truncate each text to this many tokens.
        min_count: the smallest count of a pair that merges.
        embed_new: how new ids are embedded; None: FVT.

    Returns:
        One row per budget: `budget`, `ratio` (tokens after / before), `cosine_mean`, `cosine_min`.
    """
    from .batch_merge import merge_batch
    from .boundaries import tokenize_with_words
    from .collate import _pad_id, tokenizer_vocab_size

    texts = list(texts)
    wrapped = DynamicMergeModel(model, embed_new)
    vocab = tokenizer_vocab_size(tokenizer)
    pad = _pad_id(tokenizer)
    dev = next(model.parameters()).device
    stats = {b: dict(n_in=0, n_out=0, cos=[]) for b in budgets}
    for i in range(0, len(texts), batch_size):
        ids, words = tokenize_with_words(tokenizer, texts[i: i + batch_size], mode=mode, add_special_tokens=True,
                                         max_length=max_length)
        ref = None
        for b in budgets:
            mm, mc = (None, 1) if b == "words" else (b, min_count)
            res = merge_batch(ids, words, max_merges=mm, min_count=mc, vocab_size=vocab, pad_id=pad)
            inp = {k: v.to(dev) for k, v in res.model_inputs().items()}
            h = wrapped(**inp).last_hidden_state  # (B, T', D)
            pooled = mean_pool(h, inp["attention_mask"])
            if ref is None:  # the first budget is compared with the unmerged model itself
                base = merge_batch(ids, words, max_merges=0, vocab_size=vocab, pad_id=pad).model_inputs()
                base = {k: v.to(dev) for k, v in base.items()}
                ref = mean_pool(model(input_ids=base["input_ids"], attention_mask=base["attention_mask"])
                                .last_hidden_state, base["attention_mask"])
            cos = torch.nn.functional.cosine_similarity(pooled, ref, dim=-1)
            a, n = res.num_tokens
            stats[b]["n_in"] += a
            stats[b]["n_out"] += n
            stats[b]["cos"].append(cos.float().cpu())
    rows = []
    for b in budgets:
        c = torch.cat(stats[b]["cos"]) if stats[b]["cos"] else torch.zeros(0)
        s = stats[b]
        rows.append(dict(budget=b, ratio=s["n_out"] / s["n_in"] if s["n_in"] else 1.0,
                         cosine_mean=float(c.mean()) if len(c) else float("nan"),
                         cosine_min=float(c.min()) if len(c) else float("nan")))
    return rows
