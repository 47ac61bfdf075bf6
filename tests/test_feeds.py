"""Every feed in every format: RSS 2.0, Atom 1.0, JSON Feed 1.1, and feeds.opml.

No network, so no W3C validator: each test checks the rules of the W3C Feed Validation
Service that apply to what we write (required elements, the self link, unique ids,
RFC 822 / RFC 3339 dates); feedparser reads every RSS and Atom feed without bozo, and the
JSON Feeds pass the JSON Feed 1.1 schema (tests/fixtures/jsonfeed, from SchemaStore).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import html.parser
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import feedparser
import jsonschema
import pytest
from conftest import FIXTURES
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7
from test_render import SITE, check_golden, fixture_digest, site_config, synthetic_digest
from test_render_site import days_of

from digest import pipeline
from digest.render import RenderedSite, render_day, render_site
from digest.store import Store

ATOM_NS = "http://www.w3.org/2005/Atom"
A = "{" + ATOM_NS + "}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
FEED_SUFFIXES = (".xml", ".atom", ".json")
FEED_TYPES = {
    ".xml": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
}


def site(count: int = 3) -> RenderedSite:
    return render_site(days_of(fixture_digest(), count), site_config())


def feed_paths(rendered: RenderedSite) -> list[str]:
    return [p for p in rendered.files if p.endswith(FEED_SUFFIXES) and p != "index.html"]


def json_feed_validator() -> jsonschema.protocols.Validator:
    folder = FIXTURES / "jsonfeed"
    v11 = json.loads((folder / "feed.json").read_text("utf-8"))
    v1 = json.loads((folder / "feed-1.json").read_text("utf-8"))
    registry = Registry().with_resources(
        [
            ("https://json.schemastore.org/feed.json", DRAFT7.create_resource(v11)),
            ("https://json.schemastore.org/feed-1", Resource.from_contents(v1, DRAFT4)),
        ]
    )
    cls = jsonschema.validators.validator_for(v11)
    return cls(v11, registry=registry, format_checker=cls.FORMAT_CHECKER)


# ------------------------------------------------------------------ what is written


def test_every_rss_feed_has_an_atom_and_a_json_sibling_and_the_opml() -> None:
    files = site().files
    for name in ("feed", "papers"):
        for suffix in FEED_SUFFIXES:
            assert f"{name}{suffix}" in files
    assert "feeds.opml" in files and "index.html" in files


def test_every_xml_feed_parses_without_bozo_in_its_own_format() -> None:
    """feedparser (6.0, the newest release) reads RSS and Atom; it has no JSON Feed
    parser, so the JSON Feeds are checked against their schema and the other formats."""
    rendered = site()
    versions = {".xml": "rss20", ".atom": "atom10"}
    checked = 0
    for path in feed_paths(rendered):
        if path.endswith(".json"):
            continue
        parsed = feedparser.parse(rendered.files[path])
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version == versions[Path(path).suffix], path
        assert parsed.entries, path
        checked += 1
    assert checked == 4


def _json_entries(text: str) -> list[tuple[str, str, str, tuple[int, ...]]]:
    items = json.loads(text)["items"]
    return [
        (
            i["id"],
            i["title"],
            i["url"],
            dt.datetime.fromisoformat(i["date_published"]).utctimetuple(),
        )
        for i in items
    ]


def test_the_three_formats_agree_item_for_item() -> None:
    rendered = site()
    for name in ("feed", "papers"):
        rss, atom = (feedparser.parse(rendered.files[name + s]) for s in (".xml", ".atom"))
        as_rss, as_atom = ([(e.id, e.title, e.link, tuple(e.published_parsed)) for e in p.entries]
                           for p in (rss, atom))  # fmt: skip
        as_json = [
            (i, t, u, tuple(d)) for i, t, u, d in _json_entries(rendered.files[name + ".json"])
        ]
        assert as_rss == as_atom == as_json, name
        # the same HTML, escaped once in XML and not at all in JSON
        html_json = [i["content_html"] for i in json.loads(rendered.files[name + ".json"])["items"]]
        rss_root = ET.fromstring(rendered.files[name + ".xml"].encode("utf-8"))
        atom_root = ET.fromstring(rendered.files[name + ".atom"].encode("utf-8"))
        assert [i.findtext("description") for i in rss_root.iter("item")] == html_json
        assert [e.findtext(f"{A}content") for e in atom_root.iter(f"{A}entry")] == html_json


def test_golden_atom_and_json_feeds() -> None:
    rendered = site()
    check_golden("feed.atom", rendered.files["feed.atom"])
    check_golden("feed.json", rendered.files["feed.json"])
    check_golden("feeds.opml", rendered.files["feeds.opml"])


# ------------------------------------------------------------------ Atom: validator rules


def assert_atom_rules(text: str, self_url: str, alternate: str) -> None:
    """The W3C Feed Validation Service's Atom 1.0 rules that apply to what we write."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert (root.findtext(f"{A}{tag}") or "").strip(), tag
    assert RFC3339.fullmatch(root.findtext(f"{A}updated") or "")
    assert _is_absolute_iri(root.findtext(f"{A}id") or "")
    links = {link.get("rel"): link for link in root.findall(f"{A}link")}
    assert links["self"].get("href") == self_url
    assert links["self"].get("type") == "application/atom+xml"
    assert links["alternate"].get("href") == alternate
    # a feed without a feed-level author needs one in every entry
    assert (root.findtext(f"{A}author/{A}name") or "").strip()
    entries = root.findall(f"{A}entry")
    assert entries
    ids = [e.findtext(f"{A}id") or "" for e in entries]
    assert len(ids) == len(set(ids)), "duplicate entry ids"
    for entry in entries:
        assert _is_absolute_iri(entry.findtext(f"{A}id") or "")
        assert (entry.findtext(f"{A}title") or "").strip()
        for tag in ("updated", "published"):
            assert RFC3339.fullmatch(entry.findtext(f"{A}{tag}") or ""), tag
        link = entry.find(f"{A}link")
        assert link is not None and link.get("rel") == "alternate"
        assert urlparse(link.get("href")).scheme in ("http", "https")
        content = entry.find(f"{A}content")
        assert content is not None and content.get("type") == "html"
        assert (content.text or "").strip()
        # the validator warns of relative links in content ("ContainsRelRef")
        hrefs = re.findall(r'href="([^"]*)"', content.text or "")
        assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)


