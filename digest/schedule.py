"""``digest schedule``: produce (and send) each day's digest at the configured local time.

Entry points: :class:`Scheduler` (``serve`` for the daemon, ``catch_up`` for one
pass) and :func:`produce_day`, which backfills share. Every day goes through
``pipeline.run`` under the day's lock from the store, and is skipped when the
run log already has it, so two schedulers, a backfill and a manual ``digest run``
never produce or send one day twice.

Catch-up: at start and at each tick, every due date (a date on which the cron
fires, up to now, within ``schedule.catch_up_days``) after the last completed
digest is produced, oldest first. Which of them are emailed is
``schedule.email_caught_up``: ``newest`` (the newest of the pass), ``all``, or
``none`` (only a day produced on time, within ``misfire_grace_s`` of its fire time).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from digest import pipeline
from digest.calendar import due_dates, parse_cron
from digest.config import Config
from digest.errors import DigestError
from digest.store import Store
from digest.store.protocol import StoreProtocol
from digest.store.runs import LockBusy, LockInfo, RunRecord, day_lock_name, day_status
from digest.words import plural

log = logging.getLogger("digest.schedule")

SCHEDULER_LOCK = "scheduler"
WAKE_CHECK_MIN = 5
RunDay = Callable[..., pipeline.RunResult]


@dataclass(frozen=True)
class DayOutcome:
    """What happened to one day: ``ok``, ``empty``, ``error`` (retried later) or ``skipped``."""

    date: dt.date
    status: str
    papers: int = 0
    themes: int = 0
    sent: int | None = None
    sources: tuple[tuple[str, str, int], ...] = ()  # (name, status, papers)
    error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "error"

    def summary(self) -> str:
        if self.status == "skipped":
            return f"{self.date}: already done ({self.error or 'run log'})"
        head = f"{self.date}: {self.status}, {plural(self.papers, 'paper')}, {plural(self.themes, 'theme')}"
        sent = f"sent {self.sent}" if self.sent is not None else "not emailed"
        srcs = ", ".join(f"{n} {s} ({p})" for n, s, p in self.sources) or "no sources"
        tail = f"; error: {self.error}" if self.error else ""
        return f"{head}, {sent}; sources: {srcs}; {self.seconds:.1f} s{tail}"


# ------------------------------------------------------------------ catch-up


def email_plan(days: Sequence[dt.date], on_time: dt.date | None, policy: str) -> set[dt.date]:
    """Which of a catch-up pass's ``days`` are emailed under ``schedule.email_caught_up``."""
    if not days:
        return set()
    if policy == "all":
        return set(days)
    if policy == "none":
        return {on_time} & set(days) if on_time else set()
    return {max(days)}


# ------------------------------------------------------------------ one day


def is_done(records: Sequence[RunRecord], want_send: bool) -> bool:
    """Whether the run log makes another attempt at a day pointless."""
    if not any(r.completed for r in records):
        return False
    return not want_send or any(r.sent is not None for r in records)


