"""``digest weekly``: the week's roll-up, and its email to weekly subscribers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from digest.cli import cli
from digest.cli.options import config_option, load
from digest.store import Store


@cli.command()
@click.option(
    "--week",
    default=None,
    help="ISO week like 2025-W12 (default: last week, the one before today's).",
)
@click.option("--send", is_flag=True, help="Email it to the weekly subscribers not yet served.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: output_dir from the config).",
)
@config_option
def weekly(week: str | None, send: bool, output: Path | None, config_path: Path | None) -> None:
    """Build the weekly digest of WEEK from the stored daily digests.

    Writes OUTPUT/weekly/WEEK/ (email.html, email.txt, index.html, digest.json) and
    OUTPUT/weekly.xml. With --send, each confirmed weekly subscriber gets it once:
    running it again sends only to those not served yet. A week without papers is
    published (the page says so) and never emailed.

    \b
    Example:
      digest weekly --week 2025-W12
      digest weekly --week 2025-W12 --send
    """
    from digest import weekly as weekly_mod

    config = load(config_path)
    if output is not None:
        config = config.with_overrides(output_dir=str(output.resolve()))
    key = week or weekly_mod.last_full_week(dt.date.today())
    weekly_mod.parse_week(key)  # a bad week is a one-line error before the store is opened
    with Store.open(config.database_path) as store:
        built = weekly_mod.build_week(store, config, key)
        weekly_mod.publish_week(store, config, built, config.output_path)
        click.echo(
            f"{built.week}: {built.papers} papers over {len(built.days)} days -> "
            f"{config.output_path / 'weekly' / built.week}"
        )
        if send:
            click.echo(weekly_mod.send_week(store, config, built))
