"""Vocabulary-size sweeps: train a monolingual tokenizer per (language, size), count its tokens on a
parallel evaluation text, fit CTC = a * V^b per language, and solve for the size that reaches a target
(Arnett et al. 2025: the "optimal vocabulary size").

A cell is a pure function of its parameters (`run_cell(params) -> result`), so cells can run anywhere
(threads, processes, Ray tasks) and their results land in a `ResultsStore` keyed by those parameters; an
interrupted sweep resumes by skipping stored cells. The training function of a cell is looked up by its
`algorithm` name in the registry of `tokkit.train.registry` (or given as "module:function"), so other
trainers plug in unchanged.
"""

from __future__ import annotations

import math
import os
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from .._progress import progress
from ..corpora import WordCounts
from ..corpora.udhr import map_languages, udhr_code_for  # noqa: F401  (re-exported: sweeps map languages)
from ..dist.backends import TaskResult, check_workers, run_tasks
from ..dist.claims import Claims
from ..errors import InputError
from ..tokenizer.chunks import count_chunked
from ..train.registry import (  # noqa: F401  (re-exported)
    ALGORITHMS,
    MULTI_SIZE,
    TrainFn,
    register_algorithm,
    resolve_algorithm,
    train_hf_bpe,
    train_native_bpe,
    train_native_bpe_sizes,
    train_sentencepiece,
)
from .store import ResultsStore, canonical, cell_key

# ---- the data of a cell: pure functions of parameters, cached per process ----

@lru_cache(maxsize=32)
def training_counts(data: str, language: str, n_words: int, total: int) -> WordCounts:
    """Word counts for training: 'wordfreq' (the package's table for `language`), or a path with '{lang}'
    in it: a word-count table (.tsv/.parquet) or text files (whitespace words are counted)."""
    if data == "wordfreq":
        from ..corpora import wordfreq_counts

        return wordfreq_counts(language, n_words=n_words, total=total)
    path = data.replace("{lang}", language)
    if path.endswith((".tsv", ".tsv.gz", ".tsv.zst", ".parquet")):
        from ..corpora import read_word_counts

        return read_word_counts(path)
    from ..corpora import read_documents
    from ..tokenizer.chunks import iter_pieces

    words: Counter = Counter()
    for doc in read_documents(path):
        for piece in iter_pieces(doc.text):  # cut at spaces: the same words, without one list per document
            words.update(piece.split())
    return WordCounts(words, source=path)


@lru_cache(maxsize=64)
def evaluation_units(corpus: str, code: str, nfc: bool = True, casefold: bool = False) -> tuple[tuple[str, str], ...]:
    """(unit id, text) of one language of a parallel corpus, NFC-normalized unless nfc=False (35 UDHR
    files, Hindi and Burmese among them, are not NFC while word lists are), case-folded if asked (wordfreq's
    lists are case-folded: 'Straße' is counted as 'strasse')."""
    from ..corpora import load_parallel

    pc = load_parallel(corpus, languages=[code])

    def norm(t: str) -> str:
        t = unicodedata.normalize("NFC", t) if nfc else t
        return t.casefold() if casefold else t

    return tuple((u, norm(pc.units[code][u])) for u in pc.unit_ids if pc.units[code].get(u))


@lru_cache(maxsize=32)
def _nfc_training_counts(data: str, language: str, n_words: int, total: int) -> WordCounts:
    counts = training_counts(data, language, n_words, total)
    return WordCounts(((unicodedata.normalize("NFC", w), c) for w, c in counts.items()), source=counts.source)


