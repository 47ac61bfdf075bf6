"""feed.xml, papers.xml and the archive index.html, and how publish writes them."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from test_render import SITE, check_golden, fixture_digest, scripts, site_config, synthetic_digest

from digest import pipeline
from digest.config import ScheduleConfig
from digest.models import Digest
from digest.render import render_site
from digest.store import Store

ATOM = "{http://www.w3.org/2005/Atom}"


def days_of(digest: Digest, count: int) -> list[Digest]:
    """``count`` consecutive digests ending on ``digest.date``, oldest first."""
    out = []
    for back in range(count - 1, -1, -1):
        day = digest.date - dt.timedelta(days=back)
        moment = dt.datetime.combine(day, dt.time(7, 30), dt.UTC)
        out.append(dataclasses.replace(digest, date=day, generated_at=moment))
    return out


def test_golden_site_outputs() -> None:
    site = render_site(days_of(fixture_digest(), 3), site_config())
    check_golden("feed.xml", site.feed_xml)
    check_golden("papers.xml", site.papers_xml)
    check_golden("index.html", site.index_html)


def test_feed_parses_without_bozo_and_has_the_rss_essentials() -> None:
    site = render_site(days_of(fixture_digest(), 3), site_config())
    parsed = feedparser.parse(site.feed_xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Trending papers"
    assert parsed.feed.link == SITE
    assert parsed.feed.description
    titles = [e.title for e in parsed.entries]
    # the catch-all "Other topics" theme is no label worth a title
    assert titles[0] == "Trending papers, 13 Mar 2025: transfer learning, μP, neural architectures"
    assert [e.link for e in parsed.entries] == [
        f"{SITE}2025-03-13/index.html",
        f"{SITE}2025-03-12/index.html",
        f"{SITE}2025-03-11/index.html",
    ]
    first = parsed.entries[0]
    assert first.guidislink is False
    assert first.id == f"{SITE}2025-03-13/index.html"
    assert first.published_parsed[:6] == (2025, 3, 13, 7, 30, 0)
    # the description is the digest as HTML, escaped once inside the XML
    assert '<a href="https://arxiv.org/abs/2503.07004">' in first.description
    assert "&lt;script&gt;" in first.description and "<script" not in first.description


def test_feed_xml_follows_the_feed_validator_rules() -> None:
    xml = render_site(days_of(fixture_digest(), 2), site_config()).feed_xml
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for name in ("title", "link", "description", "lastBuildDate"):
        assert (channel.findtext(name) or "").strip(), name
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.get("rel") == "self"
    assert self_link.get("href") == f"{SITE}feed.xml"
    assert self_link.get("type") == "application/rss+xml"
    email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate"))
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        date = email.utils.parsedate_to_datetime(item.findtext("pubDate") or "")
        assert date.tzinfo is not None
        assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
                            item.findtext("pubDate") or "")  # fmt: skip
        # no relative links in the description
        hrefs = re.findall(r'href="([^"]*)"', item.findtext("description") or "")
        assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)


def test_guids_are_stable_across_renders_and_feed_days_limits_items() -> None:
    digests = days_of(fixture_digest(), 5)
    config = site_config(feed_days=3)
    one = feedparser.parse(render_site(digests, config).feed_xml)
    later = [
        dataclasses.replace(d, generated_at=d.generated_at + dt.timedelta(hours=5)) for d in digests
    ]
    two = feedparser.parse(render_site(list(reversed(later)), config).feed_xml)
    assert len(one.entries) == 3
    assert [e.id for e in one.entries] == [e.id for e in two.entries]
    assert one.entries[0].link.endswith("2025-03-13/index.html")


def test_papers_feed_has_one_item_per_trending_paper() -> None:
    digests = days_of(fixture_digest(), 2)  # the same batch on two days
    parsed = feedparser.parse(render_site(digests, site_config()).papers_xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids)) == len(fixture_digest().trending)
    assert parsed.entries[0].title == "A Large-Scale Exploration of μ-Transfer"
    assert parsed.entries[0].link == "https://arxiv.org/abs/2503.07004"
    html_title = next(e for e in parsed.entries if "Bold" in e.title)
    assert html_title.title.startswith("<b>Bold</b> claims")  # text, as the title was written


def test_feed_items_are_dated_by_their_day_at_the_send_time_not_the_build_time() -> None:
    # a backfill builds a year at once: readers must show each day as its own, not as new today
    built = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)
    digests = [dataclasses.replace(d, generated_at=built) for d in days_of(fixture_digest(), 3)]
    config = dataclasses.replace(
        site_config(),
        schedule=ScheduleConfig(cron="45 6 * * 1-5", timezone="Europe/Berlin"),
    )
    site = render_site(digests, config)
    days = feedparser.parse(site.feed_xml)
    # 06:45 in Berlin, still on winter time in March: 05:45 UTC
    assert [e.published_parsed[:6] for e in days.entries] == [
        (2025, 3, 13, 5, 45, 0),
        (2025, 3, 12, 5, 45, 0),
        (2025, 3, 11, 5, 45, 0),
    ]
    papers = feedparser.parse(site.papers_xml)
    assert not papers.bozo, papers.get("bozo_exception")
    stamps = [calendar.timegm(e.published_parsed) for e in papers.entries]
    assert len(stamps) == len(fixture_digest().trending)
    # rank order in the dates: strictly decreasing, the top paper at the day's send time
    assert all(a > b for a, b in zip(stamps, stamps[1:], strict=False))
    assert stamps[0] == calendar.timegm((2025, 3, 13, 5, 45, 0))
    assert papers.entries[0].title == "A Large-Scale Exploration of μ-Transfer"


def test_archive_lists_days_newest_first_with_theme_labels() -> None:
    digests = days_of(fixture_digest(), 3)
    html = render_site(digests, site_config()).index_html
    dates = re.findall(r'href="https://digest.example.org/(\d{4}-\d\d-\d\d)/index.html"', html)
    assert dates == ["2025-03-13", "2025-03-12", "2025-03-11"]
    assert html.count("transfer learning, μP · neural architectures") == 3
    assert "Other topics" not in html  # the catch-all is not a label worth listing
    assert scripts(html) == ['<script src="search.js" defer></script>']  # the search loader


def test_an_empty_archive_renders() -> None:
    site = render_site([], site_config())
    assert "No digest yet" in site.index_html
    assert not feedparser.parse(site.feed_xml).bozo


def test_a_big_day_keeps_the_feed_item_to_the_trending_batch() -> None:
    site = render_site([synthetic_digest(1000)], site_config())
    item = feedparser.parse(site.feed_xml).entries[0]
    assert item.description.count("<li>") == 25
    assert len(site.feed_xml.encode()) < 60_000


def test_publish_writes_every_output_through_the_writer(tmp_path: Path) -> None:
    config = dataclasses.replace(site_config(), output_dir=str(tmp_path / "out"))
    out = tmp_path / "out"
    with Store.open(tmp_path / "var" / "digest.sqlite") as store:
        for digest in days_of(fixture_digest(), 2):
            store.save_digest(digest)
            pipeline.publish(store, config, digest, out)
    for name in ("email.html", "email.txt", "index.html", "digest.json"):
        assert (out / "2025-03-13" / name).is_file()
    for name in ("feed.xml", "papers.xml", "index.html"):
        assert (out / name).is_file()
    assert not list(out.rglob("*.tmp"))
    assert len(feedparser.parse((out / "feed.xml").read_bytes()).entries) == 2


def test_the_archive_lists_every_day_but_reads_only_the_digests_it_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = dataclasses.replace(site_config(feed_days=3), output_dir=str(tmp_path / "out"))
    out = tmp_path / "out"
    digests = days_of(fixture_digest(), 8)
    whole = render_site(digests, config)  # every digest in memory: the reference
    with Store.open(tmp_path / "var" / "digest.sqlite") as store:
        for digest in digests:
            store.save_digest(digest)
        pipeline.publish_site(store, config, out)  # makes and keeps the 8 archive entries
        assert (out / "index.html").read_text() == whole.index_html
        assert (out / "feed.xml").read_text() == render_site(digests[-3:], config).feed_xml

        read: list[dt.date] = []
        real_from_json = Digest.from_json

        def counting(data: dict) -> Digest:
            read.append(dt.date.fromisoformat(data["date"]))
            return real_from_json(data)

        monkeypatch.setattr(Digest, "from_json", staticmethod(counting))
        pipeline.publish_site(store, config, out)
        assert sorted(read) == [d.date for d in digests[-3:]]  # the feed's days only
        assert (out / "index.html").read_text() == whole.index_html

        # a day produced again gets a new entry; an entry of an older digest version too
        day = digests[1].date
        relabelled = dataclasses.replace(
            digests[1],
            themes=tuple(
                dataclasses.replace(t, label=f"Renamed {t.label}") for t in digests[1].themes
            ),
            generated_at=digests[1].generated_at + dt.timedelta(hours=1),
        )
        store.save_digest(relabelled)
        store.conn.execute(
            "UPDATE digests SET archive = json_set(archive, '$.version', 0, '$.total', 999) "
            "WHERE date = ?",
            (digests[2].date.isoformat(),),
        )
        read.clear()
        pipeline.publish_site(store, config, out)
        assert sorted(read) == sorted([day, digests[2].date, *(d.date for d in digests[-3:])])
        expected = render_site([*digests[:1], relabelled, *digests[2:]], config).index_html
        assert (out / "index.html").read_text() == expected
        assert "Renamed" in expected and "999 papers" not in expected
