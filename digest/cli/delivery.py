"""``digest subscribers ...``, ``digest send`` and ``digest serve``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from digest.cli import cli
from digest.cli.options import DATE, config_option, load
from digest.config import Config
from digest.errors import DigestError
from digest.store import Store
from digest.store import subscribers as subs
from digest.words import plural

_OUTPUT = click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: output_dir from the config).",
)


def _config(config_path: Path | None, output: Path | None = None) -> Config:
    config = load(config_path)
    if output is not None:
        config = config.with_overrides(output_dir=str(output.resolve()))
    return config


@cli.group()
def subscribers() -> None:
    """Manage the people the digest is emailed to.

    \b
    Example:
      digest subscribers add ada@example.org --confirmed
      digest subscribers list --status confirmed
    """


_CADENCE = click.option(
    "--cadence",
    type=click.Choice(subs.CADENCES),
    default=None,
    help="daily: every day's digest (the default); weekly: the weekly digest only.",
)


@subscribers.command("add")
@click.argument("email")
@click.option("--confirmed", is_flag=True, help="Add as confirmed (you have their consent).")
@_CADENCE
@config_option
def add(email: str, confirmed: bool, cadence: str | None, config_path: Path | None) -> None:
    """Add EMAIL as pending (or confirmed). An existing address gets the new status.

    \b
    Example:
      digest subscribers add ada@example.org --confirmed
      digest subscribers add bob@example.org --confirmed --cadence weekly
    """
    config = _config(config_path)
    with Store.open(config.database_path) as store:
        sub, created = store.add_subscriber(email, subs.CONFIRMED if confirmed else subs.PENDING)
        if cadence is not None:
            sub = store.set_subscriber_cadence(sub.email, cadence) or sub
    click.echo(f"{'added' if created else 'updated'} {sub.email}: {sub.status}, {sub.cadence}")


@subscribers.command("set")
@click.argument("email")
@click.option(
    "--cadence",
    type=click.Choice(subs.CADENCES),
    required=True,
    help="daily: every day's digest; weekly: the weekly digest only.",
)
@config_option
def set_(email: str, cadence: str, config_path: Path | None) -> None:
    """Change how often EMAIL gets the digest.

    \b
    Example:
      digest subscribers set ada@example.org --cadence weekly
    """
    config = _config(config_path)
    with Store.open(config.database_path) as store:
        sub = store.set_subscriber_cadence(email, cadence)
    if sub is None:
        raise DigestError(f"{subs.normalize_email(email)} is not a subscriber")
    click.echo(f"{sub.email}: {sub.cadence}")


@subscribers.command("remove")
@click.argument("email")
@config_option
def remove(email: str, config_path: Path | None) -> None:
    """Delete EMAIL and its delivery history (to unsubscribe instead, use the email's link).

    \b
    Example:
      digest subscribers remove ada@example.org
    """
    config = _config(config_path)
    with Store.open(config.database_path) as store:
        if not store.remove_subscriber(email):
            raise DigestError(f"{subs.normalize_email(email)} is not a subscriber")
    click.echo(f"removed {subs.normalize_email(email)}")


@subscribers.command("list")
@click.option("--status", type=click.Choice(subs.STATUSES), default=None, help="Only this status.")
@config_option
def list_(status: str | None, config_path: Path | None) -> None:
    """Print subscribers, one per line: email, status, since, cadence.

    \b
    Example:
      digest subscribers list --status bouncing
    """
    config = _config(config_path)
    with Store.open(config.database_path, readonly=True) as store:
        for s in store.subscribers(status):
            click.echo(f"{s.email}\t{s.status}\t{s.updated_at}\t{s.cadence}")
        total = store.count_subscribers(status)
    click.echo(plural(total, "subscriber") + (f" ({status})" if status else ""), err=True)


@subscribers.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--confirmed", is_flag=True, help="Rows without a status column become confirmed.")
@config_option
def import_(file: Path, confirmed: bool, config_path: Path | None) -> None:
    """Import a CSV: an 'email' column (and optional 'status'), or addresses in column one.

    Bad rows are reported with their line numbers and skipped; the good rows
    are imported. Addresses already present keep their status, so an old list
    never resubscribes anyone who left. Exit code 1 when some rows were bad.

    \b
    Example:
      digest subscribers import people.csv --confirmed
    """
    from digest.deliver.csvio import read_subscribers

    config = _config(config_path)
    parsed = read_subscribers(file, subs.CONFIRMED if confirmed else subs.PENDING)
    for problem in parsed.problems:
        click.echo(f"digest: skipped {problem}", err=True)
    with Store.open(config.database_path) as store:
        added, present = store.import_subscribers(parsed.rows)
    click.echo(
        f"imported {plural(added, 'new subscriber')}, {present} already present, "
        f"{plural(len(parsed.problems), 'row')} skipped"
    )
    if parsed.problems:
        raise SystemExit(1)


@subscribers.command("export")
@click.option("--status", type=click.Choice(subs.STATUSES), default=None, help="Only this status.")
@config_option
def export(status: str | None, config_path: Path | None) -> None:
    """Write every subscriber as CSV to standard output (the format import reads).

    \b
    Example:
      digest subscribers export > subscribers.csv
    """
    from digest.deliver.csvio import write_subscribers

    config = _config(config_path)
    with Store.open(config.database_path, readonly=True) as store:
        count = write_subscribers(sys.stdout, store.subscribers(status))
    click.echo(f"exported {plural(count, 'subscriber')}", err=True)


@cli.command()
@click.option("--date", "day", type=DATE, required=True, help="The digest to send.")
@click.option("--resend", is_flag=True, help="Send again to everyone, even those already served.")
@click.option("--dry-run", is_flag=True, help="Write .eml files to OUTPUT/DATE/outbox/ instead.")
@_OUTPUT
@config_option
def send(
    day: dt.date, resend: bool, dry_run: bool, output: Path | None, config_path: Path | None
) -> None:
    """Email a produced digest to every confirmed subscriber not yet served, and post
    it to the chat channels of the config ([[channels]]) not yet posted to.

    Safe to rerun: after an interruption it sends only what is missing, and
    after a complete send it sends nothing unless --resend. Exit code 1 when
    some messages were deferred (4xx replies) or a chat post failed: run it again later; also when
    nothing could be delivered (every recipient refused, now or by an earlier
    run: --resend tries them again). The SMTP
    password comes from the variable smtp.password_env names; the
    link-signing secret from serve.secret_env.

    \b
    Example:
      digest send --date 2025-03-13 --dry-run
      DIGEST_SECRET=... DIGEST_SMTP_PASSWORD=... digest send --date 2025-03-13
    """
    from digest import deliver

    config = _config(config_path, output)
    with Store.open(config.database_path) as store:
        digest = store.digest_for(day)
        if digest is None:
            raise DigestError(f"no digest for {day} in the store; run: digest run --date {day}")
        report = deliver.deliver(
            store, config, digest, config.output_path, resend=resend, dry_run=dry_run
        )
    click.echo(report.summary())
    if report.retry_needed or report.delivered_nothing:
        raise SystemExit(1)


@cli.command()
@click.option("--host", default=None, help="Interface to listen on (default: serve.host).")
@click.option("--port", type=int, default=None, help="Port (default: serve.port).")
@_OUTPUT
@config_option
def serve(
    host: str | None, port: int | None, output: Path | None, config_path: Path | None
) -> None:
    """Serve the archive, pages and feed, with subscribe, confirm and unsubscribe, under waitress.

    \b
    Example:
      DIGEST_SECRET=... digest serve --config config/digest.toml --port 8080
    """
    from digest.serve import serve as run_server

    config = _config(config_path, output)
    run_server(
        config,
        host or config.serve.host,
        port or config.serve.port,
        config.output_path,
        announce=lambda line: click.echo(line, err=True),
    )
