"""Word counting over sharded inputs, locally or on Ray: pre-tokenize each shard, count, merge.

The merged table equals what one process counting everything would produce, whatever the sharding, because
counting is a sum over documents and each document lands in exactly one shard.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..corpora import WordCounts, read_documents
from ..corpora.documents import check_read_keywords
from ..corpora.io import expand_paths
from ..corpora.wordcounts import counts_format
from ..errors import EmptyInputError, InputError
from .backends import check_workers, run_tasks

BATCH_BYTES = 32 << 20  # texts handed to the counting kernel at a time: bounds a worker's memory


def check_pattern(name: str) -> None:
    """The split patterns are the numba pre-tokenizer's (tokkit.kernels.pretokenize): the same pieces as the
    native trainer, and as the `regex` module with those patterns."""
    from ..kernels.split_patterns import PATTERN_IDS

    if name not in PATTERN_IDS:
        raise InputError(f"unknown pre-tokenizer {name!r} (expected {', '.join(PATTERN_IDS)})")


@dataclass(frozen=True)
class Shard:
    """Documents of one file (or dataset) whose index i satisfies i % parts == part."""

    source: str
    part: int = 0
    parts: int = 1
    read: dict[str, Any] = field(default_factory=dict)
    hf: bool = False


def count_shard(shard: Shard, pattern: str) -> dict[str, int]:
    """Pre-token counts of one shard: the unit of work a worker runs."""
    from ..kernels.counting import count_words as count_kernel

    total: Counter = Counter()
    batch: list[str] = []
    size = 0

    def flush():
        nonlocal batch, size
        if batch:
            total.update(count_kernel(batch, pattern, threads=1))  # one thread: the shards are the parallelism
        batch, size = [], 0

    if shard.hf:
        from ..corpora import from_hf_dataset

        # a dataset has no file format, line mode or byte decoding: only the field names and the limits apply
        docs = from_hf_dataset(shard.source, **{k: shard.read[k] for k in ("text_field", "id_field")
                                                if k in shard.read})
        limits = {k: shard.read[k] for k in _LIMITS if shard.read.get(k) is not None}
        if limits:
            docs = docs.with_options(**limits)
    else:
        docs = read_documents(shard.source, **shard.read)
    try:
        for i, doc in enumerate(docs):
            if i % shard.parts == shard.part:
                batch.append(doc.text)
                size += len(doc.text)
                if size >= BATCH_BYTES:
                    flush()
    except EmptyInputError:  # this shard's part of the file had no documents: the others may
        pass
    flush()
    # pieces end on character boundaries of valid UTF-8 text, so each decodes on its own
    return {k.decode("utf-8", "surrogatepass"): v for k, v in total.items()}


_LIMITS = ("max_documents", "max_bytes", "sample", "seed", "split", "eval_fraction")


def make_shards(sources: str | Iterable[str], *, parts_per_file: int = 1, read: dict | None = None,
                datasets: Iterable[str] = ()) -> list[Shard]:
    """The shards of the inputs; paths, formats and read options are checked here, before any work."""
    if isinstance(parts_per_file, bool) or not isinstance(parts_per_file, int) or parts_per_file < 1:
        raise InputError(f"parts_per_file must be a whole number >= 1, got {parts_per_file!r}")
    read = dict(read or {})
    check_read_keywords(read)
    sources = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources or [])
    datasets = [datasets] if isinstance(datasets, str) else list(datasets)
    files = expand_paths(sources) if sources else []
    if files:
        read_documents(files, **read)  # unknown formats and bad options fail here, not in a worker
    shards = [Shard(f, p, parts_per_file, read) for f in files for p in range(parts_per_file)]
    shards += [Shard(d, p, parts_per_file, read, hf=True) for d in datasets for p in range(parts_per_file)]
    if not shards:
        raise InputError("nothing to count: give files, globs, folders or datasets")
    return shards


def count_words(sources: str | Iterable[str] = (), *, pre_tokenizer: str = "gpt2", backend: str = "local",
                workers: int | None = None, address: str | None = None, parts_per_file: int = 1,
                datasets: Iterable[str] = (), retries: int = 2, quiet: bool = True,
                out: str | os.PathLike | None = None, **read_options) -> WordCounts:
    """Pre-token counts over files/globs/folders (and Hugging Face datasets), one task per shard.

    read_options go to `read_documents` (format, per, text_field, errors, ...); for datasets only
    text_field, id_field and the limits apply. out: also write the table there (.tsv, .tsv.gz, .tsv.zst or
    .parquet), checked before any counting. Everything is validated before any work; a shard that fails
    on bad input fails the call at once, another failure after its retries: a partial table would silently
    differ from the single-process one.
    """
    pattern = pre_tokenizer
    check_pattern(pattern)  # unknown names fail before any work
    check_workers(workers)
    if backend not in ("local", "ray"):
        raise InputError(f"backend={backend!r}: expected 'local' or 'ray'")
    if out is not None:
        from .._atomic import check_out

        src = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources or [])
        check_out(out, kind="file", inputs=[s for s in src if not any(ch in os.fspath(s) for ch in "*?[")])
        counts_format(os.fspath(out))
    shards = make_shards(sources, parts_per_file=parts_per_file, read=read_options, datasets=datasets)
    if backend == "local":
        # load the compiled kernel once here: forked workers inherit it instead of each loading numba
        from ..kernels.counting import count_words as count_kernel

        count_kernel(["warm up"], pattern, threads=1)
    from .._progress import progress

    total: Counter = Counter()
    failures = []
    with progress("counting", total=len(shards), quiet=quiet, unit="shards") as bar:
        def collect(res):
            bar.advance()
            if res.ok:
                total.update(res.value)
            else:
                failures.append(res)

        run_tasks([(i, count_shard, (s, pattern)) for i, s in enumerate(shards)], backend=backend,
                  workers=workers, address=address, retries=retries, on_result=collect)
    if failures:
        f = min(failures, key=lambda r: (not r.input_error, r.key))  # bad input first: it is the cause
        if f.input_error:
            raise InputError(f.error)
        raise InputError(f"counting failed on {shards[f.key].source} (part {shards[f.key].part}) after "
                         f"{f.attempts} attempts: {f.error}")
    if not total:
        raise InputError("no words counted: every shard was empty")
    name = ",".join(sorted({os.path.basename(s.source) for s in shards}))[:200]
    counts = WordCounts(total, source=f"count[{pattern}]:{name}")
    if out is not None:
        counts.to_file(out)
    return counts
