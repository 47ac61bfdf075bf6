"""The bundled sample: config/example.toml over examples/listings/ works offline (`make run`)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digest.config import load_config
from digest.formats import date_from_name, read_listing, read_listings
from digest.pipeline import ingest
from digest.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _project_copy(tmp_path: Path) -> Path:
    """config/ and examples/ copied, so the run writes its database and output under tmp."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path / "config" / "example.toml"


def test_example_config_loads_and_points_at_the_bundled_listings() -> None:
    config = load_config(ROOT / "config" / "example.toml")
    assert config.database == ""  # the default: var/output.sqlite beside the output folder
    assert config.output_dir == "output"
    assert config.site_url == "http://localhost:8080/"
    [source] = config.sources
    assert source.kind == "file"
    assert config.resolve(source.path) == ROOT / "examples" / "listings"


def test_every_bundled_listing_reads_and_is_named_for_its_own_date() -> None:
    paths = sorted((ROOT / "examples" / "listings").iterdir())
    assert len(paths) >= 6
    for path, listing in read_listings(paths):
        assert not isinstance(listing, Exception), listing
        assert listing.papers, path
        assert listing.date == date_from_name(path)
        if listing.source_date:  # the name agrees with the date inside the file
            assert listing.source_date == listing.date, path


@pytest.mark.slow
def test_make_run_command_produces_a_digest_with_papers(tmp_path: Path) -> None:
    config = _project_copy(tmp_path)
    out = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "digest", "run", "--config", str(config), "--date", "2025-03-13"]
        + ["--output", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    digest = json.loads((out / "2025-03-13" / "digest.json").read_text(encoding="utf-8"))
    assert len(digest["papers"]) == 93  # the whole Mar 13 page (seeds/000)
    assert digest["sources"] == [
        {
            "name": "sample-listings",
            "kind": "trending_text",
            "status": "ok",
            "papers": 93,
            "error": None,
        }
    ]
    assert (tmp_path / "var" / "site.sqlite").exists()  # not inside the real project


def test_sample_days_share_papers_so_seen_days_is_meaningful(tmp_path: Path) -> None:
    config = load_config(_project_copy(tmp_path))
    with Store.open(tmp_path / "db.sqlite") as store:
        for day in (11, 12, 13):
            ingest(config, dt.date(2025, 3, day), store=store)
        seen = [d.seen_days for d in store.day_papers(dt.date(2025, 3, 13))]
    assert len(seen) == 93 and max(seen) >= 2


def test_a_day_without_a_file_is_an_empty_day(tmp_path: Path) -> None:
    config = load_config(_project_copy(tmp_path))
    with Store.open(tmp_path / "db.sqlite") as store:
        [listing] = ingest(config, dt.date(2025, 3, 15), store=store)
    assert listing.status == "empty" and "2025-03-15" in (listing.error or "")


def test_the_feed_and_daily_papers_samples_are_real(tmp_path: Path) -> None:
    listings = ROOT / "examples" / "listings"
    assert len(read_listing(listings / "2026-09-04.json").papers) == 3
    assert read_listing(listings / "2025-08-20.xml").kind == "arxiv_rss"
