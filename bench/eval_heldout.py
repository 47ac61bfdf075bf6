"""Theme quality on fresh labelled mixtures the themes stage was never built or tuned on.

``make eval`` scores three fixed mixtures (../shared/data/themes-dev); tuning on them alone
would overfit. This script draws new mixtures from the papers first listed on the days
``bench/build_background.py`` holds out (every third day), so the bundled background model
has never counted them, and leaves out the themes-dev papers: ``--set test``, the default.
Nothing was tuned on them: ``--set tune`` draws the same way from the other days (whose
papers the bundled model did count), and that is what methods were tuned on.

Two families of mixtures, ``--per-family`` each (default 8):

* **cs**: 8 primary computer-science categories, up to 40 papers each;
* **mixed**: 6 to 8 labels of which 3 or 4 are outside computer science (physics, math,
  q-bio, stat, econ, cond-mat, astro-ph, q-fin, quant-ph by archive; eess by category: images,
  audio and control are different subjects), the rest computer science. arXiv's daily lists
  are computer science, so the others are papers cross-listed there; such a paper's label is
  its first category outside cs, and only papers with no such category stand for cs ones.

Categories with fewer than 15 papers in the set are not drawn; the others give up to 40
papers (so some mixtures are unbalanced, as real days are). Each mixture runs through
``find_themes`` with an empty store, as ``make eval`` does, and the script prints V-measure,
ARI and the themes found against the true count; ``--dev`` also scores the themes-dev files
in-process; ``--write DIR`` writes a digest.json-shaped file per mixture (papers and themes) for
``../shared/tools/label_coverage.py``.

    .venv/bin/python bench/eval_heldout.py [--set test|tune] [--per-family 8]
        [--first-mixture 0] [--dev] [--kmeans-seeds 0 1 2] [--variants] [--write DIR]
"""

from __future__ import annotations

import argparse
import json
import re
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
MIN_CATEGORY = 15
BY_CATEGORY = ("eess",)  # archives whose categories are different subjects
VARIANTS = {
    "day alone": ThemesConfig(bundled_background=False),
    "bundled model": ThemesConfig(),
}
ARXIV_CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")

Mixture = list[tuple[Paper, str]]


def label_of(categories: list[str]) -> str | None:
    """The paper's label: its first arXiv category outside cs (by archive, except eess), else
    its primary cs category; None when it has no arXiv category (MSC or ACM codes only)."""
    valid = [c for c in categories if ARXIV_CATEGORY.match(c)]
    outside = [c for c in valid if not c.startswith("cs.")]
    if outside:
        archive = outside[0].split(".")[0]
        return outside[0] if archive in BY_CATEGORY else archive
    return valid[0] if valid else None


def held_out_pool(half: str) -> dict[str, list[Paper]]:
    """Held-out papers of one half of the held-out days by label, in id order."""
    exclude = dev_ids(SHARED / "themes-dev")
    pool: dict[str, list[Paper]] = defaultdict(list)
    for index, row in first_listings(SHARED / "arxiv-daily"):
        if is_held_out(index) != (half == "test") or row["id"] in exclude:
            continue
        label = label_of(row["categories"])
        if label is not None:
            paper = Paper(id=row["id"], title=row["title"], abstract=row["summary"])
            pool[label].append(paper)
    return {c: sorted(ps, key=lambda p: p.id) for c, ps in pool.items() if len(ps) >= MIN_CATEGORY}


def mixtures(
    pool: dict[str, list[Paper]], per_family: int, first: int = 0
) -> list[tuple[str, Mixture]]:
    """Mixtures number ``first`` to ``first + per_family - 1`` of each family: mixture i is
    drawn from its own generator, so ``first=8`` gives mixtures nobody looked at while the
    first 8 were used."""
    cs = sorted(c for c in pool if c.startswith("cs."))
    other = sorted(c for c in pool if not c.startswith("cs."))
    out = []
    for family in ("cs", "mixed"):
        for seed in range(first, first + per_family):
            rng = np.random.default_rng((1000 if family == "cs" else 2000) + seed)
            if family == "cs":
                cats = list(rng.choice(cs, size=min(8, len(cs)), replace=False))
            else:
                size = int(rng.integers(6, 9))
                n_other = min(len(other), int(rng.integers(3, 5)))
                cats = list(rng.choice(other, size=n_other, replace=False))
                cats += list(rng.choice(cs, size=size - n_other, replace=False))
            cats = sorted(cats)
            mix: Mixture = []
            for cat in cats:
                n = min(PER_CATEGORY, len(pool[cat]))
                for i in sorted(rng.choice(len(pool[cat]), size=n, replace=False)):
                    mix.append((pool[cat][i], cat))
            order = rng.permutation(len(mix))
            name = f"{family}{seed} ({' '.join(c.split('.')[-1] for c in cats)})"
            out.append((name, [mix[i] for i in order]))
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


