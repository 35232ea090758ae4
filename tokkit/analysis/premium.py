"""Token and byte premiums across the languages of a parallel corpus (Petrov et al. 2023).

premium(language) = tokens of the aligned units present in both the language and the reference, over the
tokens of the same units in the reference, totals over the units, no special tokens. How the units are
counted is the count mode (`unit`): each on its own (sentence), joined per document (document), or all
joined into one text per language (joined, as Petrov et al. build their FLORES-200 texts). A language whose text
has more than `unk_threshold` of its characters mapped to UNK (or silently dropped, by a model that can drop
characters) is masked: its count says nothing. The byte
premium is the same ratio of UTF-8 bytes (the premium of the `bytes` tokenizer).
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from operator import methodcaller
from statistics import median
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from .._progress import progress
from ..corpora import ParallelCorpus
from ..errors import InputError
from ..tokenizer import Tokenizer, load_tokenizer
from .inequality import gini


@dataclass
class PremiumResult:
    """Token premiums of tokenizers across the languages of a parallel corpus (what `premiums` returns).

    Attributes:
        reference: the reference language.
        corpus: the corpus's name.
        rows: one per (tokenizer, language): premium, byte premium, CI, masking.
        summary: one per tokenizer: median, max, Gini.
        scripts: one per (tokenizer, script).
        skipped: languages with no aligned units.
        timings: seconds per phase.
        method: how the numbers were counted (unit, separator, interval).
    """
    reference: str
    corpus: str
    rows: list[dict]                              # one per (tokenizer, language)
    summary: list[dict]                           # one per tokenizer
    scripts: list[dict]                           # one per (tokenizer, script)
    skipped: list[dict] = field(default_factory=list)  # languages with no aligned units
    timings: dict = field(default_factory=dict)
    method: dict = field(default_factory=dict)        # how the numbers were counted (unit, separator, interval)

    def for_tokenizer(self, name: str) -> list[dict]:
        """The rows of one tokenizer.

        Args:
            name: the tokenizer's name.

        Returns:
            One row per language.
        """
        return [r for r in self.rows if r["tokenizer"] == name]

    def premium(self, tokenizer: str, language: str) -> float:
        """One tokenizer's premium for one language.

        Args:
            tokenizer: the tokenizer's name.
            language: the language code.

        Returns:
            The premium (tokens over the reference's tokens on the same units).

        Raises:
            KeyError: no such (tokenizer, language).
        """
        for r in self.rows:
            if r["tokenizer"] == tokenizer and r["language"] == language:
                return r["premium"]
        raise KeyError((tokenizer, language))

    def as_dict(self) -> dict:
        """The result as a JSON-ready dict.

        Returns:
            Field name -> value.
        """
        return asdict(self)

    def to_csv(self, path: str) -> None:
        """Write the rows as CSV, atomically.

        Args:
            path: the CSV file.
        """
        from .._atomic import atomic_path

        cols = list(self.rows[0]) if self.rows else []
        with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(self.rows)


def dropped_characters(text: str, offsets) -> int:
    """Non-space characters of `text` that no token's span covers (silently dropped by the model)."""
    covered = bytearray(len(text))
    for s, e in offsets:
        covered[s:e] = b"\x01" * (e - s)
    return sum(1 for ch, c in zip(text, covered) if not c and not ch.isspace())


def _count_pieces(tok: Tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    unk, drops = tok.unk_id, tok.may_drop_characters
    if unk is None and not drops:  # the fast path: counts only
        return np.asarray(tok.count_batch(texts), dtype=np.int64), np.zeros(len(texts), dtype=np.int64)
    counts = np.empty(len(texts), dtype=np.int64)
    lost = np.zeros(len(texts), dtype=np.int64)
    for k, (text, (ids, offsets)) in enumerate(zip(texts, tok.encode_batch_with_offsets(texts))):
        counts[k] = len(ids)
        if unk is not None and ids.count(unk):  # rare: only then walk the tokens
            lost[k] = sum(e - s for i, (s, e) in zip(ids, offsets) if i == unk)
        if drops:
            lost[k] += dropped_characters(text, offsets)
    return counts, lost


def count_units(tok: Tokenizer, texts: Sequence[str], *,
                ranges: Sequence[tuple[int, int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tokens and characters lost (under UNK or dropped) per text, in batched passes of the engine.

    Long texts (joined units) are cut at safe pre-token boundaries where the tokenizer allows it
    (`tokkit.tokenizer.chunks`: the counts are those of the whole text) and handed over in bounded batches,
    lazily: a huge text is never held twice.

    Args:
        tok: the tokenizer.
        texts: the texts.
        ranges: (start, end) ranges of texts, each handed to the engine in one call (e.g. `chunks.batches(texts)`,
            or one range for all), when the caller knows that no text is longer than `chunks.MAX_CHARS` (so none
            is cut) and counts the same texts with several tokenizers.

    Returns:
        (tokens, characters lost), one entry per text each.
    """
    from ..tokenizer.chunks import piece_batches

    counts = np.zeros(len(texts), dtype=np.int64)
    lost = np.zeros(len(texts), dtype=np.int64)
    if ranges is not None:  # whole texts: each count lands in its own slot
        for a, b in ranges:
            counts[a:b], lost[a:b] = _count_pieces(tok, texts[a:b])
        return counts, lost
    for pieces, owner in piece_batches(tok, texts):
        n_tok, n_lost = _count_pieces(tok, pieces)
        np.add.at(counts, owner, n_tok)
        np.add.at(lost, owner, n_lost)
    return counts, lost


def bootstrap_weights(m: int, n: int, seed: int) -> np.ndarray:
    """(n, m) resampling weights: row b counts how often each of m units is drawn in bootstrap sample b.
    The same draws serve every language with m units and every tokenizer, so one matrix product gives all
    their resampled sums. Read-only: a view of `bootstrap_draws`, whose cache it shares."""
    return bootstrap_draws(m, n, seed).t64.T


def _draw_weights(m: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, m])
    return rng.multinomial(m, np.full(m, 1.0 / m), size=n).astype(np.float64)


# multiply-adds per matrix product below which OpenBLAS stays on one thread (its GEMM threshold, 65536 x 4):
# the bootstrap's products are small, and on a loaded machine waking BLAS threads cost 3-8x the product itself
_ONE_THREAD_GEMM = 1 << 18


class Draws(NamedTuple):
    """(B, m) resampling weights as resampled_sums uses them: transposed (m, B), in float64 and, when every
    weight is a non-negative integer, in float32 too (else None), with the largest sum of a draw's weights."""
    t64: np.ndarray
    t32: np.ndarray | None
    row_sum: float


def prepare_draws(weights: np.ndarray) -> Draws:
    """`Draws` of (B, m) weights (read-only); prepare them once for weights used on many count matrices."""
    wt = np.ascontiguousarray(weights.T, dtype=np.float64)
    whole = bool(wt.size) and bool(np.array_equal(wt, np.rint(wt))) and wt.min() >= 0
    t32 = wt.astype(np.float32) if whole else None
    for a in (wt, t32):  # a view (never the caller's array itself) or a copy: read-only either way
        if a is not None:
            a.flags.writeable = False
    return Draws(wt, t32, float(wt.sum(axis=0).max()) if wt.size else 0.0)


def bootstrap_draws(m: int, n: int, seed: int) -> Draws:
    """The (n, m) bootstrap weights of `bootstrap_weights`, prepared (`Draws`). Up to 2 ** 21 cells cached:
    drawing them is a third of a bootstrap's cost, and a session (a sweep, a benchmark) asks for the same few
    (m, n, seed) again and again."""
    return _cached_draws(m, n, seed) if m * n <= 1 << 21 else prepare_draws(_draw_weights(m, n, seed))


_cached_draws = lru_cache(maxsize=16)(lambda m, n, seed: prepare_draws(_draw_weights(m, n, seed)))


def resampled_sums(x: np.ndarray, weights: np.ndarray | Draws) -> np.ndarray:
    """x @ weights.T: (L, m) per-unit counts and (B, m) weights -> (L, B) resampled sums, in row blocks small
    enough to stay on one BLAS thread. Exact: integer counts and weights, sums far below 2 ** 53. Counts of an
    integer dtype whose sums stay below 2 ** 24 (the largest count times the largest weight row sum bounds
    them) are multiplied in float32, which holds every such sum exactly too, at half the cost; the result is
    then float32 (cast it to float64 before any arithmetic that is not exact)."""
    d = weights if isinstance(weights, Draws) else prepare_draws(weights)
    wt = d.t64
    if d.t32 is not None and x.dtype.kind in "iu" and x.size and float(np.abs(x).max()) * d.row_sum < 1 << 24:
        wt = d.t32
    n, step = x.shape[0], max(1, _ONE_THREAD_GEMM // max(1, wt.size))
    g = -(-n // step)
    # the row blocks as one stack of matrices: numpy's matmul hands each to BLAS in its own loop
    blocks = np.zeros((g * step, x.shape[1]), dtype=wt.dtype)
    blocks[:n] = x
    return np.matmul(blocks.reshape(g, step, x.shape[1]), wt).reshape(g * step, wt.shape[1])[:n]


def percentile_pair(r: np.ndarray, ci: float, *, overwrite: bool = False) -> np.ndarray:
    """The (1-ci)/2 and (1+ci)/2 percentiles of each row of r, with linear interpolation (numpy's default
    method), nan sorted last as np.sort does. (L, 2). Each percentile lies between two adjacent order
    statistics k and k+1, found by one single-k partition (numpy's SIMD select; several k take its slow
    path): for a low k, one at k+1 gives the (k+1)-th, and the k-th is the largest before it (nan there only
    when the k-th is nan); for a high k, one at k gives the k-th, and the (k+1)-th is the smallest after it
    (nan ignored unless all are). overwrite: r may be partitioned in place (no copy)."""
    b = r.shape[1]
    out = np.empty((r.shape[0], 2))
    part = r if overwrite else r.copy()
    for j, q in enumerate((0.5 * (1 - ci), 0.5 * (1 + ci))):
        pos = q * (b - 1)
        lo = int(np.floor(pos))
        frac = pos - lo
        if lo + 1 >= b:
            part.partition(lo, axis=1)
            a = c = part[:, lo]
        elif lo + 1 < b - lo - 1:
            part.partition(lo + 1, axis=1)
            a, c = part[:, :lo + 1].max(axis=1), part[:, lo + 1]
        else:
            part.partition(lo, axis=1)
            a, c = part[:, lo], np.fmin.reduce(part[:, lo + 1:], axis=1)
        out[:, j] = a * (1 - frac) + c * frac
    return out


def resampled_ratios(num: np.ndarray, den: np.ndarray, weights: np.ndarray | Draws, *,
                     den_of: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """sum(num) / sum(den) in each resample: (L, B) float64 (into `out` when given). num: (L, m) per-unit counts
    of L languages; den: (L, m), or (U, m) distinct reference rows with den_of (L,) naming each language's
    row; weights: (B, m), or their `Draws`. Both sums come from one product."""
    s = resampled_sums(np.concatenate([num, den]), weights)
    r, d = s[:len(num)], s[len(num):]
    q = np.empty(r.shape) if out is None else out
    # the ratios in float64 whatever the sums' dtype (both hold the same integers)
    with np.errstate(divide="ignore", invalid="ignore"):  # a reference of 0 tokens gives nan, not a crash
        if den_of is None:
            np.divide(r, d, out=q, dtype=np.float64)
        elif len(den_of):
            cuts = (np.flatnonzero(np.diff(den_of)) + 1).tolist()
            if len(cuts) < 64:  # runs of languages sharing a reference row: that row broadcast, not gathered
                for a, b in zip([0, *cuts], [*cuts, len(den_of)]):
                    np.divide(r[a:b], d[den_of[a]], out=q[a:b], dtype=np.float64)
            else:
                np.divide(r, d[den_of], out=q, dtype=np.float64)
    return q


def bootstrap_ratios(num: np.ndarray, den: np.ndarray, weights: np.ndarray, ci: float, *,
                     den_of: np.ndarray | None = None) -> np.ndarray:
    """Percentile intervals of sum(num) / sum(den) under resampling of units (`resampled_ratios`'s
    arguments). Returns (L, 2)."""
    return percentile_pair(resampled_ratios(num, den, weights, den_of=den_of), ci, overwrite=True)


def bootstrap_ratio(num: np.ndarray, den: np.ndarray, *, n: int = 1000, ci: float = 0.95,
                    seed: int = 0) -> tuple[float, float]:
    """Percentile interval of sum(num) / sum(den) over units resampled with replacement."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    if n <= 0 or num.size == 0:
        return math.nan, math.nan
    lo, hi = bootstrap_ratios(num[None], den[None], bootstrap_weights(num.size, n, seed), ci)[0]
    return float(lo), float(hi)


COUNT_MODES = ("sentence", "document", "joined")


def block_units(m: int) -> int:
    """Units per block of the joined mode's block bootstrap over m units: round(m ** (1/3)), at least 1
    (a block length growing like n^(1/3), the usual order for block bootstraps of dependent data)."""
    return max(1, round(m ** (1 / 3)))


def _groups(mode: str, units: list[str], meta: dict[str, dict]) -> list[list[str]]:
    """The groups of units counted (and resampled) together: each unit (sentence), each document (units
    sharing unit_meta['document'], in order of first appearance; no ids: the whole text is one document),
    or blocks of consecutive units (joined)."""
    if mode == "sentence":
        return [[u] for u in units]
    if mode == "document":
        docs: dict[object, list[str]] = {}
        for u in units:
            docs.setdefault((meta.get(u) or {}).get("document"), []).append(u)
        return list(docs.values())
    b = block_units(len(units))
    return [units[i:i + b] for i in range(0, len(units), b)]


def _method(unit: str, separator: str, bootstrap: int, ci: float) -> dict:
    what = {"sentence": "each unit encoded on its own, counts summed",
            "document": f"each document's units joined with {separator!r} and encoded once, counts summed",
            "joined": f"each language's units joined with {separator!r} and encoded in one pass (Petrov et al. 2023)"}
    boot = {"sentence": "units", "document": "documents",
            "joined": "blocks of round(m ** (1/3)) consecutive units of m"}
    return dict(count_mode=unit, separator=separator, description=what[unit],
                interval=(f"{ci:.0%} percentile bootstrap over {boot[unit]}, {bootstrap} resamples"
                          if bootstrap > 0 else "none (bootstrap=0)"))


_UTF8 = methodcaller("encode", "utf-8", "surrogatepass")


class _GroupTexts(Sequence[str]):
    """The group texts of `_flat_groups`. A group of more than LAZY_CHARS characters is joined only when it
    is read (and dropped after), so that a huge unit is never held twice: once in the corpus is enough."""

    LAZY_CHARS = 1 << 20

    def __init__(self):
        self._items: list = []  # a str, or (lead, separator, texts, units) joined when read
        self._deferred = 0

    def append_group(self, lead: str, separator: str, texts, units) -> None:
        item = (lead, separator, texts, units)
        if sum(len(texts[u]) for u in units) > self.LAZY_CHARS:
            self._items.append(item)
            self._deferred += 1
        else:
            self._items.append(self._join(item))

    def extend(self, texts) -> None:
        self._items.extend(texts)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        for item in self._items:
            yield item if isinstance(item, str) else self._join(item)

    def texts(self) -> Sequence[str]:
        """A plain list when every group is held (the usual case: it is read fastest), else self."""
        return self if self._deferred else self._items

    @staticmethod
    def _join(item) -> str:
        lead, sep, texts, units = item
        return lead + sep.join(texts[u] for u in units)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        item = self._items[k]
        return item if isinstance(item, str) else self._join(item)


def _flat_groups(corpus: ParallelCorpus, reference: str, aligned: dict[str, list[str]], unit: str,
                 separator: str, held: dict[str, list[str]] | None = None
                 ) -> tuple[Sequence[str], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(flat, lang_idx, ref_of): every group text of every language once, the reference's groups once per
    distinct set of units (one flat batch for every tokenizer); each language's and its reference's
    positions in it. A joined-mode block after the first starts with the separator, so that the blocks are
    the joined text cut at the unit boundaries. Languages with the same aligned units (most of them) share
    their reference rows and group boundaries, which are worked out once. held: a language's texts of its
    aligned units, where the caller has them."""
    flat = _GroupTexts()
    lang_idx: dict[str, np.ndarray] = {}
    ref_of: dict[str, np.ndarray] = {}
    ref_group: dict[tuple, int] = {}
    shapes: dict[tuple, tuple[np.ndarray, list]] = {}   # aligned units -> (reference rows, (lead, group) pairs)
    by_list: dict[int, tuple] = {}  # id of an aligned list (aligned keeps it alive) -> its shape: no tuple to hash
    spans = []
    ref_texts = corpus.units[reference]
    items = flat._items
    for c, units in aligned.items():
        shape = by_list.get(id(units))
        if shape is None:
            key = tuple(units)
            if key not in shapes:
                groups = [(separator if unit == "joined" and k else "", g)
                          for k, g in enumerate(_groups(unit, units, corpus.unit_meta))]
                ri = []
                for lead, g in groups:
                    gk = (lead, tuple(g))
                    if gk not in ref_group:
                        ref_group[gk] = len(flat)
                        flat.append_group(lead, separator, ref_texts, g)
                    ri.append(ref_group[gk])
                shapes[key] = (np.asarray(ri, dtype=np.int64), groups)
            shape = by_list[id(units)] = shapes[key]
        ref_of[c], groups = shape
        if c == reference:
            lang_idx[c] = ref_of[c]
            continue
        texts, n0 = corpus.units[c], len(items)
        if unit == "sentence":   # a group is one unit: its text as it is
            items.extend(held[c] if held and c in held else map(texts.__getitem__, units))
        else:
            for lead, g in groups:
                flat.append_group(lead, separator, texts, g)
        spans.append((c, n0, len(items)))
    positions = np.arange(len(items), dtype=np.int64)
    for c, a, b in spans:  # views of one range, not an array per language
        lang_idx[c] = positions[a:b]
    return flat.texts(), lang_idx, ref_of


def _load_corpus(spec: str, reference: str, languages: list[str] | None) -> ParallelCorpus:
    """The corpus named `spec`. For some languages of udhr or ntrex, only those and the reference (the codes
    as given: a few files read instead of hundreds, e.g. 0.5 s -> 0.01 s for four UDHR declarations); when
    the loader does not know a code as given, the whole corpus, whose check names the unknown language."""
    from ..corpora import load_parallel

    if languages is not None and spec in ("udhr", "ntrex"):
        try:
            return load_parallel(spec, languages=list(dict.fromkeys([reference, *languages])))
        except InputError:
            pass
    return load_parallel(spec)


ONE_CALL_CHARS = 1 << 25  # characters of short texts handed to an engine in one call


def _in_background(fn, *args):
    """fn(*args) on a daemon thread; its Future. Daemon: a Ctrl-C in the caller ends the process without
    waiting for an engine call that is still counting (a thread pool's workers are joined at exit)."""
    import threading
    from concurrent.futures import Future

    fut: Future = Future()

    def run() -> None:
        if fut.set_running_or_notify_cancel():
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # noqa: BLE001 - handed to the caller, who raises it
                fut.set_exception(e)

    threading.Thread(target=run, name="tokkit-premiums", daemon=True).start()
    return fut


def premiums(tokenizers: Tokenizer | str | Iterable[Tokenizer | str], corpus: ParallelCorpus | str, *,
             reference: str = "eng", languages: Iterable[str] | None = None, nfc: bool = False,
             unk_threshold: float = 0.1, bootstrap: int = 1000, ci: float = 0.95, seed: int = 0,
             count_mode: str = "sentence", separator: str = " ", quiet: bool = True) -> PremiumResult:
    """Token premiums of each tokenizer for each language against `reference` (Petrov et al. 2023).

    With byte premiums, bootstrap confidence intervals, UNK masking, and summaries (median, max, Gini) overall and
    per script. Where a language has a single group (one unit, one document) there is no interval: ci_low and
    ci_high are None and ci_note says why.

    Args:
        tokenizers: one tokenizer or several: `Tokenizer`s or anything `load_tokenizer` takes.
        corpus: a `ParallelCorpus` or a name/folder (udhr, ntrex, flores).
        reference: the language every premium is relative to.
        languages: the languages to measure; None: all. Codes may be given in another naming of the same
            corpus (a FLORES-200 code for a FLORES+ corpus and back).
        nfc: NFC-normalize the text first.
        unk_threshold: mask a language with more than this share of its characters under UNK (or dropped).
        bootstrap: bootstrap resamples per language (0: no intervals).
        ci: the confidence level of the intervals.
        seed: the seed of the resampling.
        count_mode: (CLI --count-mode) how text is counted. "sentence" (default): each unit on its own, counts
            summed, intervals from resampling units. "document": the units of each document (unit_meta
            'document'; a corpus without document ids is one document per language) joined with `separator` and
            encoded once each; intervals from resampling documents. "joined": each language's units joined with
            `separator` and encoded in one pass; intervals from resampling blocks of consecutive units.
        separator: what joins units in "document" and "joined" modes (default a space, as Petrov et al. 2023
            build their FLORES texts).
        quiet: no progress notices.

    Returns:
        The `PremiumResult`.

    Raises:
        InputError: no tokenizer, an unknown count mode, reference or language.
    """
    from ..corpora.flores import resolve_language
    from ..tokenizer.chunks import MAX_CHARS, batches, chunk_safe

    t0 = time.perf_counter()
    unit = count_mode
    if unit not in COUNT_MODES:
        raise InputError(f"count_mode={unit!r}: expected one of {', '.join(COUNT_MODES)}")
    if isinstance(tokenizers, (str, Tokenizer)):
        tokenizers = [tokenizers]
    toks = [load_tokenizer(t) for t in tokenizers]
    if not toks:
        raise InputError("premiums: no tokenizer given")
    names = [t.name for t in toks]
    if len(set(names)) != len(names):  # two files called tokenizer.json in folders of the same name
        for k, t in enumerate(toks):
            t.name = f"{t.name}#{k}" if names.count(t.name) > 1 else t.name
    if not 0 <= unk_threshold <= 1:
        raise InputError(f"unk_threshold={unk_threshold}: expected a share between 0 and 1")
    if not 0 < ci < 1:
        raise InputError(f"ci={ci}: expected a level between 0 and 1, e.g. 0.95")
    if languages is not None:
        languages = list(languages)
    if isinstance(corpus, str):
        corpus = _load_corpus(corpus, reference, languages)
    reference = resolve_language(corpus, reference)
    corpus.check_language(reference)
    if nfc:
        corpus = corpus.normalized("NFC")
    explicit = languages is not None
    codes = list(corpus.codes if languages is None else dict.fromkeys(resolve_language(corpus, c) for c in languages))
    for c in codes:
        corpus.check_language(c)
    if reference not in codes:
        codes.insert(0, reference)
    t_load = time.perf_counter()

    # aligned units per language: those present (non-empty) in the language and the reference
    aligned: dict[str, list[str]] = {}
    held: dict[str, list[str]] = {}  # the texts of the languages with every reference unit, in unit order
    skipped = []
    ref_units = corpus.common_units(reference)
    if not ref_units:
        raise InputError(f"{corpus.name}: the reference {reference!r} has no text")
    for c in codes:
        mine = corpus.units[c]
        # a language with every reference unit (most) shares the reference's list: _flat_groups works out
        # the groups of each distinct list once
        texts = list(map(mine.get, ref_units))
        units = ref_units if all(texts) else [u for u, t in zip(ref_units, texts) if t]
        if units is ref_units:
            held[c] = texts
        if units:
            aligned[c] = units
        elif explicit:
            raise InputError(f"{corpus.name}: language {c!r} has no units aligned with the reference {reference!r}")
        else:
            skipped.append(dict(language=c, reason=f"no units aligned with {reference}"))

    flat, lang_idx, ref_of = _flat_groups(corpus, reference, aligned, unit, separator, held)
    nchars = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
    ref_texts = corpus.units[reference]
    # joined mode: the blocks' counts sum to the joined text's count when the tokenizer may be cut before a
    # space between two non-space characters (tokkit.tokenizer.chunks) and every unit boundary is such a
    # place; else the joined texts are encoded as well, for the point estimates
    edges_safe = unit == "joined" and separator == " " and all(
        not t[0].isspace() and not t[-1].isspace() for c in aligned for t in (corpus.units[c][u] for u in aligned[c]))
    joined_flat: list[str] = []
    joined_lang: dict[str, int] = {}
    joined_ref: dict[str, int] = {}
    if unit == "joined" and not (edges_safe and all(chunk_safe(t) for t in toks)):
        ref_joined: dict[tuple, int] = {}
        for c, units in aligned.items():
            key = tuple(units)
            if key not in ref_joined:
                ref_joined[key] = len(joined_flat)
                joined_flat.append(separator.join(ref_texts[u] for u in units))
            joined_ref[c] = ref_joined[key]
            if c == reference:
                joined_lang[c] = joined_ref[c]
            else:
                joined_lang[c] = len(joined_flat)
                joined_flat.append(separator.join(corpus.units[c][u] for u in units))
    t_prep = time.perf_counter()

    def count(tok: Tokenizer):
        c = count_units(tok, flat, ranges=ranges)
        return c, (count_units(tok, joined_flat)[0] if joined_flat and not (edges_safe and chunk_safe(tok)) else None)

    # no text to cut (the usual case: units, documents): one engine call per tokenizer for up to
    # ONE_CALL_CHARS characters (all of UDHR, NTREX, FLORES: a second call costs more than its share, as the
    # engines' thread pools wind down and up again), so the engine's copy of the texts stays bounded; huge
    # texts are cut by count_units and handed over in bounded batches, lazily
    ranges = None if len(flat) and nchars.max() > MAX_CHARS else list(batches(flat, ONE_CALL_CHARS, lengths=nchars))
    # the engines count on a worker thread, one tokenizer after the other (they release the GIL while they
    # count); each tokenizer's bootstrap runs on a second (numpy releases it too) while this thread builds
    # its rows, as the next tokenizer counts
    from concurrent.futures import Future

    counted: list[Future] = [Future() for _ in toks]

    def count_all() -> None:
        for tok, fut in zip(toks, counted):
            if not fut.set_running_or_notify_cancel():  # the caller stopped
                return
            try:
                fut.set_result(count(tok))
            except BaseException as e:  # noqa: BLE001 - handed to the caller, who raises it
                fut.set_exception(e)
                return

    rows: list[dict] = []
    summary: list[dict] = []
    scripts: list[dict] = []
    try:
        lazy = not isinstance(flat, list)  # huge groups, joined when read
        if not lazy:
            _in_background(count_all)
        layout = _Layout(corpus, reference, aligned, lang_idx, ref_of, nchars, unit, bootstrap, seed)
        if lazy:  # their bytes first, one group at a time: never joined by both threads at once
            layout.add_bytes(flat)
            _in_background(count_all)
        with progress("encoding", total=len(toks), quiet=quiet, unit="tokenizers") as bar:
            for i, tok in enumerate(toks):
                (tokens, unk_chars), whole = counted[i].result()
                bar.advance()
                if i == len(toks) - 1:
                    t_enc = time.perf_counter()
                intervals = _in_background(layout.intervals, tokens, ci)
                if i == 0 and not lazy:  # after an engine has read the texts (see _Layout.add_bytes)
                    layout.add_bytes(flat)
                if whole is not None:  # the joined texts' own counts, in language order
                    whole = ([int(whole[joined_lang[c]]) for c in layout.order],
                             [int(whole[joined_ref[c]]) for c in layout.order])
                mine, pending = layout.rows(tok.name, tokens, unk_chars, whole, unk_threshold)
                iv = intervals.result()
                for row, k, shift in pending:   # shift: 0 unless the joined counts differ from the blocks'
                    lo, hi = iv[k]
                    row["ci_low"], row["ci_high"] = lo + shift, hi + shift
                rows += mine
                s, sc = _summary(tok.name, mine, reference)
                summary.append(s)
                scripts += sc
    finally:
        for fut in counted:  # those not started yet are not started (no-op for the others)
            fut.cancel()
    t_end = time.perf_counter()
    return PremiumResult(reference, corpus.name, rows, summary, scripts, skipped,
                         dict(load=t_load - t0, prepare=t_prep - t_load, encode=t_enc - t_prep, premiums=t_end - t_enc,
                              total=t_end - t0), _method(unit, separator, bootstrap, ci))


class _Layout:
    """What turns a tokenizer's counts per group text into its rows, worked out once per premiums() call."""

    def __init__(self, corpus: ParallelCorpus, reference: str, aligned: dict[str, list[str]],
                 lang_idx: dict[str, np.ndarray], ref_of: dict[str, np.ndarray], nchars: np.ndarray, unit: str,
                 bootstrap: int, seed: int):
        self.order = order = list(aligned)
        self.unit, self.bootstrap = unit, bootstrap
        n_groups = [len(lang_idx[c]) for c in order]
        by_size: dict[int, list[int]] = {}
        for k, g in enumerate(n_groups):
            if g > 1:
                by_size.setdefault(g, []).append(k)
        # per-language totals as segment sums over one concatenated index (a few numpy calls, not 532 x 10)
        self.all_li = np.concatenate([lang_idx[c] for c in order])
        self.all_ri = np.concatenate([ref_of[c] for c in order])
        self.starts = np.cumsum([0] + n_groups[:-1])
        self.lc, self.rc = self.seg(nchars, self.all_li), self.seg(nchars, self.all_ri)
        # per number of groups m: the languages' group indices (L, m), the distinct reference rows among
        # them (most languages share the reference's units: their resampled sums are computed once) and the
        # same (B, m) draws for all; the resampled ratios land in one (languages, B) array per tokenizer
        self.plans = []
        self.n_boot = 0
        for m, ks in (by_size.items() if bootstrap > 0 else ()):
            at = self.starts[ks][:, None] + np.arange(m)
            li, refs = self.all_li[at], self.all_ri[at]
            if (refs == refs[0]).all():  # the usual case: one reference row for all
                ref_rows, ref_inv = refs[:1], np.zeros(len(ks), dtype=np.int64)
            else:
                distinct: dict[bytes, int] = {}
                ref_inv = np.fromiter((distinct.setdefault(row.tobytes(), len(distinct)) for row in refs),
                                      dtype=np.int64, count=len(ks))
                ref_rows = np.stack([np.frombuffer(b, dtype=np.int64) for b in distinct])
            self.plans.append((self.n_boot, ks, li, ref_rows, ref_inv, bootstrap_draws(m, bootstrap, seed)))
            self.n_boot += len(ks)
        group_word = "document" if unit == "document" else "unit"
        self.notes = [("the reference: premium 1 by definition" if c == reference else
                       f"one {'unit' if len(aligned[c]) == 1 else group_word} per language: no interval"
                       if g == 1 else None) for c, g in zip(order, n_groups)]
        langs = [corpus.languages[c] for c in order]
        # what a row holds whatever the tokenizer, but the bytes (add_bytes)
        self.fixed = [(c, lang.name, lang.script, len(aligned[c]), g, n, lang.latitude, lang.longitude)
                      for c, lang, g, n in zip(order, langs, n_groups, self.lc.tolist())]
        self.bytes: list[tuple] = []
        self._q: np.ndarray | None = None

    def seg(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Per-language sums of values[..., idx] (idx: all_li or all_ri)."""
        return np.add.reduceat(values[..., idx], self.starts, axis=-1)

    def add_bytes(self, flat: Sequence[str]) -> None:
        """The UTF-8 bytes of each language and its reference, and their ratio. Called after an engine has
        read the texts: it leaves each text's UTF-8 form cached in the str (CPython keeps the one a C
        extension asks for), which str.encode copies rather than encoding again. Strict UTF-8 is faster; a
        lone surrogate (text read with surrogateescape) counts as 3 bytes."""
        try:
            nbytes = np.fromiter(map(len, map(str.encode, flat)), dtype=np.int64, count=len(flat))
        except UnicodeEncodeError:
            nbytes = np.fromiter(map(len, map(_UTF8, flat)), dtype=np.int64, count=len(flat))
        lb, rb = self.seg(nbytes, self.all_li).tolist(), self.seg(nbytes, self.all_ri).tolist()
        self.bytes = [(b, r, b / r if r else math.nan) for b, r in zip(lb, rb)]

    def intervals(self, tokens: np.ndarray, ci: float) -> list:
        """Each language's bootstrap interval of its premium ([low, high]), or None. One call at a time (a
        buffer is shared)."""
        iv: list = [None] * len(self.order)
        if self.n_boot:
            # one buffer for every tokenizer (their intervals are worked out one after the other): its pages
            # are touched once
            if self._q is None:
                self._q = np.empty((self.n_boot, self.bootstrap))
            q = self._q
            for at, ks, li, ref_rows, ref_inv, w in self.plans:
                resampled_ratios(tokens[li], tokens[ref_rows], w, den_of=ref_inv, out=q[at:at + len(ks)])
            for k, pair in zip((k for _, ks, *_ in self.plans for k in ks),
                               percentile_pair(q, ci, overwrite=True).tolist()):
                iv[k] = pair
        return iv

    def rows(self, name: str, tokens: np.ndarray, unk_chars: np.ndarray, whole: tuple[list, list] | None,
             unk_threshold: float) -> tuple[list[dict], list[tuple[dict, int, float]]]:
        """One tokenizer's rows, from its counts per group text (and the joined texts' own token counts of
        each language and its reference, `whole`, when they were encoded too), without their intervals: and
        (row, language index, shift) for each row that gets the language's bootstrap interval (`intervals`)
        plus shift as its ci_low and ci_high."""
        lt, rt = self.seg(tokens, self.all_li).tolist(), self.seg(tokens, self.all_ri).tolist()
        if unk_chars.any():
            l_unk = (self.seg(unk_chars, self.all_li) / np.maximum(self.lc, 1)).tolist()
            r_unk = (self.seg(unk_chars, self.all_ri) / np.maximum(self.rc, 1)).tolist()
        else:  # the usual case: nothing lost
            l_unk = r_unk = [0.0] * len(lt)
        block_premium = [a / b if b else math.nan for a, b in zip(lt, rt)]
        if whole is not None:
            lt, rt = whole
        unit, rows, pending = self.unit, [], []
        append = rows.append
        for k, ((c, lname, script, n_units, groups, chars, lat, lon), (nb, rnb, byte_premium), t, r, lu, ru, bp,
                note) in enumerate(zip(self.fixed, self.bytes, lt, rt, l_unk, r_unk, block_premium, self.notes)):
            masked = lu > unk_threshold or ru > unk_threshold
            premium = t / r if r else math.nan
            if masked:
                note = "masked"
            elif note is None:
                note = "bootstrap=0" if not self.n_boot else ""
            row = {
                "tokenizer": name, "language": c, "name": lname, "script": script, "units": n_units,
                "count_mode": unit, "groups": groups, "tokens": t, "reference_tokens": r,
                "premium": math.nan if masked else premium, "ci_low": None, "ci_high": None, "ci_note": note,
                "raw_premium": premium, "bytes": nb, "reference_bytes": rnb, "byte_premium": byte_premium,
                "characters": chars, "tokens_per_character": t / max(1, chars), "unk_character_rate": lu,
                "masked": masked, "latitude": lat, "longitude": lon}
            append(row)
            if note == "":
                pending.append((row, k, premium - bp))
        return rows, pending


def _summary(name: str, mine: list[dict], reference: str) -> tuple[dict, list[dict]]:
    """One tokenizer's summary (median, max, Gini) and its rows per script."""
    ok = [r for r in mine if not r["masked"]]
    vals = [r["premium"] for r in ok]
    top = ok[max(range(len(vals)), key=vals.__getitem__)] if ok else None
    summary = dict(
        tokenizer=name, languages=len(mine), masked=len(mine) - len(ok),
        median=median(vals) if vals else math.nan, max=top["premium"] if top else math.nan,
        max_language=top["language"] if top else "", gini=gini(vals) if vals else math.nan,
        median_byte_premium=median([r["byte_premium"] for r in mine]) if mine else math.nan,
        reference_tokens=next((r["tokens"] for r in mine if r["language"] == reference), 0))
    by_script: dict[str, list[float]] = {}
    for r, v in zip(ok, vals):
        by_script.setdefault(r["script"] or "?", []).append(v)
    meds = {s: median(v) for s, v in by_script.items()}
    scripts = [dict(tokenizer=name, script=s, languages=len(v), median=meds[s], mean=sum(v) / len(v), min=min(v),
                    max=max(v)) for s, v in sorted(by_script.items(), key=lambda kv: -meds[kv[0]])]
    return summary, scripts
