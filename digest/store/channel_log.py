"""The delivery log of the channels that post once per digest (chat rooms), beside the
email log: one row per (digest date or week, send round, channel), in the same rounds
(``send_rounds``), so ``--resend`` opens a new round for both.

A post is marked ``sending`` before the request and ``sent`` or ``deferred`` after it. A
``deferred`` one (the endpoint failed or said 429) is posted again by the next run; a
``sending`` one (the run was killed between the request and the reply) is not: a chat
service keeps no Message-ID to drop a second copy by, so the log errs on the side of not
posting twice and the summary says so.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from digest.store.db import transaction

MIGRATIONS = [
    """
    CREATE TABLE channel_deliveries (
        date TEXT NOT NULL,
        round INTEGER NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (date, round, channel)
    )
    """,
]


def _key(day: dt.date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


class ChannelLogMixin:
    conn: sqlite3.Connection

    def channel_status(self, day: dt.date | str, round_: int, channel: str) -> str | None:
        """What the log says of ``channel`` for this digest and round (None: not tried)."""
        row = self.conn.execute(
            "SELECT status FROM channel_deliveries WHERE date = ? AND round = ? AND channel = ?",
            (_key(day), round_, channel),
        ).fetchone()
        return None if row is None else str(row[0])

    def log_channel(
        self,
        day: dt.date | str,
        round_: int,
        channel: str,
        status: str,
        error: str | None = None,
    ) -> None:
        """Record ``status`` for ``channel`` in its own transaction; ``sending`` counts an attempt."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        attempt = 1 if status == "sending" else 0
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO channel_deliveries(date, round, channel, status, attempts, error, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(date, round, channel) DO UPDATE SET status = excluded.status, "
                "attempts = channel_deliveries.attempts + excluded.attempts, "
                "error = excluded.error, updated_at = excluded.updated_at",
                (_key(day), round_, channel, status, attempt, error, now),
            )

    def channel_attempts(self, day: dt.date | str, channel: str) -> int:
        """Posts tried for ``channel`` and this digest, over every round."""
        row = self.conn.execute(
            "SELECT coalesce(sum(attempts), 0) FROM channel_deliveries "
            "WHERE date = ? AND channel = ?",
            (_key(day), channel),
        ).fetchone()
        return int(row[0])
