"""The SQLite backend (the default): ``digest.store.db`` as it always was."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from digest.store import db
from digest.store.backends import sqlite_path


class SqliteBackend:
    name = "sqlite"

    def connect(self, target: Path | str, readonly: bool = False) -> Any:
        return db.connect(sqlite_path(target), readonly=readonly)

    def check(self, conn: Any, target: Path | str) -> None:
        db.check_integrity(conn, sqlite_path(target))

    def errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)


BACKEND = SqliteBackend()
