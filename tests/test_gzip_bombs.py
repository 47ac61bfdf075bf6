"""Gzip bombs: a small file or reply that unzips into gigabytes is refused as the bytes come
out, past ``max_listing_bytes``, with one line naming the file or URL, and the process
never holds more than a few hundred MB (peak RSS is a correctness limit here, not a speed
figure: bench/bench_hostile.py records the figures)."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_fixture_server import FixtureServer, Reply, serve

from digest.config import HttpConfig, SourceConfig
from digest.errors import InputError
from digest.formats import parse_bytes, read_listing
from digest.models import ERROR
from digest.sources.http import HttpClient
from digest.sources.live import fetch_listing

MAX_RSS_KB = 600 * 1024
# runs a command and prints the peak RSS (KB) of it: the wrapper's only child
PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stderr.write(done.stderr)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n"
)


@functools.cache
def _zero_member(unzipped: int) -> bytes:
    """One gzip member of ``unzipped`` zero bytes (~1/1000 of that), made in pieces."""
    zeros = bytes(1 << 20)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    member = bytearray()
    for _ in range(unzipped // len(zeros)):
        member += squeeze.compress(zeros)
    return bytes(member + squeeze.flush())


def zero_bomb(path: Path, member: int, members: int = 1) -> Path:
    """A gzip file of ``members`` copies of one member of ``member`` zero bytes, as
    ``cat a.gz a.gz ...`` makes: 20 x 256 MiB is a 5 MB file that unzips to 5 GiB."""
    with path.open("wb") as f:
        for _ in range(members):
            f.write(_zero_member(member))
    return path


def run_with_peak_rss(args: list[str], cwd: Path) -> tuple[int, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    rss, code = map(int, done.stdout.split())
    return rss, code, done.stderr


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f'output_dir = "{tmp_path / "out"}"\ndatabase = "{tmp_path / "d.sqlite"}"\n{extra}'
    )
    return path


@pytest.mark.slow
@pytest.mark.parametrize("members", [1, 20], ids=["256-MiB", "5-GiB"])
def test_ingest_refuses_a_gzip_bomb_early_in_bounded_memory(tmp_path: Path, members: int) -> None:
    bomb = zero_bomb(tmp_path / "2025-03-18.jsonl.gz", 256 * 2**20, members)
    assert bomb.stat().st_size < 6_000_000
    rss, code, err = run_with_peak_rss(
        ["ingest", "--config", str(config(tmp_path)), "--input", str(bomb)], tmp_path
    )
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(bomb) in lines[0]
    assert "over 64 MB once unzipped; the limit is max_listing_bytes in the config" in lines[0]
    assert rss < MAX_RSS_KB, f"peak RSS {rss} KB"


def test_the_limit_is_the_config_key(tmp_path: Path) -> None:
    bomb = zero_bomb(tmp_path / "2025-03-18.jsonl.gz", 256 * 2**20)
    rss, code, err = run_with_peak_rss(
        ["ingest", "--config", str(config(tmp_path, "max_listing_bytes = 1000000\n"))]
        + ["--input", str(bomb)],
        tmp_path,
    )
    assert code == 1 and "over 1 MB once unzipped; the limit is max_listing_bytes" in err, err
    bad = config(tmp_path, "max_listing_bytes = 0\n")
    _, code, err = run_with_peak_rss(["ingest", "--config", str(bad)], tmp_path)
    assert code == 2 and "'max_listing_bytes' must be greater than 0" in err, err


def test_a_plain_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "2025-03-18.jsonl"
    with big.open("wb") as f:
        f.truncate(3 * 2**30)  # sparse: 3 GB that take no disk
    with pytest.raises(
        InputError, match="2025-03-18.jsonl: over 64 MB; the limit is max_listing_bytes"
    ):
        read_listing(big)


def test_a_listing_at_the_limit_still_reads(tmp_path: Path) -> None:
    row = {"id": "2503.00001", "title": "A title", "summary": "An abstract. " * 120}
    line = (json.dumps(row) + "\n").encode()
    packed = gzip.compress(line * 1000)
    listing = parse_bytes(
        packed, name="x", day=dt.date(2025, 3, 18), source="s", limit=len(line) * 1000
    )
    assert len(listing.papers) == 1000
    with pytest.raises(InputError, match="over 1,999 bytes once unzipped"):
        parse_bytes(packed, name="x", day=dt.date(2025, 3, 18), source="s", limit=1999)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with serve() as s:
        yield s


def test_a_gzip_body_without_content_encoding_is_held_to_the_limit(
    server: FixtureServer,
) -> None:
    """The reply is under http.max_bytes on the wire, so only the listing's own gunzip can
    stop it; it used to inflate up to 1 GiB."""
    body = gzip.compress(bytes(200 * 2**20))  # ~200 KB
    url = server.route("/papers.json.gz", Reply(200, body, {"Content-Type": "application/gzip"}))
    source = SourceConfig(name="bomb", kind="feed", url=url)
    client = HttpClient(HttpConfig(timeout_s=5.0, retries=0, max_bytes=10_000_000))
    listing = fetch_listing(source, dt.date(2025, 3, 18), client, limit=50_000_000)
    assert listing.status == ERROR
    assert listing.error == (
        f"{url}: over 50 MB once unzipped; the limit is max_listing_bytes in the config"
    )


def _tiny_authors(rows: int) -> bytes:
    """JSON lines whose thousands of three-letter authors make ~15x their size in objects."""
    return b"".join(
        json.dumps({"id": f"2503.{n:05d}", "title": f"T{n}", "authors": ["abc"] * 2000}).encode()
        + b"\n"
        for n in range(rows)
    )


@pytest.mark.slow
def test_a_listing_of_millions_of_tiny_items_is_refused_before_parsing(tmp_path: Path) -> None:
    raw = _tiny_authors(300)  # 4.2 MB that would parse into ~40 MB of author strings
    day = dt.date(2025, 3, 18)
    with pytest.raises(InputError, match="too many small items to parse in bounded memory"):
        parse_bytes(raw, name="x", day=day, source="s", limit=5_000_000)
    honest = json.dumps({"id": "2503.00001", "title": "A title", "summary": "x" * 2000}) + "\n"
    assert parse_bytes(honest.encode() * 2000, name="x", day=day, source="s", limit=5_000_000)
    # through the CLI, at the default limit: 60 MB of them, refused in bounded memory
    path = tmp_path / "2025-03-18.jsonl"
    with path.open("wb") as f:
        for _ in range(14):
            f.write(_tiny_authors(300))
    rss, code, err = run_with_peak_rss(
        ["ingest", "--config", str(config(tmp_path)), "--input", str(path)], tmp_path
    )
    assert code == 1 and "too many small items" in err and str(path) in err, err
    assert rss < MAX_RSS_KB, f"peak RSS {rss} KB"
