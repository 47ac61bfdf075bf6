"""The store: the only module that talks to the database.

``Store`` is assembled from one mixin per concern (papers and listings,
digests, ...); each mixin module owns its tables and migrations. Open it with
``Store.open(path)`` or as a context manager.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from digest.store import digests, foryou, http_cache, papers, profiles, runs, subscribers, topics
from digest.store.channel_log import MIGRATIONS as CHANNEL_LOG_MIGRATIONS
from digest.store.channel_log import ChannelLogMixin
from digest.store.db import check_integrity, connect, migrate, transaction
from digest.store.digests import DigestsMixin
from digest.store.foryou import ForYouMixin
from digest.store.http_cache import HttpCacheEntry, HttpCacheMixin
from digest.store.papers import PapersMixin, SaveResult
from digest.store.profiles import ProfilesMixin
from digest.store.runs import RunsMixin
from digest.store.subscribers import SubscribersMixin
from digest.store.topics import TopicsMixin

# (component, migrations) in the order they are applied; a component may reference earlier ones.
COMPONENTS: list[tuple[str, list[str]]] = [
    ("papers", papers.MIGRATIONS),
    ("digests", digests.MIGRATIONS),
    ("subscribers", subscribers.MIGRATIONS),
    ("http_cache", http_cache.MIGRATIONS),
    ("runs", runs.MIGRATIONS),
    ("profiles", profiles.MIGRATIONS),
    ("topics", topics.MIGRATIONS),
    ("for_you", foryou.MIGRATIONS),
    ("channel_log", CHANNEL_LOG_MIGRATIONS),
]


class Store(
    PapersMixin,
    DigestsMixin,
    HttpCacheMixin,
    SubscribersMixin,
    RunsMixin,
    ProfilesMixin,
    TopicsMixin,
    ForYouMixin,
    ChannelLogMixin,
):
    def __init__(self, conn: sqlite3.Connection, path: Path | str) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | str, readonly: bool = False) -> Store:
        """Open ``path``, bringing its schema forward. ``readonly``: for commands that only
        read; an existing, up-to-date database is opened with ``mode=ro``, so they work on
        a file this user may not write (anything else opens as usual)."""
        if readonly and str(path) != ":memory:" and Path(path).is_file():
            conn = connect(path, readonly=True)
            try:
                check_integrity(conn, path)
                if _up_to_date(conn):
                    return cls(conn, path)
            except BaseException:
                conn.close()
                raise
            conn.close()
        conn = connect(path)
        try:
            check_integrity(conn, path)
            for component, migrations in COMPONENTS:
                migrate(conn, component, migrations)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _up_to_date(conn: sqlite3.Connection) -> bool:
    try:
        rows = conn.execute("SELECT component, version FROM schema_versions").fetchall()
    except sqlite3.OperationalError:  # no such table: a database from before any migration
        return False
    have = {row[0]: row[1] for row in rows}
    return all(have.get(name) == len(migrations) for name, migrations in COMPONENTS)


__all__ = ["HttpCacheEntry", "Store", "SaveResult", "transaction"]
