"""Personal digests end to end: one day of 400 papers, 1k and 10k subscribers with distinct
profiles, ranked (all profiles per batch in one sparse product), rendered (a For you section
each) and sent to a local aiosmtpd; messages/s and peak memory at both sizes.

The SMTP server (aiosmtpd, counting and discarding messages) runs in its own processes:
``BENCH_FORYOU_SERVERS`` of them (default 2) sharing one listening socket, because one
single-threaded aiosmtpd process is itself slower than the goal for messages of this size.
Each send is a fresh child process (``deliver`` with --resend semantics, a new round) over
``email.connections`` = ``BENCH_FORYOU_CONNECTIONS`` (default 4): first a cold send (every
model fitted and stored), then a warm one (the stored models reused: what a day looks like
when few profiles changed), whose rate is the figure. In the same run, the server's ceiling:
one personalized message of that day sent again and again by bare smtplib over as many
connections (no ranking, rendering or log). CPU per message of the sender (getrusage) and of
the server processes (/proc) say which side is the limit; on a shared 2-core machine the
wall-clock rate is that CPU divided by what the other jobs leave. Peak RSS of the send alone
comes from /proc (VmHWM reset before it). Profiles: two keywords and one category each,
distinct combinations; every tenth has three seed papers (a fitted LinearSVC). Goal:
>= 150 msgs/s, peak memory < 1 GB and flat from 1k to 10k.

    .venv/bin/python bench/bench_foryou.py
    BENCH_FORYOU_SIZES=1000 BENCH_FORYOU_CONNECTIONS=1 BENCH_FORYOU_SERVERS=1 \
        .venv/bin/python bench/bench_foryou.py
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import smtp_sink  # noqa: E402

SIZES = tuple(int(n) for n in os.environ.get("BENCH_FORYOU_SIZES", "1000,10000").split(","))
CONNECTIONS = int(os.environ.get("BENCH_FORYOU_CONNECTIONS", "4"))
SERVERS = int(os.environ.get("BENCH_FORYOU_SERVERS", "2"))
CEILING_MESSAGES = 1000
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
        f"connections = {CONNECTIONS}\n"
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
        cpu = _own_cpu_s()
        start = time.perf_counter()
        report = deliver.deliver(store, config, digest, config.output_path, resend=True)
        seconds = time.perf_counter() - start
        cpu = _own_cpu_s() - cpu
    print(
        json.dumps(
            {
                "sent": report.sent,
                "personalized": report.personalized,
                "seconds": seconds,
                "client_cpu_s": cpu,
                "rss_peak_kib": _rss_kib("VmHWM"),
            }
        )
    )


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ceiling(config_path: str) -> None:
    """The server's ceiling: one personalized message of the day (the shared email with a
    reader's stored For you section) sent CEILING_MESSAGES times by bare smtplib over
    CONNECTIONS connections in threads; nothing else is done per message."""
    import datetime as dt

    from digest.config import load_config
    from digest.deliver.foryou import render_section
    from digest.deliver.message import compile_mail
    from digest.deliver.tokens import Links
    from digest.store import Store

    config = load_config(config_path)
    day = dt.date.fromisoformat(DAY)
    with Store.open(config.database_path) as store:
        digest = store.digest_for(day)
        assert digest is not None
        reader = store.subscriber("reader000001@example.org")
        assert reader is not None
        items = store.for_you(reader.id, day)
    links = Links.from_config(config)
    folder = config.output_path / DAY  # the day's email as the pipeline wrote it
    text, html = ((folder / n).read_text("utf-8") for n in ("email.txt", "email.html"))
    template = compile_mail(config, digest, text, html)
    section = render_section(config, links, reader.email, day, items)
    assert section is not None
    data = template.render(
        reader.email,
        links.unsubscribe_url(reader.email),
        "<bench@digest.test>",
        links.preferences_url(reader.email),
        for_you=section[:2],
    )

    sent, seconds = smtp_sink.ceiling(
        config.smtp.host,
        config.smtp.port,
        config.email.from_addr,
        reader.email,
        data,
        CONNECTIONS,
        CEILING_MESSAGES,
    )
    print(json.dumps({"sent": sent, "seconds": seconds, "bytes": len(data)}))


def _send(config_path: Path, servers: list[int], mode: str = "--child") -> dict[str, Any] | None:
    before = smtp_sink.cpu_s(servers)
    proc = subprocess.run(
        [sys.executable, __file__, mode, str(config_path)],
        env={**os.environ, "DIGEST_SECRET": SECRET},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
        return None
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["server_cpu_s"] = smtp_sink.cpu_s(servers) - before
    return figures


def main() -> int:
    import smtp_sink

    from digest.models import Paper
    from digest.store import Store

    try:
        sink = smtp_sink.start(SERVERS)
    except RuntimeError as exc:
        print(f"bench_foryou: {exc}")
        return 1
    port, pids = sink.port, sink.pids
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
            cold = _send(config_path, pids)
            warm = _send(config_path, pids)
            ceiling = _send(config_path, pids, "--ceiling")
            if cold is None or warm is None or ceiling is None:
                return 1
            rows.append((size, cold, warm, ceiling))
    sink.stop()
    load = os.getloadavg()
    print(
        f"{PAPERS} papers; {CONNECTIONS} SMTP connections; {SERVERS} aiosmtpd processes; "
        f"message {rows[0][3]['bytes'] / 1024:.0f} KiB; load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores)"
    )
    print(
        f"{'subscribers':>11} {'cold s':>7} {'cold/s':>6} {'warm s':>7} {'warm/s':>6} "
        f"{'ceiling/s':>9} {'ratio':>5} {'sender ms':>9} {'server ms':>9} {'cold ms':>7} "
        f"{'For you':>7} {'RSS peak':>8}"
    )
    for size, cold, warm, ceiling in rows:
        rate = warm["sent"] / warm["seconds"]
        top = ceiling["sent"] / ceiling["seconds"]
        print(
            f"{size:>11} {cold['seconds']:>7.1f} {cold['sent'] / cold['seconds']:>6.0f} "
            f"{warm['seconds']:>7.1f} {rate:>6.0f} {top:>9.0f} {rate / top:>5.2f} "
            f"{1000 * warm['client_cpu_s'] / warm['sent']:>9.2f} "
            f"{1000 * warm['server_cpu_s'] / warm['sent']:>9.2f} "
            f"{1000 * cold['client_cpu_s'] / cold['sent']:>7.2f} {warm['personalized']:>7} "
            f"{max(cold['rss_peak_kib'], warm['rss_peak_kib']) / 1024:>6.0f}MB"
        )
    size, _cold, warm, ceiling = rows[-1]
    best = warm["sent"] / warm["seconds"]
    print(
        "ceiling: the same personalized message sent by bare smtplib over as many connections "
        "(the server's limit under this load); sender/server ms: CPU per message of the warm "
        "send; cold ms: the sender's CPU per message of the cold send (the models fitted); "
        "server ms per message of the ceiling run: "
        f"{1000 * ceiling['server_cpu_s'] / ceiling['sent']:.2f}"
    )
    print(f"goal >= {GOAL:.0f} msgs/s warm at {size}: {'met' if best >= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--ceiling":
        _ceiling(sys.argv[2])
    else:
        sys.exit(main())
