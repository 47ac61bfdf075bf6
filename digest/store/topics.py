"""Topics and weekly digests: each day's themes with their signature, and the topics that link them across days.

``day_themes`` is written when a day is produced (any process, any order); ``topics`` and
``day_themes.topic_id`` only by :func:`digest.topics.link_topics`, which walks the days in
date order (see docs/topics.md). ``topics_meta.linked_until`` is the last day linked, so a
new day is linked incrementally and an earlier one re-links every day from scratch.
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
    CREATE TABLE day_themes (
        date TEXT NOT NULL,
        theme_id TEXT NOT NULL,
        ord INTEGER NOT NULL,
        label TEXT NOT NULL,
        size INTEGER NOT NULL,
        signature TEXT NOT NULL,
        paper_ids TEXT NOT NULL,
        topic_id TEXT,
        PRIMARY KEY (date, theme_id)
    ) WITHOUT ROWID;
    CREATE INDEX day_themes_by_topic ON day_themes(topic_id, date);
    CREATE TABLE topics (
        id TEXT PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        born TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        papers INTEGER NOT NULL,
        centroid TEXT NOT NULL,
        merged_into TEXT,
        split_from TEXT
    ) WITHOUT ROWID;
    CREATE TABLE topics_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    # the weekly digests' digest.json bodies, for weekly.xml
    """
    CREATE TABLE weeklies (
        week TEXT PRIMARY KEY,
        papers INTEGER NOT NULL,
        body TEXT NOT NULL
    ) WITHOUT ROWID
    """,
]


@dataclass(frozen=True, slots=True)
class DayTheme:
    """One theme of one day as topic linking sees it. ``signature``: term -> weight, unit length."""

    date: dt.date
    theme_id: str
    ord: int
    label: str
    size: int
    signature: dict[str, float]
    paper_ids: tuple[str, ...]
    topic_id: str | None = None


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """A topic: ``id`` and ``slug`` never change; ``label`` is its latest theme's."""

    id: str
    slug: str
    label: str
    born: dt.date
    last_seen: dt.date
    papers: int
    centroid: dict[str, float]
    merged_into: str | None = None
    split_from: str | None = None


