"""Topic pages and feeds: ``topics/index.html``, ``topics/<slug>/index.html`` and
``topics/<slug>/feed.xml`` (RSS 2.0 through the same ``feed.xml`` template as the site's
feeds). Returns strings; ``digest.writer`` writes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from digest.calendar import send_time
from digest.config import Config
from digest.render.feeds import Feed, FeedChannel, FeedItem, feed_files, feed_links
from digest.render.templating import render
from digest.render.text import long_date
from digest.render.view import site_link
from digest.topics.history import TopicDay, TopicView, sparkline

MAX_AUTHORS = 4
PAGE_PAPERS = 100  # a topic page lists whole days, newest first, up to about this many papers
FEED_DAYS = 10  # items of a topic's feed
# The topic pages' markup, named in the topic index: a site whose index names another one
# (or none) has every topic page rendered again once, inactive ones included, which are
# otherwise left as they were. 2: indexed for search by their header alone.
PAGES_VERSION = "2"


@dataclass(frozen=True)
class _Paper:
    title: str
    url: str
    authors: str


@dataclass(frozen=True)
class _Day:
    date: dt.date
    date_label: str
    page_url: str
    papers: tuple[_Paper, ...]


@dataclass(frozen=True)
class _Topic:
    """One topic as a template shows it."""

    label: str
    state: str
    rising: bool
    born: dt.date
    last_seen: dt.date
    papers: int
    last7: int
    last28: int
    points: str
    page_url: str
    feed_url: str
    survivor_url: str = ""
    survivor_label: str = ""
    split_from_label: str = ""
    split_from_url: str = ""


def topic_path(slug: str, name: str = "index.html") -> str:
    return f"topics/{slug}/{name}"


def render_topics(
    views: Sequence[TopicView],
    papers: Mapping[str, tuple[str, str, tuple[str, ...]]],
    config: Config,
    pages: set[str] | None = None,
) -> dict[str, str]:
    """The topic index, and each topic's page and feed (only of the topic ids in ``pages``
    when given: the others have not changed). ``papers``: the papers of the days shown."""
    by_id = {v.id: v for v in views}
    shown = {v.id: _topic(v, config) for v in views}
    times = SendTimes(config)
    files = {
        "topics/index.html": render(
            config,
            "topics.html",
            title=config.title,
            home_url=site_link(config),
            active=[shown[v.id] for v in views if v.active],
            inactive=[shown[v.id] for v in views if v.state == "inactive"],
            pages_version=PAGES_VERSION,
        )
    }
    for v in views:
        if pages is not None and v.id not in pages:
            continue
        # a merged topic's page and feed go on with the survivor's papers (docs/topics.md)
        source = by_id.get(v.merged_into.id, v) if v.merged_into else v
        days = [_day(d.date, d.paper_ids, papers, config) for d in shown_days(source, config)]
        t = shown[v.id]
        files[topic_path(v.slug)] = render(
            config,
            "topic.html",
            title=config.title,
            t=t,
            days=days,
            feed_links=feed_links(f"{config.title}: {t.label}", t.feed_url),
            page_days=config.topics.page_days,
            topics_url=site_link(config, "topics/index.html"),
        )
        # RSS, Atom and JSON Feed from one Feed (render.feeds)
        feed = topic_feed(v.slug, source.id, t, days[:FEED_DAYS], config, times)
        files.update(feed_files(config, feed))
    return files


def pages_outdated(output: Path) -> bool:
    """Whether the topic pages under ``output`` were rendered with another markup than this
    version's (:data:`PAGES_VERSION`, named in the topic index)."""
    try:
        index = (output / "topics" / "index.html").read_text("utf-8")
    except OSError:
        return True
    return f'<meta name="digest-topic-pages" content="{PAGES_VERSION}">' not in index


