"""``digest sources``: the source kinds as the registry declares them (docs/sources.md is
this command's output, checked by tests/test_source_registry.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from digest.cli import cli
from digest.cli.options import config_option, load
from digest.sources import registry
from digest.sources.registry import SourceKind


@cli.command("sources")
@config_option
def sources_command(config_path: Path | None) -> None:
    """List the source kinds a [[sources]] table may name, with their keys (Markdown).

    \b
    The config's plugins (and installed digest.sources entry points) are listed too.
    Example:
      digest sources --config config/example.toml
    """
    load(config_path)  # imports the config's plugins, which register their kinds
    click.echo(markdown(list(registry.kinds().values())), nl=False)


def markdown(kinds: list[SourceKind]) -> str:
    """One section a kind: what it reads, where, its date rule and its keys."""
    out: list[str] = []
    for kind in kinds:
        out += [f"### `{kind.name}`", "", f"{kind.summary}.", ""]
        if kind.url or kind.accept:
            where = f"URL `{kind.url}`" if kind.url else "URL from `url`"
            out.append(f"- {where}; asks for `{kind.accept or '*/*'}`")
        out.append(f"- date: {kind.date_rule.name}, {kind.date_rule.means}")
        out.append("- keys: `name` and `kind` (required), `enabled` (default `true`)")
        for key, spec in kind.fields.items():
            default = "required" if spec.required else f"default `{_toml(spec.default)}`"
            out.append(f"  - `{key}` ({default}): {spec.help}")
        out.append("")
    return "\n".join(out)


def _toml(value: Any) -> str:
    """``value`` as it is written in the config file (strings, booleans and lists of
    strings are written alike in TOML and JSON)."""
    return json.dumps(list(value) if isinstance(value, tuple) else value)
