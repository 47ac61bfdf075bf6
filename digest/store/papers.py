"""Papers, their appearances in dated listings, and the listings themselves.

A paper is stored once (key: arXiv id without version, else a hash of the
normalized title; a title-keyed paper is merged into its arXiv id when one
turns up). Each appearance (date, source, position, upvotes) is kept, so
"seen on N days" is a query. Saving the same listing twice changes nothing.

This module writes them (``save_listing``: ids, merges, the history of changed fields);
:mod:`digest.store.paper_reads` reads a day and a window of days back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from json.encoder import encode_basestring

from digest.models import EMPTY, ERROR, NOT_MODIFIED, Listing, Paper, normalize_title
from digest.store.db import transaction
from digest.store.paper_reads import CHUNK, FIELDS, PaperReadsMixin, marks

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
    """,
    # a fingerprint of each stored listing, so saving the same listing again writes nothing
    """
    ALTER TABLE listings ADD COLUMN checksum TEXT
    """,
    # revision: a random number drawn again whenever a paper's fields change, so a process
    # may keep the papers it decoded and read again only changed ones (in any database)
    """
    ALTER TABLE papers ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    UPDATE papers SET revision = random()
    """,
    # a paper's fields as they were before a later day's listing changed them, so that day D
    # reads them as of D even when later days are stored already (a backfill stores them first)
    """
    CREATE TABLE paper_history (
        paper_id TEXT NOT NULL,
        until_date TEXT NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL,
        authors TEXT NOT NULL,
        url TEXT NOT NULL,
        categories TEXT NOT NULL,
        code_url TEXT,
        keywords TEXT NOT NULL,
        ai_summary TEXT,
        PRIMARY KEY (paper_id, until_date)
    ) WITHOUT ROWID
    """,
    # ids and revisions in a few compact pages: a day's reads look revisions up here, not in
    # the table's pages, which hold the abstracts (a new connection reads each page it needs)
    """
    CREATE INDEX papers_revision ON papers(id, revision)
    """,
]
log = logging.getLogger("digest")

_UPSERT = """
INSERT INTO papers (id, title, title_key, abstract, authors, url, categories, code_url, keywords,
                    ai_summary, first_seen, revision)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, random())
ON CONFLICT(id) DO UPDATE SET
    abstract = CASE WHEN length(excluded.abstract) > length(papers.abstract)
                    THEN excluded.abstract ELSE papers.abstract END,
    authors = CASE WHEN papers.authors = '[]' THEN excluded.authors ELSE papers.authors END,
    url = CASE WHEN papers.url = '' THEN excluded.url ELSE papers.url END,
    categories = CASE WHEN papers.categories = '[]' THEN excluded.categories ELSE papers.categories END,
    code_url = COALESCE(excluded.code_url, papers.code_url),
    keywords = CASE WHEN excluded.keywords = '[]' THEN papers.keywords ELSE excluded.keywords END,
    ai_summary = COALESCE(excluded.ai_summary, papers.ai_summary),
    first_seen = CASE WHEN excluded.first_seen < papers.first_seen
                      THEN excluded.first_seen ELSE papers.first_seen END
"""


@dataclass(frozen=True)
class SaveResult:
    date: dt.date
    source: str
    papers: int  # distinct papers in the listing
    new_papers: int  # papers the store had never seen
    duplicates: int  # repeats inside the listing, dropped
    unchanged: bool = False  # nothing was written: same listing again, or kept the stored one


