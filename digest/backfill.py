"""``digest backfill``: produce every day of a date range, resumably, then the site once.

Days come from dated listing files (``YYYY-MM-DD.*`` in a folder: only the
dates that have a file) or, without ``--input``, from the configured sources
for every calendar date.

- **store**: every day's listings are read and stored, oldest first, by this process
  (the store has one writer, and live sources are fetched politely, in order);
- **produce**: as soon as a day is stored it goes to a worker (``jobs`` of them, one
  per CPU by default) through :func:`digest.schedule.produce_day`, with ``site=False``
  and no email. A day reads only what was listed up to it (the store gives papers'
  fields as of that day), so it does not matter that later days are being stored
  meanwhile, nor which worker finishes first: the output is the same with any ``jobs``
  and equals day-by-day runs.

With topics on, the workers do not render their days (a day's page links each theme to
its topic, known once every earlier day is linked): this process links the days in date
order as they finish (:mod:`digest.topics.incremental`) and hands each day's render back
to the producers, so renders overlap the production of later days.

The producers (this process, or the forked pool) are in :mod:`digest.backfill_workers`.
Finished days are in the run log, so a second backfill (after Ctrl-C, a crash or
SIGKILL) skips them unless ``force``. The feed and the archive index are
regenerated once at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from digest import pipeline, sources
from digest.backfill_workers import DayJob, WorkerPool, Workers
from digest.config import Config
from digest.errors import DigestError, InputError
from digest.formats import date_from_name
from digest.models import Listing, SourceStatus
from digest.rerender import Renderer
from digest.schedule import DayOutcome, RunDay, is_done
from digest.store import Store
from digest.store.protocol import StoreProtocol
from digest.topics.incremental import DateOrderLinker, can_link_while_producing
from digest.words import plural

log = logging.getLogger("digest.backfill")


@dataclass
class BackfillReport:
    days: int = 0  # dates in the plan
    produced: list[DayOutcome] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)
    seconds: float = 0.0
    ingest_seconds: float = 0.0  # until every day was stored (days are produced meanwhile)
    interrupted: bool = False
    unrendered: list[dt.date] = field(default_factory=list)  # done, page missing: render only

    @property
    def failed(self) -> list[DayOutcome]:
        return [o for o in self.produced if o.failed]

    @property
    def papers(self) -> int:
        return sum(o.papers for o in self.produced)

    def summary(self) -> str:
        done = len(self.produced) - len(self.failed)
        rate = done / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"backfill: {plural(done, 'day')} produced, {len(self.skipped)} already done, "
            f"{len(self.failed)} failed, of {self.days}; {plural(self.papers, 'paper')} in "
            f"{self.seconds:.1f} s ({rate:.2f} days/s)"
        )
        if self.interrupted:
            text += "; interrupted: run the same command again to resume"
        return text


def plan(
    since: dt.date, until: dt.date, input_path: Path | None
) -> list[tuple[dt.date, tuple[Path, ...]]]:
    """The dates to backfill with their listing files (none: the configured sources)."""
    if until < since:
        raise InputError(f"--until {until} is before --since {since}")
    if input_path is None:
        n = (until - since).days + 1
        return [(since + dt.timedelta(days=i), ()) for i in range(n)]
    files = _dated_files(input_path)
    by_day: dict[dt.date, list[Path]] = {}
    for day, path in files:
        if since <= day <= until:
            by_day.setdefault(day, []).append(path)
    if not by_day:
        raise InputError(f"{input_path}: no listing named YYYY-MM-DD.* between {since} and {until}")
    return [(day, tuple(sorted(paths))) for day, paths in sorted(by_day.items())]


def _dated_files(input_path: Path) -> list[tuple[dt.date, Path]]:
    if input_path.is_dir():
        candidates: Iterable[Path] = input_path.iterdir()
    elif input_path.exists():
        candidates = [input_path]
    else:
        raise InputError(f"{input_path}: no such file or folder")
    out = []
    for path in candidates:
        day = date_from_name(path)
        if day is not None and path.is_file():
            out.append((day, path))
    return out


def backfill(
    config: Config,
    since: dt.date,
    until: dt.date,
    input_path: Path | None = None,
    *,
    force: bool = False,
    output: Path | None = None,
    progress: bool | None = None,
    run_day: RunDay = pipeline.run,
    on_day: Callable[[DayOutcome], None] | None = None,
    jobs: int | None = None,
) -> BackfillReport:
    """Produce every planned day not yet done, then regenerate feed and archive.

    ``jobs``: days produced at once, each in a worker process (None: one per CPU this
    process may use; 1: everything in this process). ``progress``: a tqdm bar on stderr
    (None: only when stderr is a terminal). Ctrl-C stops after the days being produced;
    what was finished is kept and the site is still regenerated.
    """
    days = plan(since, until, input_path)
    report = BackfillReport(days=len(days))
    out = output or config.output_path
    started = time.monotonic()
    with Store.open(config.database_path) as store:
        todo = _not_done(store, out, days, force, report)
    size = min(default_jobs() if jobs is None else jobs, max(len(todo), 1))
    if size < 1:
        raise InputError(f"--jobs must be at least 1, not {jobs}")
    if size > 1 and "fork" not in multiprocessing.get_all_start_methods():
        log.warning("this system cannot fork worker processes: producing one day at a time")
        size = 1
    job = DayJob(config, out, force, run_day)
    # the worker processes are forked before this process opens the store again: a SQLite
    # connection must not cross fork()
    workers = WorkerPool(job, size, len(todo)) if size > 1 else Workers(job)
    with contextlib.ExitStack() as stack:
        stack.callback(workers.close)
        linker = _linker(stack, config, out, todo, report, workers)
        with _bar(len(todo), progress) as bar:

            def record(outcome: DayOutcome) -> None:
                if linker:
                    linker.finished_day(outcome.date, not outcome.failed)
                _record(outcome, report, bar, on_day)
                if linker and not report.interrupted:  # stopped: the end links the rest
                    linker.advance()

            try:
                for day, statuses in _stored(config, todo, record):
                    workers.submit(day, statuses, record)
                report.ingest_seconds = time.monotonic() - started
                workers.finish(record)
                if linker:
                    linker.finish()
                    workers.rendered()
            except KeyboardInterrupt:
                report.interrupted = True
                workers.stop(record)
        if linker and report.interrupted:
            # the producers are stopped: what is left is linked here and rendered by spawned
            # processes, as when everything is linked at the end
            cancelled = workers.unrendered()
            workers.close()
            with Renderer(config, out, size) as renderer:
                linker.finish_with(renderer, cancelled)
    report.produced.sort(key=lambda o: o.date)
    with Store.open(config.database_path) as store:
        done = [o.date for o in report.produced if not o.failed] + report.unrendered
        if linker is None and done and config.topics.enabled:
            # in date order, here: each day's topics depend on every earlier day's; the
            # workers left the days unrendered, and each is rendered once, now, linked
            pipeline.link_all_topics(store, config, min(done), out, jobs=size, unrendered=done)
        # always: a run killed between its last day and this point left the site stale
        pipeline.publish_site(store, config, out, jobs=size)
    report.seconds = time.monotonic() - started
    return report


def _linker(
    stack: contextlib.ExitStack,
    config: Config,
    output: Path,
    todo: Sequence[tuple[dt.date, tuple[Path, ...]]],
    report: BackfillReport,
    workers: Workers,
) -> DateOrderLinker | None:
    """The days linked and rendered as they finish in date order (None: topics are off, or
    a day to produce comes before the last day linked: everything is linked at the end)."""
    if not config.topics.enabled:
        return None
    store = stack.enter_context(Store.open(config.database_path))
    days = [day for day, _ in todo]
    if not can_link_while_producing(store, days):
        return None
    return DateOrderLinker(store, config.topics, output, days, report.unrendered, workers.render)


def default_jobs() -> int:
    """One worker per CPU this process may run on; one process where fork() is missing."""
    if "fork" not in multiprocessing.get_all_start_methods():  # Windows
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _stored(
    config: Config,
    todo: Sequence[tuple[dt.date, tuple[Path, ...]]],
    record: Callable[[DayOutcome], None],
) -> Iterator[tuple[dt.date, tuple[SourceStatus, ...]]]:
    """Read and store every day's listings, oldest first, and yield each day once it is
    stored. A day whose sources cannot be read at all is recorded failed and not
    produced; the next backfill retries it."""
    with Store.open(config.database_path) as store:
        for day, inputs in todo:
            listings = _collect(config, day, inputs, store)
            if not isinstance(listings, Exception):
                try:
                    pipeline.store_listings(store, listings, day)
                except Exception as exc:  # one broken day must not stop the others
                    listings = exc
            if isinstance(listings, Exception):
                log.debug("ingest of %s failed", day, exc_info=listings)
                record(DayOutcome(day, "error", error=_message(listings)))
                continue
            yield day, tuple(SourceStatus.of(x) for x in listings)


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, DigestError) else f"{type(exc).__name__}: {exc}"


def _collect(
    config: Config, day: dt.date, inputs: Sequence[Path], store: StoreProtocol | None
) -> list[Listing] | Exception:
    try:
        return sources.collect(config, day, inputs, store)
    except Exception as exc:  # one broken day must not stop the others
        return exc


def _record(
    outcome: DayOutcome,
    report: BackfillReport,
    bar: tqdm,
    on_day: Callable[[DayOutcome], None] | None,
) -> None:
    bar.set_postfix_str(outcome.date.isoformat(), refresh=False)
    if outcome.status == "skipped":  # another process finished it meanwhile
        report.skipped.append(outcome.date)
    else:
        report.produced.append(outcome)
    if outcome.failed:
        bar.write(f"digest: warning: {outcome.summary()}", file=sys.stderr)
    bar.update(1)
    if on_day:
        on_day(outcome)


def _not_done(
    store: StoreProtocol,
    output: Path,
    days: Sequence[tuple[dt.date, tuple[Path, ...]]],
    force: bool,
    report: BackfillReport,
) -> list[tuple[dt.date, tuple[Path, ...]]]:
    if force:
        return list(days)
    todo = []
    for day, inputs in days:
        if is_done(store.runs_for(day), want_send=False):
            report.skipped.append(day)
            if not (output / day.isoformat() / "index.html").is_file():
                # a backfill killed after producing the day, before rendering it
                report.unrendered.append(day)
        else:
            todo.append((day, inputs))
    return todo


def _bar(total: int, enabled: bool | None) -> tqdm:
    return tqdm(
        total=total,
        unit="day",
        file=sys.stderr,
        disable=(not sys.stderr.isatty()) if enabled is None else not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
    )
