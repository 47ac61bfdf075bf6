"""The scheduler: cron in local time across DST, catch-up after sleep, one digest per day."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from digest import pipeline
from digest.calendar import (
    due_dates,
    expected_arxiv_listing,
    latest_arxiv_listing,
    parse_cron,
)
from digest.config import Config, ScheduleConfig, SourceConfig, load_config
from digest.errors import ConfigError, DigestError
from digest.models import EMPTY, ERROR, OK, STALE, Listing, Paper
from digest.schedule import DayOutcome, Scheduler, email_plan
from digest.store import Store
from digest.store.runs import day_status

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOPICS = ["graph neural networks", "protein folding", "speech recognition", "robot grasping"]


def write_days(folder: Path, days: list[dt.date], per_day: int = 6) -> Path:
    """Tiny dated JSONL listings: a few papers a day over a handful of topics."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, day in enumerate(days):
        rows = []
        for i in range(per_day):
            topic = TOPICS[i % len(TOPICS)]
            rows.append({
                "id": f"25{day.month:02d}.{day.day:02d}{n:01d}{i:02d}",
                "title": f"A study of {topic} number {i} on {day}",
                "summary": f"We study {topic} with new methods for {topic} tasks.",
                "authors": ["A. Author"],
            })  # fmt: skip
        (folder / f"{day.isoformat()}.jsonl").write_text(
            "\n".join(json.dumps(r) for r in rows) + "\n"
        )
    return folder


def make_config(tmp_path: Path, listings: Path, **schedule: object) -> Config:
    return Config(
        output_dir=str(tmp_path / "out"),
        database=str(tmp_path / "var" / "digest.sqlite"),
        sources=(SourceConfig(name="local", kind="file", path=str(listings)),),
        schedule=ScheduleConfig(**schedule),  # type: ignore[arg-type]
    )


