"""Which days are published: an empty day is recorded but is no feed item or archive card;
a day whose sources all failed is neither published nor marked done (issue 10, item 1)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
import time_machine
from click.testing import CliRunner, Result

from digest.cli import cli
from digest.store import Store


def digest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def project(tmp_path: Path) -> Path:
    """A config over a folder of dated listings holding only 2025-03-14."""
    listings = tmp_path / "listings"
    listings.mkdir()
    (listings / "2025-03-14.jsonl").write_text(
        "".join(
            json.dumps({"id": f"2503.{i:05d}", "title": f"Paper {i}", "summary": "Text."}) + "\n"
            for i in range(4)
        )
    )
    config = tmp_path / "digest.toml"
    config.write_text(
        'site_url = "https://digest.example.org/"\noutput_dir = "out"\n'
        '[[sources]]\nname = "listings"\nkind = "file"\npath = "listings"\n'
    )
    return config


def feed_days(out: Path) -> list[str]:
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [e.link.rsplit("/", 2)[-2] for e in parsed.entries]


@pytest.mark.slow
def test_an_empty_day_is_recorded_but_never_a_feed_item_or_archive_card(tmp_path: Path) -> None:
    config = str(project(tmp_path))
    assert digest("run", "--config", config, "--date", "2025-03-14", cwd=tmp_path).returncode == 0
    empty = digest("run", "--config", config, "--date", "2025-03-15", cwd=tmp_path)
    assert empty.returncode == 3, empty.stderr
    assert "no papers for 2025-03-15" in empty.stderr
    out = tmp_path / "out"
    assert (out / "2025-03-15" / "digest.json").exists()  # recorded, as README promises
    assert feed_days(out) == ["2025-03-14"]
    archive = (out / "index.html").read_text(encoding="utf-8")
    assert "2025-03-14/index.html" in archive
    assert "2025-03-15" not in archive and "0 papers" not in archive
    with Store.open(tmp_path / "var" / "out.sqlite") as store:
        # the scheduler's catch-up starts after it: the day is done
        assert dt.date(2025, 3, 15) in store.completed_days(
            dt.date(2025, 3, 1), dt.date(2025, 4, 1)
        )


@pytest.mark.slow
def test_a_day_whose_sources_all_failed_is_not_published_nor_marked_done(tmp_path: Path) -> None:
    config = str(project(tmp_path))
    assert digest("run", "--config", config, "--date", "2025-03-14", cwd=tmp_path).returncode == 0
    out = tmp_path / "out"
    feed_before = (out / "feed.xml").read_bytes()
    archive_before = (out / "index.html").read_bytes()
    failed = digest(
        "run", "--config", config, "--date", "2025-03-16", "--input", "gone.jsonl", cwd=tmp_path
    )
    assert failed.returncode == 1
    assert "gone.jsonl: no such file" in failed.stderr
    assert "nothing published for 2025-03-16" in failed.stderr
    assert not (out / "2025-03-16").exists()
    # a rerun of a good day that fails keeps the day as it was
    again = digest(
        "run", "--config", config, "--date", "2025-03-14", "--input", "gone.jsonl", cwd=tmp_path
    )
    assert again.returncode == 1
    assert (out / "feed.xml").read_bytes() == feed_before
    assert (out / "index.html").read_bytes() == archive_before
    assert json.loads((out / "2025-03-14" / "digest.json").read_text())["papers"]
    with Store.open(tmp_path / "var" / "out.sqlite") as store:
        done = store.completed_days(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
        assert dt.date(2025, 3, 16) not in done  # the next run retries it
        assert store.digest_for(dt.date(2025, 3, 16)) is None
        assert store.digest_for(dt.date(2025, 3, 14)) is not None


# ------------------------------------------------------------------ item 2: a listing's own date


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_a_dated_listing_keeps_its_own_date_without_date(
    tmp_path: Path, fixtures: Path, command: str
) -> None:
    # the page says "Mar 14" without a year: the latest Mar 14 not in the future
    seed = fixtures / "seeds" / "seed-mar14-excerpt.txt"
    with time_machine.travel(dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.UTC), tick=False):
        extra = ["--output", "out"] if command == "run" else []
        done = invoke(command, "--input", str(seed), *extra)
    assert done.exit_code == 0, done.output
    assert "stored under 2025-03-14" in done.output
    db = "out.sqlite" if command == "run" else "output.sqlite"  # the output folder's own
    with Store.open(tmp_path / "var" / db) as store:
        assert store.listing_dates() == [dt.date(2025, 3, 14)]
    if command == "run":
        made = json.loads((tmp_path / "out" / "2025-03-14" / "digest.json").read_text())
        assert made["date"] == "2025-03-14" and made["papers"]
        assert not (tmp_path / "out" / "2025-03-20").exists()
        assert "2025-03-14: " in done.output


@pytest.mark.slow
def test_run_without_date_makes_one_digest_per_listing_date(tmp_path: Path, fixtures: Path) -> None:
    seeds = fixtures / "seeds"
    undated = tmp_path / "papers.jsonl"
    undated.write_text(json.dumps({"id": "2503.00002", "title": "Undated", "summary": "S."}) + "\n")
    with time_machine.travel(dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.UTC), tick=False):
        done = invoke(
            "run",
            *("--input", str(seeds / "seed-mar13-excerpt.txt")),
            *("--input", str(seeds / "seed-mar14-excerpt.txt")),
            *("--input", str(undated)),
            *("--output", "out"),
        )
    assert done.exit_code == 0, done.output
    for day in ("2025-03-13", "2025-03-14", "2025-03-20"):  # an undated listing: today's
        assert f"stored under {day}" in done.output
        assert (tmp_path / "out" / day / "digest.json").exists()
