"""Papers, their appearances in dated listings, and the listings themselves.

A paper is stored once (key: arXiv id without version, else a hash of the
normalized title; a title-keyed paper is merged into its arXiv id when one
turns up). Each appearance (date, source, position, upvotes) is kept, so
"seen on N days" is a query. Saving the same listing twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from digest.models import ERROR, DayPaper, Listing, Paper, normalize_title
from digest.store.db import transaction

MIGRATIONS = [
    """
    CREATE TABLE papers (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        title_key TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        url TEXT NOT NULL DEFAULT '',
        categories TEXT NOT NULL DEFAULT '[]',
        code_url TEXT,
        keywords TEXT NOT NULL DEFAULT '[]',
        ai_summary TEXT,
        first_seen TEXT NOT NULL
    );
    CREATE INDEX papers_title_key ON papers(title_key);
    CREATE TABLE listings (
        date TEXT NOT NULL,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        papers INTEGER NOT NULL,
        saved_at TEXT NOT NULL,
        PRIMARY KEY (date, source)
    );
    CREATE TABLE appearances (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON UPDATE CASCADE,
        date TEXT NOT NULL,
        source TEXT NOT NULL,
        position INTEGER NOT NULL,
        upvotes INTEGER,
        comments INTEGER,
        announce_type TEXT,
        PRIMARY KEY (paper_id, date, source)
    ) WITHOUT ROWID;
    CREATE INDEX appearances_by_day ON appearances(date, source, position)
    """
]

_UPSERT = """
INSERT INTO papers (id, title, title_key, abstract, authors, url, categories, code_url, keywords,
                    ai_summary, first_seen)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    abstract = CASE WHEN length(excluded.abstract) > length(papers.abstract)
                    THEN excluded.abstract ELSE papers.abstract END,
    authors = CASE WHEN papers.authors = '[]' THEN excluded.authors ELSE papers.authors END,
    url = CASE WHEN papers.url = '' THEN excluded.url ELSE papers.url END,
    categories = CASE WHEN papers.categories = '[]' THEN excluded.categories ELSE papers.categories END,
    code_url = COALESCE(excluded.code_url, papers.code_url),
    keywords = CASE WHEN excluded.keywords = '[]' THEN papers.keywords ELSE excluded.keywords END,
    ai_summary = COALESCE(excluded.ai_summary, papers.ai_summary),
    first_seen = min(papers.first_seen, excluded.first_seen)
