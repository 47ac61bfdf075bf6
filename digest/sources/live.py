"""Live sources: one configured source and one day -> one ``Listing``, never an exception.

- ``hf_daily``: ``GET {url}?date=YYYY-MM-DD`` on the Daily Papers API (keyed by UTC date);
- ``arxiv_rss``: ``GET {url}/cat1+cat2+...`` on rss.arxiv.org, at least
  ``http.arxiv_min_interval_s`` apart, whatever host ``url`` points to;
- ``feed``: any RSS or Atom URL.

Which day a reply stands for is the day the *source* states (``Listing.source_date``).
A feed only ever shows its latest issue, so one dated another day is reported as
``stale`` instead of being stored under the day asked for; an undated feed can only
stand for today. An empty feed (arXiv on weekends and holidays) is ``empty``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import Protocol, runtime_checkable
from urllib.parse import urlencode, urlsplit

from digest import formats
from digest.config import SourceConfig
from digest.errors import DigestError
from digest.models import ERROR, STALE, Listing
from digest.sources.http import HttpClient
from digest.store.http_cache import HttpCacheEntry

log = logging.getLogger("digest")

HF_DAILY_URL = "https://huggingface.co/api/daily_papers"
ARXIV_RSS_URL = "https://rss.arxiv.org/rss"
HF_DAILY_LIMIT = 100  # the API pages its replies; a busy day has fewer papers than this
LIVE_KINDS = ("hf_daily", "arxiv_rss", "feed")
_ACCEPT = {
    "hf_daily": "application/json",
    "arxiv_rss": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
}


@runtime_checkable
class HttpCache(Protocol):
    """What live sources need of the store: the last good reply per URL."""

    def http_cache_get(self, url: str) -> HttpCacheEntry | None: ...

    def http_cache_put(self, entry: HttpCacheEntry) -> None: ...


def source_url(source: SourceConfig, day: dt.date) -> str:
    """The URL to GET for ``source`` on ``day``."""
    if source.kind == "hf_daily":
        base = source.url or HF_DAILY_URL
        query = urlencode({"date": day.isoformat(), "limit": HF_DAILY_LIMIT})
        return f"{base}{'&' if urlsplit(base).query else '?'}{query}"
    if source.kind == "arxiv_rss":
        return f"{(source.url or ARXIV_RSS_URL).rstrip('/')}/{'+'.join(source.categories)}"
    if source.kind == "feed":
        return source.url
    raise ValueError(f"not a live source kind: {source.kind}")


def fetch_listing(
    source: SourceConfig,
    day: dt.date,
    client: HttpClient,
    cache: HttpCache | None = None,
    today: dt.date | None = None,
    limit: int | None = None,
) -> Listing:
    """Fetch, parse and date-check ``source`` for ``day``; any failure is an ``error`` listing.
    ``limit`` (``max_listing_bytes``) bounds the listing once unzipped, as for a file: a
    gzipped body sent without Content-Encoding passes ``http.max_bytes`` still packed."""
    url = source_url(source, day)
    try:
        cached = cache.http_cache_get(url) if cache is not None else None
        if cached is not None and not cached.has_validators:
            cached = None  # nothing to make the request conditional with
        min_interval = client.config.arxiv_min_interval_s if source.kind == "arxiv_rss" else None
        response = client.get(
            url,
            cached=cached,
            min_interval=min_interval,
            accept=_ACCEPT[source.kind],
            allow_redirect_hosts=source.allow_redirect_hosts,
        )
        listing = formats.parse_bytes(
            response.body,
            name=url,
            day=day,
            source=source.name,
            announce_types=None if source.kind == "hf_daily" else source.announce_types,
            hint="hf_daily" if source.kind == "hf_daily" else "feed",
            limit=limit,
        )
        if cache is not None and not response.from_cache:
            # only a body that parsed is kept, so a broken reply is never pinned by a later 304
            cache.http_cache_put(response.cache_entry())
    except DigestError as exc:
        return Listing(day, source.name, source.kind, (), ERROR, _one_line(str(exc)))
    except Exception as exc:  # a bug or a broken cache must not take the other sources down
        log.debug("source %s failed unexpectedly", source.name, exc_info=True)
        message = f"{url}: unexpected {type(exc).__name__}: {exc} (run with --debug for details)"
        return Listing(day, source.name, source.kind, (), ERROR, _one_line(message))
    listing = replace(listing, date=day, source=source.name, kind=source.kind)
    return _check_date(listing, source, day, today or dt.datetime.now(dt.UTC).date(), url)


def _check_date(
    listing: Listing, source: SourceConfig, day: dt.date, today: dt.date, url: str
) -> Listing:
    stated = listing.source_date
    if stated is not None and stated != day:
        why = {
            "arxiv_rss": "arXiv RSS only shows its latest announcement",
            "hf_daily": "the API answered for another day",
        }.get(source.kind, "a feed only shows its latest issue")
        message = f"{url} is dated {stated}, not {day} ({why}); nothing stored for {day}"
        return replace(listing, papers=(), status=STALE, error=message)
    # an undated feed shows "now"; the Daily Papers API is keyed by the date we asked for
    if stated is None and source.kind != "hf_daily" and abs((day - today).days) > 1:
        message = f"{url} states no date, so it can only stand for today ({today}), not {day}"
        return replace(listing, papers=(), status=STALE, error=message)
    return listing


def _one_line(text: str) -> str:
    return " ".join(text.split())
