"""Which day is "today": the digest date of a scheduled run, and each source's listing date.

The rules the scheduler uses (also in docs/operations.md):

* **Digest date**: the calendar date, in ``schedule.timezone``, of the cron fire
  time the run belongs to. A run at 07:30 Europe/Berlin on 2025-03-30 produces
  the digest of 2025-03-30, whatever the UTC date is. A late or caught-up run
  keeps the date of the fire time it stands for, not the date it ran on.
* **Daily Papers** (``hf_daily``) is keyed by UTC date: the listing of digest
  date D is the Daily Papers page of D.
* **arXiv** (``arxiv_rss``) announces Sunday to Thursday at 20:00 US/Eastern;
  that announcement is the listing dated the next day (Monday to Friday). There
  is no announcement on Friday and Saturday nights, so no arXiv listing is dated
  Saturday or Sunday; holidays are not predicted here (arXiv publishes its
  schedule yearly) and show up as a feed whose channel date is older than
  expected. The sources report such a feed as ``stale``; the day's digest then
  holds only the other sources' papers (or is recorded as empty), and the stale
  papers are never taken as a new day.

The schedule's cron line is parsed here too (:func:`parse_cron`, :func:`due_dates`).
Nothing here does I/O; "now" is always an argument.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

ARXIV_TZ = ZoneInfo("America/New_York")
ARXIV_ANNOUNCE_AT = dt.time(20, 0)
_SUN_TO_THU = {6, 0, 1, 2, 3}  # date.weekday(): Monday is 0
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def digest_date(fire_time: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The digest date a scheduled run at ``fire_time`` (aware) stands for."""
    return fire_time.astimezone(tz).date()


def is_arxiv_listing_day(day: dt.date) -> bool:
    """Whether arXiv normally has a listing dated ``day`` (Monday to Friday; holidays aside)."""
    return day.weekday() < 5


def latest_arxiv_listing(now: dt.datetime) -> dt.date:
    """The date of the newest arXiv listing announced at or before ``now`` (aware)."""
    local = now.astimezone(ARXIV_TZ)
    evening = local.date() if local.time() >= ARXIV_ANNOUNCE_AT else local.date() - dt.timedelta(1)
    while evening.weekday() not in _SUN_TO_THU:
        evening -= dt.timedelta(days=1)
    return evening + dt.timedelta(days=1)


def expected_arxiv_listing(day: dt.date) -> dt.date:
    """The arXiv listing a digest of ``day`` should carry: ``day`` itself, or on a weekend the
    Friday before (which the previous digest already carried, so a feed still showing it is stale)."""
    while not is_arxiv_listing_day(day):
        day -= dt.timedelta(days=1)
    return day


# ------------------------------------------------------------------ cron


def parse_cron(expr: str, tz: ZoneInfo | str) -> CronTrigger:
    """A CronTrigger for a standard 5-field crontab line, in ``tz``.

    APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0 (7 too),
    so the weekday field is rewritten into names before it reaches APScheduler.
    Raises ``ValueError`` with APScheduler's message for a bad field.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields like '30 7 * * *', got {len(fields)}")
    minute, hour, day, month, dow = fields
    from apscheduler.triggers.cron import CronTrigger

    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_dow(dow), timezone=zone
    )


def send_time(day: dt.date, cron: str, tz: ZoneInfo | str) -> dt.datetime:
    """When the digest of ``day`` is due: the cron's first fire on that date in ``tz``
    (aware, UTC). Feeds date a day's items by it, so a backfilled year reads as its own
    days, not as new today. A date the cron skips (a weekday-only line on a Sunday) takes
    the time of day of the cron's next fire."""
    trigger = parse_cron(cron, tz)
    zone = trigger.timezone
    midnight = dt.datetime.combine(day, dt.time(), zone)
    fire = trigger.get_next_fire_time(None, midnight)
    if fire is None:  # a cron that never fires again: the start of the day
        return midnight.astimezone(dt.UTC)
    local = fire.astimezone(zone)
    if local.date() != day:
        local = dt.datetime.combine(day, local.time(), zone)
    return local.astimezone(dt.UTC)


def _cron_dow(field_: str) -> str:
    if field_ == "*":
        return "*"
    days: set[int] = set()
    for part in field_.lower().split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in day-of-week field '{field_}'")
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            lo, hi = _dow_number(a), _dow_number(b)
        else:
            lo = _dow_number(rng)
            hi = 7 if step_text else lo  # "a/s" runs from a to the end of the week
        if lo > hi:
            raise ValueError(f"day-of-week range '{rng}' runs backwards")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DOW_NAMES[d] for d in sorted(days))


def _dow_number(token: str) -> int:
    """0-7 as written (7 and 0 are both Sunday; 7 ends ranges like 5-7), or a name's 0-6."""
    token = token.strip()
    if token in _DOW_NAMES:
        return _DOW_NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    raise ValueError(f"'{token}' is not a day of the week (0-7 or sun-sat)")


def due_dates(
    trigger: CronTrigger, now: dt.datetime, catch_up_days: int
) -> list[tuple[dt.date, dt.datetime]]:
    """(digest date, its first fire time) of the dates among the last ``catch_up_days``
    (today included) on which the cron fired by ``now``, oldest first; when none did,
    the newest fire before, however old."""
    tz = trigger.timezone
    now = now.astimezone(tz)
    first = now.date() - dt.timedelta(days=max(catch_up_days, 1) - 1)
    start = dt.datetime.combine(first, dt.time(), tz).astimezone(dt.UTC)
    out: dict[dt.date, dt.datetime] = {}
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= now:
        day = digest_date(fire, tz)
        out.setdefault(day, fire)
        # only the first fire of a date matters: go on from the next local midnight
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
        fire = trigger.get_next_fire_time(fire, max(_just_after(fire), midnight.astimezone(dt.UTC)))
    if not out:
        newest = _last_fire_before(trigger, now)
        if newest is not None:
            out[digest_date(newest, tz)] = newest
    return sorted(out.items())


def _last_fire_before(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    # a sparse cron (monthly, yearly): widen the look-back until a fire turns up
    for days in (31, 366, 4 * 366):
        fires = []
        fire = trigger.get_next_fire_time(None, now - dt.timedelta(days=days))
        while fire is not None and fire <= now:
            fires.append(fire)
            fire = trigger.get_next_fire_time(fire, _just_after(fire))
        if fires:
            return fires[-1]
    return None


def _just_after(fire: dt.datetime) -> dt.datetime:
    # in UTC: wall-clock arithmetic on the second 01:30 of a fall-back night would step back an hour
    return fire.astimezone(dt.UTC) + dt.timedelta(seconds=1)
