"""Sending over several SMTP connections at once (email.connections): still exactly once."""

from __future__ import annotations

import collections
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from smtp_fixture_server import DAY, SECRET, Recorder, setup_project, smtp_server

from digest import deliver
from digest.config import Config
from digest.errors import DigestError
from digest.store import Store

EMAILS = [f"reader{i:02d}@example.org" for i in range(30)]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _subscribe(config: Config, emails: list[str]) -> None:
    with Store.open(config.database_path) as store:
        store.import_subscribers((e, "confirmed") for e in emails)


def _send(config: Config) -> deliver.SendReport:
    with Store.open(config.database_path) as store:
        digest = store.digest_for(DAY)
        assert digest is not None
        return deliver.deliver(store, config, digest, config.output_path)


def _exactly_once(rec: Recorder, expected: list[str]) -> None:
    counts = collections.Counter(rec.recipients())
    assert sorted(counts) == sorted(expected), "lost or unexpected recipients"
    assert max(counts.values()) == 1, f"duplicates: {[e for e, n in counts.items() if n > 1]}"


def test_several_connections_serve_everyone_once_and_log_each_outcome(tmp_path: Path) -> None:
    bad = {EMAILS[5]: "550 5.1.1 no such user"}
    # dropped connections and a 421 on some DATA commands: retried on a new connection
    rec = Recorder(
        rcpt_replies=dict(bad),
        on_data=lambda n: "DROP" if n in (3, 11) else ("421 4.3.2 busy" if n == 17 else None),
    )
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port, connections=4)
        _subscribe(config, EMAILS)
        report = _send(config)
        assert (report.sent, report.failed, report.deferred) == (29, 1, 0)
        assert _send(config).sent == 0  # the log says everyone is served
    _exactly_once(rec, [e for e in EMAILS if e not in bad])
    assert 2 <= rec.connections <= 4 + 3  # several at once, plus one after each drop/421
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {"sent": 29, "failed": 1}
    ids = [m["Message-ID"] for m in rec.messages()]
    assert len(set(ids)) == len(ids)


def test_the_rate_is_shared_by_all_connections(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port, connections=4, rate_per_s=40)
        _subscribe(config, EMAILS[:12])
        start = time.monotonic()
        assert _send(config).sent == 12
        # 12 messages at 40/s over all four connections: 11 intervals of 25 ms at least
        assert time.monotonic() - start >= 11 / 40
    _exactly_once(rec, EMAILS[:12])


def test_unreachable_server_with_several_connections_defers_and_the_rerun_sends(
    tmp_path: Path,
) -> None:
    with smtp_server() as (_rec, port):
        pass  # nothing listens there any more
    config = setup_project(tmp_path, port, retries=0, connections=3)
    _subscribe(config, EMAILS[:5])
    with pytest.raises(DigestError, match="cannot connect to SMTP server.*run the same command"):
        _send(config)
    with Store.open(config.database_path) as store:
        counts = store.delivery_counts(DAY)
        assert set(counts) == {"deferred"} and counts["deferred"] <= 5
    with smtp_server() as (rec, port2):
        config2 = config.with_overrides(smtp=dataclasses.replace(config.smtp, port=port2))
        assert _send(config2).sent == 5
    _exactly_once(rec, EMAILS[:5])


@pytest.mark.slow
def test_killed_mid_batch_with_four_connections_loses_nobody_and_resends_only_the_window(
    tmp_path: Path, backend: str
) -> None:
    """The log is written a batch per transaction: a kill leaves every message the server
    took logged (SENT, or SENDING when its outcome was not committed yet), at most the
    window (2 x connections) SENDING, and the rerun resends only those, same Message-ID."""
    victim: dict[str, int] = {}

    def kill_at_fourteenth(number: int) -> str | None:
        if number == 14 and "pid" in victim:
            os.kill(victim["pid"], signal.SIGKILL)
            return "451 4.3.0 the client is gone anyway"
        return None

    rec = Recorder(on_data=kill_at_fourteenth)
    emails = [f"reader{i:02d}@example.org" for i in range(40)]
    env = {**os.environ, "DIGEST_SECRET": SECRET}
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port, connections=4)
        _subscribe(config, emails)
        command = [sys.executable, "-m", "digest", "send", "--date", str(DAY)]
        command += ["--config", str(config.path)]
        first = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
        victim["pid"] = first.pid
        _, err = first.communicate(timeout=60)
        assert first.returncode == -signal.SIGKILL, err
        taken = set(rec.recipients())
        with Store.open(config.database_path) as store:
            counts = store.delivery_counts(DAY)
            unserved = {r.email: r.logged for r in store.recipients(DAY, 1)}
        assert set(counts) <= {"sent", "sending"} and counts.get("sending", 0) <= 8, counts
        # nothing the server took is missing from the log: SENT, or SENDING to be resent
        assert all(unserved.get(e, "sending") == "sending" for e in taken), (taken, unserved)
        in_doubt = {e for e, logged in unserved.items() if logged == "sending"}
        victim.clear()
        second = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 0, second.stderr
        assert f"resent {len(in_doubt)} message" in second.stderr
    counts_by_reader = collections.Counter(rec.recipients())
    assert sorted(counts_by_reader) == sorted(emails), "a reader was lost"
    twice = {e for e, n in counts_by_reader.items() if n > 1}
    assert twice <= in_doubt and max(counts_by_reader.values()) <= 2, counts_by_reader
    ids: dict[str, set[str]] = collections.defaultdict(set)
    for (reader,), message in zip((r for r, _ in rec.accepted), rec.messages(), strict=True):
        ids[reader].add(str(message["Message-ID"]))
    assert all(len(v) == 1 for v in ids.values()), "a resent copy has a new Message-ID"
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {"sent": 40}
