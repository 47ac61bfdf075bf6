"""``digest ingest`` and ``digest run``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import click

from digest import pipeline
from digest.cli import cli
from digest.cli.options import DATE, config_option, inputs_option, load
from digest.errors import EXIT_ERROR, EXIT_NO_PAPERS, EXIT_OK
from digest.models import Listing, SourceStatus
from digest.words import plural


@cli.command()
@click.option(
    "--date",
    "day",
    type=DATE,
    default=None,
    help="Listing date. Default: each file's own date (its name or content); today for configured sources.",
)
@inputs_option
@config_option
def ingest(day: dt.date | None, inputs: tuple[Path, ...], config_path: Path | None) -> None:
    """Fetch or read listings and store them, without rendering.

    \b
    Example:
      digest ingest --date 2025-03-13 --input ../shared/seeds/000_aad4745849f3a6a8.txt
    """
    config = load(config_path)
    listings = pipeline.ingest(config, day, inputs)
    _report(listings)
    if listings and not any(x.ok for x in listings):
        raise SystemExit(1)


@cli.command()
@click.option(
    "--date",
    "day",
    type=DATE,
    default=None,
    help="The digest date. Default: each listing's own date (its name or content), else today.",
)
@inputs_option
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: output_dir from the config).",
)
@click.option("--send", is_flag=True, help="Also email the digest to confirmed subscribers.")
@config_option
def run(
    day: dt.date | None,
    inputs: tuple[Path, ...],
    output: Path | None,
    send: bool,
    config_path: Path | None,
) -> None:
    """Produce one day's digest: ingest, themes, trending, renders (and email with --send).

    Writes OUTPUT/DATE/digest.json, email.html, email.txt, index.html, and
    OUTPUT/index.html, the feeds (feed.xml, feed.atom, feed.json, papers.*) and
    OUTPUT/feeds.opml. Exit code 3 when the day has no papers.
    Without --date, a dated listing keeps its own date (several dates: one digest each).

    \b
    Example:
      digest run --config config/example.toml --date 2025-03-13
      digest run --date 2025-06-02 --input papers.jsonl --output /tmp/out
    """
    # the state database follows --output unless the config names one
    config = load(config_path, output)
    if send:
        # missing SMTP settings, link secret or chat secret: say so before any work, not
        # after the renders
        from digest.deliver.send import preflight

        preflight(config)
    if day is not None:
        result = pipeline.run(config, day, inputs, send=send)
        _report(result.sources, day)
        raise SystemExit(_said(result))
    # no --date: each listing is stored under its own date (an undated one under today's),
    # then each date the listings name is produced, oldest first
    today = dt.date.today()
    listings = pipeline.ingest(config, None, inputs, undated=today)
    _report(listings)
    failed = [SourceStatus.of(x) for x in listings if x.date is None]
    days = sorted({x.date for x in listings if x.date is not None}) or [today]
    codes = []
    for d in days:
        statuses = [SourceStatus.of(x) for x in listings if x.date == d] + failed
        codes.append(_said(pipeline.run(config, d, send=send, collected=statuses)))
    raise SystemExit(max(codes, key=_SEVERITY.index))


# the exit code of several days: the worst one's
_SEVERITY = (EXIT_OK, EXIT_NO_PAPERS, EXIT_ERROR)


def _said(result: pipeline.RunResult) -> int:
    """Say what ``result`` produced; returns its exit code."""
    d = result.digest
    if result.exit_code == EXIT_ERROR:
        click.echo(
            f"digest: nothing published for {d.date}: every source failed; the next run retries it",
            err=True,
        )
        return EXIT_ERROR
    click.echo(
        f"{d.date}: {plural(len(d.papers), 'paper')}, {plural(len(d.themes), 'theme')}, "
        f"{len(d.trending)} trending"
        f" -> {result.output_dir / d.date.isoformat()}"
        + (f"; sent {result.sent}" if result.sent is not None else "")
    )
    if result.exit_code == EXIT_NO_PAPERS:
        click.echo(f"digest: no papers for {d.date}", err=True)
    return result.exit_code


def _report(found: Sequence[Listing] | Sequence[SourceStatus], day: dt.date | None = None) -> None:
    """One line per source or file: how it fared and the date its papers were stored under."""
    for x in found:
        status = x if isinstance(x, SourceStatus) else SourceStatus.of(x)
        date = day if isinstance(x, SourceStatus) else x.date
        if status.ok:
            click.echo(
                f"{status.name}: {status.status}, {plural(status.papers, 'paper')} ({status.kind})"
                + (f", stored under {date}" if date else ""),
                err=True,
            )
        else:
            click.echo(f"digest: warning: {status.name}: {status.error}", err=True)
