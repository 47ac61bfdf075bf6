"""The store: the only module that talks to the database.

``Store`` is assembled from one mixin per concern (papers and listings,
digests, ...); each mixin module owns its tables and migrations. Open it with
``Store.open(path)`` or as a context manager.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from digest.store import digests, http_cache, papers, profiles, runs, subscribers, topics
from digest.store.db import connect, migrate, transaction
from digest.store.digests import DigestsMixin
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
]


class Store(
    PapersMixin,
    DigestsMixin,
    HttpCacheMixin,
    SubscribersMixin,
    RunsMixin,
    ProfilesMixin,
    TopicsMixin,
):
    def __init__(self, conn: sqlite3.Connection, path: Path | str) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | str) -> Store:
        conn = connect(path)
        for component, migrations in COMPONENTS:
            migrate(conn, component, migrations)
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["HttpCacheEntry", "Store", "SaveResult", "transaction"]
