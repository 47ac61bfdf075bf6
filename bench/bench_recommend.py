"""Personal digests: `digest recommend` start-up and ranking many profiles (issue 11).

* `digest recommend` for one profile (30 seed papers, a real arXiv day from
  ../shared/data/arxiv-daily) against `python -c "import sklearn.feature_extraction.text,
  jinja2, premailer, feedparser"`, medians of runs interleaved in the same run. Goal: at most
  1.5x. Two cases: the profile's model stored (every day after the first) and a first fit.
* `rank_profiles` (digest/personal/batch.py) for 1,000 and 10,000 distinct profiles on a
  400-paper day: profiles per second and the process's peak RSS after each (flat memory:
  profiles go in chunks).

    .venv/bin/python bench/bench_recommend.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "arxiv-daily"
DIGEST = Path(sys.executable).with_name("digest")
BASELINE = "import sklearn.feature_extraction.text, jinja2, premailer, feedparser"


def rows(name: str) -> list[dict]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: {proc.stderr[-500:]}")
    return time.perf_counter() - t0


def startup(runs: int) -> None:
    seeds = [r for r in rows("2025-04-01.jsonl.gz") if r["categories"][0] == "cs.CV"][:30]
    day_file = DATA / "2025-09-09.jsonl.gz"
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "seeds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in seeds))
        (t / "p.toml").write_text(f'name = "bench"\nseed_file = "{t / "seeds.jsonl"}"\n')

        def recommend(db: str) -> list[str]:
            (t / f"{db}.toml").write_text(
                f'output_dir = "{t / "out"}"\ndatabase = "{t / db}.sqlite"\n'
            )
            return [str(DIGEST), "recommend", "--config", str(t / f"{db}.toml"), "--profile",
                    str(t / "p.toml"), "--date", "2025-09-09", "--input", str(day_file),
                    "--format", "json"]  # fmt: skip

        wall(recommend("stored"))  # fits and stores the model
        base, stored, first = [], [], []
        for i in range(runs):  # interleaved, so that load on the machine hits all alike
            base.append(wall([sys.executable, "-c", BASELINE]))
            stored.append(wall(recommend("stored")))
            first.append(wall(recommend(f"fresh{i}")))
    b = statistics.median(base)
    print(f"import baseline ({BASELINE}): median {b:.2f} s of {runs}")
    for name, times in (("model stored", stored), ("first fit", first)):
        m = statistics.median(times)
        print(f"digest recommend, {name}: median {m:.2f} s = {m / b:.2f}x the baseline")


def many(sizes: list[int]) -> None:
    from digest.models import Paper
    from digest.personal.batch import rank_profiles
    from digest.personal.profile import Profile
    from digest.personal.rank import Day, fit_model

    def paper(r: dict) -> Paper:
        return Paper(r["id"], r["title"], r["summary"], tuple(r["authors"]), "",
                     tuple(r["categories"]))  # fmt: skip

    pool = [paper(r) for r in rows("2025-04-01.jsonl.gz") + rows("2025-04-02.jsonl.gz")]
    day = list({p.id: p for p in map(paper, rows("2025-09-03.jsonl.gz"))}.values())[:400]
    rng = random.Random(1)
    t0 = time.perf_counter()
    models = [fit_model(str(i), rng.sample(pool, 30), rng.sample(pool, 300)) for i in range(40)]
    fit_s = (time.perf_counter() - t0) / len(models)
    words = ["robot", "graph", "diffusion", "agent", "privacy", "quantum", "retrieval", "speech"]
    prepared = Day.of(day)
    print(f"fit one profile (30 seeds, 300 negatives): {fit_s * 1000:.0f} ms")
    for n in sizes:
        # distinct profiles: each its own keywords; models drawn from the fitted pool
        pairs = (
            (Profile(name=str(i), keywords=(words[i % 8], f"{words[(i // 8) % 8]} model")),
             models[i % len(models)])
            for i in range(n)
        )  # fmt: skip
        t0 = time.perf_counter()
        count = sum(1 for _ in rank_profiles(pairs, prepared, top=10))
        s = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"rank_profiles {count:6d} profiles x {len(day)} papers: {s:.2f} s, "
              f"{count / s:,.0f} profiles/s, peak RSS {rss:.0f} MB")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if not DATA.is_dir():
        print("skipped: ../shared/data/arxiv-daily is missing")
        return
    startup(3 if a.quick else 5)
    many([1000] if a.quick else [1000, 10000])


if __name__ == "__main__":
    main()
