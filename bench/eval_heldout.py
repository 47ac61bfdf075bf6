"""Theme quality on fresh labelled mixtures the themes stage was never built or tuned on.

``make eval`` scores three fixed mixtures (../shared/data/themes-dev); tuning on them alone
would overfit. This script draws new mixtures the same way (8 primary arXiv categories, 40
papers each, shuffled) from the papers first listed on the days ``bench/build_background.py``
holds out (every third day), so the bundled background model has never counted them, and
leaves out the themes-dev papers. Each seed draws its own 8 of the eligible categories (those
with at least 20 held-out papers; 11 of them), up to 40 papers of each (so some mixtures are
unbalanced, as real days are). It runs ``find_themes`` on each mixture with an empty
store, as ``make eval`` does, and prints V-measure and ARI for the day alone (no bundled model)
and with the bundled model; ``--dev`` also scores the themes-dev files in-process.

    .venv/bin/python bench/eval_heldout.py [--seeds 16] [--dev] [--kmeans-seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from build_background import SHARED, dev_ids, first_listings, is_held_out  # noqa: E402
from sklearn.metrics import adjusted_rand_score, v_measure_score  # noqa: E402

from digest.config import ThemesConfig  # noqa: E402
from digest.models import Paper  # noqa: E402
from digest.themes import find_themes  # noqa: E402

PER_CATEGORY = 40  # at most; the smaller categories give what they have
MIN_CATEGORY = 20  # the themes-dev papers took most of cs.HC, cs.IR, cs.SD and cs.CR
CATEGORIES = 8
VARIANTS = {
    "day alone": ThemesConfig(bundled_background=False),
    "bundled model": ThemesConfig(),
}

Mixture = list[tuple[Paper, str]]


def held_out_pool() -> dict[str, list[Paper]]:
    """Held-out papers by primary category (the first listed), in id order."""
    exclude = dev_ids(SHARED / "themes-dev")
    pool: dict[str, list[Paper]] = defaultdict(list)
    for index, row in first_listings(SHARED / "arxiv-daily"):
        if is_held_out(index) and row["id"] not in exclude and row["categories"]:
            paper = Paper(id=row["id"], title=row["title"], abstract=row["summary"])
            pool[row["categories"][0]].append(paper)
    return {c: sorted(ps, key=lambda p: p.id) for c, ps in pool.items()}


def mixtures(pool: dict[str, list[Paper]], seeds: int) -> list[tuple[str, Mixture]]:
    eligible = sorted(c for c, ps in pool.items() if len(ps) >= MIN_CATEGORY)
    out = []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        cats = sorted(rng.choice(eligible, size=min(CATEGORIES, len(eligible)), replace=False))
        mix: Mixture = []
        for cat in cats:
            size = min(PER_CATEGORY, len(pool[cat]))
            for i in sorted(rng.choice(len(pool[cat]), size=size, replace=False)):
                mix.append((pool[cat][i], cat))
        order = rng.permutation(len(mix))
        out.append(
            (f"heldout{seed} ({' '.join(c.split('.')[-1] for c in cats)})", [mix[i] for i in order])
        )
    return out


def dev_mixtures() -> list[tuple[str, Mixture]]:
    out = []
    for path in sorted((SHARED / "themes-dev").glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        mix = [
            (Paper(id=r["id"], title=r["title"], abstract=r["summary"]), r["label"]) for r in rows
        ]
        out.append((path.name, mix))
    return out


def score(mix: Mixture, config: ThemesConfig) -> tuple[float, float, int, float]:
    papers = [p for p, _ in mix]
    t = time.perf_counter()
    result = find_themes(papers, config)
    wall = time.perf_counter() - t
    truth = [label for _, label in mix]
    found = [result.assignment[p.id] for p in papers]
    return (
        float(v_measure_score(truth, found)),
        float(adjusted_rand_score(truth, found)),
        len(result.themes),
        wall,
    )


def report(title: str, sets: list[tuple[str, Mixture]], kmeans_seeds: list[int]) -> None:
    print(f"-- {title}: V-measure / ARI / themes per variant (k-means seed {kmeans_seeds[0]})")
    for seed in kmeans_seeds:
        means: dict[str, list[float]] = defaultdict(list)
        for name, mix in sets:
            cells = []
            for variant, config in VARIANTS.items():
                v, ari, k, _ = score(mix, replace(config, seed=seed))
                means[variant].append(v)
                cells.append(f"{v:.3f} {ari:.3f} {k:2d}")
            if seed == kmeans_seeds[0]:
                print(f"{name:44s} " + " | ".join(cells))
        print(
            f"mean V, k-means seed {seed}: "
            + ", ".join(f"{variant} {statistics.mean(vs):.3f}" for variant, vs in means.items())
        )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=16, help="held-out mixtures to draw")
    ap.add_argument("--dev", action="store_true", help="also score ../shared/data/themes-dev")
    ap.add_argument(
        "--kmeans-seeds", type=int, nargs="+", default=[0], help="themes.seed values to average"
    )
    args = ap.parse_args()
    if not (SHARED / "arxiv-daily").is_dir():
        print(f"skipped: {SHARED} is not beside the project")
        return 0
    print("variants: " + " | ".join(VARIANTS))
    report("held-out mixtures", mixtures(held_out_pool(), args.seeds), args.kmeans_seeds)
    if args.dev:
        report("themes-dev (in-process, empty store)", dev_mixtures(), args.kmeans_seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
