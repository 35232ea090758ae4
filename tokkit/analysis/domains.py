"""Domain comparison (KL3M-style): tokens per character of N tokenizers over M document sets, and how
many fewer tokens each needs than a chosen baseline."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping, Sequence

from .._progress import progress
from ..errors import EmptyInputError, InputError
from ..tokenizer import Tokenizer, load_tokenizer


@dataclass
class CompareResult:
    """Tokens per character of each tokenizer on each document set (what `compare` returns).

    Attributes:
        tokenizers: the tokenizers' names.
        sets: the document sets' names.
        baseline: the tokenizer the others are compared with.
        rows: one per (tokenizer, set): tokens, characters, tokens_per_character, percent fewer than baseline.
        averages: one per tokenizer: the mean over sets.
    """
    tokenizers: list[str]
    sets: list[str]
    baseline: str
    rows: list[dict]               # one per (tokenizer, set)
    averages: list[dict] = field(default_factory=list)   # one per tokenizer: mean over sets

    def value(self, tokenizer: str, set_name: str, key: str = "tokens_per_character") -> float:
        """One figure of one tokenizer on one set.

        Args:
            tokenizer: the tokenizer's name.
            set_name: the set's name.
            key: the row's field.

        Returns:
            The value.

        Raises:
            KeyError: no such (tokenizer, set).
        """
        for r in self.rows:
            if r["tokenizer"] == tokenizer and r["set"] == set_name:
                return r[key]
        raise KeyError((tokenizer, set_name))

    def as_dict(self) -> dict:
        """The result as a JSON-ready dict.

        Returns:
            Field name -> value.
        """
        return asdict(self)


def _set_name(path: str) -> str:
    base = os.path.basename(os.path.normpath(path))
    for suf in (".gz", ".zst", ".jsonl", ".txt", ".parquet"):
        if base.endswith(suf):
            base = base[: -len(suf)]
    return base


def compare(tokenizers: Sequence[Tokenizer | str], sets: Mapping[str, Iterable[str] | str] | Sequence[str], *,
            baseline: str | None = None, max_documents: int | None = 100, text_field: str = "text",
            quiet: bool = True) -> CompareResult:
    """Tokens per character of tokenizers on document sets, and how many fewer tokens than a baseline.

    Tokens per character is total tokens / total characters of the set; percent fewer is
    100 * (1 - tokens / baseline's).

    Args:
        tokenizers: `Tokenizer`s or anything `load_tokenizer` takes.
        sets: {name: texts or path} or a list of paths (files, globs, folders) named by their file stem.
        baseline: a tokenizer name; default the first.
        max_documents: the first N documents of each set (KL3M used 100); None for all.
        text_field: the jsonl field holding the text.
        quiet: no progress notices.

    Returns:
        The `CompareResult`.

    Raises:
        InputError: an unknown baseline, an empty set, or a path that does not exist.
    """
    from ..corpora import read_documents

    toks = [load_tokenizer(t) for t in tokenizers]
    if not toks:
        raise InputError("compare: no tokenizers")
    names = [t.name for t in toks]
    if len(set(names)) != len(names):
        raise InputError(f"compare: two tokenizers share a name ({', '.join(names)}); pass name= to load_tokenizer")
    baseline = baseline or names[0]
    if baseline not in names:
        raise InputError(f"baseline {baseline!r} is not one of the tokenizers ({', '.join(names)})")
    if not isinstance(sets, Mapping):
        sets = {_set_name(p): p for p in sets}
    if not sets:
        raise InputError("compare: no document sets")
    texts: dict[str, list[str]] = {}
    for name, src in sets.items():
        if isinstance(src, (str, os.PathLike)):
            docs = read_documents(src, max_documents=max_documents, text_field=text_field)
            texts[name] = [d.text for d in docs]
        else:
            texts[name] = list(src)[: max_documents or None]
        if not any(texts[name]):
            raise EmptyInputError(f"document set {name!r}: no text")
    rows = []
    with progress("comparing", total=len(toks) * len(texts), quiet=quiet, unit="cells") as bar:
        for tok in toks:
            for name, ts in texts.items():
                chars = sum(len(t) for t in ts)
                tokens = sum(tok.count_batch(ts))
                rows.append(dict(tokenizer=tok.name, set=name, documents=len(ts), characters=chars, tokens=tokens,
                                 tokens_per_character=tokens / chars if chars else math.nan))
                bar.advance()
    base = {r["set"]: r["tokens"] for r in rows if r["tokenizer"] == baseline}
    for r in rows:
        r["percent_fewer"] = 100.0 * (1.0 - r["tokens"] / base[r["set"]]) if base[r["set"]] else math.nan
    averages = []
    for n in names:
        mine = [r for r in rows if r["tokenizer"] == n]
        averages.append(dict(tokenizer=n, tokens_per_character=sum(r["tokens_per_character"] for r in mine) / len(mine),
                             percent_fewer=sum(r["percent_fewer"] for r in mine) / len(mine)))
    return CompareResult(names, list(texts), baseline, rows, averages)
