"""`tokkit premiums`: token and byte premiums of tokenizers across the languages of a parallel corpus."""

from __future__ import annotations

import math
import os
from typing import Optional

import typer

from ..analysis._json import jsonable
from . import app
from ._common import check_files, guarded, print_json, print_table
from .options import (
    CORPUS_HELP,
    Alias,
    Json,
    Language,
    Nfc,
    Plot,
    Quiet,
    Reference,
    Seed,
    SplitPattern,
    Tokenizers,
    deprecated,
    quiet_of,
)


def _fmt_ci(r) -> str:
    return "-" if r["ci_low"] is None else f"{r['ci_low']:.2f}-{r['ci_high']:.2f}"


COUNT_MODE_HELP = ("How text is counted: sentence (each unit encoded alone, counts summed; CI over units), "
                   "document (each document's units joined; CI over documents) or joined (each language's units "
                   "joined with --separator and encoded once, as Petrov et al. 2023; CI over blocks of units). "
                   "A language with a single unit or document gets no CI.")


@app.command("premiums")
@guarded
@deprecated(Alias("--pattern", "split_pattern", "--split-pattern"))
def premiums_cmd(
    tokenizers: Tokenizers,
    corpus: str = typer.Option("udhr", "--corpus", "-c", help=CORPUS_HELP),
    reference: Reference = "eng",
    language: Language = None,
    split_pattern: SplitPattern = None,
    nfc: Nfc = False,
    unk_threshold: float = typer.Option(0.1, help="Mask a language with more than this share of characters "
                                        "under UNK."),
    bootstrap: int = typer.Option(1000, min=0, help="Bootstrap resamples of units for the CI (0: none)."),
    ci: float = typer.Option(0.95, help="Confidence level."),
    seed: Seed = 0,
    count_mode: str = typer.Option("sentence", "--count-mode", help=COUNT_MODE_HELP),
    separator: str = typer.Option(" ", "--separator", help="What joins units in the document and joined "
                                  "modes (default: one space)."),
    plot: Plot = None,
    csv_path: Optional[str] = typer.Option(None, "--csv", help="Write one row per tokenizer and language."),
    show: int = typer.Option(25, help="Languages in the printed table (highest premiums first; 0: all)."),
    as_json: Json = False,
    quiet: Quiet = False,
):
    """Premium = tokens of a language's aligned units / tokens of the same units in the reference."""
    from ..analysis.premium import COUNT_MODES, premiums
    from ..errors import InputError
    from ..tokenizer import load_tokenizer

    if count_mode not in COUNT_MODES:
        raise InputError(f"--count-mode {count_mode}: expected one of {', '.join(COUNT_MODES)}")
    check_files(csv=csv_path, plot=plot)
    toks = [load_tokenizer(t, split_pattern=split_pattern) for t in tokenizers]
    res = premiums(toks, corpus, reference=reference, languages=language or None, nfc=nfc,
                   unk_threshold=unk_threshold, bootstrap=bootstrap, ci=ci, seed=seed, count_mode=count_mode,
                   separator=separator, quiet=quiet_of(quiet, as_json))
    written = []
    if csv_path:
        res.to_csv(csv_path)
        written.append(csv_path)
    if plot:
        from ..analysis import plots

        stem, ext = os.path.splitext(plot)
        written += plots.plot_premiums(res, plot)
        written += plots.plot_script_boxes(res, f"{stem}-scripts{ext}")
        written += plots.plot_lorenz(res, f"{stem}-lorenz{ext}")
        if any(r.get("latitude") is not None for r in res.rows):
            written += plots.plot_world(res, f"{stem}-map{ext}")
    if as_json:
        d = res.as_dict()
        d["written"] = written
        print_json(jsonable(d))
        return
    if res.skipped:
        typer.secho(f"{len(res.skipped)} language(s) with no units aligned with {reference} skipped: "
                    + ", ".join(s["language"] for s in res.skipped[:12]), err=True)
    if quiet:
        return
    names = [t.name for t in toks]
    by = {(r["tokenizer"], r["language"]): r for r in res.rows}
    first = res.for_tokenizer(names[0])
    order = sorted(first, key=lambda r: -(r["raw_premium"] if math.isfinite(r["raw_premium"]) else 0))
    if show:
        order = order[:show]
    cols = ["language", "name", "script", "units", "byte prem."]
    notes = sorted({r["ci_note"] for r in res.rows if r["ci_note"] and r["ci_note"] != "masked"})
    for n in names:
        cols += [f"{n}", f"{n} CI"]
    rows = []
    for r in order:
        row = [r["language"], r["name"][:28], r["script"], r["units"], r["byte_premium"]]
        for n in names:
            x = by[(n, r["language"])]
            row += ["masked" if x["masked"] else x["premium"], _fmt_ci(x)]
        rows.append(row)
    print_table(f"token premiums vs {reference} on {res.corpus} ({len(first)} languages; "
                f"{'top ' + str(show) if show and show < len(first) else 'all'}; "
                f"count mode {res.method['count_mode']})",
                cols, rows, names=names,
                caption=f"{res.method['description']}; CI: {res.method['interval']}"
                + (f" ({'; '.join(notes)})" if notes else ""))
    print_table("summary", ["tokenizer", "languages", "masked", "median", "max", "max at", "Gini", "ref. tokens"],
                [[s["tokenizer"], s["languages"], s["masked"], s["median"], s["max"], s["max_language"], s["gini"],
                  s["reference_tokens"]] for s in res.summary],
                caption=f"encoding {res.timings['encode']:.2f} s, everything else "
                f"{res.timings['prepare'] + res.timings['premiums']:.2f} s (loading {res.timings['load']:.2f} s)"
                + (f"; wrote {', '.join(written)}" if written else ""), names=names)
    scripts = {}
    for r in res.scripts:
        scripts.setdefault(r["script"], {})[r["tokenizer"]] = r
    order_s = sorted(scripts, key=lambda k: -scripts[k].get(names[0], {}).get("median", 0.0))
    print_table("median premium per script", ["script", "languages"] + names,
                [[k, max(x["languages"] for x in scripts[k].values())]
                 + [scripts[k][n]["median"] if n in scripts[k] else "-" for n in names]
                 for k in (order_s[:show] if show else order_s)], names=names)
