"""The store lock and the daemon across real processes: takeover, waiting, SIGTERM, races."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from digest import pipeline
from digest.config import Config, ScheduleConfig, SourceConfig
from digest.store import Store
from digest.store import runs as runs_mod
from digest.store.runs import LockBusy


def _write_day(folder: Path, day: dt.date, n: int = 5) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": f"2503.{day.day:02d}{i:03d}", "title": f"Paper {i} about topic {i % 2} on {day}",
         "summary": f"Topic {i % 2} results.", "authors": ["A"]}
        for i in range(n)
    ]  # fmt: skip
    (folder / f"{day.isoformat()}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def _config_file(tmp_path: Path, cron: str = "* * * * *") -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f'output_dir = "{tmp_path / "out"}"\n'
        f'database = "{tmp_path / "var" / "digest.sqlite"}"\n'
        f'[schedule]\ncron = "{cron}"\ntimezone = "UTC"\n'
        f'[[sources]]\nname = "local"\nkind = "file"\npath = "{tmp_path / "listings"}"\n'
    )
    return path


def _digest(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


# ------------------------------------------------------------------ the lock


def test_a_held_lock_is_busy_for_another_thread_and_free_after(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with Store.open(db) as store, store.hold_lock("day:2025-03-18", "digest schedule"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(10)
    with Store.open(db) as store:
        busy = pytest.raises(LockBusy, match=f"digest schedule \\(pid {os.getpid()}")
        with busy, store.hold_lock("day:2025-03-18", "digest run", wait=False):
            pass
        release.set()
        t.join(10)
        with store.hold_lock("day:2025-03-18", "digest run", wait=True, timeout_s=5):
            assert store.lock_holder("day:2025-03-18").label == "digest run"  # type: ignore[union-attr]


@pytest.mark.slow
def test_the_lock_of_a_killed_process_is_taken_over_at_once(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    code = (
        "import sys, time; from digest.store import Store\n"
        "s = Store.open(sys.argv[1])\n"
        "with s.hold_lock('day:2025-03-18', 'digest backfill'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with Store.open(db) as store:
        with pytest.raises(LockBusy), store.hold_lock("day:2025-03-18", "digest run", wait=False):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # no waiting for the expiry: the holder's pid is gone on this host
        with store.hold_lock("day:2025-03-18", "digest run", wait=False):
            assert store.lock_holder("day:2025-03-18").pid == os.getpid()  # type: ignore[union-attr]


def test_an_expired_lock_from_another_host_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    with Store.open(db) as store:
        past = time.time() - 2 * runs_mod.LOCK_TTL_S
        store.conn.execute(
            "INSERT INTO locks VALUES ('day:2025-03-18', 'x', 'digest schedule', 1, 'elsewhere', ?, ?, ?)",
            (past, past, past + runs_mod.LOCK_TTL_S),
        )
        with store.hold_lock("day:2025-03-18", "digest run", wait=False):
            assert store.lock_holder("day:2025-03-18").host == runs_mod.HOST  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_manual_run_waits_for_the_scheduled_one_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    day = dt.date(2025, 3, 18)
    _write_day(tmp_path / "listings", day)
    config = Config(
        output_dir=str(tmp_path / "out"),
        database=str(tmp_path / "db.sqlite"),
        sources=(SourceConfig(name="local", kind="file", path=str(tmp_path / "listings")),),
        schedule=ScheduleConfig(),
    )
    held, release = threading.Event(), threading.Event()

    def scheduled() -> None:
        with (
            Store.open(config.database_path) as store,
            store.hold_lock(f"day:{day}", "digest schedule"),
        ):
            held.set()
            release.wait(10)

    t = threading.Thread(target=scheduled)
    t.start()
    assert held.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="digest"):
        result = pipeline.run(config, day)
    t.join(10)
    assert time.monotonic() - started >= 0.4
    assert "being produced by digest schedule" in caplog.text
    assert len(result.digest.papers) == 5
    with Store.open(config.database_path) as store:
        assert [(r.status, r.label) for r in store.runs_for(day)] == [("ok", "digest run")]


# ------------------------------------------------------------------ processes


@pytest.mark.slow
def test_two_once_processes_racing_produce_today_once(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.UTC).date()
    _write_day(tmp_path / "listings", today)
    cfg = _config_file(tmp_path)
    procs = [_digest("schedule", "--once", "--config", str(cfg), cwd=tmp_path) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    logs = "".join(err for _, err in outs)
    assert logs.count(f"{today}: ok, 5 papers") == 1, logs
    with Store.open(tmp_path / "var" / "digest.sqlite") as store:
        assert [r.status for r in store.runs_for(today)] == ["ok"]


@pytest.mark.slow
def test_the_daemon_catches_up_at_start_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    new_year = dt.date(dt.datetime.now(dt.UTC).year, 1, 1)
    _write_day(tmp_path / "listings", new_year)
    # a yearly cron: the start catch-up produces its last fire's date, the next is months away
    cfg = _config_file(tmp_path, cron="0 0 1 1 *")
    proc = _digest("schedule", "--config", str(cfg), cwd=tmp_path)
    db = tmp_path / "var" / "digest.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if db.exists():
            with Store.open(db) as store:
                last = store.last_runs(1)
                if store.lock_holder("scheduler") and last and last[0].finished_at:
                    break
        time.sleep(0.2)
    status = subprocess.run(
        [sys.executable, "-m", "digest", "schedule", "--status", "--config", str(cfg)],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
    assert "scheduler: running: digest schedule" in status.stdout
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "scheduler stopped" in err and "Traceback" not in err
    assert f"{new_year}: ok, 5 papers" in err
    with Store.open(db) as store:
        assert store.lock_holder("scheduler") is None
