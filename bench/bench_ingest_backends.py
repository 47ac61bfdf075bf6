"""Ingest the days of ../shared/data/arxiv-daily into SQLite and into PostgreSQL, same run.

Each backend ingests in a child process of its own (``read_listings`` + ``save_listing``,
as ``digest backfill`` stores days), so each peak RSS is that backend's alone. PostgreSQL:
``DIGEST_BENCH_PG_URL`` (a server to use; a database is made per run), else a throwaway
cluster made by ``tests/pg_cluster.py`` (initdb in a temporary folder, default settings:
``synchronous_commit = on``, so every commit is flushed, unlike SQLite's
``synchronous=NORMAL``). Goal: PostgreSQL at least half of SQLite's papers/s.

    .venv/bin/python bench/bench_ingest_backends.py [--days N] [--repeat N]
"""

from __future__ import annotations

import argparse
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

DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"
GOAL_RATIO = 0.5


def child(target: str, days: int) -> None:
    """Ingest and print {"rows", "distinct", "seconds", "cpu", "peak_mb"} as JSON."""
    from digest.formats import read_listings
    from digest.store import Store

    files = sorted(DATA.glob("*.jsonl.gz"))[:days]
    rows = 0
    t0 = time.perf_counter()
    with Store.open(target) as store:
        for path, listing in read_listings(files):
            if isinstance(listing, Exception):
                raise SystemExit(f"{path}: {listing}")
            store.save_listing(listing)
            rows += len(listing.papers)
        distinct = store.count_papers()
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss / 1024
    print(json.dumps({"rows": rows, "distinct": distinct, "seconds": seconds, "cpu": cpu,
                      "peak_mb": peak}))  # fmt: skip


def run_child(target: str, days: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", target, "--days", str(days)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10_000, help="the first N days only")
    parser.add_argument("--repeat", type=int, default=1, help="runs per backend; best kept")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.days)
        return 0
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (../shared is not beside the project)")
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
    results: dict[str, dict] = {}
    try:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                sqlite = run_child(str(Path(tmp) / "bench.sqlite"), args.days)
            pg = run_child(cluster.new_database(), args.days)
            for name, r in (("sqlite", sqlite), ("postgresql", pg)):
                if name not in results or r["seconds"] < results[name]["seconds"]:
                    results[name] = r
    finally:
        cluster.stop()
    s, p = results["sqlite"], results["postgresql"]
    assert (s["rows"], s["distinct"]) == (p["rows"], p["distinct"]), "the backends differ"
    days = min(args.days, len(list(DATA.glob("*.jsonl.gz"))))
    print(f"days: {days}  rows: {s['rows']}  distinct papers stored: {s['distinct']}")
    for name, r in results.items():
        print(
            f"  {name:11} {r['seconds']:6.2f} s  {r['rows'] / r['seconds']:8,.0f} papers/s  "
            f"{r['cpu']:6.2f} s CPU of the client  peak RSS {r['peak_mb']:.0f} MB"
        )
    ratio = s["seconds"] / p["seconds"]
    print(f"  PostgreSQL / SQLite rate: {ratio:.2f} (best of {args.repeat} each)")
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"goal PostgreSQL >= {GOAL_RATIO:.0%} of SQLite: {'met' if ratio >= GOAL_RATIO else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
