"""Locks and the run log: who is producing which day, and which days are done.

Why a lock in the store rather than an OS file lock: the store is the one thing
every producer (``digest schedule``, ``digest backfill``, a manual ``digest run``)
already shares, a row can say *who* holds it (pid, host, command, heartbeat) so
the second process can tell the user, and ``digest schedule --status`` can read
it. A holder refreshes ``expires_at`` from a heartbeat thread; a lock whose
holder stopped beating (or whose pid is gone on this host, e.g. after SIGKILL)
is taken over. Each lock uses its own connection so lock traffic never joins
the pipeline's transactions.

The run log keeps one row per attempt to produce a day. A day is *completed*
when an attempt finished with status ``ok`` or ``empty``; an attempt that died
stays ``running`` with the stage it reached, so a later process knows whether
an email may already have gone out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from digest.models import ERROR, Digest, Listing, SourceStatus
from digest.store.backends import Backend
from digest.store.db import transaction
from digest.store.leases import (  # noqa: F401 - LOCK_TTL_S, HOST: re-exported for callers
    HOST,
    LOCK_TTL_S,
    Lease,
    LockBusy,
    LockInfo,
    _abandoned,
    _lock_info,
)

MIGRATIONS = [
    """
    CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        label TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        date TEXT NOT NULL,
        status TEXT NOT NULL,
        stage TEXT NOT NULL DEFAULT '',
        papers INTEGER,
        themes INTEGER,
        sent INTEGER,
        error TEXT,
        sources TEXT NOT NULL DEFAULT '[]',
        label TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX runs_by_date ON runs(date, status)
    """
]

# Run statuses. ``ok`` and ``empty`` complete a day; ``error`` and ``running`` do not.
RUNNING = "running"
DONE_STATUSES = ("ok", "empty")


@dataclass(frozen=True)
class RunRecord:
    date: dt.date
    status: str
    stage: str
    papers: int | None
    themes: int | None
    sent: int | None
    error: str | None
    sources: tuple[dict, ...]
    label: str
    pid: int
    started_at: str
    finished_at: str | None

    @property
    def completed(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def interrupted(self) -> bool:
        """An attempt that never finished: its process died (SIGKILL, power) mid-``stage``."""
        return self.status == RUNNING and self.finished_at is None


class RunsMixin:
    conn: sqlite3.Connection
    path: Path | str
    backend: Backend

    # ------------------------------------------------------------ locks

    def lock_holder(self, name: str) -> LockInfo | None:
        """Who holds ``name``; None when nobody does or the holder is dead or silent."""
        row = self.conn.execute("SELECT * FROM locks WHERE name = ?", (name,)).fetchone()
        return _lock_info(row) if row and not _abandoned(row, time.time()) else None

    @contextmanager
    def hold_lock(
        self,
        name: str,
        label: str,
        wait: bool = True,
        on_wait: Callable[[LockInfo], None] | None = None,
        timeout_s: float | None = None,
    ) -> Iterator[str]:
        """Hold ``name`` for the block (yields the holder's label); re-entrant within one thread.

        Busy: with ``wait`` poll until free (``on_wait`` is told once who holds it), else
        raise :class:`LockBusy`. A heartbeat thread keeps the lock alive while held.
        """
        if str(self.path) == ":memory:":  # a private database: nobody else to exclude
            yield label
            return
        where = self.path if self.backend.name != "sqlite" else Path(self.path).resolve()
        key = (str(where), name, threading.get_ident())
        held = _HELD.get(key)
        if held:
            held[0] += 1
            try:
                yield held[1]
            finally:
                held[0] -= 1
            return
        lock = Lease(lambda: self.backend.connect(self.path), name, label)
        try:
            lock.acquire(wait, on_wait, timeout_s)
            _HELD[key] = [1, label]
            try:
                yield label
            finally:
                _HELD.pop(key, None)
                lock.release()
        finally:
            lock.close()

    @contextmanager
    def day_run(
        self,
        day: dt.date,
        label: str = "digest run",
        on_wait: Callable[[LockInfo], None] | None = None,
    ) -> Iterator[RunLog]:
        """Hold the lock of ``day`` and log this attempt in the run log.

        The block reports stages and ends with :meth:`RunLog.finish`; leaving it by an
        exception records the attempt as ``error`` (``interrupted`` for a signal).
        The label is the outermost holder's, so a scheduled run is logged as such.
        """
        with self.hold_lock(day_lock_name(day), label, on_wait=on_wait) as held_label:
            record = RunLog(self, self.start_run(day, held_label))
            try:
                yield record
            except Exception as exc:
                record.fail("error", f"{type(exc).__name__}: {exc}")
                raise
            except BaseException as exc:
                record.fail("interrupted", type(exc).__name__)
                raise
            if not record.finished:
                record.fail("error", "the run ended without a result")

    # ------------------------------------------------------------ run log

    def start_run(self, day: dt.date, label: str) -> int:
        with transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO runs(date, status, stage, label, pid, host, started_at) "
                "VALUES (?, ?, '', ?, ?, ?, ?)",
                (day.isoformat(), RUNNING, label, os.getpid(), HOST, _now_iso()),
            )
        return int(cur.lastrowid or 0)

    def mark_stage(self, run_id: int, stage: str) -> None:
        self.conn.execute("UPDATE runs SET stage = ? WHERE id = ?", (stage, run_id))

    def finish_run(
        self,
        run_id: int,
        status: str,
        papers: int | None = None,
        themes: int | None = None,
        sent: int | None = None,
        sources: Sequence[dict] = (),
        error: str | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE runs SET status = ?, papers = ?, themes = ?, sent = ?, sources = ?, error = ?, "
            "finished_at = ? WHERE id = ?",
            (status, papers, themes, sent, json.dumps(list(sources)), error, _now_iso(), run_id),
        )

    def runs_for(self, day: dt.date) -> list[RunRecord]:
        rows = self.conn.execute(
            "SELECT * FROM runs WHERE date = ? ORDER BY id", (day.isoformat(),)
        )
        return [_run_record(r) for r in rows]

    def completed_days(self, start: dt.date, end: dt.date) -> set[dt.date]:
        marks = ",".join("?" * len(DONE_STATUSES))
        rows = self.conn.execute(
            f"SELECT DISTINCT date FROM runs WHERE date BETWEEN ? AND ? AND status IN ({marks})",
            (start.isoformat(), end.isoformat(), *DONE_STATUSES),
        )
        return {dt.date.fromisoformat(r[0]) for r in rows}

    def last_completed_day(self) -> dt.date | None:
        marks = ",".join("?" * len(DONE_STATUSES))
        row = self.conn.execute(
            f"SELECT max(date) FROM runs WHERE status IN ({marks})", DONE_STATUSES
        ).fetchone()
        return dt.date.fromisoformat(row[0]) if row and row[0] else None

    def last_runs(self, limit: int = 10) -> list[RunRecord]:
        rows = self.conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [_run_record(r) for r in rows]


class RunLog:
    """The run-log row of one attempt, as the pipeline moves through its stages."""

    def __init__(self, store: RunsMixin, run_id: int) -> None:
        self.store = store
        self.run_id = run_id
        self.finished = False

    def stage(self, name: str) -> None:
        self.store.mark_stage(self.run_id, name)

    def finish(self, sources: Sequence[SourceStatus], digest: Digest, sent: int | None) -> str:
        """Record the result; returns the day's status (ok, empty or error)."""
        status = day_status(sources, len(digest.papers))
        rows = [
            {"name": x.name, "status": x.status, "papers": x.papers, "error": x.error}
            for x in sources
        ]
        self.store.finish_run(
            self.run_id, status, len(digest.papers), len(digest.themes), sent, rows
        )
        self.finished = True
        return status

    def fail(self, status: str, error: str) -> None:
        self.store.finish_run(self.run_id, status, error=error)
        self.finished = True


def day_status(listings: Sequence[Listing] | Sequence[SourceStatus], papers: int) -> str:
    """``error`` when every source failed (worth retrying), else ``ok`` or ``empty``.

    A stale feed or an empty listing is a quiet day, not a failure: the day is done.
    """
    if listings and all(x.status == ERROR for x in listings):
        return "error"
    return "ok" if papers else "empty"


def day_lock_name(day: dt.date) -> str:
    return f"day:{day.isoformat()}"


# (database, lock name, thread) -> depth, for re-entrant holds inside one thread
_HELD: dict[tuple[str, str, int], list] = {}  # key -> [depth, label]


def _run_record(r: sqlite3.Row) -> RunRecord:
    return RunRecord(
        date=dt.date.fromisoformat(r["date"]),
        status=r["status"],
        stage=r["stage"],
        papers=r["papers"],
        themes=r["themes"],
        sent=r["sent"],
        error=r["error"],
        sources=tuple(json.loads(r["sources"])),
        label=r["label"],
        pid=r["pid"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
    )


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
