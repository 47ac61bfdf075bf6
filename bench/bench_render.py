"""Render timings: every output of a 25-paper batch and of a 1,000-paper day, after warm-up.

Goal: under 50 ms for the 25-paper batch, CSS inlining (css-inline) included. Papers come from
../shared/data/arxiv-daily (real titles and abstracts, LaTeX included); upvotes,
themes and trending ranks are made up with a fixed seed. Prints the figures and
the peak memory of the process, and exits 0.

    .venv/bin/python bench/bench_render.py
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from digest.config import Config
from digest.context import CONTEXT, JINJA_BYTECODE, JINJA_ENVIRONMENTS
from digest.models import Digest, Paper, RankedPaper, Theme
from digest.render import email as email_module
from digest.render import render_day, render_site

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "arxiv-daily"
REPEAT = 20


def load_rows(count: int) -> list[dict]:
    rows: list[dict] = []
    seen: set[str] = set()
    for path in sorted(DATA.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["id"] not in seen:
                    seen.add(row["id"])
                    rows.append(row)
        if len(rows) >= count:
            break
    return rows[:count]


def make_digest(rows: list[dict], day: dt.date, themes: int, top_n: int = 25) -> Digest:
    rng = random.Random(day.toordinal())
    papers = tuple(
        RankedPaper(
            paper=Paper(
                id=r["id"],
                title=r["title"],
                abstract=r["summary"],
                authors=tuple(r["authors"]),
                url=r["abs"],
                categories=tuple(r["categories"]),
                upvotes=rng.choice([None, 0, 4, 25, 130]),
                code_url=rng.choice([None, f"https://github.com/example/{r['id']}"]),
            ),
            sources=("arxiv",),
            theme=f"t{n % themes}",
            score=1 / (n + 1),
            trending=n < top_n,
            seen_days=1 + rng.randrange(4),
            position=n,
        )
        for n, r in enumerate(rows)
    )
    groups = tuple(
        Theme(
            id=f"t{k}",
            label=f"theme {k}: " + ", ".join(rows[k]["title"].split()[:3]),
            terms=tuple(rows[k]["title"].lower().split()[:4]),
            paper_ids=tuple(p.paper.id for p in papers if p.theme == f"t{k}"),
            rising=k % 5 == 0,
        )
        for k in range(themes)
    )
    return Digest(
        date=day,
        generated_at=dt.datetime.combine(day, dt.time(7, 30), dt.UTC),
        sources=(),
        papers=papers,
        themes=groups,
        trending=tuple(p.paper.id for p in papers[:top_n]),
    )


GOAL_BATCH_MS = 50  # render_day of the 25-paper batch (issue 12)


def timed(label: str, digest: Digest, config: Config, goal_ms: float | None = None) -> None:
    passes: list[float] = []
    real_inline = email_module.inline_css

    def counting(html: str) -> str:
        start = time.perf_counter()
        out = real_inline(html)
        passes.append((time.perf_counter() - start) * 1000)
        return out

    email_module.inline_css = counting
    try:
        render_day(digest, config)  # warm-up: compiled templates
        passes.clear()
        day_ms = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            rendered = render_day(digest, config)
            day_ms.append((time.perf_counter() - start) * 1000)
    finally:
        email_module.inline_css = real_inline
    site_start = time.perf_counter()
    render_site([digest], config)
    site_ms = (time.perf_counter() - site_start) * 1000
    print(
        f"{label}: render_day median {statistics.median(day_ms):.1f} ms "
        f"(min {min(day_ms):.1f}, max {max(day_ms):.1f}), of which CSS inlining "
        f"{sum(passes) / REPEAT:.1f} ms in {len(passes) / REPEAT:.0f} pass(es); "
        f"render_site {site_ms:.1f} ms"
        + (
            ""
            if goal_ms is None
            else f" (goal < {goal_ms:.0f} ms: {'met' if statistics.median(day_ms) < goal_ms else 'NOT met'})"
        )
        + "\n"
        f"  email {len(rendered.email_html.encode()):,} bytes showing {rendered.shown} of "
        f"{len(digest.papers)} papers; text {len(rendered.email_txt.encode()):,} bytes; "
        f"web page {len(rendered.page_html.encode()):,} bytes"
    )


def kept_environments(rows: list[dict], config: Config) -> None:
    """The cache of digest.render (CONTEXT's jinja_environments): a day's render_day and
    render_site with the compiled templates kept, and with them compiled afresh (what every
    day of a backfill would pay without the cache), interleaved."""
    day = make_digest(rows, dt.date(2025, 3, 12), themes=8)
    times: dict[str, list[float]] = {"kept": [], "compiled afresh": []}
    for _ in range(10):
        for label, ms in times.items():
            if label == "kept":  # the environment compiled before is still there
                CONTEXT.enabled.add(JINJA_ENVIRONMENTS)
            else:  # and not read from var/jinja/ either: compiled
                CONTEXT.enabled.discard(JINJA_ENVIRONMENTS)
                CONTEXT.enabled.discard(JINJA_BYTECODE)
            start = time.perf_counter()
            render_day(day, config)
            render_site([day], config)
            ms.append((time.perf_counter() - start) * 1000)
    CONTEXT.reset()
    kept, fresh = (statistics.median(ms) for ms in times.values())
    print(
        f"a {len(rows)}-paper day's render_day + render_site: {kept:.0f} ms with the Jinja "
        f"environment kept, {fresh:.0f} ms with its templates compiled afresh "
        f"(the cache saves {1 - kept / fresh:.0%})"
    )


def main() -> int:
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (needs ../shared beside the project)")
        return 0
    config = Config(site_url="https://digest.example.org/")
    rows = load_rows(1000)
    batch = make_digest(rows[:25], dt.date(2025, 3, 13), themes=5)
    big = make_digest(rows, dt.date(2025, 3, 14), themes=30)
    timed("25-paper batch", batch, config, GOAL_BATCH_MS)
    timed("1,000-paper day", big, config)
    month = [
        make_digest(rows[i * 30 : i * 30 + 30], dt.date(2025, 3, 1) + dt.timedelta(days=i), 5)
        for i in range(30)
    ]
    start = time.perf_counter()
    site = render_site(month, config)
    print(
        f"render_site, 30 days of 30 papers: {(time.perf_counter() - start) * 1000:.1f} ms, "
        f"feed.xml {len(site.feed_xml.encode()):,} bytes, papers.xml {len(site.papers_xml.encode()):,} bytes"
    )
    kept_environments(rows[:250], config)
    tracemalloc.start()  # after the timings: tracing slows every allocation
    render_day(big, config)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: render_day of the 1,000-paper day {traced_peak / 1e6:.1f} MB (tracemalloc); "
        f"process max RSS {rss_mb:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
