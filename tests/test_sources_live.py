"""Live sources end to end against a real HTTP server on 127.0.0.1 serving the real fixtures."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from http_fixture_server import FakeClock, FixtureServer, Reply, serve

from digest import pipeline
from digest.config import HttpConfig, SourceConfig, load_config
from digest.models import EMPTY, ERROR, OK, STALE
from digest.sources import collect
from digest.sources.http import HostLimiter, HttpClient
from digest.sources.live import fetch_listing, source_url
from digest.store import Store

HTTP = Path(__file__).resolve().parent / "fixtures" / "http"
HF_DAY = dt.date(2026, 9, 4)
RSS_DAY = dt.date(2026, 9, 24)
ATOM_DAY = dt.date(2025, 8, 20)
CATS = ("cs.LG", "cs.AI", "cs.CL", "stat.ML")
FAST = HttpConfig(
    timeout_s=2.0, retries=1, backoff_s=0.01, max_backoff_s=0.05, arxiv_min_interval_s=0.01
)


def fixture(prefix: str) -> bytes:
    [path] = HTTP.glob(f"{prefix}*")
    return path.read_bytes()


HF_BODY = fixture("hf_daily_papers_")
RSS_BODY = fixture("arxiv_rss2_")
ATOM_BODY = fixture("arxiv_atom_")
EMPTY_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>
<description>cs.LG updates</description>
<pubDate>Sat, 26 Sep 2026 00:00:00 -0400</pubDate>
</channel></rss>
"""
UNDATED_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Lab blog</title><link>https://lab.example.org/</link>
<description>papers</description>
<item><title>Sparse attention, revisited</title><link>https://arxiv.org/abs/2609.01234</link>
<description>We revisit sparse attention.</description></item>
</channel></rss>
"""


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with serve() as s:
        yield s


def hf(server: FixtureServer, name: str = "hf") -> SourceConfig:
    return SourceConfig(name=name, kind="hf_daily", url=server.url("/api/daily_papers"))


def arxiv(server: FixtureServer, name: str = "arxiv", cats: tuple[str, ...] = CATS) -> SourceConfig:
    return SourceConfig(name=name, kind="arxiv_rss", url=server.url("/rss"), categories=cats)


def quick_client(clock: FakeClock | None = None) -> HttpClient:
    clock = clock or FakeClock()
    return HttpClient(
        FAST, limiter=HostLimiter(clock, clock.sleep), sleep=clock.sleep, rng=random.Random(1)
    )


def test_urls_of_each_kind() -> None:
    day = dt.date(2025, 3, 13)
    assert (
        source_url(SourceConfig("h", "hf_daily"), day)
        == "https://huggingface.co/api/daily_papers?date=2025-03-13&limit=100"
    )
    assert (
        source_url(SourceConfig("a", "arxiv_rss", categories=("cs.LG", "cs.CL")), day)
        == "https://rss.arxiv.org/rss/cs.LG+cs.CL"
    )
    atom = SourceConfig("a", "arxiv_rss", url="https://rss.arxiv.org/atom/", categories=("cs.AI",))
    assert source_url(atom, day) == "https://rss.arxiv.org/atom/cs.AI"
    keyed = SourceConfig("h", "hf_daily", url="http://mirror.example/api?token=x")
    assert source_url(keyed, day) == "http://mirror.example/api?token=x&date=2025-03-13&limit=100"


def test_daily_papers_by_date(server: FixtureServer) -> None:
    server.route("/api/daily_papers", Reply(200, HF_BODY, {"Content-Type": "application/json"}))
    listing = fetch_listing(hf(server), HF_DAY, quick_client())
    assert (listing.status, listing.source, listing.kind, listing.date) == (
        OK,
        "hf",
        "hf_daily",
        HF_DAY,
    )
    assert [p.id for p in listing.papers] == [
        json.loads(HF_BODY)[i]["paper"]["id"] for i in range(3)
    ]
    [seen] = server.hits("/api/daily_papers")
    assert "date=2026-09-04" in seen.query
    assert seen.headers["Accept"] == "application/json"


def test_arxiv_rss_for_categories_keeps_configured_announce_types(server: FixtureServer) -> None:
    server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", Reply(200, RSS_BODY))
    listing = fetch_listing(arxiv(server), RSS_DAY, quick_client())
    assert listing.status == OK and listing.kind == "arxiv_rss"
    assert [p.announce_type for p in listing.papers] == ["new", "new", "cross"]  # replace dropped
    only_new = SourceConfig("arxiv", "arxiv_rss", server.url("/rss"), CATS, announce_types=("new",))
    assert len(fetch_listing(only_new, RSS_DAY, quick_client()).papers) == 2


def test_any_atom_feed(server: FixtureServer) -> None:
    url = server.route("/atom/cs.AI", Reply(200, ATOM_BODY))
    source = SourceConfig("atom", "feed", url=url, announce_types=("new", "cross"))
    listing = fetch_listing(source, ATOM_DAY, quick_client())
    assert (listing.status, len(listing.papers), listing.kind) == (OK, 7, "feed")


def test_arxiv_feed_of_another_day_is_stale_not_relabelled(server: FixtureServer) -> None:
    server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", Reply(200, RSS_BODY))
    past = RSS_DAY - dt.timedelta(days=1)
    listing = fetch_listing(arxiv(server), past, quick_client())
    assert listing.status == STALE and listing.papers == () and not listing.ok
    assert listing.error is not None
    assert "dated 2026-09-24, not 2026-09-23" in listing.error
    assert "latest announcement" in listing.error


def test_empty_feed_is_empty_not_an_error(server: FixtureServer) -> None:
    server.route("/rss/cs.LG", Reply(200, EMPTY_RSS))
    saturday = dt.date(2026, 9, 26)
    listing = fetch_listing(arxiv(server, cats=("cs.LG",)), saturday, quick_client())
    assert (listing.status, listing.papers, listing.error) == (EMPTY, (), None)
    assert listing.ok


def test_empty_daily_papers_day_is_empty(server: FixtureServer) -> None:
    server.route("/api/daily_papers", Reply(200, b"[]"))
    listing = fetch_listing(hf(server), HF_DAY, quick_client())
    assert (listing.status, listing.papers) == (EMPTY, ())


def test_undated_feed_stands_for_today_only(server: FixtureServer) -> None:
    url = server.route("/blog.xml", Reply(200, UNDATED_FEED))
    source = SourceConfig("blog", "feed", url=url)
    today = dt.date(2026, 9, 24)
    assert fetch_listing(source, today, quick_client(), today=today).status == OK
    old = fetch_listing(source, dt.date(2026, 9, 1), quick_client(), today=today)
    assert old.status == STALE
    assert old.error is not None and "states no date" in old.error


def test_malformed_body_is_an_error_listing_and_is_not_cached(
    server: FixtureServer, tmp_path: Path
) -> None:
    server.route(
        "/api/daily_papers",
        Reply(200, HF_BODY[: len(HF_BODY) // 2], {"ETag": '"half"'}),
        Reply(200, HF_BODY, {"ETag": '"whole"'}),
    )
    with Store.open(tmp_path / "db.sqlite") as store:
        bad = fetch_listing(hf(server), HF_DAY, quick_client(), store)
        assert bad.status == ERROR and bad.papers == ()
        assert bad.error is not None and "\n" not in bad.error
        assert "daily_papers" in bad.error
        good = fetch_listing(hf(server), HF_DAY, quick_client(), store)
    assert good.status == OK and len(good.papers) == 3
    # the broken reply left no validators behind: the second request was unconditional
    assert "If-None-Match" not in server.hits("/api/daily_papers")[1].headers


def test_persistent_503_is_an_error_listing(server: FixtureServer) -> None:
    server.route("/api/daily_papers", Reply(503, b"down"))
    listing = fetch_listing(hf(server), HF_DAY, quick_client())
    assert listing.status == ERROR
    assert listing.error is not None
    assert listing.error.endswith("HTTP 503 Service Unavailable (gave up after 2 attempts)")
    assert len(server.hits("/api/daily_papers")) == 2


def test_truncated_then_whole_reply(server: FixtureServer) -> None:
    server.route(
        "/rss/cs.LG+cs.AI+cs.CL+stat.ML",
        Reply(200, RSS_BODY[:3000], declared_length=len(RSS_BODY)),
        Reply(200, RSS_BODY),
    )
    listing = fetch_listing(arxiv(server), RSS_DAY, quick_client())
    assert listing.status == OK and len(listing.papers) == 3


def etag_server(body: bytes, etag: str, last_modified: str) -> Callable[[dict[str, str]], Reply]:
    def reply(headers: dict[str, str]) -> Reply:
        fresh = {"ETag": etag, "Last-Modified": last_modified}
        if headers.get("If-None-Match") == etag:
            return Reply(304, headers=fresh)
        return Reply(200, body, fresh)

    return reply


def test_conditional_get_round_trip_keeps_the_body(server: FixtureServer, tmp_path: Path) -> None:
    lm = "Thu, 24 Sep 2026 08:58:05 GMT"
    server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", etag_server(RSS_BODY, '"rss-0924"', lm))
    with Store.open(tmp_path / "db.sqlite") as store:
        first = fetch_listing(arxiv(server), RSS_DAY, quick_client(), store)
    with Store.open(tmp_path / "db.sqlite") as store:  # a later run, a new process
        second = fetch_listing(arxiv(server), RSS_DAY, quick_client(), store)
    assert first.status == second.status == OK
    assert first.papers == second.papers and len(second.papers) == 3
    hits = server.hits("/rss/cs.LG+cs.AI+cs.CL+stat.ML")
    assert "If-None-Match" not in hits[0].headers
    assert hits[1].headers["If-None-Match"] == '"rss-0924"'
    assert hits[1].headers["If-Modified-Since"] == lm


def test_last_modified_alone_is_used(server: FixtureServer, tmp_path: Path) -> None:
    lm = "Fri, 04 Sep 2026 08:00:00 GMT"

    def reply(headers: dict[str, str]) -> Reply:
        if headers.get("If-Modified-Since") == lm:
            return Reply(304)
        return Reply(200, HF_BODY, {"Last-Modified": lm})

    server.route("/api/daily_papers", reply)
    with Store.open(tmp_path / "db.sqlite") as store:
        fetch_listing(hf(server), HF_DAY, quick_client(), store)
        again = fetch_listing(hf(server), HF_DAY, quick_client(), store)
    assert again.status == OK and len(again.papers) == 3
    assert "If-None-Match" not in server.hits("/api/daily_papers")[1].headers


def test_arxiv_requests_are_spaced_by_the_min_interval(server: FixtureServer) -> None:
    server.route("/rss/cs.LG", Reply(200, EMPTY_RSS))
    server.route("/rss/cs.CL", Reply(200, EMPTY_RSS))
    clock = FakeClock()
    client = HttpClient(
        HttpConfig(arxiv_min_interval_s=3.0),
        limiter=HostLimiter(clock, clock.sleep),
        sleep=clock.sleep,
    )
    day = dt.date(2026, 9, 26)
    fetch_listing(arxiv(server, "a", ("cs.LG",)), day, client)
    fetch_listing(arxiv(server, "b", ("cs.CL",)), day, client)
    fetch_listing(hf(server), day, client)  # not arXiv: no wait (the 404 is beside the point)
    assert clock.sleeps == [3.0]


def write_config(tmp_path: Path, server: FixtureServer) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""
output_dir = "{tmp_path / "out"}"
database = "{tmp_path / "state.sqlite"}"

[http]
timeout_s = 2.0
retries = 1
backoff_s = 0.01
max_backoff_s = 0.05
arxiv_min_interval_s = 0.01
user_agent = "digest-test/9.9 (+mailto:ops@example.org)"

[[sources]]
name = "daily-papers"
kind = "hf_daily"
url = "{server.url("/api/daily_papers")}"

[[sources]]
name = "arxiv"
kind = "arxiv_rss"
url = "{server.url("/rss")}"
categories = ["cs.LG", "cs.AI", "cs.CL", "stat.ML"]

[[sources]]
name = "lab-blog"
kind = "feed"
url = "{server.url("/blog.xml")}"
""",
        encoding="utf-8",
    )
    return path


