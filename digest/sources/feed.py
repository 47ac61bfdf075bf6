"""``feed``: any RSS 2.0 or Atom feed of papers, ``GET {url}``.

A feed shows its latest issue only (date rule ``latest``): dated another day it is stale,
and undated it can only stand for today.
"""

from __future__ import annotations

from digest.sources.live import FEED_ACCEPT, configured_url, parser
from digest.sources.registry import (
    ANNOUNCE_TYPES,
    LATEST_ISSUE,
    SourceKind,
    http_fields,
    register,
)

KIND = register(
    SourceKind(
        name="feed",
        summary="any RSS 2.0 or Atom feed of papers",
        fields={
            **http_fields("the feed", required=True),
            "announce_types": ANNOUNCE_TYPES,
        },
        date_rule=LATEST_ISSUE,
        accept=FEED_ACCEPT,
        urls=configured_url,
        parse=parser("feed", announce_types=True),
    )
)
