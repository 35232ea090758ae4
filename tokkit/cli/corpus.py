"""`tokkit corpus ...`: look at corpora before training on them."""

from __future__ import annotations

from typing import List

import typer
from typing_extensions import Annotated

from . import app
from ._common import guarded, print_json, print_table
from .options import Json, Nfc, Quiet, ReadArgs, corpus_options, quiet_of

corpus_app = typer.Typer(no_args_is_help=True, help="Inspect corpora (files, UDHR, NTREX, FLORES+).")
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("stats")
@guarded
@corpus_options
def stats(
    paths: Annotated[List[str], typer.Argument(help="Files, globs, folders, or a parallel corpus: udhr, ntrex, "
                                               "flores, or a folder in their layout.")],
    nfc: Nfc = False,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Documents, bytes, characters and scripts; languages of a parallel corpus."""
    from ..corpora import ParallelCorpus, corpus_stats, open_corpus

    src = open_corpus(paths, **read.kwargs(), quiet=quiet_of(quiet, as_json))
    if isinstance(src, ParallelCorpus) and nfc:
        src = src.normalized("NFC")
    s = corpus_stats(src, quiet=quiet_of(quiet, as_json))
    if as_json:
        print_json(s)
        return
    if quiet:
        return
    if s["kind"] == "parallel":
        rows = sorted(s["per_language"], key=lambda r: r["code"])
        print_table(f"{s['name']}: {s['languages']} languages, {s['units']} aligned units",
                    ["code", "name", "script", "dir", "units", "characters", "bytes"],
                    [[r["code"], r["name"], r["script"], r["direction"], r["units"], r["characters"], r["bytes"]]
                     for r in rows])
    scripts = ", ".join(f"{k} {v / max(1, sum(s['scripts'].values())):.1%}" for k, v in s["scripts"].items())
    print_table(f"{s['name']}", ["documents", "bytes", "characters", "scripts"],
                [[s["documents"], s["bytes"], s["characters"], scripts]])
