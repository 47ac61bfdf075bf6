"""Persistent topics: each day's themes linked to the topics of earlier days.

A theme's **signature** is the normalized sum of its papers' unit vectors in a space every
day shares (distinct tokens weighted by the bundled background IDF), cut to its top terms.
A topic keeps a **centroid** (a moving average of its themes' signatures). Days are linked
strictly in date order (:func:`link_topics`); the rules, in docs/topics.md:

- a theme continues the active topic it is most similar to (cosine >= ``topics.threshold``),
  one theme per topic, best pairs first;
- **split**: a second theme close to a topic already taken starts a new topic that records
  ``split_from``; the original id goes on with the closer theme;
- **merge**: a theme close to two or more active topics continues the one with the most
  papers (the older on a tie); the others are marked ``merged_into`` it, and their pages and
  feeds go on showing the survivor's papers;
- a theme with no match starts a topic, id ``YYYY-MM-DD-tN`` (its first day and theme), slug
  from its label (``-2``, ``-3`` on collision); a topic unseen for ``topics.active_days`` is
  inactive: kept, marked, no longer linked.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from digest.config import TopicsConfig
from digest.models import Digest
from digest.store.protocol import StoreProtocol
from digest.store.topics import DayTheme, TopicRecord
from digest.topics.history import TopicLink, day_links

if TYPE_CHECKING:
    from digest.themes.background import BackgroundModel

SIGNATURE_TERMS = 40  # kept per theme signature
CENTROID_TERMS = 60  # kept per topic centroid
CENTROID_NEW = 0.25
MERGE_MARGIN = 0.15  # a merge needs this much more than the threshold, to the theme and between topics  # weight of the newest day in a topic's moving centroid

TopicIds = dict[str, str | None]  # theme id -> topic id, of one day


def signatures(digest: Digest) -> list[DayTheme]:
    """The day's themes (not the remainder) with their signatures, for the store."""
    from digest.themes import document
    from digest.themes.background import load_model
    from digest.themes.text import distinct_tokens

    idf = _Idf(load_model())
    out = []
    papers = {p.paper.id: p.paper for p in digest.papers}
    for ord_, theme in enumerate(digest.themes):
        if theme.remainder:
            continue
        total: dict[str, float] = {}
        for pid in theme.paper_ids:
            paper = papers.get(pid)
            if paper is None:
                continue
            toks = list(distinct_tokens(document(paper)))
            weights = list(map(idf.__getitem__, toks))
            # the same additions in the same order as a sum over a generator, without it
            norm = math.sqrt(sum(map(operator.mul, weights, weights))) or 1.0
            for t, w in zip(toks, weights, strict=True):
                total[t] = total.get(t, 0.0) + w / norm
        sig = _top_unit(total, SIGNATURE_TERMS)
        out.append(
            DayTheme(digest.date, theme.id, ord_, theme.label, theme.size, sig, theme.paper_ids)
        )
    return out


class _Idf(dict[str, float]):
    """Term -> its IDF in the bundled background model (1.0 without one), computed once per
    term within a call (a day's themes share most of their terms)."""

    def __init__(self, model: BackgroundModel | None) -> None:
        super().__init__()
        self.model = model

    def __missing__(self, term: str) -> float:
        model = self.model
        if model is None:
            return 1.0
        at = model.index.get(term)
        df = float(model.df[at]) if at is not None else 0.0
        value = self[term] = math.log((1.0 + model.n_docs) / (1.0 + df)) + 1.0
        return value


