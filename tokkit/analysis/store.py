"""An embedded SQLite results store: cell key -> result row, written once, in one transaction.

A sweep is a set of cells, each a pure function of its parameters, so a cell's key is a hash of its
canonical parameters. A cell's row is written in a single transaction after the cell finishes: a process
killed at any moment (kill -9 included) leaves every finished cell stored and no half-written one, and
running the sweep again skips the stored keys. Writes are idempotent (the first result for a key stays),
so several workers (threads, processes, Ray tasks) may write to the same store.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from typing import Any, Iterable

from ..errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    key      TEXT PRIMARY KEY,
    sweep    TEXT NOT NULL,
    params   TEXT NOT NULL,
    result   TEXT NOT NULL,
    seconds  REAL,
    created  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cells_sweep ON cells (sweep);
CREATE TABLE IF NOT EXISTS failures (
    key      TEXT PRIMARY KEY,
    sweep    TEXT NOT NULL,
    params   TEXT NOT NULL,
    error    TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created  TEXT NOT NULL
);
"""


def canonical(params: dict) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cell_key(params: dict) -> str:
    """A stable key of a cell's parameters (same parameters, same key, in any process).

    Args:
        params: the cell's parameters (JSON-serialisable).

    Returns:
        A hex digest.
    """
    return hashlib.sha256(canonical(params).encode("utf-8")).hexdigest()[:32]


class ResultsStore:
    """A SQLite store of sweep cells, safe for several drivers (WAL mode): finished cells, and failures.

    Args:
        path: the database file (created when missing; its folder must exist).

    Raises:
        InputError: the folder does not exist, or the file is not a tokkit results store.
    """
    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise InputError(f"{self.path}: the folder of the results store does not exist")
        # autocommit mode: every transaction below is explicit
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        deadline = time.monotonic() + 60
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
                break
            except sqlite3.OperationalError as e:
                # another driver opening the same store at this moment: switching the journal mode does not
                # wait on SQLite's busy handler, so wait here
                if "locked" in str(e) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                self._db.close()
                raise InputError(f"{self.path}: not a tokkit results store (SQLite said: {e})") from None
            except sqlite3.DatabaseError as e:
                self._db.close()
                raise InputError(f"{self.path}: not a tokkit results store (SQLite said: {e})") from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def put(self, params: dict, result: dict, *, sweep: str = "", seconds: float | None = None) -> str:
        """Store a finished cell; a key already present is left as it is.

        Args:
            params: the cell's parameters.
            result: its result (JSON-serialisable).
            sweep: the sweep it belongs to.
            seconds: how long it took.

        Returns:
            The cell's key.
        """
        return self._insert("cells (key, sweep, params, result, seconds, created)", "DO NOTHING",
                            params, sweep, canonical(result), seconds)

    def put_failure(self, params: dict, error: str, *, attempts: int, sweep: str = "") -> str:
        """Record a cell that failed after its retries (the latest failure per key); a later success clears it.

        Args:
            params: the cell's parameters.
            error: the error's message.
            attempts: how many times it was tried.
            sweep: the sweep it belongs to.

        Returns:
            The cell's key.
        """
        return self._insert("failures (key, sweep, params, error, attempts, created)",
                            "DO UPDATE SET error=excluded.error, attempts=failures.attempts + excluded.attempts, "
                            "created=excluded.created", params, sweep, error, attempts)

    def _insert(self, into: str, on_conflict: str, params: dict, sweep: str, *values) -> str:
        # one row keyed by the cell's parameters: key, sweep, params, the table's own values, then the time
        key = cell_key(params)
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        row = (key, sweep, canonical(params), *values, created)
        with self._transaction():
            self._db.execute(f"INSERT INTO {into} VALUES ({','.join('?' * len(row))}) ON CONFLICT(key) {on_conflict}",
                             row)
        return key

    def failures(self, sweep: str | None = None) -> list[dict[str, Any]]:
        """Cells whose last run failed and that have no stored result.

        Args:
            sweep: only this sweep's; None: all.

        Returns:
            One dict per failed cell (key, params, error, attempts, ...).
        """
        q = ("SELECT key, sweep, params, error, attempts, created FROM failures "
             "WHERE key NOT IN (SELECT key FROM cells)")
        a: tuple = ()
        if sweep is not None:
            q, a = q + " AND sweep = ?", (sweep,)
        return [dict(key=k, sweep=s, params=json.loads(p), error=e, attempts=n, created=c)
                for k, s, p, e, n, c in self._db.execute(q + " ORDER BY created, key", a)]

    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, et, ev, tb):
                db.execute("COMMIT" if et is None else "ROLLBACK")

        return _Tx()

    def get(self, params: dict) -> dict | None:
        """The stored result of a cell.

        Args:
            params: the cell's parameters.

        Returns:
            The result, or None when the cell is not stored.
        """
        row = self._db.execute("SELECT result FROM cells WHERE key = ?", (cell_key(params),)).fetchone()
        return json.loads(row[0]) if row else None

    def __contains__(self, params: dict) -> bool:
        return self._db.execute("SELECT 1 FROM cells WHERE key = ?", (cell_key(params),)).fetchone() is not None

    def keys(self, sweep: str | None = None) -> set[str]:
        """The keys of the stored cells.

        Args:
            sweep: only this sweep's; None: all.

        Returns:
            The keys.
        """
        q, a = ("SELECT key FROM cells", ()) if sweep is None else ("SELECT key FROM cells WHERE sweep = ?", (sweep,))
        return {r[0] for r in self._db.execute(q, a)}

    def rows(self, sweep: str | None = None, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The stored cells, oldest first.

        Args:
            sweep: only this sweep's; None: all.
            keys: only these keys; None: all.

        Returns:
            One dict per cell: key, sweep, params, result, seconds, created.
        """
        q, a = ("SELECT key, sweep, params, result, seconds, created FROM cells", ())
        if sweep is not None:
            q, a = q + " WHERE sweep = ?", (sweep,)
        out = [dict(key=k, sweep=s, params=json.loads(p), result=json.loads(r), seconds=sec, created=c)
               for k, s, p, r, sec, c in self._db.execute(q + " ORDER BY created, key", a)]
        if keys is not None:
            want = set(keys)
            out = [r for r in out if r["key"] in want]
        return out

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
