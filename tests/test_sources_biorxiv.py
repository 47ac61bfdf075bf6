"""The ``biorxiv`` source kind against a real HTTP server on 127.0.0.1 serving real replies
of api.biorxiv.org (tests/fixtures/biorxiv, expected results beside them)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from http_fixture_server import FixtureServer, Reply, serve

from digest.cli import cli
from digest.config import load_config
from digest.errors import ConfigError
from digest.models import EMPTY, ERROR, OK
from digest.sources import collect

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "biorxiv"
DAY = dt.date(2026, 8, 1)
PAGE0 = (FIXTURES / "details_biorxiv_2026-08-01_cursor0.json").read_bytes()
PAGE1 = (FIXTURES / "details_biorxiv_2026-08-01_cursor1.json").read_bytes()
NO_POSTS = (FIXTURES / "details_no_posts_found.json").read_bytes()
EXPECTED = json.loads((FIXTURES / "details_biorxiv_2026-08-01.expected.json").read_text("utf-8"))
FIRST = "/details/biorxiv/2026-08-01/2026-08-01/0/json"
SECOND = "/details/biorxiv/2026-08-01/2026-08-01/1/json"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with serve() as s:
        yield s


def config_file(tmp_path: Path, server: FixtureServer, extra: str = "") -> Path:
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

[[sources]]
name = "biorxiv"
kind = "biorxiv"
url = "{server.base}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def fetch(tmp_path: Path, server: FixtureServer, extra: str = "") -> list:
    return collect(load_config(config_file(tmp_path, server, extra)), DAY)


def test_pages_are_followed_and_parsed_as_expected(server: FixtureServer, tmp_path: Path) -> None:
    server.route(FIRST, Reply(200, PAGE0, {"Content-Type": "application/json"}))
    server.route(SECOND, Reply(200, PAGE1, {"Content-Type": "application/json"}))
    [listing] = fetch(tmp_path, server)
    assert (listing.status, listing.kind, listing.date) == (OK, "biorxiv", DAY)
    got = [
        {
            "title": p.title,
            "authors": list(p.authors),
            "url": p.url,
            "categories": list(p.categories),
            "abstract_starts": p.abstract[: len(e["abstract_starts"])],
        }
        for p, e in zip(listing.papers, EXPECTED["papers"], strict=True)
    ]
    assert got == EXPECTED["papers"]
    assert [len(server.hits(FIRST)), len(server.hits(SECOND))] == [1, 1]
    assert server.hits(FIRST)[0].headers["Accept"] == "application/json"


def test_each_category_is_its_own_walk(server: FixtureServer, tmp_path: Path) -> None:
    one_page = PAGE0.replace(b'"total":"2"', b'"total":"1"').replace(
        b'"category":"all"', b'"category":"animal_behavior_and_cognition"'
    )
    server.route(FIRST, Reply(200, one_page))
    extra = 'server = "biorxiv"\ncategories = ["animal behavior and cognition", "zoology"]'
    [listing] = fetch(tmp_path, server, extra)
    queries = [seen.query for seen in server.hits(FIRST)]
    assert queries == ["category=animal_behavior_and_cognition", "category=zoology"]
    assert len(listing.papers) == 1  # the same preprint in both walks is kept once


def test_a_category_the_api_does_not_know_is_an_error(
    server: FixtureServer, tmp_path: Path
) -> None:
    # the real API answers an unknown category with every category ("category": "all")
    server.route(FIRST, Reply(200, PAGE0))
    [listing] = fetch(tmp_path, server, 'categories = ["quantum gravity"]')
    assert listing.status == ERROR
    assert 'does not know the category "quantum_gravity"' in (listing.error or "")


def test_a_day_without_preprints_is_empty(server: FixtureServer, tmp_path: Path) -> None:
    server.route(FIRST, Reply(200, NO_POSTS))
    [listing] = fetch(tmp_path, server)
    assert (listing.status, listing.papers) == (EMPTY, ())


def test_429_then_5xx_are_retried(server: FixtureServer, tmp_path: Path) -> None:
    server.route(
        FIRST,
        Reply(429, b"slow down", {"Retry-After": "0"}),
        Reply(200, PAGE0),
    )
    server.route(SECOND, Reply(503, b"busy"), Reply(200, PAGE1))
    [listing] = fetch(tmp_path, server)
    assert (listing.status, len(listing.papers)) == (OK, 2)
    assert [len(server.hits(FIRST)), len(server.hits(SECOND))] == [2, 2]


def test_a_failing_page_fails_the_source_and_says_which(
    server: FixtureServer, tmp_path: Path
) -> None:
    server.route(FIRST, Reply(200, PAGE0))
    server.route(SECOND, Reply(500, b"boom"))
    [listing] = fetch(tmp_path, server)
    assert listing.status == ERROR and listing.papers == ()
    assert "/1/json" in (listing.error or "") and "HTTP 500" in (listing.error or "")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (PAGE0[:-40], "truncated JSON"),
        (b'{"messages": [{"status": "ok",}]}', "malformed JSON at line 1"),
        (b"", "empty reply"),
        (b"[1, 2]", "not a bioRxiv API reply"),
        (b'{"messages":[{"status":"Server not recognized"}],"collection":[]}', "replied: Server"),
    ],
)
def test_a_bad_reply_is_one_line_naming_the_url(
    server: FixtureServer, tmp_path: Path, body: bytes, message: str
) -> None:
    server.route(FIRST, Reply(200, body))
    [listing] = fetch(tmp_path, server)
    assert listing.status == ERROR
    assert message in (listing.error or "")
    assert FIRST in (listing.error or "") and "\n" not in (listing.error or "")


def test_a_cursor_that_never_ends_is_cut_off(server: FixtureServer, tmp_path: Path) -> None:
    # a server that always says there is more (cursor 0 of 10**9, whatever was asked)
    endless = PAGE0.replace(b'"total":"2"', b'"total":"1000000000"')
    for cursor in range(0, 201):
        server.route(f"/details/biorxiv/2026-08-01/2026-08-01/{cursor}/json", Reply(200, endless))
    [listing] = fetch(tmp_path, server)
    assert listing.status == ERROR and "still more pages after 200" in (listing.error or "")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('server = "arxiv"', "'sources[0].server' must be one of biorxiv, medrxiv"),
        ('categories = ["neuro/science"]', "'sources[0].categories[0]' must be a subject"),
        ('path = "x"', "unknown key 'sources[0].path' for kind \"biorxiv\""),
        ("url = 3", "'sources[0].url' must be a string"),
    ],
)
def test_bad_keys_name_the_key_and_the_file(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[[sources]]\nname = "b"\nkind = "biorxiv"\n{extra}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


@pytest.mark.slow
def test_medrxiv_through_digest_run(server: FixtureServer, tmp_path: Path) -> None:
    medrxiv = PAGE0.replace(b"/content/early/", b"/content/early/").replace(
        b'"server":"bioRxiv"', b'"server":"medRxiv"'
    )
    server.route("/details/medrxiv/2026-08-01/2026-08-01/0/json", Reply(200, medrxiv))
    server.route("/details/medrxiv/2026-08-01/2026-08-01/1/json", Reply(200, PAGE1))
    path = config_file(tmp_path, server, 'server = "medrxiv"')
    result = CliRunner().invoke(cli, ["run", "--config", str(path), "--date", "2026-08-01"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "2026-08-01" / "digest.json").read_text("utf-8"))
    assert data["sources"] == [
        {"name": "biorxiv", "kind": "biorxiv", "status": "ok", "papers": 2, "error": None}
    ]
    urls = sorted(p["url"] for p in data["papers"])
    assert urls == [
        "https://www.biorxiv.org/content/10.1101/456574v1",
        "https://www.medrxiv.org/content/10.64898/2026.07.31.741992v1",
    ]
