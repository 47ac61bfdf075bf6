"""Config loading: every mistake is one line that names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import Config, load_config
from digest.errors import ConfigError


def _load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "digest.toml"
    path.write_text(text)
    return load_config(path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "digest.toml") in message
    return message


def test_defaults_without_a_file() -> None:
    cfg = load_config(None)
    assert cfg.trending.top_n == 25
    assert cfg.render.feed_days == 30
    assert cfg.sources == ()


def test_sections_and_sources_load(tmp_path: Path) -> None:
    cfg = _load(
        tmp_path,
        """
title = "Lab papers"
site_url = "https://lab.example.org/digest/"
[[sources]]
name = "arxiv"
kind = "arxiv_rss"
categories = ["cs.LG", "cs.CL"]
[trending]
top_n = 10
weight_upvotes = 2
[schedule]
timezone = "Europe/Berlin"
""",
    )
    assert cfg.title == "Lab papers"
    assert cfg.sources[0].categories == ("cs.LG", "cs.CL")
    assert cfg.sources[0].announce_types == ("new", "cross")
    assert cfg.trending.top_n == 10
    assert cfg.trending.weight_upvotes == 2.0  # an integer is accepted for a float key
    assert cfg.schedule.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour = 'red'", "unknown key 'colour'"),
        ("[trending]\ntop = 3", "unknown key 'trending.top'"),
        ("[trending]\ntop_n = 'ten'", "'trending.top_n' must be an integer"),
        ("[trending]\ntop_n = true", "'trending.top_n' must be an integer"),
        ("[trending]\ntop_n = 0", "'trending.top_n' must be greater than 0"),
        ("[trending]\nmax_theme_share = 1.5", "'trending.max_theme_share' is a share"),
        ("[trending]\nmax_theme_share = 0", "'trending.max_theme_share' must be greater"),
        ("[trending]\ndiversity = -1", "'trending.diversity' must be"),
        ("[themes]\nk_tolerance = -1", "'themes.k_tolerance' must be"),
        ("[themes]\nconsensus_runs = -1", "'themes.consensus_runs' must be"),
        ("[email]\nsend_empty = 'yes'", "'email.send_empty' must be true or false"),
        ("site_url = 'ftp://x'", "'site_url' must be an http(s) URL"),
        (
            "[[sources]]\nname='a'\nkind='feed'\nurl='not a url'",
            "'sources[0].url' must be an http(s) URL",
        ),
        ("[[sources]]\nname='a'\nkind='carrier-pigeon'", "'sources[0].kind' must be one of"),
        ("[[sources]]\nkind='file'\npath='x'", "missing required key 'name'"),
        ("[[sources]]\nname='a'\nkind='file'", "'sources[0].path' is required"),
        ("[[sources]]\nname='a'\nkind='arxiv_rss'", "'sources[0].categories' is required"),
        (
            "[[sources]]\nname='a'\nkind='file'\npath='x'\n[[sources]]\nname='a'\nkind='file'\npath='y'",
            "is used by another source",
        ),
        ("[schedule]\ntimezone = 'Mars/Olympus'", "'schedule.timezone' is not an IANA time zone"),
        ("[schedule]\ncron = 'every day'", "'schedule.cron' must be a crontab line"),
        ("[smtp]\nport = 70000", "'smtp.port' must be a TCP port"),
        ("[email]\nconnections = 0", "'email.connections' must be between 1 and 16, got 0"),
        ("[email]\nconnections = 17", "'email.connections' must be between 1 and 16, got 17"),
        ("[smtp]\nsecurity = 'tls9'", "'smtp.security' must be"),
        ("title = ", "not valid TOML"),
        ("trending = 3", "'trending': expected a table"),
        (
            "[[sources]]\nname='a'\nkind='file'\npath='x'\ncategories='cs.LG'",
            "'sources[0].categories' must be a list",
        ),
    ],
)
def test_each_mistake_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _error(tmp_path, text)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"title = '\xff\xfe'")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


def test_relative_paths_resolve_against_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    path = tmp_path / "config" / "digest.toml"
    path.write_text("output_dir = 'site'\n")
    cfg = load_config(path)
    assert cfg.output_path == tmp_path / "site"
    assert cfg.database_path == tmp_path / "var" / "site.sqlite"  # the output folder's own
    cfg = load_config(path).with_overrides(database="state/x.sqlite")
    assert cfg.database_path == tmp_path / "state" / "x.sqlite"
