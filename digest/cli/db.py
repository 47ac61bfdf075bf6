"""``digest db``: migrate, copy between backends, check (docs/operations.md)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from digest.cli import cli
from digest.cli.options import config_option, load


def _target(database: str | None, config_path: Path | None) -> Path | str:
    if database:
        from digest.store.backends import backend_name, has_password

        backend_name(database)  # an unknown scheme is a one-line error
        if has_password(database):
            raise click.UsageError(
                "--database must not hold a password (it shows in the process list); "
                "use PGPASSWORD or ~/.pgpass"
            )
        return database
    return load(config_path).database_path


def _show(target: Path | str) -> str:
    from digest.store.backends import redact

    return redact(str(target))


_DATABASE = click.option(
    "--database",
    default=None,
    metavar="URL",
    help="sqlite:relative/path, sqlite:///absolute/path, a file, or postgresql://user@host:port/db "
    "(default: DIGEST_DATABASE_URL, else database in the config).",
)


@cli.group()
def db() -> None:
    """Database administration: migrate, copy to another backend, check."""


@db.command()
@_DATABASE
@config_option
def migrate(database: str | None, config_path: Path | None) -> None:
    """Bring the database's schema to this digest's (every command does this on open;
    run it once after an upgrade, before starting several hosts).

    \b
    Example:
      digest db migrate --database sqlite:var/digest.sqlite
    """
    from digest.store import Store, admin

    target = _target(database, config_path)
    with Store.open(target) as store:
        have = admin.versions(store)
    listed = ", ".join(f"{k} {v}" for k, v in sorted(have.items()))
    click.echo(f"{_show(target)}: schema up to date ({listed})")


@db.command()
@click.option("--from", "source", required=True, metavar="URL", help="The database to read.")
@click.option("--to", "dest", required=True, metavar="URL", help="An empty database to fill.")
def copy(source: str, dest: str) -> None:
    """Copy every row of one database into another, empty one (e.g. SQLite to PostgreSQL),
    then compare the row counts of every table. Stop the scheduler and the web workers
    first: rows written during the copy would be missed.

    \b
    Example:
      digest db copy --from sqlite:var/digest.sqlite --to postgresql://digest@localhost:5432/digest
    """
    from digest.store import admin

    for url in (source, dest):
        _target(url, None)
    t0 = time.perf_counter()
    result = admin.copy(source, dest, lambda t, n: click.echo(f"  {t}: {n} rows"))
    total = sum(result.counts.values())
    click.echo(
        f"copied {total} rows in {len(result.counts)} tables from {_show(source)} to "
        f"{_show(dest)} in {time.perf_counter() - t0:.1f} s; every table's count matches"
    )


@db.command()
@_DATABASE
@config_option
def check(database: str | None, config_path: Path | None) -> None:
    """Check the database without changing it: that it opens, its schema versions, the rows
    per table, and who holds a lock. Exit status 1 when something needs doing.

    \b
    Example:
      digest db check --database sqlite:var/digest.sqlite
    """
    from digest.errors import DigestError
    from digest.store import Store, admin
    from digest.store.backends import get_backend

    target = _target(database, config_path)
    backend = get_backend(target)
    store = Store(backend.connect(target, readonly=True), target, backend)
    try:
        backend.check(store.conn, target)
        problems = admin.check(store)
        counts = admin.counts(store)
        holders = [h for h in (store.lock_holder(n) for n in _lock_names(store)) if h]
    finally:
        store.close()
    click.echo(f"{_show(target)} ({backend.name}):")
    for table, n in counts.items():
        click.echo(f"  {table}: {n} rows")
    for h in holders:
        click.echo(f"  lock {h.name}: held by {h.describe()}")
    if problems:
        raise DigestError("; ".join(problems))
    click.echo("ok: schema up to date")


def _lock_names(store: object) -> list[str]:
    conn = store.conn  # type: ignore[attr-defined]
    from digest.store import admin

    if "locks" not in admin.tables(store):  # type: ignore[arg-type]
        return []
    return [r[0] for r in conn.execute("SELECT name FROM locks").fetchall()]
