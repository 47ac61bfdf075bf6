"""The last good reply of each live-source URL, for conditional GET.

The validators (``ETag``, ``Last-Modified``) are useless without the body they
describe: a ``304 Not Modified`` means "what you already have", so the body is
kept too (zlib-compressed) and a re-run of the same day still has its papers.
Only bodies that parsed are saved, so a malformed reply is never pinned by a 304.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import zlib
from dataclasses import dataclass

from digest.store.db import transaction

MIGRATIONS = [
    """
    CREATE TABLE http_cache (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        body BLOB NOT NULL,
        fetched_at TEXT NOT NULL
    )
    """
]


@dataclass(frozen=True)
class HttpCacheEntry:
    url: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: dt.datetime | None = None

    @property
    def has_validators(self) -> bool:
        return bool(self.etag or self.last_modified)


# Bodies older than this are dropped when a newer one is saved: Daily Papers has one URL per
# day, so without a bound the cache would keep a year of replies nobody will ask for again.
KEEP = dt.timedelta(days=60)


class HttpCacheMixin:
    conn: sqlite3.Connection

    def http_cache_get(self, url: str) -> HttpCacheEntry | None:
        row = self.conn.execute(
            "SELECT url, etag, last_modified, body, fetched_at FROM http_cache WHERE url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return None
        try:
            body = zlib.decompress(row["body"])
        except zlib.error:
            return None  # a damaged entry is as good as none: the next GET is unconditional
        return HttpCacheEntry(
            url=row["url"],
            body=body,
            etag=row["etag"],
            last_modified=row["last_modified"],
            fetched_at=dt.datetime.fromisoformat(row["fetched_at"]),
        )

    def http_cache_put(self, entry: HttpCacheEntry) -> None:
        fetched = entry.fetched_at or dt.datetime.now(dt.UTC)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO http_cache(url, etag, last_modified, body, fetched_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
                "last_modified = excluded.last_modified, body = excluded.body, "
                "fetched_at = excluded.fetched_at",
                (
                    entry.url,
                    entry.etag,
                    entry.last_modified,
                    zlib.compress(entry.body, 6),
                    fetched.isoformat(timespec="seconds"),
                ),
            )
            self.conn.execute(
                "DELETE FROM http_cache WHERE fetched_at < ?",
                ((fetched - KEEP).isoformat(timespec="seconds"),),
            )
