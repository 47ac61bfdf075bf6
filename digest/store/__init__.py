"""The store: the only module that talks to the database.

``Store`` is assembled from one mixin per concern (papers and listings,
digests, ...); each mixin module owns its tables and migrations. Open it with
``Store.open(target)`` or as a context manager: ``target`` is a SQLite file (the default)
or a ``postgresql://`` URL; ``digest.store.backends`` picks the engine. The stages type
their store as :class:`digest.store.protocol.StoreProtocol`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from digest.store import digests, foryou, http_cache, papers, profiles, runs, subscribers, topics
from digest.store.backends import Backend, get_backend, sqlite_path
from digest.store.channel_log import MIGRATIONS as CHANNEL_LOG_MIGRATIONS
from digest.store.channel_log import ChannelLogMixin
from digest.store.db import migrate, transaction
from digest.store.delivery_log import DeliveryLogMixin
from digest.store.digests import DigestsMixin
from digest.store.foryou import ForYouMixin
from digest.store.http_cache import HttpCacheEntry, HttpCacheMixin
from digest.store.paper_tokens import MIGRATIONS as PAPER_TOKENS_MIGRATIONS
from digest.store.paper_tokens import PaperTokensMixin
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
    ("paper_tokens", PAPER_TOKENS_MIGRATIONS),
]


class Store(
    PapersMixin,
    DigestsMixin,
    HttpCacheMixin,
    SubscribersMixin,
    DeliveryLogMixin,
    RunsMixin,
    ProfilesMixin,
    TopicsMixin,
    ForYouMixin,
    ChannelLogMixin,
    PaperTokensMixin,
):
    def __init__(self, conn: Any, path: Path | str, backend: Backend | None = None) -> None:
        self.conn = conn
        self.backend = backend or get_backend(path)
        # a SQLite target as its file (sqlite:///x -> /x), a PostgreSQL one as its URL
        self.path = sqlite_path(path) if self.backend.name == "sqlite" else path

    @classmethod
    def open(cls, path: Path | str, readonly: bool = False) -> Store:
        """Open ``path`` (a SQLite file or a ``postgresql://`` URL), bringing its schema
        forward. ``readonly``: for commands that only read; an existing, up-to-date SQLite
        database is opened with ``mode=ro``, so they work on a file this user may not write
        (anything else opens as usual)."""
        backend = get_backend(path)
        file = sqlite_path(path)
        if readonly and (
            backend.name != "sqlite" or (str(file) != ":memory:" and Path(file).is_file())
        ):
            conn = backend.connect(path, readonly=True)
            try:
                backend.check(conn, path)
                if _up_to_date(conn):
                    return cls(conn, path, backend)
            except BaseException:
                conn.close()
                raise
            conn.close()
        conn = backend.connect(path)
        try:
            backend.check(conn, path)
            for component, migrations in COMPONENTS:
                migrate(conn, component, migrations)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, backend)

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @classmethod
    def connect(cls, path: Path | str) -> Store:
        """Open ``path`` without migrating: for a server's per-request stores, after one
        :meth:`open` at start-up brought the schema forward."""
        backend = get_backend(path)
        return cls(backend.connect(path), path, backend)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _up_to_date(conn: Any) -> bool:
    try:
        rows = conn.execute("SELECT component, version FROM schema_versions").fetchall()
    except Exception as exc:
        # no such table (sqlite3's OperationalError, psycopg's UndefinedTable): a database
        # from before any migration
        if isinstance(exc, sqlite3.OperationalError) or type(exc).__name__ == "UndefinedTable":
            return False
        raise
    have = {row[0]: row[1] for row in rows}
    return all(have.get(name) == len(migrations) for name, migrations in COMPONENTS)


__all__ = ["HttpCacheEntry", "Store", "SaveResult", "transaction"]
