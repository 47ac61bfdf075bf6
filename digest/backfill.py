"""``digest backfill``: produce every day of a date range, resumably, then the site once.

Days come from dated listing files (``YYYY-MM-DD.*`` in a folder: only the
dates that have a file) or, without ``--input``, from the configured sources
for every calendar date. Each day goes through :func:`digest.schedule.produce_day`
with ``site=False`` and no email; finished days are in the run log, so a second
backfill (after Ctrl-C, a crash or SIGKILL) skips them unless ``force``. The
feed and the archive index are regenerated once at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from digest import pipeline
from digest.config import Config
from digest.errors import InputError
from digest.formats import date_from_name
from digest.schedule import DayOutcome, RunDay, is_done, produce_day
from digest.store import Store

log = logging.getLogger("digest.backfill")

LABEL = "digest backfill"


@dataclass
class BackfillReport:
    days: int = 0  # dates in the plan
    produced: list[DayOutcome] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

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
            f"backfill: {done} days produced, {len(self.skipped)} already done, "
            f"{len(self.failed)} failed, of {self.days}; {self.papers} papers in "
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
) -> BackfillReport:
    """Produce every planned day not yet done, oldest first, then regenerate feed and archive.

    ``progress``: a tqdm bar on stderr (None: only when stderr is a terminal).
    Ctrl-C stops after the current day; what was finished is kept and the site is
    still regenerated.
    """
    days = plan(since, until, input_path)
    report = BackfillReport(days=len(days))
    out = output or config.output_path
    started = time.monotonic()
    with Store.open(config.database_path) as store:
        todo = _not_done(store, days, force, report)
        bar = _progress_bar(len(todo), progress)
        try:
            for day, inputs in todo:
                bar.set_postfix_str(day.isoformat(), refresh=False)
                outcome = produce_day(
                    store, config, day,
                    label=LABEL, inputs=inputs, output=out, site=False, force=force,
                    run_day=run_day,
                )  # fmt: skip
                if outcome.status == "skipped":  # another process finished it meanwhile
                    report.skipped.append(day)
                else:
                    report.produced.append(outcome)
                if outcome.failed:
                    bar.write(f"digest: warning: {outcome.summary()}", file=sys.stderr)
                if on_day:
                    on_day(outcome)
                bar.update(1)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            bar.close()
        # always: a run killed between its last day and this point left the site stale
        pipeline.publish_site(store, config, out)
    report.seconds = time.monotonic() - started
    return report


def _not_done(
    store: Store,
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
        else:
            todo.append((day, inputs))
    return todo


def _progress_bar(total: int, enabled: bool | None) -> tqdm:
    return tqdm(
        total=total,
        unit="day",
        file=sys.stderr,
        disable=(not sys.stderr.isatty()) if enabled is None else not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
    )
