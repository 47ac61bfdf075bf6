"""SQLite connection and versioned migrations.

Each store module owns its tables and declares ``MIGRATIONS``: an ordered list
of SQL scripts. ``schema_versions`` records how many of each component's
scripts have run, so modules evolve independently and a database created by an
older release is brought forward on open. All database access goes through the
``digest.store`` package so a PostgreSQL backend can replace this one later.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from digest.errors import DigestError

RESTORE_HINT = "restore it from a backup (docs/operations.md) or move it aside to start afresh"
# SQLite's words for a database that cannot be used as it is, and what the user can do;
# {path} is the database file. Anything else (a busy lock, a constraint) is left alone.
_FAULTS = (
    (
        ("readonly", "read-only"),
        "the database is read-only here; make {path} and its folder writable for this user",
    ),
    (
        ("disk is full",),
        "the disk is full; free space on it (or set database in the config to another disk)",
    ),
    (("malformed",), "the database is damaged; " + RESTORE_HINT),
    (
        ("not a database",),
        "check database in the config; if this was the digest database, " + RESTORE_HINT,
    ),
    (("disk i/o error",), "disk I/O error; check the disk (dmesg) and the file"),
    (("unable to open",), "cannot open the database file; check that its folder exists"),
)


class StorageError(DigestError, sqlite3.OperationalError):
    """A database that cannot be used as it is (read-only, full disk, damaged): one line
    naming the file and what to do. Still a ``sqlite3.Error``, so code that waits out a
    busy database keeps catching what it caught."""


def storage_error(path: Path | str, exc: sqlite3.Error) -> sqlite3.Error:
    """``exc`` as a :class:`StorageError` when it is one of ``_FAULTS``, else ``exc``."""
    text = str(exc).lower()
    for words, todo in _FAULTS:
        if any(w in text for w in words):
            return StorageError(f"{path}: {exc}: {todo.format(path=path)}")
    return exc


class _Connection(sqlite3.Connection):
    """A connection whose statements fail with :func:`storage_error`: without it a full disk
    or a read-only file surfaces as a bare "database or disk is full" with no file named."""

    where: Path | str = ""

    def execute(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            raise storage_error(self.where, exc) from None

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().executemany(*args)
        except sqlite3.DatabaseError as exc:
            raise storage_error(self.where, exc) from None


def connect(path: Path | str, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating parent folders) a database tuned for one writer and many readers.
    ``readonly``: an existing database opened for reading only (``mode=ro``), so commands
    that only read work on a file this user may not write."""
    if readonly:
        return _connect_readonly(path)
    if str(path) != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DigestError(
                f"{path}: cannot create the database folder: {exc.strerror}"
            ) from None
    try:
        conn = sqlite3.connect(
            str(path),
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
            factory=_Connection,
        )
        conn.where = path
        # only takes effect on a new database: 16 KiB pages hold several ~2 KB abstracts
        # each, so the file is ~20% smaller than with 4 KiB pages and ingest a bit faster
        conn.execute("PRAGMA page_size=16384")
        _enable_wal(conn)
    except StorageError:
        raise
    except sqlite3.DatabaseError as exc:
        error = storage_error(path, exc)
        if isinstance(error, StorageError):
            raise error from None
        raise DigestError(f"{path}: cannot open database: {exc}") from None
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    # bulk ingest: a 64 MiB page cache keeps the id and title indexes in memory, and a
    # ~40 MB WAL checkpoints less often (measured in bench/bench_ingest.py)
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA wal_autocheckpoint=2500")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def _connect_readonly(path: Path | str) -> _Connection:
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
            factory=_Connection,
        )
    except sqlite3.DatabaseError as exc:
        raise storage_error(path, exc) from None
    conn.where = path
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


_CHECKED: set[tuple[str, int]] = set()
_CHECKED_LOCK = threading.Lock()


def check_integrity(conn: sqlite3.Connection, path: Path | str) -> None:
    """Refuse a database with damaged pages before anything is read from or written to it.

    ``PRAGMA quick_check`` reads every page (0.25 s for a year of arXiv, 84 MB), so it runs
    once per database per process: a scheduler or a server checks when it starts."""
    if str(path) == ":memory:":
        return
    key = (str(Path(path).resolve()), os.getpid())
    with _CHECKED_LOCK:
        if key in _CHECKED:
            return
    try:
        first = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: the database is damaged ({exc}); {RESTORE_HINT}") from None
    if first is None or first[0] != "ok":
        # e.g. "*** in database main ***\nPage 30: btreeInitPage() returns error code 11"
        found = (
            " ".join(str(first[0]).replace("*** in database main ***", "").split())
            if first
            else "no answer"
        )
        raise StorageError(f"{path}: the database is damaged ({found}); {RESTORE_HINT}")
    with _CHECKED_LOCK:
        _CHECKED.add(key)


def _enable_wal(conn: sqlite3.Connection, patience_s: float = 30.0) -> None:
    # Switching a new database to WAL needs an exclusive lock, and SQLite answers "database
    # is locked" at once, without its busy handler, while another process (a scheduler and a
    # manual run started together) is doing the same: retry for as long as a busy wait.
    deadline = time.monotonic() + patience_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def transaction(conn: sqlite3.Connection, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception: nothing is half-written."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # SQLite has already rolled back after some errors (a full disk)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Run the scripts of ``component`` that this database has not seen; return its version."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    with transaction(conn):
        row = conn.execute(
            "SELECT version FROM schema_versions WHERE component = ?", (component,)
        ).fetchone()
        have = row[0] if row else 0
        if have > len(migrations):
            raise DigestError(
                f"the database schema of '{component}' is version {have}, newer than this digest "
                f"({len(migrations)}); upgrade digest"
            )
        for script in migrations[have:]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_versions(component, version) VALUES (?, ?) "
            "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
            (component, len(migrations)),
        )
    return len(migrations)


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT our transaction; split instead (our DDL has no ';' in literals).
    return [s.strip() for s in script.split(";") if s.strip()]
