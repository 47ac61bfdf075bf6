"""Themes stage alone: speed on big days, cost per ordinary day, and what background IDF buys.

* a 1,000-paper and a 5,000-paper day (distinct papers of consecutive days of
  ../shared/data/arxiv-daily/): wall and CPU time of ``find_themes`` (median of runs), peak
  Python memory of one run (tracemalloc) and the process's peak RSS. Goals: < 0.5 s and < 3 s.
* a 250-paper day (a typical arXiv day) against a bare ``TfidfVectorizer().fit_transform`` of
  the same texts: the ratio bounds what themes add to a 228-day backfill.
* ten 250-paper days in a row with and without background IDF (``themes.background_days``).
* ../shared/data/themes-dev: V-measure of ``find_themes`` alone on the day alone, on a cold
  start (empty store: the bundled background model, as ``make eval`` runs) and with a
  background of 1,000 earlier arXiv papers in the store (what ``themes.background_days``
  gives), the labels next to each theme's majority category, and topic diversity (unique
  words among all labels' top-10 terms / all those words).

    .venv/bin/python bench/bench_themes.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import v_measure_score  # noqa: E402

from digest.config import ThemesConfig  # noqa: E402
from digest.models import Paper  # noqa: E402
from digest.themes import find_themes  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
GOALS = {1000: 0.5, 5000: 3.0}
CONFIG = ThemesConfig()


def arxiv_papers(limit: int, skip_days: int = 0) -> list[Paper]:
    out: list[Paper] = []
    seen: set[str] = set()
    for path in sorted((SHARED / "arxiv-daily").glob("*.jsonl.gz"))[skip_days:]:
        with gzip.open(path, "rt") as lines:
            for line in lines:
                row = json.loads(line)
                if row["id"] not in seen:
                    seen.add(row["id"])
                    out.append(Paper(id=row["id"], title=row["title"], abstract=row["summary"]))
        if len(out) >= limit:
            break
    return out[:limit]


def timed(papers: list[Paper], runs: int) -> tuple[float, float, int]:
    walls, cpus, themes = [], [], 0
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        result = find_themes(papers, CONFIG)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        themes = len(result.themes)
    return statistics.median(walls), statistics.median(cpus), themes


def peak_python_mb(papers: list[Paper]) -> float:
    tracemalloc.start()
    find_themes(papers, CONFIG)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def big_days(quick: bool) -> None:
    print("-- big days (themes stage alone)")
    for n in (1000, 5000):
        papers = arxiv_papers(n)
        wall, cpu, themes = timed(papers, 1 if quick or n > 1000 else 3)
        mark = "ok" if wall < GOALS[n] else "OVER GOAL"
        print(
            f"{n:5d} papers: {wall:6.3f} s wall, {cpu:6.3f} s CPU, {themes} themes "
            f"(goal < {GOALS[n]} s: {mark}); peak Python memory {peak_python_mb(papers):.0f} MB"
        )


def ordinary_day() -> None:
    print("-- a 250-paper day against a bare TfidfVectorizer().fit_transform")
    papers = arxiv_papers(250, skip_days=100)
    texts = [f"{p.title}\n{p.abstract}" for p in papers]
    bare = []
    for _ in range(5):
        t = time.perf_counter()
        TfidfVectorizer().fit_transform(texts)
        bare.append(time.perf_counter() - t)
    wall, cpu, themes = timed(papers, 5)
    print(
        f"find_themes {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU ({themes} themes); "
        f"bare TF-IDF {statistics.median(bare) * 1000:.0f} ms; ratio {wall / statistics.median(bare):.1f}x"
    )


def day_sequence() -> None:
    """Ten consecutive 250-paper days, as a backfill meets them, with and without background."""
    from digest.context import CONTEXT

    print("-- ten 250-paper days in a row: mean per-day time of find_themes")
    papers = arxiv_papers(2750, skip_days=100)
    days = [papers[i * 250 : (i + 1) * 250] for i in range(11)]
    for background_days in (0, 7):
        config = ThemesConfig(background_days=background_days)
        CONTEXT.reset()
        times, cpus = [], []
        for i in range(1, 11):
            background = [p for d in days[max(0, i - 7) : i] for p in d] if background_days else []
            t, c = time.perf_counter(), time.process_time()
            find_themes(days[i], config, background)
            times.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        print(
            f"background_days={background_days}: {statistics.mean(times) * 1000:.0f} ms wall, "
            f"{statistics.mean(cpus) * 1000:.0f} ms CPU per day"
        )


def dev_quality() -> None:
    files = sorted((SHARED / "themes-dev").glob("*.jsonl"))
    with_bg_config = ThemesConfig(background_days=7)
    size = with_bg_config.background_max_papers
    background = arxiv_papers(size + 400, skip_days=60)
    print(
        "-- themes-dev: V-measure of the day alone / cold start (bundled model, as make eval) / "
        f"with {size:,} store papers for the IDF"
    )
    for seed in (0, 1, 2):  # k-means seeds: how much is luck
        alone = ThemesConfig(background_days=0, bundled_background=False, seed=seed)
        plain = [_v(path, alone, ()) for path in files]
        cold = [_v(path, ThemesConfig(background_days=0, seed=seed), ()) for path in files]
        with_bg = [_v(path, ThemesConfig(seed=seed), background) for path in files]
        print(
            f"seed {seed}: mean V {statistics.mean(plain):.3f} / cold start "
            f"{statistics.mean(cold):.3f} / with store background {statistics.mean(with_bg):.3f}"
        )
    config = ThemesConfig(background_days=0)  # a cold start, as make eval runs it
    for path in files:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        truth = {r["id"]: r["label"] for r in rows}
        papers = [Paper(id=r["id"], title=r["title"], abstract=r["summary"]) for r in rows]
        ids = [p.id for p in papers]
        bg = [p for p in background if p.id not in truth]
        t = time.perf_counter()
        plain = find_themes(papers, config)
        t_plain = time.perf_counter() - t
        t = time.perf_counter()
        with_bg = find_themes(papers, with_bg_config, bg)
        t_bg = time.perf_counter() - t
        v_plain = v_measure_score([truth[i] for i in ids], [plain.assignment[i] for i in ids])
        v_bg = v_measure_score([truth[i] for i in ids], [with_bg.assignment[i] for i in ids])
        print(
            f"{path.name}: cold start V {v_plain:.3f} ({t_plain:.2f} s) / with store background "
            f"{v_bg:.3f} ({t_bg:.2f} s)"
        )
        words = [w for t in plain.themes for term in t.terms for w in term.split()]
        print(
            f"  {len(plain.themes)} themes; topic diversity {len(set(words)) / max(len(words), 1):.2f}"
        )
        for theme in plain.themes:
            cats = Counter(truth[i] for i in theme.paper_ids)
            top, count = cats.most_common(1)[0]
            print(
                f"  {theme.size:3d}  {theme.label:40s} {top:6s} {count / theme.size:4.0%}  "
                f"{', '.join(theme.terms[:5])}"
            )


def _v(path: Path, config: ThemesConfig, background: list[Paper] | tuple[()]) -> float:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    truth = {r["id"]: r["label"] for r in rows}
    papers = [Paper(id=r["id"], title=r["title"], abstract=r["summary"]) for r in rows]
    result = find_themes(papers, config, [p for p in background if p.id not in truth])
    return float(v_measure_score(list(truth.values()), [result.assignment[i] for i in truth]))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="one run per size, skip themes-dev")
    args = ap.parse_args()
    if not (SHARED / "arxiv-daily").is_dir():
        print(f"skipped: {SHARED} is not beside the project")
        return 0
    big_days(args.quick)
    ordinary_day()
    day_sequence()
    if not args.quick:
        dev_quality()
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
