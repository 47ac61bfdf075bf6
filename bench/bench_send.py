"""Send one digest to 1k, 5k and 10k subscribers through a local aiosmtpd; msgs/s and memory.

The SMTP server runs in its own processes (as a real one would): ``BENCH_SEND_SERVERS``
(default 2) aiosmtpd processes sharing one port (bench/smtp_sink.py), counting and
discarding messages, because one is itself near the goal. The send uses
``email.connections`` = ``BENCH_SEND_CONNECTIONS`` (default 4). Each send is a fresh child
process: msgs/s is the best of two timed runs, compared with the server's ceiling measured
just before (the same message sent with bare smtplib over as many connections; the ratio
is robust to machine load), the client's CPU per message comes from getrusage, the
server's from /proc, the peak RSS of the send alone from /proc (VmHWM reset before it),
and the Python heap peak from a third run under tracemalloc. Memory is flat when neither peak grows
with the list. The digest is rendered by the real pipeline from a synthetic
40-paper listing, so the email has its real size. Goal: >= 300 messages/s.
At the first size it also sends with DKIM signing on (the 2048-bit test key of
tests/fixtures/dkim/), best of two, to quote msgs/s with and without DKIM from one run.

    .venv/bin/python bench/bench_send.py
    BENCH_SEND_SIZES=2000,20000 .venv/bin/python bench/bench_send.py
    BENCH_SEND_CONNECTIONS=1 BENCH_SEND_SERVERS=1 .venv/bin/python bench/bench_send.py
"""

from __future__ import annotations

import contextlib
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

# BENCH_SEND_SIZES=1000,20000 tries other list sizes
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SEND_SIZES", "1000,5000,10000").split(","))
CONNECTIONS = int(os.environ.get("BENCH_SEND_CONNECTIONS", "4"))
SERVERS = int(os.environ.get("BENCH_SEND_SERVERS", "2"))
CEILING_MESSAGES = 3000  # at most, for the server's ceiling (fewer: the list's size)
DAY = "2025-06-02"
SECRET = "bench-secret-0123456789abcdef"
GOAL = 300.0
DKIM_KEY = ROOT / "tests" / "fixtures" / "dkim" / "test-2048.pem"


def _setup(root: Path, port: int) -> Path:
    import datetime as dt

    from digest import pipeline
    from digest.config import load_config

    config_path = root / "digest.toml"
    config_path.write_text(
        "\n".join(
            [
                'title = "Bench digest"',
                'site_url = "https://digest.test/"',
                f'output_dir = "{root / "output"}"',
                f'database = "{root / "var" / "digest.sqlite"}"',
                "[email]",
                'from_addr = "news@digest.test"',
                "rate_per_s = 1000000",
                f"connections = {CONNECTIONS}",
                "[smtp]",
                'host = "127.0.0.1"',
                f"port = {port}",
                'security = "none"',
            ]
        )
        + "\n"
    )
    words = [
        "graph",
        "neural",
        "network",
        "language",
        "model",
        "vision",
        "robot",
        "policy",
        "diffusion",
    ]
    listing = root / f"{DAY}.jsonl"
    with listing.open("w") as fh:
        for i in range(40):
            topic = " ".join(words[(i + k) % len(words)] for k in range(4))
            fh.write(
                json.dumps(
                    {
                        "id": f"2506.{i + 1:05d}v1",
                        "title": f"Scaling {topic} for task {i}",
                        "summary": (f"We study {topic}. " * 12).strip(),
                        "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper"],
                        "categories": ["cs.LG"],
                    }
                )
                + "\n"
            )
    config = load_config(config_path)
    pipeline.run(config, dt.date.fromisoformat(DAY), [listing])
    # the same project with DKIM signing on (key from DIGEST_DKIM_KEY, set by _send_once)
    signed = config_path.read_text().replace(
        "[email]\n", '[email]\ndkim_selector = "bench"\ndkim_domain = "digest.test"\n'
    )
    (root / "digest-dkim.toml").write_text(signed)
    return config_path


