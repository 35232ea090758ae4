"""`tokkit count`: pre-token counts over sharded inputs, on a local pool or Ray, into one table."""

from __future__ import annotations

from typing import List, Optional

import typer
from typing_extensions import Annotated

from . import app
from ._common import guarded, print_json, print_table
from .options import (
    Address,
    Alias,
    Backend,
    Json,
    Out,
    PreTokenizer,
    Quiet,
    ReadArgs,
    Retries,
    Workers,
    corpus_options,
    deprecated,
    quiet_of,
)


@app.command("count")
@guarded
@deprecated(Alias("--pattern", "pre_tokenizer", "--pre-tokenizer"))
@corpus_options
def count(
    paths: Annotated[Optional[List[str]], typer.Argument(
        help="Files, globs or folders (txt, jsonl, parquet; gz/zst).")] = None,
    out: Out = ...,
    pre_tokenizer: PreTokenizer = None,
    backend: Backend = "local",
    address: Address = None,
    workers: Workers = None,
    parts_per_file: int = typer.Option(1, help="Split each file into this many shards (by document index)."),
    dataset: List[str] = typer.Option([], help="A Hugging Face dataset (hub name or local folder); repeatable."),
    retries: Retries = 2,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Count pre-tokens (words) over many files in parallel; the table feeds `tokkit train bpe --counts`.

    The corpus limits (--max-documents, --max-bytes) apply to each shard. --pre-tokenizer also takes
    superword."""
    import time

    from ..dist.count import count_words

    t = time.perf_counter()
    # count_words checks --out, the workers and the reading options before it counts, and writes the table
    counts = count_words(paths or [], pre_tokenizer=pre_tokenizer or "gpt2", backend=backend, workers=workers,
                         address=address, parts_per_file=parts_per_file, datasets=dataset, retries=retries,
                         quiet=quiet_of(quiet, as_json), out=out, **read.kwargs())
    summary = dict(out=out, words=len(counts), total=counts.total, seconds=round(time.perf_counter() - t, 3),
                   backend=backend, top=counts.most_common(10))
    if as_json:
        print_json(summary)
    elif not quiet:
        print_table(f"word counts -> {out}", ["distinct", "total", "seconds", "backend"],
                    [[summary["words"], summary["total"], summary["seconds"], backend]])
