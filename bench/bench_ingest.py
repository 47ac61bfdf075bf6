"""Ingest every daily listing in ../shared/data/arxiv-daily/ into a fresh database.

Goes through the real code path (``formats.read_listing`` + ``Store.save_listing``) and
prints papers/s (parsing and saving separately too) and peak memory (ru_maxrss).
Goal: >= 20,000 papers/s and < 500 MB on the 2-core build machine.

    .venv/bin/python bench/bench_ingest.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.formats import read_listing, read_listings  # noqa: E402
from digest.store import Store  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"
GOAL_PAPERS_PER_S = 20_000
GOAL_PEAK_MB = 500


def ingest_serial(files: list[Path], db: Path) -> tuple[int, int, float, float]:
    """One file after the other: read_listing, then save_listing. Times each step."""
    rows = 0
    parse_s = save_s = 0.0
    with Store.open(db) as store:
        for path in files:
            t0 = time.perf_counter()
            listing = read_listing(path)
            t1 = time.perf_counter()
            store.save_listing(listing)
            t2 = time.perf_counter()
            parse_s += t1 - t0
            save_s += t2 - t1
            rows += len(listing.papers)
        distinct = store.count_papers()
    return rows, distinct, parse_s, save_s


def ingest_read_ahead(files: list[Path], db: Path) -> tuple[int, int]:
    """read_listings (parses the next file in a thread) + save_listing: a bulk ingest."""
    rows = 0
    with Store.open(db) as store:
        for path, listing in read_listings(files):
            if isinstance(listing, Exception):
                raise SystemExit(f"{path}: {listing}")
            store.save_listing(listing)
            rows += len(listing.papers)
        distinct = store.count_papers()
    return rows, distinct


def best_of(repeat: int, run: Callable[[Path], tuple]) -> tuple[float, float, tuple]:
    """(wall seconds, CPU seconds, result) of the fastest of ``repeat`` runs."""
    best: tuple[float, float, tuple] | None = None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0, c0 = time.perf_counter(), time.process_time()
            out = run(Path(tmp) / "bench.sqlite")
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        if best is None or elapsed < best[0]:
            best = (elapsed, cpu, out)
    assert best is not None
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (../shared is not beside the project)")
        return 0
    files = sorted(DATA.glob("*.jsonl.gz"))
    serial_s, serial_cpu, (rows, distinct, parse_s, save_s) = best_of(
        args.repeat, lambda db: ingest_serial(files, db)
    )
    ahead_s, ahead_cpu, (rows_ahead, distinct_ahead) = best_of(
        args.repeat, lambda db: ingest_read_ahead(files, db)
    )
    assert (rows, distinct) == (rows_ahead, distinct_ahead), "the two ways stored different data"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files: {len(files)}  rows: {rows}  distinct papers stored: {distinct}")
    print(f"best of {args.repeat} runs each, fresh database every run:")
    print(f"  serial:     {serial_s:.2f} s  {rows / serial_s:,.0f} papers/s", end="  ")
    print(f"(CPU {serial_cpu:.2f} s: {rows / serial_cpu:,.0f} papers per CPU-second)")
    print(f"    of which parse {parse_s:.2f} s ({rows / parse_s:,.0f}/s),", end=" ")
    print(f"save {save_s:.2f} s ({rows / save_s:,.0f}/s)")
    print(f"  read-ahead: {ahead_s:.2f} s  {rows / ahead_s:,.0f} papers/s", end="  ")
    print(f"(CPU {ahead_cpu:.2f} s over 2 threads; formats.read_listings)")
    print(f"  load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peak memory (ru_maxrss): {peak_mb:.0f} MB")
    rate = rows / min(serial_s, ahead_s)
    ok = rate >= GOAL_PAPERS_PER_S and peak_mb < GOAL_PEAK_MB
    print(
        f"goal >= {GOAL_PAPERS_PER_S:,} papers/s and < {GOAL_PEAK_MB} MB: {'met' if ok else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
