"""A backfill's topics linked while it runs: each day as soon as it and every planned day
before it are finished, and its render handed back to the producing workers.

Linking is sequential (a day's topics depend on every earlier day's), but it needs only the
earlier days: once the planned days up to D are finished (produced, failed, or done before
this run), the days up to D are linked and rendered. Without this, the backfill linked and
rendered every day after the last one was produced, and that render (7.2 s of the 228
arxiv-daily days, 2 processes) did not overlap production: topics added 25% to the backfill
(docs/topics.md). Days are linked a few at a time (``LINK_EVERY``): each step reads every
topic and every linked day back from the store for the days' links.

Used only when every day this backfill produces comes after the last day linked (a new
backfill, or one that goes on where the last ended); otherwise the backfill re-links from
the first day at its end, as a re-run of an earlier day does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from digest import writer
from digest.config import TopicsConfig
from digest.rerender import Renderer
from digest.store.protocol import StoreProtocol
from digest.topics import Linker, link_topics, patch_text
from digest.topics.history import TopicLink, day_links

LINK_EVERY = 8  # finished days in date order linked at once
RISING_DAYS = 28  # the longer window of history._rates: a day's links need no older days

TopicIds = Mapping[str, str | None]  # theme id -> topic id, of one day
RenderDay = Callable[[dt.date, TopicIds, Mapping[str, TopicLink]], None]


def with_topic_ids(store: StoreProtocol, output: Path, day: dt.date, ids: TopicIds) -> str | None:
    """The day's stored ``digest.json`` text with its themes' topic ids set (in the store and
    in ``output`` when they changed); None when the day has no digest (a run that failed
    after storing its themes)."""
    text = store.digest_text(day)
    if text is None:
        return None
    patched = patch_text(text, ids)
    if patched != text:
        store.replace_digest_text(day, patched)
        writer.write_files(output, {f"{day.isoformat()}/digest.json": patched})
    return patched


def can_link_while_producing(store: StoreProtocol, todo: Sequence[dt.date]) -> bool:
    """Whether the days ``todo`` all come after the last day linked (so linking them in date
    order as they finish gives what day-by-day runs give)."""
    until = store.linked_until()
    return bool(todo) and (until is None or min(todo) > until)


class DateOrderLinker:
    """Links and renders the backfill's days in date order as they finish.

    ``todo``: the days this backfill produces; ``unrendered``: days done before it without
    their page (a backfill killed between producing and rendering them). ``finished(day,
    ok)`` notes a day's outcome, ``advance()`` links and renders what it can,
    ``finish()`` links and renders every day left (after the last day was produced).
    ``render(day, ids, links)`` sets the day's topic ids (:func:`with_topic_ids`) and
    renders it: in a worker of the pool, which reads the day's text once for both.
    """

    def __init__(
        self,
        store: StoreProtocol,
        config: TopicsConfig,
        output: Path,
        todo: Iterable[dt.date],
        unrendered: Iterable[dt.date],
        render: RenderDay,
    ) -> None:
        self.store = store
        self.config = config
        self.output = output
        self.render = render
        self.pending = sorted(todo, reverse=True)  # not finished yet, the earliest last
        self.first = self.pending[-1] if self.pending else dt.date.today()
        self.finished: set[dt.date] = set()
        self.to_render = set(unrendered)  # finished, not rendered
        self.ready = 0  # days finished in date order since the last link
        self.linker: Linker | None = None  # the topics as of ``linked_until``
        self.linked_until: dt.date | None = None

    def finished_day(self, day: dt.date, ok: bool) -> None:
        self.finished.add(day)
        if ok:
            self.to_render.add(day)
        while self.pending and self.pending[-1] in self.finished:
            self.pending.pop()
            self.ready += 1

    def advance(self) -> None:
        """Link the days before the first unfinished one, when enough of them are new."""
        if self.ready >= LINK_EVERY:
            self._link(self.pending[-1] - dt.timedelta(days=1) if self.pending else None)

    def finish(self) -> None:
        """Link every stored day not linked yet, and render every day not rendered."""
        self._link(None)

    def finish_with(self, renderer: Renderer, unrendered: Iterable[dt.date]) -> None:
        """:meth:`finish`, the renders (and those of the days ``unrendered``: handed over,
        not done) by ``renderer``: after Ctrl-C, when the producers are stopped."""
        self.to_render.update(unrendered)

        def render(day: dt.date, ids: TopicIds, links: Mapping[str, TopicLink]) -> None:
            text = with_topic_ids(self.store, self.output, day, ids)
            if text is not None:
                renderer.add(text, links)

        self.render = render
        self.finish()

    def _link(self, upto: dt.date | None) -> None:
        self.ready = 0
        until = self.store.linked_until()
        linker = self.linker
        if linker is None or until != self.linked_until:  # first step, or linked meanwhile
            linker = Linker(self.config, self.store.topics() if until else ())
        self.linker = None  # a step interrupted before its links are saved leaves it ahead
        # a date after the last one linked: an incremental link, never a re-link
        since = until + dt.timedelta(days=1) if until else self.first
        link_topics(self.store, self.config, since, upto=upto, linker=linker)
        self.linker, self.linked_until = linker, self.store.linked_until()
        days = sorted(d for d in self.to_render if upto is None or d <= upto)
        if not days:
            return
        # a day's links count its topics' papers over the RISING_DAYS before it
        linked = [
            row
            for row in self.store.day_themes(days[0] - dt.timedelta(days=RISING_DAYS))
            if row.topic_id is not None
        ]
        ids: dict[dt.date, dict[str, str | None]] = {d: {} for d in days}
        for row in linked:
            if row.date in ids:
                ids[row.date][row.theme_id] = row.topic_id
        topics = [t.record() for t in self.linker.topics.values()]
        links = day_links(topics, linked, days, self.config)
        for day in days:
            # the ids from the store, not only the changed ones: a backfill killed between
            # linking a day and setting its ids left them unset
            self.render(day, ids[day], links.get(day, {}))
            self.to_render.discard(day)
