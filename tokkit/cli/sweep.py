"""`tokkit sweep`: vocabulary-size sweeps with power-law fits and optimal sizes (resumable)."""

from __future__ import annotations

import math
from typing import List, Optional

import typer

from . import app
from ..analysis._json import jsonable
from ._common import guarded, print_json, print_table


def _size(v: float) -> str:
    if not math.isfinite(v):
        return "never"
    return f"{v:,.0f}" if v < 1e7 else f"{v:.2g}"


@app.command("sweep")
@guarded
def sweep_cmd(
    languages: List[str] = typer.Argument(..., help="Training languages (wordfreq codes: en de fr ...); "
                                          "'en=eng' names the evaluation code."),
    sizes: str = typer.Option("1024,2048,4096,8192,16384", help="Comma-separated vocabulary sizes."),
    algorithm: str = typer.Option("hf-bpe", help="hf-bpe, spm-bpe, spm-unigram, or module:function."),
    data: str = typer.Option("wordfreq", help="'wordfreq', or a path with {lang}: a word-count table or text files."),
    eval_corpus: str = typer.Option("udhr", "--eval-corpus", help="Parallel corpus to count tokens on."),
    store: str = typer.Option("sweep.sqlite", help="SQLite results store; an interrupted sweep resumes from it."),
    reference: Optional[str] = typer.Option(None, help="Reference language (default: the first)."),
    reference_size: Optional[int] = typer.Option(None, help="Target = the reference's CTC at this size "
                                                 "(default: the largest size)."),
    n_words: int = typer.Option(30_000, help="wordfreq: the most frequent N words."),
    total: int = typer.Option(1_000_000, help="wordfreq: frequencies scaled to this many running words."),
    seed: int = typer.Option(0),
    nfc: bool = typer.Option(True, "--nfc/--no-nfc", help="NFC-normalize training words and evaluation text."),
    casefold: Optional[bool] = typer.Option(None, "--casefold/--no-casefold", help="Case-fold the evaluation "
                                            "text (default: with wordfreq data, whose lists are case-folded)."),
    backend: str = typer.Option("local", help="local (process pool), ray, or inline (this process)."),
    address: Optional[str] = typer.Option(None, help="Address of an existing Ray cluster (default: start one)."),
    workers: Optional[int] = typer.Option(None, help="Local processes / Ray CPUs (default: all cores)."),
    retries: int = typer.Option(2, help="Extra attempts for a failed cell before it is recorded as failed."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Write CTC and premium against size (.png/.svg)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Train monolingual tokenizers per language and size, fit CTC = a·V^b, solve for the size reaching the
    reference's CTC."""
    from ..analysis.sweeps import sweep
    from ..errors import InputError

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        raise InputError(f"--sizes {sizes!r}: expected comma-separated integers") from None
    res = sweep(languages, size_list, algorithm=algorithm, data=data, eval_corpus=eval_corpus, store=store,
                reference=reference, reference_size=reference_size, n_words=n_words, total=total, seed=seed,
                nfc=nfc, casefold=casefold, quiet=quiet or as_json, backend=backend, address=address,
                workers=workers, retries=retries)
    written = []
    if plot:
        from ..analysis.plots import plot_sweep

        written = plot_sweep(res, plot)
    if as_json:
        d = res.as_dict()
        d["written"] = written
        print_json(jsonable(d))
        return
    sizes_sorted = sorted({c["vocab_size"] for c in res.cells})
    ctc = {(c["language"], c["vocab_size"]): c["ctc"] for c in res.cells}
    print_table(f"corpus token count on {len(res.units)} {eval_corpus} units", ["language"] + [str(v) for v in sizes_sorted],
                [[f["language"]] + [ctc.get((f["language"], v), "") for v in sizes_sorted] for f in res.fits])
    print_table(f"optimal vocabulary size: CTC of {res.reference} at {res.reference_size}",
                ["language", "eval", "a", "b", "R²", "optimal size", "note"],
                [[f["language"], f["eval_language"], f["a"], f["b"], f["r2"],
                  _size(f["optimal_size"]),
                  "extrapolated" if f["extrapolated"] else ""] for f in res.fits],
                caption=f"{res.computed} cell(s) computed, {len(res.cells) - res.computed} from {store}"
                + (f"; wrote {', '.join(written)}" if written else ""))
