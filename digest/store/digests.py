"""Finished digests, kept as their ``digest.json`` body so the feed and archive can be rebuilt."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from digest.models import Digest
from digest.store.db import transaction

MIGRATIONS = [
    """
    CREATE TABLE digests (
        date TEXT PRIMARY KEY,
        generated_at TEXT NOT NULL,
        papers INTEGER NOT NULL,
        body TEXT NOT NULL
    )
    """,
    # what the archive page shows of the day (render.ArchiveEntry as JSON); NULL until the
    # site is next published, and again whenever the digest is saved anew
    "ALTER TABLE digests ADD COLUMN archive TEXT",
]


class DigestsMixin:
    conn: sqlite3.Connection

    def save_digest(self, digest: Digest, archive: dict | None = None) -> None:
        """Keep ``digest`` (replacing the day's former one) with its archive entry (None:
        made when the site is next published)."""
        # the digest.json text itself (indented), made once for the store and the output file
        body = digest.to_json_text()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO digests(date, generated_at, papers, body, archive) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(date) DO UPDATE SET generated_at = excluded.generated_at, "
                "papers = excluded.papers, body = excluded.body, archive = excluded.archive",
                (
                    digest.date.isoformat(),
                    digest.generated_at.isoformat(),
                    len(digest.papers),
                    body,
                    json.dumps(archive) if archive is not None else None,
                ),
            )

    def digest_for(self, day: dt.date) -> Digest | None:
        row = self.conn.execute(
            "SELECT body FROM digests WHERE date = ?", (day.isoformat(),)
        ).fetchone()
        return Digest.from_json(json.loads(row[0])) if row else None

    def recent_digests(self, limit: int, until: dt.date | None = None) -> list[Digest]:
        """The newest ``limit`` digests with papers up to ``until``, newest first (a day
        without papers is kept, but is no day for the feeds)."""
        rows = self.conn.execute(
            "SELECT body FROM digests WHERE date <= ? AND papers > 0 ORDER BY date DESC LIMIT ?",
            ((until or dt.date.max).isoformat(), limit),
        )
        return [Digest.from_json(json.loads(r[0])) for r in rows]

    def archive_entries(self) -> dict[dt.date, dict | None]:
        """Every digest's date, oldest first, with its archive entry (None: not made yet).
        Days without papers are left out: the archive lists only days worth opening."""
        rows = self.conn.execute("SELECT date, archive FROM digests WHERE papers > 0 ORDER BY date")
        return {dt.date.fromisoformat(day): json.loads(e) if e else None for day, e in rows}

    def save_archive_entries(self, entries: dict[dt.date, tuple[str, dict]]) -> None:
        """Keep archive entries, each made from the digest ``generated_at`` names: one saved
        anew meanwhile (by another process) keeps its NULL."""
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE digests SET archive = ? WHERE date = ? AND generated_at = ?",
                (
                    (json.dumps(entry), day.isoformat(), generated)
                    for day, (generated, entry) in entries.items()
                ),
            )

    def digest_dates(self) -> list[dt.date]:
        return [
            dt.date.fromisoformat(r[0])
            for r in self.conn.execute("SELECT date FROM digests ORDER BY date")
        ]