def assert_rss_rules(text: str, self_url: str) -> None:
    """The W3C Feed Validation Service's RSS 2.0 rules that apply to what we write: the
    channel's required elements, an atom:link to itself, RFC 822 dates, unique guids
    (a guid is a permalink unless it says not), absolute links."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for tag in ("title", "link", "description"):
        assert (channel.findtext(tag) or "").strip(), tag
    assert urlparse(channel.findtext("link")).scheme in ("http", "https")
    self_link = channel.find(f"{A}link")
    assert self_link is not None and self_link.get("href") == self_url
    assert self_link.get("rel") == "self" and self_link.get("type") == "application/rss+xml"
    for tag in ("lastBuildDate", "pubDate"):
        if channel.find(tag) is not None:
            assert email.utils.parsedate_to_datetime(channel.findtext(tag) or "").tzinfo, tag
    items = channel.findall("item")
    guids = [item.findtext("guid") or "" for item in items]
    assert len(guids) == len(set(guids)), "duplicate guids"
    for item in items:
        assert (item.findtext("title") or item.findtext("description") or "").strip()
        assert urlparse(item.findtext("link")).scheme in ("http", "https")
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate") or "").tzinfo
        guid = item.find("guid")
        assert guid is not None and (guid.text or "").strip()
        if guid.get("isPermaLink", "true") == "true":
            assert urlparse(guid.text).scheme in ("http", "https"), guid.text
        hrefs = re.findall(r'href="([^"]*)"', item.findtext("description") or "")
        assert all(h.startswith(("https://", "http://")) for h in hrefs)


@pytest.mark.parametrize("name", ["feed", "papers"])
def test_atom_follows_the_feed_validator_rules(name: str) -> None:
    assert_atom_rules(site().files[f"{name}.atom"], f"{SITE}{name}.atom", SITE)


@pytest.mark.parametrize("name", ["feed", "papers"])
def test_rss_follows_the_feed_validator_rules(name: str) -> None:
    assert_rss_rules(site().files[f"{name}.xml"], f"{SITE}{name}.xml")


@pytest.mark.parametrize("name", ["feed", "papers"])
def test_rss_ids_are_unique_and_self_links_point_at_themselves(name: str) -> None:
    root = ET.fromstring(site().files[f"{name}.xml"].encode("utf-8"))
    channel = root.find("channel")
    assert channel is not None
    self_link = channel.find(f"{A}link")
    assert self_link is not None and self_link.get("href") == f"{SITE}{name}.xml"
    guids = [item.findtext("guid") for item in channel.findall("item")]
    assert guids and len(guids) == len(set(guids))


def test_an_empty_site_still_writes_valid_feeds() -> None:
    rendered = render_site([], site_config())
    validator = json_feed_validator()
    for path in feed_paths(rendered):
        if not path.endswith(".json"):
            parsed = feedparser.parse(rendered.files[path])
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    atom = ET.fromstring(rendered.files["feed.atom"].encode("utf-8"))
    assert RFC3339.fullmatch(atom.findtext(f"{A}updated") or "")
    validator.validate(json.loads(rendered.files["feed.json"]))


# ------------------------------------------------------------------ JSON Feed


def test_json_feeds_pass_the_json_feed_1_1_schema() -> None:
    rendered = render_site(days_of(fixture_digest(), 3) + [synthetic_digest(200)], site_config())
    validator = json_feed_validator()
    for name in ("feed", "papers"):
        data = json.loads(rendered.files[f"{name}.json"])
        errors = sorted(validator.iter_errors(data), key=str)
        assert not errors, errors[:3]
        assert data["version"] == "https://jsonfeed.org/version/1.1"
        assert data["feed_url"] == f"{SITE}{name}.json"
        ids = [item["id"] for item in data["items"]]
        assert ids and len(ids) == len(set(ids))
        for item in data["items"]:
            assert RFC3339.fullmatch(item["date_published"])


def test_the_schema_check_catches_a_broken_json_feed() -> None:
    """The schema really checks: an item without id, and a feed without title, fail it."""
    validator = json_feed_validator()
    data = json.loads(site().files["feed.json"])
    del data["items"][0]["id"]
    assert list(validator.iter_errors(data))
    data = json.loads(site().files["feed.json"])
    del data["title"]
    assert list(validator.iter_errors(data))


# ------------------------------------------------------------------ OPML and discovery


def test_opml_lists_every_feed_once() -> None:
    rendered = site()
    root = ET.fromstring(rendered.files["feeds.opml"].encode("utf-8"))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert (root.findtext("head/title") or "").strip()
    outlines = root.findall("body/outline")
    listed = [o.get("xmlUrl") for o in outlines]
    rss_files = [p for p in rendered.files if p.endswith(".xml")]
    assert sorted(listed) == sorted(SITE + p for p in rss_files)
    for o in outlines:
        assert o.get("type") == "rss" and o.get("text") and o.get("htmlUrl") == SITE


class _Alternates(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate":
            self.found.append((a.get("type") or "", a.get("href") or ""))


def _alternates(page: str) -> list[tuple[str, str]]:
    parser = _Alternates()
    parser.feed(page)
    return parser.found


def test_archive_and_day_pages_advertise_every_feed() -> None:
    rendered = site()
    expected = sorted((FEED_TYPES[Path(p).suffix], SITE + p) for p in feed_paths(rendered))
    assert sorted(_alternates(rendered.index_html)) == expected
    day_page = render_day(fixture_digest(), site_config()).page_html
    assert sorted(_alternates(day_page)) == expected
    assert f'href="{SITE}feeds.opml"' in rendered.index_html


def test_publish_writes_every_format_through_the_writer(tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = dataclasses.replace(site_config(), output_dir=str(out))
    with Store.open(tmp_path / "var" / "digest.sqlite") as store:
        for digest in days_of(fixture_digest(), 2):
            store.save_digest(digest)
            pipeline.publish(store, config, digest, out)
    for name in ("feed.xml", "feed.atom", "feed.json", "papers.xml", "papers.atom",
                 "papers.json", "feeds.opml"):  # fmt: skip
        assert (out / name).is_file(), name
        assert (out / name).stat().st_mode & 0o777 == 0o644  # the writer's mode
    assert not list(out.glob(".*.tmp"))
    newest = json.loads((out / "feed.json").read_text("utf-8"))["items"][0]
    assert newest["url"] == f"{SITE}2025-03-13/index.html"


def test_every_format_dates_an_item_by_its_day_at_the_send_time_in_utc() -> None:
    """The send time is 07:30 in Paris (UTC+1 in March): 06:30Z in RSS, Atom and JSON."""
    config = dataclasses.replace(
        site_config(),
        schedule=dataclasses.replace(site_config().schedule, timezone="Europe/Paris"),
    )
    digest = dataclasses.replace(
        fixture_digest(), generated_at=dt.datetime(2025, 3, 14, 1, 0, tzinfo=dt.UTC)
    )
    rendered = render_site([digest], config)
    item = json.loads(rendered.files["feed.json"])["items"][0]
    assert item["date_published"] == "2025-03-13T06:30:00Z"
    assert "<published>2025-03-13T06:30:00Z</published>" in rendered.files["feed.atom"]
    assert "<pubDate>Thu, 13 Mar 2025 06:30:00 GMT</pubDate>" in rendered.files["feed.xml"]
    # the feed changed when the digest was made, after its day's send time
    assert "<updated>2025-03-14T01:00:00Z</updated>" in rendered.files["feed.atom"]


def _is_absolute_iri(value: str) -> bool:
    parsed = urlparse(value)
    return bool(parsed.scheme) and (bool(parsed.netloc) or parsed.scheme == "urn")


# ------------------------------------------------------------------ topic and weekly feeds


def test_opml_lists_the_topic_feeds_and_every_feed_written_validates(tmp_path: Path) -> None:
    """With topics (issue 14): every feed the site writes, the topics' included, has its
    three formats, and they pass the same checks; feeds.opml lists the site's feeds and
    every active topic's, each pointing at a file that exists."""
    from test_topics import _run_days

    _run_days(tmp_path, 3)
    out = tmp_path / "out"
    rss = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xml"))
    topic_rss = [p for p in rss if p.startswith("topics/")]
    assert len(topic_rss) >= 3
    validator = json_feed_validator()
    for path in rss:
        base = out / path.removesuffix(".xml")
        for suffix in (".xml", ".atom"):
            parsed = feedparser.parse(base.with_suffix(suffix).read_bytes())
            assert not parsed.bozo, (path, suffix, parsed.get("bozo_exception"))
            assert parsed.entries, (path, suffix)
        url = "http://localhost:8080/" + path.removesuffix(".xml")  # Config's default site_url
        page = "http://localhost:8080/" + (
            path.removesuffix("feed.xml") + "index.html" if path.startswith("topics/") else ""
        )
        assert_rss_rules(base.with_suffix(".xml").read_text("utf-8"), url + ".xml")
        assert_atom_rules(base.with_suffix(".atom").read_text("utf-8"), url + ".atom", page)
        validator.validate(json.loads(base.with_suffix(".json").read_text("utf-8")))
    root = ET.fromstring((out / "feeds.opml").read_bytes())
    listed = [o.get("xmlUrl") or "" for o in root.findall("body/outline")]
    site_url = "http://localhost:8080/"  # Config's default site_url
    assert listed[:2] == [f"{site_url}feed.xml", f"{site_url}papers.xml"]
    assert sorted(listed[2:]) == sorted(site_url + p for p in topic_rss)
    assert len(listed) == len(set(listed))


