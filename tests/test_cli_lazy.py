"""The ``digest`` group imports a command's module only when that command is looked up,
and still lists and runs every command."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
from click.testing import CliRunner

import digest.cli
from digest.cli import COMMAND_MODULES, cli


def test_every_command_module_is_in_the_table_and_every_command_is_listed() -> None:
    helpers = {"options"}  # shared options, no command of their own
    modules = {m.name for m in pkgutil.iter_modules(digest.cli.__path__)} - helpers
    assert modules == {m for found in COMMAND_MODULES.values() for m in found}
    for name in modules:
        importlib.import_module(f"digest.cli.{name}")
    assert set(cli.commands) == set(COMMAND_MODULES)
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in COMMAND_MODULES:
        assert f"  {command} " in result.output
    result = CliRunner().invoke(cli, ["subscribers", "--help"])
    assert result.exit_code == 0 and "profile" in result.output  # added by personal.py


def test_run_imports_neither_the_scheduler_nor_the_server() -> None:
    code = (
        "import sys, click; from digest.cli import cli;"
        "cli.get_command(click.Context(cli), 'run');"
        "print(sorted(m for m in ('apscheduler.schedulers', 'digest.cli.schedule', "
        "'digest.backfill', 'digest.serve', 'email_validator') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2 and "No such command" in result.output
    assert isinstance(cli.get_command(click.Context(cli), "run"), click.Command)
