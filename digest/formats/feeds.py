"""RSS 2.0 and Atom feeds through feedparser: arXiv's (rss.arxiv.org) and any other.

arXiv puts "arXiv:2609.26811v1 Announce Type: new Abstract: ..." in front of every
abstract, one comma-joined ``dc:creator``, and an ``arxiv:announce_type`` (new, cross,
replace, replace-cross); its channel date is US/Eastern. Other feeds give title, link
and summary; their papers are keyed by an arXiv id found in the link or id, else by title.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
import xml.sax
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import feedparser

from digest.errors import InputError
from digest.formats.base import split_authors
from digest.models import Paper, arxiv_id, clean_space, paper_key

ARXIV_KIND = "arxiv_rss"
FEED_KIND = "feed"
ARXIV_TZ = ZoneInfo("America/New_York")

_ARXIV_PREFIX = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?", re.IGNORECASE
)
_OLD_TITLE_SUFFIX = re.compile(r"\s*\(arXiv:[^)]*\)\s*$")
_TAG = re.compile(r"<[^>]{0,2000}>")
_CLOSING_ROOT = re.compile(rb"</(?:[\w-]+:)?(?:rss|feed|RDF)>\s*$")


@dataclass(frozen=True)
class ParsedFeed:
    papers: tuple[Paper, ...]
    kind: str
    channel_date: dt.date | None
    skipped: int  # items dropped by announce type


def parse_feed(raw: bytes, name: str, announce_types: Sequence[str] | None) -> ParsedFeed:
    # sanitize_html=False: a title is text; HTML in it is kept verbatim and escaped when rendered
    try:
        parsed: Any = feedparser.parse(raw, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser on hostile bytes: whatever breaks, it is bad input
        raise InputError(f"{name}: unreadable XML feed ({type(exc).__name__})") from None
    if not parsed.get("version"):
        raise InputError(f"{name}: unknown format: XML but not an RSS or Atom feed")
    problem = parsed.get("bozo_exception")
    broken = bool(parsed.get("bozo")) and isinstance(problem, xml.sax.SAXException)
    # feedparser recovers what it can from broken XML: a feed cut short (no closing root
    # element) is refused rather than half-read; one broken elsewhere (an undefined entity
    # in a hand-made feed) is kept if papers could be recovered from it
    if broken and not _CLOSING_ROOT.search(raw[-4096:].rstrip()):
        raise InputError(f"{name}: truncated XML feed ({_sax_message(problem)})")
    is_arxiv = _is_arxiv(parsed)
    wanted = {t.casefold() for t in announce_types} if announce_types is not None else None
    papers: list[Paper] = []
    skipped = 0
    for entry in parsed.entries:
        paper = _arxiv_paper(entry) if is_arxiv else _generic_paper(entry)
        if paper is None:
            continue
        if wanted is not None and paper.announce_type and paper.announce_type not in wanted:
            skipped += 1
            continue
        papers.append(paper)
    if broken and not papers and not skipped:
        raise InputError(f"{name}: malformed XML feed ({_sax_message(problem)})")
    kind = ARXIV_KIND if is_arxiv else FEED_KIND
    return ParsedFeed(tuple(papers), kind, _channel_date(parsed, is_arxiv), skipped)


def _sax_message(exc: BaseException) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return f"line {exc.getLineNumber()}: {exc.getMessage()}"
    return str(exc)


def _is_arxiv(parsed: Any) -> bool:
    link = str(parsed.feed.get("link", "")) + str(parsed.feed.get("id", ""))
    if "arxiv.org" in link:
        return True
    return any("arxiv_announce_type" in e for e in parsed.entries[:5])


def _arxiv_paper(entry: Any) -> Paper | None:
    title = clean_space(_OLD_TITLE_SUFFIX.sub("", entry.get("title", "")))
    if not title:
        return None
    summary = entry.get("summary", "")
    announce = entry.get("arxiv_announce_type")
    m = _ARXIV_PREFIX.match(summary)
    if m:
        announce = announce or m.group("type")
        summary = summary[m.end() :]
    aid = arxiv_id(entry.get("id")) or arxiv_id(entry.get("link"))
    return Paper(
        id=paper_key(aid, title),
        title=title,
        abstract=clean_space(summary),
        authors=_entry_authors(entry),
        url=f"https://arxiv.org/abs/{aid}" if aid else entry.get("link", ""),
        categories=tuple(t["term"] for t in entry.get("tags", ()) if t.get("term")),
        announce_type=announce.strip().casefold() if announce else None,
    )


def _generic_paper(entry: Any) -> Paper | None:
    title = clean_space(entry.get("title", ""))
    if not title:
        return None
    summary = entry.get("summary", "")
    if entry.get("summary_detail", {}).get("type") == "text/html":
        summary = html.unescape(_TAG.sub(" ", summary))
    link = entry.get("link", "")
    aid = arxiv_id(link) or arxiv_id(entry.get("id"))
    return Paper(
        id=paper_key(aid, title),
        title=title,
        abstract=clean_space(summary),
        authors=_entry_authors(entry),
        url=link or (f"https://arxiv.org/abs/{aid}" if aid else ""),
        categories=tuple(t["term"] for t in entry.get("tags", ()) if t.get("term")),
    )


def _entry_authors(entry: Any) -> tuple[str, ...]:
    names: list[str] = []
    for author in entry.get("authors", ()):
        names.extend(split_authors(author.get("name", "")))
    return tuple(names)


def _channel_date(parsed: Any, is_arxiv: bool) -> dt.date | None:
    feed = parsed.feed
    for key in ("published", "updated"):
        raw = feed.get(key)
        if raw:
            when = _parse_datetime(raw)
            if when is not None:
                if when.tzinfo is not None and is_arxiv:
                    when = when.astimezone(ARXIV_TZ)
                return when.date()
    return None


def _parse_datetime(raw: str) -> dt.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
