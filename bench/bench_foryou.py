"""Personal digests end to end: one day of 400 papers, 1k and 10k subscribers with distinct
profiles, ranked (all profiles per batch in one sparse product), rendered (a For you section
each) and sent to a local aiosmtpd; messages/s and peak memory at both sizes.

The SMTP server runs in its own process, counting and discarding messages. Each send is a
fresh child process (``deliver`` with --resend semantics, a new round): first a cold send
(every model fitted and stored), then a warm one (the stored models reused: what a day looks
like when few profiles changed), whose rate is the figure. Peak RSS of the send alone comes
from /proc (VmHWM reset before it). Profiles: two keywords and one category each, distinct
combinations; every tenth has three seed papers (a fitted LinearSVC). Goal: >= 150 msgs/s,
peak memory < 1 GB and flat from 1k to 10k.

    .venv/bin/python bench/bench_foryou.py
    BENCH_FORYOU_SIZES=1000 .venv/bin/python bench/bench_foryou.py
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# the counting SMTP server and the port picker are bench_send's
from bench_send import _free_port, _smtp_process  # noqa: E402

SIZES = tuple(int(n) for n in os.environ.get("BENCH_FORYOU_SIZES", "1000,10000").split(","))
DAY = "2025-06-02"
PAPERS = 400
SECRET = "bench-secret-0123456789abcdef"
GOAL = 150.0
WORDS = [
    "graph",
    "neural",
    "network",
    "language",
    "model",
    "vision",
    "robot",
    "policy",
    "diffusion",
    "auction",
    "mechanism",
    "spectrum",
    "protein",
    "molecule",
    "speech",
    "audio",
    "causal",
    "inference",
    "quantum",
    "circuit",
    "privacy",
    "federated",
    "reinforcement",
    "bandit",
    "kernel",
    "sparse",
    "tensor",
    "compiler",
    "retrieval",
    "ranking",
]
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.RO", "cs.GT", "stat.ML", "q-bio.BM", "quant-ph")


def _setup(root: Path, port: int) -> Path:
    import datetime as dt

    from digest import pipeline
    from digest.config import load_config

    config_path = root / "digest.toml"
    config_path.write_text(
        f'title = "Bench digest"\nsite_url = "https://digest.test/"\n'
        f'output_dir = "{root / "output"}"\ndatabase = "{root / "var" / "digest.sqlite"}"\n'
        '[email]\nfrom_addr = "news@digest.test"\nrate_per_s = 1000000\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    )
    listing = root / f"{DAY}.jsonl"
    with listing.open("w") as fh:
        for i in range(PAPERS):
            topic = " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(4))
            fh.write(
                json.dumps(
                    {
                        "id": f"2506.{i + 1:05d}v1",
                        "title": f"{topic.capitalize()} for task {i}",
                        "summary": f"We study {topic} in setting {i}. " * 6,
                        "authors": ["Ada Lovelace", "Alan Turing"],
                        "categories": [CATEGORIES[i % len(CATEGORIES)]],
                    }
                )
                + "\n"
            )
    pipeline.run(load_config(config_path), dt.date.fromisoformat(DAY), [listing])
    return config_path


def _profiles(start: int, stop: int) -> list[tuple[str, str, list[int]]]:
    """(email, profile TOML, seed paper indexes) with distinct keyword pairs and categories."""
    pairs = list(itertools.permutations(WORDS, 2))
    out = []
    for i in range(start, stop):
        a, b = pairs[i % len(pairs)]
        cat = CATEGORIES[(i // len(pairs)) % len(CATEGORIES)]
        email = f"reader{i:06d}@example.org"
        toml = f'name = "{email}"\nkeywords = ["{a}", "{b}", "w{i}"]\ncategories = ["{cat}"]\n'
        seeds = [(i * 13 + k * 101) % PAPERS for k in range(3)] if i % 10 == 0 else []
        out.append((email, toml, seeds))
    return out


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _child(config_path: str) -> None:
    import datetime as dt

    from digest import deliver
    from digest.config import load_config
    from digest.store import Store

    config = load_config(config_path)
    with Store.open(config.database_path) as store:
        digest = store.digest_for(dt.date.fromisoformat(DAY))
        assert digest is not None
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here on
        start = time.perf_counter()
        report = deliver.deliver(store, config, digest, config.output_path, resend=True)
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "sent": report.sent,
                "personalized": report.personalized,
                "seconds": seconds,
                "rss_peak_kib": _rss_kib("VmHWM"),
            }
        )
    )


def _send(config_path: Path) -> dict[str, Any] | None:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(config_path)],
        env={**os.environ, "DIGEST_SECRET": SECRET},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
        return None
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    from digest.models import Paper
    from digest.store import Store

    port = _free_port()
    ready = multiprocessing.Event()
    count = multiprocessing.Value("l", 0)
    server = multiprocessing.Process(target=_smtp_process, args=(port, ready, count), daemon=True)
    server.start()
    if not ready.wait(20):
        print("bench_foryou: the SMTP server did not start")
        return 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config_path = _setup(root, port)
        have = 0
        for size in SIZES:
            with Store.open(root / "var" / "digest.sqlite") as store:
                papers: list[Paper] = list(
                    store.papers_by_ids([f"2506.{i + 1:05d}" for i in range(PAPERS)]).values()
                )
                for email, toml, seeds in _profiles(have, size):
                    store.add_subscriber(email, "confirmed")
                    store.save_subscriber_profile(email, toml, [papers[j] for j in seeds])
            have = size
            cold, warm = _send(config_path), _send(config_path)
            if cold is None or warm is None:
                return 1
            rows.append((size, cold, warm))
    server.terminate()
    load = os.getloadavg()
    print(f"{PAPERS} papers; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    print(
        f"{'subscribers':>11} {'cold s':>7} {'cold msgs/s':>11} {'warm s':>7} "
        f"{'warm msgs/s':>11} {'For you':>7} {'RSS peak':>9}"
    )
    for size, cold, warm in rows:
        rate = warm["sent"] / warm["seconds"]
        print(
            f"{size:>11} {cold['seconds']:>7.1f} {cold['sent'] / cold['seconds']:>11.0f} "
            f"{warm['seconds']:>7.1f} {rate:>11.0f} {warm['personalized']:>7} "
            f"{max(cold['rss_peak_kib'], warm['rss_peak_kib']) / 1024:>7.0f}MB"
        )
    best = rows[-1][2]["sent"] / rows[-1][2]["seconds"]
    print(
        f"goal >= {GOAL:.0f} msgs/s warm at {rows[-1][0]}: {'met' if best >= GOAL else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        sys.exit(main())
