"""Output paths that are tokkit's own, written atomically.

`check_out` validates an output path before any work (not empty, not `/` or the working directory or one
of its parents, not inside an input, an existing folder only when it holds a tokkit card, a writable
parent). `atomic_path` writes a file and `atomic_dir` a folder in a temporary sibling, fsyncs it, and puts
it in place in one step:

- a folder replaces the old one WHOLE with `renameat2(RENAME_EXCHANGE)` (Linux; one atomic step, so `out`
  always names a complete artifact), else with two renames whose gap the next run repairs;
- every temporary folder is named `.<out>.tokkit-<pid>-<random>.tmp` (or `.old`) and held with `flock` while
  its writer lives, so the next run tells a dead writer's leftovers (removed, or restored when `out` is
  missing) from a live writer's work (left alone);
- two writers to one `out` whose writes overlap end with the first one's artifact and an InputError for the
  second (compare-and-swap on the folder's inode under a short lock on the parent folder).

Fault injection for tests: TOKKIT_ATOMIC_FAULT=<point> kills the process with SIGKILL at that point
(`dir-written`, `dir-swapped`, `fallback-between-renames`, `file-written`); TOKKIT_ATOMIC_EXCHANGE=0
forces the two-rename fallback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
from typing import Iterable, Iterator

from .errors import InputError

CARD_NAME = "tokkit.json"   # the card that marks a folder as a tokkit artifact (written by train.artifacts)

_FORCED: set[str] = set()   # folders check_out(force=True) allowed to be replaced in this process

try:
    import fcntl
except ImportError:  # Windows: no flock; liveness then falls back to "leave it alone"
    fcntl = None  # type: ignore[assignment]


# ---------------------------------------------------------------- checks before any work

def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def is_tokkit_folder(path: str | os.PathLike) -> bool:
    """A folder holding a tokkit card (tokkit.json with a `tokkit_card` field)."""
    card = os.path.join(os.fspath(path), CARD_NAME)
    try:
        with open(card, encoding="utf-8") as fh:
            return isinstance(d := json.load(fh), dict) and "tokkit_card" in d
    except (OSError, ValueError):
        return False


def _nearest_existing(path: str) -> str:
    p = path
    while not os.path.exists(p):
        up = os.path.dirname(p)
        if up == p:
            break
        p = up
    return p


def check_out(path: str | os.PathLike | None, *, inputs: Iterable[str | os.PathLike] = (), kind: str = "dir",
              force: bool = False, what: str = "--out") -> str:
    """Validate an output path before any work; returns it as a string. Raises one-line InputErrors.

    kind: "dir" (an artifact folder, replaced whole) or "file". inputs: paths the run reads; the output
    may not be one of them nor lie inside an input folder (the next run would read it back as input).
    An existing folder is accepted when it is empty or holds a tokkit card; with force=True any folder
    is (and this process may then replace it: `atomic_dir` consults the same allowance).
    """
    if kind not in ("dir", "file"):
        raise InputError(f"kind={kind!r}: expected 'dir' or 'file'")
    if path is None or not str(os.fspath(path)).strip():
        raise InputError(f"{what}: empty output path")
    p = os.fspath(path)
    real = _real(p)
    cwd = _real(os.getcwd())
    if real == os.path.dirname(real) or _inside(cwd, real) or p.rstrip(os.sep) in (".", ".."):
        where = "/" if real == os.sep else "the working directory or a parent of it"
        raise InputError(f"{what} {p}: refusing to write over {where}")
    for src in inputs:
        s = _real(os.fspath(src))
        if real == s or (os.path.isdir(s) and _inside(real, s)):
            raise InputError(f"{what} {p}: lies inside the input {os.fspath(src)} "
                             "(a later run would read it back as input)")
    if os.path.lexists(p) and not os.path.exists(p):
        raise InputError(f"{what} {p}: a dangling symbolic link")
    if kind == "dir":
        if os.path.exists(p) and not os.path.isdir(p):
            raise InputError(f"{what} {p}: an existing file, expected a folder (tokkit writes an artifact folder here)")
        if os.path.isdir(p) and not force and not is_tokkit_folder(p) and os.listdir(p):
            raise InputError(f"{what} {p}: an existing folder without a tokkit card ({CARD_NAME}); "
                             "tokkit replaces only its own artifacts (pass --force to replace it whole)")
    elif os.path.isdir(p):
        raise InputError(f"{what} {p}: an existing folder, expected a file name")
    base = _nearest_existing(os.path.dirname(os.path.abspath(p)))
    if not os.path.isdir(base):
        raise InputError(f"{what} {p}: cannot create the output folder ({base} is a file)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{what} {p}: the folder {base} is not writable")
    if force and kind == "dir":
        _FORCED.add(real)
    return p


# ---------------------------------------------------------------- helpers

def _fault(point: str) -> None:
    if os.environ.get("TOKKIT_ATOMIC_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


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


def _fsync_path(path: str, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: str) -> None:
    """Every regular file and folder under root (symbolic links are not followed), deepest first."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False, followlinks=False):
        for f in filenames:
            full = os.path.join(dirpath, f)
            if stat.S_ISREG(os.lstat(full).st_mode):
                _fsync_path(full)
        _fsync_path(dirpath, directory=True)


