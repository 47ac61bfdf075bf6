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

Nothing here does I/O; "now" is always an argument.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ARXIV_TZ = ZoneInfo("America/New_York")
ARXIV_ANNOUNCE_AT = dt.time(20, 0)
_SUN_TO_THU = {6, 0, 1, 2, 3}  # date.weekday(): Monday is 0


def digest_date(fire_time: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The digest date a scheduled run at ``fire_time`` (aware) stands for."""
    return fire_time.astimezone(tz).date()


def daily_papers_date(day: dt.date) -> dt.date:
    """The Daily Papers date (UTC-keyed) that feeds the digest of ``day``: the same date."""
    return day


def is_arxiv_listing_day(day: dt.date) -> bool:
    """Whether arXiv normally has a listing dated ``day`` (Monday to Friday; holidays aside)."""
    return day.weekday() < 5


def arxiv_announcement(day: dt.date) -> dt.datetime | None:
    """When the arXiv listing dated ``day`` is announced (20:00 US/Eastern the evening before)."""
    if not is_arxiv_listing_day(day):
        return None
    return dt.datetime.combine(day - dt.timedelta(days=1), ARXIV_ANNOUNCE_AT, ARXIV_TZ)


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
