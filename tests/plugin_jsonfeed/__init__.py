"""A contributor's source kind, registered without touching ``digest/``: JSON Feed 1.1
(https://www.jsonfeed.org/version/1.1/), ``GET {url}``.

This is the whole recipe of docs/ARCHITECTURE.md ("Adding a source"): one module that
declares a ``SourceKind`` (its keys, content types, URLs, parser and date rule) and calls
``register``, plus its fixtures. The config names it (``plugins = ["plugin_jsonfeed"]``),
or an installed package's ``digest.sources`` entry point does (see ``dist/``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from digest.errors import InputError
from digest.models import EMPTY, OK, Listing, Paper, arxiv_id, clean_space, paper_key
from digest.sources.live import configured_url
from digest.sources.registry import (
    LATEST_ISSUE,
    Page,
    Parse,
    SourceKind,
    register,
    url_field,
)


def parse(raw: bytes, p: Parse) -> Page:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p.url}: not a JSON Feed ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise InputError(f"{p.url}: not a JSON Feed (no items list)")
    papers = tuple(paper for item in data["items"] if (paper := _paper(item)) is not None)
    dates = [_date(item.get("date_published")) for item in data["items"] if isinstance(item, dict)]
    stated = max((d for d in dates if d is not None), default=None)  # its latest issue
    listing = Listing(
        p.day, p.source.name, "jsonfeed", papers, OK if papers else EMPTY, None, stated
    )
    return Page(listing)


def _paper(item: Any) -> Paper | None:
    if not isinstance(item, dict) or not clean_space(item.get("title")):
        return None
    title = clean_space(item["title"])
    url = clean_space(item.get("url"))
    authors = tuple(
        clean_space(a.get("name")) for a in item.get("authors", []) if isinstance(a, dict)
    )
    return Paper(
        id=paper_key(arxiv_id(url), title),
        title=title,
        abstract=clean_space(item.get("summary") or item.get("content_text")),
        authors=tuple(a for a in authors if a),
        url=url,
        categories=tuple(clean_space(t) for t in item.get("tags", []) if isinstance(t, str)),
    )


def _date(value: Any) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(value).date() if isinstance(value, str) else None
    except ValueError:
        return None


KIND = register(
    SourceKind(
        name="jsonfeed",
        summary="a JSON Feed 1.1 of papers (a test plugin)",
        fields={"url": url_field("the feed", required=True)},
        date_rule=LATEST_ISSUE,
        accept="application/feed+json, application/json;q=0.9",
        urls=configured_url,
        parse=parse,
    )
)
