"""Trending score, the day's trending batch, and rising themes. Entry point: :func:`rank`.

The score (defined in docs/trending.md) is a weighted sum of four signals, each in [0, 1]:

* upvotes: ``log(1 + upvotes) / log(1 + most upvotes today)``; 0 where a source gives none;
* position: ``1 - position / listing_size`` (top of its listing = 1);
* seen days: ``log(seen_days) / log(1 + window_days)``, capped at 1 (new today = 0);
* momentum of the paper's theme: ``(1 + tanh(log momentum)) / 2`` (no change = 0.5).

The batch is the ``top_n`` best scores, ties broken by paper id, chosen with a diversity step
(:func:`select_batch`: maximal marginal relevance over themes, and a cap on any one theme's
share of the batch).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import replace

from digest.config import TrendingConfig
from digest.models import DayPaper, Digest, Paper, RankedPaper, SourceStatus, Theme
from digest.themes import REMAINDER_ID, ThemeResult


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
    in_top = select_batch(
        [(d.paper.id, s, themes.assignment.get(d.paper.id)) for s, d in scored],
        config,
        sum(not t.remainder for t in themes.themes),
    )
    top = [d.paper.id for _, d in scored if d.paper.id in in_top]  # in score order
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


def select_batch(
    scored: Sequence[tuple[str, float, str | None]], config: TrendingConfig, n_themes: int
) -> set[str]:
    """The ids of the trending batch, from (id, score, theme) in score order (docs/trending.md).

    Greedy maximal marginal relevance with themes as the similarity: each step takes the paper
    whose score, less ``diversity`` times the share of the batch its theme already holds, is
    highest (ties: score order). On a day with ``diverse_min_themes`` or more themes, a theme
    holding ``max_theme_share`` of the batch takes no more papers, unless too few papers of
    other themes are left to fill it. A paper of the remainder or of no theme is its own theme.
    """
    size = min(config.top_n, len(scored))
    cap = (
        max(1, int(config.max_theme_share * size + 1e-9))
        if n_themes >= config.diverse_min_themes
        else size
    )
    # within a theme the penalty is the same, so each step only compares the best paper left
    # of each theme: the first of its queue, ``scored`` being in score order
    queues: dict[str, deque[int]] = {}
    for i, item in enumerate(scored):
        queues.setdefault(_group(item), deque()).append(i)
    held: Counter[str] = Counter()
    chosen: list[int] = []
    while len(chosen) < size:
        heads = [(g, q[0]) for g, q in queues.items() if q]
        pool = [h for h in heads if held[h[0]] < cap] or heads  # all full: score order
        group, best = max(
            pool, key=lambda h: (scored[h[1]][1] - config.diversity * held[h[0]] / size, -h[1])
        )
        queues[group].popleft()
        held[group] += 1
        chosen.append(best)
    return {scored[i][0] for i in chosen}


def _group(item: tuple[str, float, str | None]) -> str:
    """The theme a batch paper counts against: the remainder ("other") and no theme are a
    grab-bag, not a subject, so each such paper counts as its own."""
    pid, _, theme = item
    return f"paper:{pid}" if theme is None or theme == REMAINDER_ID else f"theme:{theme}"


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

    Past papers are placed on today's themes by ``ThemeResult.assign`` (nearest theme centre,
    through the day's fitted TfidfVectorizer). It was once computed from token counts kept
    per paper: 30 instead of 80 ms a day (a 7-day window, 13 real days, one run), about 11 s
    of CPU over a 228-day backfill, under the 10% a cache must save (issue 12).
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
