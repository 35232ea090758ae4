"""Data-pipeline entry points: tokenize, merge per batch, return model inputs plus the segment map.

- `DynamicMergeCollator(tokenizer, ...)`: a `collate_fn` for `torch.utils.data.DataLoader` and the
  `data_collator` of a Hugging Face `Trainer`. Examples may be strings, dicts with a text field, dicts already
  tokenized (`input_ids` + `word_ids`), or rows produced by `merge_map_function` (their per-batch merge
  tables are combined into one).
- `merge_map_function(tokenizer, ...)`: for `datasets.Dataset.map(fn, batched=True, batch_size=32)`; each map
  batch is merged on its own and every row carries that batch's merge table.

Batches come out as a dict: `input_ids` (B, T'), `attention_mask` (B, T'), `segments` (B, T', 2) input spans
(-1 padded), `lengths` (B,), `merges` (K, 2) and `vocab_size` (the first new id), plus any labels. Feed it to
`DynamicMergeModel(model)(**batch)`.

With `Trainer` on raw text, pass `TrainingArguments(remove_unused_columns=False)`: otherwise Trainer drops the
text column before the collator sees it (true of every collator that tokenizes).

`rule`: "fixed" (default) merges with fixed word boundaries from the tokenizer's offsets in the numba kernel;
"original" decides each pair with Dynamic BPE's own rule (`boundaries.DynamicBPERule`), which reproduces the
original's merges exactly (modes word, sentence, pretokens; about 0.3 s per batch of 32 x 128 tokens).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from .batch_merge import _pad_flat, merge_batch
from .boundaries import DynamicBPERule, tokenize_with_words

__all__ = ["DynamicMergeCollator", "merge_map_function", "tokenizer_vocab_size", "measure_reduction"]


def tokenizer_vocab_size(tokenizer) -> int:
    """Size of a tokenizer's id space (added tokens included): new ids start here."""
    for attr in ("get_vocab_size",):
        f = getattr(tokenizer, attr, None)
        if callable(f):
            return int(f())
    if hasattr(tokenizer, "backend_tokenizer"):
        return int(tokenizer.backend_tokenizer.get_vocab_size())
    v = getattr(tokenizer, "vocab_size", None)
    if isinstance(v, (int, np.integer)):
        return int(v)
    raise InputError(f"cannot tell the vocabulary size of {type(tokenizer).__name__}: pass vocab_size=")


def _pad_id(tokenizer) -> int:
    tid = getattr(tokenizer, "pad_token_id", None)
    if isinstance(tid, int):
        return tid
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    pad = getattr(backend, "padding", None)
    if isinstance(pad, dict) and isinstance(pad.get("pad_id"), int):
        return pad["pad_id"]
    f = getattr(backend, "token_to_id", None)
    if callable(f):
        for t in ("[PAD]", "<pad>", "<|pad|>"):
            i = f(t)
            if i is not None:
                return int(i)
    return 0


RULES = ("fixed", "original")


def _pair_rule(tokenizer, rule: str, mode: str):
    if rule not in RULES:
        raise InputError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if rule == "fixed":
        return None
    if tokenizer is None:
        raise InputError("rule='original' needs the tokenizer (it reads the tokens' bytes)")
    return _cached_rule(tokenizer, mode)


@lru_cache(maxsize=1)
def _cached_rule(tokenizer, mode: str) -> DynamicBPERule:
    # a collator asks for the rule once per batch; building it reads the tokenizer, so the last one is kept
    return DynamicBPERule(tokenizer, mode)


def _merge(ids, words, rule, **kw):
    if rule is not None:
        return merge_batch(ids, pair_rule=rule, **kw)
    return merge_batch(ids, words, **kw)


