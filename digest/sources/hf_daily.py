"""``hf_daily``: the Hugging Face Daily Papers API, ``GET {url}?date=YYYY-MM-DD&limit=100``.

The API is keyed by UTC date, so it answers for the day asked (date rule ``keyed``); a
reply whose papers were published another day is stale.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode, urlsplit

from digest.sources.live import parser
from digest.sources.registry import (
    API_DAY,
    SourceConfig,
    SourceKind,
    http_fields,
    register,
)

URL = "https://huggingface.co/api/daily_papers"
LIMIT = 100  # the API pages its replies; a busy day has fewer papers than this


def urls(source: SourceConfig, day: dt.date) -> list[str]:
    base = source.url or URL
    query = urlencode({"date": day.isoformat(), "limit": LIMIT})
    return [f"{base}{'&' if urlsplit(base).query else '?'}{query}"]


KIND = register(
    SourceKind(
        name="hf_daily",
        summary="Hugging Face Daily Papers (huggingface.co/papers), keyed by UTC date",
        fields=http_fields(f"the API (default {URL}); a query string is kept"),
        date_rule=API_DAY,
        url=URL,
        accept="application/json",
        urls=urls,
        parse=parser("hf_daily", announce_types=False),
    )
)
