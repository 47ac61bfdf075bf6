"""Every feed in three formats, from one item model: RSS 2.0, Atom 1.0 and JSON Feed 1.1.

A :class:`Feed` is built once (its channel and items: titles, links, ids, dates and the
HTML of each item) and :func:`feed_files` writes it out as ``NAME.xml`` (RSS, template
``feed.xml``), ``NAME.atom`` (Atom, template ``atom.xml``) and ``NAME.json`` (JSON Feed,
serialized from the same records), so the three formats always agree item for item and
date for date. :func:`opml` lists every feed for a one-step subscription. Any RSS feed the
site gains (a topic's, say) gets its siblings by being a ``Feed``: nothing here knows
which feeds exist.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from digest.config import Config
from digest.render.templating import render
from digest.render.text import rfc3339

RSS, ATOM, JSON_FEED = "rss", "atom", "json"
# format -> (file suffix, MIME type, name readers know it by)
FORMATS: dict[str, tuple[str, str, str]] = {
    RSS: (".xml", "application/rss+xml", "RSS"),
    ATOM: (".atom", "application/atom+xml", "Atom"),
    JSON_FEED: (".json", "application/feed+json", "JSON Feed"),
}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
OPML_NAME = "feeds.opml"
# Atom requires a feed-level <updated>; a feed with no items yet has no date of its own
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class FeedChannel:
    title: str
    link: str  # the web page the feed follows (absolute)
    description: str
    self_url: str  # the RSS file's absolute URL (NAME.xml); the siblings' URLs derive from it
    last_build: dt.datetime | None  # when the newest of its digests was made

    def url(self, fmt: str) -> str:
        """The absolute URL of this feed in format ``fmt``."""
        return self.self_url.removesuffix(".xml") + FORMATS[fmt][0]


@dataclass(frozen=True)
class FeedItem:
    title: str  # plain text (templates escape it)
    link: str
    guid: str  # stable and unique within the feed: a URL or a urn:
    published: dt.datetime  # timezone-aware
    description: str  # HTML


@dataclass(frozen=True)
class Feed:
    path: str  # the RSS file, relative to the output folder: "feed.xml", "topics/x/feed.xml"
    channel: FeedChannel
    items: tuple[FeedItem, ...]

    @property
    def updated(self) -> dt.datetime:
        """The feed's last change: its newest digest or its newest item, whichever is later
        (items are dated by their day's send time, which a digest may be made before)."""
        dates = [utc(i.published) for i in self.items]
        if self.channel.last_build is not None:
            dates.append(utc(self.channel.last_build))
        return max(dates, default=EPOCH)

    def path_of(self, fmt: str) -> str:
        return self.path.removesuffix(".xml") + FORMATS[fmt][0]


@dataclass(frozen=True)
class FeedLink:
    """One ``<link rel="alternate">`` of a page."""

    title: str
    type: str
    href: str
    format_name: str  # "RSS", "Atom", "JSON Feed"


def feed_links(title: str, rss_url: str) -> tuple[FeedLink, ...]:
    """The alternate links of the feed whose RSS file is at ``rss_url``, one per format."""
    base = rss_url.removesuffix(".xml")
    return tuple(
        FeedLink(f"{title} ({label})", mime, base + suffix, label)
        for suffix, mime, label in FORMATS.values()
    )


def feed_files(config: Config, feed: Feed) -> dict[str, str]:
    """``{relative path: text}`` of ``feed`` in every format."""
    return {
        feed.path_of(RSS): render(config, "feed.xml", channel=feed.channel, items=feed.items),
        feed.path_of(ATOM): render(
            config,
            "atom.xml",
            channel=feed.channel,
            items=feed.items,
            updated=feed.updated,
            self_url=feed.channel.url(ATOM),
        ),
        feed.path_of(JSON_FEED): json_feed(feed),
    }


def json_feed(feed: Feed) -> str:
    ch = feed.channel
    data = {
        "version": JSON_FEED_VERSION,
        "title": ch.title,
        "home_page_url": ch.link,
        "feed_url": ch.url(JSON_FEED),
        "description": ch.description,
        "language": "en",
        "authors": [{"name": ch.title, "url": ch.link}],
        "items": [
            {
                "id": item.guid,
                "url": item.link,
                "title": item.title,
                "content_html": item.description,
                "date_published": rfc3339(item.published),
            }
            for item in feed.items
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def opml(config: Config, title: str, channels: Sequence[FeedChannel]) -> str:
    """``feeds.opml``: one outline per feed, so a reader imports them all at once.

    Each feed is listed once, by its RSS URL (what every reader takes): listing the Atom
    and JSON siblings too would subscribe the reader to every item three times.
    """
    updated = max((utc(c.last_build) for c in channels if c.last_build), default=EPOCH)
    return render(config, "opml.xml", title=title, channels=channels, updated=updated)


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
