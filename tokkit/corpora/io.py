"""Opening files: plain, gzip or zstd, found from paths, globs and directories."""

from __future__ import annotations

import glob
import io
import os
import zlib
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


_MAGIC = {"gzip": (b"\x1f\x8b",), "zstd": (b"\x28\xb5\x2f\xfd",) + tuple(
    bytes([0x50 + i, 0x2a, 0x4d, 0x18]) for i in range(16))}  # zstd frames and skippable frames
_CHUNK = 1 << 16  # compressed bytes fed to the decompressor at a time


class _Decompressed(io.RawIOBase):
    """The decompressed bytes of a gzip or zstd file, checked to the end of the stream: a file that ends
    inside a frame (truncated) or holds damaged data raises InputError naming the file and how far it got,
    where gzip and zstandard would raise EOFError / BadGzipFile / ZstdError, or (zstd) stop silently."""

    def __init__(self, path: str, kind: str, fh: IO[bytes]):
        self._path, self._kind, self._fh = path, kind, fh
        self._size = os.fstat(fh.fileno()).st_size
        self._read_in = 0      # compressed bytes consumed
        self._given = 0        # decompressed bytes handed out
        self._pending = b""
        self._pos = 0
        self._dec = None       # the decompressor of the current frame / member; None between them
        self._done = False

    def readable(self) -> bool:
        return True

    def _new(self):
        if self._kind == "gzip":
            return zlib.decompressobj(wbits=31)
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()

    def _fail(self, reason: str) -> InputError:
        return InputError(f"{self._path}: {reason} after {self._read_in:,} of {self._size:,} compressed bytes "
                          f"({self._given:,} bytes decompressed); the file is truncated or damaged")

    def _fill(self) -> None:
        data = self._fh.read(_CHUNK)
        self._read_in += len(data)
        if not data:
            if self._dec is not None:
                raise self._fail(f"the {self._kind} stream ends before its end marker")
            self._done = True
            return None
        return self._feed(data)

    def _feed(self, data: bytes) -> None:
        out = []
        while data:
            if self._dec is None:
                if self._kind == "gzip" and not data.strip(b"\0"):
                    return None  # zero padding after the last member (gzip and tar writers add it)
                self._dec = self._new()
            try:
                out.append(self._dec.decompress(data))
            except Exception as e:  # zlib.error, zstandard.ZstdError: damaged data
                raise self._fail(f"invalid {self._kind} data ({e})") from None
            if self._dec.eof:
                data = self._dec.unused_data
                self._dec = None
            else:
                data = b""
        self._pending = b"".join(out)
        self._pos = 0
        return None

    def readinto(self, b) -> int:
        while self._pos >= len(self._pending):
            if self._done:
                return 0
            self._fill()
        n = min(len(b), len(self._pending) - self._pos)
        b[:n] = self._pending[self._pos:self._pos + n]
        self._pos += n
        self._given += n
        return n

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()


def open_binary(path: str | os.PathLike) -> IO[bytes]:
    """A binary stream of the file's decompressed bytes. A compressed stream is checked to its end
    (truncated or damaged: InputError naming the file and how far it got), and a .gz/.zst name on a file
    that is not gzip/zstd is an InputError before anything is read."""
    path = os.fspath(path)
    _, compression = split_suffix(path)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    if compression is None:
        return fh
    head = fh.peek(4)[:4]
    if head and not any(head[: len(m)] == m[: len(head)] for m in _MAGIC[compression]):
        fh.close()
        raise InputError(f"{path}: the name says {compression} but the file is not {compression} data "
                         f"(it starts with {head!r}); rename it or compress it")
    if compression == "zstd":
        import zstandard  # noqa: F401  (a missing package fails here, before any reading)
    return io.BufferedReader(_Decompressed(path, compression, fh), buffer_size=_CHUNK)


def expand_paths(paths: str | os.PathLike | Iterable[str | os.PathLike], *, recursive: bool = True) -> list[str]:
    """Files named by paths, globs and directories, sorted within each argument, in argument order.

    A directory contributes the files under it whose format tokkit knows. Raises for an argument that
    matches nothing, naming it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    elif isinstance(paths, (bytes, bytearray)):
        raise InputError("paths: expected a path, a glob or a list of them, got bytes")
    paths = list(paths)
    if not paths:
        raise InputError("no input: give at least one file, glob or folder")
    out: list[str] = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise InputError(f"paths: expected file names, got {type(p).__name__} {p!r:.60}")
        p = os.fspath(p)
        if not p:
            raise InputError("an empty path was given")
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