def produce_day(
    store: StoreProtocol,
    config: Config,
    day: dt.date,
    *,
    send: bool = False,
    label: str = "digest schedule",
    inputs: Sequence[Path] = (),
    output: Path | None = None,
    site: bool = True,
    force: bool = False,
    run_day: RunDay = pipeline.run,
    run_options: Mapping[str, Any] | None = None,
) -> DayOutcome:
    """Produce ``day`` under its lock unless the run log says it is done (``force`` redoes it).

    Waits when another process holds the day, then re-reads the run log, so the
    loser of a race skips instead of redoing. Errors of the run become an
    ``error`` outcome, logged, never raised.
    """

    def waiting(holder: LockInfo) -> None:
        log.info("%s: being produced by %s; waiting", day, holder.describe())

    with store.hold_lock(day_lock_name(day), label, on_wait=waiting):
        records = store.runs_for(day)
        if not force and is_done(records, send):
            last = next(r for r in reversed(records) if r.completed)
            return DayOutcome(
                day, "skipped", error=f"{last.status} by {last.label} at {last.started_at}"
            )
        if records and records[-1].interrupted:
            r = records[-1]
            log.warning(
                "%s: the last attempt (pid %s) died during '%s'; redoing", day, r.pid, r.stage
            )
        started = time.monotonic()
        try:
            # run_options: a backfill's (its worker's store, the statuses of the listings it
            # stored already: see pipeline.run)
            result = run_day(
                config, day, inputs, output, send=send, site=site, **(run_options or {})
            )
        except DigestError as exc:
            return DayOutcome(day, "error", error=str(exc), seconds=time.monotonic() - started)
        except Exception as exc:  # a bug in a stage must not stop the other days
            log.debug("run of %s failed", day, exc_info=True)
            return DayOutcome(
                day,
                "error",
                error=f"{type(exc).__name__}: {exc}",
                seconds=time.monotonic() - started,
            )
    d = result.digest
    return DayOutcome(
        day,
        day_status(result.sources, len(d.papers)),
        papers=len(d.papers),
        themes=len(d.themes),
        sent=result.sent,
        sources=tuple((x.name, x.status, x.papers) for x in result.sources),
        error="; ".join(f"{x.name}: {x.error}" for x in result.failed_sources) or None,
        seconds=time.monotonic() - started,
    )


# ------------------------------------------------------------------ the daemon