def test_the_weekly_feed_joins_the_opml_at_the_next_publish(tmp_path: Path) -> None:
    from test_topics import _config, _run_days

    from digest import weekly

    digests = _run_days(tmp_path, 2)
    config = _config(tmp_path)
    out = config.output_path
    with Store.open(config.database_path) as store:
        week = weekly.week_of(digests[0].date)
        weekly.publish_week(store, config, weekly.build_week(store, config, week), out)
        pipeline.publish_site(store, config, out)
    listed = [
        o.get("xmlUrl") for o in ET.fromstring((out / "feeds.opml").read_bytes()).iter("outline")
    ]
    assert listed[2] == f"{config.site_url}weekly.xml"
    assert (out / "weekly.atom").is_file() and (out / "weekly.json").is_file()
    # the weekly feed in its three formats passes the same checks as every other feed
    for suffix in (".xml", ".atom"):
        parsed = feedparser.parse((out / f"weekly{suffix}").read_bytes())
        assert not parsed.bozo and parsed.entries, (suffix, parsed.get("bozo_exception"))
    base = f"{config.site_url}weekly"
    assert_rss_rules((out / "weekly.xml").read_text("utf-8"), base + ".xml")
    assert_atom_rules((out / "weekly.atom").read_text("utf-8"), base + ".atom", config.site_url)
    json_feed_validator().validate(json.loads((out / "weekly.json").read_text("utf-8")))
    # and feeds.opml reads back: every outline an RSS feed with a title and a page
    for outline in ET.fromstring((out / "feeds.opml").read_bytes()).iter("outline"):
        assert outline.get("type") == "rss" and outline.get("text")
        assert urlparse(outline.get("htmlUrl")).scheme in ("http", "https")
