"""The HTTP client against a real server on 127.0.0.1: retries, backoff, limits, conditional GET."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_fixture_server import FakeClock, FixtureServer, Reply, serve
from hypothesis import given
from hypothesis import strategies as st

from digest.config import HttpConfig
from digest.sources.http import FetchError, HostLimiter, HttpClient, parse_retry_after
from digest.store.http_cache import HttpCacheEntry

BODY = b'[{"paper": {"id": "2609.04199", "title": "A title"}}]'
FAST = HttpConfig(
    timeout_s=0.5,
    total_timeout_s=5.0,
    retries=2,
    backoff_s=0.5,
    max_backoff_s=10.0,
    user_agent="digest-test/1.0 (+https://example.org/digest)",
    arxiv_min_interval_s=3.0,
    max_bytes=100_000,
)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with serve() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client(
    clock: FakeClock, config: HttpConfig = FAST, wall: float = 1_700_000_000.0
) -> HttpClient:
    return HttpClient(
        config,
        limiter=HostLimiter(clock, clock.sleep),
        sleep=clock.sleep,
        wall_clock=lambda: wall,
        rng=random.Random(7),
    )


def test_ok_reply_sends_user_agent_and_gzip_accept(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route(
        "/a", Reply(200, BODY, {"ETag": '"v1"', "Last-Modified": "Fri, 04 Sep 2026 08:00:00 GMT"})
    )
    r = client(clock).get(url)
    assert (r.status, r.body, r.attempts) == (200, BODY, 1)
    assert (r.etag, r.last_modified) == ('"v1"', "Fri, 04 Sep 2026 08:00:00 GMT")
    seen = server.hits("/a")[0].headers
    assert seen["User-Agent"] == FAST.user_agent
    assert "gzip" in seen["Accept-Encoding"]
    assert "If-None-Match" not in seen
    assert clock.sleeps == []


def test_gzip_body_is_decoded(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/gz", Reply(200, BODY * 50, gzip=True))
    assert client(clock).get(url).body == BODY * 50


def test_gzip_bomb_over_max_bytes_is_refused(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/bomb", Reply(200, b"\0" * 1_000_000, gzip=True))  # ~1 KB on the wire
    with pytest.raises(FetchError, match="max_bytes.*unzipped"):
        client(clock).get(url)


def test_429_waits_for_retry_after_seconds(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/r", Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200, BODY))
    r = client(clock).get(url)
    assert (r.body, r.attempts) == (BODY, 2)
    assert clock.sleeps == [7.0]


def test_retry_after_http_date_is_relative_to_the_wall_clock(
    server: FixtureServer, clock: FakeClock
) -> None:
    wall = 1_700_000_000.0
    when = email.utils.formatdate(wall + 4, usegmt=True)
    url = server.route("/d", Reply(503, b"", {"Retry-After": when}), Reply(200, BODY))
    assert client(clock, wall=wall).get(url).body == BODY
    assert clock.sleeps == [pytest.approx(4.0)]


def test_retry_after_is_capped_by_max_backoff(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/cap", Reply(429, b"", {"Retry-After": "86400"}), Reply(200, BODY))
    client(clock).get(url)
    assert clock.sleeps == [FAST.max_backoff_s]


def test_500_then_success_backs_off_with_jitter(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/flaky", Reply(500, b"oops"), Reply(200, BODY))
    r = client(clock).get(url)
    assert (r.body, r.attempts, len(server.hits("/flaky"))) == (BODY, 2, 2)
    [wait] = clock.sleeps
    assert FAST.backoff_s / 2 <= wait <= FAST.backoff_s


def test_backoff_doubles_and_is_capped(server: FixtureServer, clock: FakeClock) -> None:
    cfg = HttpConfig(timeout_s=0.5, retries=5, backoff_s=1.0, max_backoff_s=6.0)
    url = server.route("/down", Reply(502, b""))
    with pytest.raises(FetchError):
        client(clock, cfg).get(url)
    steps = [1.0, 2.0, 4.0, 6.0, 6.0]
    assert len(clock.sleeps) == 5
    for wait, step in zip(clock.sleeps, steps, strict=True):
        assert step / 2 <= wait <= step


def test_persistent_503_gives_one_clear_error(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/busy", Reply(503, b"maintenance"))
    with pytest.raises(FetchError) as err:
        client(clock).get(url)
    assert str(err.value) == f"GET {url}: HTTP 503 Service Unavailable (gave up after 3 attempts)"
    assert len(server.hits("/busy")) == FAST.retries + 1


def test_404_is_not_retried(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/gone", Reply(404, b"nope"))
    with pytest.raises(FetchError, match="HTTP 404 Not Found$"):
        client(clock).get(url)
    assert len(server.hits("/gone")) == 1
    assert clock.sleeps == []


def test_slow_reply_times_out_then_retries(server: FixtureServer, clock: FakeClock) -> None:
    cfg = HttpConfig(timeout_s=0.2, retries=1, backoff_s=0.0)
    url = server.route("/slow", Reply(200, BODY, delay=1.0), Reply(200, BODY))
    r = client(clock, cfg).get(url)
    assert (r.body, r.attempts) == (BODY, 2)


def test_slow_reply_every_time_is_an_error(server: FixtureServer, clock: FakeClock) -> None:
    cfg = HttpConfig(timeout_s=0.2, retries=1, backoff_s=0.0)
    url = server.route("/slower", Reply(200, BODY, delay=1.0))
    with pytest.raises(FetchError, match=r"no reply within 0.2 s \(gave up after 2 attempts\)"):
        client(clock, cfg).get(url)


def test_truncated_reply_is_retried(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/cut", Reply(200, BODY[:20], declared_length=len(BODY)), Reply(200, BODY))
    r = client(clock).get(url)
    assert (r.body, r.attempts) == (BODY, 2)


def test_always_truncated_reply_is_a_clear_error(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/cut2", Reply(200, BODY[:20], declared_length=len(BODY)))
    with pytest.raises(FetchError, match=rf"truncated reply \(20 of {len(BODY)} bytes\)"):
        client(clock).get(url)
    assert len(server.hits("/cut2")) == 3


def test_declared_length_over_max_bytes_is_refused_without_retry(
    server: FixtureServer, clock: FakeClock
) -> None:
    cfg = HttpConfig(timeout_s=0.5, max_bytes=10)
    url = server.route("/big", Reply(200, BODY))
    with pytest.raises(FetchError, match=r"over http.max_bytes \(10\)"):
        client(clock, cfg).get(url)
    assert len(server.hits("/big")) == 1


def test_connection_refused_is_an_error(clock: FakeClock) -> None:
    with serve() as s:
        url = s.url("/x")
    with pytest.raises(FetchError, match="cannot connect"):
        client(clock).get(url)
    assert len(clock.sleeps) == FAST.retries


def test_conditional_get_sends_validators_and_304_gives_the_cached_body(
    server: FixtureServer, clock: FakeClock
) -> None:
    url = server.route("/c", Reply(304, headers={"ETag": '"v1"'}))
    cached = HttpCacheEntry(url, BODY, '"v1"', "Fri, 04 Sep 2026 08:00:00 GMT")
    r = client(clock).get(url, cached=cached)
    assert r.from_cache and r.body == BODY and r.etag == '"v1"'
    seen = server.hits("/c")[0].headers
    assert seen["If-None-Match"] == '"v1"'
    assert seen["If-Modified-Since"] == "Fri, 04 Sep 2026 08:00:00 GMT"


def test_unprompted_304_is_an_error(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/n", Reply(304))
    with pytest.raises(FetchError, match="304 Not Modified"):
        client(clock).get(url)


def test_min_interval_spaces_requests_to_one_host(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/rss/cs.LG", Reply(200, BODY))
    c = client(clock)
    c.get(url, min_interval=3.0)
    c.get(url, min_interval=3.0)
    assert clock.sleeps == [3.0]
    c.get(url)  # 127.0.0.1 is not arXiv: no spacing by default
    assert clock.sleeps == [3.0]


def test_retries_to_arxiv_also_respect_the_min_interval(
    server: FixtureServer, clock: FakeClock
) -> None:
    cfg = HttpConfig(timeout_s=0.5, retries=1, backoff_s=1.0, arxiv_min_interval_s=3.0)
    url = server.route("/rss/cs.CL", Reply(500, b""), Reply(200, BODY))
    client(clock, cfg).get(url, min_interval=3.0)
    backoff, spacing = clock.sleeps
    assert 0.5 <= backoff <= 1.0
    assert backoff + spacing == pytest.approx(3.0)


def test_host_limiter_is_per_host() -> None:
    clock = FakeClock()
    limiter = HostLimiter(clock, clock.sleep)
    limiter.wait("export.arxiv.org", 3.0)
    clock.now += 1.0
    limiter.wait("huggingface.co", 3.0)
    limiter.wait("export.arxiv.org", 3.0)
    assert clock.sleeps == [2.0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    assert parse_retry_after(header, now) == expected


def test_fixture_files_are_copied(fixtures: Path) -> None:
    # the live-source tests serve these; they must not depend on ../shared
    names = sorted(p.name for p in (fixtures / "http").iterdir())
    assert any(n.startswith("hf_daily_papers_") for n in names)
    assert any(n.startswith("arxiv_rss2_") for n in names)
    assert any(n.startswith("arxiv_atom_") for n in names)


def test_server_hanging_up_is_retried_then_reported(
    server: FixtureServer, clock: FakeClock
) -> None:
    url = server.route("/hup", Reply(hang_up=True))
    with pytest.raises(FetchError, match="closed the connection without replying"):
        client(clock).get(url)
    assert len(server.hits("/hup")) == FAST.retries + 1


def test_reply_without_length_over_max_bytes_is_refused(
    server: FixtureServer, clock: FakeClock
) -> None:
    cfg = HttpConfig(timeout_s=0.5, max_bytes=1000)
    url = server.route("/stream", Reply(200, b"x" * 5000, declared_length=-1))
    with pytest.raises(FetchError, match=r"over http.max_bytes \(1000 bytes\)"):
        client(clock, cfg).get(url)


def test_reply_without_length_is_read_to_the_end(server: FixtureServer, clock: FakeClock) -> None:
    url = server.route("/close", Reply(200, BODY * 3, declared_length=-1))
    assert client(clock).get(url).body == BODY * 3


def test_trickling_reply_hits_the_total_deadline(server: FixtureServer, clock: FakeClock) -> None:
    # every byte arrives well within timeout_s; only the whole-reply deadline stops it
    cfg = HttpConfig(timeout_s=0.5, total_timeout_s=0.2, retries=0)
    url = server.route("/drip", Reply(200, b"x" * 40, trickle=0.02))
    with pytest.raises(FetchError, match=r"took longer than 0.2 s \(gave up after 1 attempt\)"):
        client(clock, cfg).get(url)


@given(seconds=st.integers(min_value=0, max_value=10**9))
def test_retry_after_seconds_roundtrip(seconds: int) -> None:
    assert parse_retry_after(str(seconds), 0.0) == float(seconds)


@given(
    now=st.integers(min_value=0, max_value=4_000_000_000),
    offset=st.integers(min_value=-(10**6), max_value=10**6),
)
def test_retry_after_dates_roundtrip(now: int, offset: int) -> None:
    header = email.utils.formatdate(now + offset, usegmt=True)
    assert parse_retry_after(header, float(now)) == max(0.0, float(offset))


@given(st.text(max_size=40))
def test_retry_after_never_raises_and_never_negative(header: str) -> None:
    value = parse_retry_after(header, 1_700_000_000.0)
    assert value is None or value >= 0.0
