"""Renders: digest -> email HTML, plain text, web page; digests -> RSS feeds and archive.

Entry points: :func:`render_day` (one day's ``email.html``, ``email.txt``,
``index.html`` and ``digest.md``) and :func:`render_site` (``feed.xml``, ``papers.xml`` and the
archive ``index.html``). Renderers return strings; only ``digest.writer``
writes them. Templates live in the top-level ``templates/`` folder (the
``digest.templates`` package); ``render.templates_dir`` overrides them file by file.

The email and its text part carry :data:`UNSUBSCRIBE_PLACEHOLDER` where each
subscriber's own unsubscribe URL goes (and :data:`PREFERENCES_PLACEHOLDER` for the
preferences link); delivery swaps it per recipient, so the
CSS is inlined once per digest, not once per subscriber.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from digest.calendar import send_time
from digest.config import Config
from digest.models import Digest
from digest.render.email import render_email
from digest.render.feeds import (
    OPML_NAME,
    Feed,
    FeedChannel,
    FeedItem,
    feed_files,
    opml,
    utc,
)
from digest.render.markdown import render_markdown
from digest.render.templating import PREFERENCES_PLACEHOLDER, RenderError, render
from digest.render.text import long_date
from digest.render.view import DayView, build_view, ranked, site_feed_links, site_link
from digest.topics.history import TopicLink

__all__ = [
    "OPML_NAME",
    "PREFERENCES_PLACEHOLDER",
    "UNSUBSCRIBE_PLACEHOLDER",
    "ArchiveEntry",
    "RenderError",
    "RenderedDay",
    "RenderedSite",
    "render_day",
    "render_site",
    "site_opml",
]

UNSUBSCRIBE_PLACEHOLDER = "%%UNSUBSCRIBE_URL%%"
PAPERS_FEED_MAX_ITEMS = 300  # papers.xml: newest trending papers first, capped


@dataclass(frozen=True)
class RenderedDay:
    email_html: str
    email_txt: str
    page_html: str
    shown: int = 0  # papers the email and text list (the size budget may leave some out)
    markdown: str = ""  # digest.md: every paper, for wikis and chats


@dataclass(frozen=True)
class RenderedSite:
    feed_xml: str
    index_html: str
    papers_xml: str = ""
    feeds: tuple[Feed, ...] = ()  # every feed of the site, for the other formats and the OPML
    files: Mapping[str, str] = field(default_factory=dict)  # {path: text}: all of the above


def render_day(
    digest: Digest, config: Config, topics: Mapping[str, TopicLink] | None = None
) -> RenderedDay:
    """The day's email (inlined, within the size budget), its plain text and its web page.
    ``topics``: topic id -> link, so each theme links to its topic's page
    (``digest.topics.links_of``; without it, no topic links)."""
    view = build_view(digest, config, topics=topics)
    email_html, shown = render_email(view, config, UNSUBSCRIBE_PLACEHOLDER)
    email_txt = render(config, "email.txt", day=shown, unsubscribe_url=UNSUBSCRIBE_PLACEHOLDER)
    page_html = render(config, "page.html", day=view, generated=_generated(digest))
    markdown = render_markdown(digest, config, view)
    return RenderedDay(email_html, email_txt, page_html, shown.shown, markdown)


ARCHIVE_ENTRY_VERSION = 1  # bump when what ArchiveEntry.of takes from a digest changes


@dataclass(frozen=True)
class ArchiveEntry:
    """What the archive page shows of one day. Small: the store keeps one per digest, so
    the archive of years of digests is rebuilt without reading every one of them."""

    date: dt.date
    total: int  # papers of the day
    themes: tuple[str, ...]  # every theme's label, in the digest's order
    labels: tuple[str, ...]  # the labels the archive lists (the remainder's only when alone)

    @classmethod
    def of(cls, digest: Digest, config: Config) -> ArchiveEntry:
        view = build_view(digest, config, keep=())
        themes = tuple(t.label for t in view.themes)
        return cls(digest.date, view.total, themes, tuple(view.labels))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": ARCHIVE_ENTRY_VERSION,
            "date": self.date.isoformat(),
            "total": self.total,
            "themes": list(self.themes),
            "labels": list(self.labels),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArchiveEntry | None:
        """The entry, or None when an older version of digest made it (make it again)."""
        if data.get("version") != ARCHIVE_ENTRY_VERSION:
            return None
        return cls(
            dt.date.fromisoformat(data["date"]),
            data["total"],
            tuple(data["themes"]),
            tuple(data["labels"]),
        )


@dataclass(frozen=True)
class _ArchiveDay:
    """One line of the archive page (the template's ``day``)."""

    date: dt.date
    date_label: str
    page_url: str
    total: int
    themes: tuple[str, ...]
    labels: tuple[str, ...]


def render_site(
    digests: Sequence[Digest], config: Config, archive: Sequence[ArchiveEntry] | None = None
) -> RenderedSite:
    """The archive and the feeds of ``digests`` (any order; shown newest first).

    ``archive``: the archive's days, when it lists more days than ``digests`` (which
    then only feed the feeds); default: the days of ``digests``.
    """
    # a day without papers is no archive card and no feed item (the store keeps it anyway)
    newest_first = sorted((d for d in digests if d.papers), key=lambda d: d.date, reverse=True)
    entries = [ArchiveEntry.of(d, config) for d in newest_first] if archive is None else archive
    days = [
        _ArchiveDay(
            date=e.date,
            date_label=long_date(e.date),
            page_url=site_link(config, f"{e.date.isoformat()}/index.html"),
            total=e.total,
            themes=e.themes,
            labels=e.labels,
        )
        for e in sorted(entries, key=lambda e: e.date, reverse=True)
        if e.total
    ]
    index_html = render(
        config,
        "archive.html",
        title=config.title,
        days=days,
        feed_url=site_link(config, "feed.xml"),
        feed_links=site_feed_links(config),
        opml_url=site_link(config, OPML_NAME),
        subscribe_url=site_link(config, "subscribe"),
    )
    recent = newest_first[: config.render.feed_days]
    last_build = max((utc(d.generated_at) for d in recent), default=None)
    day_items: list[FeedItem] = []
    paper_items: list[FeedItem] = []
    listed: set[str] = set()  # a paper trending on several days is one item, the newest
    for d in recent:
        top = _feed_papers(d, config)
        view = build_view(d, config, keep=top)
        published = send_time(d.date, config.schedule.cron, config.schedule.timezone)
        day_items.append(_day_item(view, config, published))
        paper_items.extend(_paper_items(view, config, published, skip=listed))
    feeds = (
        Feed(
            "feed.xml",
            _channel(config, "feed.xml", config.title, last_build),
            tuple(day_items),
        ),
        Feed(
            "papers.xml",
            _channel(config, "papers.xml", f"{config.title}: papers", last_build),
            tuple(paper_items[:PAPERS_FEED_MAX_ITEMS]),
        ),
    )
    # search.js loads the Pagefind UI that publishing builds (digest.search)
    files = {"index.html": index_html, "search.js": render(config, "search.js")}
    for feed in feeds:
        files.update(feed_files(config, feed))
    files[OPML_NAME] = site_opml(config, feeds)
    return RenderedSite(
        feed_xml=files["feed.xml"],
        index_html=index_html,
        papers_xml=files["papers.xml"],
        feeds=feeds,
        files=files,
    )


def site_opml(config: Config, feeds: Sequence[Feed], more: Sequence[FeedChannel] = ()) -> str:
    """``feeds.opml``: the site's feeds, then ``more`` (the weekly and topic feeds)."""
    return opml(config, f"{config.title}: feeds", [f.channel for f in feeds] + list(more))


def _channel(config: Config, name: str, title: str, last_build: dt.datetime | None) -> FeedChannel:
    what = "one item per trending paper" if name == "papers.xml" else "one item per day"
    return FeedChannel(
        title=title,
        link=site_link(config),
        description=f"{config.title}: the day's trending research papers by theme, {what}.",
        self_url=site_link(config, name),
        last_build=last_build,
    )


def _feed_papers(digest: Digest, config: Config) -> set[str]:
    """A feed item lists the day's trending batch (the top of the day when none is marked)."""
    if digest.trending:
        return set(digest.trending)
    return {p.paper.id for p in ranked(digest)[: config.trending.top_n]}


def _day_item(view: DayView, config: Config, published: dt.datetime) -> FeedItem:
    labels = ", ".join(view.labels[:3])
    title = f"{view.heading}: {labels}" if labels else view.heading
    return FeedItem(
        title=title,
        link=view.page_url,
        guid=view.page_url,
        published=published,
        description=render(config, "feed_item.html", day=view),
    )


def _paper_items(
    view: DayView, config: Config, published: dt.datetime, skip: set[str]
) -> list[FeedItem]:
    """The day's papers, most trending first, each dated a second before the one above it:
    readers that sort by date keep the rank order (and a day's papers stay after the next
    day's, ranks being far fewer than the seconds of a day)."""
    items = []
    for theme in view.themes:
        for p in theme.papers:
            if p.id in skip:
                continue
            skip.add(p.id)
            items.append(
                (
                    p.rank,
                    FeedItem(
                        title=p.title,
                        link=p.url or view.page_link(theme),
                        guid=f"urn:digest:paper:{p.id}",
                        published=published - dt.timedelta(seconds=p.rank),
                        description=render(config, "feed_paper.html", p=p, theme=theme, day=view),
                    ),
                )
            )
    return [item for _, item in sorted(items, key=lambda x: x[0])]


def _generated(digest: Digest) -> str:
    return utc(digest.generated_at).strftime("%Y-%m-%d %H:%M UTC")
