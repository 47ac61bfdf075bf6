"""The scheduler sending through a real SMTP server (aiosmtpd on 127.0.0.1): once per day."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from pathlib import Path

import pytest
import time_machine
from smtp_fixture_server import SECRET, smtp_server

from digest.config import Config, load_config
from digest.schedule import Scheduler
from digest.store import Store

DAYS = [dt.date(2025, 3, d) for d in range(17, 21)]
SUBSCRIBERS = ["ada@example.org", "alan@example.org"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _project(root: Path, port: int, policy: str) -> Config:
    listings = root / "listings"
    listings.mkdir()
    for day in DAYS:
        rows = [
            {"id": f"2503.{day.day}{i:03d}", "title": f"Graph networks, study {i} of {day}",
             "summary": "We study graphs and networks.", "authors": ["Ada Lovelace"]}
            for i in range(4)
        ]  # fmt: skip
        (listings / f"{day}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = root / "digest.toml"
    path.write_text(
        f'site_url = "https://digest.test/"\noutput_dir = "{root / "out"}"\n'
        f'database = "{root / "var" / "digest.sqlite"}"\n'
        '[email]\nfrom_addr = "news@digest.test"\nrate_per_s = 2000\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'[schedule]\ncron = "30 7 * * *"\ntimezone = "UTC"\nemail_caught_up = "{policy}"\n'
        f'[[sources]]\nname = "local"\nkind = "file"\npath = "{listings}"\n'
    )
    config = load_config(path)
    with Store.open(config.database_path) as store:
        for address in SUBSCRIBERS:
            store.add_subscriber(address, "confirmed")
    return config


def _sent_days(messages: list) -> Counter:
    months = {f"{d.day} {d:%b %Y}": d for d in DAYS}
    out: Counter = Counter()
    for msg in messages:
        subject = str(msg["Subject"])
        day = next(d for text, d in months.items() if f", {text}" in subject)
        out[(str(msg["To"]), day)] += 1
    return out


@pytest.mark.slow
def test_racing_schedulers_email_each_subscriber_once_and_only_the_newest_caught_up_day(
    tmp_path: Path,
) -> None:
    with smtp_server() as (rec, port):
        config = _project(tmp_path, port, "newest")
        with time_machine.travel(dt.datetime(2025, 3, 17, 7, 31, tzinfo=dt.UTC), tick=False):
            Scheduler(config, send=True).catch_up()
        # asleep until the 20th; then two schedulers wake on the same database at once
        barrier = threading.Barrier(2)

        def race() -> None:
            sched = Scheduler(config, send=True)
            barrier.wait()
            sched.catch_up()

        with time_machine.travel(dt.datetime(2025, 3, 20, 7, 31, tzinfo=dt.UTC), tick=True):
            threads = [threading.Thread(target=race) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            Scheduler(config, send=True).catch_up()  # a later tick: nothing left to send
        messages = rec.messages()
    sent = _sent_days(messages)
    expected = {(who, day): 1 for who in SUBSCRIBERS for day in (DAYS[0], DAYS[3])}
    assert dict(sent) == expected
    with Store.open(config.database_path) as store:
        for day in DAYS:
            assert [r.status for r in store.runs_for(day)] == ["ok"]
        assert [r.sent for r in store.runs_for(DAYS[3])] == [2]


@pytest.mark.slow
def test_all_emails_every_caught_up_day_oldest_first(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = _project(tmp_path, port, "all")
        with time_machine.travel(dt.datetime(2025, 3, 17, 7, 31, tzinfo=dt.UTC), tick=False):
            Scheduler(config, send=True).catch_up()
        with time_machine.travel(dt.datetime(2025, 3, 20, 7, 31, tzinfo=dt.UTC), tick=False):
            Scheduler(config, send=True).catch_up()
        messages = rec.messages()
    sent = _sent_days(messages)
    assert dict(sent) == {(who, day): 1 for who in SUBSCRIBERS for day in DAYS}
    order = [day for msg in messages for (to, day) in _sent_days([msg])]
    assert order == sorted(order)
