"""`tokkit count`: pre-token counts over sharded inputs, on a local pool or Ray, into one table."""

from __future__ import annotations

from typing import List, Optional

import typer

from . import app
from ._common import guarded, print_json, print_table


@app.command("count")
@guarded
def count(
    paths: List[str] = typer.Argument(None, help="Files, globs or folders (txt, jsonl, parquet; gz/zst)."),
    out: str = typer.Option(..., "--out", "-o", help="Counts table to write: .parquet or .tsv."),
    pattern: str = typer.Option("gpt2", help="Pre-tokenizer: gpt2, gpt4o, whitespace, superword or none."),
    backend: str = typer.Option("local", help="local (process pool) or ray."),
    address: Optional[str] = typer.Option(None, help="Address of an existing Ray cluster (default: start one)."),
    workers: Optional[int] = typer.Option(None, help="Local processes / Ray CPUs (default: all cores)."),
    parts_per_file: int = typer.Option(1, help="Split each file into this many shards (by document index)."),
    dataset: List[str] = typer.Option([], help="A Hugging Face dataset (hub name or local folder); repeatable."),
    format: Optional[str] = typer.Option(None, help="txt, jsonl or parquet (default: from the file name)."),
    per_line: bool = typer.Option(False, "--per-line", help="txt: a document per line."),
    text_field: str = typer.Option("text", help="jsonl field / parquet column with the text."),
    split: Optional[str] = typer.Option(None, help="Only the 'train' or 'eval' side of the document split."),
    retries: int = typer.Option(2, help="Extra attempts for a failed shard."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Count pre-tokens (words) over many files in parallel; the table feeds `tokkit train native`."""
    import time

    from ..dist.count import count_words

    t = time.perf_counter()
    counts = count_words(paths or [], pattern=pattern, backend=backend, workers=workers, address=address,
                         parts_per_file=parts_per_file, datasets=dataset, retries=retries, quiet=quiet,
                         format=format, per="line" if per_line else "file", text_field=text_field, split=split)
    counts.to_file(out)
    summary = dict(out=out, words=len(counts), total=counts.total, seconds=round(time.perf_counter() - t, 3),
                   backend=backend, top=counts.most_common(10))
    if as_json:
        print_json(summary)
    else:
        print_table(f"word counts -> {out}", ["distinct", "total", "seconds", "backend"],
                    [[summary["words"], summary["total"], summary["seconds"], backend]])
