"""Lease rows: a named lock held by one process on any host, kept alive by a heartbeat.

A holder refreshes ``expires_at`` from a heartbeat thread, on a connection of its own (so
lock traffic never joins the pipeline's transactions; a PostgreSQL connection that died
with a restarted server is replaced at the next beat). A lock whose holder stopped beating
(or whose pid is gone on this host, e.g. after SIGKILL) is taken over. ``runs.py`` uses it
for the day locks, the scheduler's and the sender's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from digest.store.db import transaction

LOCK_TTL_S = 60.0  # a holder that has not beaten for this long is presumed dead
HEARTBEAT_S = 15.0
WAIT_POLL_S = 0.2

log = logging.getLogger("digest")
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


class LockBusy(Exception):
    def __init__(self, holder: LockInfo) -> None:
        super().__init__(holder.describe())
        self.holder = holder


class Lease:
    """One lock row, on a connection of its own, with a heartbeat thread while held."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], name: str, label: str) -> None:
        self._connect = connect
        self.conn = connect()
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
            except Exception as exc:  # any engine's busy database or dropped connection
                if not isinstance(exc, sqlite3.Error):  # SQLite: busy; try again next beat
                    self._reconnect()  # a restarted server: beat on a new connection

    def _reconnect(self) -> None:
        """A new connection after a failure (a busy SQLite file keeps its own; a PostgreSQL
        server that restarted needs a new one); a failure here waits for the next try."""
        try:
            conn = self._connect()
        except Exception:  # noqa: BLE001 - still down: the next beat tries again
            return
        old, self.conn = self.conn, conn
        with contextlib.suppress(Exception):  # closing a dead connection
            old.close()

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        delete = "DELETE FROM locks WHERE name = ? AND owner = ?"
        try:
            self.conn.execute(delete, (self.name, self.owner))
        except Exception as exc:
            if isinstance(exc, sqlite3.Error):
                raise
            # the connection died with the server: free the row on a new one, else it
            # expires LOCK_TTL_S after the last heartbeat, as a crashed holder's does
            self._reconnect()
            try:
                self.conn.execute(delete, (self.name, self.owner))
            except Exception:  # noqa: BLE001 - still unreachable: leave it to expire
                log.warning("could not release the lock %s; it expires by itself", self.name)

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