class _Merger:
    def __init__(self, tokenizer, mode, max_merges, target_ratio, min_count, max_length, text_key,
                 add_special_tokens, vocab_size, pad_id, backend, rule="fixed"):
        self.tokenizer = tokenizer
        self.mode = mode
        self.rule = _pair_rule(tokenizer, rule, mode)
        self.kw = dict(max_merges=max_merges, target_ratio=target_ratio, min_count=min_count, backend=backend)
        self.max_length = max_length
        self.text_key = text_key
        self.add = add_special_tokens
        self.vocab_size = vocab_size if vocab_size is not None else (
            tokenizer_vocab_size(tokenizer) if tokenizer is not None else None)
        self.pad_id = pad_id if pad_id is not None else (_pad_id(tokenizer) if tokenizer is not None else 0)

    def tokenize(self, texts: Sequence[str]):
        if self.tokenizer is None:
            raise InputError("examples hold text but no tokenizer was given")
        return tokenize_with_words(self.tokenizer, texts, mode=self.mode, add_special_tokens=self.add,
                                   max_length=self.max_length)

    def merge(self, ids, words):
        if self.vocab_size is None:
            raise InputError("pre-tokenized examples without a tokenizer: pass vocab_size=")
        return _merge(ids, words, self.rule, vocab_size=self.vocab_size, pad_id=self.pad_id, **self.kw)


class DynamicMergeCollator(_Merger):
    """A `collate_fn` / `data_collator` that tokenizes and merges each batch (see the module docstring).

    Args:
        tokenizer: anything `tokenize_with_words` takes; None when the examples are already tokenized.
        mode: as in `tokenize_with_words`.
        max_merges: as in `merge_batch`.
        target_ratio: as in `merge_batch`.
        min_count: as in `merge_batch`.
        max_length: truncate each sequence to this many tokens.
        text_key: the text field of dict examples.
        add_special_tokens: let the tokenizer add its special tokens.
        vocab_size: the first new id (default: the tokenizer's size).
        pad_id: the padding id (default: the tokenizer's, else 0).
        label_keys: example fields passed through as labels.
        return_tensors: "pt" (torch) or "np".
        backend: as in `merge_batch`.
        rule: "fixed" (word boundaries from offsets, in the kernel) or "original" (Dynamic BPE's own pair rule).
    """

    def __init__(self, tokenizer=None, *, mode: str = "word", max_merges: int | None = None,
                 target_ratio: float | None = None, min_count: int = 2, max_length: int | None = 512,
                 text_key: str = "text", add_special_tokens: bool = True, vocab_size: int | None = None,
                 pad_id: int | None = None, label_keys: Sequence[str] = ("label", "labels"),
                 return_tensors: str = "pt", backend: str = "numba", rule: str = "fixed"):
        if return_tensors not in ("pt", "np"):
            raise InputError(f"return_tensors must be 'pt' or 'np', got {return_tensors!r}")
        super().__init__(tokenizer, mode, max_merges, target_ratio, min_count, max_length, text_key,
                         add_special_tokens, vocab_size, pad_id, backend, rule)
        self.label_keys = tuple(label_keys)
        self.return_tensors = return_tensors

    def __call__(self, examples: Sequence[Any]) -> dict:
        examples = list(examples)
        labels: dict[str, list] = {}
        if examples and all(isinstance(e, dict) for e in examples):
            for k in self.label_keys:
                if all(k in e for e in examples):
                    labels[k] = [e[k] for e in examples]
            if all("merges" in e and "input_ids" in e for e in examples):
                return self._finish(_combine_premerged(examples, self.pad_id), labels)
            if all("input_ids" in e and "word_ids" in e for e in examples):
                ids = [np.asarray(e["input_ids"], dtype=np.int64) for e in examples]
                words = [[-1 if w is None else w for w in e["word_ids"]] for e in examples]
            else:
                missing = [i for i, e in enumerate(examples) if self.text_key not in e]
                if missing:
                    raise InputError(f"example {missing[0]} has no {self.text_key!r} field (keys: "
                                     f"{sorted(examples[missing[0]])}); set text_key=")
                ids, words = self.tokenize([e[self.text_key] for e in examples])
        elif all(isinstance(e, str) for e in examples):
            ids, words = self.tokenize(examples)
        else:
            raise InputError("examples must all be strings or all be dicts")
        return self._finish(self.merge(ids, words).model_inputs("np"), labels)

    def _finish(self, out: dict, labels) -> dict:
        """Model inputs (as from `MergeResult.model_inputs("np")`) plus the labels, in the tensors asked for."""
        for k, v in labels.items():
            out[k] = np.asarray(v)
        if self.return_tensors == "pt":
            import torch

            out = {k: torch.as_tensor(v) for k, v in out.items()}
        return out


