"""Claims on task keys shared by several drivers of one store: a driver computes only the tasks it could
claim, so two sweeps on one results store share the work instead of computing every cell twice.

A claim is an `flock` on `<store>.claims/<key>`, held by the claiming process: a driver that dies (kill -9
included) releases its claims at once, so another driver takes over its cells, with no lease to expire.
"""

from __future__ import annotations

import contextlib
import errno
import os

from ..errors import InputError

try:
    import fcntl
except ImportError:  # no flock (Windows): every claim succeeds, drivers may compute a cell twice
    fcntl = None  # type: ignore[assignment]


class Claims:
    def __init__(self, store: str | os.PathLike):
        self.folder = os.fspath(store) + ".claims"
        self._held: dict[str, int] = {}

    def __enter__(self) -> "Claims":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def try_claim(self, key: str) -> bool:
        """True when this process now holds the claim on key (or already did); False when another
        live process holds it."""
        if key in self._held:
            return True
        if fcntl is None:
            self._held[key] = -1
            return True
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd = os.open(os.path.join(self.folder, key), os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as e:
            raise InputError(f"{self.folder}: cannot record claims ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(os.path.join(self.folder, key)))
        except FileNotFoundError:
            same = False
        if not same:  # the holder released (unlinked) it between our open and our lock: try the new name
            os.close(fd)
            return self.try_claim(key)
        self._held[key] = fd
        return True

    def release(self, key: str) -> None:
        fd = self._held.pop(key, None)
        if fd is None or fd < 0:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.folder, key))  # while still locked: nobody holds a stale name
        os.close(fd)

    def close(self) -> None:
        for key in list(self._held):
            self.release(key)
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)  # only when empty: another driver's claims keep it
