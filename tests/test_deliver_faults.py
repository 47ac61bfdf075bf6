"""Fault drills: every one ends with each confirmed subscriber served exactly once."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from smtp_fixture_server import DAY, SECRET, Recorder, setup_project, smtp_server

from digest import deliver
from digest.config import Config
from digest.errors import DigestError
from digest.store import Store

EMAILS = [f"reader{i:02d}@example.org" for i in range(12)]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _subscribe(config: Config, emails: list[str]) -> None:
    with Store.open(config.database_path) as store:
        store.import_subscribers((e, "confirmed") for e in emails)


def _send(config: Config, day: dt.date = DAY) -> deliver.SendReport:
    with Store.open(config.database_path) as store:
        digest = store.digest_for(day)
        assert digest is not None
        return deliver.deliver(store, config, digest, config.output_path)


def _exactly_once(rec: Recorder, expected: list[str]) -> None:
    counts = collections.Counter(rec.recipients())
    assert sorted(counts) == sorted(expected), "lost or unexpected recipients"
    assert max(counts.values()) == 1, f"duplicates: {[e for e, n in counts.items() if n > 1]}"


def test_refused_recipients_are_failed_not_retried_and_others_served(tmp_path: Path) -> None:
    bad = {EMAILS[3]: "550 5.1.1 no such user", EMAILS[7]: "553 5.1.3 bad address"}
    rec = Recorder(rcpt_replies=dict(bad))
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, EMAILS)
        report = _send(config)
        assert (report.sent, report.failed, report.deferred) == (10, 2, 0)
        rerun = _send(config)
        assert (rerun.sent, rerun.failed) == (0, 0)  # a 5xx is final for this digest
    _exactly_once(rec, [e for e in EMAILS if e not in bad])
    with Store.open(config.database_path) as store:
        refused = store.subscriber(EMAILS[3])
        assert refused is not None and refused.hard_failures == 1 and refused.status == "confirmed"
        assert refused.last_error is not None and refused.last_error.startswith("550")
        assert store.delivery_counts(DAY) == {"sent": 10, "failed": 2}


@pytest.mark.slow
def test_repeated_hard_failures_make_a_subscriber_bouncing_and_skipped(tmp_path: Path) -> None:
    rec = Recorder(rcpt_replies={EMAILS[0]: "550 5.1.1 mailbox gone"})
    days = [DAY + dt.timedelta(days=i) for i in range(3)]
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port, max_hard_failures=2)
        _subscribe(config, EMAILS[:3])
        for day in days[1:]:
            listing = tmp_path / f"{day}.jsonl"
            listing.write_text((tmp_path / f"{DAY}.jsonl").read_text())
            from digest import pipeline

            pipeline.run(config, day, [listing])
        assert _send(config, days[0]).failed == 1
        assert _send(config, days[1]).failed == 1
        third = _send(config, days[2])
        assert (third.sent, third.failed) == (2, 0)  # the bouncing address is not even tried
    with Store.open(config.database_path) as store:
        gone = store.subscriber(EMAILS[0])
        assert gone is not None and gone.status == "bouncing"
    assert collections.Counter(rec.recipients()) == {EMAILS[1]: 3, EMAILS[2]: 3}


def test_success_resets_the_hard_failure_count(tmp_path: Path) -> None:
    rec = Recorder(rcpt_replies={EMAILS[0]: "550 5.2.2 mailbox full"})
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, EMAILS[:1])
        _send(config)
        rec.rcpt_replies.clear()
        with Store.open(config.database_path) as store:
            digest = store.digest_for(DAY)
            assert digest is not None
            deliver.send_digest(store, config, digest, config.output_path, resend=True)
            sub = store.subscriber(EMAILS[0])
            assert sub is not None and sub.hard_failures == 0


def test_temporary_failures_are_retried_with_backoff(tmp_path: Path) -> None:
    rec = Recorder(temporary={EMAILS[2]: 2, EMAILS[5]: 1})
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port, retries=2)
        _subscribe(config, EMAILS)
        report = _send(config)
        assert (report.sent, report.failed, report.deferred) == (12, 0, 0)
    _exactly_once(rec, EMAILS)


def test_temporary_failure_beyond_the_retries_is_deferred_to_the_next_run(tmp_path: Path) -> None:
    rec = Recorder(temporary={EMAILS[4]: 100})
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port, retries=1)
        _subscribe(config, EMAILS)
        first = _send(config)
        assert (first.sent, first.deferred) == (11, 1)
        rec.temporary.clear()  # the server recovers
        second = _send(config)
        assert (second.sent, second.deferred) == (1, 0)
        assert _send(config).sent == 0
    _exactly_once(rec, EMAILS)


def test_dropped_connection_mid_batch_reconnects_and_loses_nothing(tmp_path: Path) -> None:
    rec = Recorder(on_data=lambda n: "DROP" if n in (4, 9) else None)
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, EMAILS)
        report = _send(config)
        assert (report.sent, report.deferred) == (12, 0)
    _exactly_once(rec, EMAILS)
    assert rec.connections == 3  # the first one, and one after each drop


def test_data_rejected_with_421_reconnects(tmp_path: Path) -> None:
    rec = Recorder(on_data=lambda n: "421 4.3.2 shutting down" if n == 2 else None)
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, EMAILS[:4])
        assert _send(config).sent == 4
    _exactly_once(rec, EMAILS[:4])


@pytest.mark.slow
def test_process_killed_mid_batch_then_rerun_sends_only_the_rest(
    tmp_path: Path, backend: str
) -> None:
    victim: dict[str, int] = {}

    def kill_at_tenth(number: int) -> str | None:
        if number == 10 and "pid" in victim:
            # the client dies while its 10th message waits for the server's verdict
            os.kill(victim["pid"], signal.SIGKILL)
            return "451 4.3.0 the client is gone anyway"
        return None

    rec = Recorder(on_data=kill_at_tenth)
    emails = [f"reader{i:02d}@example.org" for i in range(30)]
    env = {**os.environ, "DIGEST_SECRET": SECRET}
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port, rate_per_s=200)
        _subscribe(config, emails)
        command = [
            sys.executable,
            "-m",
            "digest",
            "send",
            "--date",
            str(DAY),
            "--config",
            str(config.path),
        ]
        first = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        victim["pid"] = first.pid
        _, err = first.communicate(timeout=60)
        assert first.returncode == -signal.SIGKILL, err
        assert len(rec.recipients()) == 9
        with Store.open(config.database_path) as store:
            assert store.delivery_counts(DAY) == {"sent": 9, "sending": 1}
        victim.clear()
        second = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 0, second.stderr
        assert "sent 21" in second.stdout
        assert "resent 1 message an interrupted run left without a reply" in second.stderr
    _exactly_once(rec, emails)
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {"sent": 30}


@pytest.mark.slow
def test_connection_lost_on_every_try_defers_and_the_rerun_converges(tmp_path: Path) -> None:
    rec = Recorder(on_data=lambda n: "DROP" if n <= 6 else None)
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port, retries=1)
        _subscribe(config, EMAILS[:5])
        first = _send(config)  # two tries each for the first three messages, all dropped
        assert (first.sent, first.deferred) == (2, 3)
        final = _send(config)
        assert (final.sent, final.deferred) == (3, 0)
    _exactly_once(rec, EMAILS[:5])


def test_a_second_concurrent_send_is_refused_and_nobody_gets_two(
    tmp_path: Path, backend: str
) -> None:
    refusals: list[str] = []

    def second_send_during_first(number: int) -> None:
        if number == 2:  # the first send is mid-batch: start another one
            try:
                _send(config)
            except DigestError as exc:
                refusals.append(str(exc))
        return None

    rec = Recorder(on_data=second_send_during_first)
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, EMAILS[:4])
        assert _send(config).sent == 4
        assert _send(config).sent == 0  # the lock is released after a send
    assert refusals == [
        "another 'digest send' is sending from this database; run again when it has finished"
    ]
    _exactly_once(rec, EMAILS[:4])
