"""What the topic pages, feeds and the weekly digest show of each topic, from its history.

**Rising** is measured against the topic's own history: its papers per day over the last
7 days against its papers per day over the last 28 days (both ending on the day asked
about); a topic rises when the first is at least ``topics.rising_ratio`` times the second
and it had at least ``topics.rising_min_papers`` papers in the 7 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from digest.config import TopicsConfig
from digest.store.topics import DayTheme, TopicRecord

SPARK_DAYS = 56  # eight weeks


@dataclass(frozen=True)
class TopicDay:
    date: dt.date
    label: str
    paper_ids: tuple[str, ...]


@dataclass(frozen=True)
class TopicView:
    """One topic as of ``asof``. ``days``: its days (and those of topics merged into it),
    newest first. ``counts``: papers per day over the 8 weeks ending ``spark_end``."""

    id: str
    slug: str
    label: str
    born: dt.date
    last_seen: dt.date
    papers: int
    active: bool
    merged_into: TopicRecord | None
    split_from: TopicRecord | None
    days: tuple[TopicDay, ...]
    counts: tuple[int, ...]
    spark_end: dt.date
    last7: int
    last28: int
    rising: bool
    rise: float  # last 7 days' rate over the last 28 days' rate

    @property
    def state(self) -> str:
        if self.merged_into is not None:
            return "merged"
        return "active" if self.active else "inactive"


def topic_views(
    topics: Sequence[TopicRecord],
    days: Sequence[DayTheme],
    asof: dt.date,
    config: TopicsConfig,
) -> list[TopicView]:
    """Every topic as of ``asof`` (only days up to it count), rising ones first, then by
    papers of the last 28 days."""
    by_id = {t.id: t for t in topics}
    history: dict[str, list[DayTheme]] = {}
    for d in days:
        if d.topic_id is not None and d.date <= asof:
            history.setdefault(d.topic_id, []).append(d)
    family: dict[str, list[str]] = {}  # survivor -> topics merged into it
    for t in topics:
        if t.merged_into is not None:
            family.setdefault(t.merged_into, []).append(t.id)
    views = []
    for t in topics:
        if t.born > asof:
            continue
        own = [d for tid in [t.id, *family.get(t.id, ())] for d in history.get(tid, ())]
        per_day: dict[dt.date, int] = {}
        for d in own:
            per_day[d.date] = per_day.get(d.date, 0) + d.size
        last_seen = max(per_day, default=t.born)
        active = t.merged_into is None and (asof - last_seen).days <= config.active_days
        # an inactive topic's line ends where it became inactive: its page stays as it was
        end = asof if active else min(asof, last_seen + dt.timedelta(days=config.active_days))
        counts = tuple(
            per_day.get(end - dt.timedelta(days=SPARK_DAYS - 1 - i), 0) for i in range(SPARK_DAYS)
        )
        last7, last28, rise, rises = _rates(per_day, asof, config)
        rising = active and rises
        grouped: dict[dt.date, list[DayTheme]] = {}
        for d in own:
            grouped.setdefault(d.date, []).append(d)
        topic_days = tuple(
            TopicDay(
                day, grouped[day][0].label, tuple(p for d in grouped[day] for p in d.paper_ids)
            )
            for day in sorted(grouped, reverse=True)
        )
        views.append(
            TopicView(
                id=t.id,
                slug=t.slug,
                label=_label(own, t.label),
                born=t.born,
                last_seen=last_seen,
                papers=sum(per_day.values()),
                active=active,
                merged_into=by_id.get(t.merged_into) if t.merged_into else None,
                split_from=by_id.get(t.split_from) if t.split_from else None,
                days=topic_days,
                counts=counts,
                spark_end=end,
                last7=last7,
                last28=last28,
                rising=rising,
                rise=rise,
            )
        )
    views.sort(key=lambda v: (not v.rising, -v.rise if v.rising else 0, -v.last28, v.slug))
    return views


def _rates(
    per_day: Mapping[dt.date, int], asof: dt.date, config: TopicsConfig
) -> tuple[int, int, float, bool]:
    """Papers in the 7 and 28 days ending ``asof`` (days after it are not counted), the
    7 days' rate over the 28 days', and whether that is a rise (module docstring)."""
    last7 = sum(n for d, n in per_day.items() if 0 <= (asof - d).days < 7)
    last28 = sum(n for d, n in per_day.items() if 0 <= (asof - d).days < 28)
    rise = (last7 / 7) / (last28 / 28) if last28 else 0.0
    return last7, last28, rise, last7 >= config.rising_min_papers and rise >= config.rising_ratio


@dataclass(frozen=True)
class TopicLink:
    """What a day's page and email show of a theme's topic: where its page is, and whether
    the topic was rising on that day."""

    slug: str
    rising: bool


def day_links(
    topics: Sequence[TopicRecord],
    days: Sequence[DayTheme],
    dates: Iterable[dt.date],
    config: TopicsConfig,
) -> dict[dt.date, dict[str, TopicLink]]:
    """For each of ``dates``, the topics its themes continue (topic id -> link), each rising
    or not as of that day by the rule of :func:`topic_views`, over the topic's own days up
    to that day: not those of topics merged into it later, so a day's links are the same
    whenever they are made (a day-by-day run, a backfill). A topic merged away since still
    links to its own page, which says where the topic went on."""
    slug = {t.id: t.slug for t in topics}
    sizes: dict[str, dict[dt.date, int]] = {}  # topic -> its papers per day
    for d in days:
        if d.topic_id is not None:
            per_day = sizes.setdefault(d.topic_id, {})
            per_day[d.date] = per_day.get(d.date, 0) + d.size
    wanted = set(dates)
    out: dict[dt.date, dict[str, TopicLink]] = {day: {} for day in wanted}
    for d in days:
        if d.date in wanted and d.topic_id is not None and d.topic_id in slug:
            rising = _rates(sizes[d.topic_id], d.date, config)[3]
            out[d.date][d.topic_id] = TopicLink(slug[d.topic_id], rising)
    return out


def _label(own: Sequence[DayTheme], fallback: str) -> str:
    """The label its themes carried for the most papers over its last two weeks: a day's
    label is noisy, a topic's should not change with every day."""
    if not own:
        return fallback
    newest = max(d.date for d in own)
    weight: dict[str, int] = {}
    for d in own:
        if (newest - d.date).days < 14:
            weight[d.label] = weight.get(d.label, 0) + d.size
    return min(weight, key=lambda label: (-weight[label], label))


def sparkline(counts: Sequence[int], width: int = 112, height: int = 20) -> str:
    """The ``points`` of an SVG polyline: one point per day, the highest day at the top."""
    top = max(counts, default=0) or 1
    step = width / max(len(counts) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - 1 - (height - 2) * n / top:.1f}" for i, n in enumerate(counts)
    )
