"""Live-source path on a big arXiv RSS feed served from 127.0.0.1 (no internet).

Builds a feed of N items from the real fixture item, serves it plain and gzipped, and
times the real code path (``HttpClient`` + ``formats.parse_bytes`` + the store's
``http_cache``): a first fetch (200), then a conditional re-run (304 + cached body).
Prints MB/s, the 304/200 time ratio, and the client's peak memory per body byte
(tracemalloc), which should stay a small constant (chunks + join + gunzip).

    .venv/bin/python bench/bench_live_sources.py [--items 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import re
import sys
import tempfile
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import HttpConfig, SourceConfig  # noqa: E402
from digest.sources.http import HostLimiter, HttpClient  # noqa: E402
from digest.sources.live import fetch_listing  # noqa: E402
from digest.store import Store  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "http"
DAY = "2026-09-24"


def big_feed(items: int) -> bytes:
    [path] = FIXTURES.glob("arxiv_rss2_*.xml")
    text = path.read_text("utf-8")
    item = re.search(r"<item>.*?</item>", text, re.S)
    assert item is not None
    one = item.group(0)
    body = "".join(one.replace("2609.26811", f"2609.{i:05d}") for i in range(items))
    return (text[: item.start()] + body + text[text.rindex("</channel>") :]).encode("utf-8")


def serve(plain: bytes) -> ThreadingHTTPServer:
    zipped = gzip.compress(plain, 6)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
                return
            body = zipped if self.path.startswith("/gz/") else plain
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            if body is zipped:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    args = ap.parse_args()
    feed = big_feed(args.items)
    httpd = serve(feed)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    config = HttpConfig(arxiv_min_interval_s=0.001, max_bytes=200_000_000)
    client = HttpClient(config, limiter=HostLimiter())
    mb = len(feed) / 1e6
    print(
        f"feed: {args.items} items, {mb:.1f} MB ({len(gzip.compress(feed)) / 1e6:.1f} MB gzipped)"
    )

    for label, path in (("plain", "/plain/cs.LG"), ("gzip", "/gz/cs.LG")):
        start = time.perf_counter()
        body = client.get(base + path).body
        took = time.perf_counter() - start
        assert body == feed
        print(f"GET {label:5s}: {took * 1000:7.1f} ms  {mb / took:7.1f} MB/s")

    tracemalloc.start()
    client.get(base + "/gz/cs.LG")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"client peak memory (gzip GET): {peak / 1e6:.1f} MB = {peak / len(feed):.2f} x the body")

    source = SourceConfig("arxiv", "arxiv_rss", url=base + "/gz", categories=("cs.LG",))
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "s.sqlite") as store:
        day = dt.date.fromisoformat(DAY)
        start = time.perf_counter()
        first = fetch_listing(source, day, client, store)
        full = time.perf_counter() - start
        start = time.perf_counter()
        again = fetch_listing(source, day, client, store)
        revalidated = time.perf_counter() - start
    assert first.status == again.status == "ok" and first.papers == again.papers
    print(f"fetch+parse+cache, 200: {full * 1000:7.1f} ms ({len(first.papers)} papers kept)")
    print(
        f"re-run of the day, 304: {revalidated * 1000:7.1f} ms (ratio {revalidated / full:.2f}; "
        "no body on the wire, parsing the cached body dominates)"
    )
    print(f"peak RSS: {_peak_rss_mb():.0f} MB")
    httpd.shutdown()
    return 0


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
