"""A contributor's source kind (tests/plugin_jsonfeed), registered without touching
``digest/``, ingests its fixture through ``digest run``: named by the config's ``plugins``
key, or found through a ``digest.sources`` entry point of an installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from http_fixture_server import FixtureServer, Reply, serve

from digest.cli import cli
from digest.config import load_config
from digest.errors import ConfigError
from digest.sources import registry
from digest.sources.registry import LATEST_ISSUE, RegistryError, SourceKind

TESTS = Path(__file__).resolve().parent
PLUGIN = TESTS / "plugin_jsonfeed"
FEED = (PLUGIN / "fixtures" / "feed.json").read_bytes()
DAY = "2026-08-03"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with serve() as s:
        s.route("/picks.json", Reply(200, FEED, {"Content-Type": "application/feed+json"}))
        yield s


def config_file(tmp_path: Path, server: FixtureServer, plugins: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""{plugins}
output_dir = "{tmp_path / "out"}"
database = "{tmp_path / "state.sqlite"}"

[[sources]]
name = "reading-group"
kind = "jsonfeed"
url = "{server.url("/picks.json")}"
""",
        encoding="utf-8",
    )
    return path


def papers_of(tmp_path: Path) -> tuple[list[dict], list[dict]]:
    data = json.loads((tmp_path / "out" / DAY / "digest.json").read_text("utf-8"))
    return data["sources"], data["papers"]


def test_a_plugin_named_in_the_config_ingests_its_fixture(
    server: FixtureServer, tmp_path: Path
) -> None:
    path = config_file(tmp_path, server, 'plugins = ["plugin_jsonfeed"]')
    result = CliRunner().invoke(cli, ["run", "--config", str(path), "--date", DAY])
    assert result.exit_code == 0, result.output
    sources, papers = papers_of(tmp_path)
    assert sources == [
        {"name": "reading-group", "kind": "jsonfeed", "status": "ok", "papers": 2, "error": None}
    ]
    assert sorted(p["id"] for p in papers) == ["1512.03385", "1706.03762"]
    accept = server.hits("/picks.json")[0].headers["Accept"]
    assert accept == "application/feed+json, application/json;q=0.9"
    assert "jsonfeed" in registry.kinds()


def digest_run(config: Path, pythonpath: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    command = [sys.executable, "-m", "digest", "run", "--config", str(config), "--date", DAY]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=config.parent)


@pytest.mark.slow
def test_an_installed_entry_point_registers_the_kind(server: FixtureServer, tmp_path: Path) -> None:
    # no plugins key: the kind comes from the dist-info an installed package leaves
    path = config_file(tmp_path, server, "")
    proc = digest_run(path, os.pathsep.join([str(PLUGIN / "dist"), str(TESTS)]))
    assert proc.returncode == 0, proc.stderr
    sources, papers = papers_of(tmp_path)
    assert (sources[0]["kind"], sources[0]["papers"]) == ("jsonfeed", 2)
    # and without the package the kind is unknown: one line naming the key and the file
    proc = digest_run(path, "")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"digest: error: {path}: 'sources[0].kind' must be one of")
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        (
            'plugins = ["no_such_plugin_module"]',
            "'plugins[0]': cannot import no_such_plugin_module",
        ),
        ('plugins = "plugin_jsonfeed"', "'plugins' must be a list"),
    ],
)
def test_a_bad_plugin_is_one_line_naming_the_key(
    server: FixtureServer, tmp_path: Path, plugins: str, message: str
) -> None:
    path = config_file(tmp_path, server, plugins)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_a_second_kind_of_the_same_name_is_refused() -> None:
    feed = registry.get("feed")
    impostor = SourceKind(
        name="feed", summary="another", fields={}, date_rule=LATEST_ISSUE, fetch=feed.fetch or _none
    )
    with pytest.raises(RegistryError, match="'feed' is registered twice"):
        registry.register(impostor)
    assert registry.get("feed") is feed


def _none(*args: object) -> None:
    raise AssertionError("not called")
