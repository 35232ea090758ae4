"""Token and byte premiums across the languages of a parallel corpus (Petrov et al. 2023).

premium(language) = tokens of the aligned units present in both the language and the reference, over the
tokens of the same units in the reference, totals over the units, no special tokens. A language whose text
has more than `unk_threshold` of its characters mapped to UNK (or silently dropped, by a model that can drop
characters) is masked: its count says nothing. The byte
premium is the same ratio of UTF-8 bytes (the premium of the `bytes` tokenizer).
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Iterable, Sequence

import numpy as np

from .._progress import progress
from ..corpora import ParallelCorpus
from ..errors import InputError
from ..tokenizer import Tokenizer, load_tokenizer
from .inequality import gini


@dataclass
class PremiumResult:
    reference: str
    corpus: str
    rows: list[dict]                              # one per (tokenizer, language)
    summary: list[dict]                           # one per tokenizer
    scripts: list[dict]                           # one per (tokenizer, script)
    skipped: list[dict] = field(default_factory=list)  # languages with no aligned units
    timings: dict = field(default_factory=dict)

    def for_tokenizer(self, name: str) -> list[dict]:
        return [r for r in self.rows if r["tokenizer"] == name]

    def premium(self, tokenizer: str, language: str) -> float:
        for r in self.rows:
            if r["tokenizer"] == tokenizer and r["language"] == language:
                return r["premium"]
        raise KeyError((tokenizer, language))

    def as_dict(self) -> dict:
        return asdict(self)

    def to_csv(self, path: str) -> None:
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


def count_units(tok: Tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, characters lost: under UNK or dropped) per text in one batched pass of the engine."""
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


def bootstrap_weights(m: int, n: int, seed: int) -> np.ndarray:
    """(n, m) resampling weights: row b counts how often each of m units is drawn in bootstrap sample b.
    The same draws serve every language with m units, so one matrix product gives all their resampled sums."""
    rng = np.random.default_rng([seed, m])
    return rng.multinomial(m, np.full(m, 1.0 / m), size=n).astype(np.float64)


def bootstrap_ratios(num: np.ndarray, den: np.ndarray, weights: np.ndarray, ci: float) -> np.ndarray:
    """Percentile intervals of sum(num) / sum(den) under resampling of units.
    num, den: (L, m) per-unit counts of L languages; weights: (B, m). Returns (L, 2)."""
    d = den @ weights.T                                   # (L, B)
    with np.errstate(divide="ignore", invalid="ignore"):  # a reference of 0 tokens gives nan, not a crash
        r = (num @ weights.T) / d                         # (L, B)
    # the two percentiles with linear interpolation (numpy's default method), from one partial sort
    b = r.shape[1]
    pos = np.array([0.5 * (1 - ci), 0.5 * (1 + ci)]) * (b - 1)
    lo, frac = np.floor(pos).astype(np.int64), pos - np.floor(pos)
    hi = np.minimum(lo + 1, b - 1)
    part = np.partition(r, np.unique(np.concatenate([lo, hi])), axis=1)
    return part[:, lo] * (1 - frac) + part[:, hi] * frac   # (L, 2)


