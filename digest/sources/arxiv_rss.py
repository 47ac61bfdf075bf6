"""``arxiv_rss``: arXiv's new submissions, ``GET {url}/cat1+cat2+...`` on rss.arxiv.org.

One request for all categories, at least ``http.arxiv_min_interval_s`` apart (arXiv asks
for 3 s), whatever host ``url`` points to. The feed shows the latest announcement only
(date rule ``latest``): Sunday to Thursday at 20:00 US/Eastern, dated the next day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from digest.config import HttpConfig
from digest.sources.live import FEED_ACCEPT, parser
from digest.sources.registry import (
    ANNOUNCE_TYPES,
    LATEST_ISSUE,
    Field,
    SourceConfig,
    SourceKind,
    http_fields,
    register,
)

URL = "https://rss.arxiv.org/rss"
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")


def urls(source: SourceConfig, day: dt.date) -> list[str]:
    return [f"{(source.url or URL).rstrip('/')}/{'+'.join(source.categories)}"]


def _category(value: str) -> str | None:
    return (
        None if _CATEGORY.match(value) else f'must be an arXiv category like "cs.LG", got "{value}"'
    )


def _interval(http: HttpConfig) -> float:
    return http.arxiv_min_interval_s


KIND = register(
    SourceKind(
        name="arxiv_rss",
        summary="arXiv new submissions by category (rss.arxiv.org; its Atom flavour too)",
        fields={
            "categories": Field(
                tuple[str, ...], (), 'arXiv categories, e.g. ["cs.LG", "cs.CL"]', True, _category
            ),
            **http_fields(f"the feed base (default {URL}; {URL[:-4]}/atom for Atom)"),
            "announce_types": ANNOUNCE_TYPES,
        },
        date_rule=replace(LATEST_ISSUE, why_stale="arXiv RSS only shows its latest announcement"),
        url=URL,
        accept=FEED_ACCEPT,
        urls=urls,
        parse=parser("feed", announce_types=True),
        min_interval=_interval,
    )
)
