"""The daily run against its import floor (issue 12: "the daily run stays within 1.5x").

Each timed run is a fresh ``digest run`` process, as the scheduler's day or ``make run`` is:

* ``arxiv day``: one ordinary day of ../shared/data/arxiv-daily (2025-03-26, 226 papers) on a
  store that already holds the 7 days before it, run with ``digest run`` (digests, topics,
  site), as a scheduler's store looks on an ordinary morning. ``--store-days N`` stores N
  days first instead (the steady state: topic pages list ``topics.page_days`` = 28 days of
  papers, and the search index covers them); above 8 the timed day moves to the first day
  after N days of data (which start on 2025-03-18) that is, as 2025-03-26 is, the 5th day of
  its 7-day part of the search index (a day that indexes its own page alone, as most days
  do; the first day of a part also builds the week before: 35 days: 2025-04-26);
* ``arxiv, no search``: the same with ``[render] search = false``, which tells what the
  Pagefind child process (the archive's search index, rebuilt over the whole site each day)
  costs;
* ``seed day``: the last day of ``make run`` (config/example.toml, 2025-03-14, 228 papers)
  after its three days before.

Every timed run starts from a copy of the prepared folder (store and output), so each stores
the day's listing afresh. The floor is a process that only imports what such a run cannot
do without: ``python -c "import sklearn.feature_extraction.text, jinja2, premailer,
feedparser"`` (issue 12's floor; premailer comes with the test extra, digest itself no
longer imports it), and the same with ``css_inline``, which digest imports instead.

Runs are interleaved (floor, floor, arxiv day, seed day, again), ``--runs`` times (default
5); the figures are medians of CPU seconds (user + system of the child, getrusage) and of wall
seconds, and the ratios are of the medians; then, as the machine's speed drifts between
rounds, the median (and range) of each round's own ratios: the run over the floor measured
in the same round, and over the baseline's same run. CPU seconds are the figure to quote on this
shared machine: the wall time swings with the other processes. The load average is printed
before and after.

Every child runs as an installed digest does: with its modules' bytecode compiled once
(pip compiles a wheel's modules at install), into ``PYTHONPYCACHEPREFIX`` in the bench's
temporary folder, filled by the preparing runs; ``PYTHONDONTWRITEBYTECODE`` is dropped for
the children. Without that, a shell with ``PYTHONDONTWRITEBYTECODE=1`` and a source
checkout compiles digest's ~60 modules from source in every run (0.1-0.25 s of CPU), which
the floor, importing installed libraries with their bytecode, never pays. ``--as-is``
keeps the caller's environment.

With ``--cold-templates``, one more run: ``arxiv, no search`` with no compiled templates
kept (``var/jinja/`` removed: every template compiled, as before the bytecode cache), for
what Jinja's bytecode cache saves under the same load.

With ``--baseline DIR`` (another checkout with its own ``.venv``, e.g. /work/main), the
same runs of that checkout's ``digest`` are prepared with it and interleaved in the same
rounds (``base: arxiv day``, ...), so before and after are measured under the same load.

    .venv/bin/python bench/bench_daily.py [--runs N] [--store-days N] [--cold-templates]
        [--baseline DIR] [--as-is]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"
EXAMPLES = ROOT / "examples" / "listings"
ARXIV_DAY = dt.date(2025, 3, 26)
FIRST_DAY = dt.date(2025, 3, 18)  # the data's first day
SEED_DAYS = [dt.date(2025, 3, d) for d in (11, 12, 13, 14)]  # make run's days
STORE_DAYS = 7
GOAL = 1.5

FLOORS = {
    "floor (premailer)": "import sklearn.feature_extraction.text, jinja2, premailer, feedparser",
    "floor (css_inline)": "import sklearn.feature_extraction.text, jinja2, css_inline, feedparser",
}


def digest_bin(checkout: Path | None = None) -> str:
    if checkout is None:
        return str(Path(sys.executable).with_name("digest"))
    return str(checkout / ".venv" / "bin" / "digest")


def write_config(folder: Path, source_path: Path | None, search: bool = True) -> Path:
    lines = ['output_dir = "out"', 'database = "var/digest.sqlite"']
    if not search:
        lines += ["[render]", "search = false"]
    if source_path is not None:  # as config/example.toml has it
        lines += [
            "[[sources]]",
            'name = "sample-listings"',
            'kind = "file"',
            f'path = "{source_path}"',
            'announce_types = ["new", "cross"]',
        ]
    config = folder / "digest.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def digest_run(
    folder: Path, day: dt.date, input_file: Path | None, checkout: Path | None = None
) -> list[str]:
    cmd = [digest_bin(checkout), "run", "--config", str(folder / "digest.toml"), "--date", str(day)]
    if input_file is not None:
        cmd += ["--input", str(input_file)]
    return cmd


Prepared = tuple[Path, dt.date, Path | None, Path | None]  # folder, day, input, checkout


def run_digest(
    folder: Path, day: dt.date, input_file: Path | None, checkout: Path | None = None
) -> None:
    cmd = digest_run(folder, day, input_file, checkout)
    subprocess.run(cmd, capture_output=True, check=True, cwd=folder)


def arxiv_day(store_days: int) -> dt.date:
    """The timed arXiv day: 2025-03-26, or the first day with ``store_days`` days of data
    before it that is the 5th day of its search part (``digest.search.PART_DAYS``), as the
    26th is."""
    day = max(ARXIV_DAY, FIRST_DAY + dt.timedelta(days=store_days))
    while (day.day - 1) % 7 != (ARXIV_DAY.day - 1) % 7 or day.day > 28:
        day += dt.timedelta(days=1)
    return day


def prepare(
    tmp: Path, checkout: Path | None = None, prefix: str = "", store_days: int = STORE_DAYS
) -> dict[str, Prepared]:
    """The two prepared folders (store and output of the days before) and what to run,
    made by ``checkout``'s digest (this one's when None)."""
    arxiv = tmp / f"{prefix}arxiv"
    arxiv.mkdir()
    write_config(arxiv, None)
    timed_day = arxiv_day(store_days)
    for back in range(store_days, 0, -1):
        day = timed_day - dt.timedelta(days=back)
        run_digest(arxiv, day, DATA / f"{day}.jsonl.gz", checkout)
    seed = tmp / f"{prefix}seed"
    seed.mkdir()
    write_config(seed, EXAMPLES)
    for day in SEED_DAYS[:-1]:
        run_digest(seed, day, None, checkout)
    # the same arXiv store, its search index switched off: what the Pagefind child costs
    unsearched = tmp / f"{prefix}arxiv-unsearched"
    shutil.copytree(arxiv, unsearched)
    write_config(unsearched, None, search=False)
    label = "base: " if checkout is not None else ""
    return {
        f"{label}arxiv day": (arxiv, timed_day, DATA / f"{timed_day}.jsonl.gz", checkout),
        f"{label}arxiv, no search": (
            unsearched,
            timed_day,
            DATA / f"{timed_day}.jsonl.gz",
            checkout,
        ),
        f"{label}seed day": (seed, SEED_DAYS[-1], None, checkout),
    }


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--store-days",
        type=int,
        default=STORE_DAYS,
        help=f"arXiv days stored before the timed one (default {STORE_DAYS})",
    )
    parser.add_argument(
        "--baseline", type=Path, help="another checkout (with .venv) to run in the same rounds"
    )
    parser.add_argument(
        "--cold-templates", action="store_true", help="also the no-search day, templates compiled"
    )
    parser.add_argument(
        "--as-is", action="store_true", help="keep the environment's PYTHON* bytecode settings"
    )
    args = parser.parse_args()
    if args.baseline is not None and not Path(digest_bin(args.baseline)).is_file():
        print(f"bench_daily: {digest_bin(args.baseline)} not found (make .venv/.installed there)")
        return 2
    if not 1 <= args.store_days <= 200:
        print(f"bench_daily: --store-days must be 1 to 200, not {args.store_days}")
        return 2
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    load_before = os.getloadavg()
    cpu: dict[str, list[float]] = {}
    wall: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-daily-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.as_is:  # the children inherit it
            os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
            os.environ["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        runs = prepare(tmp, store_days=args.store_days)
        for code in FLOORS.values():  # premailer's bytecode too, before the timed rounds
            subprocess.run([sys.executable, "-c", code], check=True)
        if args.cold_templates:
            cold = tmp / "arxiv-unsearched-cold"
            shutil.copytree(runs["arxiv, no search"][0], cold)
            shutil.rmtree(cold / "var" / "jinja", ignore_errors=True)
            runs["arxiv, no search, cold templates"] = (cold, *runs["arxiv, no search"][1:])
        if args.baseline is not None:
            runs.update(
                prepare(tmp, args.baseline.resolve(), prefix="base-", store_days=args.store_days)
            )
        for round_ in range(args.runs):
            for name, code in FLOORS.items():
                c, w = timed([sys.executable, "-c", code])
                cpu.setdefault(name, []).append(c)
                wall.setdefault(name, []).append(w)
            for name, (prepared, day, input_file, checkout) in runs.items():
                folder = tmp / f"run-{round_}-{prepared.name}"
                shutil.copytree(prepared, folder)
                c, w = timed(digest_run(folder, day, input_file, checkout), cwd=folder)
                cpu.setdefault(name, []).append(c)
                wall.setdefault(name, []).append(w)
                shutil.rmtree(folder)
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    med_wall = {k: statistics.median(v) for k, v in wall.items()}
    day = arxiv_day(args.store_days)
    print(f"-- arxiv day {day} after {args.store_days} stored days")
    print(f"-- fresh processes, medians of {args.runs} interleaved rounds (CPU = user + system)"
          + (", environment as is" if args.as_is else ", bytecode compiled once"))  # fmt: skip
    for name in cpu:
        print(f"{name:26s} {med_cpu[name]:6.2f} s CPU  {med_wall[name]:6.2f} s wall")
    for name in runs:
        if f"base: {name}" in med_cpu:
            print(f"{name}: {med_cpu[name] / med_cpu[f'base: {name}']:.2f}x the baseline's CPU")
    for run in runs:
        for floor in FLOORS:
            ratio = med_cpu[run] / med_cpu[floor]
            verdict = "met" if ratio <= GOAL else "NOT met"
            print(f"{run} / {floor}: {ratio:.2f}x CPU, "
                  f"{med_wall[run] / med_wall[floor]:.2f}x wall (goal <= {GOAL}x CPU: {verdict})")  # fmt: skip
    # the machine's speed drifts between rounds: each run against the floor of its own round
    print("paired, each run / the floor of its round (CPU): median [min - max]")
    for run in runs:
        for floor in FLOORS:
            each = sorted(c / f for c, f in zip(cpu[run], cpu[floor], strict=True))
            print(
                f"  {run} / {floor}: {statistics.median(each):.2f}x [{each[0]:.2f} - {each[-1]:.2f}]"
            )
        if f"base: {run}" in cpu:
            each = sorted(c / b for c, b in zip(cpu[run], cpu[f"base: {run}"], strict=True))
            print(
                f"  {run} / base: {statistics.median(each):.2f}x [{each[0]:.2f} - {each[-1]:.2f}]"
            )
    print(f"load average: {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"(1 min; {os.cpu_count()} CPUs, shared); "
          f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
