"""Subscribers and the subscribe rate limits; the tables of the delivery log too.

A subscriber is one normalized address with a status (pending -> confirmed ->
unsubscribed, or bouncing after repeated hard failures). The delivery log, what makes
sending exactly-once, is :mod:`digest.store.delivery_log` (its tables are created by
this component's migrations).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from digest.errors import InputError
from digest.store.db import transaction

# the log's names, where callers have always found them
from digest.store.delivery_log import DAILY as DAILY
from digest.store.delivery_log import DEFERRED as DEFERRED
from digest.store.delivery_log import FAILED as FAILED
from digest.store.delivery_log import SENDING as SENDING
from digest.store.delivery_log import SENT as SENT
from digest.store.delivery_log import Delivery as Delivery
from digest.store.delivery_log import Recipient as Recipient
from digest.store.delivery_log import send_key as send_key

PENDING = "pending"
CONFIRMED = "confirmed"
UNSUBSCRIBED = "unsubscribed"
BOUNCING = "bouncing"
STATUSES = (PENDING, CONFIRMED, UNSUBSCRIBED, BOUNCING)


MIGRATIONS = [
    """
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bouncing')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        confirmed_at TEXT,
        unsubscribed_at TEXT,
        hard_failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX subscribers_by_status ON subscribers(status, id);
    CREATE TABLE send_rounds (
        date TEXT NOT NULL,
        round INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        PRIMARY KEY (date, round)
    );
    CREATE TABLE deliveries (
        date TEXT NOT NULL,
        round INTEGER NOT NULL,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        message_id TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (date, round, subscriber_id)
    ) WITHOUT ROWID;
    CREATE TABLE rate_events (
        key TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX rate_events_by_key ON rate_events(key, at)
    """,
    # daily or weekly: which digests a subscriber gets (the delivery log's "date" of a
    # weekly send is its week, "2025-W12")
    "ALTER TABLE subscribers ADD COLUMN cadence TEXT NOT NULL DEFAULT 'daily' "
    "CHECK (cadence IN ('daily', 'weekly'))",
]

WEEKLY = "weekly"
CADENCES = (DAILY, WEEKLY)


def normalize_email(text: str) -> str:
    """The canonical ASCII form of an address (domain lowercased, IDNA); InputError when malformed."""
    candidate = (text or "").strip()
    if not candidate:
        raise InputError("an email address is required")
    if any(c in candidate for c in "\r\n"):
        raise InputError("an email address must be one line")
    # imported here: its rules cost ~1% of a daily run, which never checks an address
    from email_validator import EmailNotValidError, validate_email

    try:
        # ASCII form (IDNA domain, no SMTPUTF8): every server can take it and it is header-safe
        valid = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InputError(f"'{candidate[:80]}' is not a valid email address: {exc}") from None
    return valid.ascii_email or valid.normalized


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    status: str
    created_at: str
    updated_at: str
    confirmed_at: str | None = None
    unsubscribed_at: str | None = None
    hard_failures: int = 0
    last_error: str | None = None
    cadence: str = DAILY


_SUBSCRIBER_FIELDS = tuple(Subscriber.__dataclass_fields__)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(**{k: row[k] for k in _SUBSCRIBER_FIELDS})


class SubscribersMixin:
    conn: sqlite3.Connection

    # ------------------------------------------------------------ subscribers

    def add_subscriber(self, email: str, status: str = PENDING) -> tuple[Subscriber, bool]:
        """Insert ``email`` (normalized) or move an existing one to ``status``; True when new.

        A confirmed address asked to be pending again stays confirmed: a second
        subscribe request must not undo an earlier confirmation.
        """
        if status not in STATUSES:
            raise InputError(f"unknown subscriber status '{status}' (one of {', '.join(STATUSES)})")
        address = normalize_email(email)
        now = _now()
        with transaction(self.conn):
            row = self.conn.execute(
                "SELECT * FROM subscribers WHERE email = ?", (address,)
            ).fetchone()
            if row is None:
                self.conn.execute(
                    "INSERT INTO subscribers(email, status, created_at, updated_at, confirmed_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (address, status, now, now, now if status == CONFIRMED else None),
                )
                created = True
            else:
                created = False
                if not (row["status"] == CONFIRMED and status == PENDING):
                    self._set_status(row["id"], status, now)
            row = self.conn.execute(
                "SELECT * FROM subscribers WHERE email = ?", (address,)
            ).fetchone()
        return _subscriber(row), created

    def import_subscribers(self, rows: Iterable[tuple[str, str]]) -> tuple[int, int]:
        """Insert (normalized email, status) rows in one transaction; (added, already present).

        Addresses already present keep their status: re-importing an old list
        must never resubscribe someone who unsubscribed.
        """
        now = _now()
        added = 0
        total = 0
        with transaction(self.conn):
            for email, status in rows:
                if status not in STATUSES:
                    raise InputError(f"unknown subscriber status '{status}' for {email}")
                total += 1
                cur = self.conn.execute(
                    "INSERT INTO subscribers(email, status, created_at, updated_at, confirmed_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(email) DO NOTHING",
                    (email, status, now, now, now if status == CONFIRMED else None),
                )
                added += cur.rowcount
        return added, total - added

    def _set_status(self, subscriber_id: int, status: str, now: str) -> None:
        extra = {
            CONFIRMED: ", confirmed_at = ?, hard_failures = 0",
            UNSUBSCRIBED: ", unsubscribed_at = ?",
        }
        sql = (
            f"UPDATE subscribers SET status = ?, updated_at = ?{extra.get(status, '')} WHERE id = ?"
        )
        args = (
            (status, now, now, subscriber_id) if status in extra else (status, now, subscriber_id)
        )
        self.conn.execute(sql, args)

    def set_subscriber_status(self, email: str, status: str) -> Subscriber | None:
        """Change the status of ``email``; None when there is no such subscriber."""
        if status not in STATUSES:
            raise InputError(f"unknown subscriber status '{status}' (one of {', '.join(STATUSES)})")
        address = normalize_email(email)
        with transaction(self.conn):
            row = self.conn.execute(
                "SELECT id, status FROM subscribers WHERE email = ?", (address,)
            ).fetchone()
            if row is None:
                return None
            if row["status"] != status:
                self._set_status(row["id"], status, _now())
        return self.subscriber(address)

    def set_subscriber_cadence(self, email: str, cadence: str) -> Subscriber | None:
        """Daily or weekly for ``email``; None when it is not a subscriber."""
        if cadence not in CADENCES:
            raise InputError(f"cadence must be one of {', '.join(CADENCES)}, got '{cadence}'")
        address = normalize_email(email)
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE subscribers SET cadence = ?, updated_at = ? WHERE email = ?",
                (cadence, _now(), address),
            )
        return self.subscriber(address)

    def remove_subscriber(self, email: str) -> bool:
        """Delete ``email`` and its delivery log (erasure on request). False when unknown."""
        address = normalize_email(email)
        with transaction(self.conn):
            cur = self.conn.execute("DELETE FROM subscribers WHERE email = ?", (address,))
        return cur.rowcount > 0

    def subscriber(self, email: str) -> Subscriber | None:
        row = self.conn.execute(
            "SELECT * FROM subscribers WHERE email = ?", (email.strip(),)
        ).fetchone()
        return _subscriber(row) if row else None

    def subscribers(self, status: str | None = None, batch: int = 1000) -> Iterator[Subscriber]:
        """Every subscriber (of ``status``) by id, read in batches so memory stays flat."""
        last = 0
        while True:
            if status is None:
                rows = self.conn.execute(
                    "SELECT * FROM subscribers WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
                ).fetchall()
            else:
                rows = self.conn.execute(
                    "SELECT * FROM subscribers WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
                    (status, last, batch),
                ).fetchall()
            if not rows:
                return
            yield from (_subscriber(r) for r in rows)
            last = rows[-1]["id"]

    def count_subscribers(self, status: str | None = None) -> int:
        if status is None:
            return int(self.conn.execute("SELECT count(*) FROM subscribers").fetchone()[0])
        sql = "SELECT count(*) FROM subscribers WHERE status = ?"
        return int(self.conn.execute(sql, (status,)).fetchone()[0])

    # ------------------------------------------------------------ rate limits

    def hit_rate_limit(
        self, key: str, limit: int, window_s: float, now: float | None = None
    ) -> bool:
        """Count one event for ``key``; True when it is over ``limit`` events in ``window_s``.

        Events over the limit are not counted, so a client that keeps hammering
        gets back in once its earlier, accepted events leave the window.
        """
        at = time.time() if now is None else now
        with transaction(self.conn):
            self.conn.execute("DELETE FROM rate_events WHERE at < ?", (at - window_s,))
            seen = self.conn.execute(
                "SELECT count(*) FROM rate_events WHERE key = ? AND at >= ?", (key, at - window_s)
            ).fetchone()[0]
            if seen >= limit:
                return True
            self.conn.execute("INSERT INTO rate_events(key, at) VALUES (?, ?)", (key, at))
        return False