def _make_parent(path: str) -> str:
    parent = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(parent):
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as e:
            raise InputError(f"{parent}: cannot create the output folder ({e.strerror})") from None
    if not os.access(parent, os.W_OK):
        raise InputError(f"{parent}: the output folder is not writable")
    return parent


def _lock(fd: int, blocking: bool = True) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def _held_open(path: str) -> int | None:
    """An fd of path (file or folder) locked by this process, or None when another live process holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    if _lock(fd, blocking=False):
        return fd
    os.close(fd)
    return None


@contextlib.contextmanager
def _parent_lock(parent: str) -> Iterator[None]:
    """A short exclusive section per parent folder: the swap and the repair of leftovers."""
    if fcntl is None:
        yield
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        _lock(fd)
        yield
    finally:
        os.close(fd)


def _leftover_re(base: str, kinds: str) -> re.Pattern:
    # ours (.<base>.tokkit-<pid>-<random>.tmp/.old) and the 8-character mkdtemp/mkstemp names of earlier
    # versions; nothing else, so a user's own hidden '.<base>.backup.old' is never taken for a leftover
    return re.compile(rf"^\.{re.escape(base)}\.(tokkit-\d+-[a-z0-9_]+|[a-z0-9_]{{8}})\.({kinds})$")


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def recover(path: str | os.PathLike) -> list[str]:
    """Repair what killed writers left beside `path`: a dead writer's `.old` folder is moved back when
    `path` is missing (a death between the two renames of the fallback swap), every other leftover
    `.tmp`/`.old` of a dead writer is removed; a live writer's are left alone. Returns what it touched."""
    path = os.fspath(path).rstrip(os.sep) or os.sep
    parent = os.path.dirname(os.path.abspath(path)) or "."
    base = os.path.basename(path)
    if not os.path.isdir(parent):
        return []
    touched: list[str] = []
    pat = _leftover_re(base, "tmp|old")
    with _parent_lock(parent):
        names = sorted(n for n in os.listdir(parent) if pat.match(n))
        for name in names:
            full = os.path.join(parent, name)
            fd = _held_open(full)
            if fd is None and os.path.lexists(full):
                continue  # a live writer's (or unreadable): not ours to touch
            try:
                if name.endswith(".old") and not os.path.lexists(path) and os.path.isdir(full):
                    os.rename(full, path)
                    _fsync_path(parent, directory=True)
                    touched.append(f"restored {path} from {name}")
                else:
                    _remove(full)
                    touched.append(f"removed {name}")
            finally:
                if fd is not None:
                    os.close(fd)
    return touched


# ---------------------------------------------------------------- the exchange rename

_RENAME_EXCHANGE = 2
_renameat2 = None


def _load_renameat2():
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fn = libc.renameat2  # glibc >= 2.28
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
            _renameat2 = fn
        except (OSError, AttributeError):
            pass
    return _renameat2 or None