class Scheduler:
    """The cron job and its catch-up, over one configuration."""

    def __init__(
        self,
        config: Config,
        send: bool = True,
        run_day: RunDay = pipeline.run,
        label: str = "digest schedule",
    ) -> None:
        self.config = config
        self.tz = ZoneInfo(config.schedule.timezone)
        try:
            self.trigger = parse_cron(config.schedule.cron, self.tz)
        except ValueError as exc:
            raise DigestError(f'schedule.cron "{config.schedule.cron}": {exc}') from None
        self.send = send
        self.run_day = run_day
        self.label = label
        self.stop_requested = threading.Event()
        self._pass_lock = threading.Lock()  # one catch-up pass at a time in this process

    def catch_up(self, now: dt.datetime | None = None) -> list[DayOutcome]:
        """Produce every due day since the last completed one, oldest first (one pass)."""
        now = (now or dt.datetime.now(dt.UTC)).astimezone(self.tz)
        cfg = self.config.schedule
        due = due_dates(self.trigger, now, cfg.catch_up_days)
        if not due:
            return []
        newest, newest_fire = due[-1]
        outcomes = []
        with Store.open(self.config.database_path) as store:
            last = store.last_completed_day()
            todo = [d for d, _ in due if last is not None and d > last]
            if newest not in todo:
                # e.g. done earlier by a manual run without email: it may still need sending
                todo.append(newest)
            late = (now - newest_fire).total_seconds() > cfg.misfire_grace_s
            plan = email_plan(todo, None if late else newest, cfg.email_caught_up)
            if len(todo) > 1:
                log.info("catching up %d days: %s .. %s", len(todo), todo[0], todo[-1])
            for day in todo:
                if self.stop_requested.is_set():
                    log.info("stop requested: leaving %s and later for the next start", day)
                    break
                outcome = produce_day(
                    store,
                    self.config,
                    day,
                    send=self.send and day in plan,
                    label=self.label,
                    run_day=self.run_day,
                )
                quiet = outcome.status == "skipped"  # the normal case for a repeated tick
                level = logging.WARNING if outcome.failed else logging.INFO
                log.log(logging.DEBUG if quiet else level, "%s", outcome.summary())
                outcomes.append(outcome)
            self._weekly(store, newest)
        return outcomes

    def _weekly(self, store: StoreProtocol, newest: dt.date) -> None:
        """On ``weekly.weekday``, the previous week's digest: built (again, cheaply) at each
        pass of that day, emailed to the weekly subscribers exactly once (delivery log)."""
        from digest import weekly
        from digest.config import WEEKDAYS

        if newest.weekday() != WEEKDAYS.index(self.config.weekly.weekday):
            return
        try:
            built = weekly.build_week(store, self.config, weekly.last_full_week(newest))
            weekly.publish_week(store, self.config, built, self.config.output_path)
            if self.send:
                log.info("%s", weekly.send_week(store, self.config, built))
        except DigestError as exc:
            log.error("weekly digest failed: %s", exc)

    def next_fire(self, now: dt.datetime | None = None) -> dt.datetime | None:
        now = (now or dt.datetime.now(dt.UTC)).astimezone(self.tz)
        fire: dt.datetime | None = self.trigger.get_next_fire_time(None, now)
        return fire

    def behind(self, now: dt.datetime | None = None) -> bool:
        """Whether the newest due date has had no attempt at all: a run was missed (asleep)."""
        due = due_dates(
            self.trigger, now or dt.datetime.now(dt.UTC), self.config.schedule.catch_up_days
        )
        if not due:
            return False
        with Store.open(self.config.database_path) as store:
            return not store.runs_for(due[-1][0])

    def _tick(self) -> None:
        if not self._pass_lock.acquire(blocking=False):
            return  # the other job is in a pass already
        try:
            self.catch_up()
        except DigestError as exc:  # e.g. the database is unreadable: say so, try next tick
            log.error("scheduled run failed: %s", exc)
        except Exception:
            log.exception("scheduled run failed")
        finally:
            self._pass_lock.release()
        fire = self.next_fire()
        if fire is not None and not self.stop_requested.is_set():
            log.info("next run at %s", fire.isoformat())

    def _wake_check(self) -> None:
        try:
            missed = self.behind()
        except DigestError as exc:
            log.error("wake-up check failed: %s", exc)
            return
        if missed:
            log.info("a scheduled run was missed (asleep or stopped): catching up")
            self._tick()

    def serve(self) -> None:
        """Run until SIGINT/SIGTERM: a catch-up now, then one at each cron time.

        A signal lets the day in progress finish (each stage commits or rolls back as a
        whole) and stops before the next; a second signal exits at once, which SQLite
        and the atomic file writes also survive.
        """
        with Store.open(self.config.database_path) as store:
            try:
                with store.hold_lock(SCHEDULER_LOCK, self.label, wait=False):
                    previous = self._install_signal_handlers()
                    try:
                        self._serve_locked()
                    finally:
                        for signum, handler in previous.items():
                            signal.signal(signum, handler)
            except LockBusy as busy:
                raise DigestError(
                    f"another scheduler is running on this database: {busy.holder.describe()}"
                ) from None

    def _serve_locked(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        sched = BackgroundScheduler(timezone=self.tz)
        sched.add_job(
            self._tick,
            self.trigger,
            id="digest",
            name="daily digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=self.config.schedule.misfire_grace_s,
            next_run_time=dt.datetime.now(self.tz),  # the catch-up at start
        )
        # A suspended laptop: the cron job's wait does not count the time asleep (monotonic
        # clock), and a run missed by more than the grace time is dropped. This cheap check
        # catches up within WAKE_CHECK_MIN of waking.
        sched.add_job(
            self._wake_check,
            "interval",
            minutes=WAKE_CHECK_MIN,
            id="wake-check",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        cfg = self.config.schedule
        log.info(
            "scheduler started (pid %d): cron '%s' in %s, catch-up %d days, email %s",
            os.getpid(),
            cfg.cron,
            self.tz.key,
            cfg.catch_up_days,
            "on" if self.send else "off",
        )
        sched.start()
        self.stop_requested.wait()
        log.info("stopping: letting the current day finish")
        sched.shutdown(wait=True)
        log.info("scheduler stopped")

    def _install_signal_handlers(self) -> dict[int, Any]:
        """SIGINT/SIGTERM ask for a stop; returns the handlers they replace."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def handle(signum: int, frame: FrameType | None) -> None:
            if self.stop_requested.is_set():
                log.warning("second %s: exiting now", signal.Signals(signum).name)
                os._exit(128 + signum)
            log.info("%s received", signal.Signals(signum).name)
            self.stop_requested.set()

        return {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
