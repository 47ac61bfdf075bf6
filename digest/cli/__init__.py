"""The ``digest`` command: a thin layer over the library.

User errors are one line on stderr; ``--debug`` (or ``DIGEST_DEBUG=1``) shows
the traceback instead. Exit codes: 0 ok, 1 error, 2 usage, 3 no papers.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from collections.abc import Iterable
from typing import Any

import click

from digest import __version__
from digest.errors import EXIT_ERROR, EXIT_USAGE, DigestError


class State:
    debug: bool = False


STATE = State()

# The modules that register each command on ``cli`` when imported. A command's module is
# imported only when that command runs (click's documented lazy subcommands): ``digest run``
# does not import the scheduler (apscheduler), the backfill, the server or the subscriber
# address checks. ``subscribers`` takes two: personal adds its ``profile`` subcommand.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "backfill": ("schedule",),
    "db": ("db",),
    "doctor": ("doctor",),
    "ingest": ("core",),
    "recommend": ("personal",),
    "run": ("core",),
    "schedule": ("schedule",),
    "send": ("delivery",),
    "serve": ("delivery",),
    "sources": ("sources",),
    "subscribers": ("delivery", "personal"),
    "weekly": ("weekly",),
}


class CommandGroup(click.Group):
    """The ``digest`` group, importing a command's module when the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        _import_commands(sorted({m for modules in COMMAND_MODULES.values() for m in modules}))
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _import_commands(COMMAND_MODULES.get(cmd_name, ()))
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name not in COMMAND_MODULES:
            self.list_commands(ctx)  # a command missing from the table still works
            found = super().get_command(ctx, cmd_name)
        return found


def _import_commands(modules: Iterable[str]) -> None:
    for module in modules:
        importlib.import_module(f"digest.cli.{module}")


@click.group(
    cls=CommandGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="digest")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def cli(debug: bool, verbose: bool) -> None:
    """Daily newsletter of trending research papers.

    \b
    Quick start:
      digest run --config config/example.toml --date 2025-03-13
      digest --help                      # every command, each with an example
    """
    STATE.debug = debug or os.environ.get("DIGEST_DEBUG") == "1"
    level = logging.DEBUG if STATE.debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: turns every failure into an exit code and, without --debug, one line."""
    debug = (
        "--debug" in (argv if argv is not None else sys.argv[1:])
        or os.environ.get("DIGEST_DEBUG") == "1"
    )
    try:
        return cli.main(args=argv, prog_name="digest", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return _exit(exc.exit_code)
    except click.Abort:
        click.echo("digest: aborted", err=True)
        return _exit(130)
    except click.ClickException as exc:
        exc.show()
        return _exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except DigestError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"digest: error: {exc}", err=True)
        return _exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("digest: interrupted", err=True)
        return _exit(130)
    except Exception as exc:  # a bug or an unforeseen environment problem
        if debug:
            traceback.print_exc()
        click.echo(
            f"digest: error: {type(exc).__name__}: {exc} (run again with --debug for details)",
            err=True,
        )
        return _exit(EXIT_ERROR)


def _exit(code: int | None) -> Any:
    sys.exit(code or 0)
