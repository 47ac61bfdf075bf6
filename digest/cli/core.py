"""``digest ingest`` and ``digest run``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import click

from digest import pipeline
from digest.cli import cli
from digest.cli.options import DATE, config_option, inputs_option, load
from digest.errors import EXIT_NO_PAPERS
from digest.models import SourceStatus


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
    statuses = [SourceStatus.of(x) for x in pipeline.ingest(config, day, inputs)]
    _report(statuses)
    if statuses and not any(x.ok for x in statuses):
        raise SystemExit(1)


@cli.command()
@click.option("--date", "day", type=DATE, default=None, help="The digest date (default: today).")
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
    OUTPUT/feed.xml and OUTPUT/index.html. Exit code 3 when the day has no papers.

    \b
    Example:
      digest run --config config/example.toml --date 2025-03-13
      digest run --date 2025-06-02 --input papers.jsonl --output /tmp/out
    """
    config = load(config_path)
    if output is not None:
        # the state database follows --output unless the config names one
        config = config.with_overrides(output_dir=str(output.resolve()))
    if send:
        # missing SMTP settings or link secret: say so before any work, not after the renders
        from digest.deliver.smtp import SmtpSettings
        from digest.deliver.tokens import Links

        SmtpSettings.from_config(config)
        Links.from_config(config)
    result = pipeline.run(config, day or dt.date.today(), inputs, send=send)
    _report(result.sources)
    d = result.digest
    click.echo(
        f"{d.date}: {len(d.papers)} papers, {len(d.themes)} themes, {len(d.trending)} trending"
        f" -> {result.output_dir / d.date.isoformat()}"
        + (f"; sent {result.sent}" if result.sent is not None else "")
    )
    if result.exit_code == EXIT_NO_PAPERS:
        click.echo(f"digest: no papers for {d.date}", err=True)
    raise SystemExit(result.exit_code)


def _report(statuses: Sequence[SourceStatus]) -> None:
    for x in statuses:
        if x.ok:
            click.echo(f"{x.name}: {x.status}, {x.papers} papers ({x.kind})", err=True)
        else:
            click.echo(f"digest: warning: {x.name}: {x.error}", err=True)
