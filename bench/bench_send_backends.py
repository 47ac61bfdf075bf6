"""Send one digest to 10,000 subscribers with the delivery log in SQLite and in PostgreSQL.

Same run, same local aiosmtpd process (counting and discarding, from bench_send.py), same
rendered digest; each send is a fresh child process (``deliver`` with a new round), best
of ``BENCH_SEND_REPEAT`` (1) per backend; peak RSS of the child. Every message writes two
rows of the delivery log (``sending``, then ``sent``), each its own committed transaction,
so this measures the log's round trips as much as SMTP. PostgreSQL: ``DIGEST_BENCH_PG_URL``
or a throwaway cluster (tests/pg_cluster.py). Goal: >= 300 messages/s on both.

    .venv/bin/python bench/bench_send_backends.py
    BENCH_SEND_SUBSCRIBERS=2000 .venv/bin/python bench/bench_send_backends.py
"""

from __future__ import annotations

import json
import multiprocessing
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

from bench_send import DAY, GOAL, SECRET, _free_port, _setup, _smtp_process  # noqa: E402

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
        start = time.perf_counter()
        report = deliver.deliver(store, config, digest, config.output_path, resend=True)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"sent": report.sent, "seconds": seconds, "peak_mb": peak}))


def _send(config_path: Path, env: dict[str, str]) -> dict | None:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(config_path)],
        env={**env, "DIGEST_SECRET": SECRET},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stderr.strip()[-500:])
        return None
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


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
    port = _free_port()
    ready = multiprocessing.Event()
    count = multiprocessing.Value("l", 0)
    server = multiprocessing.Process(target=_smtp_process, args=(port, ready, count), daemon=True)
    server.start()
    best: dict[str, dict] = {}
    try:
        if not ready.wait(20):
            print("bench_send_backends: the SMTP server did not start")
            return 1
        with tempfile.TemporaryDirectory() as tmp:
            base = {k: v for k, v in os.environ.items() if k != "DIGEST_DATABASE_URL"}
            envs = {
                "sqlite": base,
                "postgresql": {**base, "DIGEST_DATABASE_URL": cluster.new_database()},
            }
            configs = {name: _prepare(Path(tmp) / name, port, env) for name, env in envs.items()}
            for _ in range(REPEAT):  # interleaved, so load changes hit both alike
                for name, env in envs.items():
                    before = count.value
                    r = _send(configs[name], env)
                    if r is None:
                        return 1
                    r["received"] = count.value - before
                    if name not in best or r["seconds"] < best[name]["seconds"]:
                        best[name] = r
    finally:
        server.kill()
        cluster.stop()
    print(f"subscribers: {SUBSCRIBERS}  best of {REPEAT} sends per backend (a new round each)")
    ok = True
    for name, r in best.items():
        rate = r["sent"] / r["seconds"]
        ok = ok and rate >= GOAL and r["received"] == r["sent"] == SUBSCRIBERS
        print(
            f"  {name:10} {r['seconds']:6.2f} s  {rate:6.0f} msgs/s  server received "
            f"{r['received']}  peak RSS {r['peak_mb']:.0f} MB"
        )
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"goal >= {GOAL:.0f} msgs/s on both: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