def _rss_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) from /proc, in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _reset_peak_rss() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM, so the peak covers the send alone
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(size: int, config_path: str, trace: bool) -> None:
    """Send the digest once to the current list (a new round) and print figures as JSON.

    With ``trace``, tracemalloc measures the Python heap (and slows the send)."""
    import datetime as dt
    import tracemalloc

    from digest import deliver
    from digest.config import load_config
    from digest.store import Store

    config = load_config(config_path)
    with Store.open(config.database_path) as store:
        digest = store.digest_for(dt.date.fromisoformat(DAY))
        assert digest is not None
        rss_before = _rss_kib("VmRSS")
        _reset_peak_rss()
        if trace:
            tracemalloc.start()
        cpu_before = _cpu_s()
        start = time.perf_counter()
        report = deliver.deliver(store, config, digest, config.output_path, resend=True)
        seconds = time.perf_counter() - start
        cpu = _cpu_s() - cpu_before
        heap_peak = tracemalloc.get_traced_memory()[1] if trace else 0
        cache_pages = int(store.conn.execute("PRAGMA cache_size").fetchone()[0])
    figures = {
        "size": size,
        "sent": report.sent,
        "seconds": seconds,
        "client_cpu_s": cpu,
        "rss_before_kib": rss_before,
        "rss_peak_kib": _rss_kib("VmHWM"),
        "email_html_bytes": (config.output_path / DAY / "email.html").stat().st_size,
        "heap_peak_bytes": heap_peak,
        "sqlite_cache_size": cache_pages,
    }
    print(json.dumps(figures))


def _baseline(config_path: str, count: int = 1000) -> None:
    """The server's ceiling for this message: one pre-built message sent ``count`` times with
    bare smtplib.sendmail over CONNECTIONS connections (no store, no per-subscriber work)."""
    import datetime as dt

    from digest.config import load_config
    from digest.deliver.message import compile_mail
    from digest.deliver.send import rendered_bodies
    from digest.store import Store

    config = load_config(config_path)
    with Store.open(config.database_path) as store:
        digest = store.digest_for(dt.date.fromisoformat(DAY))
        assert digest is not None
        bodies = rendered_bodies(store, config, digest, config.output_path)
    template = compile_mail(config, digest, *bodies)
    data = template.render("reader@example.org", "https://digest.test/unsubscribe?token=x", "<b@x>")
    sent, seconds = smtp_sink.ceiling(
        config.smtp.host,
        config.smtp.port,
        config.email.from_addr,
        "reader@example.org",
        data,
        CONNECTIONS,
        count,
    )
    print(json.dumps({"sent": sent, "seconds": seconds}))


def _send_once(
    size: int, config_path: Path, sink: smtp_sink.Sink, mode: str
) -> dict[str, Any] | None:
    before, server_cpu = sink.count.value, sink.cpu_s()
    if mode == "dkim":
        mode, config_path = "child", config_path.with_name("digest-dkim.toml")
    proc = subprocess.run(
        [sys.executable, __file__, f"--{mode}", str(size), str(config_path)],
        env={**os.environ, "DIGEST_SECRET": SECRET, "DIGEST_DKIM_KEY": DKIM_KEY.read_text()},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stderr)
        return None
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["server_received"] = sink.count.value - before
    figures["server_cpu_s"] = sink.cpu_s() - server_cpu
    return figures