def test_one_failing_source_does_not_stop_the_others(server: FixtureServer, tmp_path: Path) -> None:
    server.route("/api/daily_papers", Reply(200, HF_BODY, {"ETag": '"d"'}))
    server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", Reply(200, RSS_BODY))  # dated 09-24: stale
    server.route("/blog.xml", Reply(500, b"boom"))
    config = load_config(write_config(tmp_path, server))
    result = pipeline.run(config, HF_DAY, output=tmp_path / "out")
    data = json.loads((tmp_path / "out" / "2026-09-04" / "digest.json").read_text("utf-8"))
    sources = {s["name"]: s for s in data["sources"]}
    assert sources["daily-papers"] == {
        "name": "daily-papers",
        "kind": "hf_daily",
        "status": "ok",
        "papers": 3,
        "error": None,
    }
    assert (sources["arxiv"]["status"], sources["arxiv"]["papers"]) == ("stale", 0)
    assert "dated 2026-09-24, not 2026-09-04" in sources["arxiv"]["error"]
    assert (sources["lab-blog"]["status"], sources["lab-blog"]["papers"]) == ("error", 0)
    assert "HTTP 500" in sources["lab-blog"]["error"]
    assert len(data["papers"]) == 3
    assert result.exit_code == 0
    for seen in server.requests:
        assert seen.headers["User-Agent"] == "digest-test/9.9 (+mailto:ops@example.org)"
    with Store.open(tmp_path / "state.sqlite") as store:
        stored = {x["source"]: x["status"] for x in store.listings_for(HF_DAY)}
    assert stored == {"daily-papers": "ok"}  # the stale feed was not taken as 2026-09-04