def bootstrap_ratio(num: np.ndarray, den: np.ndarray, *, n: int = 1000, ci: float = 0.95,
                    seed: int = 0) -> tuple[float, float]:
    """Percentile interval of sum(num) / sum(den) over units resampled with replacement."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    if n <= 0 or num.size == 0:
        return math.nan, math.nan
    lo, hi = bootstrap_ratios(num[None], den[None], bootstrap_weights(num.size, n, seed), ci)[0]
    return float(lo), float(hi)


def premiums(tokenizers: Tokenizer | str | Iterable[Tokenizer | str], corpus: ParallelCorpus | str, *,
             reference: str = "eng", languages: Iterable[str] | None = None, nfc: bool = False,
             unk_threshold: float = 0.1, bootstrap: int = 1000, ci: float = 0.95, seed: int = 0,
             quiet: bool = True) -> PremiumResult:
    """Token premiums of each tokenizer for each language against `reference`, with byte premiums,
    bootstrap confidence intervals over units, UNK masking, and summaries (median, max, Gini) overall and
    per script. corpus: a ParallelCorpus or a name/folder (udhr, ntrex, flores)."""
    from ..corpora import load_parallel

    t0 = time.perf_counter()
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
    if isinstance(corpus, str):
        corpus = load_parallel(corpus)
    corpus.check_language(reference)
    if nfc:
        corpus = corpus.normalized("NFC")
    explicit = languages is not None
    codes = list(corpus.codes if languages is None else dict.fromkeys(languages))
    for c in codes:
        corpus.check_language(c)
    if reference not in codes:
        codes.insert(0, reference)
    t_load = time.perf_counter()

    # aligned units per language: those present (non-empty) in the language and the reference
    aligned: dict[str, list[str]] = {}
    skipped = []
    ref_units = corpus.common_units(reference)
    if not ref_units:
        raise InputError(f"{corpus.name}: the reference {reference!r} has no text")
    for c in codes:
        mine = corpus.units[c]
        units = [u for u in ref_units if mine.get(u)]
        if units:
            aligned[c] = units
        elif explicit:
            raise InputError(f"{corpus.name}: language {c!r} has no units aligned with the reference {reference!r}")
        else:
            skipped.append(dict(language=c, reason=f"no units aligned with {reference}"))

    # one flat batch per tokenizer: every unit text of every language once (the reference's full text)
    unit_index: dict[str, dict[str, int]] = {}
    flat: list[str] = []
    for c in aligned:
        wanted = ref_units if c == reference else aligned[c]
        base = len(flat)
        unit_index[c] = {u: base + k for k, u in enumerate(wanted)}
        flat.extend(corpus.units[c][u] for u in wanted)
    nbytes = np.fromiter((len(t.encode("utf-8", "surrogatepass")) for t in flat), dtype=np.int64, count=len(flat))
    nchars = np.fromiter((len(t) for t in flat), dtype=np.int64, count=len(flat))
    t_prep = time.perf_counter()

    counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with progress("encoding", total=len(toks), quiet=quiet, unit="tokenizers") as bar:
        for tok in toks:
            counts[tok.name] = count_units(tok, flat)
            bar.advance()
    t_enc = time.perf_counter()

    rows = []
    ref_idx = unit_index[reference]
    lang_idx = {c: np.fromiter((unit_index[c][u] for u in units), dtype=np.int64, count=len(units))
                for c, units in aligned.items()}
    ref_of = {c: np.fromiter((ref_idx[u] for u in units), dtype=np.int64, count=len(units))
              for c, units in aligned.items()}
    by_size: dict[int, list[str]] = {}
    for c, units in aligned.items():
        by_size.setdefault(len(units), []).append(c)
    weights = {m: bootstrap_weights(m, bootstrap, seed) for m in by_size} if bootstrap > 0 else {}
    # per-language totals as segment sums over one concatenated index (a few numpy calls, not 532 x 10)
    order = list(aligned)
    all_li = np.concatenate([lang_idx[c] for c in order])
    all_ri = np.concatenate([ref_of[c] for c in order])
    starts = np.cumsum([0] + [len(aligned[c]) for c in order[:-1]])

    def seg(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values[idx], starts)

    lc, rc = seg(nchars, all_li), seg(nchars, all_ri)
    lb, rb = seg(nbytes, all_li), seg(nbytes, all_ri)
    for tok in toks:
        tokens, unk_chars = counts[tok.name]
        intervals: dict[str, tuple[float, float]] = {}
        for m, cs in by_size.items():
            if m not in weights:
                continue
            num = tokens[np.stack([lang_idx[c] for c in cs])].astype(np.float64)   # (L, m)
            den = tokens[np.stack([ref_of[c] for c in cs])].astype(np.float64)     # (L, m)
            intervals.update(zip(cs, bootstrap_ratios(num, den, weights[m], ci).tolist()))
        lt, rt = seg(tokens, all_li).tolist(), seg(tokens, all_ri).tolist()
        l_unk = (seg(unk_chars, all_li) / np.maximum(lc, 1)).tolist()
        r_unk = (seg(unk_chars, all_ri) / np.maximum(rc, 1)).tolist()
        for k, c in enumerate(order):
            masked = l_unk[k] > unk_threshold or r_unk[k] > unk_threshold
            premium = lt[k] / rt[k] if rt[k] else math.nan
            lo, hi = (math.nan, math.nan) if masked else intervals.get(c, (math.nan, math.nan))
            lang = corpus.languages[c]
            rows.append(dict(
                tokenizer=tok.name, language=c, name=lang.name, script=lang.script, units=len(aligned[c]),
                tokens=lt[k], reference_tokens=rt[k], premium=math.nan if masked else premium,
                ci_low=lo, ci_high=hi, raw_premium=premium, bytes=int(lb[k]), reference_bytes=int(rb[k]),
                byte_premium=float(lb[k] / rb[k]) if rb[k] else math.nan, characters=int(lc[k]),
                tokens_per_character=lt[k] / max(1, int(lc[k])), unk_character_rate=l_unk[k],
                masked=masked, latitude=lang.latitude, longitude=lang.longitude))
    summary, scripts = _summaries(rows, [t.name for t in toks], reference)
    t_end = time.perf_counter()
    return PremiumResult(reference, corpus.name, rows, summary, scripts, skipped,
                         dict(load=t_load - t0, prepare=t_prep - t_load, encode=t_enc - t_prep, premiums=t_end - t_enc,
                              total=t_end - t0))


def _summaries(rows: list[dict], names: list[str], reference: str) -> tuple[list[dict], list[dict]]:
    summary, scripts = [], []
    for name in names:
        mine = [r for r in rows if r["tokenizer"] == name]
        ok = [r for r in mine if not r["masked"]]
        vals = [r["premium"] for r in ok]
        top = max(ok, key=lambda r: r["premium"]) if ok else None
        summary.append(dict(
            tokenizer=name, languages=len(mine), masked=len(mine) - len(ok),
            median=median(vals) if vals else math.nan, max=top["premium"] if top else math.nan,
            max_language=top["language"] if top else "", gini=gini(vals) if vals else math.nan,
            median_byte_premium=median(r["byte_premium"] for r in mine) if mine else math.nan,
            reference_tokens=next((r["tokens"] for r in mine if r["language"] == reference), 0)))
        by_script: dict[str, list[float]] = {}
        for r in ok:
            by_script.setdefault(r["script"] or "?", []).append(r["premium"])
        for s, v in sorted(by_script.items(), key=lambda kv: -median(kv[1])):
            scripts.append(dict(tokenizer=name, script=s, languages=len(v), median=median(v), mean=sum(v) / len(v),
                                min=min(v), max=max(v)))
    return summary, scripts