def data_version(data: str, language: str) -> str:
    """What the cell's training data is, beyond its name: the wordfreq package version, or the sizes and
    modification times of the files, so that changed data makes new cells instead of reusing stale ones."""
    import hashlib

    if data == "wordfreq":
        import importlib.metadata as md

        try:
            return "wordfreq " + md.version("wordfreq")
        except md.PackageNotFoundError:
            return "wordfreq"
    from ..corpora.io import expand_paths

    h = hashlib.blake2b(digest_size=8)
    for f in expand_paths(data.replace("{lang}", language)):
        st = os.stat(f)
        h.update(f"{os.path.abspath(f)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def run_cell(params: dict) -> dict:
    """Train one tokenizer and count its tokens on the evaluation text: a pure function of its parameters.

    Args:
        params: language, eval_language, vocab_size, algorithm, data, n_words, total, eval_corpus, seed.

    Returns:
        The cell's result (ctc, vocabulary size, timings).
    """
    return run_cells([params])[0]


def run_cells(cells: Sequence[dict]) -> list[dict]:
    """Cells that differ only in vocab_size, sharing their data loading, and their training too where the
    algorithm gives every size from one run (MULTI_SIZE): one result per cell, in order."""
    first = cells[0]
    if any(_without_size(c) != _without_size(first) for c in cells):
        raise InputError("run_cells: the cells must differ only in vocab_size")
    t0 = time.perf_counter()
    nfc = bool(first.get("nfc", False))
    counts = (_nfc_training_counts if nfc else training_counts)(
        first["data"], first["language"], first["n_words"], first["total"])
    sizes = [int(c["vocab_size"]) for c in cells]
    seed = int(first.get("seed", 0))
    t1 = time.perf_counter()
    if first["algorithm"] in MULTI_SIZE:
        trained = MULTI_SIZE[first["algorithm"]](counts, sizes, seed)
        shared = time.perf_counter() - t1
        toks = [(trained[v], shared) for v in sizes]
    else:
        train = resolve_algorithm(first["algorithm"])
        toks = []
        for v in sizes:
            t = time.perf_counter()
            toks.append((train(counts, v, seed), time.perf_counter() - t))
    units = evaluation_units(first["eval_corpus"], first["eval_language"], nfc, bool(first.get("casefold", False)))
    out = []
    for tok, train_seconds in toks:
        t = time.perf_counter()
        # cut at safe points and counted in bounded batches: a huge unit does not take the memory with it
        per_unit = count_chunked(tok, [text for _, text in units])
        out.append(dict(ctc=int(sum(per_unit)), unit_counts=dict(zip((u for u, _ in units), per_unit)),
                        trained_vocab_size=tok.vocab_size, train_seconds=train_seconds,
                        eval_seconds=time.perf_counter() - t, data_seconds=t1 - t0,
                        shared_training=len(cells) > 1 and first["algorithm"] in MULTI_SIZE))
    return out


def _without_size(params: dict) -> dict:
    return {k: v for k, v in params.items() if k != "vocab_size"}


# ---- fits ----

def fit_power_law(sizes: Sequence[float], ctcs: Sequence[float]) -> tuple[float, float, float]:
    """Least squares in log-log space: CTC = a * V^b.

    Args:
        sizes: vocabulary sizes V.
        ctcs: corpus token counts at those sizes.

    Returns:
        (a, b, r2).
    """
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(ctcs, dtype=float))
    if x.size < 2 or np.ptp(x) == 0:
        raise InputError("fit_power_law: need at least two distinct vocabulary sizes")
    b, loga = np.polyfit(x, y, 1)
    pred = loga + b * x
    ss = ((y - y.mean()) ** 2).sum()
    r2 = 1 - ((y - pred) ** 2).sum() / ss if ss > 0 else 1.0
    return float(math.exp(loga)), float(b), float(r2)


def solve_size(a: float, b: float, target: float) -> float:
    """The vocabulary size V with a * V^b = target.

    Args:
        a: the power law's factor.
        b: its exponent.
        target: the CTC to reach.

    Returns:
        V, or inf when the curve never gets there (b >= 0 and target below a).
    """
    if b == 0:
        return math.inf if target < a else 1.0
    v = (target / a) ** (1.0 / b)
    return float(v) if v > 0 else math.inf


