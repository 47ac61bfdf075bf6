"""The weekly digest: one ISO week's roll-up of the daily digests in the store.

``build_week`` -> :class:`Weekly` (the top papers of the week by trending score, the
topics that rose, a line per day); ``publish_week`` writes
``output/weekly/2025-W12/{email.html,email.txt,index.html,digest.json}`` and
``output/weekly.xml``; ``send_week`` emails the weekly subscribers, once a week, exactly
once (the delivery log, keyed by the week). See docs/topics.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest import writer
from digest.config import Config
from digest.errors import InputError
from digest.store.protocol import StoreProtocol

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
WEEKLY_VERSION = 1  # of the weekly digest.json (docs/digest-json.md)
FEED_WEEKS = 12  # weeks in weekly.xml


def parse_week(text: str) -> tuple[str, dt.date]:
    """``2025-W12`` -> (``2025-W12``, its Monday); InputError for anything else."""
    m = _WEEK.match(text.strip())
    try:
        if m is None:
            raise ValueError
        monday = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InputError(
            f"--week must be an ISO week like 2025-W12, got '{text.strip()[:40]}'"
        ) from None
    return f"{m.group(1)}-W{m.group(2)}", monday


def week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class WeekPaper:
    id: str
    title: str
    url: str
    authors: tuple[str, ...]
    score: float
    date: dt.date
    theme: str  # its theme's label that day


@dataclass(frozen=True)
class WeekDay:
    date: dt.date
    papers: int
    themes: tuple[str, ...]  # the day's first theme labels
    lead: str  # its most trending paper's title


@dataclass(frozen=True)
class WeekTopic:
    id: str
    slug: str
    label: str
    papers: int  # in the week
    rise: float


@dataclass(frozen=True)
class Weekly:
    week: str
    start: dt.date
    generated_at: dt.datetime
    days: tuple[WeekDay, ...]
    top: tuple[WeekPaper, ...]
    topics: tuple[WeekTopic, ...]

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def papers(self) -> int:
        return sum(d.papers for d in self.days)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": WEEKLY_VERSION,
            "week": self.week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "papers": self.papers,
            "days": [
                {
                    "date": d.date.isoformat(),
                    "papers": d.papers,
                    "themes": list(d.themes),
                    "lead": d.lead,
                }
                for d in self.days
            ],  # fmt: skip
            "top": [
                {
                    "id": p.id,
                    "title": p.title,
                    "url": p.url,
                    "authors": list(p.authors),
                    "score": round(p.score, 6),
                    "date": p.date.isoformat(),
                    "theme": p.theme,
                }
                for p in self.top
            ],  # fmt: skip
            "topics": [
                {
                    "id": t.id,
                    "slug": t.slug,
                    "label": t.label,
                    "papers": t.papers,
                    "rise": round(t.rise, 4),
                }
                for t in self.topics
            ],  # fmt: skip
        }


def build_week(
    store: StoreProtocol, config: Config, week: str, now: dt.datetime | None = None
) -> Weekly:
    """The roll-up of ``week`` from the digests stored for its days."""
    week, monday = parse_week(week)
    best: dict[str, WeekPaper] = {}
    days = []
    for i in range(7):
        day = monday + dt.timedelta(days=i)
        digest = store.digest_for(day)
        if digest is None:
            continue
        labels = {t.id: t.label for t in digest.themes}
        for r in digest.papers:
            kept = best.get(r.paper.id)
            if kept is None or r.score > kept.score:
                p = r.paper
                best[p.id] = WeekPaper(
                    p.id, p.title, p.url, p.authors, r.score, day, labels.get(r.theme or "", "")
                )
        trending = digest.trending_papers() or list(digest.papers)
        days.append(
            WeekDay(
                day,
                len(digest.papers),
                tuple(t.label for t in digest.themes if not t.remainder)[:3],
                trending[0].paper.title if trending else "",
            )
        )
    top = sorted(best.values(), key=lambda p: (-p.score, p.date, p.id))[: config.weekly.top_papers]
    return Weekly(
        week,
        monday,
        now or dt.datetime.now(dt.UTC).replace(microsecond=0),
        tuple(days),
        tuple(top),
        _rising_topics(store, config, monday) if config.topics.enabled else (),
    )


def _rising_topics(store: StoreProtocol, config: Config, monday: dt.date) -> tuple[WeekTopic, ...]:
    """The topics rising at the end of the week, against their own 28 days."""
    from digest.topics.history import topic_views

    end = monday + dt.timedelta(days=6)
    views = topic_views(store.topics(), store.topic_days(), end, config.topics)
    return tuple(WeekTopic(v.id, v.slug, v.label, v.last7, v.rise) for v in views if v.rising)


def publish_week(
    store: StoreProtocol, config: Config, weekly: Weekly, output: Path
) -> dict[str, str]:
    """Write the week's four files and ``weekly.xml``; returns the rendered files."""
    from digest.render.weekly import render_feed, render_week

    body = json.dumps(weekly.to_json(), ensure_ascii=False, indent=2) + "\n"
    files = {
        f"weekly/{weekly.week}/{name}": text for name, text in render_week(weekly, config).items()
    }
    files[f"weekly/{weekly.week}/digest.json"] = body
    store.save_weekly(weekly.week, weekly.papers, body)
    files.update(render_feed([json.loads(b) for b in store.recent_weeklies(FEED_WEEKS)], config))
    writer.write_files(output, files)
    return files


def send_week(store: StoreProtocol, config: Config, weekly: Weekly) -> str:
    """Email ``weekly`` to the weekly subscribers not yet served; a one-line account."""
    from digest.deliver.send import deliver_week
    from digest.render.weekly import render_week, subject

    if not weekly.papers:
        return f"{weekly.week}: no papers this week; nothing sent"
    bodies = render_week(weekly, config)
    report = deliver_week(
        store,
        config,
        weekly.week,
        subject(weekly, config),
        bodies["email.txt"],
        bodies["email.html"],
    )
    return report.summary()


def last_full_week(today: dt.date) -> str:
    """The week before the one ``today`` is in."""
    return week_of(today - dt.timedelta(days=7))
