"""`tokkit compare`: tokens per character of several tokenizers over document sets (KL3M-style)."""

from __future__ import annotations

from typing import List, Optional

import typer

from . import app
from ._common import check_files, draw, guarded, print_result, print_table
from .options import Alias, Json, Plot, Quiet, ReadArgs, SplitPattern, Tokenizers, corpus_options, deprecated, quiet_of


@app.command("compare")
@guarded
@deprecated(Alias("--pattern", "split_pattern", "--split-pattern"))
@corpus_options(max_documents=100)
def compare_cmd(
    tokenizers: Tokenizers,
    sets: List[str] = typer.Option(..., "--set", "-s", help="A document set: a file, glob or folder "
                                   "(named by its stem), or NAME=PATH. Repeatable."),
    baseline: Optional[str] = typer.Option(None, help="Tokenizer to compare against (default: the first)."),
    split_pattern: SplitPattern = None,
    plot: Plot = None,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Tokens per character (lower is better) and percent fewer tokens than the baseline.

    Measured on the first --max-documents documents (default 100, as KL3M) of each set."""
    from ..analysis.domains import _set_name, compare
    from ..corpora import read_documents
    from ..tokenizer import load_tokenizer

    check_files(plot=plot)
    toks = [load_tokenizer(t, split_pattern=split_pattern) for t in tokenizers]
    named = {}
    for s in sets:
        name, sep, path = s.partition("=")
        # every set is read here with the corpus options, so compare() itself reads nothing
        named[name if sep else _set_name(s)] = [d.text for d in read_documents(path if sep else s, **read.kwargs())]
    res = compare(toks, named, baseline=baseline, max_documents=None, quiet=quiet_of(quiet, as_json))
    written = draw(res, plot, "plot_compare")
    if as_json:
        return print_result(res, written)
    if quiet:
        return
    cols = ["set", "docs", "characters"] + res.tokenizers
    rows = []
    for s in res.sets:
        first = next(r for r in res.rows if r["set"] == s)
        rows.append([s, first["documents"], first["characters"]] + [
            f"{res.value(n, s):.4f}" + ("" if n == res.baseline else f" ({res.value(n, s, 'percent_fewer'):+.1f}%)")
            for n in res.tokenizers])
    rows.append(["average", "", ""] + [f"{a['tokens_per_character']:.4f}" + (
        "" if a["tokenizer"] == res.baseline else f" ({a['percent_fewer']:+.1f}%)") for a in res.averages])
    print_table("tokens per character (percent fewer tokens than " + res.baseline + ")", cols, rows,
                caption=", ".join(written) or None, names=res.tokenizers)
