"""Shorten a batch of token-id sequences by merging frequent adjacent pairs inside words, reversibly.

    res = merge_batch(ids, word_ids, max_merges=500)      # ids: lists, NumPy or torch, ragged or padded
    res.ids, res.lengths, res.merges, res.segments        # same container kind as the input
    unmerge(res) == ids                                   # exact

The merges follow Dynamic BPE (Feher, Vulić, Minixhofer 2024): count all adjacent pairs whose two tokens lie
in one word over the whole batch, merge the most frequent (ties: the pair seen first), repeat. New tokens get
ids `vocab_size + k` for the k-th merge of this batch, and `merges[k]` holds the (left, right) ids it joins,
so every new id expands back into base ids. The segment map gives, for each output token, the half-open span
[start, end) of input positions it covers, which is what pooling, embeddings and un-merging model outputs need.

Two engines: with word ids or boundaries (fixed per position, `tokkit.dynamic.boundaries`) the numba kernel
keeps pair counts incrementally; with `pair_rule` (a function of the two tokens, such as Dynamic BPE's own
rule `boundaries.DynamicBPERule`) the batch is recounted per merge in Python as the original does, and the
result equals the original's merges and tokens exactly.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import InputError

__all__ = ["MergeResult", "merge_batch", "unmerge", "expansions", "build_join"]


@dataclass
class _Batch:
    seqs: list[np.ndarray]      # ragged int64 sequences
    kind: str                   # "lists" | "arrays" | "tensors" | "numpy" | "torch"
    width: int = 0              # padded inputs: the input's T
    device: Any = None
    dtype: Any = None


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _to_numpy(x) -> np.ndarray:
    if _is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _lengths_of(lengths, b: int, width: int, name: str) -> np.ndarray:
    if lengths is None:
        return np.full(b, width, dtype=np.int64)
    lens = _to_numpy(lengths).astype(np.int64).reshape(-1)
    if lens.shape[0] != b:
        raise InputError(f"lengths: {lens.shape[0]} entries for a batch of {b} sequences of {name}")
    if lens.size and (lens.min() < 0 or lens.max() > width):
        raise InputError(f"lengths must lie in [0, {width}] (the padded width of {name})")
    return lens


def _ragged(x, lengths, name: str, *, allow_none: bool = False) -> _Batch:
    """Any supported batch container -> ragged int64 arrays plus what is needed to rebuild the kind."""
    if _is_torch(x) or isinstance(x, np.ndarray):
        arr = _to_numpy(x)
        if arr.ndim != 2:
            raise InputError(f"{name}: a padded batch must be 2-d (batch, length), got shape {arr.shape}")
        if arr.dtype.kind not in "iub":
            raise InputError(f"{name}: expected integer ids, got dtype {arr.dtype}")
        lens = _lengths_of(lengths, arr.shape[0], arr.shape[1], name)
        arr = arr.astype(np.int64, copy=False) if arr.dtype != bool else arr
        seqs = [arr[i, : lens[i]] for i in range(arr.shape[0])]
        kind = "torch" if _is_torch(x) else "numpy"
        return _Batch(seqs, kind, arr.shape[1], getattr(x, "device", None), x.dtype)
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence) and not hasattr(x, "__iter__"):
        raise InputError(f"{name}: expected a batch (list of sequences, 2-d array or tensor), got {type(x).__name__}")
    seqs, kind = [], "lists"
    for i, s in enumerate(x):
        if _is_torch(s):
            kind = "tensors"
        elif isinstance(s, np.ndarray):
            kind = "arrays"
        if allow_none and not _is_torch(s) and not isinstance(s, np.ndarray):
            s = [-1 if v is None else v for v in s]
        try:
            a = _to_numpy(s)
            if a.size and a.dtype.kind not in "iub":
                raise TypeError(f"dtype {a.dtype}")
            if a.dtype != bool:
                a = a.astype(np.int64, copy=False)
        except (TypeError, ValueError) as e:
            raise InputError(f"{name}[{i}]: not a sequence of integers ({e})") from None
        if a.ndim != 1:
            raise InputError(f"{name}[{i}]: each sequence must be 1-d, got shape {a.shape}")
        seqs.append(a)
    if lengths is not None:
        lens = _lengths_of(lengths, len(seqs), max((len(s) for s in seqs), default=0), name)
        seqs = [s[: lens[i]] for i, s in enumerate(seqs)]
    return _Batch(seqs, kind)


def build_join(lengths: np.ndarray, word_ids: list[np.ndarray] | None = None,
               boundaries: list[np.ndarray] | None = None) -> np.ndarray:
    """join[i] = 1 where flat positions i and i+1 are in one sequence and one word (may merge)."""
    n = int(lengths.sum())
    ends = np.cumsum(lengths) - 1
    if word_ids is not None:
        w = np.concatenate(word_ids).astype(np.int64, copy=False) if n else np.zeros(0, np.int64)
        join = np.zeros(n, dtype=np.uint8)
        if n > 1:
            join[:-1] = (w[:-1] == w[1:]) & (w[:-1] >= 0)
    elif boundaries is not None:
        bnd = np.concatenate(boundaries).astype(bool) if n else np.zeros(0, bool)
        join = np.zeros(n, dtype=np.uint8)
        if n > 1:
            join[:-1] = ~bnd[1:]
    else:
        join = np.ones(n, dtype=np.uint8)
    join[ends[lengths > 0]] = 0
    return join


def expansions(merges: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat base-id expansions of the new ids: new id base+k is flat[offsets[k]:offsets[k+1]]."""
    merges = np.asarray(merges, dtype=np.int64).reshape(-1, 2)
    # Python lists of Python ints: a merge batch has thousands of new ids, and small numpy arrays cost about
    # 10x as much per id to make and join
    parts: list[list[int]] = []
    for k, (a, b) in enumerate(merges.tolist()):
        if a >= base + k or b >= base + k:
            raise InputError(f"merges[{k}] = ({a}, {b}) refers to a token created later (new ids start at {base})")
        parts.append((parts[a - base] if a >= base else [a]) + (parts[b - base] if b >= base else [b]))
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)), out=offsets[1:])
    flat = np.fromiter(chain.from_iterable(parts), dtype=np.int64, count=int(offsets[-1]))
    return flat, offsets