def test_rerun_of_the_same_day_uses_the_cached_body(server: FixtureServer, tmp_path: Path) -> None:
    def reply(headers: dict[str, str]) -> Reply:
        if headers.get("If-None-Match") == '"d"':
            return Reply(304, headers={"ETag": '"d"'})
        return Reply(200, HF_BODY, {"ETag": '"d"'})

    server.route("/api/daily_papers", reply)
    server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", Reply(200, RSS_BODY))
    server.route("/blog.xml", Reply(200, UNDATED_FEED))
    config = load_config(write_config(tmp_path, server))
    config = config.with_overrides(sources=config.sources[:1])
    first = pipeline.run(config, HF_DAY, output=tmp_path / "out")
    second = pipeline.run(config, HF_DAY, output=tmp_path / "out")
    assert [x.papers for x in first.sources] == [x.papers for x in second.sources] == [3]
    assert server.hits("/api/daily_papers")[1].headers["If-None-Match"] == '"d"'
    assert len(second.digest.papers) == 3


def test_collect_dispatches_live_kinds(server: FixtureServer, tmp_path: Path) -> None:
    server.route("/api/daily_papers", Reply(200, HF_BODY))
    server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", Reply(200, RSS_BODY))
    config = load_config(write_config(tmp_path, server))
    config = config.with_overrides(sources=config.sources[:2])
    listings = collect(config, RSS_DAY, (), None)
    # the Daily Papers fixture's items are of 09-04: an API answering another day is stale too
    assert [(x.source, x.kind, x.status) for x in listings] == [
        ("daily-papers", "hf_daily", STALE),
        ("arxiv", "arxiv_rss", OK),
    ]
    assert "date=2026-09-24" in server.hits("/api/daily_papers")[0].query
    assert listings[0].error is not None
    assert (
        "dated 2026-09-04, not 2026-09-24 (the API answered for another day)" in listings[0].error
    )