def _top_unit(weights: Mapping[str, float], keep: int) -> dict[str, float]:
    # the heaviest ``keep`` terms, ties by term: only the terms at least as heavy as the
    # keep-th weight can be among them, so only those are sorted by (weight, term) (a theme
    # has hundreds of terms; sorting them all with a key function was most of the time)
    items: Iterable[tuple[str, float]] = weights.items()
    if len(weights) > keep:
        least = sorted(weights.values(), reverse=True)[keep - 1] if keep > 0 else math.inf
        items = [(t, w) for t, w in items if w >= least]
    top = sorted(items, key=lambda kv: (-kv[1], kv[0]))[:keep]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: round(w / norm, 5) for t, w in top}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def _similar(
    themes: Sequence[DayTheme], topics: Sequence[_Topic], threshold: float
) -> dict[tuple[int, str], float]:
    """{(theme index, topic id): cosine} of the pairs at or above ``threshold``, through an
    inverted index of the day's terms: each topic's centroid is walked once (a dot product
    per pair took 9 s over 54 days; a BLAS matrix product, 1.7 s on a busy machine)."""
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, theme in enumerate(themes):
        for term, w in theme.signature.items():
            postings.setdefault(term, []).append((i, w))
    out = {}
    for topic in topics:
        sim = [0.0] * len(themes)
        for term, w in topic.centroid.items():
            for i, wi in postings.get(term, ()):
                sim[i] += w * wi
        for i, value in enumerate(sim):
            if value >= threshold:
                out[(i, topic.id)] = value
    return out


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(label: str) -> str:
    """``Large Language Models`` -> ``large-language-models``; ``topic`` when nothing is left."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    return _NOT_SLUG.sub("-", text).strip("-")[:60].strip("-") or "topic"


@dataclass
class _Topic:
    id: str
    slug: str
    label: str
    born: dt.date
    last_seen: dt.date
    papers: int
    centroid: dict[str, float]
    merged_into: str | None = None
    split_from: str | None = None

    def record(self) -> TopicRecord:
        return TopicRecord(
            self.id,
            self.slug,
            self.label,
            self.born,
            self.last_seen,
            self.papers,
            self.centroid,
            self.merged_into,
            self.split_from,
        )


class Linker:
    """The topics as of the last day linked; :meth:`link_day` takes the next day."""

    def __init__(self, config: TopicsConfig, topics: Iterable[TopicRecord] = ()) -> None:
        self.config = config
        self.topics = {t.id: _Topic(**_fields(t)) for t in topics}
        self.slugs = {t.slug for t in self.topics.values()}
        self.touched: set[str] = set()

    def link_day(self, day: dt.date, themes: Sequence[DayTheme]) -> TopicIds:
        cfg = self.config
        active = [
            t
            for t in self.topics.values()
            if t.merged_into is None and (day - t.last_seen).days <= cfg.active_days
        ]
        sims = _similar(themes, active, cfg.threshold)
        chosen: dict[int, str] = {}
        taken: set[str] = set()
        for (i, tid), _ in sorted(sims.items(), key=lambda kv: (-kv[1], kv[0])):
            if i not in chosen and tid not in taken:
                chosen[i] = tid
                taken.add(tid)
        out: TopicIds = {}
        for i, theme in enumerate(themes):
            match = chosen.get(i)
            if match is not None:
                tid = self._merge(i, match, sims, taken, day)
                self._continue(self.topics[tid], theme, day)
            else:
                near = max(
                    ((s, t) for (j, t), s in sims.items() if j == i), default=None
                )  # close to a topic another theme continues: a split
                tid = self._start(theme, day, split_from=near[1] if near else None)
            out[theme.theme_id] = tid
        return out

    def _merge(
        self, i: int, tid: str, sims: Mapping[tuple[int, str], float], taken: set[str], day: dt.date
    ) -> str:
        """Topics theme ``i`` is close to that no theme of the day continues merge with
        ``tid``; the one with the most papers survives. Returns the survivor."""
        bar = self.config.threshold + MERGE_MARGIN
        others = [
            t
            for (j, t), s in sims.items()
            if j == i
            and t != tid
            and t not in taken
            and s >= bar
            and cosine(self.topics[t].centroid, self.topics[tid].centroid) >= bar
        ]
        if not others:
            return tid
        group = [self.topics[t] for t in [tid, *others]]
        survivor = min(group, key=lambda t: (-t.papers, t.born, t.id))
        for t in group:
            if t is not survivor:
                t.merged_into = survivor.id
                self.touched.add(t.id)
                # topics merged into t earlier follow it to the survivor
                for u in self.topics.values():
                    if u.merged_into == t.id:
                        u.merged_into = survivor.id
                        self.touched.add(u.id)
        taken.update(t.id for t in group)
        return survivor.id

    def _continue(self, topic: _Topic, theme: DayTheme, day: dt.date) -> None:
        mixed = {t: (1 - CENTROID_NEW) * w for t, w in topic.centroid.items()}
        for t, w in theme.signature.items():
            mixed[t] = mixed.get(t, 0.0) + CENTROID_NEW * w
        topic.centroid = _top_unit(mixed, CENTROID_TERMS)
        topic.label = theme.label
        topic.last_seen = day
        topic.papers += theme.size
        self.touched.add(topic.id)

    def _start(self, theme: DayTheme, day: dt.date, split_from: str | None) -> str:
        tid = f"{day.isoformat()}-{theme.theme_id}"
        base = slugify(theme.label)
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.slugs.add(slug)
        self.topics[tid] = _Topic(
            tid, slug, theme.label, day, day, theme.size, dict(theme.signature), None, split_from
        )
        self.touched.add(tid)
        return tid


def _fields(t: TopicRecord) -> dict:
    return {name: getattr(t, name) for name in TopicRecord.__slots__}


def link_topics(
    store: StoreProtocol,
    config: TopicsConfig,
    since: dt.date,
    upto: dt.date | None = None,
    linker: Linker | None = None,
) -> dict[dt.date, TopicIds]:
    """Link the stored days' themes to topics, in date order, from ``since`` (incrementally
    after the last day linked; from the first day when ``since`` is not after it, so the
    result never depends on the order days were produced in) up to ``upto`` (None: the
    last stored day; a backfill links the days before the first one still in production).
    ``linker``: one holding the topics as of the last day linked (none: empty), kept by the
    caller between calls instead of reading every topic back. Returns, for each day whose
    topic ids changed, its new theme -> topic mapping."""
    until = store.linked_until()
    full = until is None or since <= until
    if linker is None:
        linker = Linker(config, () if full else store.topics())
    # incrementally: every day after the last one linked (days stored unlinked included)
    rows = store.day_themes(None if full or until is None else until + dt.timedelta(days=1))
    if upto is not None:
        rows = [row for row in rows if row.date <= upto]
    by_day: dict[dt.date, list[DayTheme]] = {}
    for row in rows:
        by_day.setdefault(row.date, []).append(row)
    changed: dict[dt.date, TopicIds] = {}
    links: list[tuple[dt.date, str, str | None]] = []
    for day, themes in by_day.items():
        ids = linker.link_day(day, themes)
        links.extend((day, theme_id, topic) for theme_id, topic in ids.items())
        if any(t.topic_id != ids[t.theme_id] for t in themes):
            changed[day] = ids
    if not by_day and not full:
        return {}
    last = max(by_day, default=until or since)
    topics = linker.topics.values() if full else (linker.topics[t] for t in linker.touched)
    store.save_links(max(last, until or last), [t.record() for t in topics], links, full)
    linker.touched.clear()  # saved: a kept linker saves only what the next days touch
    return changed


def links_of(
    store: StoreProtocol, config: TopicsConfig, dates: Iterable[dt.date]
) -> dict[dt.date, dict[str, TopicLink]]:
    """The topic links of the stored days ``dates`` (see ``history.day_links``): what their
    pages and emails link each theme to."""
    return day_links(store.topics(), store.topic_days(), dates, config)


def links_for(store: StoreProtocol, config: TopicsConfig, digest: Digest) -> dict[str, TopicLink]:
    """Topic id -> link of the day's themes; none before the day is linked (a backfill's
    workers render unlinked days: the backfill renders them again once it has linked them)."""
    if not config.enabled or not any(t.topic_id for t in digest.themes):
        return {}
    return links_of(store, config, [digest.date]).get(digest.date, {})


def with_topics(digest: Digest, ids: Mapping[str, str | None]) -> Digest:
    """``digest`` with each theme's ``topic_id`` from ``ids`` (None for themes not in it)."""
    themes = tuple(replace(t, topic_id=ids.get(t.id)) for t in digest.themes)
    return replace(digest, themes=themes)


_TAIL = '\n  "themes": ['


def patch_text(text: str, ids: Mapping[str, str | None]) -> str:
    """A ``digest.json`` text with the themes' topic ids set, equal to
    ``with_topics(Digest.from_json(...), ids).to_json_text()`` but made from the short tail
    (the themes and the trending batch, the last keys) without decoding every paper."""
    at = text.rindex(_TAIL)
    tail = json.loads("{" + text[at + 1 :])
    for theme in tail["themes"]:
        theme["topic_id"] = ids.get(theme["id"])
    return text[: at + 1] + json.dumps(tail, ensure_ascii=False, indent=2)[2:] + "\n"
