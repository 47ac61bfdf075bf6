"""``digest schedule`` and ``digest backfill``."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import click

from digest import backfill as backfill_mod
from digest.calendar import due_dates
from digest.cli import STATE, cli
from digest.cli.options import DATE, config_option, load
from digest.config import Config
from digest.errors import EXIT_ERROR, EXIT_OK
from digest.schedule import SCHEDULER_LOCK, Scheduler
from digest.store import Store
from digest.words import plural


@cli.command()
@click.option("--once", is_flag=True, help="Produce every due day now, then exit (for cron).")
@click.option(
    "--status",
    is_flag=True,
    help="Say whether a scheduler is alive, the last runs and the next run time; "
    "exit 1 when none is running and the newest due day is not done.",
)
@click.option("--no-send", is_flag=True, help="Produce and publish only; never email.")
@config_option
def schedule(once: bool, status: bool, no_send: bool, config_path: Path | None) -> None:
    """Produce (and email) each day's digest at schedule.cron in schedule.timezone.

    Runs until SIGINT/SIGTERM (the day in progress finishes first). At start and at
    each run, due days missed since the last digest (up to schedule.catch_up_days)
    are produced oldest first; schedule.email_caught_up says which are emailed.
    Email goes out only when smtp.host is set; chat posts when [[channels]] are.
    Logs go to stderr.

    \b
    Example:
      digest schedule --config config/digest.toml
      digest schedule --once --config config/digest.toml   # crontab: 30 7 * * *
      digest schedule --status
    """
    config = load(config_path)
    if not STATE.debug:
        logging.getLogger("digest").setLevel(logging.INFO)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    send = not no_send and bool(config.smtp.host or any(c.enabled for c in config.channels))
    scheduler = Scheduler(config, send=send)
    if status:
        raise SystemExit(_status(config, scheduler))
    if not send and not no_send:
        logging.getLogger("digest.schedule").info(
            "smtp.host is not set and no [[channels]]: publishing only"
        )
    if once:
        outcomes = scheduler.catch_up()
        raise SystemExit(EXIT_ERROR if any(o.failed for o in outcomes) else EXIT_OK)
    scheduler.serve()


def _status(config: Config, scheduler: Scheduler) -> int:
    now = dt.datetime.now(dt.UTC)
    with Store.open(config.database_path, readonly=True) as store:
        holder = store.lock_holder(SCHEDULER_LOCK)
        click.echo(
            f"scheduler: running: {holder.describe()}" if holder else "scheduler: not running"
        )
        due = due_dates(scheduler.trigger, now, config.schedule.catch_up_days)
        newest = due[-1][0] if due else None
        done = store.completed_days(newest, newest) if newest else set()
        if newest:
            click.echo(f"newest due day: {newest} ({'done' if done else 'not produced yet'})")
        fire = scheduler.next_fire(now)
        click.echo(f"next run: {fire.isoformat() if fire else 'never (cron has no future time)'}")
        runs = store.last_runs(5)
        if runs:
            click.echo("recent runs:")
        for r in runs:
            sent = f"sent {r.sent}" if r.sent is not None else "not emailed"
            what = (
                f"{plural(r.papers, 'paper')}, {sent}"
                if r.papers is not None
                else (r.error or r.stage)
            )
            click.echo(f"  {r.date} {r.status}: {what} ({r.label}, pid {r.pid}, {r.started_at})")
    return EXIT_OK if holder or done else EXIT_ERROR


@cli.command()
@click.option("--since", type=DATE, required=True, help="First date to produce.")
@click.option("--until", type=DATE, required=True, help="Last date to produce (inclusive).")
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of YYYY-MM-DD.* listing files (only dates with a file are produced). "
    "Default: the configured sources, every date.",
)
@click.option("--force", is_flag=True, help="Produce dates again even when already done.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: output_dir from the config).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Days produced at once, each in a worker process (default: one per CPU).",
)
@config_option
def backfill(
    since: dt.date,
    until: dt.date,
    input_path: Path | None,
    force: bool,
    output: Path | None,
    progress: bool | None,
    jobs: int | None,
    config_path: Path | None,
) -> None:
    """Produce the digests of a date range, never emailed; the feed and archive once at the end.

    Every day's listings are stored first, oldest first; then the days are produced,
    --jobs at a time. Resumable: dates already done are skipped (unless --force), so
    after Ctrl-C or a crash the same command carries on where it stopped. Exit code 1
    when a day failed.

    \b
    Example:
      digest backfill --since 2025-03-18 --until 2025-12-31 --input ../shared/data/arxiv-daily/
    """
    config = load(config_path, output)
    report = backfill_mod.backfill(
        config, since, until, input_path, force=force, progress=progress, jobs=jobs
    )
    click.echo(report.summary())  # failed days were reported as they happened
    if report.interrupted:
        raise SystemExit(130)
    raise SystemExit(EXIT_ERROR if report.failed else EXIT_OK)
