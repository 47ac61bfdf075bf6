"""Days rendered once topics are linked: their pages and emails link each theme to its topic's
page. A re-link renders the days whose ids changed, and so does a backfill that links at its
end (one that re-links, or was interrupted: otherwise it links and renders its days as they
finish, in its own workers, :mod:`digest.topics.incremental`).

Done one by one in the backfill process, that took 0.1 s a day, as long as linking the days
itself (bench/bench_topics.py). So with ``jobs`` above 1 the days are rendered by that many
worker processes, started fresh ("spawn": the backfill process holds the store open, and a
SQLite connection must not cross fork()); they render a day's stored ``digest.json`` text
and write its files through ``digest.writer``, and never open the store.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

from digest import writer
from digest.config import Config
from digest.models import Digest
from digest.topics.history import TopicLink

IN_FLIGHT = 2  # days queued per worker: enough to keep it busy, few texts held at once


def render_text(config: Config, output: Path, text: str, links: Mapping[str, TopicLink]) -> None:
    """Render the day of a ``digest.json`` text (page, email, text part) and write it."""
    from digest.pipeline import day_files

    digest = Digest.from_json(json.loads(text))
    writer.write_files(output, day_files(digest, config, links))


class Renderer:
    """``add(text, links)`` renders a day, here (``jobs`` 1) or in a worker process; leaving
    the ``with`` block waits for every day and raises the first failure."""

    def __init__(self, config: Config, output: Path, jobs: int = 1) -> None:
        self.config = config
        self.output = output
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.pending: deque[Future[None]] = deque()

    def __enter__(self) -> Renderer:
        if self.jobs > 1:
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context)
        return self

    def add(self, text: str, links: Mapping[str, TopicLink]) -> None:
        if self.pool is None:
            render_text(self.config, self.output, text, links)
            return
        while len(self.pending) >= self.jobs * IN_FLIGHT:
            self.pending.popleft().result()
        self.pending.append(
            self.pool.submit(render_text, self.config, self.output, text, dict(links))
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.pool is None:
            return
        try:
            if kind is None:
                while self.pending:
                    self.pending.popleft().result()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
