"""Live sources: one configured source and one day -> one ``Listing``, never an exception.

What is the same for every HTTP kind lives here: a conditional GET of each URL the kind
names (``SourceKind.urls``), at the kind's ``min_interval``, asking for its content types;
its parser, page after page while it names a next one; the reply kept in the store's HTTP
cache once it parsed; and the kind's date rule. What differs (URL, parser, rule) is
declared by the kind's own module (``digest.sources.registry``).

Which day a reply stands for is the day the *source* states (``Listing.source_date``).
A feed only ever shows its latest issue, so one dated another day is reported as
``stale`` instead of being stored under the day asked for; an undated feed can only
stand for today. An empty feed (arXiv on weekends and holidays) is ``empty``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, runtime_checkable

from digest import formats
from digest.errors import DigestError
from digest.models import EMPTY, ERROR, OK, STALE, Listing, Paper
from digest.sources import registry
from digest.sources.http import FetchError, HttpClient
from digest.sources.registry import API_DAY, Context, Page, Parse, SourceConfig, SourceKind
from digest.store.http_cache import HttpCacheEntry

log = logging.getLogger("digest")

# A paged source is followed this far at most: a server whose cursor never ends (or a bug)
# must not loop for ever. 200 pages of 30-100 papers is more than any source's day.
MAX_PAGES = 200
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


@runtime_checkable
class HttpCache(Protocol):
    """What live sources need of the store: the last good reply per URL."""

    def http_cache_get(self, url: str) -> HttpCacheEntry | None: ...

    def http_cache_put(self, entry: HttpCacheEntry) -> None: ...


def fetch(source: SourceConfig, ctx: Context) -> Listing:
    """The ``fetch`` of every HTTP kind that does not bring its own."""
    cache = ctx.store if isinstance(ctx.store, HttpCache) else None
    client = HttpClient(ctx.config.http)
    day = ctx.day or ctx.today
    return fetch_listing(source, day, client, cache, limit=ctx.config.max_listing_bytes)


def source_url(source: SourceConfig, day: dt.date) -> str:
    """The (first) URL to GET for ``source`` on ``day``."""
    kind = registry.get(source.kind)
    if kind.urls is None:
        raise ValueError(f"not a live source kind: {source.kind}")
    return kind.urls(source, day)[0]


def configured_url(source: SourceConfig, day: dt.date) -> list[str]:
    """The ``urls`` of a kind that GETs its ``url`` as configured, whatever the day."""
    return [source.url]


def parser(hint: str, announce_types: bool) -> Callable[[bytes, Parse], Page]:
    """A parser by ``digest.formats`` (``hint`` forces the format), for the kinds whose
    reply is a listing format it reads; ``announce_types`` filters arXiv items."""

    def parse(raw: bytes, p: Parse) -> Page:
        listing = formats.parse_bytes(
            raw,
            name=p.url,
            day=p.day,
            source=p.source.name,
            announce_types=p.source.announce_types if announce_types else None,
            hint=hint,
            limit=p.limit,
        )
        return Page(listing)

    return parse


def fetch_listing(
    source: SourceConfig,
    day: dt.date,
    client: HttpClient,
    cache: HttpCache | None = None,
    today: dt.date | None = None,
    limit: int | None = None,
) -> Listing:
    """Fetch, parse and date-check ``source`` for ``day``; any failure is an ``error`` listing.
    ``limit`` (``max_listing_bytes``) bounds each reply once unzipped, as for a file: a
    gzipped body sent without Content-Encoding passes ``http.max_bytes`` still packed."""
    try:
        kind = registry.get(source.kind)
    except DigestError as exc:
        return Listing(day, source.name, source.kind, (), ERROR, str(exc))
    if kind.urls is None or kind.parse is None:
        return Listing(
            day, source.name, source.kind, (), ERROR, f"not a live source kind: {kind.name}"
        )
    url = ""
    papers: list[Paper] = []
    stated: dt.date | None = None
    read = 0  # pages, over every URL
    try:
        urls = kind.urls(source, day)
        for first in urls:
            url, pages = first, 0
            while url:
                page = _page(kind, source, url, day, client, cache, limit)
                papers.extend(page.listing.papers)
                stated = stated or page.listing.source_date
                pages += 1
                read += 1
                if page.next_url and pages >= MAX_PAGES:
                    raise FetchError(f"{first}: still more pages after {MAX_PAGES}; stopped there")
                url = page.next_url or ""
    except DigestError as exc:
        return Listing(day, source.name, source.kind, (), ERROR, _one_line(str(exc)))
    except Exception as exc:  # a bug or a broken cache must not take the other sources down
        log.debug("source %s failed unexpectedly", source.name, exc_info=True)
        message = f"{url}: unexpected {type(exc).__name__}: {exc} (run with --debug for details)"
        return Listing(day, source.name, source.kind, (), ERROR, _one_line(message))
    # pages and categories may overlap; a single reply is kept as the source sent it
    unique = registry.paper_ids(tuple(papers)) if read > 1 else tuple(papers)
    listing = Listing(day, source.name, source.kind, unique, OK if unique else EMPTY, None, stated)
    return _check_date(listing, kind, day, today or dt.datetime.now(dt.UTC).date(), urls[0])


def _page(
    kind: SourceKind,
    source: SourceConfig,
    url: str,
    day: dt.date,
    client: HttpClient,
    cache: HttpCache | None,
    limit: int | None,
) -> Page:
    cached = cache.http_cache_get(url) if cache is not None else None
    if cached is not None and not cached.has_validators:
        cached = None  # nothing to make the request conditional with
    response = client.get(
        url,
        cached=cached,
        min_interval=kind.min_interval(client.config) if kind.min_interval else None,
        accept=kind.accept or "*/*",
        allow_redirect_hosts=source.allow_redirect_hosts,
    )
    assert kind.parse is not None
    page = kind.parse(response.body, Parse(url, day, source, limit))
    if cache is not None and not response.from_cache:
        # only a body that parsed is kept, so a broken reply is never pinned by a later 304
        cache.http_cache_put(response.cache_entry())
    return page


def _check_date(
    listing: Listing, kind: SourceKind, day: dt.date, today: dt.date, url: str
) -> Listing:
    stated = listing.source_date
    if stated is not None and stated != day:
        message = f"{url} is dated {stated}, not {day} ({kind.date_rule.why_stale}); nothing stored for {day}"
        return replace(listing, papers=(), status=STALE, error=message)
    # an undated feed shows "now"; a keyed service answers for the date we asked
    if stated is None and kind.date_rule.name != API_DAY.name and abs((day - today).days) > 1:
        message = f"{url} states no date, so it can only stand for today ({today}), not {day}"
        return replace(listing, papers=(), status=STALE, error=message)
    return listing


def _one_line(text: str) -> str:
    return " ".join(text.split())