"""


@dataclass(frozen=True)
class SaveResult:
    date: dt.date
    source: str
    papers: int  # distinct papers in the listing
    new_papers: int  # papers the store had never seen
    duplicates: int  # repeats inside the listing, dropped


class PapersMixin:
    conn: sqlite3.Connection

    def save_listing(self, listing: Listing) -> SaveResult:
        """Store a listing in one transaction. A failed listing never erases an earlier good one."""
        if listing.date is None:
            raise ValueError("a listing must have a date before it is stored")
        day = listing.date.isoformat()
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with transaction(self.conn):
            if listing.status == ERROR:
                self.conn.execute(
                    "INSERT INTO listings(date, source, kind, status, error, papers, saved_at) "
                    "VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT(date, source) DO NOTHING",
                    (day, listing.source, listing.kind, listing.status, listing.error, now),
                )
                return SaveResult(listing.date, listing.source, 0, 0, 0)
            papers, duplicates = self._resolve_ids(listing.papers)
            before = self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]
            self.conn.executemany(_UPSERT, (_paper_row(p, day) for p in papers))
            after = self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]
            self.conn.execute("DELETE FROM appearances WHERE date = ? AND source = ?", (day, listing.source))
            self.conn.executemany(
                "INSERT INTO appearances(paper_id, date, source, position, upvotes, comments, announce_type) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (p.id, day, listing.source, i, p.upvotes, p.comments, p.announce_type)
                    for i, p in enumerate(papers)
                ),
            )
            self.conn.execute(
                "INSERT INTO listings(date, source, kind, status, error, papers, saved_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(date, source) DO UPDATE SET "
                "kind = excluded.kind, status = excluded.status, error = excluded.error, "
                "papers = excluded.papers, saved_at = excluded.saved_at",
                (day, listing.source, listing.kind, listing.status, listing.error, len(papers), now),
            )
        return SaveResult(listing.date, listing.source, len(papers), after - before, duplicates)

    def _resolve_ids(self, papers: Iterable[Paper]) -> tuple[list[Paper], int]:
        """Map each paper onto the id the store already uses for it; drop repeats in the listing."""
        papers = list(papers)
        keys = {p.id: normalize_title(p.title) for p in papers}
        known: dict[str, str] = {}
        title_keys = list(set(keys.values()))
        for start in range(0, len(title_keys), 500):
            chunk = title_keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT id, title_key FROM papers WHERE title_key IN ({marks})", chunk
            ):
                # prefer an arXiv id over a title hash when both exist
                if row["title_key"] not in known or known[row["title_key"]].startswith("title:"):
                    known[row["title_key"]] = row["id"]
        out: list[Paper] = []
        seen: set[str] = set()
        for p in papers:
            tk = keys[p.id]
            existing = known.get(tk)
            if p.id.startswith("title:") and existing:
                p = _with_id(p, existing)
            elif existing and existing.startswith("title:") and existing != p.id:
                # the arXiv id of a paper first met by title only: move its history onto the id
                self._merge(existing, p.id)
                known[tk] = p.id
            if p.id in seen:
                continue
            seen.add(p.id)
            out.append(p)
        return out, len(papers) - len(out)

    def _merge(self, old_id: str, new_id: str) -> None:
        if self.conn.execute("SELECT 1 FROM papers WHERE id = ?", (new_id,)).fetchone():
            self.conn.execute(
                "UPDATE OR IGNORE appearances SET paper_id = ? WHERE paper_id = ?", (new_id, old_id)
            )
            self.conn.execute("DELETE FROM appearances WHERE paper_id = ?", (old_id,))
            self.conn.execute("DELETE FROM papers WHERE id = ?", (old_id,))
        else:
            self.conn.execute("UPDATE papers SET id = ? WHERE id = ?", (new_id, old_id))

    def day_papers(self, day: dt.date) -> list[DayPaper]:
        """Every distinct paper listed on ``day``, best position first."""
        iso = day.isoformat()
        rows = self.conn.execute(
            """
            SELECT p.*, a.source, a.position, a.upvotes, a.comments, a.announce_type,
                   (SELECT papers FROM listings l WHERE l.date = a.date AND l.source = a.source) AS size,
                   (SELECT count(DISTINCT b.date) FROM appearances b
                     WHERE b.paper_id = p.id AND b.date <= a.date) AS seen_days
            FROM appearances a JOIN papers p ON p.id = a.paper_id
            WHERE a.date = ?
            ORDER BY a.position, a.source
            """,
            (iso,),
        ).fetchall()
        by_id: dict[str, dict] = {}
        for r in rows:
            entry = by_id.get(r["id"])
            if entry is None:
                by_id[r["id"]] = {"row": r, "sources": [r["source"]], "upvotes": r["upvotes"], "comments": r["comments"]}
                continue
            entry["sources"].append(r["source"])
            for k in ("upvotes", "comments"):
                if r[k] is not None and (entry[k] is None or r[k] > entry[k]):
                    entry[k] = r[k]
        out = []
        for entry in by_id.values():
            r = entry["row"]
            paper = _paper_from_row(r, entry["upvotes"], entry["comments"], r["announce_type"])
            out.append(
                DayPaper(
                    paper=paper,
                    sources=tuple(sorted(set(entry["sources"]))),
                    position=r["position"],
                    seen_days=r["seen_days"],
                    listing_size=r["size"] or 1,
                )
            )
        return out

    def papers_by_day(self, start: dt.date, end: dt.date) -> dict[dt.date, list[Paper]]:
        """Papers listed on each day in [start, end], for trailing windows and background IDF."""
        rows = self.conn.execute(
            """
            SELECT a.date AS day, p.*, max(a.upvotes) AS up, max(a.comments) AS com, min(a.announce_type) AS at
            FROM appearances a JOIN papers p ON p.id = a.paper_id
            WHERE a.date BETWEEN ? AND ?
            GROUP BY a.date, p.id ORDER BY a.date, min(a.position)
            """,
            (start.isoformat(), end.isoformat()),
        )
        out: dict[dt.date, list[Paper]] = {}
        for r in rows:
            out.setdefault(dt.date.fromisoformat(r["day"]), []).append(_paper_from_row(r, r["up"], r["com"], r["at"]))
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


def _with_id(p: Paper, new_id: str) -> Paper:
    from dataclasses import replace

    return replace(p, id=new_id)


def _paper_row(p: Paper, day: str) -> tuple:
    return (
        p.id,
        p.title,
        normalize_title(p.title),
        p.abstract,
        json.dumps(list(p.authors), ensure_ascii=False),
        p.url,
        json.dumps(list(p.categories)),
        p.code_url,
        json.dumps(list(p.keywords), ensure_ascii=False),
        p.ai_summary,
        day,
    )


def _paper_from_row(r: sqlite3.Row, upvotes: int | None, comments: int | None, announce: str | None) -> Paper:
    return Paper(
        id=r["id"],
        title=r["title"],
        abstract=r["abstract"],
        authors=tuple(json.loads(r["authors"])),
        url=r["url"],
        categories=tuple(json.loads(r["categories"])),
        upvotes=upvotes,
        comments=comments,
        code_url=r["code_url"],
        keywords=tuple(json.loads(r["keywords"])),
        ai_summary=r["ai_summary"],
        announce_type=announce,
    )
