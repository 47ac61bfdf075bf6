"""The email delivery log: one row per (digest date or week, send round, subscriber).

What makes sending exactly-once: a rerun skips everyone the log has seen served (SENT, or
FAILED: a 5xx). The sender writes the log a batch at a time (:meth:`log_deliveries`, one
transaction): the outcomes of the messages the server has answered, and SENDING for the
next messages before they are handed over, so a crash leaves the unanswered ones visible
(resent with the same Message-ID). ``--resend`` opens a new round instead of erasing the
old one, so an interrupted resend also resumes without duplicates. The tables are the
subscribers component's (``subscribers.MIGRATIONS``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from digest.store.db import transaction

# delivery log statuses
SENDING = (
    "sending"  # handed to the server, no reply yet (a crash leaves it: resent, same Message-ID)
)
SENT = "sent"
FAILED = "failed"  # a 5xx reply: not retried for this digest
DEFERRED = "deferred"  # 4xx replies until retries ran out: retried by the next run
DAILY = "daily"


def send_key(day: dt.date | str) -> str:
    """The delivery log's key of a send: a digest's ISO date, or a week such as 2025-W12."""
    return day if isinstance(day, str) else day.isoformat()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Recipient:
    """A subscriber to send one digest to, with what the log says of an earlier try."""

    id: int
    email: str
    logged: str | None  # SENDING or DEFERRED from an interrupted run, else None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row for the delivery log: SENDING (handed to the server), or its outcome."""

    subscriber_id: int
    status: str  # SENDING | SENT | FAILED | DEFERRED
    message_id: str
    error: str | None = None  # the server's reply to a refusal


class DeliveryLogMixin:
    conn: sqlite3.Connection

    def send_round(self, day: dt.date | str, new: bool = False) -> int:
        """The round to send ``day`` in: the latest one, or (``new``, or none yet) a fresh one."""
        iso = send_key(day)
        with transaction(self.conn):
            row = self.conn.execute(
                "SELECT max(round) FROM send_rounds WHERE date = ?", (iso,)
            ).fetchone()
            latest = row[0]
            if latest is not None and not new:
                return int(latest)
            number = (latest or 0) + 1
            self.conn.execute(
                "INSERT INTO send_rounds(date, round, started_at) VALUES (?, ?, ?)",
                (iso, number, _now()),
            )
        return number

    def finish_round(self, day: dt.date | str, round_: int) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE send_rounds SET finished_at = ? WHERE date = ? AND round = ?",
                (_now(), send_key(day), round_),
            )

    def recipients(
        self, day: dt.date | str, round_: int, batch: int = 500, cadence: str = DAILY
    ) -> Iterator[Recipient]:
        """Confirmed subscribers not yet served in this round (sent or hard-failed), by id.

        Read in batches keyed on id so a list of any size costs constant memory,
        and each batch sees status changes (an unsubscribe mid-send) made since.
        """
        last = 0
        while True:
            rows = self.conn.execute(
                """
                SELECT s.id, s.email, d.status AS logged FROM subscribers s
                LEFT JOIN deliveries d ON d.date = ? AND d.round = ? AND d.subscriber_id = s.id
                WHERE s.status = 'confirmed' AND s.cadence = ? AND s.id > ?
                  AND (d.status IS NULL OR d.status IN ('sending', 'deferred'))
                ORDER BY s.id LIMIT ?
                """,
                (send_key(day), round_, cadence, last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield Recipient(r["id"], r["email"], r["logged"])
            last = rows[-1]["id"]

    def confirmed_among(self, subscriber_ids: Sequence[int]) -> set[int]:
        """Which of ``subscriber_ids`` are confirmed now (one query for a batch about to go
        out: an unsubscribe since the batch was read is honoured)."""
        if not subscriber_ids:
            return set()
        marks = ", ".join("?" * len(subscriber_ids))
        rows = self.conn.execute(
            f"SELECT id FROM subscribers WHERE status = 'confirmed' AND id IN ({marks})",
            tuple(subscriber_ids),
        )
        return {int(r[0]) for r in rows}

    def log_deliveries(
        self,
        day: dt.date | str,
        round_: int,
        rows: Sequence[Delivery],
        max_hard_failures: int = 0,
    ) -> None:
        """Write ``rows`` to the delivery log in one transaction, committed before this returns:
        the outcomes of messages the server answered, and SENDING for the messages about to be
        handed to it (so a crash before their reply is visible). The sender calls this once
        per batch of messages, so a batch costs one commit (one WAL flush on PostgreSQL).

        A SENT resets the subscriber's hard-failure count; a FAILED adds one and, at
        ``max_hard_failures``, marks the subscriber bouncing.
        """
        if not rows:
            return
        iso, now = send_key(day), _now()
        with transaction(self.conn):
            # one statement for both kinds (one round trip on PostgreSQL): an outcome counts
            # an attempt and keeps the server's reply; SENDING keeps an earlier try's reply
            self.conn.executemany(
                "INSERT INTO deliveries(date, round, subscriber_id, status, message_id, attempts, "
                "error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(date, round, subscriber_id) DO UPDATE SET status = excluded.status, "
                "attempts = deliveries.attempts + excluded.attempts, error = CASE WHEN "
                "excluded.status = 'sending' THEN deliveries.error ELSE excluded.error END, "
                "updated_at = excluded.updated_at",
                [
                    (iso, round_, r.subscriber_id, r.status, r.message_id)
                    + (int(r.status != SENDING), r.error, now)
                    for r in rows
                ],
            )
            sent = [(r.subscriber_id,) for r in rows if r.status == SENT]
            if sent:
                self.conn.executemany(
                    "UPDATE subscribers SET hard_failures = 0, last_error = NULL "
                    "WHERE id = ? AND hard_failures > 0",
                    sent,
                )
            for r in rows:
                if r.status == FAILED:
                    self._count_hard_failure(r, now, max_hard_failures)

    def _count_hard_failure(self, row: Delivery, now: str, max_hard_failures: int) -> None:
        self.conn.execute(
            "UPDATE subscribers SET hard_failures = hard_failures + 1, last_error = ?, "
            "updated_at = ? WHERE id = ?",
            (row.error, now, row.subscriber_id),
        )
        if max_hard_failures:
            self.conn.execute(
                "UPDATE subscribers SET status = 'bouncing' "
                "WHERE id = ? AND status = 'confirmed' AND hard_failures >= ?",
                (row.subscriber_id, max_hard_failures),
            )

    def delivery_counts(self, day: dt.date | str, round_: int | None = None) -> dict[str, int]:
        """How many log rows of each status ``day`` has (in ``round_``, default: every round)."""
        sql = "SELECT status, count(*) FROM deliveries WHERE date = ?"
        args: tuple = (send_key(day),)
        if round_ is not None:
            sql += " AND round = ?"
            args += (round_,)
        return {r[0]: r[1] for r in self.conn.execute(sql + " GROUP BY status", args)}
