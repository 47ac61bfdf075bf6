"""CPU of the themes and trending stages (``pipeline.build_digest``) over real days, in one
process as a backfill runs them and in a fresh process as the daily run does
(docs/themes.md, "Stored tokens").

    .venv/bin/python bench/bench_window_tokens.py [--checkout DIR] [--days 40] [--skip 10]

Ingests the first ``--days`` days of ../shared/data/arxiv-daily into a temporary store, then:

* *in order*: ``build_digest`` of every day after the first ``--skip`` (a week of store
  before each), oldest first, in this process: CPU seconds of the whole, of
  ``themes.find_themes`` and of ``trending.rank``;
* *fresh*: the last 8 days again, each after ``CONTEXT.reset()`` (a new process's empty
  caches, its imports kept): the median CPU of one day.

``--checkout`` times another checkout's code (e.g. /work/main) in this interpreter: run both,
alternated, for before/after. CPU is ``process_time``; the load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def timed(owner: Any, name: str, totals: dict[str, float]) -> None:
    """Replace ``owner.name`` by a wrapper adding its CPU seconds to ``totals[name]``."""
    func: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.process_time() - start

    setattr(owner, name, wrapper)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=ROOT, help="whose digest to time")
    parser.add_argument("--days", type=int, default=40, help="days in the store")
    parser.add_argument("--skip", type=int, default=10, help="days not timed in order")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    sys.path.insert(0, str(args.checkout.resolve()))
    import digest.themes.cluster  # noqa: F401  (imports outside the timings)
    import digest.themes.labels  # noqa: F401
    from digest import pipeline, themes, trending
    from digest.config import Config
    from digest.context import CONTEXT
    from digest.formats import date_from_name
    from digest.store import Store

    files = sorted(p for p in DATA.iterdir() if date_from_name(p))[: args.days]
    days: list[dt.date] = [date_from_name(f) for f in files]  # type: ignore[misc]
    totals: dict[str, float] = {}
    timed(themes, "find_themes", totals)
    timed(trending, "rank", totals)
    fresh = []
    with tempfile.TemporaryDirectory(prefix="bench-window-") as tmp:
        config = Config(output_dir=f"{tmp}/out", database=f"{tmp}/digest.sqlite")
        with Store.open(config.database_path) as store:
            for day, file in zip(days, files, strict=True):
                pipeline.ingest(config, day, [file], store)
            start = time.process_time()
            for day in days[args.skip :]:
                pipeline.build_digest(store, config, day, [], NOW)
            in_order = time.process_time() - start
            stages = dict(totals)
            for day in days[-8:]:
                CONTEXT.reset()
                start = time.process_time()
                pipeline.build_digest(store, config, day, [], NOW)
                fresh.append(time.process_time() - start)
    print(f"{args.checkout}: in order, {len(days) - args.skip} days: build_digest "
          f"{in_order:.2f} s CPU (find_themes {stages['find_themes']:.2f} s, rank "
          f"{stages['rank']:.2f} s); fresh process: "
          f"{sorted(fresh)[len(fresh) // 2] * 1000:.0f} ms a day (median of {len(fresh)}); "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
