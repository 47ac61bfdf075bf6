"""Backend registry: which database engine a ``database`` setting names.

A backend module gives a connection that speaks the sqlite3 interface the store mixins
use (``execute``/``executemany`` with ``?`` placeholders, rows readable by index and by
name, ``lastrowid``, ``in_transaction``), so one set of mixins and one list of migrations
per component serve every engine. SQLite is the default; a ``postgresql://`` URL selects
PostgreSQL (psycopg 3, imported only then).

Targets: a path (SQLite), ``sqlite:///abs/path`` or ``sqlite:relative/path``,
``postgresql://user@host:port/db`` (``postgres://`` too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit


class Backend(Protocol):
    name: str

    def connect(self, target: Path | str, readonly: bool = False) -> Any:
        """A connection with the sqlite3 interface the mixins use."""
        ...

    def check(self, conn: Any, target: Path | str) -> None:
        """Refuse a damaged database before anything is read or written (once per process)."""
        ...

    def errors(self) -> tuple[type[BaseException], ...]:
        """The engine's database exceptions (what a busy-wait or a heartbeat may catch)."""
        ...


def is_url(target: Path | str) -> bool:
    return isinstance(target, str) and "://" in target or str(target).startswith("sqlite:")


def backend_name(target: Path | str) -> str:
    """``postgresql`` or ``sqlite``; a ``DigestError`` for any other URL scheme."""
    text = str(target)
    if isinstance(target, str) and text.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    if isinstance(target, str) and "://" in text and not text.startswith("sqlite:"):
        from digest.errors import ConfigError

        scheme = text.split("://", 1)[0]
        raise ConfigError(
            f"database '{redact(text)}': unknown scheme '{scheme}' "
            f"(use a file path, sqlite:///path or postgresql://user@host:port/db)"
        )
    return "sqlite"


def sqlite_path(target: Path | str) -> Path | str:
    """The file of a SQLite target (``sqlite:///abs``, ``sqlite:rel``, or a plain path)."""
    text = str(target)
    if isinstance(target, str) and text.startswith("sqlite:"):
        rest = text[len("sqlite:") :]
        if rest.startswith("//"):
            rest = rest[2:]  # sqlite:///abs/path -> /abs/path
        return rest if rest == ":memory:" else Path(rest)
    return target


def get_backend(target: Path | str) -> Backend:
    name = backend_name(target)
    if name == "postgresql":
        from digest.store.backends import postgresql

        return postgresql.BACKEND
    from digest.store.backends import sqlite

    return sqlite.BACKEND


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


BACKENDS = ("sqlite", "postgresql")
