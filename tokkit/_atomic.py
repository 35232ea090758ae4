"""Atomic writes: a temporary file or folder in the same directory, renamed into place when complete,
so a crash at any moment leaves either the old artifact or the new one, never a partial one."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

from .errors import InputError


def _check_dir(path: str) -> str:
    parent = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(parent):
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as e:
            raise InputError(f"{parent}: cannot create the output folder ({e.strerror})") from None
    if not os.access(parent, os.W_OK):
        raise InputError(f"{parent}: the output folder is not writable")
    return parent


def _umask() -> int:
    # the only portable way to read the umask is to set it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _publish_mode(tmp: str, is_dir: bool) -> None:
    """Give the temporary file or folder the mode a plain open() / mkdir() would have: mkstemp and mkdtemp
    create them owner-only (0600 / 0700), which would make every artifact unreadable to other users."""
    with contextlib.suppress(OSError):
        os.chmod(tmp, (0o777 if is_dir else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary file path; on success it replaces `path`, on error it is removed."""
    path = os.fspath(path)
    parent = _check_dir(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        _publish_mode(tmp, False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary folder; on success it replaces the folder `path` (whose old content is removed
    only after the new one is complete), on error it is removed."""
    path = os.fspath(path).rstrip("/")
    parent = _check_dir(path)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    try:
        yield tmp
        _publish_mode(tmp, True)
        if os.path.isdir(path):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".old", dir=parent)
            os.rmdir(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
