"""Opening files: plain, gzip or zstd, found from paths, globs and directories."""

from __future__ import annotations

import glob
import gzip
import io
import os
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..errors import InputError

COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
FORMATS = {".txt": "txt", ".text": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".parquet": "parquet", ".pq": "parquet"}


def split_suffix(path: str | os.PathLike) -> tuple[str | None, str | None]:
    """(format, compression) from a file name such as ``a.jsonl.zst``; None where unknown."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = None
    if suffixes and suffixes[-1] in COMPRESSIONS:
        compression = COMPRESSIONS[suffixes.pop()]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    return fmt, compression


def open_binary(path: str | os.PathLike) -> IO[bytes]:
    """A binary stream of the file's decompressed bytes."""
    path = os.fspath(path)
    _, compression = split_suffix(path)
    try:
        if compression == "gzip":
            return gzip.open(path, "rb")
        if compression == "zstd":
            import zstandard

            return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True))
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None


def expand_paths(paths: str | os.PathLike | Iterable[str | os.PathLike], *, recursive: bool = True) -> list[str]:
    """Files named by paths, globs and directories, sorted within each argument, in argument order.

    A directory contributes the files under it whose format tokkit knows. Raises for an argument that
    matches nothing, naming it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for p in paths:
        p = os.fspath(p)
        if any(ch in p for ch in "*?["):
            found = sorted(f for f in glob.glob(p, recursive=True) if os.path.isfile(f))
            if not found:
                raise InputError(f"{p}: the pattern matches no file")
        elif os.path.isdir(p):
            pattern = "**/*" if recursive else "*"
            found = sorted(f for f in glob.glob(os.path.join(p, pattern), recursive=recursive)
                           if os.path.isfile(f) and split_suffix(f)[0] is not None)
            if not found:
                raise InputError(f"{p}: the directory holds no .txt, .jsonl or .parquet file")
        elif os.path.isfile(p):
            found = [p]
        else:
            raise InputError(f"{p}: no such file or directory")
        out.extend(found)
    return out


def iter_lines(path: str, *, errors: str = "strict") -> Iterator[tuple[int, int, str]]:
    """(line number from 1, byte offset of the line, line text without its newline) for each line.

    Invalid UTF-8 raises DecodeError with the absolute byte offset (in the decompressed stream) unless
    errors='replace'. Only '\\n' ends a line, so '\\r' and other separators stay in the text.
    """
    from ..errors import DecodeError

    offset = 0
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8", errors=errors)
            except UnicodeDecodeError as e:
                raise DecodeError(path, offset + e.start, e.reason) from None
            if text.endswith("\n"):
                text = text[:-1]
            yield lineno, offset, text
            offset += len(raw)


def read_text(path: str, *, errors: str = "strict") -> str:
    """The whole decompressed file as text, with DecodeError naming the byte offset."""
    from ..errors import DecodeError

    with open_binary(path) as fh:
        data = fh.read()
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as e:
        raise DecodeError(path, e.start, e.reason) from None