@dataclass
class SweepResult:
    """A fitted vocabulary sweep (what `sweep` and `load_sweep` return).

    Attributes:
        store: the results store's path.
        cells: one per (language, size): params and result.
        fits: one per language: a, b, r2, optimal size.
        reference: the reference language.
        reference_size: the size whose reference CTC is every language's target.
        units: evaluation units common to every language.
        computed: cells computed in this run (the rest came from the store).
        timings: seconds per phase.
    """
    store: str
    cells: list[dict]                   # one per (language, size): params and result
    fits: list[dict]                    # one per language: a, b, r2, optimal size
    reference: str
    reference_size: int
    units: list[str]                    # evaluation units common to every language
    computed: int = 0                   # cells computed in this run (the rest came from the store)
    timings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The result as a JSON-ready dict.

        Returns:
            Field name -> value.
        """
        return asdict(self)


def sweep(languages: Sequence[str], sizes: Sequence[int] = (1024, 2048, 4096, 8192, 16384), *,
          algorithm: str = "hf-bpe", data: str = "wordfreq", eval_corpus: str = "udhr",
          store: str | os.PathLike = "sweep.sqlite", reference: str | None = None,
          reference_size: int | None = None, n_words: int = 30_000, total: int = 1_000_000, seed: int = 0,
          nfc: bool = True, casefold: bool | None = None, quiet: bool = True,
          on_cell: Callable[[dict, dict], None] | None = None, backend: str = "local",
          workers: int | None = None, address: str | None = None, retries: int = 2) -> SweepResult:
    """Run (or resume) a vocabulary sweep and fit it.

    Each finished cell is stored at once by the driver; a failed cell is retried `retries` times, then recorded in
    the store's failures table, and the sweep raises after the other cells have finished (rerunning retries only
    what is missing).

    Args:
        languages: training-data codes (wordfreq: "en", "de", ...), optionally "en=eng" to name the evaluation
            code.
        sizes: vocabulary sizes (powers of two by convention).
        algorithm: the training algorithm ("hf-bpe", "native-bpe", or one registered with
            `register_algorithm`).
        data: the training data ("wordfreq", or a path pattern with {lang}).
        eval_corpus: the parallel corpus the tokens are counted on.
        store: the results store (SQLite); finished cells in it are skipped.
        reference: the language whose CTC at `reference_size` is the target of every other language.
        reference_size: default the largest size.
        n_words: words per language from the training data.
        total: the token count frequencies are scaled to.
        seed: the seed of every cell.
        nfc: NFC-normalize training words and evaluation text alike.
        casefold: case-fold the evaluation text (default: when the training data is wordfreq, whose lists are
            case-folded).
        quiet: no progress notices.
        on_cell: called with (params, result) as each cell finishes.
        backend: "inline" (this process, one cell after another), "local" (a process pool of `workers`) or
            "ray" (a Ray cluster at `address`, default a local one).
        workers: the pool's size.
        address: the Ray cluster's address.
        retries: retries per failed cell.

    Returns:
        The `SweepResult`.

    Raises:
        InputError: a bad language or value; a cell that failed after its retries (after the others finished).
    """
    if casefold is None:
        casefold = data == "wordfreq"
    if not languages:
        raise InputError("sweep: no languages")
    sizes = sorted({int(s) for s in sizes})
    if len(sizes) < 2 or sizes[0] < 257:
        raise InputError(f"sweep: need at least two sizes above the 256-byte alphabet, got {sizes}")
    for name, v in (("n_words", n_words), ("total", total)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"sweep: {name} must be a whole number >= 1, got {v!r}")
    resolve_algorithm(algorithm)  # fail before any work on an unknown name
    mapping = map_languages(languages, eval_corpus)
    reference = reference or next(iter(mapping))
    if reference not in mapping:
        raise InputError(f"reference {reference!r} is not one of the sweep's languages ({', '.join(mapping)})")
    reference_size = reference_size or sizes[-1]
    version = {lang: data_version(data, lang) for lang in mapping}
    cells = [dict(language=lang, eval_language=code, vocab_size=v, algorithm=algorithm, data=data,
                  n_words=n_words, total=total, eval_corpus=eval_corpus, seed=seed, nfc=nfc,
                  casefold=bool(casefold), data_version=version[lang])
             for lang, code in mapping.items() for v in sizes]
    if reference_size not in sizes:
        cells.append(dict(cells[0], language=reference, eval_language=mapping[reference], vocab_size=reference_size))
    check_workers(workers)
    if backend not in ("inline", "local", "ray"):
        raise InputError(f"backend={backend!r}: expected 'inline', 'local' or 'ray'")
    for code in dict.fromkeys(c["eval_language"] for c in cells):
        # the evaluation text is read (and cached for the workers) before the store exists: a missing
        # corpus or language fails now, not in every cell after a store was created
        evaluation_units(eval_corpus, code, nfc, bool(casefold))
    t0 = time.perf_counter()
    computed = 0
    failed: list = []
    with ResultsStore(store) as db, Claims(store) as claims:
        sweep_name = f"{algorithm}:{data}:{eval_corpus}"
        with progress("sweep", total=len(cells), quiet=quiet, unit="cells") as bar:
            seen = db.keys()
            bar.advance(len(cells) - sum(cell_key(c) not in seen for c in cells))

            def compute(todo: list[dict]) -> None:
                def store_outcome(res) -> None:
                    nonlocal computed
                    params = todo[res.key]
                    if res.ok:
                        db.put(params, res.value, sweep=sweep_name, seconds=res.seconds)
                        computed += 1
                        if on_cell:
                            on_cell(params, res.value)
                    else:
                        db.put_failure(params, res.error or "failed", attempts=res.attempts, sweep=sweep_name)
                        failed.append((params, res))
                    claims.release(cell_key(params))
                    seen.add(cell_key(params))
                    bar.advance()

                # a task is a group of cells differing only in size: one cell each, or a whole language where
                # one training gives every size (MULTI_SIZE)
                groups: dict[str, list[int]] = {}
                for i, params in enumerate(todo):
                    key = canonical(_without_size(params)) if algorithm in MULTI_SIZE else str(i)
                    groups.setdefault(key, []).append(i)
                group_list = list(groups.values())

                def store_group(res) -> None:
                    for j, i in enumerate(group_list[res.key]):
                        store_outcome(TaskResult(i, res.ok, res.value[j] if res.ok else None, res.error,
                                                 res.attempts, res.seconds, res.input_error))

                tasks = [(g, run_cells, ([todo[i] for i in idx],)) for g, idx in enumerate(group_list)]
                if backend == "inline":
                    for g, fn, args in tasks:
                        t = time.perf_counter()
                        store_group(TaskResult(g, True, fn(*args), seconds=time.perf_counter() - t))
                else:
                    run_tasks(tasks, backend=backend, workers=workers, address=address, retries=retries,
                              on_result=store_group)

            # cells another driver of this store has claimed are left to it; this one waits for their
            # results, and takes over any cell whose claim is released without a result (that driver died)
            gave_up = set()
            batch = 1 if backend == "inline" else (workers or os.cpu_count() or 1)
            while True:
                done = db.keys()
                pending = [c for c in cells if (k := cell_key(c)) not in done and k not in gave_up]
                if not pending:
                    break
                others = {cell_key(c) for c in cells} & done - seen
                bar.advance(len(others))  # cells another driver finished
                seen |= others
                # claim a batch of task groups at a time (not everything), so drivers started together share
                todo: list[dict] = []
                by_group: dict[str, list[dict]] = {}
                for c in pending:
                    by_group.setdefault(canonical(_without_size(c)) if algorithm in MULTI_SIZE else cell_key(c),
                                        []).append(c)
                taken = 0
                for members in by_group.values():
                    if taken >= batch:
                        break
                    if all(claims.try_claim(cell_key(c)) for c in members):
                        todo += members
                        taken += 1
                    else:
                        for c in members:
                            claims.release(cell_key(c))
                if todo:
                    compute(todo)
                    gave_up |= {cell_key(p) for p, _ in failed}
                else:
                    time.sleep(0.5)
        if failed:
            first, res = failed[0]
            how = "on bad input" if res.input_error else f"after {retries} retries"
            raise InputError(f"sweep: {len(failed)} cell(s) failed {how} and are recorded in "
                             f"{store} (failures table); the first, {first['language']} at {first['vocab_size']}: "
                             f"{res.error}. Finished cells are stored: run again to retry the rest.")
        results = {cell_key(c): db.get(c) for c in cells}
    rows = [dict(params=c, result=results[cell_key(c)]) for c in cells]
    return _fit(rows, mapping, sizes, reference, reference_size, str(store), computed, time.perf_counter() - t0)


def _fit(rows, mapping, sizes, reference, reference_size, store, computed, seconds) -> SweepResult:
    # CTCs over the units every language has, so that they count the same content
    common = None
    for r in rows:
        u = set(r["result"]["unit_counts"])
        common = u if common is None else common & u
    units = sorted(common or (), key=lambda u: (len(u), u))
    if not units:
        raise InputError("sweep: the languages share no evaluation units")
    cells = []
    for r in rows:
        ctc = sum(r["result"]["unit_counts"][u] for u in units)
        cells.append(dict(language=r["params"]["language"], eval_language=r["params"]["eval_language"],
                          vocab_size=r["params"]["vocab_size"], ctc=ctc,
                          trained_vocab_size=r["result"]["trained_vocab_size"],
                          train_seconds=r["result"]["train_seconds"]))
    ctc_of = {(c["language"], c["vocab_size"]): c["ctc"] for c in cells}
    measured = ctc_of[(reference, reference_size)]
    # the target is the reference's fitted CTC at reference_size, so the reference maps onto itself
    ref_sizes = sorted(v for (lang, v) in ctc_of if lang == reference)
    ra, rb, _ = fit_power_law(ref_sizes, [ctc_of[(reference, v)] for v in ref_sizes])
    target = ra * reference_size ** rb
    for c in cells:
        ref = ctc_of.get((reference, c["vocab_size"]))
        c["premium"] = c["ctc"] / ref if ref else math.nan
    fits = []
    for lang, code in mapping.items():
        xs = [v for v in sizes if (lang, v) in ctc_of]
        a, b, r2 = fit_power_law(xs, [ctc_of[(lang, v)] for v in xs])
        v_opt = solve_size(a, b, target)
        fits.append(dict(language=lang, eval_language=code, a=a, b=b, r2=r2, target_ctc=target,
                         target_ctc_measured=measured,
                         optimal_size=v_opt,
                         extrapolated=not (sizes[0] * (1 - 1e-9) <= v_opt <= sizes[-1] * (1 + 1e-9)),
                         ctc_at_largest=ctc_of[(lang, sizes[-1])]))
    return SweepResult(store, cells, fits, reference, reference_size, units, computed, dict(total=seconds))


def load_sweep(store: str | os.PathLike, *, reference: str | None = None,
               reference_size: int | None = None) -> SweepResult:
    """Fit the cells already in a store (e.g. one filled by distributed workers).

    Args:
        store: the results store.
        reference: the reference language.
        reference_size: the reference size (default the largest).

    Returns:
        The `SweepResult`.
    """
    with ResultsStore(store) as db:
        rows = db.rows()
    if not rows:
        raise InputError(f"{store}: no finished cells")
    mapping = {}
    for r in rows:
        mapping.setdefault(r["params"]["language"], r["params"]["eval_language"])
    sizes = sorted({r["params"]["vocab_size"] for r in rows})
    reference = reference or next(iter(mapping))
    return _fit([dict(params=r["params"], result=r["result"]) for r in rows], mapping, sizes, reference,
                reference_size or sizes[-1], str(store), 0, 0.0)