def shown_days(v: TopicView, config: Config) -> list[TopicDay]:
    """The days a topic's page lists: newest first, within ``topics.page_days`` of its
    newest day, whole days up to about PAGE_PAPERS papers (a long-lived topic's page and
    feed stay small, and a site of a thousand topics renders in seconds)."""
    out: list[TopicDay] = []
    listed = 0
    for d in v.days:
        if (v.days[0].date - d.date).days >= config.topics.page_days:
            break
        if out and listed >= PAGE_PAPERS:
            break
        out.append(d)
        listed += len(d.paper_ids)
    return out


def _topic(v: TopicView, config: Config) -> _Topic:
    return _Topic(
        label=v.label,
        state=v.state,
        rising=v.rising,
        born=v.born,
        last_seen=v.last_seen,
        papers=v.papers,
        last7=v.last7,
        last28=v.last28,
        points=sparkline(v.counts),
        page_url=site_link(config, topic_path(v.slug)),
        feed_url=site_link(config, topic_path(v.slug, "feed.xml")),
        survivor_url=site_link(config, topic_path(v.merged_into.slug)) if v.merged_into else "",
        survivor_label=v.merged_into.label if v.merged_into else "",
        split_from_label=v.split_from.label if v.split_from else "",
        split_from_url=site_link(config, topic_path(v.split_from.slug)) if v.split_from else "",
    )


def _day(
    day: dt.date,
    ids: Sequence[str],
    papers: Mapping[str, tuple[str, str, tuple[str, ...]]],
    config: Config,
) -> _Day:
    shown = []
    for pid in ids:
        card = papers.get(pid)
        if card is None:
            continue
        title, url, names = card
        authors = ", ".join(names[:MAX_AUTHORS]) + (" et al." if len(names) > MAX_AUTHORS else "")
        shown.append(_Paper(title, url, authors))
    return _Day(
        day, long_date(day), site_link(config, f"{day.isoformat()}/index.html"), tuple(shown)
    )


class SendTimes(dict[dt.date, dt.datetime]):
    """``times[day]``: when the digest of ``day`` is due (:func:`digest.calendar.send_time`),
    worked out once per render. The same few hundred days recur across the topics' feeds
    (ten items each), and each costs a cron evaluation, 0.2-0.7 ms: a thousand topics would
    spend seconds on them."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self._cron, self._tz = config.schedule.cron, config.schedule.timezone

    def __missing__(self, day: dt.date) -> dt.datetime:
        time = self[day] = send_time(day, self._cron, self._tz)
        return time


def topic_feed(
    slug: str,
    topic_id: str,
    t: _Topic,
    days: Sequence[_Day],
    config: Config,
    times: SendTimes | None = None,
) -> Feed:
    """One item per day the topic had papers, dated by that day at the send time, as the
    site's feeds (not by the build); a
    merged topic's items are its survivor's, with the same guids."""
    times = SendTimes(config) if times is None else times
    items = [
        FeedItem(
            title=f"{t.label}: {d.date_label}",
            link=d.page_url,
            guid=f"urn:digest:topic:{topic_id}:{d.date.isoformat()}",
            published=times[d.date],
            description=render(config, "topic_item.html", day=d),
        )
        for d in days
    ]
    channel = _channel(t, config, items[0].published if items else None)
    return Feed(topic_path(slug, "feed.xml"), channel, tuple(items))


def topic_channels(views: Sequence[TopicView], config: Config) -> list[FeedChannel]:
    """The feeds of the active topics, rising first, for ``feeds.opml``: a merged topic's
    feed repeats its survivor's, and an inactive one's stays where it is but gets nothing
    new, so neither is offered for subscription."""
    times = SendTimes(config)
    return [
        _channel(_topic(v, config), config, times[v.last_seen])
        for v in views
        if v.state == "active"
    ]


def _channel(t: _Topic, config: Config, last_build: dt.datetime | None) -> FeedChannel:
    return FeedChannel(
        title=f"{config.title}: {t.label}",
        link=t.page_url,
        description=f"{config.title}: the papers of the topic '{t.label}', one item per day.",
        self_url=t.feed_url,
        last_build=last_build,
    )
