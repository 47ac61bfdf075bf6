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
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from digest.models import ERROR, Digest, Listing, SourceStatus
from digest.store.backends import Backend
from digest.store.db import transaction

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

LOCK_TTL_S = 60.0  # a holder that has not beaten for this long is presumed dead
HEARTBEAT_S = 15.0
WAIT_POLL_S = 0.2

HOST = socket.gethostname()
_PROCESS_TOKEN = uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class LockInfo:
    name: str
    label: str
    pid: int
    host: str
    acquired_at: float
    heartbeat_at: float
    expires_at: float

    def describe(self) -> str:
        age = max(0, int(time.time() - self.heartbeat_at))
        return f"{self.label} (pid {self.pid} on {self.host}, last heartbeat {age} s ago)"


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


class LockBusy(Exception):
    def __init__(self, holder: LockInfo) -> None:
        super().__init__(holder.describe())
        self.holder = holder


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
        lock = _DbLock(self.backend.connect(self.path), name, label)
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


class _DbLock:
    """One lock row, on a connection of its own, with a heartbeat thread while held."""

    def __init__(self, conn: sqlite3.Connection, name: str, label: str) -> None:
        self.conn = conn
        self.name = name
        self.label = label
        self.owner = f"{_PROCESS_TOKEN}:{threading.get_ident()}"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(
        self, wait: bool, on_wait: Callable[[LockInfo], None] | None, timeout_s: float | None
    ) -> None:
        told = False
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            holder = self._try_acquire()
            if holder is None:
                break
            if not wait or (deadline is not None and time.monotonic() >= deadline):
                raise LockBusy(holder)
            if on_wait and not told:
                on_wait(holder)
                told = True
            time.sleep(WAIT_POLL_S)
        self._beat = threading.Thread(target=self._heartbeat, name=f"lock:{self.name}", daemon=True)
        self._beat.start()

    def _try_acquire(self) -> LockInfo | None:
        now = time.time()
        with transaction(self.conn):
            row = self.conn.execute("SELECT * FROM locks WHERE name = ?", (self.name,)).fetchone()
            if row is not None and row["owner"] != self.owner and not _abandoned(row, now):
                return _lock_info(row)
            self.conn.execute(
                "INSERT INTO locks(name, owner, label, pid, host, acquired_at, heartbeat_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner,"
                " label = excluded.label, pid = excluded.pid, host = excluded.host,"
                " acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at,"
                " expires_at = excluded.expires_at",
                (self.name, self.owner, self.label, os.getpid(), HOST, now, now, now + LOCK_TTL_S),
            )
        return None

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            now = time.time()
            try:
                self.conn.execute(
                    "UPDATE locks SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND owner = ?",
                    (now, now + LOCK_TTL_S, self.name, self.owner),
                )
            except Exception:  # noqa: BLE001 - any engine's busy database or dropped connection
                continue  # try again at the next beat, well before expiry

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        self.conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (self.name, self.owner))

    def close(self) -> None:
        self._stop.set()
        self.conn.close()


def _abandoned(row: sqlite3.Row, now: float) -> bool:
    if row["expires_at"] < now:
        return True
    return row["host"] == HOST and not _pid_alive(int(row["pid"]))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (killed child not yet reaped) still answers kill(0); it holds nothing
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _lock_info(row: sqlite3.Row) -> LockInfo:
    return LockInfo(
        row["name"],
        row["label"],
        row["pid"],
        row["host"],
        row["acquired_at"],
        row["heartbeat_at"],
        row["expires_at"],
    )


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
