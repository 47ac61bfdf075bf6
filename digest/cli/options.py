"""Options shared by several commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from digest.config import Config, load_config

DEFAULT_CONFIG = Path("config/digest.toml")


class DateType(click.ParamType):
    name = "DATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"'{value}' is not a date like 2025-03-13", param, ctx)


DATE = DateType()


def config_option(f: Callable) -> Callable:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Config file (default: {DEFAULT_CONFIG} when it exists, else built-in defaults).",
    )(f)


def inputs_option(f: Callable) -> Callable:
    return click.option(
        "--input",
        "inputs",
        multiple=True,
        type=click.Path(path_type=Path),
        help="Listing file or folder of YYYY-MM-DD.* files (repeatable). "
        "Default: the configured sources.",
    )(f)


def load(config_path: Path | None, output: Path | None = None) -> Config:
    """The config (``--config``, else ``config/digest.toml`` when it exists, else defaults);
    ``output``: a command's ``--output``, which the default database follows."""
    if config_path is None and DEFAULT_CONFIG.exists():
        config_path = DEFAULT_CONFIG
    config = load_config(config_path)
    if output is not None:
        config = config.with_overrides(output_dir=str(output.resolve()))
    former = config.former_database
    if former is not None:
        # one line, every time, until the user settles it: silently starting a new empty
        # database would lose the subscribers and the archive the site was made from
        where = f"in {config.path}" if config.path else "in a config file"
        click.echo(
            f"digest: note: using {former}, the former default database; the default is now "
            f'{config.own_database}: move it there, or set database = "{former}" {where}',
            err=True,
        )
    return config


def today() -> dt.date:
    return dt.date.today()
