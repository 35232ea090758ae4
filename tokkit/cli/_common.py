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


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                caption: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*[f"{v:,.4g}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
                        for v in r])
    # piped output would otherwise be cut to 80 columns
    Console(width=None if sys.stdout.isatty() else 200).print(table)


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
