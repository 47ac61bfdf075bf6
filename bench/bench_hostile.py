"""Peak memory of `digest ingest` on hostile and on big honest listings.

Each case runs `digest ingest` in a fresh child and reads the child's peak RSS from
getrusage(RUSAGE_CHILDREN) in a wrapper whose only child it is. The limit the product
promises is 600 MB whatever the input (`max_listing_bytes` caps what a listing may unzip
to). Cases: a 5 MB gzip of 5 GiB of zeros, a ~1 GB gzip (many members) that never gets
read whole, the real arXiv days joined into one JSONL just under the limit (plain and
gzipped), the same rows as one JSON array, and listings of millions of tiny items (refused
before parsing: they would take gigabytes of objects). Needs ../shared/data/arxiv-daily.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAYS = ROOT.parent / "shared" / "data" / "arxiv-daily"
LIMIT = 64_000_000
WRAP = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n"
    "sys.stderr.write(done.stderr[-300:])\n"
)


def zero_member(unzipped: int) -> bytes:
    zeros = bytes(1 << 20)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = bytearray()
    for _ in range(unzipped // len(zeros)):
        out += squeeze.compress(zeros)
    return bytes(out + squeeze.flush())


def rows_under(limit: int) -> list[bytes]:
    lines: list[bytes] = []
    size = 0
    for path in sorted(DAYS.glob("*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines(True):
            if size + len(line) > limit:
                return lines
            lines.append(line)
            size += len(line)
    return lines


def run(tmp: Path, name: str, listing: Path) -> None:
    config = tmp / "digest.toml"
    config.write_text(f'output_dir = "{tmp / "out"}"\ndatabase = "{tmp / name}.sqlite"\n')
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAP, sys.executable, "-m", "digest", "ingest"]
        + ["--config", str(config), "--input", str(listing), "--date", "2025-03-18"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    rss_kb, code = map(int, done.stdout.split())
    size = listing.stat().st_size
    message = done.stderr.strip().splitlines()[-1][:90] if done.stderr.strip() else ""
    print(
        f"{name:<28} {size / 1e6:9.1f} MB  peak RSS {rss_kb / 1024:6.0f} MB  "
        f"exit {code}  {seconds:5.1f} s  {message}",
        flush=True,
    )


def main() -> None:
    if not DAYS.is_dir():
        print(f"skipped: {DAYS} not found")
        return
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        member = zero_member(256 * 2**20)
        bomb = tmp / "bomb-5GiB.jsonl.gz"
        bomb.write_bytes(member * 20)
        run(tmp, "gzip bomb (5 GiB of zeros)", bomb)
        huge = tmp / "bomb-1GB.jsonl.gz"
        with huge.open("wb") as f:
            while f.tell() < 1_000_000_000:
                f.write(member)
        run(tmp, "gzip file of ~1 GB", huge)
        huge.unlink()
        lines = rows_under(LIMIT - 1000)
        plain = tmp / "under-limit.jsonl"
        plain.write_bytes(b"".join(lines))
        run(tmp, f"JSONL, {len(lines)} rows", plain)
        packed = tmp / "under-limit.jsonl.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes(), 6))
        run(tmp, "same, gzipped", packed)
        array = tmp / "under-limit.json"
        rows = [json.loads(line) for line in lines]
        text = json.dumps(rows)
        while len(text) > LIMIT - 1000:  # the array takes a few more bytes than the lines
            rows = rows[: len(rows) * 95 // 100]
            text = json.dumps(rows)
        array.write_text(text)
        run(tmp, f"JSON array, {len(rows)} rows", array)
        tiny = tmp / "tiny-authors.jsonl"
        with tiny.open("w") as f:  # millions of three-letter authors: ~15x in objects
            for n in range(4000):
                f.write(
                    json.dumps({"id": f"2503.{n:05d}", "title": f"T{n}", "authors": ["abc"] * 2000})
                    + "\n"
                )
        run(tmp, "JSONL of tiny authors", tiny)
        near = tmp / "tiny-authors-at-budget.jsonl"
        with near.open("w") as f:  # just under the estimate's budget: parsed, the worst peak
            for n in range(2200):
                f.write(
                    json.dumps({"id": f"2503.{n:05d}", "title": f"T{n}", "authors": ["abc"] * 2000})
                    + "\n"
                )
        run(tmp, "same, just under the budget", near)
        objects = tmp / "tiny-objects.json"
        objects.write_text("[" + ",".join(f'{{"title":"a{i}"}}' for i in range(3_000_000)) + "]")
        run(tmp, "JSON array of tiny objects", objects)


if __name__ == "__main__":
    main()
