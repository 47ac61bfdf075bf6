"""The [render] section of the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render import fixture_digest

from digest.config import load_config
from digest.errors import ConfigError
from digest.render import render_day


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text('site_url = "https://digest.example.org/"\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[render]\nfeed_days = 0\n", "'render.feed_days' must be greater than 0"),
        ("[render]\nsummary_sentences = 0\n", "'render.summary_sentences' must be greater than 0"),
        ("[render]\nmax_email_bytes = 5000\n", "'render.max_email_bytes' must be at least 10000"),
        ('[render]\ntemplates_dir = "nowhere"\n', "'render.templates_dir' is not a folder"),
        ('[render]\nfeed_days = "30"\n', "'render.feed_days' must be an integer"),
        ("[render]\ncolour = 1\n", "unknown key 'render.colour'"),
    ],
)
def test_bad_render_settings_are_one_line_errors(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_config(write(tmp_path, body))
    assert "\n" not in str(err.value)


def test_templates_dir_is_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "my-templates").mkdir()
    (tmp_path / "my-templates" / "email.txt").write_text("custom {{ day.date_label }}\n", "utf-8")
    path = tmp_path / "config" / "digest.toml"
    path.write_text(
        'site_url = "https://digest.example.org/"\n[render]\ntemplates_dir = "my-templates"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert render_day(fixture_digest(), config).email_txt == "custom 13 Mar 2025\n"
