"""What each subscriber's For you section held, per day (personal digests).

The send path writes the items of every personalized email before sending; the feedback
page accepts a vote only for a paper that was in that reader's email, and the private feed
serves the latest days' items.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from digest.store.db import transaction

MIGRATIONS = [
    """
    CREATE TABLE for_you (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        date TEXT NOT NULL,
        position INTEGER NOT NULL,
        paper_id TEXT NOT NULL,
        title TEXT NOT NULL,
        url TEXT NOT NULL,
        reasons TEXT NOT NULL,
        score REAL NOT NULL,
        PRIMARY KEY (subscriber_id, date, position)
    ) WITHOUT ROWID
    """
]


@dataclass(frozen=True)
class ForYouItem:
    """One paper of a reader's For you section, with the reasons it was picked."""

    paper_id: str
    title: str
    url: str
    reasons: tuple[str, ...]
    score: float


class ForYouMixin:
    conn: sqlite3.Connection

    def save_for_you(
        self, day: dt.date, sections: Iterable[tuple[int, Sequence[ForYouItem]]]
    ) -> None:
        """Replace the For you items of ``day`` for each (subscriber id, items) given."""
        d = day.isoformat()
        with transaction(self.conn):
            for subscriber_id, items in sections:
                self.conn.execute(
                    "DELETE FROM for_you WHERE subscriber_id = ? AND date = ?", (subscriber_id, d)
                )
                self.conn.executemany(
                    "INSERT INTO for_you VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            subscriber_id,
                            d,
                            i,
                            it.paper_id,
                            it.title,
                            it.url,
                            json.dumps(it.reasons),
                            it.score,
                        )  # fmt: skip
                        for i, it in enumerate(items)
                    ],
                )

    def for_you(self, subscriber_id: int, day: dt.date) -> list[ForYouItem]:
        rows = self.conn.execute(
            "SELECT paper_id, title, url, reasons, score FROM for_you "
            "WHERE subscriber_id = ? AND date = ? ORDER BY position",
            (subscriber_id, day.isoformat()),
        ).fetchall()
        return [_item(r) for r in rows]

    def recent_for_you(
        self, subscriber_id: int, days: int = 14
    ) -> list[tuple[dt.date, list[ForYouItem]]]:
        """The For you items of the reader's latest ``days`` emails, newest first."""
        dates = self.conn.execute(
            "SELECT DISTINCT date FROM for_you WHERE subscriber_id = ? ORDER BY date DESC LIMIT ?",
            (subscriber_id, days),
        ).fetchall()
        out = []
        for (d,) in dates:
            day = dt.date.fromisoformat(d)
            out.append((day, self.for_you(subscriber_id, day)))
        return out


def _item(r: sqlite3.Row | tuple[object, ...]) -> ForYouItem:
    return ForYouItem(
        str(r[0]),
        str(r[1]),
        str(r[2]),
        tuple(json.loads(str(r[3]))),
        float(r[4]),  # type: ignore[arg-type]
    )