def _pad_flat(flat: np.ndarray, lens: np.ndarray, fill: int, width: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows concatenated in `flat` (lens[i] entries each, any trailing shape) padded into (B, T, ...) with
    fill, T = max(width, longest row); also the (B, T) mask of real entries. One masked assignment fills the
    rows in order, with no loop over the batch."""
    lens = np.asarray(lens, dtype=np.int64)
    t = max(int(width), int(lens.max()) if lens.size else 0)
    mask = np.arange(t) < lens[:, None]
    out = np.full((lens.size, t) + flat.shape[1:], fill, dtype=np.int64)
    # a trailing shape is moved as one opaque item: a masked copy of (N, 2) int64 rows is 6x slower
    k = math.prod(flat.shape[1:])
    item = np.dtype((np.void, 8 * k))
    out.reshape(lens.size, t, k).view(item)[..., 0][mask] = \
        np.ascontiguousarray(flat, dtype=np.int64).reshape(-1, k).view(item)[:, 0]
    return out, mask


def _cat(arrays: list[np.ndarray], shape: tuple = ()) -> np.ndarray:
    return np.concatenate(arrays).astype(np.int64, copy=False) if arrays else np.zeros((0,) + shape, np.int64)


def _spans(st: np.ndarray, olen: np.ndarray, input_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of every output token from the starts of all rows concatenated and the number per row."""
    ends = np.empty_like(st)
    ends[:-1] = st[1:]
    ends[np.cumsum(olen)[olen > 0] - 1] = np.asarray(input_lengths, dtype=np.int64)[olen > 0]
    return np.stack([st, ends], axis=1), olen


def _expand_flat(m: np.ndarray, flat: np.ndarray, offsets: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Expand merged ids (1-d) into base ids; also returns each merged token's expanded length."""
    k = m - base
    new = k >= 0
    if new.any() and (k.max() >= len(offsets) - 1):
        raise InputError(f"id {int(m[k.argmax()])} is above the merge table ({len(offsets) - 1} new ids from {base})")
    if not new.any():
        return m.astype(np.int64), np.ones(m.size, dtype=np.int64)
    kk = np.where(new, k, 0)
    lens = np.where(new, offsets[kk + 1] - offsets[kk], 1)
    rep = np.repeat(np.arange(m.size), lens)
    within = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    src = np.minimum(offsets[kk[rep]] + within, flat.size - 1)
    out = np.where(new[rep], flat[src], m[rep])
    return out.astype(np.int64), lens


def _expand_rows(ids: np.ndarray, olen: np.ndarray, flat: np.ndarray, offsets: np.ndarray,
                 base: int) -> list[np.ndarray]:
    """Rows of olen[r] merged ids, concatenated in `ids`, expanded into base ids: one _expand_flat call for
    all rows, then cut into rows (views; a call per row cost more than the expansion itself)."""
    out, lens = _expand_flat(ids, flat, offsets, base)
    cuts = np.zeros(len(olen) + 1, dtype=np.int64)
    np.cumsum(olen, out=cuts[1:])
    ends = np.concatenate([[0], np.cumsum(lens)])[cuts].tolist()
    return [out[a:b] for a, b in zip(ends, ends[1:])]


@dataclass
class MergeResult:
    """The merged batch (what `merge_batch` returns).

    `ids`, `lengths` and `segments` come in the input's container kind: a padded 2-d array/tensor (pad_id beyond
    each length; segments (B, T', 2) with -1 padding) or a ragged list.

    Attributes:
        seqs: merged ids per sequence.
        starts: input position where each output token starts.
        input_lengths: (B,) input lengths.
        merges: (K, 2) left and right id of new id vocab_size + k.
        counts: (K,) occurrences of each pair when it was merged.
        vocab_size: the first new id.
        kind: the input's container kind.
        pad_id: the padding id of padded output.
        width: the padded width.
        device: the torch device of tensor input.
        dtype: the input's dtype.
    """

    seqs: list[np.ndarray]          # merged ids per sequence
    starts: list[np.ndarray]        # input position where each output token starts
    input_lengths: np.ndarray       # (B,)
    merges: np.ndarray              # (K, 2) left and right id of new id vocab_size + k
    counts: np.ndarray              # (K,) occurrences of each pair when it was merged
    vocab_size: int                 # first new id
    kind: str = "lists"
    pad_id: int = 0
    width: int = 0
    device: Any = None
    dtype: Any = None
    _exp: tuple | None = field(default=None, repr=False)
    # merge_batch's rows as flat arrays (ids, starts, per-row counts) beside the row views it made of them, so
    # padding them needs no concatenation; used only while seqs and starts still hold those very views
    _flat: tuple | None = field(default=None, repr=False)

    def _flat_rows(self):
        """(ids, starts, per-row counts) of all rows concatenated."""
        if self._flat is not None:
            seqs, starts, flat = self._flat
            if len(seqs) == len(self.seqs) == len(self.starts) and all(a is b for a, b in zip(seqs, self.seqs)) \
                    and all(a is b for a, b in zip(starts, self.starts)):
                return flat
        olen = np.array([len(s) for s in self.seqs], dtype=np.int64)
        return _cat(self.seqs), _cat(self.starts), olen

    @property
    def lengths(self):
        """Output length of each sequence, in the input's container kind."""
        lens = np.array([len(s) for s in self.seqs], dtype=np.int64)
        return self._wrap_1d(lens)

    @property
    def ids(self):
        """The merged ids, in the input's container kind."""
        return self._out(self.seqs, self.pad_id)

    @property
    def segments(self):
        """For each output token, [start, end) of the input positions it covers."""
        _, st, olen = self._flat_rows()
        flat, olen = _spans(st, olen, self.input_lengths)
        if self.kind in ("numpy", "torch"):
            return self._wrap_nd(_pad_flat(flat, olen, -1)[0])
        spans = np.split(flat, np.cumsum(olen)[:-1]) if olen.size else []
        return spans if self.kind != "tensors" else [self._torch(s) for s in spans]

    def segment_ids(self):
        """For each input position, the index of the output token that covers it.

        Returns:
            Ragged int64 arrays, one per sequence.
        """
        out = []
        for s, n in zip(self.starts, self.input_lengths):
            mark = np.zeros(int(n), dtype=np.int64)
            mark[s[1:]] = 1
            out.append(np.cumsum(mark))
        return out

    @property
    def num_tokens(self) -> tuple[int, int]:
        """(input tokens, output tokens) of the batch."""
        return int(self.input_lengths.sum()), int(sum(len(s) for s in self.seqs))

    @property
    def ratio(self) -> float:
        """Output tokens / input tokens (1.0 for an empty batch)."""
        a, b = self.num_tokens
        return b / a if a else 1.0

    def expansion(self, token_id: int) -> np.ndarray:
        """The base ids a (possibly new) id stands for.

        Args:
            token_id: a base or new id.

        Returns:
            The base ids, in order.
        """
        if token_id < self.vocab_size:
            return np.array([token_id], dtype=np.int64)
        flat, off = self._expansions()
        k = token_id - self.vocab_size
        if k >= len(off) - 1:
            raise InputError(f"id {token_id} is not in this batch's merge table")
        return flat[off[k]: off[k + 1]]

    def _expansions(self):
        if self._exp is None:
            self._exp = expansions(self.merges, self.vocab_size)
        return self._exp

    def unmerge(self):
        """The input ids, exactly.

        Returns:
            The ids in the input's container kind.
        """
        flat, off = self._expansions()
        ids, _, olen = self._flat_rows()
        return self._out(_expand_rows(ids, olen, flat, off, self.vocab_size), self.pad_id, width=self.width)

    def model_inputs(self, return_tensors: str = "pt") -> dict:
        """What `DynamicMergeModel(model)(**inputs)` takes, whatever the input kind.

        Args:
            return_tensors: "pt" (torch) or "np".

        Returns:
            Padded `input_ids`, `attention_mask`, `segments` (B, T', 2), `lengths`, `merges`, `vocab_size`.
        """
        ids, st, olen = self._flat_rows()
        flat, olen = _spans(st, olen, self.input_lengths)
        spans, mask = _pad_flat(flat, olen, -1)
        ids = _pad_flat(ids, olen, self.pad_id)[0]
        out = dict(input_ids=ids, attention_mask=mask.astype(np.int64), segments=spans, lengths=olen,
                   merges=self.merges.copy(), vocab_size=np.int64(self.vocab_size))
        if return_tensors == "pt":
            import torch

            out = {k: torch.as_tensor(v) for k, v in out.items()}
        elif return_tensors != "np":
            raise InputError(f"return_tensors must be 'pt' or 'np', got {return_tensors!r}")
        return out

    # container plumbing
    def _torch(self, a):
        import torch

        t = torch.from_numpy(np.ascontiguousarray(a))
        return t.to(self.device) if self.device is not None else t

    def _wrap_1d(self, a):
        return self._torch(a) if self.kind in ("torch", "tensors") else a

    def _wrap_nd(self, a):
        return self._torch(a) if self.kind == "torch" else a

    def _out(self, seqs, pad, width: int = 0):
        if self.kind in ("numpy", "torch"):
            out = _pad_flat(_cat(seqs), np.array([len(s) for s in seqs], dtype=np.int64), pad, width)[0]
            if self.kind == "torch":
                return self._torch(out).to(self.dtype)
            return out.astype(self.dtype, copy=False) if self.dtype is not None else out
        if self.kind == "lists":
            return [s.tolist() for s in seqs]
        if self.kind == "tensors":
            return [self._torch(s) for s in seqs]
        return [s.copy() for s in seqs]


def _merge_with_rule(seqs: list[np.ndarray], rule: Callable, base: int, max_merges: int | None, min_count: int,
                     target_tokens: int):
    """The pair-rule engine: (tok, alive, merges, counts) in merge_pairs' flat layout. Each round counts the
    pairs of the whole batch afresh, in reading order, so ties go to the pair seen first (the original's
    Counter + max); whether a pair may merge depends on the two tokens only and is cached per id pair."""
    toks = [[int(t) for t in s] for s in seqs]
    starts = [list(range(len(s))) for s in seqs]
    exp: dict[int, tuple] = {}
    ok: dict[tuple, bool] = {}
    merges: list[tuple[int, int]] = []
    counts: list[int] = []
    total = sum(len(t) for t in toks)
    limit = math.inf if max_merges is None else max_merges

    def expand(t):
        return exp[t] if t >= base else (t,)

    while len(merges) < limit and total > target_tokens:
        seen = Counter()
        for t in toks:
            seen.update(zip(t, t[1:]))
        best, best_n = None, 0
        for p, c in seen.items():          # insertion order = first seen; strict > keeps the first of equals
            if c > best_n:
                v = ok.get(p)
                if v is None:
                    v = ok[p] = bool(rule(expand(p[0]), expand(p[1])))
                if v:
                    best, best_n = p, c
        if best is None or best_n < min_count:
            break
        new = base + len(merges)
        exp[new] = expand(best[0]) + expand(best[1])
        merges.append(best)
        counts.append(best_n)
        a, b = best
        for k, t in enumerate(toks):
            if len(t) < 2:
                continue
            out, st, src = [], [], starts[k]
            i, n = 0, len(t)
            while i < n:                   # greedy, left to right: "a a a" under (a, a) becomes "aa a"
                st.append(src[i])
                if i + 1 < n and t[i] == a and t[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(t[i])
                    i += 1
            total -= n - len(out)
            toks[k], starts[k] = out, st
    n_flat = sum(len(s) for s in seqs)
    tok = np.concatenate(seqs).astype(np.int64) if n_flat else np.zeros(0, np.int64)
    alive = np.zeros(n_flat, dtype=np.uint8)
    off = 0
    for s, t, st in zip(seqs, toks, starts):
        idx = off + np.asarray(st, dtype=np.int64)
        tok[idx] = t
        alive[idx] = 1
        off += len(s)
    return tok, alive, np.asarray(merges, dtype=np.int64).reshape(-1, 2), np.asarray(counts, dtype=np.int64)


def merge_batch(ids, word_ids=None, *, boundaries=None, lengths=None, max_merges: int | None = None,
                target_ratio: float | None = None, min_count: int = 2, vocab_size: int | None = None,
                pad_id: int = 0, backend: str = "numba", pair_rule: Callable | None = None) -> MergeResult:
    """Merge frequent adjacent id pairs within words across the batch (Dynamic BPE's rules).

    Without `max_merges` or `target_ratio`, merging goes on until `min_count` stops it.

    Args:
        ids: ragged (list of lists / arrays / tensors) or padded (2-d array or tensor, with `lengths`).
        word_ids: same layout, the word of each position (-1 or None: merges with nothing), e.g. from
            `tokenize_with_words`. Neither this nor `boundaries`: any adjacent pair of a sequence may merge.
        boundaries: instead of `word_ids`, True where a new word starts.
        lengths: the lengths of padded `ids`.
        max_merges: at most this many merges (new ids) for the batch.
        target_ratio: stop once the batch has at most this fraction of its input tokens.
        min_count: stop when the best pair occurs fewer times (Dynamic BPE merges down to 1).
        vocab_size: first new id (default: the largest input id + 1).
        pad_id: the padding id of padded input and output.
        backend: "numba" (incremental) or "reference" (plain Python recount, for checking).
        pair_rule: instead of word_ids / boundaries, a function (left base ids, right base ids) -> bool deciding
            from the two tokens themselves whether they may merge, e.g. `DynamicBPERule(tokenizer, "word")` for
            Dynamic BPE's exact rule (then merging runs in Python, like the original, not in the kernel).

    Returns:
        The `MergeResult`.

    Raises:
        InputError: inconsistent shapes or lengths, or a bad value.
    """
    if word_ids is not None and boundaries is not None:
        raise InputError("give word_ids or boundaries, not both")
    if pair_rule is not None and (word_ids is not None or boundaries is not None):
        raise InputError("give pair_rule or word_ids / boundaries, not both")
    if pair_rule is not None and not callable(pair_rule):
        raise InputError(f"pair_rule must be callable (left ids, right ids) -> bool, got {type(pair_rule).__name__}")
    if max_merges is not None and (not isinstance(max_merges, (int, np.integer)) or max_merges < 0):
        raise InputError(f"max_merges must be a non-negative integer, got {max_merges!r}")
    if target_ratio is not None and not (0.0 < float(target_ratio) <= 1.0):
        raise InputError(f"target_ratio must be in (0, 1], got {target_ratio!r}")
    if not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise InputError(f"min_count must be an integer >= 1, got {min_count!r}")
    if backend not in ("numba", "reference"):
        raise InputError(f"backend must be 'numba' or 'reference', got {backend!r}")
    batch = _ragged(ids, lengths, "ids")
    lens = np.array([len(s) for s in batch.seqs], dtype=np.int64)
    wids = bnds = None
    if word_ids is not None or boundaries is not None:
        other = word_ids if word_ids is not None else boundaries
        name = "word_ids" if word_ids is not None else "boundaries"
        ob = _ragged(other, lengths, name, allow_none=True)
        if len(ob.seqs) != len(batch.seqs):
            raise InputError(f"{name}: {len(ob.seqs)} sequences for {len(batch.seqs)} sequences of ids")
        for i, (a, b) in enumerate(zip(batch.seqs, ob.seqs)):
            if len(a) != len(b):
                raise InputError(f"{name}[{i}] has {len(b)} entries for {len(a)} ids")
        if word_ids is not None:
            wids = ob.seqs
        else:
            bnds = ob.seqs
    flat = np.concatenate(batch.seqs).astype(np.int64, copy=False) if lens.sum() else np.zeros(0, np.int64)
    if flat.size and flat.min() < 0:
        i = int(np.argmax(flat < 0))
        raise InputError(f"ids: negative id {int(flat[i])} at flat position {i}")
    top = int(flat.max()) + 1 if flat.size else 0
    base = top if vocab_size is None else int(vocab_size)
    if base < top:
        raise InputError(f"vocab_size={vocab_size} but the batch holds id {top - 1}")
    n = flat.size
    if base + n >= 1 << 31:
        raise InputError(f"vocab_size {base} plus {n} tokens leaves no room for new ids below 2**31")
    from ..kernels.pair_merge import alive_rows, merge_pairs  # numba loads on first use, not on import

    join = build_join(lens, wids, bnds)
    target = 0 if target_ratio is None else int(math.ceil(float(target_ratio) * n))
    if pair_rule is not None:
        tok, alive, merges, counts = _merge_with_rule(batch.seqs, pair_rule, base, max_merges, int(min_count), target)
    else:
        tok, alive, merges, counts = merge_pairs(flat, join, base, max_merges, int(min_count), target, backend)
    # the output tokens of all rows at once, then cut into rows (views of two flat arrays)
    out_ids, out_starts, olen = alive_rows(tok, alive, lens)
    cuts = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(olen, out=cuts[1:])
    cuts = cuts.tolist()
    seqs = [out_ids[a:b] for a, b in zip(cuts, cuts[1:])]
    starts = [out_starts[a:b] for a, b in zip(cuts, cuts[1:])]
    return MergeResult(seqs, starts, lens, merges, counts, base, batch.kind, pad_id, batch.width, batch.device,
                       batch.dtype, _flat=(tuple(seqs), tuple(starts), (out_ids, out_starts, olen)))


def unmerge(merged, merges=None, vocab_size: int | None = None, *, lengths=None, pad_id: int = 0):
    """Expand merged ids back into base ids: `unmerge(result)` or `unmerge(ids, merges, vocab_size)`.

    Args:
        merged: a `MergeResult`, or merged ids: ragged, or padded with `lengths`.
        merges: (K, 2) the merge table (with raw ids).
        vocab_size: the first new id (with raw ids).
        lengths: the lengths of padded ids.
        pad_id: the padding id of padded output.

    Returns:
        Ragged input gives lists of lists / arrays; padded input gives padded NumPy or torch, like the input.
    """
    if isinstance(merged, MergeResult):
        return merged.unmerge()
    if merges is None or vocab_size is None:
        raise InputError("unmerge(ids, merges, vocab_size): merges and vocab_size are needed with raw ids")
    batch = _ragged(merged, lengths, "ids")
    flat, off = expansions(_to_numpy(merges), int(vocab_size))
    seqs = _expand_rows(_cat(batch.seqs), np.array([len(s) for s in batch.seqs], dtype=np.int64), flat, off,
                        int(vocab_size))
    res = MergeResult(seqs, [np.zeros(0, np.int64)] * len(seqs), np.zeros(len(seqs), np.int64),
                      np.zeros((0, 2), np.int64), np.zeros(0, np.int64), int(vocab_size), batch.kind, pad_id, 0,
                      batch.device, batch.dtype)
    return res._out(seqs, pad_id)
