"""``feed``: any RSS 2.0 or Atom feed of papers, ``GET {url}``.

A feed shows its latest issue only (date rule ``latest``): dated another day it is stale,
and undated it can only stand for today.
"""

from __future__ import annotations

import datetime as dt

from digest.sources.live import FEED_ACCEPT, parser
from digest.sources.registry import (
    ANNOUNCE_TYPES,
    LATEST,
    REDIRECT_HOSTS,
    SourceConfig,
    SourceKind,
    register,
    url_field,
)


def urls(source: SourceConfig, day: dt.date) -> list[str]:
    return [source.url]


KIND = register(
    SourceKind(
        name="feed",
        summary="any RSS 2.0 or Atom feed of papers",
        fields={
            "url": url_field("the feed", required=True),
            "announce_types": ANNOUNCE_TYPES,
            "allow_redirect_hosts": REDIRECT_HOSTS,
        },
        date_rule=LATEST,
        accept=FEED_ACCEPT,
        urls=urls,
        parse=parser("feed", announce_types=True),
        module=__name__,
    )
)
