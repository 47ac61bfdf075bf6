"""Backfill all of ../shared/data/arxiv-daily (ingest, themes, renders; no email) against a floor.

The floor, timed in the same run: one bare ``TfidfVectorizer().fit_transform`` over the
same texts (title + abstract of every row), once before and once after the backfill (the
machine's speed drifts), each in a child process; the ratio is to their mean. Goal (issue 12): backfill <= 6x the floor, peak < 2 GB.

    .venv/bin/python bench/bench_backfill.py [--days N] [--jobs N] [--profile] [--without CACHE]

The backfill uses one worker process per CPU (``--jobs N`` to choose); peak memory is the
sum over the process tree, sampled. ``--profile`` runs the backfill in one process under
cProfile and prints where the time goes; ``--jobs 1`` prints the seconds per stage;
``--without doc_tokens`` (any of ``digest.context.NAMES``) switches caches off;
``--no-search`` builds no Pagefind index (``render.search = false``); with it, ``search
index:`` says how many Pagefind runs the backfill made, the pages of each, and their wall and
CPU seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gzip
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"
GOAL_RATIO = 6.0  # issue 12: simpler code over the last seconds (was 4x)
GOAL_PEAK_MB = 2048


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # Linux reports KiB


class TreeMemory:
    """Peak memory of this process and its children (the backfill's workers), sampled.

    PSS (proportional set size) counts a page shared by forked workers once in all,
    so the sum over the tree is the memory the backfill really takes; the sum of RSS,
    which counts shared pages in every process, is the pessimistic bound.
    """

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peak_pss_mb = 0.0
        self.peak_rss_mb = 0.0
        self.at_peak: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            pss = rss = 0
            each = []
            for pid in _tree(os.getpid()):
                fields = _rollup(pid)
                pss += fields.get("Pss", 0)
                rss += fields.get("Rss", 0)
                each.append((fields.get("Pss", 0) / 1024, _name(pid)))
            if pss / 1024 > self.peak_pss_mb:
                self.at_peak = sorted(each, reverse=True)
            self.peak_pss_mb = max(self.peak_pss_mb, pss / 1024)
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 1024)

    def breakdown(self) -> str:
        """The processes at the peak, largest first: which one to look at."""
        return ", ".join(f"{name} {mb:.0f} MB" for mb, name in self.at_peak if mb >= 1)


def _tree(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out.extend(_tree(int(child)))
    return out


def _name(pid: int) -> str:
    """``main`` for this process, else a child's command, shortened."""
    if pid == os.getpid():
        return "main"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [Path(a.decode(errors="replace")).name for a in argv if a][:3]
    return f"{pid} {' '.join(words)}"[:60]


def _rollup(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:  # ended meanwhile
        return {}
    out = {}
    for line in lines[1:]:
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            out[name] = int(rest.split()[0])
    return out


def _cpu_seconds() -> float:
    """User + system seconds of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def texts_of(files: list[Path]) -> list[str]:
    out = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    out.append(f"{row.get('title') or ''} {row.get('summary') or ''}")
    return out


class StageClock:
    """Wall-clock and CPU seconds per pipeline stage, from ``pipeline.run``'s ``on_stage``
    calls (CPU: this process's, so only with ``--jobs 1``)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._stage: str | None = None
        self._since = 0.0
        self._cpu_since = 0.0

    def mark(self, stage: str | None) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        if self._stage is not None:
            self.totals[self._stage] = self.totals.get(self._stage, 0.0) + now - self._since
            self.cpu[self._stage] = self.cpu.get(self._stage, 0.0) + cpu - self._cpu_since
        self._stage, self._since, self._cpu_since = stage, now, cpu

    def run_day(self, config, day, inputs=(), output=None, send=False, site=True, **options):  # type: ignore[no-untyped-def]
        from digest import pipeline

        try:
            return pipeline.run(
                config, day, inputs, output, send=send, site=site, on_stage=self.mark, **options
            )
        finally:
            self.mark(None)


class CallTimer:
    """Wall-clock seconds inside a few functions the stages call, to say whose code the time is in.

    Wraps module attributes the pipeline looks up at call time; nested calls are not
    double-counted because the wrapped functions do not call each other.
    """

    TIMED = (
        ("digest.themes", "find_themes", "themes.find_themes"),
        ("digest.trending", "rank", "trending.rank"),
        ("digest.store.paper_reads", "PaperReadsMixin.papers_by_day", "store.papers_by_day"),
        ("digest.store.paper_reads", "PaperReadsMixin.day_papers", "store.day_papers"),
        ("digest.store.papers", "PapersMixin.save_listing", "store.save_listing"),
        ("digest.store.digests", "DigestsMixin.save_digest", "store.save_digest"),
        ("digest.render", "render_day", "render.render_day"),
        ("digest.writer", "write_files", "writer.write_files"),
    )

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    def install(self) -> None:
        import importlib

        for module_name, path, label in self.TIMED:
            owner: object = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent, None)
            if owner is None or not hasattr(owner, name):
                continue  # renamed since: report the rest
            setattr(owner, name, self._timed(getattr(owner, name), label))

    def _timed(self, func, label):  # type: ignore[no-untyped-def]
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.totals[label] = self.totals.get(label, 0.0) + time.perf_counter() - start

        return timed


class SearchClock:
    """Wall and CPU seconds of the search index (``search.build_index``: its Pagefind runs
    are this process's children, and the only ones that end meanwhile), and the bundles it
    built with their pages: how many Pagefind runs a backfill makes, and of what size."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu = 0.0
        self.calls = 0
        self.built: list[str] = []

    def install(self) -> None:
        from digest import search

        build_index = search.build_index

        def timed(site, jobs=1):  # type: ignore[no-untyped-def]
            start, cpu = time.perf_counter(), _children_cpu()
            try:
                index = build_index(site, jobs)
            finally:
                self.seconds += time.perf_counter() - start
                self.cpu += _children_cpu() - cpu
                self.calls += 1
            if index is not None:
                self.built.extend(index.built)
            return index

        search.build_index = timed

    def summary(self, out_dir: Path) -> str:
        """The bundles built, each with its pages (from its ``digest-pages.json``)."""
        from digest import search

        sizes = []
        for name in self.built:
            record = out_dir / search.FOLDER / name / search.PAGES
            try:
                pages = len(json.loads(record.read_text("utf-8")).get("pages", {}))
            except (OSError, ValueError):
                pages = -1
            sizes.append(f"{name} {pages}")
        return (
            f"{self.calls} build(s), {len(self.built)} Pagefind runs, {self.seconds:.1f} s wall, "
            f"{self.cpu:.1f} s CPU; pages per run: {', '.join(sizes) or 'none'}"
        )


def _children_cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def floor(files: list[Path]) -> tuple[float, int, int, float]:
    """Seconds of one bare ``TfidfVectorizer().fit_transform`` over the texts of ``files``,
    the number of texts and of terms, and its CPU seconds; in a child process."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from bench_backfill import texts_of;"
        "from pathlib import Path; from sklearn.feature_extraction.text import TfidfVectorizer;"
        "texts = texts_of([Path(p) for p in sys.argv[2:]]); start = time.perf_counter();"
        "cpu = time.process_time(); m = TfidfVectorizer().fit_transform(texts);"
        "print(time.perf_counter() - start, len(texts), m.shape[1], time.process_time() - cpu)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), *map(str, files)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return float(out[0]), int(out[1]), int(out[2]), float(out[3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=0, help="only the first N days (0: all)")
    parser.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: one per CPU)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the backfill (implies --jobs 1)"
    )
    parser.add_argument(
        "--no-search", action="store_true", help="render.search = false: no Pagefind index"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="keep the output tree here (a new folder)"
    )
    parser.add_argument(
        "--without", default="", help="switch off these caches of digest/context.py (a,b)"
    )
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    sys.path.insert(0, str(ROOT))
    from digest.backfill import backfill, default_jobs
    from digest.context import CONTEXT, NAMES

    without = {n for n in args.without.split(",") if n}
    if without - set(NAMES):
        parser.error(f"--without: the caches are {', '.join(NAMES)}")
    CONTEXT.reset(tuple(n for n in NAMES if n not in without))  # forked workers inherit it
    from digest.config import Config
    from digest.formats import date_from_name

    jobs = 1 if args.profile else (args.jobs or default_jobs())
    files = sorted(p for p in DATA.iterdir() if date_from_name(p))
    if args.days:
        files = files[: args.days]
    since, until = date_from_name(files[0]), date_from_name(files[-1])
    assert since and until

    # the floor before and after: this shared machine's speed drifts over a minute; measured
    # in a child process, so that the backfill's process imports nothing it would not
    load_before = os.getloadavg()
    floor_before, _, _, floor_cpu_before = floor(files)
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        out_dir = args.output.resolve() if args.output else Path(tmp, "out")
        config = Config(output_dir=str(out_dir), database=f"{tmp}/var/digest.sqlite")
        if args.no_search and hasattr(config.render, "search"):
            config = config.with_overrides(render=replace(config.render, search=False))
        profiler = cProfile.Profile() if args.profile else None
        clock = StageClock()
        calls = CallTimer()
        searching = SearchClock()
        searching.install()  # publish_site runs in this process
        if jobs == 1 and not args.profile:
            calls.install()  # only this process's calls can be timed
        with TreeMemory() as memory:
            cpu_start = _cpu_seconds()
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            report = backfill(config, since, until, DATA if not args.days else _subset(files, tmp),
                              progress=False, run_day=clock.run_day, jobs=jobs)  # fmt: skip
            if profiler:
                profiler.disable()
            backfill_s = time.perf_counter() - start
            backfill_cpu = _cpu_seconds() - cpu_start
        out_files = sum(1 for _ in out_dir.rglob("*") if _.is_file())
        search_line = searching.summary(out_dir)

    floor_after, texts, terms, floor_cpu_after = floor(files)
    floor_s = (floor_before + floor_after) / 2
    floor_cpu = (floor_cpu_before + floor_cpu_after) / 2

    days = len(report.produced)
    ratio = backfill_s / floor_s
    peak = memory.peak_pss_mb
    print(report.summary())
    if without or args.no_search:
        off = [*sorted(without), *(["the search index"] if args.no_search else [])]
        print(f"without:      {', '.join(off)}")
    print(
        f"days:         {days} ({since} .. {until}), {len(report.failed)} failed, {out_files} files"
    )
    print(f"backfill:     {backfill_s:.1f} s = {days / backfill_s:.2f} days/s, {jobs} worker "
          f"process(es) on {os.cpu_count()} CPUs; every day stored after "
          f"{report.ingest_seconds:.1f} s")  # fmt: skip
    print(f"floor:        {floor_s:.2f} s (TfidfVectorizer().fit_transform, {texts} texts, "
          f"{terms} terms; {floor_before:.2f} s before the backfill, {floor_after:.2f} s "
          "after)")  # fmt: skip
    print(f"ratio:        {ratio:.1f}x the floor (goal <= {GOAL_RATIO:.0f}x: "
          f"{'met' if ratio <= GOAL_RATIO else 'NOT met'})")  # fmt: skip
    print(f"CPU seconds:  backfill {backfill_cpu:.1f} s (this process and its workers, user + "
          f"system), floor {floor_cpu:.2f} s ({floor_cpu_before:.2f} before, "
          f"{floor_cpu_after:.2f} after): {backfill_cpu / floor_cpu:.1f}x; divided by the "
          f"{jobs} workers, {backfill_cpu / jobs / floor_cpu:.1f}x (the wall ratio on an idle "
          "machine)")  # fmt: skip
    print(f"peak memory:  {peak:.0f} MB during the backfill, all processes (PSS; RSS sum "
          f"{memory.peak_rss_mb:.0f} MB); goal < {GOAL_PEAK_MB} MB: "
          f"{'met' if peak < GOAL_PEAK_MB else 'NOT met'}; this process overall "
          f"{peak_mb():.0f} MB")  # fmt: skip
    print(f"at the peak:  {memory.breakdown()}")
    if not args.no_search:
        print(f"search index: {search_line}")
    if clock.totals:
        stages = ", ".join(f"{name} {secs:.1f} s" for name, secs in clock.totals.items())
        rest = backfill_s - sum(clock.totals.values())
        print(f"stages:       {stages}; other {rest:.1f} s (reading and storing the listings, "
              "locks, run log, feed and archive)")  # fmt: skip
        cpu = ", ".join(f"{name} {secs:.1f} s" for name, secs in clock.cpu.items())
        print(f"stage CPU:    {cpu}; other {backfill_cpu - sum(clock.cpu.values()):.1f} s")
    else:
        print("stages:       in the worker processes; --jobs 1 prints the seconds per stage")
    if calls.totals:
        inside = ", ".join(f"{k} {v:.1f} s" for k, v in calls.totals.items())
        print(f"inside:       {inside}")
    print(f"load average: {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"(1 min; {os.cpu_count()} CPUs, shared)")  # fmt: skip
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    if profiler:
        print("\n== where the backfill time goes (cumulative, top 30)")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        print("== own time (top 20)")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return 0


def _subset(files: list[Path], tmp: str) -> Path:
    folder = Path(tmp, "in")
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


if __name__ == "__main__":
    sys.exit(main())
