"""Send one digest to 10,000 subscribers with the delivery log in SQLite and in PostgreSQL.

Same run, same local aiosmtpd processes (``BENCH_SEND_SERVERS``, default 2, sharing one port:
bench/smtp_sink.py), same rendered digest, ``email.connections`` = ``BENCH_SEND_CONNECTIONS``
(default 4); each send is a fresh child process (``deliver`` with a new round), best of
``BENCH_SEND_REPEAT`` (1) per backend, interleaved with the server's ceiling (the same
message by bare smtplib over as many connections, bench_send.py --baseline). Every message
writes two rows of the delivery log (``sending``, then ``sent``), a batch of messages per
committed transaction. A third line sends on PostgreSQL with ``synchronous_commit = off``
(PGOPTIONS), the opt-in of docs/operations.md, to show what the WAL flush per commit
costs. CPU per message: the client (getrusage), the SMTP servers and the client's
PostgreSQL backend process (/proc). PostgreSQL: ``DIGEST_BENCH_PG_URL`` or a throwaway
cluster (tests/pg_cluster.py). Goal: >= 300 messages/s on both.

    .venv/bin/python bench/bench_send_backends.py
    BENCH_SEND_SUBSCRIBERS=2000 BENCH_SEND_REPEAT=2 .venv/bin/python bench/bench_send_backends.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import smtp_sink  # noqa: E402
from bench_send import CONNECTIONS, DAY, GOAL, SECRET, SERVERS, _setup  # noqa: E402

SUBSCRIBERS = int(os.environ.get("BENCH_SEND_SUBSCRIBERS", "10000"))
REPEAT = int(os.environ.get("BENCH_SEND_REPEAT", "1"))


def _child(config_path: str) -> None:
    import datetime as dt

    from digest import deliver
    from digest.config import load_config
    from digest.store import Store

    config = load_config(config_path)
    with Store.open(config.database_path) as store:
        digest = store.digest_for(dt.date.fromisoformat(DAY))
        assert digest is not None
        backend = []  # this connection's server process, on PostgreSQL
        if store.backend_name == "postgresql":
            backend = [int(store.conn.execute("SELECT pg_backend_pid()").fetchone()[0])]
        backend_cpu = smtp_sink.cpu_s(backend)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        report = deliver.deliver(store, config, digest, config.output_path, resend=True)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        backend_cpu = smtp_sink.cpu_s(backend) - backend_cpu
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    peak = after.ru_maxrss / 1024
    print(
        json.dumps(
            {
                "sent": report.sent,
                "seconds": seconds,
                "peak_mb": peak,
                "client_cpu_s": cpu,
                "db_cpu_s": backend_cpu,
            }
        )
    )


def _send(config_path: Path, env: dict[str, str], sink: smtp_sink.Sink) -> dict | None:
    before, server_cpu = sink.count.value, sink.cpu_s()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(config_path)],
        env={**env, "DIGEST_SECRET": SECRET},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stderr.strip()[-500:])
        return None
    figures = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    figures["received"] = sink.count.value - before
    figures["server_cpu_s"] = sink.cpu_s() - server_cpu
    return figures


def _ceiling(config_path: Path, env: dict[str, str]) -> float:
    """Messages/s of bare smtplib over CONNECTIONS connections (bench_send.py --baseline)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_send.py"), "--baseline", "3000", config_path],
        env={**env, "DIGEST_SECRET": SECRET},
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(figures["sent"] / figures["seconds"])


def _prepare(root: Path, port: int, env: dict[str, str]) -> Path:
    """The project (rendered digest) and its subscribers, in the database ``env`` names."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from digest.config import load_config
        from digest.store import Store

        root.mkdir(parents=True, exist_ok=True)
        config_path = _setup(root, port)
        with Store.open(load_config(config_path).database_path) as store:
            store.import_subscribers(
                (f"reader{i:06d}@example.org", "confirmed") for i in range(SUBSCRIBERS)
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return config_path


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
        return 0
    import pg_cluster

    outside = os.environ.get("DIGEST_BENCH_PG_URL", "").strip()
    if outside:
        os.environ["DIGEST_TEST_PG_URL"] = outside
    try:
        cluster = pg_cluster.start()
    except pg_cluster.Unavailable as exc:
        print(f"skipped: PostgreSQL unavailable: {exc}")
        return 0
    try:
        sink = smtp_sink.start(SERVERS)
    except RuntimeError as exc:
        cluster.stop()
        print(f"bench_send_backends: {exc}")
        return 1
    best: dict[str, dict] = {}
    ceilings: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = {k: v for k, v in os.environ.items() if k != "DIGEST_DATABASE_URL"}
            pg = {**base, "DIGEST_DATABASE_URL": cluster.new_database()}
            envs = {
                "sqlite": base,
                "postgresql": pg,
                "pg async": {**pg, "PGOPTIONS": "-c synchronous_commit=off"},
            }
            configs = {
                "sqlite": _prepare(Path(tmp) / "sqlite", sink.port, base),
                "postgresql": _prepare(Path(tmp) / "postgresql", sink.port, pg),
            }
            configs["pg async"] = configs["postgresql"]  # the same database, a new round
            for _ in range(REPEAT):  # interleaved, so load changes hit all alike
                ceilings.append(_ceiling(configs["sqlite"], base))
                for name, env in envs.items():
                    r = _send(configs[name], env, sink)
                    if r is None:
                        return 1
                    if name not in best or r["seconds"] < best[name]["seconds"]:
                        best[name] = r
    finally:
        sink.stop()
        cluster.stop()
    load = os.getloadavg()
    print(
        f"subscribers: {SUBSCRIBERS}  best of {REPEAT} sends per backend (a new round each); "
        f"{CONNECTIONS} SMTP connections, {SERVERS} aiosmtpd processes; load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores"
    )
    top = max(ceilings)
    print(f"  server ceiling (bare smtplib, same run): {top:.0f} msgs/s (best of {REPEAT})")
    print(
        f"  {'backend':10} {'seconds':>7} {'msgs/s':>6} {'/ceiling':>8} {'client':>6} "
        f"{'server':>6} {'db':>6}  (CPU ms/msg)"
    )
    ok = True
    for name, r in best.items():
        rate = r["sent"] / r["seconds"]
        if name != "pg async":
            ok = ok and rate >= GOAL and r["received"] == r["sent"] == SUBSCRIBERS
        per = [
            1000 * r[k] / max(1, r["sent"]) for k in ("client_cpu_s", "server_cpu_s", "db_cpu_s")
        ]
        print(
            f"  {name:10} {r['seconds']:7.2f} {rate:6.0f} {rate / top:8.2f} {per[0]:6.2f} "
            f"{per[1]:6.2f} {per[2]:6.2f}  received {r['received']}, peak RSS "
            f"{r['peak_mb']:.0f} MB"
        )
    print(
        "  db: the send's PostgreSQL backend process; pg async: PostgreSQL with "
        "synchronous_commit = off (an opt-in)"
    )
    print(f"goal >= {GOAL:.0f} msgs/s on sqlite and postgresql: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
