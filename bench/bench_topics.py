"""What topics add to a backfill, and the weekly build, against their goals.

1. The backfill of ../shared/data/arxiv-daily (228 days) without topics, with topics, and
   without again, in the same run (this shared machine's speed drifts): the cost of topics
   is the with-run over the mean of the two without-runs. Goal: at most +15%. The seconds
   of the topic stages in this process (linking in date order as days finish, setting the
   days' topic ids and handing their renders to the workers, topic pages) and of Pagefind's
   index are printed too; signatures and the days' renders are made in the worker processes.
2. ``digest weekly`` for a week of 2,000 papers (seven days from the store just filled,
   days cut to ~286 papers each). Goal: under 2 s.

    .venv/bin/python bench/bench_topics.py [--days N] [--jobs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"
GOAL_EXTRA = 0.15
GOAL_WEEKLY_S = 2.0

sys.path.insert(0, str(ROOT))

from digest import pipeline, search  # noqa: E402
from digest.backfill import backfill  # noqa: E402
from digest.config import Config, TopicsConfig  # noqa: E402
from digest.topics import incremental  # noqa: E402


class Timed:
    """Seconds spent in a few functions of this process, per run (``start`` begins one)."""

    def __init__(self, *names: tuple[object, str]) -> None:
        self.runs: dict[str, dict[str, float]] = {}
        self.current: dict[str, float] = {}
        for module, name in names:
            original = getattr(module, name)

            def timed(*args, _f=original, _n=name, **kwargs):  # type: ignore[no-untyped-def]
                start = time.perf_counter()
                try:
                    return _f(*args, **kwargs)
                finally:
                    self.current[_n] = self.current.get(_n, 0.0) + time.perf_counter() - start

            setattr(module, name, timed)

    def start(self, run: str) -> None:
        self.current = self.runs.setdefault(run, {})

    def line(self, run: str) -> str:
        return ", ".join(f"{k} {v:.2f} s" for k, v in self.runs.get(run, {}).items())


def cpu_seconds() -> float:
    """CPU of this process and of its finished children (the backfill's workers, Pagefind)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


CPU: dict[str, float] = {}  # run name -> CPU seconds


def run_backfill(tmp: str, name: str, topics: bool, days: int, jobs: int | None) -> float:
    config = Config(
        output_dir=f"{tmp}/{name}/out",
        database=f"{tmp}/{name}/digest.sqlite",
        topics=TopicsConfig(enabled=topics),
    )
    files = sorted(DATA.glob("*.jsonl.gz"))[:days]
    since, until = _day(files[0]), _day(files[-1])
    start, cpu = time.perf_counter(), cpu_seconds()
    report = backfill(config, since, until, DATA, progress=False, jobs=jobs)
    seconds = time.perf_counter() - start
    CPU[name] = cpu_seconds() - cpu
    print(f"  {name}: {seconds:.1f} s wall, {CPU[name]:.1f} s CPU, load {_load()}", flush=True)
    assert not report.failed, report.summary()
    return seconds


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _day(path: Path) -> dt.date:
    return dt.date.fromisoformat(path.name[:10])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=228)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    timed = Timed(
        (incremental, "link_topics"),
        (incremental.DateOrderLinker, "_link"),
        (pipeline, "link_all_topics"),
        (pipeline, "publish_topics"),
        (search, "build_index"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        timed.start("without1")
        before = run_backfill(tmp, "without1", False, args.days, args.jobs)
        timed.start("with")
        with_topics = run_backfill(tmp, "with", True, args.days, args.jobs)
        timed.start("without2")
        after = run_backfill(tmp, "without2", False, args.days, args.jobs)
        base = (before + after) / 2
        extra = with_topics / base - 1
        print(f"backfill of {args.days} days: without topics {before:.1f} s and {after:.1f} s, "
              f"with topics {with_topics:.1f} s")  # fmt: skip
        print(f"topics add:   {extra * 100:+.1f}% (goal <= +{GOAL_EXTRA * 100:.0f}%: "
              f"{'ok' if extra <= GOAL_EXTRA else 'MISSED'})")  # fmt: skip
        cpu_base = (CPU["without1"] + CPU["without2"]) / 2
        print(f"CPU seconds (every process): without {CPU['without1']:.1f} and "
              f"{CPU['without2']:.1f}, with {CPU['with']:.1f}: topics add "
              f"{(CPU['with'] / cpu_base - 1) * 100:+.1f}%")  # fmt: skip
        # link_topics: linking in date order as the days finish; _link: that, and setting the
        # days' topic ids and handing their renders to the workers (rendered there, between
        # the days they produce); link_all_topics: linking and rendering left to the end (a
        # backfill that re-links, or is interrupted); build_index: pagefind, every bundle
        print(f"in the backfill process, with topics: {timed.line('with')}")
        print(f"in the backfill process, without: {timed.line('without1')}; "
              f"{timed.line('without2')}")  # fmt: skip
        topics = sum(1 for p in Path(f"{tmp}/with/out/topics").iterdir() if p.is_dir())
        print(f"topics:       {topics}")
        weekly(tmp)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory:  {peak:.0f} MB (this process)")
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    return 0


def weekly(tmp: str) -> None:
    """Build and publish the week whose papers come closest to 2,000, from the with-run."""
    from digest import weekly as weekly_mod
    from digest.store import Store

    config = Config(output_dir=f"{tmp}/with/out", database=f"{tmp}/with/digest.sqlite")
    with Store.open(config.database_path) as store:
        per_week: dict[str, int] = {}
        for day in store.digest_dates():
            digest = store.digest_for(day)
            assert digest is not None
            week = weekly_mod.week_of(day)
            per_week[week] = per_week.get(week, 0) + len(digest.papers)
        week = min(per_week, key=lambda w: (abs(per_week[w] - 2000), w))
        start = time.perf_counter()
        built = weekly_mod.build_week(store, config, week)
        weekly_mod.publish_week(store, config, built, config.output_path)
        seconds = time.perf_counter() - start
    print(f"weekly:       {week}, {built.papers} papers over {len(built.days)} days: "
          f"{seconds:.2f} s (goal < {GOAL_WEEKLY_S:.0f} s: "
          f"{'ok' if seconds < GOAL_WEEKLY_S else 'MISSED'})")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
