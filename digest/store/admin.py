"""Database administration, for ``digest db``: schema, counts, copy between backends, check.

Works on either backend through the store's connection; the catalog queries (which tables
and columns exist) are the only engine-specific SQL, kept here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from digest.errors import DigestError
from digest.store import COMPONENTS, Store
from digest.store.db import transaction

# rows that describe this process's state, not the installation's: not copied
_NOT_COPIED = ("schema_versions", "locks")
# tables whose id a PostgreSQL identity column generates: its sequence follows a copy
_ID_TABLES = ("runs", "subscribers", "profiles")
_BATCH = 2000


def tables(store: Store) -> list[str]:
    """The store's tables in creation order (so a copy inserts referenced rows first)."""
    if store.backend_name == "sqlite":
        rows = store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
    else:
        rows = store.conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' "
            "AND c.relnamespace = current_schema()::regnamespace ORDER BY c.oid"
        )
    return [r[0] for r in rows.fetchall()]


def columns(store: Store, table: str) -> list[str]:
    if store.backend_name == "sqlite":
        return [r[1] for r in store.conn.execute(f"PRAGMA table_info({table})").fetchall()]
    rows = store.conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return [r[0] for r in rows.fetchall()]


def schema(store: Store) -> list[str]:
    """Tables, columns, indexes and constraints as comparable lines: a fresh database and an
    upgraded one must give the same (tests/test_store_backends.py)."""
    out: list[str] = []
    if store.backend_name == "sqlite":
        for t in sorted(tables(store)):
            for r in store.conn.execute(f"PRAGMA table_info({t})").fetchall():
                out.append(f"column {t}.{r[1]} {r[2]} notnull={r[3]} default={r[4]} pk={r[5]}")
            for r in store.conn.execute(f"PRAGMA foreign_key_list({t})").fetchall():
                out.append(f"fk {t}.{r[3]} -> {r[2]}.{r[4]} {r[5]} {r[6]}")
        for r in store.conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        ).fetchall():
            out.append(f"index {r[0]} on {r[1]}: {r[2]}")
        return out
    for r in store.conn.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default, "
        "collation_name, is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, column_name"
    ).fetchall():
        out.append("column " + " ".join(str(x) for x in r))
    for r in store.conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "ORDER BY indexname"
    ).fetchall():
        out.append(f"index {r[0]}: {r[1]}")
    for r in store.conn.execute(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2"
    ).fetchall():
        out.append(f"constraint {r[0]}: {r[1]}")
    return out


def counts(store: Store) -> dict[str, int]:
    """Rows per table (every table but the process-state ones)."""
    return {
        t: int(store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
        for t in tables(store)
        if t not in _NOT_COPIED
    }


def versions(store: Store) -> dict[str, int]:
    """Each component's schema version; empty for a database no digest has opened yet."""
    if "schema_versions" not in tables(store):
        return {}
    rows = store.conn.execute("SELECT component, version FROM schema_versions").fetchall()
    return {r[0]: int(r[1]) for r in rows}


@dataclass(frozen=True)
class CopyResult:
    counts: dict[str, int]  # rows per table, equal in both databases


def copy(
    source: Path | str, target: Path | str, progress: Callable[[str, int], None] | None = None
) -> CopyResult:
    """Copy every row of ``source`` into the empty database ``target`` (both brought to the
    current schema first), each table in one transaction, then compare the counts."""
    with Store.open(source, readonly=True) as src, Store.open(target) as dst:
        have = {t: n for t, n in counts(dst).items() if n}
        if have:
            listed = ", ".join(f"{t} ({n})" for t, n in sorted(have.items())[:4])
            raise DigestError(
                f"{_where(dst)}: the target database is not empty ({listed}); "
                "copy into a new, empty database"
            )
        for table in tables(src):
            if table in _NOT_COPIED:
                continue
            cols = columns(src, table)
            names = ", ".join(cols)
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})"
            rows = src.conn.execute(f"SELECT {names} FROM {table}")
            copied = 0
            with transaction(dst.conn):
                batch: list[tuple[object, ...]] = []
                for row in rows:
                    batch.append(tuple(row))
                    if len(batch) >= _BATCH:
                        dst.conn.executemany(insert, batch)
                        copied += len(batch)
                        batch = []
                if batch:
                    dst.conn.executemany(insert, batch)
                    copied += len(batch)
                if dst.backend_name == "postgresql" and table in _ID_TABLES:
                    dst.conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce(max(id), 0) + 1, false) FROM {table}"
                    )
            if progress:
                progress(table, copied)
        before, after = counts(src), counts(dst)
        if before != after:
            differ = [
                f"{t}: {before.get(t)} -> {after.get(t)}"
                for t in before
                if before.get(t) != after.get(t)
            ]
            raise DigestError(f"the copy's counts differ: {'; '.join(differ)}")
        return CopyResult(after)


def check(store: Store) -> list[str]:
    """What is wrong with the database: schema versions this digest does not know, tables
    a migration should have made. Empty when all is well (the engine checks its pages: a
    SQLite file was quick_checked when opened)."""
    problems = []
    have = versions(store)
    for name, migrations in COMPONENTS:
        if have.get(name) != len(migrations):
            problems.append(
                f"component {name}: schema version {have.get(name)}, this digest has "
                f"{len(migrations)} (run: digest db migrate)"
            )
    return problems


def _where(store: Store) -> str:
    from digest.store.backends import redact

    return redact(str(store.path))
