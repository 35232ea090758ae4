"""`tokkit corpus ...`: look at corpora before training on them."""

from __future__ import annotations

from typing import List, Optional

import typer

from . import app
from ._common import guarded, print_json, print_table

corpus_app = typer.Typer(no_args_is_help=True, help="Inspect corpora (files, UDHR, NTREX, FLORES+).")
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("stats")
@guarded
def stats(
    paths: List[str] = typer.Argument(..., help="Files, globs, folders, or a parallel corpus: udhr, ntrex, "
                                      "flores, or a folder in their layout."),
    format: Optional[str] = typer.Option(None, help="txt, jsonl or parquet (default: from the file name)."),
    per_line: bool = typer.Option(False, "--per-line", help="txt: a document per line, not per file."),
    text_field: str = typer.Option("text", help="jsonl field / parquet column with the text."),
    max_documents: Optional[int] = typer.Option(None, help="Stop after this many documents."),
    max_bytes: Optional[int] = typer.Option(None, help="Stop after this many bytes of text."),
    sample: Optional[float] = typer.Option(None, help="Keep this fraction of documents (by id hash)."),
    seed: int = typer.Option(0, help="Seed of sampling and splitting."),
    split: Optional[str] = typer.Option(None, help="Only the 'train' or 'eval' side of the document split."),
    eval_fraction: float = typer.Option(0.1, help="Share of documents in the eval split."),
    replace_invalid: bool = typer.Option(False, "--replace-invalid", help="Replace invalid UTF-8 with U+FFFD."),
    nfc: bool = typer.Option(False, "--nfc", help="NFC-normalize a parallel corpus."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Documents, bytes, characters and scripts; languages of a parallel corpus."""
    from ..corpora import ParallelCorpus, corpus_stats, open_corpus

    src = open_corpus(paths, format=format, per="line" if per_line else "file", text_field=text_field,
                      max_documents=max_documents, max_bytes=max_bytes, sample=sample, seed=seed,
                      split=split, eval_fraction=eval_fraction,
                      errors="replace" if replace_invalid else "strict", quiet=quiet)
    if isinstance(src, ParallelCorpus) and nfc:
        src = src.normalized("NFC")
    s = corpus_stats(src, quiet=quiet or as_json)
    if as_json:
        print_json(s)
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
