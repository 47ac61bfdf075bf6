"""The archive search index: what a publish pays, before and after the split into bundles.

``--days`` day pages (default 228, the days of ../shared/data/arxiv-daily, ending on
2025-10-31 here: 8 months for 228 days) of ``--papers`` papers each (default 200, an arXiv day; the
fixture day grown as bench_site.py does) are rendered and written with their emails (as a
published site has them). Then, in one run, each timed in wall seconds and in the CPU
seconds of the Pagefind children (getrusage):

1. before: the whole archive in one index (one pagefind run over ``**/index.html``, as
   every publish did before the bundles);
2. the full build of every month's bundle (``digest.search.build_index``, as a first
   publish or the end of a backfill), with 1 and with ``--jobs`` Pagefind runs at once;
3. after: a daily publish once the bundles are in place: the newest day's page written
   again with one paper more, ``build_index`` rebuilds its piece of the newest week only
   (October 31: the 3rd day of the part of days 29 to 31, pieces 29-30 and 31); then a day
   of a finished week written again (October 28, in the part of days 22 to 28: the largest
   part, 7 pages, what the first day of a week pays once); then a day of a past month
   written again: its whole month is built again (what every daily run paid at a month's
   end with month bundles only, and what the first run of a month pays once);
4. a publish with no page changed (the page records checked, nothing built).

    .venv/bin/python bench/bench_search.py [--days N] [--papers N] [--jobs N]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_site import FIXTURE, grown  # noqa: E402

LAST_DAY = dt.date(2025, 10, 31)


def measured(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """``call()``'s result, its wall seconds and its children's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = call()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, wall, cpu


def put(out: Path, index: Any) -> None:
    """The index in place, as ``pipeline.publish_site`` puts it."""
    from digest import search, writer

    for batch in index.batches:
        writer.write_files(out, batch, only_changed=True)
    writer.prune(out, search.FOLDER, keep=index.keep)


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=228)
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from digest import search, writer
    from digest.config import Config
    from digest.models import Digest
    from digest.render import render_day

    binary = search.pagefind_binary()
    if binary is None:
        print("pagefind binary missing: pip install 'pagefind[bin]'")
        return 1
    base = Digest.from_json(grown(json.loads(FIXTURE.read_text("utf-8")), args.papers))
    first = LAST_DAY - dt.timedelta(days=args.days - 1)
    config = Config()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        out = Path(tmp) / "site"
        pages = {}
        for n in range(args.days):
            digest = dataclasses.replace(base, date=first + dt.timedelta(days=n))
            rendered = render_day(digest, config)
            pages[f"{digest.date}/index.html"] = rendered.page_html
            pages[f"{digest.date}/email.html"] = rendered.email_html
        writer.write_files(out, pages)
        html_mb = sum(len(p.encode()) for k, p in pages.items() if k.endswith("/index.html"))
        months = len(search.bundles(out)) - 1  # no topic pages here: no site bundle
        print(
            f"site: {args.days} day pages of {len(base.papers)} papers in {months} bundles "
            f"({html_mb / 2**20:.0f} MB of HTML, emails beside them)"
        )

        whole = [str(binary), "--site", str(out), "--glob", "**/index.html"]
        whole += ["--output-path", str(Path(tmp) / "whole")]
        _, wall, cpu = measured(lambda: subprocess.run(whole, capture_output=True, check=True))
        print(
            f"before, whole index at each publish: {wall:6.2f} s wall, {cpu:6.2f} s CPU ({load()})"
        )
        for jobs in sorted({1, args.jobs}):
            index, wall, cpu = measured(lambda jobs=jobs: search.build_index(out, jobs))
            assert index is not None and len(index.built) == months
            print(
                f"every month's bundle, jobs={jobs}:      {wall:6.2f} s wall, {cpu:6.2f} s CPU "
                f"({load()})"
            )
        put(out, index)
        size = sum(p.stat().st_size for p in (out / search.FOLDER).rglob("*") if p.is_file())
        print(f"bundles on disk: {size / 2**20:.1f} MB ({months} bundles)")

        # a daily publish: the newest day's page written again with one paper more: its
        # piece of the newest week is built again; then a day of a finished week
        cases = [
            (LAST_DAY, "after, daily publish (newest piece)"),
            (LAST_DAY - dt.timedelta(days=3), "re-run of a day of a finished week"),
        ]
        if first < LAST_DAY.replace(day=1):  # the archive has a past month
            cases.append(
                (LAST_DAY.replace(day=1) - dt.timedelta(days=1), "re-run of a day of a past month")
            )
        for day, what in cases:
            key = f"{day}/index.html"
            page = pages[key].replace("</main>", "<p>A late paper.</p></main>")
            writer.write_files(out, {key: page})
            index, wall, cpu = measured(lambda: search.build_index(out))
            assert index is not None and len(index.built) == 1, index.built
            bundle = json.loads(index.batches[1][f"pagefind/{index.built[0]}/{search.PAGES}"])
            print(
                f"{what + ':':36s} {wall:6.2f} s wall, {cpu:6.2f} s CPU ({load()}): "
                f"{index.built[0]}, {len(bundle['pages'])} pages"
            )
            put(out, index)
        start = time.process_time()
        index, wall, cpu = measured(lambda: search.build_index(out))
        own = time.process_time() - start
        assert index is not None and index.built == ()
        print(
            f"publish with no page changed:        {wall:6.2f} s wall, {own:6.3f} s CPU in "
            f"this process ({load()})"
        )
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
