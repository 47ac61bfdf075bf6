"""The search index's share of a daily ``digest run``, with months of archive behind it.

A backfill of the real days of ../shared/data/arxiv-daily from 2025-03-18 to ``--until``
(default 2025-06-10: three months, and the day after is in a fourth) makes the archive,
with its search bundles. Then the next listed day is run (``digest run``, a child process)
on three copies of that state, in the same run, each timed in wall seconds and in CPU
seconds of the run and its children (getrusage: Pagefind included):

- after: the bundles in place, as every day after the first: the run rebuilds the new
  day's piece of its week and the topic/weekly bundle;
- before: ``pagefind/`` removed, so every bundle is built again: what every daily run paid
  when the whole archive was one index;
- without search: ``render.search = false``, the rest of the run alone.

    .venv/bin/python bench/bench_search_daily.py [--until YYYY-MM-DD] [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"


def digest(*args: str, cwd: Path) -> tuple[float, float]:
    """``digest ARGS`` in ``cwd``: wall seconds, CPU seconds of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "digest", *args], cwd=cwd, check=True,
                   capture_output=True)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def breakdown(out: Path) -> None:
    """Pagefind alone on the bundles a daily run builds: the site's and the newest piece."""
    sys.path.insert(0, str(ROOT))
    from digest import search

    binary = str(search.pagefind_binary())
    site, newest = search.bundles(out)[:2]
    for bundle in (site, newest):
        pages = json.loads((out / bundle.folder / search.PAGES).read_text("utf-8"))["pages"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([binary, "--site", str(out), "--glob", bundle.glob,
                            "--output-path", tmp], check=True, capture_output=True)  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        size = sum((out / p).stat().st_size for p in pages) / 2**20
        print(
            f"  of which pagefind on {bundle.name}: {cpu:5.2f} s CPU, {len(pages)} pages, "
            f"{size:.1f} MB (load {os.getloadavg()[0]:.1f})"
        )


def config_text(search: bool) -> str:
    text = 'output_dir = "out"\ndatabase = "var/digest.sqlite"\n'
    return text + ("" if search else "[render]\nsearch = false\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until", type=dt.date.fromisoformat, default=dt.date(2025, 6, 10))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    days = sorted(dt.date.fromisoformat(p.name[:10]) for p in DATA.glob("*.jsonl.gz"))
    nxt = next(d for d in days if d > args.until)
    with tempfile.TemporaryDirectory(prefix="bench-search-daily-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        (base / "digest.toml").write_text(config_text(search=True))
        wall, cpu = digest("backfill", "--since", str(days[0]), "--until", str(args.until),
                           "--input", str(DATA), "--config", "digest.toml", cwd=base)  # fmt: skip
        listed = sum(1 for d in days if d <= args.until)
        bundles = sorted(
            p.parent.name for p in (base / "out/pagefind").glob("*/pagefind-entry.json")
        )
        print(f"archive: {listed} days to {args.until}, bundles {bundles} (backfill {wall:.0f} s)")
        day = str(DATA / f"{nxt}.jsonl.gz")
        for n in range(args.repeat):
            for case in ("after", "before", "without search"):
                copy = Path(tmp) / f"{case}-{n}".replace(" ", "-")
                shutil.copytree(base, copy)
                if case == "before":
                    shutil.rmtree(copy / "out/pagefind")
                (copy / "digest.toml").write_text(config_text(search=case != "without search"))
                wall, cpu = digest("run", "--date", str(nxt), "--input", day,
                                   "--config", "digest.toml", cwd=copy)  # fmt: skip
                print(
                    f"run of {nxt}, {case:15s} {wall:6.2f} s wall, {cpu:6.2f} s CPU "
                    f"(load {os.getloadavg()[0]:.1f})"
                )
                if case == "after" and n == 0:
                    breakdown(copy / "out")
                shutil.rmtree(copy)
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
