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
    method: dict = field(default_factory=dict)        # how the numbers were counted (unit, separator, interval)

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


def count_units(tok: Tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, characters lost: under UNK or dropped) per text, in batched passes of the engine. Long texts
    (joined units) are cut at safe pre-token boundaries where the tokenizer allows it
    (`tokkit.tokenizer.chunks`: the counts are those of the whole text) and handed over in bounded batches."""
    from ..tokenizer.chunks import piece_batches

    counts = np.zeros(len(texts), dtype=np.int64)
    lost = np.zeros(len(texts), dtype=np.int64)
    for pieces, owner in piece_batches(tok, texts):  # lazily: a huge text is never held twice
        n_tok, n_lost = _count_pieces(tok, pieces)
        np.add.at(counts, owner, n_tok)
        np.add.at(lost, owner, n_lost)
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


def premiums(tokenizers: Tokenizer | str | Iterable[Tokenizer | str], corpus: ParallelCorpus | str, *,
             reference: str = "eng", languages: Iterable[str] | None = None, nfc: bool = False,
             unk_threshold: float = 0.1, bootstrap: int = 1000, ci: float = 0.95, seed: int = 0,
             count_mode: str = "sentence", separator: str = " ", quiet: bool = True) -> PremiumResult:
    """Token premiums of each tokenizer for each language against `reference`, with byte premiums,
    bootstrap confidence intervals, UNK masking, and summaries (median, max, Gini) overall and per script.
    corpus: a ParallelCorpus or a name/folder (udhr, ntrex, flores).

    count_mode (CLI --count-mode): how text is counted. "sentence" (default): each unit on its own, counts summed, intervals from
    resampling units. "document": the units of each document (unit_meta 'document'; a corpus without
    document ids is one document per language) joined with `separator` and encoded once each; intervals
    from resampling documents. "joined": each language's units joined with `separator` (default a space,
    as Petrov et al. 2023 build their FLORES texts) and encoded in one pass; intervals from resampling
    blocks of consecutive units. Where a language has a single group (one unit, one document) there is no
    interval: ci_low and ci_high are None and ci_note says why. Codes may be given in another naming of
    the same corpus (a FLORES-200 code for a FLORES+ corpus and back)."""
    from ..corpora import load_parallel
    from ..corpora.flores import resolve_language
    from ..tokenizer.chunks import chunk_safe

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
    if isinstance(corpus, str):
        corpus = load_parallel(corpus)
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

    # one flat batch per tokenizer: every group text of every language once, the reference's groups once
    # per distinct set of units; a joined-mode block after the first starts with the separator, so that the
    # blocks are the joined text cut at the unit boundaries
    flat: list[str] = []
    lang_idx: dict[str, np.ndarray] = {}
    ref_of: dict[str, np.ndarray] = {}
    ref_group: dict[tuple, int] = {}
    ref_texts = corpus.units[reference]
    for c, units in aligned.items():
        li, ri = [], []
        for k, g in enumerate(_groups(unit, units, corpus.unit_meta)):
            lead = separator if unit == "joined" and k else ""
            key = (lead, tuple(g))
            if key not in ref_group:
                ref_group[key] = len(flat)
                flat.append(lead + separator.join(ref_texts[u] for u in g))
            ri.append(ref_group[key])
            if c != reference:
                li.append(len(flat))
                flat.append(lead + separator.join(corpus.units[c][u] for u in g))
        ref_of[c] = np.asarray(ri, dtype=np.int64)
        lang_idx[c] = ref_of[c] if c == reference else np.asarray(li, dtype=np.int64)
    nbytes = np.fromiter((len(t.encode("utf-8", "surrogatepass")) for t in flat), dtype=np.int64, count=len(flat))
    nchars = np.fromiter((len(t) for t in flat), dtype=np.int64, count=len(flat))
    # joined mode: the blocks' counts sum to the joined text's count when the tokenizer may be cut before a
    # space between two non-space characters (tokkit.tokenizer.chunks) and every unit boundary is such a
    # place; else the joined texts are encoded as well, for the point estimates
    edges_safe = separator == " " and all(
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

    counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    whole: dict[str, np.ndarray] = {}
    with progress("encoding", total=len(toks), quiet=quiet, unit="tokenizers") as bar:
        for tok in toks:
            counts[tok.name] = count_units(tok, flat)
            if joined_flat and not (edges_safe and chunk_safe(tok)):
                whole[tok.name] = count_units(tok, joined_flat)[0]
            bar.advance()
    t_enc = time.perf_counter()

    rows = []
    order = list(aligned)
    n_groups = {c: len(lang_idx[c]) for c in order}
    by_size: dict[int, list[str]] = {}
    for c in order:
        if n_groups[c] > 1:
            by_size.setdefault(n_groups[c], []).append(c)
    weights = {m: bootstrap_weights(m, bootstrap, seed) for m in by_size} if bootstrap > 0 else {}
    # per-language totals as segment sums over one concatenated index (a few numpy calls, not 532 x 10)
    all_li = np.concatenate([lang_idx[c] for c in order])
    all_ri = np.concatenate([ref_of[c] for c in order])
    starts = np.cumsum([0] + [n_groups[c] for c in order[:-1]])

    def seg(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values[idx], starts)

    group_word = "document" if unit == "document" else "unit"
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
        block_premium = [a / b if b else math.nan for a, b in zip(lt, rt)]
        if tok.name in whole:  # the joined texts' own counts
            w = whole[tok.name]
            lt, rt = [int(w[joined_lang[c]]) for c in order], [int(w[joined_ref[c]]) for c in order]
        l_unk = (seg(unk_chars, all_li) / np.maximum(lc, 1)).tolist()
        r_unk = (seg(unk_chars, all_ri) / np.maximum(rc, 1)).tolist()
        for k, c in enumerate(order):
            masked = l_unk[k] > unk_threshold or r_unk[k] > unk_threshold
            premium = lt[k] / rt[k] if rt[k] else math.nan
            lo = hi = None
            if masked:
                note = "masked"
            elif c == reference:
                note = "the reference: premium 1 by definition"
            elif n_groups[c] == 1:
                note = f"one {'unit' if len(aligned[c]) == 1 else group_word} per language: no interval"
            elif c not in intervals:
                note = "bootstrap=0"
            else:
                lo, hi = intervals[c]
                shift = premium - block_premium[k]     # 0 unless the joined counts differ from the blocks'
                lo, hi, note = lo + shift, hi + shift, ""
            lang = corpus.languages[c]
            rows.append(dict(
                tokenizer=tok.name, language=c, name=lang.name, script=lang.script, units=len(aligned[c]),
                count_mode=unit, groups=n_groups[c], tokens=lt[k], reference_tokens=rt[k],
                premium=math.nan if masked else premium, ci_low=lo, ci_high=hi, ci_note=note, raw_premium=premium,
                bytes=int(lb[k]), reference_bytes=int(rb[k]),
                byte_premium=float(lb[k] / rb[k]) if rb[k] else math.nan, characters=int(lc[k]),
                tokens_per_character=lt[k] / max(1, int(lc[k])), unk_character_rate=l_unk[k],
                masked=masked, latitude=lang.latitude, longitude=lang.longitude))
    summary, scripts = _summaries(rows, [t.name for t in toks], reference)
    t_end = time.perf_counter()
    return PremiumResult(reference, corpus.name, rows, summary, scripts, skipped,
                         dict(load=t_load - t0, prepare=t_prep - t_load, encode=t_enc - t_prep, premiums=t_end - t_enc,
                              total=t_end - t0), _method(unit, separator, bootstrap, ci))


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
