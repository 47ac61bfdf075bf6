"""The daily run's publish stage, in process: CPU seconds (``time.process_time``) of
``pipeline.publish_site`` (feeds, archive, topic pages and feeds, OPML; the search index
switched off: Pagefind is a child process, measured by bench_daily.py) and of
``pipeline.publish_topics`` alone, each run ``--runs`` times on a prepared folder.

The folder is one a ``digest run`` made, with its ``digest.toml`` (``output_dir``,
``database``) and the days stored, e.g. 35 days up to 2025-04-25 of
../shared/data/arxiv-daily, then 2025-04-26 (bench_daily.py --store-days 35's timed day).
A first call writes what differs; the timed ones find every file in place, as the run
after a day's run does. To compare two checkouts, run each one's Python on its own copy
of the same folder, alternated::

    .venv/bin/python bench/bench_publish.py FOLDER [--runs N]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from pathlib import Path

from digest import pipeline
from digest.config import load_config
from digest.store import Store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.chdir(args.folder)
    config = load_config("digest.toml")
    config = dataclasses.replace(config, render=dataclasses.replace(config.render, search=False))
    output = config.output_path
    site: list[float] = []
    topics: list[float] = []
    with Store.open(config.database_path) as store:
        pipeline.publish_site(store, config, output)
        for _ in range(args.runs):
            start = time.process_time()
            pipeline.publish_site(store, config, output)
            middle = time.process_time()
            pipeline.publish_topics(store, config, output)
            topics.append(time.process_time() - middle)
            site.append(middle - start)
    load = os.getloadavg()[0]
    print(
        f"publish_site {statistics.median(site):.3f} s CPU (min {min(site):.3f}), "
        f"publish_topics {statistics.median(topics):.3f} s (min {min(topics):.3f}), "
        f"medians of {args.runs}, load {load:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