def _combine_premerged(examples, pad_id: int) -> dict:
    """Rows merged in different map batches carry different tables: renumber their new ids into one. Returns
    the padded model inputs."""
    vocab = {int(e["vocab_size"]) for e in examples}
    if len(vocab) != 1:
        raise InputError(f"examples were merged with different vocab sizes {sorted(vocab)}")
    v = vocab.pop()
    tables: dict[bytes, tuple[int, np.ndarray]] = {}
    parts, seqs, segs, offset = [], [], [], 0
    for i, e in enumerate(examples):
        m = np.asarray(e["merges"], dtype=np.int64).reshape(-1, 2)
        key = m.tobytes()
        if key not in tables:
            shift = offset
            mm = np.where(m >= v, m + shift, m)
            tables[key] = (shift, mm)
            parts.append(mm)
            offset += len(m)
        shift = tables[key][0]
        s = np.asarray(e["input_ids"], dtype=np.int64)
        seqs.append(np.where(s >= v, s + shift, s))
        seg = np.asarray(e["segments"], dtype=np.int64).reshape(-1, 2)
        if len(seg) != len(s):
            raise InputError(f"example {i}: {len(seg)} segments for {len(s)} ids")
        segs.append(seg)
    merges = np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)
    lens = np.array([len(s) for s in seqs], dtype=np.int64)
    ids, mask = _pad_flat(np.concatenate(seqs) if seqs else np.zeros(0, np.int64), lens, pad_id)
    spans = _pad_flat(np.concatenate(segs) if segs else np.zeros((0, 2), np.int64), lens, -1)[0]
    return dict(input_ids=ids, attention_mask=mask.astype(np.int64), segments=spans, lengths=lens,
                merges=merges, vocab_size=np.int64(v))


def merge_map_function(tokenizer, *, mode: str = "word", max_merges: int | None = None,
                       target_ratio: float | None = None, min_count: int = 2, max_length: int | None = 512,
                       text_key: str = "text", add_special_tokens: bool = True, vocab_size: int | None = None,
                       backend: str = "numba", rule: str = "fixed"):
    """A function for `Dataset.map(fn, batched=True)` that merges each map batch.

    Args:
        tokenizer: anything `tokenize_with_words` takes.
        mode: as in `tokenize_with_words`.
        max_merges: as in `merge_batch`.
        target_ratio: as in `merge_batch`.
        min_count: as in `merge_batch`.
        max_length: truncate each sequence to this many tokens.
        text_key: the text column.
        add_special_tokens: let the tokenizer add its special tokens.
        vocab_size: the first new id (default: the tokenizer's size).
        backend: as in `merge_batch`.
        rule: "fixed" or "original", as in `DynamicMergeCollator`.

    Returns:
        fn(batch) -> dict adding `input_ids`, `attention_mask`, `segments`, `merges` (the map batch's table, on
        every row) and `vocab_size`.
    """
    m = _Merger(tokenizer, mode, max_merges, target_ratio, min_count, max_length, text_key, add_special_tokens,
                vocab_size, 0, backend, rule)

    def fn(batch: dict) -> dict:
        if text_key not in batch:
            raise InputError(f"batch has no {text_key!r} column (columns: {sorted(batch)}); set text_key=")
        ids, words = m.tokenize(list(batch[text_key]))
        res = m.merge(ids, words)
        table = res.merges.tolist()
        return dict(input_ids=[s.tolist() for s in res.seqs], attention_mask=[[1] * len(s) for s in res.seqs],
                    segments=[np.asarray(g).tolist() for g in res.segments], merges=[table] * len(res.seqs),
                    vocab_size=[res.vocab_size] * len(res.seqs))

    return fn


