"""``biorxiv``: bioRxiv and medRxiv preprints of one day, from the ``details`` endpoint of
their public API (https://api.biorxiv.org):

    GET {url}/details/{server}/{day}/{day}/{cursor}/json[?category=cell_biology]

A reply is ``{"messages": [{"status": "ok", "cursor": 0, "count": 30, "total": "109", ...}],
"collection": [{"doi", "title", "authors": "Last, F.; ...", "abstract", "version",
"category", "server", ...}]}``; the API pages it (30 a page today, 100 in its docs), so the
next page starts at ``cursor + count`` until ``total``. One category per request: several
categories are several walks. A day without preprints is ``{"messages": [{"status": "no
posts found"}], "collection": []}``. The API answers for the interval asked (date rule
``keyed``). Quirks met in real replies (tests/fixtures/biorxiv/README.md): counts arrive
as strings, a misspelt category silently falls back to all of them (``"category": "all"``),
a failure can be an empty 200, and each version of a preprint is its own record.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from digest.errors import InputError
from digest.formats.base import decode_text
from digest.formats.base import int_or_none as _int  # the API sends counts as strings too
from digest.formats.jsondata import json_error
from digest.models import EMPTY, OK, Listing, Paper, clean_space, paper_key
from digest.sources.registry import (
    API_DAY,
    Field,
    Page,
    Parse,
    SourceConfig,
    SourceKind,
    http_fields,
    register,
)

URL = "https://api.biorxiv.org"
SERVERS = ("biorxiv", "medrxiv")
_NO_POSTS = "no posts found"


def urls(source: SourceConfig, day: dt.date) -> list[str]:
    """The first page of each category (or of all, without categories)."""
    base = (source.url or URL).rstrip("/")
    server = source.option("server")
    path = f"{base}/details/{server}/{day}/{day}/0/json"
    if not source.categories:
        return [path]
    # the API's category names are the subject names with "_" for spaces
    return [f"{path}?{urlencode({'category': c.replace(' ', '_')})}" for c in source.categories]


def parse(raw: bytes, p: Parse) -> Page:
    """One reply: its papers (the latest version of each preprint) and the next page."""
    if not raw.strip():
        # seen from the real API when it fails: a 200 with nothing in it
        raise InputError(f"{p.url}: empty reply (the bioRxiv API sends one when it fails)")
    text = decode_text(raw, p.url)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise json_error(p.url, exc, text) from None
    if not isinstance(data, dict) or not isinstance(data.get("collection", []), list):
        raise InputError(f"{p.url}: not a bioRxiv API reply (no collection list)")
    message = _message(data, p.url)
    status = str(message.get("status", "")).strip()
    if status.lower() == _NO_POSTS:
        return Page(Listing(p.day, p.source.name, "biorxiv", (), EMPTY))
    if status.lower() != "ok":
        raise InputError(f"{p.url}: the bioRxiv API replied: {clean_space(status) or 'no status'}")
    asked = dict(parse_qsl(urlsplit(p.url).query)).get("category")
    if asked and message.get("category") == "all":
        raise InputError(
            f'{p.url}: the bioRxiv API does not know the category "{asked}" (it answered '
            f'for "{message.get("category")}"); see https://www.biorxiv.org for their names'
        )
    latest: dict[str, tuple[int, Paper]] = {}
    for item in data.get("collection", []):
        paper = _paper(item)
        if paper is None:
            continue
        version = _int(item.get("version")) or 0
        doi = str(item.get("doi") or paper.id)
        if doi not in latest or version > latest[doi][0]:
            latest[doi] = (version, paper)
    papers = tuple(p for _, p in latest.values())
    listing = Listing(p.day, p.source.name, "biorxiv", papers, OK if papers else EMPTY)
    return Page(listing, _next_url(p.url, message, len(data.get("collection", []))))


def _message(data: dict[str, Any], url: str) -> dict[str, Any]:
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise InputError(f"{url}: not a bioRxiv API reply (no messages block)")
    return messages[0]


def _paper(item: Any) -> Paper | None:
    if not isinstance(item, dict):
        return None
    title = clean_space(_str(item.get("title")))
    if not title:
        return None
    doi = clean_space(_str(item.get("doi")))
    server = _str(item.get("server")).lower() or "biorxiv"
    version = _int(item.get("version"))
    host = "www.medrxiv.org" if server == "medrxiv" else "www.biorxiv.org"
    url = f"https://{host}/content/{quote(doi)}{f'v{version}' if version else ''}" if doi else ""
    category = clean_space(_str(item.get("category")))
    return Paper(
        id=paper_key(None, title),
        title=title,
        abstract=clean_space(_str(item.get("abstract"))),
        # "Last, F.; Last, F.": semicolons part the authors, a comma each one's names
        authors=tuple(a for a in map(clean_space, _str(item.get("authors")).split(";")) if a),
        url=url,
        categories=(category,) if category else (),
    )


def _next_url(url: str, message: dict[str, Any], got: int) -> str | None:
    """The page after this one: from ``cursor + count`` while under ``total``."""
    cursor, count, total = (_int(message.get(k)) for k in ("cursor", "count", "total"))
    step = count or got
    if cursor is None or total is None or not step or cursor + step >= total:
        return None
    parts = urlsplit(url)
    head, _, tail = parts.path.rstrip("/").rpartition("/")  # .../{cursor}/json
    head = head.rpartition("/")[0]
    return urlunsplit(parts._replace(path=f"{head}/{cursor + step}/{tail}"))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _server(value: str) -> str | None:
    return None if value in SERVERS else f'must be one of {", ".join(SERVERS)}, got "{value}"'


def _category(value: str) -> str | None:
    if value and value == value.strip() and all(c.isalnum() or c in " _-" for c in value):
        return None
    return f'must be a subject category like "neuroscience" or "cell biology", got "{value}"'


KIND = register(
    SourceKind(
        name="biorxiv",
        summary="bioRxiv or medRxiv preprints of the day (api.biorxiv.org details, paged)",
        fields={
            "server": Field(str, "biorxiv", "biorxiv or medrxiv", check=_server),
            "categories": Field(
                tuple[str, ...],
                (),
                'subject categories, e.g. ["neuroscience", "cell biology"] (default: all)',
                check=_category,
            ),
            **http_fields(f"the API base (default {URL})"),
        },
        date_rule=API_DAY,
        url=URL,
        accept="application/json",
        urls=urls,
        parse=parse,
    )
)
