"""The weekly digest: its files and feed, an empty week, weekly subscribers served once a
week exactly once, daily sends skipping them, the cadence from the CLI, the scheduler."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from smtp_fixture_server import DAY, SECRET, setup_project, smtp_server

from digest import deliver
from digest.cli import cli
from digest.config import Config
from digest.store import Store

WEEK = "2025-W23"  # DAY, 2025-06-02, is its Monday


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _cli(config: Config, *args: str) -> str:
    assert config.path is not None
    result = CliRunner().invoke(cli, [*args, "--config", str(config.path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_weekly_subscribers_get_the_week_once_and_no_daily_email(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _cli(config, "subscribers", "add", "daily@example.org", "--confirmed")
        out = _cli(
            config, "subscribers", "add", "weekly@example.org", "--confirmed", "--cadence", "weekly"
        )
        assert "weekly@example.org: confirmed, weekly" in out
        _cli(config, "subscribers", "add", "later@example.org", "--confirmed")
        assert "later@example.org: weekly" in _cli(
            config, "subscribers", "set", "later@example.org", "--cadence", "weekly"
        )
        with Store.open(config.database_path) as store:
            digest = store.digest_for(DAY)
            assert digest is not None
            deliver.send_digest(store, config, digest, config.output_path)
        assert rec.recipients() == ["daily@example.org"]
        out = _cli(config, "weekly", "--week", WEEK, "--send")
        assert f"{WEEK}: 6 papers over 1 days" in out
        assert sorted(rec.recipients()[1:]) == ["later@example.org", "weekly@example.org"]
        weekly_mail = rec.messages()[-1]
        assert f"week {WEEK}" in weekly_mail["Subject"]
        _cli(config, "weekly", "--week", WEEK, "--send")  # again: nobody twice
        assert len(rec.recipients()) == 3
    folder = config.output_path / "weekly" / WEEK
    assert sorted(p.name for p in folder.iterdir()) == [
        "digest.json", "email.html", "email.txt", "index.html"
    ]  # fmt: skip
    data = json.loads((folder / "digest.json").read_text())
    assert data["week"] == WEEK and data["papers"] == 6 and len(data["top"]) == 6
    assert [d["date"] for d in data["days"]] == [str(DAY)]
    feed = feedparser.parse((config.output_path / "weekly.xml").read_bytes())
    assert not feed.bozo and [e.title for e in feed.entries] == [f"Week {WEEK}: 6 papers"]
    assert feed.entries[0].published_parsed[:3] == (2025, 6, 8)  # dated by the week's end
    assert not feedparser.parse((config.output_path / "weekly.atom").read_bytes()).bozo


def test_a_week_without_papers_sends_nothing_and_says_so(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _cli(config, "subscribers", "add", "w@example.org", "--confirmed", "--cadence", "weekly")
        out = _cli(config, "weekly", "--week", "2025-W30", "--send")
        assert "2025-W30: no papers this week; nothing sent" in out
        assert rec.recipients() == []
    page = (config.output_path / "weekly" / "2025-W30" / "index.html").read_text()
    assert "No papers this week" in page


@pytest.mark.parametrize("week", ["2025-12", "2025-W54", "W12"])
def test_a_bad_week_is_one_line(tmp_path: Path, week: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "digest", "weekly", "--week", week, "--output", "out"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"digest: error: --week must be an ISO week like 2025-W12, got '{week}'"
    ]


def test_bad_weekday_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[weekly]\nweekday = "funday"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "digest", "weekly", "--config", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "'weekly.weekday'" in proc.stderr and str(path) in proc.stderr


def test_the_scheduler_builds_last_week_on_the_configured_weekday(tmp_path: Path) -> None:
    import datetime as dt

    from digest.schedule import Scheduler

    config = setup_project(tmp_path, None)
    config = config.with_overrides(
        weekly=type(config.weekly)(weekday="monday"),
        schedule=type(config.schedule)(cron="0 8 * * *", catch_up_days=0),
    )
    # Monday 2025-06-09 09:00 UTC: the day is produced (or not), then last week is built
    Scheduler(config, send=False).catch_up(dt.datetime(2025, 6, 9, 9, 0, tzinfo=dt.UTC))
    assert (config.output_path / "weekly" / WEEK / "index.html").is_file()


def test_the_readme_commands_work_as_printed(tmp_path: Path) -> None:
    for args in (
        ["subscribers", "add", "bob@example.org", "--confirmed", "--cadence", "weekly"],
        ["weekly", "--week", "2025-W12"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "digest", *args], cwd=tmp_path, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "output" / "weekly" / "2025-W12" / "index.html").is_file()
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "digest subscribers add bob@example.org --confirmed --cadence weekly" in readme
    assert "digest weekly --week 2025-W12 [--send]" in readme


def test_the_weekly_email_links_preferences_where_the_cadence_is_set_over_http(
    tmp_path: Path,
) -> None:
    import re

    import requests
    from test_foryou_journey import _serve

    def body(msg: object, kind: str) -> str:
        part = msg.get_body((kind,))  # type: ignore[attr-defined]
        assert part is not None
        return str(part.get_content())

    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        assert config.path is not None
        _cli(config, "subscribers", "add", "wk@example.org", "--confirmed", "--cadence", "weekly")
        _cli(config, "weekly", "--week", WEEK, "--send")
        [mail] = rec.messages()
        text, html = body(mail, "plain"), body(mail, "html")
        found = re.search(r"Your preferences: (https://digest\.test/preferences\?token=\S+)", text)
        assert found and "Your preferences</a>" in html and found.group(1) in html
        with _serve(config.path, tmp_path) as base:
            url = found.group(1).replace("https://digest.test", base)
            page = requests.get(url, timeout=10)
            assert page.status_code == 200
            assert re.search(r'value="weekly" checked', page.text)
            assert 'value="daily">' in page.text
            bad = requests.post(url, data={"cadence": "hourly"}, timeout=10)
            assert (
                bad.status_code == 400 and "cadence" in bad.text and "Nothing was saved" in bad.text
            )
            with Store.open(config.database_path) as store:
                sub = store.subscriber("wk@example.org")
                assert sub is not None and sub.cadence == "weekly"
            ok = requests.post(url, data={"cadence": "daily", "keywords": "graphs"}, timeout=10)
            assert ok.status_code == 200 and re.search(r'value="daily" checked', ok.text)
            with Store.open(config.database_path) as store:
                sub = store.subscriber("wk@example.org")
                assert sub is not None and sub.cadence == "daily"
                digest = store.digest_for(DAY)
                assert digest is not None
                deliver.send_digest(store, config, digest, config.output_path)
        assert rec.recipients()[-1] == "wk@example.org"  # now a daily reader
