"""`tokkit sweep`: vocabulary-size sweeps with power-law fits and optimal sizes (resumable)."""

from __future__ import annotations

import math
from typing import List, Optional

import typer

from . import app
from ._common import check_files, draw, print_result, print_table
from .options import (
    NFC_HELP,
    Alias,
    Language,
    NWords,
    OutputArgs,
    Plot,
    Reference,
    RunnerArgs,
    Seed,
    verb,
)


def _size(v: float) -> str:
    if not math.isfinite(v):
        return "never"
    return f"{v:,.0f}" if v < 1e7 else f"{v:.2g}"


def _sizes(value: str) -> list[int]:
    from ..errors import InputError

    try:
        return [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--sizes {value!r}: expected comma-separated integers") from None


@verb(app, "sweep", Alias("--sizes", "size", "--size (repeatable)", _sizes))
def sweep_cmd(
    languages: List[str] = typer.Argument(None, help="Training languages (wordfreq codes: en de fr ...); "
                                          "'en=eng' names the evaluation code. Also -l/--language."),
    language: Language = None,
    size: Optional[List[int]] = typer.Option(None, "--size", help="A vocabulary size (repeatable; default "
                                             "1024 2048 4096 8192 16384)."),
    algorithm: str = typer.Option("hf-bpe", help="hf-bpe, spm-bpe, spm-unigram, or module:function."),
    data: str = typer.Option("wordfreq", help="'wordfreq', or a path with {lang}: a word-count table or text files."),
    eval_corpus: str = typer.Option("udhr", "--eval-corpus", help="Parallel corpus to count tokens on."),
    store: str = typer.Option("sweep.sqlite", help="SQLite results store; an interrupted sweep resumes from it."),
    reference: Reference = None,
    reference_size: Optional[int] = typer.Option(None, help="Target = the reference's CTC at this size "
                                                 "(default: the largest size)."),
    n_words: NWords = 30_000,
    total: int = typer.Option(1_000_000, help="wordfreq: frequencies scaled to this many running words."),
    seed: Seed = 0,
    nfc: bool = typer.Option(True, "--nfc/--no-nfc", help=NFC_HELP),
    casefold: Optional[bool] = typer.Option(None, "--casefold/--no-casefold", help="Case-fold the evaluation "
                                            "text (default: with wordfreq data, whose lists are case-folded)."),
    *,
    runner: RunnerArgs,
    plot: Plot = None,
    output: OutputArgs,
):
    """Vocabulary-size sweep: per language and size a tokenizer, CTC = a·V^b fits, the size matching the reference.

    The reference is the first language unless -r. --nfc covers training words and evaluation text."""
    from ..analysis.sweeps import sweep
    from ..errors import InputError

    languages = list(languages or []) + list(language or [])
    if not languages:
        raise InputError("give the training languages (positional or -l/--language)")
    size_list = list(size or [1024, 2048, 4096, 8192, 16384])
    check_files(store=store, plot=plot)
    res = sweep(languages, size_list, algorithm=algorithm, data=data, eval_corpus=eval_corpus, store=store,
                reference=reference, reference_size=reference_size, n_words=n_words, total=total, seed=seed,
                nfc=nfc, casefold=casefold, quiet=output.library_quiet, **runner.kwargs())
    written = draw(res, plot, "plot_sweep")
    if output.as_json:
        return print_result(res, written)
    if output.quiet:
        return
    sizes_sorted = sorted({c["vocab_size"] for c in res.cells})
    ctc = {(c["language"], c["vocab_size"]): c["ctc"] for c in res.cells}
    print_table(f"corpus token count on {len(res.units)} {eval_corpus} units",
                ["language"] + [str(v) for v in sizes_sorted],
                [[f["language"]] + [ctc.get((f["language"], v), "") for v in sizes_sorted] for f in res.fits])
    print_table(f"optimal vocabulary size: CTC of {res.reference} at {res.reference_size}",
                ["language", "eval", "a", "b", "R²", "optimal size", "note"],
                [[f["language"], f["eval_language"], f["a"], f["b"], f["r2"],
                  _size(f["optimal_size"]),
                  "extrapolated" if f["extrapolated"] else ""] for f in res.fits],
                caption=f"{res.computed} cell(s) computed, {len(res.cells) - res.computed} from {store}"
                + (f"; wrote {', '.join(written)}" if written else ""))
