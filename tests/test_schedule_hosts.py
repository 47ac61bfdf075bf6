"""Two schedulers on one database (two hosts on one PostgreSQL, or one SQLite file): each day
is produced once and each subscriber emailed once (real processes, aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from smtp_fixture_server import SECRET, Recorder, smtp_server

from digest.config import load_config
from digest.store import Store

READERS = [f"reader{i}@example.org" for i in range(5)]


def _project(root: Path, port: int, today: dt.date) -> Path:
    listings = root / "listings"
    listings.mkdir()
    rows = [
        {"id": f"2503.{i:05d}", "title": f"Graph networks, study {i}",
         "summary": "We study graphs and networks.", "authors": ["Ada Lovelace"]}
        for i in range(6)
    ]  # fmt: skip
    (listings / f"{today}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = root / "digest.toml"
    path.write_text(
        f'site_url = "https://digest.test/"\noutput_dir = "{root / "out"}"\n'
        f'database = "{root / "var" / "digest.sqlite"}"\n'
        '[email]\nfrom_addr = "news@digest.test"\nrate_per_s = 2000\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        '[schedule]\ncron = "* * * * *"\ntimezone = "UTC"\n'
        f'[[sources]]\nname = "local"\nkind = "file"\npath = "{listings}"\n'
    )
    return path


@pytest.mark.slow
def test_two_once_schedulers_produce_the_day_once_and_email_each_reader_once(
    tmp_path: Path, backend: str
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    env = {**os.environ, "DIGEST_SECRET": SECRET}
    with smtp_server() as (rec, port):
        cfg = _project(tmp_path, port, today)
        database = load_config(cfg).database_path
        assert str(database).startswith("postgresql://") == (backend == "postgresql")
        with Store.open(database) as store:
            store.import_subscribers((e, "confirmed") for e in READERS)
        command = [sys.executable, "-m", "digest", "schedule", "--once", "--config", str(cfg)]
        procs = [
            subprocess.Popen(
                command,
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=180) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        recipients = rec.recipients()
    assert collections.Counter(recipients) == {e: 1 for e in READERS}, outs
    logs = "".join(err for _, err in outs)
    assert logs.count(f"{today}: ok, 6 papers") == 1, logs
    with Store.open(database) as store:
        assert [r.status for r in store.runs_for(today)] == ["ok"]
        assert store.delivery_counts(today) == {"sent": len(READERS)}


@pytest.mark.slow
def test_the_database_restarted_mid_send_is_one_line_and_the_next_tick_finishes(
    tmp_path: Path, pg_server, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL restarts while the 3rd email waits for its reply: the run stops with one
    line, and the next run sends the rest, the in-flight 3rd message at most twice."""
    if pg_server.data is None:
        pytest.skip("DIGEST_TEST_PG_URL: an outside server is not restarted")
    monkeypatch.setenv("DIGEST_DATABASE_URL", pg_url)
    today = dt.datetime.now(dt.UTC).date()
    env = {**os.environ, "DIGEST_SECRET": SECRET}

    def restart_at_third(number: int) -> None:
        if number == 3:
            pg_server.restart()
        return None

    with smtp_server(Recorder(on_data=restart_at_third)) as (rec, port):
        cfg = _project(tmp_path, port, today)
        with Store.open(pg_url) as store:
            store.import_subscribers((e, "confirmed") for e in READERS)
        command = [sys.executable, "-m", "digest", "schedule", "--once", "--config", str(cfg)]
        first = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert first.returncode == 1, first.stderr
        failed = [line for line in first.stderr.splitlines() if "PostgreSQL" in line]
        assert failed and all("the PostgreSQL connection failed" in line for line in failed)
        assert "Traceback" not in first.stderr
        second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert second.returncode == 0, second.stderr
        recipients = rec.recipients()
    counts = collections.Counter(recipients)
    assert sorted(counts) == sorted(READERS), "a reader was lost"
    assert sum(counts.values()) <= len(READERS) + 1, counts  # the in-flight one, at most
    with Store.open(pg_url) as store:
        assert store.delivery_counts(today) == {"sent": len(READERS)}
        assert [r.status for r in store.runs_for(today)][-1] == "ok"
