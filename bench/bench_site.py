"""The site step of a daily run (feed + archive) after years of digests.

A store holds ``--days`` digests (default 730: two years), each a copy of the fixture
day grown to ``--papers`` papers (default 200, an arXiv day) under its own date. Timed, in
one run:

- ``all digests``: what publish_site did before archive entries: read and decode every
  stored digest and render the archive and feeds from them;
- ``first publish``: publish_site making and keeping every day's archive entry (once,
  after an upgrade or a backfill);
- ``daily publish``: publish_site as each later run does: the feed's 30 digests and one
  small entry per day.

    .venv/bin/python bench/bench_site.py [--days N]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "render_day.json"


def measured(func: Callable[[], object]) -> tuple[float, float]:
    """Seconds and peak Python heap (MB) of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def grown(data: dict, papers: int) -> dict:
    """The fixture's digest.json with its papers repeated (new ids) up to ``papers``."""
    copies = -(-papers // len(data["papers"]))
    ids = {
        p["id"]: [f"{p['id']}-{k}" if k else p["id"] for k in range(copies)] for p in data["papers"]
    }
    data["papers"] = [{**p, "id": new} for p in data["papers"] for new in ids[p["id"]]][:papers]
    kept = {p["id"] for p in data["papers"]}
    for theme in data["themes"]:
        theme["paper_ids"] = [n for i in theme["paper_ids"] for n in ids[i] if n in kept]
        theme["size"] = len(theme["paper_ids"])
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--papers", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from digest import pipeline, render
    from digest.config import Config
    from digest.models import Digest
    from digest.store import Store

    base = Digest.from_json(grown(json.loads(FIXTURE.read_text("utf-8")), args.papers))
    first = base.date - dt.timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        config = Config(output_dir=f"{tmp}/out", database=f"{tmp}/var/digest.sqlite")
        out = Path(tmp, "out")
        with Store.open(config.database_path) as store:
            for n in range(args.days):
                day = first + dt.timedelta(days=n)
                moment = dt.datetime.combine(day, dt.time(7, 30), dt.UTC)
                store.save_digest(dataclasses.replace(base, date=day, generated_at=moment))

            def every_digest() -> None:
                render.render_site(store.recent_digests(args.days), config)

            old_s, old_mb = measured(every_digest)
            first_s, first_mb = measured(lambda: pipeline.publish_site(store, config, out))
            daily_s, daily_mb = measured(lambda: pipeline.publish_site(store, config, out))
        archive_kb = (out / "index.html").stat().st_size / 1024

    print(
        f"store:          {args.days} digests of {len(base.papers)} papers; archive page {archive_kb:.0f} KB"
    )
    print(f"all digests:    {old_s:6.2f} s, peak heap {old_mb:6.1f} MB (the former publish_site)")
    print(
        f"first publish:  {first_s:6.2f} s, peak heap {first_mb:6.1f} MB (makes every archive entry)"
    )
    print(f"daily publish:  {daily_s:6.2f} s, peak heap {daily_mb:6.1f} MB "
          f"({old_s / daily_s:.0f}x faster, {old_mb / daily_mb:.0f}x less memory than all digests)")  # fmt: skip
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