class Recorder:
    """The real pipeline.run, with email left out (no SMTP here) but the request recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[dt.date, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, config, day, inputs=(), output=None, send=False, site=True):  # type: ignore[no-untyped-def]
        with self.lock:
            self.calls.append((day, send))
        return pipeline.run(config, day, inputs, output, send=False, site=site)


# ------------------------------------------------------------------ which day is today


def test_arxiv_announcements_follow_the_eastern_evening_schedule() -> None:
    def at(y: int, m: int, d: int, hh: int, mm: int, tz: ZoneInfo = NEW_YORK) -> dt.datetime:
        return dt.datetime(y, m, d, hh, mm, tzinfo=tz)

    # Sunday 2025-03-16: before 20:00 ET the newest listing is Friday's, after it Monday's
    assert latest_arxiv_listing(at(2025, 3, 16, 19, 59)) == dt.date(2025, 3, 14)
    assert latest_arxiv_listing(at(2025, 3, 16, 20, 0)) == dt.date(2025, 3, 17)
    # Friday and Saturday evenings announce nothing
    assert latest_arxiv_listing(at(2025, 3, 21, 21, 0)) == dt.date(2025, 3, 21)
    assert latest_arxiv_listing(at(2025, 3, 22, 21, 0)) == dt.date(2025, 3, 21)
    # 07:30 in Berlin on Tuesday is after Monday 20:00 ET: Tuesday's listing is out
    assert latest_arxiv_listing(at(2025, 3, 18, 7, 30, BERLIN)) == dt.date(2025, 3, 18)
    # a weekend digest expects Friday's listing, which a feed still showing is stale
    assert expected_arxiv_listing(dt.date(2025, 3, 22)) == dt.date(2025, 3, 21)
    assert expected_arxiv_listing(dt.date(2025, 3, 18)) == dt.date(2025, 3, 18)


def test_empty_or_stale_day_is_done_and_all_sources_failing_is_an_error() -> None:
    def listing(status: str) -> Listing:
        return Listing(dt.date(2025, 3, 22), status, "test", (), status)

    assert day_status([listing(STALE)], 0) == "empty"
    assert day_status([listing(EMPTY), listing(ERROR)], 0) == "empty"
    assert day_status([listing(ERROR), listing(ERROR)], 0) == "error"
    paper = Paper(id="2503.00001", title="T")
    ok = Listing(dt.date(2025, 3, 22), "a", "test", (paper,), OK)
    assert day_status([ok, listing(STALE)], 1) == "ok"


# ------------------------------------------------------------------ cron


def test_crontab_weekday_numbers_mean_sunday_zero_not_apscheduler_monday_zero() -> None:
    start = dt.datetime(2025, 3, 17, tzinfo=dt.UTC)  # a Monday
    for field, expected in (("0", "Sunday"), ("7", "Sunday"), ("1", "Monday"), ("sat", "Saturday")):
        fire = parse_cron(f"0 8 * * {field}", "UTC").get_next_fire_time(None, start)
        assert fire.strftime("%A") == expected, field
    weekdays = parse_cron("0 8 * * 1-5", "UTC")
    fire, seen = start, []
    for _ in range(7):
        fire = weekdays.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
        seen.append(fire.strftime("%a"))
    assert seen == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]


def fire_weekdays(dow_field: str) -> set[int]:
    """The crontab weekday numbers (Sunday = 0) a trigger of ``dow_field`` fires on in a week."""
    trigger = parse_cron(f"0 12 * * {dow_field}", "UTC")
    sunday = dt.datetime(2025, 3, 2, tzinfo=dt.UTC)
    out: set[int] = set()
    fire = trigger.get_next_fire_time(None, sunday)
    while fire is not None and fire < sunday + dt.timedelta(days=7):
        out.add(fire.isoweekday() % 7)
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(hours=1))
    return out


@given(st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=8))
def test_weekday_lists_fire_on_the_crontab_days(numbers: list[int]) -> None:
    assert fire_weekdays(",".join(map(str, numbers))) == {n % 7 for n in numbers}


@given(st.integers(min_value=0, max_value=7), st.integers(min_value=0, max_value=7))
def test_weekday_ranges_follow_crontab(a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    assert fire_weekdays(f"{lo}-{hi}") == {n % 7 for n in range(lo, hi + 1)}


@given(
    st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 12, 31)),
    st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")]),
    st.integers(min_value=0, max_value=10),
)
def test_due_dates_of_a_daily_cron_are_the_last_days_in_order(
    naive_now: dt.datetime, tz: ZoneInfo, catch_up_days: int
) -> None:
    now = naive_now.replace(tzinfo=dt.UTC)
    due = due_dates(parse_cron("30 7 * * *", tz), now, catch_up_days)
    local_now = now.astimezone(tz)
    fired_today = local_now.time() >= dt.time(7, 30)
    newest = local_now.date() if fired_today else local_now.date() - dt.timedelta(days=1)
    expected_count = max(catch_up_days, 1) - (0 if fired_today else 1) or 1
    dates = [d for d, _ in due]
    assert dates[-1] == newest
    assert dates == [newest - dt.timedelta(days=i) for i in reversed(range(expected_count))]
    for day, fire in due:
        assert fire <= now and fire.astimezone(tz).date() == day
        assert (fire.astimezone(tz).hour, fire.astimezone(tz).minute) == (7, 30)


@pytest.mark.parametrize("bad", ["30 7 * *", "61 7 * * *", "30 7 * * 8", "30 7 * * fri-mon"])
def test_a_bad_cron_line_is_one_config_error(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "digest.toml"
    path.write_text(f'[schedule]\ncron = "{bad}"\n')
    with pytest.raises(ConfigError, match="schedule.cron"):
        load_config(path)


@pytest.mark.parametrize(
    ("tz", "days", "expected_utc_hours"),
    [
        # Berlin springs forward on 2025-03-30 and falls back on 2025-10-26
        (BERLIN, [dt.date(2025, 3, 29), dt.date(2025, 3, 30), dt.date(2025, 3, 31)], [6, 5, 5]),
        (BERLIN, [dt.date(2025, 10, 25), dt.date(2025, 10, 26), dt.date(2025, 10, 27)], [5, 6, 6]),
        # New York springs forward on 2025-03-09 and falls back on 2025-11-02
        (NEW_YORK, [dt.date(2025, 3, 8), dt.date(2025, 3, 9), dt.date(2025, 3, 10)], [12, 11, 11]),
        (
            NEW_YORK,
            [dt.date(2025, 11, 1), dt.date(2025, 11, 2), dt.date(2025, 11, 3)],
            [11, 12, 12],
        ),
    ],
)
def test_next_fire_stays_at_local_time_across_dst(
    tz: ZoneInfo, days: list[dt.date], expected_utc_hours: list[int]
) -> None:
    trigger = parse_cron("30 7 * * *", tz)
    fire = trigger.get_next_fire_time(None, dt.datetime.combine(days[0], dt.time(), tz))
    for day, utc_hour in zip(days, expected_utc_hours, strict=True):
        assert (fire.date(), fire.hour, fire.minute) == (day, 7, 30)
        assert fire.astimezone(dt.UTC).hour == utc_hour
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(minutes=1))


def test_fall_back_night_gives_one_digest_date_even_when_the_hour_repeats() -> None:
    trigger = parse_cron("30 1 * * *", NEW_YORK)  # 01:30 happens twice on 2025-11-02
    due = due_dates(trigger, dt.datetime(2025, 11, 3, 12, tzinfo=dt.UTC), 3)
    assert [d for d, _ in due] == [dt.date(2025, 11, 1), dt.date(2025, 11, 2), dt.date(2025, 11, 3)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tz", "wake", "expected_utc"),
    [
        (BERLIN, dt.datetime(2025, 3, 30, 7, 29, 58), dt.datetime(2025, 3, 30, 5, 30)),
        (NEW_YORK, dt.datetime(2025, 11, 2, 7, 29, 58), dt.datetime(2025, 11, 2, 12, 30)),
    ],
)
def test_a_running_scheduler_fires_at_local_time_on_a_dst_day(
    tz: ZoneInfo, wake: dt.datetime, expected_utc: dt.datetime
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    fired: list[dt.datetime] = []
    done = threading.Event()

    def job() -> None:
        fired.append(dt.datetime.now(dt.UTC))
        done.set()

    with time_machine.travel(wake.replace(tzinfo=tz), tick=True):
        sched = BackgroundScheduler(timezone=tz)
        sched.add_job(job, parse_cron("30 7 * * *", tz), max_instances=1, coalesce=True)
        sched.start()
        try:
            assert done.wait(10), "the job did not fire"
        finally:
            sched.shutdown(wait=False)
    assert fired[0].replace(tzinfo=None) - expected_utc < dt.timedelta(seconds=2)
    assert fired[0].replace(tzinfo=None) >= expected_utc


# ------------------------------------------------------------------ catch-up


def test_email_plan_per_policy() -> None:
    d1, d2, d3 = (dt.date(2025, 3, i) for i in (18, 19, 20))
    assert email_plan([d1, d2, d3], d3, "newest") == {d3}
    assert email_plan([d1, d2, d3], None, "newest") == {d3}
    assert email_plan([d1, d2, d3], d3, "all") == {d1, d2, d3}
    assert email_plan([d1, d2, d3], d3, "none") == {d3}
    assert email_plan([d1, d2, d3], None, "none") == set()


@pytest.mark.slow
def test_three_missed_days_are_caught_up_oldest_first_after_a_sleep(tmp_path: Path) -> None:
    days = [dt.date(2025, 3, d) for d in range(17, 22)]
    config = make_config(
        tmp_path, write_days(tmp_path / "listings", days), timezone="Europe/Berlin"
    )
    run = Recorder()
    sched = Scheduler(config, send=True, run_day=run)

    with time_machine.travel(dt.datetime(2025, 3, 17, 7, 31, tzinfo=BERLIN), tick=False):
        first = sched.catch_up()
    assert [(o.date, o.status) for o in first] == [(dt.date(2025, 3, 17), "ok")]

    # the laptop sleeps through the 18th, 19th and 20th and wakes on the 20th at noon
    with time_machine.travel(dt.datetime(2025, 3, 20, 12, 0, tzinfo=BERLIN), tick=False):
        woke = sched.catch_up()
    assert [o.date for o in woke] == [
        dt.date(2025, 3, 18),
        dt.date(2025, 3, 19),
        dt.date(2025, 3, 20),
    ]
    assert all(o.status == "ok" and o.papers == 6 for o in woke)
    # default email_caught_up = newest: only the 20th is emailed
    assert run.calls[1:] == [(dt.date(2025, 3, 18), False), (dt.date(2025, 3, 19), False),
                             (dt.date(2025, 3, 20), True)]  # fmt: skip
    for day in days[:4]:
        assert (tmp_path / "out" / day.isoformat() / "digest.json").is_file()
    assert not (tmp_path / "out" / "2025-03-21").exists()  # not due yet


@pytest.mark.slow
def test_the_wake_up_check_catches_up_only_when_a_run_was_missed(tmp_path: Path) -> None:
    days = [dt.date(2025, 3, d) for d in range(17, 21)]
    config = make_config(tmp_path, write_days(tmp_path / "l", days))
    run = Recorder()
    sched = Scheduler(config, send=False, run_day=run)
    with time_machine.travel(dt.datetime(2025, 3, 17, 8, tzinfo=dt.UTC), tick=False):
        sched.catch_up()
        assert not sched.behind()
        sched._wake_check()
    assert len(run.calls) == 1  # nothing missed: the check did not run anything
    with time_machine.travel(dt.datetime(2025, 3, 20, 12, tzinfo=dt.UTC), tick=False):
        assert sched.behind()
        sched._wake_check()
        assert not sched.behind()
    assert [day for day, _ in run.calls] == days


def test_catch_up_is_bounded_by_catch_up_days(tmp_path: Path) -> None:
    days = [dt.date(2025, 3, d) for d in range(3, 21)]
    config = make_config(tmp_path, write_days(tmp_path / "l", days), catch_up_days=3)
    sched = Scheduler(config, send=False, run_day=Recorder())
    with time_machine.travel(dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC), tick=False):
        sched.catch_up()
    with time_machine.travel(dt.datetime(2025, 3, 20, 8, tzinfo=dt.UTC), tick=False):
        outcomes = sched.catch_up()
    assert [o.date.day for o in outcomes] == [18, 19, 20]


def test_an_empty_day_is_recorded_as_done_not_retried(tmp_path: Path) -> None:
    listings = write_days(tmp_path / "l", [dt.date(2025, 3, 17)])
    (listings / "2025-03-18.json").write_text("[]")  # a Daily Papers reply with no papers
    config = make_config(tmp_path, listings)
    sched = Scheduler(config, send=False)
    with time_machine.travel(dt.datetime(2025, 3, 18, 8, tzinfo=dt.UTC), tick=False):
        assert [o.status for o in sched.catch_up()] == ["empty"]
        assert [o.status for o in sched.catch_up()] == ["skipped"]
    with Store.open(config.database_path) as store:
        assert [r.status for r in store.runs_for(dt.date(2025, 3, 18))] == ["empty"]


def test_a_day_whose_sources_all_failed_is_retried_at_the_next_tick(tmp_path: Path) -> None:
    listings = tmp_path / "l"
    listings.mkdir()
    (listings / "2025-03-18.jsonl").write_text("{half a line")  # caught mid-download
    config = make_config(tmp_path, listings)
    sched = Scheduler(config, send=False)
    with time_machine.travel(dt.datetime(2025, 3, 18, 8, tzinfo=dt.UTC), tick=False):
        assert [o.status for o in sched.catch_up()] == ["error"]
        write_days(listings, [dt.date(2025, 3, 18)])  # the whole file is there now
        assert [o.status for o in sched.catch_up()] == ["ok"]


# ------------------------------------------------------------------ single instance


@pytest.mark.slow
def test_two_schedulers_racing_on_one_database_give_one_digest_per_day(tmp_path: Path) -> None:
    days = [dt.date(2025, 3, d) for d in range(17, 21)]
    config = make_config(tmp_path, write_days(tmp_path / "l", days))
    run = Recorder()
    with time_machine.travel(dt.datetime(2025, 3, 17, 8, tzinfo=dt.UTC), tick=False):
        Scheduler(config, send=False, run_day=run).catch_up()
    results: list[list[DayOutcome]] = []
    barrier = threading.Barrier(2)

    def race() -> None:
        sched = Scheduler(config, send=False, run_day=run)
        barrier.wait()
        results.append(sched.catch_up())

    with time_machine.travel(dt.datetime(2025, 3, 20, 8, tzinfo=dt.UTC), tick=True):
        threads = [threading.Thread(target=race) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    produced = sorted(o.date for r in results for o in r if o.status != "skipped")
    assert produced == days[1:]
    assert sorted(day for day, _ in run.calls) == days  # pipeline.run once per day, in all
    with Store.open(config.database_path) as store:
        for day in days:
            assert [r.status for r in store.runs_for(day)] == ["ok"]


def test_a_second_daemon_on_the_same_database_says_so_and_exits(tmp_path: Path) -> None:
    config = make_config(tmp_path, write_days(tmp_path / "l", []))
    first = Scheduler(config, send=False)
    daemon = threading.Thread(target=first.serve)
    daemon.start()
    try:
        with Store.open(config.database_path) as store:
            deadline = time.monotonic() + 30
            while store.lock_holder("scheduler") is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert store.lock_holder("scheduler") is not None, "the first scheduler took no lock"
        # the second one runs in a thread too, so that a regression fails instead of hanging
        second = Scheduler(config, send=False)
        refused: list[DigestError] = []

        def serve_second() -> None:
            try:
                second.serve()
            except DigestError as exc:
                refused.append(exc)

        other = threading.Thread(target=serve_second, daemon=True)
        other.start()
        other.join(30)
        if other.is_alive():
            second.stop_requested.set()
            other.join(30)
            pytest.fail("a second scheduler on the same database kept running")
        assert refused and re.search("another scheduler is running.*pid", str(refused[0]))
    finally:
        first.stop_requested.set()
        daemon.join(30)
    assert not daemon.is_alive()
    with Store.open(config.database_path) as store:
        assert store.lock_holder("scheduler") is None  # released on the way out


def test_status_says_behind_until_the_newest_due_day_is_done(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from digest.cli import cli

    days = [dt.date(2025, 3, 17), dt.date(2025, 3, 18)]
    write_days(tmp_path / "listings", days)
    cfg = tmp_path / "digest.toml"
    cfg.write_text(
        f'output_dir = "{tmp_path / "out"}"\ndatabase = "{tmp_path / "db.sqlite"}"\n'
        '[schedule]\ncron = "30 7 * * *"\ntimezone = "Europe/Berlin"\n'
        f'[[sources]]\nname = "local"\nkind = "file"\npath = "{tmp_path / "listings"}"\n'
    )
    runner = CliRunner()
    with time_machine.travel(dt.datetime(2025, 3, 18, 9, 0, tzinfo=BERLIN), tick=False):
        behind = runner.invoke(cli, ["schedule", "--status", "--config", str(cfg)])
        assert behind.exit_code == 1, behind.output
        assert "scheduler: not running" in behind.output
        assert "newest due day: 2025-03-18 (not produced yet)" in behind.output
        assert "next run: 2025-03-19T07:30:00+01:00" in behind.output
        once = runner.invoke(cli, ["schedule", "--once", "--no-send", "--config", str(cfg)])
        assert once.exit_code == 0, once.output
        ok = runner.invoke(cli, ["schedule", "--status", "--config", str(cfg)])
    assert ok.exit_code == 0, ok.output
    assert "newest due day: 2025-03-18 (done)" in ok.output
    assert "2025-03-18 ok: 6 papers, not emailed (digest schedule" in ok.output