class PapersMixin(PaperReadsMixin):
    """Writing listings (this module) and reading them back (:mod:`digest.store.paper_reads`)."""

    conn: sqlite3.Connection

    def save_listing(self, listing: Listing) -> SaveResult:
        """Store a listing in one transaction: all of it or, on any failure, none of it.

        Saving the same listing again writes nothing. A failed listing never replaces a
        stored one, and neither does an empty or not-modified one replace stored papers
        (a feed that is empty on a second fetch does not erase the first).
        """
        if listing.date is None:
            raise ValueError("a listing must have a date before it is stored")
        day = listing.date.isoformat()
        checksum = _checksum(listing)
        with transaction(self.conn):
            stored = self.conn.execute(
                "SELECT status, papers, checksum FROM listings WHERE date = ? AND source = ?",
                (day, listing.source),
            ).fetchone()
            if _keep_stored(listing, stored, checksum):
                return SaveResult(listing.date, listing.source, 0, 0, 0, unchanged=True)
            papers, duplicates, known = self._resolve_ids(listing.papers)
            stored = [p.id for p, _ in papers if p.id in known]
            before = self._stored_fields(stored)
            self.conn.executemany(_UPSERT, (_paper_row(p, key, day) for p, key in papers))
            self._note_changes(before, self._stored_fields(stored), day, listing.source)
            self.conn.execute(
                "DELETE FROM appearances WHERE date = ? AND source = ?", (day, listing.source)
            )
            self.conn.executemany(
                "INSERT INTO appearances(paper_id, date, source, position, upvotes, comments, "
                "announce_type) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (p.id, day, listing.source, i, p.upvotes, p.comments, p.announce_type)
                    for i, (p, _) in enumerate(papers)
                ),
            )
            self.conn.execute(
                "INSERT INTO listings(date, source, kind, status, error, papers, saved_at, checksum) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(date, source) DO UPDATE SET "
                "kind = excluded.kind, status = excluded.status, error = excluded.error, "
                "papers = excluded.papers, saved_at = excluded.saved_at, checksum = excluded.checksum",
                (
                    day,
                    listing.source,
                    listing.kind,
                    listing.status,
                    listing.error,
                    len(papers),
                    _now(),
                    checksum,
                ),
            )
        new = sum(1 for p, _ in papers if p.id not in known)
        if duplicates:
            log.info("%s %s: %d repeated papers stored once", listing.source, day, duplicates)
        return SaveResult(listing.date, listing.source, len(papers), new, duplicates)

    def _resolve_ids(
        self, papers: Iterable[Paper]
    ) -> tuple[list[tuple[Paper, str]], int, set[str]]:
        """Map each paper onto the id the store uses for it; drop repeats in the listing.

        Returns (paper, title key) pairs in listing order, how many repeats were dropped,
        and which of the listing's ids the store already had. A title-keyed paper takes
        the arXiv id of a paper with the same normalized title (stored, or in this
        listing); an arXiv paper whose title was stored under a title key takes that
        paper's history over.
        """
        keys: dict[str, str] = {}  # title -> key, each title normalized once
        keyed = []
        for p in papers:
            key = keys.get(p.title)
            if key is None:
                key = keys[p.title] = normalize_title(p.title)
            keyed.append((p, key))
        known: dict[str, str] = {}  # title key -> id, arXiv ids preferred
        stored_ids: set[str] = set()
        ids = list({p.id for p, _ in keyed})
        title_keys = list({tk for _, tk in keyed})
        half = CHUNK // 2
        for start in range(0, max(len(ids), len(title_keys)), half):
            id_chunk = ids[start : start + half]
            tk_chunk = title_keys[start : start + half]
            rows = self.conn.execute(
                f"SELECT id, title_key FROM papers WHERE id IN ({marks(id_chunk)}) "
                f"UNION SELECT id, title_key FROM papers WHERE title_key IN ({marks(tk_chunk)})",
                id_chunk + tk_chunk,
            )
            for pid, tk in rows:
                stored_ids.add(pid)
                if tk not in known or known[tk].startswith("title:"):
                    known[tk] = pid
        in_listing = {tk: p.id for p, tk in keyed if not p.id.startswith("title:")}
        out: list[tuple[Paper, str]] = []
        seen: set[str] = set()
        for p, tk in keyed:
            existing = known.get(tk)
            if p.id.startswith("title:"):
                better = existing if existing and not existing.startswith("title:") else None
                better = better or in_listing.get(tk)
                if better:
                    p = replace(p, id=better)
            elif existing and existing.startswith("title:"):
                self._merge(existing, p.id)
                known[tk] = p.id
                stored_ids.add(p.id)
            if p.id in seen:
                continue
            seen.add(p.id)
            out.append((p, tk))
        return out, len(keyed) - len(out), stored_ids

    def _stored_fields(self, ids: list[str]) -> dict[str, tuple[object, ...]]:
        out: dict[str, tuple[object, ...]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = self.conn.execute(
                f"SELECT id, {FIELDS} FROM papers WHERE id IN ({marks(chunk)})", chunk
            )
            out.update((r[0], tuple(r)[1:]) for r in rows)
        return out

    def _note_changes(
        self,
        before: dict[str, tuple[object, ...]],
        after: dict[str, tuple[object, ...]],
        day: str,
        source: str,
    ) -> None:
        """Give changed papers a new revision, and keep their former fields for earlier days.

        The former fields are kept when the paper was listed before ``day`` and never after
        it: days are then stored in date order, as a backfill or a daily run does, and the
        former fields are exactly what days before ``day`` saw. Saved out of date order, a
        paper's fields stay merged in the order the listings were saved.
        """
        changed = [pid for pid, fields in after.items() if before.get(pid, fields) != fields]
        if not changed:
            return
        self.conn.executemany(
            "UPDATE papers SET revision = random() WHERE id = ?", ((pid,) for pid in changed)
        )
        for start in range(0, len(changed), CHUNK):
            chunk = changed[start : start + CHUNK]
            rows = self.conn.execute(
                "SELECT paper_id, min(date) < ?, max(date) > ? FROM appearances "
                f"WHERE paper_id IN ({marks(chunk)}) AND NOT (date = ? AND source = ?) "
                "GROUP BY paper_id",
                [day, day, *chunk, day, source],
            )
            in_order = [pid for pid, earlier, later in rows if earlier and not later]
            self.conn.executemany(
                f"INSERT OR IGNORE INTO paper_history (paper_id, until_date, {FIELDS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((pid, day, *before[pid]) for pid in in_order),
            )

    def _merge(self, old_id: str, new_id: str) -> None:
        """Move a title-keyed paper and its appearances onto its arXiv id."""
        if self.conn.execute("SELECT 1 FROM papers WHERE id = ?", (new_id,)).fetchone():
            # portable SQL (SQLite and PostgreSQL): no scalar min(), no UPDATE OR IGNORE
            self.conn.execute(
                "UPDATE papers SET first_seen = o.first_seen FROM "
                "(SELECT first_seen FROM papers WHERE id = ?) AS o "
                "WHERE papers.id = ? AND o.first_seen < papers.first_seen",
                (old_id, new_id),
            )
            self.conn.execute(
                "UPDATE appearances SET paper_id = ? WHERE paper_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM appearances b WHERE b.paper_id = ? "
                "AND b.date = appearances.date AND b.source = appearances.source)",
                (new_id, old_id, new_id),
            )
            self.conn.execute("DELETE FROM appearances WHERE paper_id = ?", (old_id,))
            self.conn.execute("DELETE FROM papers WHERE id = ?", (old_id,))
        else:
            self.conn.execute(
                "UPDATE papers SET id = ?, revision = random() WHERE id = ?", (new_id, old_id)
            )
        # the title-keyed id is gone: its stored tokens would never be read again
        self.conn.execute("DELETE FROM paper_tokens WHERE paper_id = ?", (old_id,))
        self.conn.execute(
            "UPDATE paper_history SET paper_id = ? WHERE paper_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM paper_history h WHERE h.paper_id = ? "
            "AND h.until_date = paper_history.until_date)",
            (new_id, old_id, new_id),
        )
        self.conn.execute("DELETE FROM paper_history WHERE paper_id = ?", (old_id,))


def _keep_stored(listing: Listing, stored: sqlite3.Row | None, checksum: str) -> bool:
    if stored is None:
        return False
    if stored["checksum"] == checksum:
        return True  # the very same listing again
    if listing.status == ERROR:
        return True
    had_papers = stored["status"] != ERROR and stored["papers"] > 0
    return had_papers and not listing.papers and listing.status in (EMPTY, NOT_MODIFIED)


def _checksum(listing: Listing) -> str:
    """A fingerprint of everything a listing would write: SHA-256 of its canonical JSON
    (ASCII, compact, field order fixed here), the same under every Python version.

    Stores written before this kept SHA-1 of ``marshal`` (whose format changes between
    Python versions): those never equal a ``json:`` fingerprint, so each listing saved
    again after the upgrade is written once more (the same rows: nothing changes, no
    history) with the new fingerprint, and is unchanged from then on."""
    fields: list[tuple[object, ...]] = [(listing.kind, listing.status, listing.error)]
    fields.extend(
        (
            p.id,
            p.title,
            p.abstract,
            p.authors,
            p.url,
            p.categories,
            p.upvotes,
            p.comments,
            p.code_url,
            p.keywords,
            p.ai_summary,
            p.announce_type,
        )
        for p in listing.papers
    )
    canonical = json.dumps(fields, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return "json:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _json_list(values: tuple[str, ...]) -> str:
    """``json.dumps(list(values), ensure_ascii=False)``, 5x faster for a list of strings."""
    if not values:
        return "[]"
    try:
        return "[" + ", ".join(map(encode_basestring, values)) + "]"
    except TypeError:  # not all strings
        return json.dumps(list(values), ensure_ascii=False)


def _paper_row(p: Paper, title_key: str, day: str) -> tuple[object, ...]:
    return (
        p.id,
        p.title,
        title_key,
        p.abstract,
        _json_list(p.authors),
        p.url,
        _json_list(p.categories),
        p.code_url,
        _json_list(p.keywords),
        p.ai_summary,
        day,
    )
