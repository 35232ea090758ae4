"""Helpers shared by the CLI verbs: JSON output, tables, errors."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Sequence

import typer

from ..errors import TokkitError


def fail(e: Exception) -> None:
    typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def _cell(v: Any) -> str:
    return f"{v:,.4g}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) \
        else str(v)


def console():
    """A rich Console as wide as the terminal (or $COLUMNS); piped output gets 200 columns rather than
    rich's 80, so tables in logs are not squeezed."""
    import os

    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console()
    return Console(width=200)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                caption: str | None = None, names: Sequence[str] = ()) -> None:
    """A table that fits the console. When the plain layout is too wide: a compact one (no vertical rules,
    one space between columns); then the long `names` (tokenizer names, which head columns and start rows)
    become T1, T2, ... with a legend in the caption; then the columns are printed in parts, each repeating
    the first column. A cell is never cut short."""
    from rich import box
    from rich.measure import Measurement
    from rich.table import Table

    con = console()
    header = [str(c) for c in columns]
    body = [[_cell(v) for v in r] for r in rows]

    def build(compact: bool, short: dict[str, str], cols: Sequence[int], part: int = 0, last: bool = True):
        legend = "; ".join(f"{k} = {n}" for n, k in short.items())
        cap = "\n".join(x for x in (caption, legend) if x) or None
        table = Table(title=title if part == 0 else f"{title} (continued)", caption=cap if last else None,
                      box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD, show_edge=not compact,
                      pad_edge=not compact, collapse_padding=compact)
        for i in cols:
            c = header[i]
            for n, k in short.items():
                if c == n or c.startswith(n + " "):
                    c = k + c[len(n):]
                    break
            # cells wrap (fold) rather than end in an ellipsis if a column must still shrink
            table.add_column(c, justify="left" if i == 0 else "right", overflow="fold")
        for r in body:
            table.add_row(*[short.get(r[i], r[i]) if i < len(r) else "" for i in cols])
        return table

    def width(table) -> int:
        return Measurement.get(con, con.options.update_width(10 ** 5), table).maximum

    every = list(range(len(header)))
    table = build(False, {}, every)
    if width(table) <= con.width:
        con.print(table)
        return
    short: dict[str, str] = {}
    if width(build(True, {}, every)) > con.width:
        short = {n: f"T{i + 1}" for i, n in enumerate(n for n in dict.fromkeys(names) if len(n) > 6)}
    parts: list[list[int]] = [[0]]
    for i in every[1:]:
        if len(parts[-1]) > 1 and width(build(True, short, parts[-1] + [i])) > con.width:
            parts.append([0])
        parts[-1].append(i)
    for k, cols in enumerate(parts):
        con.print(build(True, short, cols, part=k, last=k == len(parts) - 1))


def guarded(fn):
    """Run fn, turning tokkit's input errors into a clean exit 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **k):
        try:
            return fn(*a, **k)
        except TokkitError as e:
            fail(e)

    return wrapper


def draw(res, plot: str | None, plotter: str) -> list[str]:
    """--plot of the measuring verbs: `tokkit.analysis.plots.<plotter>(res, plot)`; the files written."""
    if not plot:
        return []
    from ..analysis import plots

    return getattr(plots, plotter)(res, plot)


def print_result(res, written: Sequence[str] = ()) -> None:
    """--json of the measuring verbs: the result's dict and the files written."""
    from ..analysis._json import jsonable

    print_json(jsonable(dict(res.as_dict(), written=list(written))))


def check_files(**paths: str | None) -> None:
    """Output files a verb will write (--csv, --plot, --store ...: flag name without dashes -> path), checked
    before any work, so a bad path fails in one line instead of after the computation."""
    from .._atomic import check_out

    for flag, path in paths.items():
        if path is not None:
            check_out(path, kind="file", what="--" + flag.replace("_", "-"))