def score(mix: Mixture, config: ThemesConfig) -> tuple[float, float, int, object]:
    papers = [p for p, _ in mix]
    result = find_themes(papers, config)
    truth = [label for _, label in mix]
    found = [result.assignment[p.id] for p in papers]
    return (
        float(v_measure_score(truth, found)),
        float(adjusted_rand_score(truth, found)),
        len(result.themes),
        result,
    )


def write_digest(path: Path, mix: Mixture, result: object) -> None:
    """The fields of digest.json that ../shared/tools/label_coverage.py reads."""
    papers = [{"id": p.id, "title": p.title, "abstract": p.abstract} for p, _ in mix]
    themes = [
        {"id": t.id, "label": t.label, "paper_ids": list(t.paper_ids)}
        for t in result.themes  # type: ignore[attr-defined]
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"papers": papers, "themes": themes}))


def report(
    title: str,
    sets: list[tuple[str, Mixture]],
    kmeans_seeds: list[int],
    variants: dict[str, ThemesConfig],
    write: Path | None,
) -> None:
    print(f"-- {title}: V-measure / ARI / themes found (true) per variant (seed {kmeans_seeds[0]})")
    for seed in kmeans_seeds:
        means: dict[str, list[float]] = defaultdict(list)
        ratios: dict[str, list[float]] = defaultdict(list)
        families: dict[tuple[str, str], list[float]] = defaultdict(list)
        t = time.perf_counter()
        for name, mix in sets:
            cells = []
            true_k = len({label for _, label in mix})
            for variant, config in variants.items():
                v, ari, k, result = score(mix, replace(config, seed=seed))
                means[variant].append(v)
                ratios[variant].append(k / true_k)
                families[(variant, re.sub(r"\d.*", "", name))].append(v)
                cells.append(f"{v:.3f} {ari:.3f} {k:2d} ({true_k})")
                if write is not None and seed == kmeans_seeds[0] and variant == "bundled model":
                    write_digest(write / f"{name.split()[0]}.json", mix, result)
            if seed == kmeans_seeds[0]:
                print(f"{name:44s} " + " | ".join(cells))
        for variant, vs in means.items():
            by_family = ", ".join(
                f"{fam} {statistics.mean(fs):.3f}"
                for (var, fam), fs in families.items()
                if var == variant
            )
            print(
                f"seed {seed} {variant}: mean V {statistics.mean(vs):.3f} ({by_family}); "
                f"themes / true count: mean {statistics.mean(ratios[variant]):.2f}, "
                f"min {min(ratios[variant]):.2f}, max {max(ratios[variant]):.2f}"
            )
        print(f"({time.perf_counter() - t:.1f} s)")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--set", choices=("test", "tune"), default="test", help="which half")
    ap.add_argument("--per-family", type=int, default=8, help="mixtures of each family")
    ap.add_argument(
        "--first-mixture",
        type=int,
        default=0,
        help="number of each family's first mixture (8: the 'fresh' mixtures of docs/themes.md)",
    )
    ap.add_argument("--dev", action="store_true", help="also score ../shared/data/themes-dev")
    ap.add_argument(
        "--kmeans-seeds", type=int, nargs="+", default=[0], help="themes.seed values to average"
    )
    ap.add_argument("--variants", action="store_true", help="also the day alone (no model)")
    ap.add_argument("--write", type=Path, help="write digest.json-shaped files here")
    args = ap.parse_args()
    if not (SHARED / "arxiv-daily").is_dir():
        print(f"skipped: {SHARED} is not beside the project")
        return 0
    variants = VARIANTS if args.variants else {"bundled model": VARIANTS["bundled model"]}
    sets = mixtures(held_out_pool(args.set), args.per_family, args.first_mixture)
    report(f"held-out mixtures, {args.set} days", sets, args.kmeans_seeds, variants, args.write)
    if args.dev:
        report("themes-dev (in-process)", dev_mixtures(), args.kmeans_seeds, variants, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
