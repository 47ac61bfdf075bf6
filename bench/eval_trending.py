"""Trending batch against the source's own order, on the five seed copies of the trending page.

The four dated copies (../shared/seeds/000..003, "Mar 11" to "Mar 14") are produced in date
order into one store, then the undated one (004) as 2025-03-15, each with the CLI as a user
runs it (``digest run --input FOLDER --date D --output OUT``; the store is OUT's sibling
``var/``). For each day it prints, from the day's digest.json:

* Spearman: rank correlation between the batch's order and the papers' positions on the page
  (1.00 = the batch keeps the page's order);
* top 10 kept: how many of the page's first 10 papers are in the batch;
* largest theme: the share of the batch held by its most common theme, and the day's theme
  count, "Other papers" not counted (the diversity goal applies to days with 4 or more themes;
  the remainder counts as one theme in the share, though the batch treats it as none).

Goals (issue 14): Spearman >= 0.6, top 10 kept >= 9, largest theme <= 40% when the day has 4+
themes, on every day.

    .venv/bin/python bench/eval_trending.py [--digest .venv/bin/digest] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
MONTHS = {"Mar": 3}
UNDATED = "2025-03-15"


def seed_days() -> list[tuple[str, Path]]:
    """(date, file) of every seed copy, oldest first; the undated copy is UNDATED."""
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        found = re.search(r"^(Mar) (\d{1,2})$", path.read_text(encoding="utf-8"), re.M)
        date = f"2025-{MONTHS[found.group(1)]:02d}-{int(found.group(2)):02d}" if found else UNDATED
        out.append((date, path))
    return sorted(out)


def measure(digest: dict) -> dict:
    position = {p["id"]: p["position"] for p in digest["papers"]}
    batch = list(digest["trending"])
    theme_of = {p["id"]: p.get("theme") for p in digest["papers"]}
    rho = float(spearmanr(range(len(batch)), [position[i] for i in batch])[0])
    page_top = {pid for pid, at in position.items() if at < 10}
    largest = Counter(theme_of[i] for i in batch).most_common(1)[0][1] / len(batch)
    return {
        "date": digest["date"],
        "papers": len(digest["papers"]),
        "themes": sum(not t.get("remainder") for t in digest["themes"]),
        "spearman": rho,
        "top10_kept": len(page_top & set(batch)),
        "largest_theme_share": largest,
        "first_paper_rank": batch.index(min(position, key=position.__getitem__)) + 1
        if min(position, key=position.__getitem__) in batch
        else None,
    }


def run(digest_cmd: list[str], work: Path) -> list[dict]:
    if "/" in digest_cmd[0]:  # the runs start in ``work``: a relative path would break
        digest_cmd = [str(Path(digest_cmd[0]).resolve()), *digest_cmd[1:]]
    listings = work / "listings"
    listings.mkdir()
    days = seed_days()
    for date, path in days:
        shutil.copyfile(path, listings / f"{date}.txt")
    out = work / "out"
    results = []
    for date, _ in days:
        cmd = [*digest_cmd, "run", "--input", str(listings), "--date", date, "--output", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
        if proc.returncode != 0:
            raise SystemExit(f"{date}: `{' '.join(cmd)}` exited {proc.returncode}\n{proc.stderr}")
        results.append(measure(json.loads((out / date / "digest.json").read_text())))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--digest", default=str(ROOT / ".venv" / "bin" / "digest"))
    ap.add_argument("--keep", type=Path, help="produce into this folder and keep it")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = ap.parse_args()
    if not SEEDS.is_dir():
        print(f"skipped: {SEEDS} is not beside the project")
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        results = run(args.digest.split(), args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            results = run(args.digest.split(), Path(tmp))
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print("date        papers themes spearman top10_kept largest_theme first_paper_rank")
    for r in results:
        print(
            f"{r['date']}  {r['papers']:6d} {r['themes']:6d} {r['spearman']:8.2f} "
            f"{r['top10_kept']:10d} {r['largest_theme_share']:12.0%} {r['first_paper_rank']}"
        )
    diverse = [r["largest_theme_share"] for r in results if r["themes"] >= 4]
    print(
        f"trending: min Spearman {min(r['spearman'] for r in results):.2f} (goal >= 0.6), "
        f"min top-10 kept {min(r['top10_kept'] for r in results)}/10 (goal >= 9), "
        f"max largest theme {max(diverse, default=0):.0%} on days with 4+ themes (goal <= 40%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
