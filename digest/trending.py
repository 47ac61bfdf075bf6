"""Trending score and batch. (Placeholder until the themes issue lands: listing order.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from digest.config import TrendingConfig
from digest.models import DayPaper, Digest, Paper, RankedPaper, SourceStatus
from digest.themes import ThemeResult


def rank(
    day: dt.date,
    papers: Sequence[DayPaper],
    themes: ThemeResult,
    history: Mapping[dt.date, Sequence[Paper]],
    config: TrendingConfig,
    sources: Sequence[SourceStatus],
    generated_at: dt.datetime,
) -> Digest:
    ordered = sorted(papers, key=lambda d: (d.position, d.paper.id))
    top = {d.paper.id for d in ordered[: config.top_n]}
    ranked = tuple(
        RankedPaper(
            paper=d.paper,
            sources=d.sources,
            theme=themes.assignment.get(d.paper.id),
            score=1.0 / (1 + d.position),
            trending=d.paper.id in top,
            seen_days=d.seen_days,
            position=d.position,
        )
        for d in ordered
    )
    return Digest(
        date=day,
        generated_at=generated_at,
        sources=tuple(sources),
        papers=ranked,
        themes=themes.themes,
        trending=tuple(d.paper.id for d in ordered[: config.top_n]),
    )