def exchange(a: str, b: str) -> bool:
    """Swap two existing paths in one atomic step; False where the OS or file system cannot."""
    if os.environ.get("TOKKIT_ATOMIC_EXCHANGE") == "0":
        return False
    fn = _load_renameat2()
    if fn is None:
        return False
    import ctypes

    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), b)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


# ---------------------------------------------------------------- writers

@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary file path; on success it replaces `path` (fsynced), on error it is removed."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputError(f"{path}: an existing folder, expected a file name")
    parent = _make_parent(path)
    base = os.path.basename(path)
    with contextlib.suppress(OSError):
        _recover_files(parent, base)
    with _parent_lock(parent):  # so that no concurrent repair sees it before it is locked
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.tokkit-{os.getpid()}-", suffix=".tmp", dir=parent)
        _lock(fd)  # held until the end: the next run's repair leaves a live writer's file alone
    try:
        yield tmp
        _fsync_path(tmp)
        _publish_mode(tmp, False)
        _fault("file-written")
        os.replace(tmp, path)
        _fsync_path(parent, directory=True)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        os.close(fd)


def _recover_files(parent: str, base: str) -> None:
    pat = _leftover_re(base, "tmp")
    with _parent_lock(parent):
        _remove_dead_files(parent, pat)


def _remove_dead_files(parent: str, pat: re.Pattern) -> None:
    for name in os.listdir(parent):
        full = os.path.join(parent, name)
        if pat.match(name) and os.path.isfile(full):
            fd = _held_open(full)
            if fd is not None:
                try:
                    os.unlink(full)
                finally:
                    os.close(fd)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, force: bool = False) -> Iterator[str]:
    """Yields an empty temporary folder; when the block ends without error the folder (fsynced) replaces
    `path` whole (nothing of the old content survives); on error it is removed and `path` is untouched.

    An existing `path` must be empty or hold a tokkit card, unless force=True (or `check_out(path,
    force=True)` was called in this process). Raises InputError when another writer replaced `path`
    while this one was writing (that writer's artifact is kept)."""
    path = os.fspath(path).rstrip(os.sep) or os.fspath(path)
    if os.path.islink(path) and os.path.isdir(path):
        path = _real(path)  # replace the folder the link names; the link keeps naming the artifact
    check_out(path, force=force or _real(path) in _FORCED)
    parent = _make_parent(path)
    base = os.path.basename(path)
    recover(path)
    before = _identity(path)
    tmp = os.path.join(parent, f".{base}.tokkit-{os.getpid()}-{secrets.token_hex(4)}.tmp")
    with _parent_lock(parent):  # so that no concurrent recover() sees it before it is locked
        os.mkdir(tmp, 0o700)
        fd = os.open(tmp, os.O_RDONLY)
        _lock(fd)  # held until the end: a live writer's folder is never taken for a dead one's leftovers
    try:
        try:
            yield tmp
            _publish_mode(tmp, True)
            _fsync_tree(tmp)
            _fault("dir-written")
            with _parent_lock(parent):
                now = _identity(path)
                if now != before:
                    raise InputError(f"{path}: another run replaced this folder while this one was writing; "
                                     "kept that run's artifact and discarded this one's")
                if now is not None and not (force or _real(path) in _FORCED) and not is_tokkit_folder(path) \
                        and os.listdir(path):
                    raise InputError(f"{path}: an existing folder without a tokkit card ({CARD_NAME}); "
                                     "tokkit replaces only its own artifacts (pass --force to replace it whole)")
                try:
                    if now is None:
                        os.rename(tmp, path)
                    elif exchange(tmp, path):
                        _fault("dir-swapped")      # tmp now holds the old artifact: removed below or by recover
                    else:
                        old = tmp[: -len(".tmp")] + ".old"
                        os.rename(path, old)
                        _fault("fallback-between-renames")
                        try:
                            os.rename(tmp, path)
                        except OSError:
                            os.rename(old, path)  # put the old artifact back before reporting
                            raise
                        tmp = old
                except OSError as e:
                    raise InputError(f"{path}: cannot put the new folder in place ({e.strerror or e})") from None
                _fsync_path(parent, directory=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the failed new folder, or the replaced old one
    finally:
        os.close(fd)
