"""Documents from files (txt, jsonl, parquet; plain, gzip, zstd) and Hugging Face datasets.

`read_documents` returns a re-iterable `Documents`: nothing is read until it is iterated, and each pass
reads the sources again, so memory stays bounded by one document whatever the corpus size.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .._extras import require
from .._progress import progress
from ..errors import EmptyInputError, InputError
from .io import expand_paths, iter_lines, read_text, split_suffix
from .split import keep_sample, split_of

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Document:
    """One document: an id, its text and metadata from the source.

    Attributes:
        id: the document's id (from `id_field`, else `file:line` or the file name).
        text: the text.
        meta: other fields of the source row (not part of equality or hashing).
    """
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class ReadOptions:
    format: str | None = None          # txt | jsonl | parquet; None: from the file name
    per: str = "file"                  # txt only: "file" (a document per file) or "line"
    text_field: str = "text"           # jsonl field / parquet column holding the text
    id_field: str | None = "id"        # jsonl field / parquet column holding the id, when present
    errors: str = "strict"             # strict: DecodeError on invalid UTF-8; replace: U+FFFD
    skip_empty: bool = True

    def __post_init__(self):
        if self.format not in (None, "txt", "jsonl", "parquet"):
            raise InputError(f"format={self.format!r}: expected txt, jsonl or parquet")
        if self.per not in ("file", "line"):
            raise InputError(f"per={self.per!r}: expected 'file' or 'line'")
        if self.errors not in ("strict", "replace"):
            raise InputError(f"errors={self.errors!r}: expected 'strict' or 'replace'")


def _format_of(path: str, opts: ReadOptions) -> str:
    fmt = opts.format or split_suffix(path)[0]
    if fmt is None:
        raise InputError(f"{path}: unknown format (expected .txt, .jsonl or .parquet, optionally .gz or .zst);"
                         " pass format=... to say which")
    return fmt


def _read_txt(path: str, opts: ReadOptions) -> Iterator[Document]:
    if opts.per == "file":
        yield Document(path, read_text(path, errors=opts.errors), {"source": path})
        return
    for lineno, _, line in iter_lines(path, errors=opts.errors):
        yield Document(f"{path}:{lineno}", line, {"source": path, "line": lineno})


def _read_jsonl(path: str, opts: ReadOptions) -> Iterator[Document]:
    for lineno, offset, line in iter_lines(path, errors=opts.errors):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(
                f"{path}:{lineno}: invalid JSON at column {e.colno} (byte offset {offset}): {e.msg}") from None
        if not isinstance(rec, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object per line, got {type(rec).__name__}")
        if opts.text_field not in rec:
            raise InputError(f"{path}:{lineno}: no field {opts.text_field!r} (fields: {', '.join(map(str, rec))})")
        text = rec[opts.text_field]
        if not isinstance(text, str):
            raise InputError(f"{path}:{lineno}: field {opts.text_field!r} is {type(text).__name__}, not a string")
        if "\\u" in line and (m := _SURROGATE.search(text)):
            # only a JSON escape makes one: valid UTF-8 never encodes a lone surrogate, and downstream
            # encoders either crash on it or (native training) learn its CESU-8 bytes
            if opts.errors == "strict":
                raise InputError(f"{path}:{lineno}: lone surrogate \\u{ord(m.group()):04x} (a JSON escape) at "
                                 f"character {m.start()} of field {opts.text_field!r}; pass errors='replace' "
                                 "(CLI: --replace-invalid) to substitute U+FFFD instead")
            text = _SURROGATE.sub("\ufffd", text)
        doc_id = rec.get(opts.id_field) if opts.id_field else None
        doc_id = f"{path}:{lineno}" if doc_id is None else str(doc_id)
        meta = {k: v for k, v in rec.items() if k != opts.text_field}
        meta.update(source=path, line=lineno)
        yield Document(doc_id, text, meta)


def _read_parquet(path: str, opts: ReadOptions) -> Iterator[Document]:
    pq = require("pyarrow.parquet", "parquet", purpose=f"to read {path}")
    import io as _io

    from .io import open_binary

    with open_binary(path) as raw:
        # parquet needs random access: a compressed file is decompressed into memory first
        fh = raw if split_suffix(path)[1] is None else _io.BytesIO(raw.read())
        try:
            pf = pq.ParquetFile(fh)
        except Exception as e:  # pyarrow raises several types for a file that is not parquet
            raise InputError(f"{path}: not a readable parquet file ({e})") from None
        names = pf.schema_arrow.names
        if opts.text_field not in names:
            raise InputError(f"{path}: no column {opts.text_field!r} (columns: {', '.join(names)})")
        cols = [opts.text_field] + ([opts.id_field] if opts.id_field in names else [])
        row = 0
        for batch in pf.iter_batches(columns=cols, batch_size=4096):
            data = batch.to_pydict()
            ids = data.get(opts.id_field) if opts.id_field in data else None
            for i, text in enumerate(data[opts.text_field]):
                if text is not None and not isinstance(text, str):
                    raise InputError(f"{path}: row {row}: column {opts.text_field!r} is not a string")
                doc_id = str(ids[i]) if ids is not None and ids[i] is not None else f"{path}:{row}"
                yield Document(doc_id, text or "", {"source": path, "row": row})
                row += 1


_READERS: dict[str, Callable[[str, ReadOptions], Iterator[Document]]] = {
    "txt": _read_txt, "jsonl": _read_jsonl, "parquet": _read_parquet,
}


class Documents:
    """A re-iterable stream of documents with limits, sampling and a split applied in that order.

    Sample and split first (by id hash, so independent of input order), then `max_documents` and `max_bytes`.
    Each iteration reads the sources again, so memory stays bounded by one document.

    Args:
        make: a callable returning a fresh iterator of `Document`s (called once per iteration).
        describe: what the documents are, for messages (e.g. the paths).
        max_documents: stop after this many documents.
        max_bytes: stop once this many UTF-8 bytes of text have been yielded.
        sample: keep this fraction of documents (by id hash).
        seed: the seed of sampling and splitting.
        split: "train" or "eval": keep that side of the id-hash split.
        eval_fraction: the share of documents on the eval side.
        skip_empty: drop documents whose text is empty.
        total_files: the number of source files, for progress.
        quiet: no progress notices.
    """

    def __init__(self, make: Callable[[], Iterator[Document]], *, describe: str,
                 max_documents: int | None = None, max_bytes: int | None = None,
                 sample: float | None = None, seed: int = 0, split: str | None = None,
                 eval_fraction: float = 0.1, skip_empty: bool = True, total_files: int | None = None,
                 quiet: bool = True):
        if split not in (None, "train", "eval"):
            raise InputError(f"split={split!r}: expected 'train', 'eval' or None")
        if max_documents is not None and max_documents < 1:
            raise InputError(f"max_documents must be at least 1, got {max_documents}")
        if max_bytes is not None and max_bytes < 1:
            raise InputError(f"max_bytes must be at least 1, got {max_bytes}")
        if sample is not None and not 0 < sample <= 1:
            raise InputError(f"sample must lie in (0, 1], got {sample}")
        if not 0 <= eval_fraction <= 1:
            raise InputError(f"eval_fraction must lie in [0, 1], got {eval_fraction}")
        self._make, self.describe = make, describe
        self.max_documents, self.max_bytes = max_documents, max_bytes
        self.sample, self.seed, self.split, self.eval_fraction = sample, seed, split, eval_fraction
        self.skip_empty, self.total_files, self.quiet = skip_empty, total_files, quiet

    def __iter__(self) -> Iterator[Document]:
        n = nbytes = 0
        for doc in self._make():
            if self.skip_empty and not doc.text:
                continue
            if self.sample is not None and not keep_sample(doc.id, self.sample, self.seed):
                continue
            if self.split is not None and split_of(doc.id, self.eval_fraction, self.seed) != self.split:
                continue
            size = len(doc.text.encode("utf-8", "surrogatepass"))
            if self.max_bytes is not None and nbytes + size > self.max_bytes:
                if n == 0:  # one document larger than the budget: cut it rather than give nothing
                    cut = doc.text.encode("utf-8")[: self.max_bytes].decode("utf-8", "ignore")
                    yield Document(doc.id, cut, doc.meta)
                    n += 1
                break
            yield doc
            n += 1
            nbytes += size
            if self.max_documents is not None and n >= self.max_documents:
                break
        if n == 0:
            raise EmptyInputError(f"{self.describe}: no documents left after reading and filtering")

    def texts(self) -> Iterator[str]:
        """The texts of the documents, in order.

        Returns:
            An iterator of strings.
        """
        for d in self:
            yield d.text

    def with_options(self, **kw) -> "Documents":
        """A copy with some limits, sampling or split changed (e.g. `split="eval"`).

        Args:
            **kw: any keyword of the constructor except `make` and `describe`.

        Returns:
            A new `Documents` over the same sources.
        """
        args = dict(max_documents=self.max_documents, max_bytes=self.max_bytes, sample=self.sample,
                    seed=self.seed, split=self.split, eval_fraction=self.eval_fraction,
                    skip_empty=self.skip_empty, total_files=self.total_files, quiet=self.quiet)
        args.update(kw)
        return Documents(self._make, describe=self.describe, **args)

    def __repr__(self) -> str:
        return f"Documents({self.describe})"


def read_documents(paths: str | os.PathLike | Iterable[str | os.PathLike], *, format: str | None = None,
                   per: str = "file", text_field: str = "text", id_field: str | None = "id",
                   errors: str = "strict", max_documents: int | None = None, max_bytes: int | None = None,
                   sample: float | None = None, seed: int = 0, split: str | None = None,
                   eval_fraction: float = 0.1, quiet: bool = True, **unknown) -> Documents:
    """Documents from files, globs and directories.

    Paths and keywords are checked now (a missing path or a misspelt keyword raises at once); the text is read
    when iterated.

    Args:
        paths: a file, glob or folder, or several: .txt, .jsonl, .parquet; plain, .gz or .zst.
        format: "txt", "jsonl" or "parquet"; None: from each file name.
        per: txt only: "file" (a document per file) or "line" (a document per line).
        text_field: the jsonl field or parquet column holding the text.
        id_field: the jsonl field or parquet column holding the id, when present.
        errors: "strict" (invalid UTF-8 raises) or "replace" (U+FFFD).
        max_documents: stop after this many documents.
        max_bytes: stop after this many bytes of text.
        sample: keep this fraction of documents (by id hash).
        seed: the seed of sampling and splitting.
        split: "train" or "eval": that side of the id-hash split.
        eval_fraction: the share of documents on the eval side.
        quiet: no progress notices.
        **unknown: refused: a misspelt keyword raises with the closest one.

    Returns:
        A lazy, re-iterable `Documents`.

    Raises:
        InputError: a path that does not exist, an unknown keyword or a bad value.

    Example:
        >>> docs = read_documents("legal/*.jsonl.gz", split="train", max_bytes=50_000_000)
        >>> for doc in docs: ...
    """
    check_read_keywords(unknown)
    opts = ReadOptions(format=format, per=per, text_field=text_field, id_field=id_field, errors=errors)
    files = expand_paths(paths)
    for f in files:
        _format_of(f, opts)  # unknown formats fail before any reading

    def make() -> Iterator[Document]:
        with progress("reading", total=len(files), quiet=quiet or len(files) < 2, unit="files") as bar:
            for f in files:
                yield from _READERS[_format_of(f, opts)](f, opts)
                bar.advance(1)

    describe = files[0] if len(files) == 1 else f"{len(files)} files ({files[0]}, ...)"
    return Documents(make, describe=describe, max_documents=max_documents, max_bytes=max_bytes,
                     sample=sample, seed=seed, split=split, eval_fraction=eval_fraction,
                     total_files=len(files), quiet=quiet)


READ_KEYWORDS = ("format", "per", "text_field", "id_field", "errors", "max_documents", "max_bytes", "sample",
                 "seed", "split", "eval_fraction", "quiet")


def check_read_keywords(kw) -> None:
    """InputError naming the first keyword that `read_documents` does not take (with the closest one)."""
    for k in kw:
        if k not in READ_KEYWORDS:
            close = difflib.get_close_matches(k, READ_KEYWORDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of {', '.join(READ_KEYWORDS)})"
            raise InputError(f"read_documents: unknown keyword {k!r}{hint}")


def from_texts(texts: Iterable[str], *, name: str = "texts", **limits) -> Documents:
    """Documents from strings in memory, with ids `name:0`, `name:1`, ...

    Args:
        texts: the texts.
        name: the prefix of the ids.
        **limits: the limits, sampling and split keywords of `Documents`.

    Returns:
        A re-iterable `Documents` (the texts are kept in a list).
    """
    texts = list(texts)
    return Documents(lambda: (Document(f"{name}:{i}", t) for i, t in enumerate(texts)), describe=name, **limits)


def load_hf_split(source: str, config: str | None, split: str, *, streaming: bool = False):
    """One split of a Hugging Face dataset: a folder written by `save_to_disk`, else whatever
    `datasets.load_dataset` reads (a hub name, a folder of data files), streamed where asked."""
    datasets = require("datasets", "hf", purpose="to read a Hugging Face dataset")

    if os.path.isdir(source) and (os.path.exists(os.path.join(source, "dataset_info.json"))
                                  or os.path.exists(os.path.join(source, "dataset_dict.json"))):
        ds = datasets.load_from_disk(source)
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise InputError(f"{source}: no split {split!r} (splits: {', '.join(ds)})")
            ds = ds[split]
        return ds
    # a path, not a hub name
    if source.startswith((".", os.sep, "~")) and not os.path.exists(os.path.expanduser(source)):
        raise InputError(f"{source}: no such dataset folder")
    try:
        return datasets.load_dataset(source, config, split=split, streaming=streaming)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - datasets / the hub raise many types for a missing or unreachable
        # dataset (FileNotFoundError, DatasetNotFoundError, ConnectionError, ValueError): bad input, one line,
        # never retried as a task failure
        msg = " ".join(str(e).split())[:200]
        raise InputError(f"{source}: cannot load this dataset ({type(e).__name__}: {msg}); give a local "
                         "folder of data files or one written by save_to_disk") from e


def from_hf_dataset(path_or_name: str, *, config: str | None = None, split: str = "train",
                    text_field: str = "text", id_field: str | None = "id", streaming: bool = True,
                    **limits) -> Documents:
    """Documents from a Hugging Face dataset.

    Args:
        path_or_name: a hub name, a folder written by `save_to_disk`, or a folder of data files that
            `datasets.load_dataset` reads.
        config: the dataset configuration.
        split: the dataset's split to read.
        text_field: the column holding the text.
        id_field: the column holding the id, when present.
        streaming: stream the rows where the source allows it.
        **limits: the limits, sampling and split keywords of `Documents`.

    Returns:
        A re-iterable `Documents`.

    Raises:
        InputError: `datasets` is not installed (the `hf` extra) or the source cannot be read.
    """
    require("datasets", "hf", purpose="to read a Hugging Face dataset")

    def load():
        return load_hf_split(path_or_name, config, split, streaming=streaming)

    def make() -> Iterator[Document]:
        ds = load()
        for i, rec in enumerate(ds):
            if text_field not in rec:
                raise InputError(f"{path_or_name}: no column {text_field!r} (columns: {', '.join(rec)})")
            doc_id = rec.get(id_field) if id_field else None
            doc_id = f"{path_or_name}:{split}:{i}" if doc_id is None else str(doc_id)
            yield Document(doc_id, rec[text_field] or "", {"source": path_or_name, "row": i})

    return Documents(make, describe=f"{path_or_name} [{split}]", **limits)
