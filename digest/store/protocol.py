"""The store as the stages see it: every public method, typed, whatever the backend.

The stages (pipeline, schedule, deliver, serve, topics, weekly, personal) annotate their
store as :class:`StoreProtocol`; :class:`digest.store.Store` (SQLite or PostgreSQL under it,
chosen by ``digest.store.backends``) is the one implementation, checked against this
protocol by mypy (``_check`` below). A new method of a mixin that a stage calls is added
here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from digest.models import DayPaper, Digest, Listing, Paper
from digest.store.delivery_log import Delivery, Recipient
from digest.store.foryou import ForYouItem
from digest.store.http_cache import HttpCacheEntry
from digest.store.papers import SaveResult
from digest.store.profiles import StoredProfile
from digest.store.runs import LockInfo, RunLog, RunRecord
from digest.store.subscribers import Subscriber
from digest.store.topics import DayTheme, TopicRecord


class StoreProtocol(Protocol):
    """What a stage may call on a store (``digest.store.Store`` implements it)."""

    @property
    def path(self) -> Path | str:
        """The SQLite file, or the PostgreSQL URL."""
        ...

    @property
    def backend_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    def close(self) -> None: ...

    # ---------------------------------------------------------------- papers and listings

    def count_papers(self) -> int: ...

    def day_papers(self, day: dt.date) -> list[DayPaper]: ...

    def listing_dates(self) -> list[dt.date]: ...

    def listings_for(self, day: dt.date) -> list[dict]: ...

    def papers_by_day(
        self, start: dt.date, end: dt.date, as_of: dt.date | None = ...
    ) -> dict[dt.date, list[Paper]]: ...

    def save_listing(self, listing: Listing) -> SaveResult: ...

    # ---------------------------------------------------------------- papers' tokens

    def paper_tokens(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]: ...

    def save_paper_tokens(self, rows: Iterable[tuple[str, str, str]]) -> None: ...

    # ---------------------------------------------------------------- chat channels

    def channel_status(self, day: dt.date | str, round_: int, channel: str) -> str | None: ...

    def log_channel(
        self,
        day: dt.date | str,
        round_: int,
        channel: str,
        status: str,
        error: str | None = ...,
    ) -> None: ...

    # ---------------------------------------------------------------- digests

    def archive_entries(self) -> dict[dt.date, dict | None]: ...

    def digest_dates(self) -> list[dt.date]: ...

    def digest_for(self, day: dt.date) -> Digest | None: ...

    def recent_digests(self, limit: int, until: dt.date | None = ...) -> list[Digest]: ...

    def save_archive_entries(self, entries: dict[dt.date, tuple[str, dict]]) -> None: ...

    def save_digest(self, digest: Digest, archive: dict | None = ...) -> None: ...

    # ---------------------------------------------------------------- HTTP cache

    def http_cache_get(self, url: str) -> HttpCacheEntry | None: ...

    def http_cache_put(self, entry: HttpCacheEntry) -> None: ...

    # ---------------------------------------------------------------- subscribers and the delivery log

    def add_subscriber(self, email: str, status: str = ...) -> tuple[Subscriber, bool]: ...

    def confirmed_among(self, subscriber_ids: Sequence[int]) -> set[int]: ...

    def count_subscribers(self, status: str | None = ...) -> int: ...

    def delivery_counts(self, day: dt.date | str, round_: int | None = ...) -> dict[str, int]: ...

    def finish_round(self, day: dt.date | str, round_: int) -> None: ...

    def hit_rate_limit(
        self, key: str, limit: int, window_s: float, now: float | None = ...
    ) -> bool: ...

    def import_subscribers(self, rows: Iterable[tuple[str, str]]) -> tuple[int, int]: ...

    def log_deliveries(
        self,
        day: dt.date | str,
        round_: int,
        rows: Sequence[Delivery],
        max_hard_failures: int = ...,
    ) -> None: ...

    def recipients(
        self, day: dt.date | str, round_: int, batch: int = ..., cadence: str = ...
    ) -> Iterator[Recipient]: ...

    def remove_subscriber(self, email: str) -> bool: ...

    def send_round(self, day: dt.date | str, new: bool = ...) -> int: ...

    def set_subscriber_cadence(self, email: str, cadence: str) -> Subscriber | None: ...

    def set_subscriber_status(self, email: str, status: str) -> Subscriber | None: ...

    def subscriber(self, email: str) -> Subscriber | None: ...

    def subscribers(self, status: str | None = ..., batch: int = ...) -> Iterator[Subscriber]: ...

    # ---------------------------------------------------------------- locks and the run log

    def completed_days(self, start: dt.date, end: dt.date) -> set[dt.date]: ...

    def day_run(
        self, day: dt.date, label: str = ..., on_wait: Callable[[LockInfo], None] | None = ...
    ) -> AbstractContextManager[RunLog]: ...

    def finish_run(
        self,
        run_id: int,
        status: str,
        papers: int | None = ...,
        themes: int | None = ...,
        sent: int | None = ...,
        sources: Sequence[dict] = ...,
        error: str | None = ...,
    ) -> None: ...

    def hold_lock(
        self,
        name: str,
        label: str,
        wait: bool = ...,
        on_wait: Callable[[LockInfo], None] | None = ...,
        timeout_s: float | None = ...,
    ) -> AbstractContextManager[str]: ...

    def last_completed_day(self) -> dt.date | None: ...

    def last_runs(self, limit: int = ...) -> list[RunRecord]: ...

    def lock_holder(self, name: str) -> LockInfo | None: ...

    def mark_stage(self, run_id: int, stage: str) -> None: ...

    def runs_for(self, day: dt.date) -> list[RunRecord]: ...

    def start_run(self, day: dt.date, label: str) -> int: ...

    # ---------------------------------------------------------------- reader profiles

    def confirmed_profiles(self, batch: int = ...) -> Iterator[tuple[str, StoredProfile]]: ...

    def delete_profile(self, key: str) -> bool: ...

    def feedback(self, email: str) -> list[tuple[str, int, dt.date]]: ...

    def negative_sample(self, before: dt.date, days: int, limit: int) -> list[Paper]: ...

    def papers_by_ids(self, ids: Sequence[str]) -> dict[str, Paper]: ...

    def profile_model(self, profile_id: int, revision: str) -> bytes | None: ...

    def profile_seeds(self, profile_id: int) -> list[Paper]: ...

    def record_feedback(self, email: str, paper_id: str, vote: int, day: dt.date) -> None: ...

    def save_profile(
        self,
        key: str,
        profile_toml: str,
        seeds: Sequence[Paper] | None,
        subscriber_id: int | None = ...,
    ) -> StoredProfile: ...

    def save_profile_model(self, profile_id: int, revision: str, model: bytes) -> None: ...

    def save_subscriber_profile(
        self, email: str, profile_toml: str, seeds: Sequence[Paper] | None
    ) -> StoredProfile: ...

    def stored_profile(self, key: str) -> StoredProfile | None: ...

    def subscriber_profile(self, email: str) -> StoredProfile | None: ...

    # ---------------------------------------------------------------- topics and weeklies

    def day_themes(self, since: dt.date | None = ..., papers: bool = ...) -> list[DayTheme]: ...

    def digest_text(self, day: dt.date) -> str | None: ...

    def linked_until(self) -> dt.date | None: ...

    def paper_cards(self, ids: Iterable[str]) -> dict[str, tuple[str, str, tuple[str, ...]]]: ...

    def recent_weeklies(self, limit: int) -> list[str]: ...

    def replace_digest_text(self, day: dt.date, text: str) -> None: ...

    def save_day_themes(self, day: dt.date, themes: Sequence[DayTheme]) -> None: ...

    def save_links(
        self,
        linked_until: dt.date,
        topics: Iterable[TopicRecord],
        links: Iterable[tuple[dt.date, str, str | None]],
        full: bool,
    ) -> None: ...

    def save_weekly(self, week: str, papers: int, body: str) -> None: ...

    def topic_days(self) -> list[DayTheme]: ...

    def topics(self) -> list[TopicRecord]: ...

    # ---------------------------------------------------------------- For you sections

    def for_you(self, subscriber_id: int, day: dt.date) -> list[ForYouItem]: ...

    def recent_for_you(
        self, subscriber_id: int, days: int = ...
    ) -> list[tuple[dt.date, list[ForYouItem]]]: ...

    def save_for_you(
        self, day: dt.date, sections: Iterable[tuple[int, Sequence[ForYouItem]]]
    ) -> None: ...


if TYPE_CHECKING:

    def _check(store: Store) -> StoreProtocol:
        return store  # mypy: Store implements every method above


if TYPE_CHECKING:
    from digest.store import Store
