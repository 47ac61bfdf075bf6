"""SQLite connection and versioned migrations.

Each store module owns its tables and declares ``MIGRATIONS``: an ordered list
of SQL scripts. ``schema_versions`` records how many of each component's
scripts have run, so modules evolve independently and a database created by an
older release is brought forward on open. All database access goes through the
``digest.store`` package so a PostgreSQL backend can replace this one later.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from digest.errors import DigestError


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating parent folders) a database tuned for one writer and many readers."""
    if str(path) != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DigestError(
                f"{path}: cannot create the database folder: {exc.strerror}"
            ) from None
    try:
        conn = sqlite3.connect(
            str(path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        # only takes effect on a new database: 16 KiB pages hold several ~2 KB abstracts
        # each, so the file is ~20% smaller than with 4 KiB pages and ingest a bit faster
        conn.execute("PRAGMA page_size=16384")
        _enable_wal(conn)
    except sqlite3.DatabaseError as exc:
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