def test_an_unexpected_failure_is_one_source_error(
    server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/api/daily_papers", Reply(200, HF_BODY))

    class BrokenCache:
        def http_cache_get(self, url: str) -> None:
            raise RuntimeError("disk on fire")

        def http_cache_put(self, entry: object) -> None:
            raise AssertionError("not reached")

    listing = fetch_listing(hf(server), HF_DAY, quick_client(), BrokenCache())  # type: ignore[arg-type]
    assert listing.status == ERROR
    assert listing.error is not None
    assert "unexpected RuntimeError: disk on fire" in listing.error


@pytest.mark.slow
def test_cli_run_of_a_past_day_reports_the_arxiv_feed_as_stale(
    server: FixtureServer, tmp_path: Path
) -> None:
    server.route("/api/daily_papers", Reply(200, HF_BODY))
    server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", Reply(200, RSS_BODY))
    server.route("/blog.xml", Reply(200, UNDATED_FEED))
    config = write_config(tmp_path, server)
    out = subprocess.run(
        [sys.executable, "-m", "digest", "run", "--config", str(config), "--date", "2026-09-04"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    warnings = [line for line in out.stderr.splitlines() if line.startswith("digest: warning:")]
    assert any("arxiv:" in w and "dated 2026-09-24, not 2026-09-04" in w for w in warnings)
    assert any("lab-blog:" in w and "states no date" in w for w in warnings)
    assert "daily-papers: ok, 3 papers" in out.stderr