class TopicsMixin:
    conn: sqlite3.Connection

    def save_day_themes(self, day: dt.date, themes: Sequence[DayTheme]) -> None:
        """Replace the day's themes (unlinked until topics are next linked)."""
        with transaction(self.conn):
            self.conn.execute("DELETE FROM day_themes WHERE date = ?", (day.isoformat(),))
            self.conn.executemany(
                "INSERT INTO day_themes(date, theme_id, ord, label, size, signature, paper_ids) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        day.isoformat(),
                        t.theme_id,
                        t.ord,
                        t.label,
                        t.size,
                        json.dumps(t.signature, separators=(",", ":")),
                        json.dumps(list(t.paper_ids), separators=(",", ":")),
                    )
                    for t in themes
                ),
            )

    def day_themes(self, since: dt.date | None = None, papers: bool = False) -> list[DayTheme]:
        """Every stored day theme from ``since`` on, oldest day first, in the day's order
        (``papers``: with their paper ids, else empty tuples)."""
        rows = self.conn.execute(
            "SELECT date, theme_id, ord, label, size, signature, "
            f"{'paper_ids' if papers else 'NULL'}, topic_id FROM day_themes "
            "WHERE date >= ? ORDER BY date, ord",
            ((since or dt.date.min).isoformat(),),
        )
        return [
            DayTheme(
                dt.date.fromisoformat(r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                json.loads(r[5]),
                tuple(json.loads(r[6])) if r[6] else (),
                r[7],
            )
            for r in rows
        ]

    def topic_days(self) -> list[DayTheme]:
        """Every linked day theme (no signatures), oldest first: topics' histories."""
        rows = self.conn.execute(
            "SELECT date, theme_id, ord, label, size, paper_ids, topic_id FROM day_themes "
            "WHERE topic_id IS NOT NULL ORDER BY date, ord"
        )
        return [
            DayTheme(
                dt.date.fromisoformat(r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                {},
                tuple(json.loads(r[5])),
                r[6],
            )
            for r in rows
        ]

    def linked_until(self) -> dt.date | None:
        row = self.conn.execute(
            "SELECT value FROM topics_meta WHERE key = 'linked_until'"
        ).fetchone()
        return dt.date.fromisoformat(row[0]) if row else None

    def topics(self) -> list[TopicRecord]:
        rows = self.conn.execute(
            "SELECT id, slug, label, born, last_seen, papers, centroid, merged_into, split_from "
            "FROM topics ORDER BY born, id"
        )
        return [
            TopicRecord(
                r[0],
                r[1],
                r[2],
                dt.date.fromisoformat(r[3]),
                dt.date.fromisoformat(r[4]),
                r[5],
                json.loads(r[6]),
                r[7],
                r[8],
            )
            for r in rows
        ]

    def save_links(
        self,
        linked_until: dt.date,
        topics: Iterable[TopicRecord],
        links: Iterable[tuple[dt.date, str, str | None]],
        full: bool,
    ) -> None:
        """Keep the topics and each (day, theme id) -> topic id at once; ``full``: they replace
        every topic (a re-link from the first day)."""
        with transaction(self.conn):
            if full:
                self.conn.execute("DELETE FROM topics")
                self.conn.execute("UPDATE day_themes SET topic_id = NULL")
            self.conn.executemany(
                "INSERT INTO topics(id, slug, label, born, last_seen, papers, centroid, "
                "merged_into, split_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET label = excluded.label, "
                "last_seen = excluded.last_seen, papers = excluded.papers, "
                "centroid = excluded.centroid, merged_into = excluded.merged_into",
                (
                    (
                        t.id,
                        t.slug,
                        t.label,
                        t.born.isoformat(),
                        t.last_seen.isoformat(),
                        t.papers,
                        json.dumps(t.centroid, separators=(",", ":")),
                        t.merged_into,
                        t.split_from,
                    )
                    for t in topics
                ),
            )
            self.conn.executemany(
                "UPDATE day_themes SET topic_id = ? WHERE date = ? AND theme_id = ?",
                ((topic, day.isoformat(), theme) for day, theme, topic in links),
            )
            self.conn.execute(
                "INSERT INTO topics_meta(key, value) VALUES ('linked_until', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (linked_until.isoformat(),),
            )

    def paper_cards(self, ids: Iterable[str]) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        """Title, URL and authors (as stored now) of each of ``ids``, for topic pages: a
        light read, without the abstracts and the as-of-day history of ``papers_by_day``."""
        wanted = list(dict.fromkeys(ids))
        out = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            rows = self.conn.execute(
                f"SELECT id, title, url, authors FROM papers WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            out.update({r[0]: (r[1], r[2], tuple(json.loads(r[3]))) for r in rows})
        return out

    def save_weekly(self, week: str, papers: int, body: str) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO weeklies(week, papers, body) VALUES (?, ?, ?) ON CONFLICT(week) "
                "DO UPDATE SET papers = excluded.papers, body = excluded.body",
                (week, papers, body),
            )

    def recent_weeklies(self, limit: int) -> list[str]:
        """The newest ``limit`` weekly digest.json bodies, newest first."""
        rows = self.conn.execute("SELECT body FROM weeklies ORDER BY week DESC LIMIT ?", (limit,))
        return [r[0] for r in rows]

    def digest_text(self, day: dt.date) -> str | None:
        """The stored ``digest.json`` text of ``day``."""
        row = self.conn.execute(
            "SELECT body FROM digests WHERE date = ?", (day.isoformat(),)
        ).fetchone()
        return row[0] if row else None

    def replace_digest_text(self, day: dt.date, text: str) -> None:
        """Replace the day's ``digest.json`` text, keeping its archive entry (topic ids only
        change what the archive does not show)."""
        with transaction(self.conn):
            self.conn.execute("UPDATE digests SET body = ? WHERE date = ?", (text, day.isoformat()))
