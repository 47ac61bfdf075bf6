"""The archive search index: Pagefind over a year of day pages, as publishing runs it.

``--days`` day pages (default 228, the days of ../shared/data/arxiv-daily) of ``--papers``
papers each (default 200, an arXiv day; the fixture day grown as bench_site.py does) are
rendered and written with their emails (as a published site has them), then timed in one
run: ``digest.search.build_index`` (the pagefind binary, reading only the ``index.html``
pages, into a temporary folder, files read back) and the writer putting the bundle in
place, with the peak Python heap and the bundle's size; then, for comparison, the binary
with its default glob (every ``.html``, the emails too).

    .venv/bin/python bench/bench_search.py [--days N] [--papers N]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_site import FIXTURE, grown  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=228)
    parser.add_argument("--papers", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from digest import search, writer
    from digest.config import Config
    from digest.models import Digest
    from digest.render import render_day

    if search.pagefind_binary() is None:
        print("pagefind binary missing: pip install 'pagefind[bin]'")
        return 1
    base = Digest.from_json(grown(json.loads(FIXTURE.read_text("utf-8")), args.papers))
    first = base.date - dt.timedelta(days=args.days - 1)
    config = Config()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        out = Path(tmp)
        pages = {}
        for n in range(args.days):
            day = first + dt.timedelta(days=n)
            digest = dataclasses.replace(base, date=day)
            rendered = render_day(digest, config)
            pages[f"{day}/index.html"] = rendered.page_html
            pages[f"{day}/email.html"] = rendered.email_html
        writer.write_files(out, pages)
        html_mb = sum(len(p.encode()) for k, p in pages.items() if k.endswith("/index.html"))
        email_mb = sum(len(p.encode()) for k, p in pages.items() if k.endswith("/email.html"))
        tracemalloc.start()
        start = time.perf_counter()
        index = search.build_index(out)
        built = time.perf_counter() - start
        assert index is not None
        writer.write_files(out, index)
        writer.prune(out, search.FOLDER, keep=index)
        total = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        size_mb = sum(len(b) for b in index.values()) / 2**20
        start = time.perf_counter()
        binary = str(search.pagefind_binary())
        every = [binary, "--site", str(out), "--output-path", str(out / "every-html")]
        subprocess.run(every, capture_output=True, check=True)
        every_html = time.perf_counter() - start
    print(
        f"site:           {args.days} day pages of {len(base.papers)} papers "
        f"({html_mb / 2**20:.0f} MB of HTML, and {email_mb / 2**20:.0f} MB of emails)"
    )
    print(
        f"pagefind:       {built:6.2f} s to build the index ({len(index)} files, {size_mb:.1f} MB)"
    )
    print(f"with the write: {total:6.2f} s, peak Python heap {peak:.1f} MB (the bundle held once)")
    print(f"every .html:    {every_html:6.2f} s (pagefind's default glob: the emails parsed too)")
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
