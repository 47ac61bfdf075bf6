"""The weekly digest's email (HTML with inline styles, and text), web page, and weekly.xml
(RSS 2.0 through the site's ``feed.xml`` template). Returns strings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from digest.calendar import send_time
from digest.config import Config
from digest.render import UNSUBSCRIBE_PLACEHOLDER
from digest.render.feeds import Feed, FeedChannel, FeedItem, feed_files, feed_links
from digest.render.templating import render
from digest.render.view import site_link
from digest.weekly import Weekly

MAX_AUTHORS = 4


def _helpers(config: Config, week: str) -> dict[str, Any]:
    def authors(p: Any) -> str:
        names = list(p.authors)
        return ", ".join(names[:MAX_AUTHORS]) + (" et al." if len(names) > MAX_AUTHORS else "")

    return {
        "title": config.title,
        "authors": authors,
        "day_url": lambda day: site_link(config, f"{day}/index.html"),
        "topic_url": lambda t: site_link(config, f"topics/{t.slug}/index.html"),
        "home_url": site_link(config),
        "feed_url": site_link(config, "weekly.xml"),
        "feed_links": feed_links(f"{config.title}: weekly", site_link(config, "weekly.xml")),
        "page_url": site_link(config, f"weekly/{week}/index.html"),
    }


def range_label(start: dt.date, end: dt.date) -> str:
    return f"{start.day} {start:%b} to {end.day} {end:%b %Y}"


def render_week(weekly: Weekly, config: Config) -> dict[str, str]:
    """``email.html``, ``email.txt`` (both with the unsubscribe placeholder) and ``index.html``."""
    context = {
        **_helpers(config, weekly.week),
        "w": weekly,
        "range_label": range_label(weekly.start, weekly.end),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    }
    return {
        "email.html": render(config, "weekly_email.html", **context),
        "email.txt": render(config, "weekly_email.txt", **context),
        "index.html": render(config, "weekly.html", **context),
    }


def subject(weekly: Weekly, config: Config) -> str:
    prefix = config.email.subject_prefix or config.title
    return f"{prefix}, week {weekly.week}: {weekly.papers} papers"


def render_feed(weeks: Sequence[dict[str, Any]], config: Config) -> dict[str, str]:
    """weekly.xml from the newest weeks' digest.json bodies; an item is dated by its week's
    last day at the send time, not by when it was built."""
    items = []
    for w in weeks:
        page = site_link(config, f"weekly/{w['week']}/index.html")
        items.append(
            FeedItem(
                title=f"Week {w['week']}: {w['papers']} papers",
                link=page,
                guid=f"urn:digest:week:{w['week']}",
                published=send_time(
                    dt.date.fromisoformat(w["end"]), config.schedule.cron, config.schedule.timezone
                ),
                description=render(
                    config, "weekly_item.html", w=w, page_url=page
                ),  # dict keys read as attributes
            )
        )
    channel = weekly_channel(config, items[0].published if items else None)
    # weekly.xml, weekly.atom and weekly.json from one Feed (render.feeds)
    return feed_files(config, Feed("weekly.xml", channel, tuple(items)))


def weekly_channel(config: Config, last_build: dt.datetime | None = None) -> FeedChannel:
    """The channel of ``weekly.xml`` (and of its line in ``feeds.opml``)."""
    return FeedChannel(
        title=f"{config.title}: weekly",
        link=site_link(config),
        description=f"{config.title}: the week's top papers and rising topics, one item per week.",
        self_url=site_link(config, "weekly.xml"),
        last_build=last_build,
    )
