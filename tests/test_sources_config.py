"""config/digest.toml and the checks of the live-source and [http] settings."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from digest.config import load_config
from digest.errors import ConfigError
from digest.sources.live import source_url

ROOT = Path(__file__).resolve().parent.parent
LIVE = ROOT / "config" / "digest.toml"


def test_live_config_loads_with_daily_papers_and_arxiv() -> None:
    config = load_config(LIVE)
    kinds = {s.kind: s for s in config.sources}
    assert set(kinds) >= {"hf_daily", "arxiv_rss"}
    day = dt.date(2026, 9, 24)
    assert source_url(kinds["hf_daily"], day).startswith(
        "https://huggingface.co/api/daily_papers?date=2026-09-24"
    )
    assert (
        source_url(kinds["arxiv_rss"], day) == "https://rss.arxiv.org/rss/cs.LG+cs.CL+cs.CV+cs.AI"
    )
    assert config.http.arxiv_min_interval_s >= 3.0
    assert "database" not in tomllib.loads(LIVE.read_text("utf-8"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[sources]]\nname = "a"\nkind = "arxiv_rss"\ncategories = ["cs.LG+cs.CL"]\n',
            "'sources[0].categories[0]' must be an arXiv category like \"cs.LG\"",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "arxiv_rss"\ncategories = ["cs LG"]\n',
            "'sources[0].categories[0]'",
        ),
        ("[http]\nmax_bytes = 0\n", "'http.max_bytes' must be greater than 0"),
        ("[http]\ntotal_timeout_s = -1\n", "'http.total_timeout_s' must be greater than 0"),
        ("[http]\nbackoff_s = -0.5\n", "'http.backoff_s' must be 0 or more"),
        ('[http]\nuser_agent = "  "\n', "'http.user_agent' must be one non-empty line"),
        (
            '[http]\nuser_agent = "a\\r\\nX-Evil: 1"\n',
            "'http.user_agent' must be one non-empty line",
        ),
        ("[http]\nretry = 3\n", "unknown key 'http.retry'"),
    ],
)
def test_bad_live_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "cat", ["cs.LG", "stat.ML", "astro-ph.CO", "hep-th", "quant-ph", "math.AP"]
)
def test_real_arxiv_categories_are_accepted(tmp_path: Path, cat: str) -> None:
    text = f'[[sources]]\nname = "a"\nkind = "arxiv_rss"\ncategories = ["{cat}"]\n'
    assert load_config(write(tmp_path, text)).sources[0].categories == (cat,)
