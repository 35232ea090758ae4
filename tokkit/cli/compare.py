"""`tokkit compare`: tokens per character of several tokenizers over document sets (KL3M-style)."""

from __future__ import annotations

from typing import List, Optional

import typer

from . import app
from ..analysis._json import jsonable
from ._common import guarded, print_json, print_table


@app.command("compare")
@guarded
def compare_cmd(
    tokenizers: List[str] = typer.Argument(..., help="Tokenizer files/folders, shared names, or bytes / chars."),
    sets: List[str] = typer.Option(..., "--set", "-s", help="A document set: a file, glob or folder "
                                   "(named by its stem), or NAME=PATH. Repeatable."),
    baseline: Optional[str] = typer.Option(None, help="Tokenizer to compare against (default: the first)."),
    max_documents: int = typer.Option(100, help="The first N documents of each set (0: all)."),
    text_field: str = typer.Option("text", help="jsonl field / parquet column with the text."),
    pattern: Optional[str] = typer.Option(None, help="Split pattern for tiktoken ranks files."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Write a grouped bar chart (.png/.svg)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Tokens per character (lower is better) and percent fewer tokens than the baseline."""
    from ..analysis.domains import _set_name, compare
    from ..tokenizer import load_tokenizer

    toks = [load_tokenizer(t, pattern=pattern) for t in tokenizers]
    named = {}
    for s in sets:
        name, sep, path = s.partition("=")
        named[name if sep else _set_name(s)] = path if sep else s
    res = compare(toks, named, baseline=baseline, max_documents=max_documents or None, text_field=text_field,
                  quiet=quiet or as_json)
    written = []
    if plot:
        from ..analysis.plots import plot_compare

        written = plot_compare(res, plot)
    if as_json:
        d = res.as_dict()
        d["written"] = written
        print_json(jsonable(d))
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
                caption=", ".join(written) or None)
