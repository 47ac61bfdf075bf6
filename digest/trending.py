"""Trending score, the day's trending batch, and rising themes. Entry point: :func:`rank`.

The score (defined in docs/trending.md) is a weighted sum of four signals, each in [0, 1]:

* upvotes: ``log(1 + upvotes) / log(1 + most upvotes today)``; 0 where a source gives none;
* position: ``1 - position / listing_size`` (top of its listing = 1);
* seen days: ``log(seen_days) / log(1 + window_days)``, capped at 1 (new today = 0);
* momentum of the paper's theme: ``(1 + tanh(log momentum)) / 2`` (no change = 0.5).

The batch is the ``top_n`` best scores, ties broken by paper id.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from digest.config import TrendingConfig
from digest.models import DayPaper, Digest, Paper, RankedPaper, SourceStatus, Theme
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
    """The digest of ``day``: papers scored, the trending batch, themes with momentum."""
    momentum = theme_momentum(themes, history, len(papers))
    most_upvotes = max((d.paper.upvotes or 0 for d in papers), default=0)
    scored = sorted(
        (
            (
                score(
                    d,
                    momentum.get(themes.assignment.get(d.paper.id, ""), 1.0),
                    most_upvotes,
                    config,
                ),
                d,
            )
            for d in papers
        ),
        key=lambda pair: (-pair[0], pair[1].paper.id),
    )
    top = [d.paper.id for _, d in scored[: config.top_n]]
    in_top = set(top)
    ranked = tuple(
        RankedPaper(
            paper=d.paper,
            sources=d.sources,
            theme=themes.assignment.get(d.paper.id),
            score=s,
            trending=d.paper.id in in_top,
            seen_days=d.seen_days,
            position=d.position,
        )
        for s, d in scored
    )
    has_history = any(history.values())
    marked = [
        replace(
            t,
            momentum=momentum.get(t.id, 1.0),
            rising=has_history
            and not t.remainder
            and t.size >= config.rising_min_papers
            and momentum.get(t.id, 1.0) >= config.rising_ratio,
        )
        for t in themes.themes
    ]
    return Digest(
        date=day,
        generated_at=generated_at,
        sources=tuple(sources),
        papers=ranked,
        themes=order_themes(marked, in_top),
        trending=tuple(top),
    )


def score(d: DayPaper, momentum: float, most_upvotes: int, config: TrendingConfig) -> float:
    """The trending score of one paper (see the module docstring)."""
    upvotes = 0.0
    if d.paper.upvotes and most_upvotes > 0:
        upvotes = math.log1p(d.paper.upvotes) / math.log1p(most_upvotes)
    position = 1.0 - min(d.position, max(d.listing_size, 1)) / max(d.listing_size, 1)
    seen = min(1.0, math.log(max(d.seen_days, 1)) / math.log(1 + max(config.window_days, 1)))
    trend = (1.0 + math.tanh(math.log(max(momentum, 1e-6)))) / 2.0
    return (
        config.weight_upvotes * upvotes
        + config.weight_position * position
        + config.weight_seen_days * seen
        + config.weight_momentum * trend
    )


def theme_momentum(
    themes: ThemeResult, history: Mapping[dt.date, Sequence[Paper]], today_count: int
) -> dict[str, float]:
    """Each theme's share today over its share of the trailing window's papers.

    Past papers are placed on today's themes by ``ThemeResult.assign`` (nearest theme centre).
    Both shares get add-one smoothing, so a theme absent from the window is not infinitely
    rising. With no history every momentum is 1, and the remainder's always is.
    """
    past = [p for day in sorted(history) for p in history[day]]
    if not past or not today_count or not themes.themes:
        return {t.id: 1.0 for t in themes.themes}
    # a paper listed on several days of the window is placed once and counted each day
    distinct = list({p.id: p for p in past}.values())
    placed = dict(zip((p.id for p in distinct), themes.assign(distinct), strict=True))
    counts = Counter(theme for theme in (placed[p.id] for p in past) if theme is not None)
    past_total = len(past)
    k = len(themes.themes)
    out = {}
    for t in themes.themes:
        if t.remainder:  # past papers are never placed there: its share cannot be compared
            out[t.id] = 1.0
            continue
        share_today = (t.size + 1) / (today_count + k)
        share_past = (counts.get(t.id, 0) + 1) / (past_total + k)
        out[t.id] = share_today / share_past
    return out


def order_themes(themes: Sequence[Theme], trending: set[str]) -> tuple[Theme, ...]:
    """Themes holding the most trending papers first, then the largest; the remainder last."""
    return tuple(
        sorted(
            themes,
            key=lambda t: (
                t.remainder,
                -sum(pid in trending for pid in t.paper_ids),
                -t.size,
                t.label,
            ),
        )
    )
