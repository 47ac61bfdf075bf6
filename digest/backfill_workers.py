"""The backfill's producers: days produced in this process (``Workers``, ``--jobs 1``) or in
forked worker processes (``WorkerPool``), each day through :func:`digest.schedule.produce_day`
with ``site=False`` and no email. :mod:`digest.backfill` plans, stores and submits the days.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path

from digest.config import Config
from digest.models import SourceStatus
from digest.schedule import DayOutcome, RunDay, produce_day
from digest.store import Store
from digest.store.protocol import StoreProtocol
from digest.topics.history import TopicLink
from digest.topics.incremental import TopicIds, with_topic_ids

LABEL = "digest backfill"
MAX_RUN_DAYS = 16  # consecutive days a worker is given at most at once


@dataclass(frozen=True)
class DayJob:
    """What every worker needs to produce a day (inherited by fork, never pickled)."""

    config: Config
    output: Path
    force: bool
    run_day: RunDay

    def produce(
        self, store: StoreProtocol, day: dt.date, statuses: Sequence[SourceStatus]
    ) -> DayOutcome:
        return produce_day(
            store, self.config, day,
            label=LABEL, output=self.output, site=False, force=self.force,
            run_day=self.run_day,
            run_options={"collected": statuses, "store": store, "link_topics": False},
        )  # fmt: skip


class Workers:
    """Days produced in this process, each as soon as it is stored (``jobs=1``)."""

    def __init__(self, job: DayJob) -> None:
        self.job = job
        self.store: StoreProtocol | None = None

    def submit(
        self, day: dt.date, statuses: tuple[SourceStatus, ...], record: Callable[[DayOutcome], None]
    ) -> None:
        """Produce ``day`` (its listings are stored, and every earlier day's), recording its
        outcome when it ends: here at once, in a pool when a worker is done with it."""
        if self.store is None:
            self.store = Store.open(self.job.config.database_path)
        record(self.job.produce(self.store, day, statuses))

    def finish(self, record: Callable[[DayOutcome], None]) -> None:
        """Wait for every day submitted, recording each outcome."""

    def render(self, day: dt.date, ids: TopicIds, links: Mapping[str, TopicLink]) -> None:
        """Set a produced and linked day's topic ids in its ``digest.json`` and render it
        (page, email, text, Markdown), here or, in a pool, by a worker between the days it
        produces."""
        if self.store is None:
            self.store = Store.open(self.job.config.database_path)
        _render(self.job, self.store, day, ids, links)

    def rendered(self) -> None:
        """Wait for every render handed over; the first failure is raised."""

    def unrendered(self) -> list[dt.date]:
        """The days handed to :meth:`render` whose render did not complete (after Ctrl-C)."""
        return []

    def stop(self, record: Callable[[DayOutcome], None]) -> None:
        """After Ctrl-C: drop the days not started, let the others end and record them."""

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


class WorkerPool(Workers):
    """Days produced in forked worker processes, ``size`` at a time, while this process
    reads and stores the next ones.

    A worker is given runs of consecutive days: a day's background and trending window
    are the days just before it, which the worker then has decoded and tokenized
    already (days dealt out one by one made each worker redo its neighbour's days).
    Runs shrink towards the end so that the workers finish together.
    """

    def __init__(self, job: DayJob, size: int, days: int) -> None:
        super().__init__(job)
        self.size = size
        self.unsubmitted = days  # days not given to a worker yet
        context = multiprocessing.get_context("fork")
        self.outcomes: multiprocessing.Queue[DayOutcome] = context.Queue()
        self.stopping = context.Event()
        self.pool = ProcessPoolExecutor(
            max_workers=size,
            mp_context=context,
            initializer=_start_worker,
            initargs=(job, os.getpid(), self.outcomes, self.stopping),
        )
        self.pool.submit(os.getpid).result()  # forks every worker now, before the store opens
        self.run: list[tuple[dt.date, tuple[SourceStatus, ...]]] = []
        self.running: dict[Future[None], list[dt.date]] = {}  # days not reported yet
        self.waiting: set[dt.date] = set()
        self.renders: dict[Future[None], dt.date] = {}

    def submit(
        self, day: dt.date, statuses: tuple[SourceStatus, ...], record: Callable[[DayOutcome], None]
    ) -> None:
        self.run.append((day, statuses))
        self.unsubmitted -= 1
        if len(self.run) >= self._run_length():
            self._send_run()
        self._report(record, timeout=0)

    def _run_length(self) -> int:
        # about a quarter of each worker's share of what is left: long runs while there is
        # much to do, single days at the end
        left = self.unsubmitted + len(self.run)
        return max(1, min(MAX_RUN_DAYS, left // (4 * self.size)))

    def _send_run(self) -> None:
        if self.run:
            days = [day for day, _ in self.run]
            self.running[self.pool.submit(_produce_in_worker, self.run)] = days
            self.waiting.update(days)
            self.run = []

    def finish(self, record: Callable[[DayOutcome], None]) -> None:
        self._send_run()
        while self.waiting:
            self._report(record, timeout=0.2)

    def render(self, day: dt.date, ids: TopicIds, links: Mapping[str, TopicLink]) -> None:
        # queued behind the runs submitted so far: it overlaps the production of later days
        self.renders[self.pool.submit(_render_in_worker, day, dict(ids), dict(links))] = day

    def rendered(self) -> None:
        for future in list(self.renders):
            future.result()
            del self.renders[future]

    def unrendered(self) -> list[dt.date]:
        return sorted(
            day
            for future, day in self.renders.items()
            if not future.done() or future.cancelled() or future.exception() is not None
        )

    def _report(self, record: Callable[[DayOutcome], None], timeout: float) -> None:
        """Record the outcomes the workers sent; days of a run whose worker died are failed."""
        try:
            while True:
                outcome = (
                    self.outcomes.get(timeout=timeout) if timeout else self.outcomes.get_nowait()
                )
                timeout = 0
                self.waiting.discard(outcome.date)
                record(outcome)
        except queue.Empty:
            pass
        for future in [f for f in self.running if f.done()]:
            days = self.running.pop(future)
            if future.cancelled() or future.exception() is None:
                continue
            self._report(record, timeout=0)  # what the worker sent before it died
            for day in days:
                if day in self.waiting:
                    self.waiting.discard(day)
                    record(_failed(day, future.exception()))

    def stop(self, record: Callable[[DayOutcome], None]) -> None:
        self.stopping.set()  # the workers end the days they are producing, then stop
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.run = []
        self.waiting.clear()
        self._report(record, timeout=0)

    def close(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.outcomes.close()


_worker: dict[str, object] = {}  # a worker process's job, store and channels


def _start_worker(
    job: DayJob, parent: int, outcomes: multiprocessing.Queue[DayOutcome], stopping: Event
) -> None:
    # Ctrl-C reaches the whole process group: the parent decides, and lets the days finish
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _worker.update(
        job=job, store=Store.open(job.config.database_path), outcomes=outcomes, stopping=stopping
    )


def _exit_with_parent(parent: int) -> None:
    """A killed backfill leaves no orphans: the day a worker was producing stays not done
    (its lock's owner is dead) and the next backfill produces it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _produce_in_worker(run: list[tuple[dt.date, tuple[SourceStatus, ...]]]) -> None:
    """Produce a run of consecutive days, sending each outcome as soon as it is known."""
    job, store = _worker["job"], _worker["store"]
    outcomes, stopping = _worker["outcomes"], _worker["stopping"]
    assert isinstance(job, DayJob) and isinstance(store, Store)
    for day, statuses in run:
        if stopping.is_set():  # type: ignore[attr-defined]
            return
        outcomes.put(job.produce(store, day, statuses))  # type: ignore[attr-defined]


def _render_in_worker(day: dt.date, ids: TopicIds, links: Mapping[str, TopicLink]) -> None:
    job, store = _worker["job"], _worker["store"]
    assert isinstance(job, DayJob) and isinstance(store, Store)
    _render(job, store, day, ids, links)


def _render(
    job: DayJob, store: StoreProtocol, day: dt.date, ids: TopicIds, links: Mapping[str, TopicLink]
) -> None:
    from digest.rerender import render_text

    text = with_topic_ids(store, job.output, day, ids)
    if text is not None:
        render_text(job.config, job.output, text, links)


def _failed(day: dt.date, exc: BaseException | None) -> DayOutcome:
    if isinstance(exc, BrokenProcessPool):
        return DayOutcome(day, "error", error="a worker process died; run again to produce it")
    return DayOutcome(day, "error", error=f"{type(exc).__name__}: {exc}")
