"""Renders: digest -> email HTML, plain text, web page; digests -> RSS feed and archive.

(Placeholder until the renders issue lands.) Entry points: :func:`render_day`, :func:`render_site`.
Renderers return strings; only ``digest.writer`` writes them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from digest.config import Config
from digest.models import Digest


@dataclass(frozen=True)
class RenderedDay:
    email_html: str
    email_txt: str
    page_html: str


@dataclass(frozen=True)
class RenderedSite:
    feed_xml: str
    index_html: str


def render_day(digest: Digest, config: Config) -> RenderedDay:
    items = "".join(f"<li>{html.escape(p.paper.title)}</li>" for p in digest.trending_papers())
    page = f"<!doctype html><title>{digest.date}</title><ul>{items}</ul>"
    text = "\n".join(p.paper.title for p in digest.trending_papers())
    return RenderedDay(page, text, page)


def render_site(digests: Sequence[Digest], config: Config) -> RenderedSite:
    days = "".join(f'<li><a href="{d.date}/index.html">{d.date}</a></li>' for d in digests)
    return RenderedSite(feed_xml="", index_html=f"<!doctype html><title>Archive</title><ul>{days}</ul>")
