"""Redirects against a real server on 127.0.0.1: followed only over http(s), to the same
host or to a host the source lists in ``allow_redirect_hosts``, at most MAX_REDIRECTS hops;
a refused one is recorded on the source's listing, never raised through the run.
"localhost" stands for another host: it reaches the same server under another name."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_fixture_server import FakeClock, FixtureServer, Reply, serve

from digest.config import HttpConfig, SourceConfig, load_config
from digest.errors import ConfigError
from digest.models import ERROR, OK
from digest.sources.http import MAX_REDIRECTS, FetchError, HostLimiter, HttpClient
from digest.sources.live import fetch_listing

FEED = (Path(__file__).resolve().parent / "fixtures" / "http").glob("arxiv_atom_*")
ATOM = next(FEED).read_bytes()
ATOM_DAY = dt.date(2025, 8, 20)
FAST = HttpConfig(timeout_s=2.0, retries=1, backoff_s=0.01, max_backoff_s=0.05)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with serve() as s:
        yield s


def client() -> HttpClient:
    clock = FakeClock()
    return HttpClient(
        FAST, limiter=HostLimiter(clock, clock.sleep), sleep=clock.sleep, rng=random.Random(1)
    )


def moved(location: str, code: int = 302) -> Reply:
    return Reply(code, b"moved", {"Location": location})


def elsewhere(server: FixtureServer, path: str) -> str:
    """The same server under another host name."""
    return server.url(path).replace("127.0.0.1", "localhost")


def test_a_redirect_on_the_same_host_is_followed(server: FixtureServer) -> None:
    server.route("/feed", Reply(200, b"the body"))
    url = server.route("/old", moved("/feed", 301))
    reply = client().get(url)
    assert (reply.status, reply.body, reply.url) == (200, b"the body", url)
    assert len(server.hits("/feed")) == 1


def test_a_redirect_to_another_host_is_refused_without_a_request(server: FixtureServer) -> None:
    server.route("/feed", Reply(200, b"the body"))
    target = elsewhere(server, "/feed")
    url = server.route("/old", moved(target))
    with pytest.raises(FetchError) as refused:
        client().get(url)
    assert str(refused.value) == (
        f'GET {url}: redirect to {target} refused (another host; list "localhost" in the '
        "source's allow_redirect_hosts to follow it)"
    )
    assert server.hits("/feed") == []
    assert len(server.hits("/old")) == 1  # a refusal is no failure worth a retry


def test_a_listed_host_is_followed(server: FixtureServer) -> None:
    server.route("/feed", Reply(200, b"the body"))
    url = server.route("/old", moved(elsewhere(server, "/feed"), 307))
    assert client().get(url, allow_redirect_hosts=("LocalHost",)).body == b"the body"


@pytest.mark.parametrize(
    "target", ["ftp://127.0.0.1/feed.xml", "file:///etc/passwd", "gopher://127.0.0.1/"]
)
def test_only_http_redirects_are_followed(server: FixtureServer, target: str) -> None:
    url = server.route("/old", moved(target))
    with pytest.raises(FetchError, match=r"refused \(only http\(s\) redirects are followed\)"):
        client().get(url, allow_redirect_hosts=("127.0.0.1",))


def test_hops_are_limited(server: FixtureServer) -> None:
    url = server.route("/loop", moved("/loop"))
    with pytest.raises(FetchError, match=f"more than {MAX_REDIRECTS} redirects"):
        client().get(url)
    assert len(server.hits("/loop")) == MAX_REDIRECTS + 1


def test_a_refused_redirect_is_recorded_on_the_source(server: FixtureServer) -> None:
    server.route("/atom", Reply(200, ATOM))
    target = elsewhere(server, "/atom")
    url = server.route("/feed", moved(target))
    source = SourceConfig(name="mirror", kind="feed", url=url)
    listing = fetch_listing(source, ATOM_DAY, client(), today=ATOM_DAY)
    assert listing.status == ERROR
    assert listing.error is not None and "refused (another host" in listing.error
    allowed = SourceConfig(name="mirror", kind="feed", url=url, allow_redirect_hosts=("localhost",))
    listing = fetch_listing(allowed, ATOM_DAY, client(), today=ATOM_DAY)
    assert listing.status == OK and len(listing.papers) == 7


def test_allow_redirect_hosts_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    base = '[[sources]]\nname = "a"\nkind = "feed"\nurl = "https://example.org/f.xml"\n'
    path.write_text(base + 'allow_redirect_hosts = ["export.arxiv.org", "localhost"]\n')
    assert load_config(path).sources[0].allow_redirect_hosts == ("export.arxiv.org", "localhost")
    path.write_text(base + 'allow_redirect_hosts = ["https://evil.example/"]\n')
    with pytest.raises(ConfigError, match=r"'sources\[0\].allow_redirect_hosts\[0\]' must be"):
        load_config(path)
