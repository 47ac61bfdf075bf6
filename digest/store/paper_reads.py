"""Reading stored papers back: a day's papers (``day_papers``), a window of days
(``papers_by_day``), each paper with its fields as of the day asked. Written by
:mod:`digest.store.papers`.

Papers are decoded from their rows on every read: keeping them decoded per process
(keyed by ``papers.revision``) saved 0.5% of a backfill's CPU (60 days, two runs each
way, alternated: 37.5 and 39.7 s with, 37.7 and 39.9 s without; load 8.6-11.5;
``.venv/bin/python bench/bench_backfill.py --no-search --days 60 [--without
decoded_papers]``, 2026-12-06), under issue 12's 10%.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from digest.models import DayPaper, Paper
from digest.store.db import transaction

CHUNK = 900  # bound parameters per IN (...) query, well under SQLite's limit
# the stored fields of a Paper, in Paper's order; papers and paper_history both have them
FIELDS = "title, abstract, authors, url, categories, code_url, keywords, ai_summary"


class PaperReadsMixin:
    conn: sqlite3.Connection

    def day_papers(self, day: dt.date) -> list[DayPaper]:
        """Every distinct paper listed on ``day``, best position first, with its fields as of
        ``day`` (later days' listings, even when stored already, do not show)."""
        iso = day.isoformat()
        with _snapshot(self.conn):
            rows = self.conn.execute(
                """
                SELECT a.paper_id, a.source, a.position, a.upvotes, a.comments, a.announce_type,
                       (SELECT papers FROM listings l
                         WHERE l.date = a.date AND l.source = a.source) AS size,
                       (SELECT count(DISTINCT b.date) FROM appearances b
                         WHERE b.paper_id = a.paper_id AND b.date <= a.date) AS seen_days
                FROM appearances a
                WHERE a.date = ?
                ORDER BY a.position, a.source
                """,
                (iso,),
            ).fetchall()
            bases = self._papers_as_of({r[0] for r in rows}, iso)
        by_id: dict[str, list] = {}  # id -> [first row, sources, upvotes, comments]
        for r in rows:
            entry = by_id.get(r[0])
            if entry is None:
                by_id[r[0]] = [r, [r[1]], r[3], r[4]]
                continue
            entry[1].append(r[1])
            for k, value in ((2, r[3]), (3, r[4])):
                if value is not None and (entry[k] is None or value > entry[k]):
                    entry[k] = value
        return [
            DayPaper(
                paper=_with_counts(bases[pid], upvotes, comments, r[5]),
                sources=tuple(sorted(set(sources))),
                position=r[2],
                seen_days=r[7],
                listing_size=r[6] or 1,
            )
            for pid, (r, sources, upvotes, comments) in by_id.items()
        ]

    def papers_by_day(
        self, start: dt.date, end: dt.date, as_of: dt.date | None = None
    ) -> dict[dt.date, list[Paper]]:
        """Papers listed on each day in [start, end], for trailing windows and background IDF.

        Their fields are as of ``as_of`` (default: the day after ``end``, the day whose
        trailing window this is): listings of later days, even when stored already, do not show.
        Each day lists its papers by best position, then id.
        """
        as_of_iso = (as_of or end + dt.timedelta(days=1)).isoformat()
        # appearances are grouped here: a GROUP BY and ORDER BY in SQLite took twice as long
        with _snapshot(self.conn):
            rows = self.conn.execute(
                "SELECT a.date, a.position, a.paper_id, a.upvotes, a.comments, a.announce_type "
                "FROM appearances a WHERE a.date BETWEEN ? AND ?",
                (start.isoformat(), end.isoformat()),
            ).fetchall()
            bases = self._papers_as_of({r[2] for r in rows}, as_of_iso)
        # one entry per day and paper: best position, most upvotes and comments, and the
        # least announce type (as SQL's min/max, which skip NULLs)
        entries: dict[tuple[str, str], list] = {}
        for r in rows:
            entry = entries.get((r[0], r[2]))
            if entry is None:
                entries[(r[0], r[2])] = list(r)
                continue
            entry[1] = min(entry[1], r[1])
            for k, pick in ((3, max), (4, max), (5, min)):
                if r[k] is not None:
                    entry[k] = r[k] if entry[k] is None else pick(entry[k], r[k])
        out: dict[dt.date, list[Paper]] = {}
        days: dict[str, list[Paper]] = {}
        # (day, position, id) is unique: the sort never compares the rest
        for day, _, pid, up, com, at in sorted(entries.values()):
            papers = days.get(day)
            if papers is None:
                papers = days[day] = out.setdefault(dt.date.fromisoformat(day), [])
            papers.append(_with_counts(bases[pid], up, com, at))
        return out

    def _papers_as_of(self, ids: set[str], as_of: str) -> dict[str, Paper]:
        """The papers ``ids`` without per-day counts, with their fields as of the ISO date
        ``as_of``."""
        out: dict[str, Paper] = {}
        wanted = sorted(ids)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows = self.conn.execute(
                f"SELECT id, {FIELDS} FROM papers WHERE id IN ({marks(chunk)})", chunk
            )
            for r in rows:
                out[r[0]] = _paper_from_fields(r[0], tuple(r)[1:])
        # fields that a later day's listing changed: the oldest record after as_of is what
        # as_of saw; records are few (a paper whose abstract grew, a filled-in code link)
        earlier = self.conn.execute(
            f"SELECT paper_id, {FIELDS} FROM paper_history WHERE until_date > ? "
            "ORDER BY until_date DESC",
            (as_of,),
        ).fetchall()
        for r in earlier:
            if r[0] in out:
                out[r[0]] = _paper_from_fields(r[0], tuple(r)[1:])
        return out

    def listings_for(self, day: dt.date) -> list[dict]:
        rows = self.conn.execute(
            "SELECT source, kind, status, error, papers FROM listings WHERE date = ? ORDER BY source",
            (day.isoformat(),),
        )
        return [dict(r) for r in rows]

    def listing_dates(self) -> list[dt.date]:
        rows = self.conn.execute("SELECT DISTINCT date FROM listings ORDER BY date")
        return [dt.date.fromisoformat(r[0]) for r in rows]

    def count_papers(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM papers").fetchone()[0])


def marks(values: list[str]) -> str:
    return ",".join("?" * len(values)) if values else "NULL"


def _with_counts(
    paper: Paper, upvotes: int | None, comments: int | None, announce: str | None
) -> Paper:
    """``paper`` with one day's counts."""
    if upvotes is None and comments is None and announce is None:
        return paper
    return replace(paper, upvotes=upvotes, comments=comments, announce_type=announce)


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction (unless one is open), so that ids and fields read in two queries
    belong to the same state of a database that another process may be writing."""
    if conn.in_transaction:
        yield
        return
    with transaction(conn, immediate=False):
        yield


def _paper_from_fields(pid: str, fields: tuple[object, ...]) -> Paper:
    """A Paper without per-day counts from the stored ``FIELDS``."""
    title, abstract, authors, url, categories, code_url, keywords, ai_summary = fields
    # the three JSON lists in one json.loads: half the decoding time of three calls, and a
    # backfill decodes ~2,000 papers a day (its window)
    lists = json.loads(f"[{authors},{categories},{keywords}]")
    return Paper(
        id=pid,
        title=title,  # type: ignore[arg-type]
        abstract=abstract,  # type: ignore[arg-type]
        authors=tuple(lists[0]),
        url=url,  # type: ignore[arg-type]
        categories=tuple(lists[1]),
        code_url=code_url,  # type: ignore[arg-type]
        keywords=tuple(lists[2]),
        ai_summary=ai_summary,  # type: ignore[arg-type]
    )
