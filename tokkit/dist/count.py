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
from ..corpora.io import expand_paths
from ..errors import InputError
from .backends import run_tasks

PATTERNS = {
    # GPT-2 (r50k/p50k) split pattern, tiktoken's public constant
    "gpt2": r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    # GPT-4o (o200k) split pattern
    "gpt4o": r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "whitespace": r"\S+|\s+",
}


def pretokenizer(name: str):
    """A function text -> list of pre-tokens for a pattern name (or 'none': the whole text)."""
    if name == "none":
        return lambda text: [text] if text else []
    if name not in PATTERNS:
        raise InputError(f"unknown pre-tokenizer {name!r} (expected {', '.join([*PATTERNS, 'none'])})")
    import regex

    return regex.compile(PATTERNS[name]).findall


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
    split = pretokenizer(pattern)
    counts: Counter = Counter()
    if shard.hf:
        from ..corpora import from_hf_dataset

        docs = from_hf_dataset(shard.source, **shard.read)
    else:
        docs = read_documents(shard.source, **shard.read)
    try:
        for i, doc in enumerate(docs):
            if i % shard.parts == shard.part:
                counts.update(split(doc.text))
    except InputError as e:
        if "no documents left" not in str(e):
            raise
    return dict(counts)


def make_shards(sources: Iterable[str], *, parts_per_file: int = 1, read: dict | None = None,
                datasets: Iterable[str] = ()) -> list[Shard]:
    if parts_per_file < 1:
        raise InputError(f"parts_per_file must be >= 1, got {parts_per_file}")
    read = dict(read or {})
    files = expand_paths(list(sources)) if sources else []
    shards = [Shard(f, p, parts_per_file, read) for f in files for p in range(parts_per_file)]
    shards += [Shard(d, p, parts_per_file, read, hf=True) for d in datasets for p in range(parts_per_file)]
    if not shards:
        raise InputError("nothing to count: give files, globs, folders or datasets")
    return shards


def count_words(sources: Iterable[str] = (), *, pattern: str = "gpt2", backend: str = "local",
                workers: int | None = None, address: str | None = None, parts_per_file: int = 1,
                datasets: Iterable[str] = (), retries: int = 2, quiet: bool = True,
                **read_options) -> WordCounts:
    """Pre-token counts over files/globs/folders (and Hugging Face datasets), one task per shard.

    read_options go to `read_documents` (format, per, text_field, errors, ...). Raises if any shard fails
    after its retries: a partial table would silently differ from the single-process one.
    """
    pretokenizer(pattern)  # unknown names fail before any work
    shards = make_shards(sources, parts_per_file=parts_per_file, read=read_options, datasets=datasets)
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
        f = failures[0]
        raise InputError(f"counting failed on {shards[f.key].source} (part {shards[f.key].part}) after "
                         f"{f.attempts} attempts: {f.error}")
    if not total:
        raise InputError("no words counted: every shard was empty")
    name = ",".join(sorted({os.path.basename(s.source) for s in shards}))[:200]
    return WordCounts(total, source=f"count[{pattern}]:{name}")
