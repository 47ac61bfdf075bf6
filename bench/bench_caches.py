"""Each per-process cache of ``digest/context.py`` with and without, in one run (issue 12).

A cache stays only if it saves at least 10% of a user-facing figure. The caches act where
text is tokenized: the themes stage of every day (the day's papers and, as IDF
background, the previous 7 days' papers, up to 1,000) and, in the daily run, every
stage reading the same papers again. This replays consecutive real days of
``../shared/data/arxiv-daily`` through ``find_themes`` as the pipeline calls it (7 days of
background), in a fresh process per variant (all caches; all but one; none), alternated
twice, and prints CPU seconds per variant and what each cache saves. The themes stage is
most of the backfill's CPU (bench_backfill.py, "inside:" line), so a saving here is an
upper bound of its share of the backfill.

    .venv/bin/python bench/bench_caches.py [--days N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"

PROBE = """
import gzip, json, sys, time
sys.path.insert(0, sys.argv[1])
from digest.context import CONTEXT, NAMES
from digest.config import ThemesConfig
from digest.models import Paper
from digest.themes import find_themes
enabled = tuple(n for n in NAMES if n not in sys.argv[3].split(","))
files = json.loads(sys.argv[2])
days = []
for path in files:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    days.append([Paper(id=r["id"], title=r["title"] or "", abstract=r["summary"] or "") for r in rows])
CONTEXT.reset(enabled)
config = ThemesConfig()
start = time.process_time()
for i, day in enumerate(days):
    background = [p for d in days[max(0, i - 7) : i] for p in d]
    find_themes(day, config, background)
print(time.process_time() - start)
"""


def run(files: list[str], without: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT), json.dumps(files), without],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return float(out[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=40, help="consecutive days (default 40)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    sys.path.insert(0, str(ROOT))
    from digest.context import DOC_TOKENS, WORD_TOKENS

    files = sorted(str(p) for p in DATA.glob("*.jsonl.gz"))[: args.days]
    papers = 0
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            papers += sum(1 for line in fh if line.strip())
    names = (WORD_TOKENS, DOC_TOKENS)  # the caches the themes stage reads
    variants = ["", *names, ",".join(names)]
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(2):  # alternated: this shared machine's speed drifts
        for v in variants:
            cpu[v].append(run(files, v))
    base = statistics.mean(cpu[""])
    print(f"-- find_themes over {len(files)} days ({papers} papers), 7 days of background")
    for v in variants:
        label = "all caches" if not v else ("no cache" if "," in v else f"without {v}")
        secs = statistics.mean(cpu[v])
        saved = (secs - base) / secs if secs else 0.0
        runs = " / ".join(f"{s:.1f}" for s in cpu[v])
        print(f"{label:28s} {secs:6.1f} s CPU ({runs}); the cache(s) save {saved:5.1%} of it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