def main() -> int:
    from digest.store import Store

    try:
        sink = smtp_sink.start(SERVERS)
    except RuntimeError as exc:
        print(f"bench_send: {exc}")
        return 1
    port = sink.port
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config_path = _setup(root, port)
        have = 0
        dkim: dict[str, Any] | None = None
        for size in SIZES:
            with Store.open(root / "var" / "digest.sqlite") as store:
                store.import_subscribers(
                    (f"reader{i:06d}@example.org", "confirmed") for i in range(have, size)
                )
            have = size
            # best of two timed runs (other work on a shared machine only ever slows one
            # down), then one under tracemalloc for the heap
            modes = ("baseline", "child", "child", "trace")
            if size == SIZES[0]:  # with DKIM too, interleaved so load changes hit both alike
                modes = ("baseline", "child", "dkim", "child", "dkim", "trace")
            runs = [_send_once(size, config_path, sink, mode) for mode in modes]
            if any(r is None for r in runs):
                return 1
            if size == SIZES[0]:
                dkim = min((runs[2], runs[4]), key=lambda r: r["seconds"])  # type: ignore[index]
                runs = [runs[0], runs[1], runs[3], runs[5]]
            base, *timed_runs, traced = runs
            timed = min(timed_runs, key=lambda r: r["seconds"])  # type: ignore[index]
            assert timed is not None and traced is not None and base is not None
            timed["heap_peak_bytes"] = traced["heap_peak_bytes"]
            timed["baseline_rate"] = base["sent"] / base["seconds"]
            results.append(timed)
    sink.stop()

    load = os.getloadavg()
    print(
        f"{CONNECTIONS} SMTP connections; {SERVERS} aiosmtpd processes; load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores)"
    )
    print(f"email.html: {results[0]['email_html_bytes'] / 1024:.0f} KiB before encoding")
    print(
        f"{'subscribers':>11} {'seconds':>8} {'msgs/s':>7} {'server max':>10} {'ratio':>6} "
        f"{'client ms/msg':>13} {'server ms/msg':>13} {'py heap peak':>12} {'RSS before':>10} "
        f"{'RSS peak':>9}"
    )
    for r in results:
        rate = r["sent"] / r["seconds"]
        print(
            f"{r['size']:>11} {r['seconds']:>8.2f} {rate:>7.0f} {r['baseline_rate']:>10.0f} "
            f"{rate / r['baseline_rate']:>6.2f} {1000 * r['client_cpu_s'] / r['sent']:>13.2f} "
            f"{1000 * r['server_cpu_s'] / r['sent']:>13.2f} "
            f"{r['heap_peak_bytes'] / 2**20:>10.2f}MB "
            f"{r['rss_before_kib'] / 1024:>8.1f}MB {r['rss_peak_kib'] / 1024:>7.1f}MB"
        )
        if r["server_received"] != r["sent"] or r["sent"] != r["size"]:
            print(f"  mismatch: the server received {r['server_received']}")
    if dkim is not None:
        plain, signed = results[0], dkim
        rate, signed_rate = plain["sent"] / plain["seconds"], signed["sent"] / signed["seconds"]
        print(
            f"DKIM (2048-bit RSA, dkimpy) at {plain['size']}: {signed_rate:.0f} msgs/s signed vs "
            f"{rate:.0f} unsigned (ratio {signed_rate / rate:.2f}); client "
            f"{1000 * signed['client_cpu_s'] / signed['sent']:.2f} vs "
            f"{1000 * plain['client_cpu_s'] / plain['sent']:.2f} ms/msg; RSS peak "
            f"{signed['rss_peak_kib'] / 1024:.1f} vs {plain['rss_peak_kib'] / 1024:.1f} MB"
        )
    worst = min(r["sent"] / r["seconds"] for r in results)
    heap = [r["heap_peak_bytes"] / 2**20 for r in results]
    rss = (results[-1]["rss_peak_kib"] - results[0]["rss_peak_kib"]) / 1024
    verdict = "met" if worst >= GOAL else "NOT met"
    print(f"slowest size: {worst:.0f} msgs/s (goal >= {GOAL:.0f}: {verdict})")
    print(f"Python heap peak (tracemalloc, separate run): {heap[0]:.2f} -> {heap[-1]:.2f} MB")
    cache = results[0]["sqlite_cache_size"]
    cache_text = f"{-cache / 1024:.0f} MiB" if cache < 0 else f"{cache} pages"
    print(
        f"RSS peak {SIZES[-1]} vs {SIZES[0]}: {rss:+.1f} MB: SQLite's page cache filling, "
        f"bounded by cache_size ({cache_text})"
    )
    print(
        "server max: the same message sent with bare smtplib over as many connections just "
        "before (aiosmtpd's ceiling under the machine's current load); ratio: digest send / "
        "server max; ms/msg: CPU per message (client: getrusage; server: /proc)"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--baseline":
        _baseline(sys.argv[3], min(int(sys.argv[2]), CEILING_MESSAGES))
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] in ("--child", "--trace"):
        _child(int(sys.argv[2]), sys.argv[3], trace=sys.argv[1] == "--trace")
        sys.exit(0)
    sys.exit(main())
