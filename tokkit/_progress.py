"""One progress bar style for long work, silenced with quiet=True (CLI: --quiet)."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator


class _Null:
    def update(self, *a, **k):
        pass

    def advance(self, *a, **k):
        pass


@contextlib.contextmanager
def progress(description: str, total: float | None = None, *, quiet: bool = False,
             unit: str = "") -> Iterator[object]:
    """Yields an object with advance(n); shows a rich bar on stderr unless quiet."""
    if quiet:
        yield _Null()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(file=sys.stderr)
    # counts of whole things (merges, files) without decimals; amounts (MB) with one
    fmt = ",.1f" if unit == "MB" else ",.0f"
    suffix = f" {unit}" if unit else ""
    if total is None:  # open-ended work (a compile, a stream of documents): what is done so far, and time
        columns = [SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                   TextColumn(f"{{task.completed:{fmt}}}{suffix}" if unit else ""), TimeElapsedColumn()]
    else:
        columns = [TextColumn("[progress.description]{task.description}"), BarColumn(),
                   TextColumn(f"{{task.completed:{fmt}}}/{{task.total:{fmt}}}{suffix}"), TimeElapsedColumn(),
                   TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)

        class _Handle:
            def advance(self, n: float = 1) -> None:
                bar.advance(task, n)

            def update(self, **kw) -> None:
                bar.update(task, **kw)

        yield _Handle()


def notice(message: str, *, quiet: bool = False) -> None:
    """One line about long or surprising work (a kernel compile, a memory estimate), shown like the bars:
    on stderr unless quiet. Library functions pass their own `quiet` (True by default), so only a caller
    that asked for progress, such as the CLI without --quiet, sees it."""
    if quiet:
        return
    sys.stderr.write(f"tokkit: {message}\n")
    sys.stderr.flush()