SEQUENCE_CHARS = 1 << 16


def _sequences(texts: Sequence[str]):
    """The texts as sequences: a text longer than SEQUENCE_CHARS characters (a whole book on one line) is
    cut at spaces into consecutive sequences of at most that many (some 15,000 tokens, several times a
    model's window: it would see the text in windows anyway), so that memory follows the batch size, not
    one document's size."""
    from ..tokenizer.chunks import iter_pieces

    for t in texts:
        if isinstance(t, str) and len(t) > SEQUENCE_CHARS:
            yield from iter_pieces(t, SEQUENCE_CHARS)
        else:
            yield t


def measure_reduction(tokenizer, texts: Sequence[str], *, batch_size: int = 32, mode: str = "word",
                      max_merges: int | None = None, target_ratio: float | None = None, min_count: int = 2,
                      max_length: int | None = None, add_special_tokens: bool = False, check: bool = True,
                      backend: str = "numba", rule: str = "fixed") -> dict:
    """Tokenize `texts`, merge them in batches of `batch_size` and report the length reduction.

    Args:
        tokenizer: anything `tokenize_with_words` takes.
        texts: the texts, any iterable (read as the batches go), or a single str.
        batch_size: texts per batch.
        mode: as in `tokenize_with_words`.
        max_merges: as in `merge_batch`.
        target_ratio: as in `merge_batch`.
        min_count: as in `merge_batch`.
        max_length: truncate each sequence to this many tokens.
        add_special_tokens: let the tokenizer add its special tokens.
        check: also check that `unmerge` gives back every input exactly.
        backend: as in `merge_batch`.
        rule: "fixed" or "original", as in `DynamicMergeCollator`.

    Returns:
        Input/output token counts, `ratio` (output / input), `reduction` (1 - ratio), merges per batch,
        `sequences` (texts longer than SEQUENCE_CHARS characters are cut into several, see `_sequences`), and
        with `check`, whether `unmerge` gave back every input exactly (`exact`).
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(texts, str):
        texts = [texts]
    n_texts = 0

    def counted(items):
        nonlocal n_texts
        for t in items:
            n_texts += 1
            yield t

    pair_rule = _pair_rule(tokenizer, rule, mode)
    vocab = tokenizer_vocab_size(tokenizer)
    seqs = _sequences(counted(texts))  # read as the batches go: texts may be a stream of documents
    n_seqs = n_in = n_out = 0
    merges = []
    exact = True
    # cut and tokenized a batch at a time (batches are merged independently): memory follows the batch, not
    # the corpus, and a huge text's pieces are never all held at once
    while batch := list(itertools.islice(seqs, batch_size)):
        n_seqs += len(batch)
        ids, words = tokenize_with_words(tokenizer, batch, mode=mode, add_special_tokens=add_special_tokens,
                                         max_length=max_length)
        del batch
        res = _merge(ids, words, pair_rule, max_merges=max_merges,
                     target_ratio=target_ratio, min_count=min_count, vocab_size=vocab, backend=backend)
        a, b = res.num_tokens
        n_in += a
        n_out += b
        merges.append(len(res.merges))
        if check:
            exact &= all(np.array_equal(x, y) for x, y in zip(res.unmerge(), ids))
    ratio = n_out / n_in if n_in else 1.0
    out = dict(texts=n_texts, sequences=n_seqs, batches=len(merges), tokens_in=n_in, tokens_out=n_out,
               ratio=ratio,
               reduction=1.0 - ratio, merges_per_batch=float(np.mean(merges)) if merges else 0.0)
    if check:
        out["exact"] = bool(exact)
    return out
