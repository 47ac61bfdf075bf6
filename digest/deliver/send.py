"""Send one digest to every confirmed subscriber, exactly once.

The delivery log is the source of truth: a subscriber is served in a round
once the log says SENT (the server accepted it) or FAILED (a 5xx). The log is
written a batch at a time, in one committed transaction per batch: the outcomes
of the messages the server has answered, and SENDING for the next batch before
it is handed over. A batch is one message with one connection and
``email.connections`` messages with several (:mod:`digest.deliver.pool`), so a
crash, a kill or a dropped connection leaves at most the sender's window
without a logged outcome (one message; 2 x ``email.connections`` with
several), and a rerun sends only to the others. The one unavoidable gap, a kill
after the server took a message but before its outcome was committed, is logged
as SENDING and resent with the same Message-ID.

Batching makes the log cheap on PostgreSQL, where a commit is a round trip and a
WAL flush: a quarter of one a message with 4 connections (docs/operations.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import logging
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from digest import render, topics
from digest.config import Config
from digest.deliver.channels import Outcome as ChannelOutcome
from digest.deliver.foryou import Personal, render_section
from digest.deliver.message import MailTemplate, compile_bodies
from digest.deliver.pool import open_sender
from digest.deliver.smtp import DEFERRED, FAILED, SENT, Outcome, SmtpSettings, SmtpUnavailable
from digest.deliver.tokens import Links
from digest.errors import DigestError
from digest.models import Digest
from digest.store import subscribers as subs
from digest.store.protocol import StoreProtocol
from digest.store.runs import LockBusy
from digest.words import plural

log = logging.getLogger("digest.deliver")


@dataclass(frozen=True)
class SendReport:
    day: str
    round: int
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped_empty: bool = False
    dry_run: bool = False
    resumed: int = 0  # messages an interrupted run left in flight, sent again
    # served by an earlier run of this round, so not tried again without --resend
    already_sent: int = 0
    already_refused: int = 0
    confirmed: int = -1  # confirmed subscribers when the send began (-1: not counted)
    personalized: int = 0  # messages sent with a For you section
    email: bool = True  # False: no smtp.host, only chat channels were sent to
    channels: tuple[ChannelOutcome, ...] = ()  # the chat channels' outcomes, in config order

    @property
    def retry_needed(self) -> bool:
        """Something deferred (a 4xx, a failed chat post): running again sends it."""
        return bool(self.deferred or any(c.deferred for c in self.channels))

    @property
    def delivered_nothing(self) -> bool:
        """Someone was to get this digest, and nobody has (an error exit, not a quiet 0)."""
        if self.skipped_empty or self.dry_run or self.sent or self.already_sent:
            return False
        if any(not c.deferred for c in self.channels):  # a chat room has it
            return False
        return bool(self.failed or self.deferred or self.already_refused or self.channels)

    def summary(self) -> str:
        return "; ".join([self._email_summary(), *(c.summary() for c in self.channels)])

    def _email_summary(self) -> str:
        if not self.email:
            return f"{self.day}: no email (smtp.host is not set)"
        if self.skipped_empty:
            return f"{self.day}: the digest has no papers; nothing sent (email.send_empty is off)"
        if self.dry_run:
            return f"{self.day}: dry run, wrote {plural(self.sent, 'message')} to the outbox"
        parts = [f"{self.day}: sent {self.sent}"]
        if self.failed:
            parts.append(f"{self.failed} refused (5xx)")
        if self.deferred:
            parts.append(f"{self.deferred} deferred (4xx or connection lost; run again to retry)")
        text = ", ".join(parts)
        skipped = [
            f"{self.already_sent} already sent" if self.already_sent else "",
            f"{self.already_refused} already refused (5xx)" if self.already_refused else "",
        ]
        if any(skipped):
            again = "retry" if self.already_refused and not self.already_sent else "send again"
            text += f"; skipped {', '.join(s for s in skipped if s)}; --resend to {again}"
        elif self.confirmed == 0 and not (self.sent or self.failed or self.deferred):
            text += " (no confirmed subscribers)"
        if self.delivered_nothing:
            text += "; nothing was delivered"
        return text


def rendered_bodies(
    store: StoreProtocol, config: Config, digest: Digest, output_dir: Path
) -> tuple[str, str]:
    """email.txt and email.html as the pipeline wrote them (its CSS already inlined);
    rendered once here when they are missing."""
    folder = output_dir / digest.date.isoformat()
    text_path, html_path = folder / "email.txt", folder / "email.html"
    if text_path.is_file() and html_path.is_file():
        return text_path.read_text("utf-8"), html_path.read_text("utf-8")
    day = render.render_day(digest, config, topics.links_for(store, config.topics, digest))
    return day.email_txt, day.email_html


@dataclass(frozen=True, slots=True)
class _Ready:
    """A rendered message waiting to be marked SENDING and handed to the sender."""

    subscriber_id: int
    address: str
    message_id: str
    data: bytes
    with_section: bool
    resumed: bool  # an interrupted run left it SENDING


def send_digest(
    store: StoreProtocol,
    config: Config,
    digest: Digest,
    output_dir: Path,
    *,
    resend: bool = False,
    dry_run: bool = False,
) -> int:
    """Email ``digest`` to the confirmed subscribers not yet served; the number accepted."""
    return deliver(store, config, digest, output_dir, resend=resend, dry_run=dry_run).sent


def preflight(config: Config) -> None:
    """What a send will need (SMTP settings and the link secret when it emails, each chat
    channel's secret), checked before any work: a DigestError names the first missing."""
    from digest.deliver import channels

    if config.smtp.host or not channels.configured(config):
        SmtpSettings.from_config(config)
        Links.from_config(config)


def deliver(
    store: StoreProtocol,
    config: Config,
    digest: Digest,
    output_dir: Path,
    *,
    resend: bool = False,
    dry_run: bool = False,
) -> SendReport:
    """:func:`send_digest` with the whole account of what happened: the email, then each
    configured chat channel (``[[channels]]``), in one round of the delivery log."""
    from digest.deliver import channels
    from digest.deliver.channels.email import EmailChannel

    day = digest.date.isoformat()
    if not digest.papers and not config.email.send_empty:
        log.info("%s: no papers, nothing to send", day)
        return SendReport(day, 0, skipped_empty=True, dry_run=dry_run)
    # every channel is built (secrets read, URLs checked) before anything is sent
    chats = channels.configured(config, need_secrets=not dry_run)
    text, html_body = rendered_bodies(store, config, digest, output_dir)
    rendered = channels.Rendered(text, html_body, output_dir)
    # chat alone needs no SMTP server: without smtp.host the email is left out, not an error
    email = None
    if dry_run or config.smtp.host or not chats:
        email = EmailChannel.prepare(store, config, digest, rendered, dry_run=dry_run)
    if dry_run:
        audience = channels.Recipients(store, digest.date, 0)
        report = email.send(digest, rendered, audience) if email else SendReport(day, 0)
        return _with_chats(report, [c.send(digest, rendered, audience) for c in chats])
    with _one_sender(store):
        # one round for every channel: --resend opens a new one for the email and the chats
        audience = channels.Recipients(
            store, digest.date, store.send_round(digest.date, new=resend), resend
        )
        try:
            report = (
                email.send(digest, rendered, audience)
                if email
                else SendReport(day, audience.round, email=False)
            )
        except DigestError:
            for chat in chats:  # the SMTP server is down: the chat rooms still get theirs
                log.info("%s", chat.send(digest, rendered, audience).summary())
            raise
        return _with_chats(report, [c.send(digest, rendered, audience) for c in chats])


def _with_chats(report: SendReport, outcomes: list[ChannelOutcome]) -> SendReport:
    for outcome in outcomes:
        (log.warning if outcome.deferred else log.info)("%s", outcome.summary())
    return dataclasses.replace(report, channels=tuple(outcomes)) if outcomes else report


def deliver_week(
    store: StoreProtocol,
    config: Config,
    week: str,
    subject: str,
    text: str,
    html_body: str,
    *,
    resend: bool = False,
) -> SendReport:
    """Email a weekly digest (``week`` like 2025-W12, the delivery log's key) to the
    confirmed weekly subscribers not yet served: once a week, exactly once."""
    links = Links.from_config(config)
    settings = SmtpSettings.from_config(config)
    template = compile_bodies(config, week, subject, text, html_body)
    with _one_sender(store):
        round_ = store.send_round(week, new=resend)
        return serve_round(
            store, config, week, template, links, settings, round_, cadence=subs.WEEKLY
        )


@contextmanager
def _one_sender(store: StoreProtocol) -> Iterator[None]:
    """Hold an exclusive lock beside the database: two concurrent sends would both see the
    same subscribers as unserved and mail them twice."""
    if str(store.path) == ":memory:":
        yield
        return
    if store.backend_name != "sqlite":  # no file beside the database: a lock row, any host
        try:
            with store.hold_lock("send", "digest send", wait=False):
                yield
        except LockBusy:
            raise DigestError(
                "another 'digest send' is sending from this database; "
                "run again when it has finished"
            ) from None
        return
    lock_path = Path(f"{store.path}.send-lock")
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DigestError(
                "another 'digest send' is sending from this database; "
                "run again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def serve_round(
    store: StoreProtocol,
    config: Config,
    key: dt.date | str,
    template: MailTemplate,
    links: Links,
    settings: SmtpSettings,
    round_: int,
    personal: Personal | None = None,
    cadence: str = subs.DAILY,
) -> SendReport:
    """Email every recipient of ``round_`` the log has not seen served (the email channel)."""
    day = subs.send_key(key)
    personalized = 0
    # what earlier runs of this round settled: skipped now, and the summary says so
    before = store.delivery_counts(key, round_)
    confirmed = store.count_subscribers(subs.CONFIRMED)
    counts = {SENT: 0, FAILED: 0, DEFERRED: 0}
    resumed = 0
    email = config.email
    sender = open_sender(
        settings, email.connections, email.rate_per_s, email.retries, email.retry_backoff_s
    )
    # half the window: handed over without a logged outcome never exceeds the window
    batch = max(1, sender.window // 2)
    ready: list[_Ready] = []  # rendered, not yet marked SENDING
    flight: deque[tuple[_Ready, Future[Outcome]]] = deque()  # handed over, settled in order
    outcomes: list[subs.Delivery] = []  # settled, not yet written
    unavailable: SmtpUnavailable | None = None

    def settle() -> None:
        nonlocal personalized, unavailable
        m, future = flight.popleft()
        try:
            outcome = future.result()
        except SmtpUnavailable as exc:  # never reached the server: not in flight
            outcomes.append(subs.Delivery(m.subscriber_id, DEFERRED, m.message_id, str(exc)))
            unavailable = unavailable or exc
            return
        outcomes.append(
            subs.Delivery(m.subscriber_id, outcome.status, m.message_id, outcome.detail or None)
        )
        counts[outcome.status] += 1
        personalized += m.with_section and outcome.status == SENT
        if outcome.status != SENT:
            log.warning("%s: %s %s: %s", day, m.address, outcome.status, outcome.detail)

    def hand_over() -> None:
        """Log the outcomes settled so far and SENDING for the ready batch in one
        transaction, then give the batch to the sender."""
        nonlocal resumed
        while flight and len(flight) + len(ready) > sender.window:
            settle()
        still = store.confirmed_among([m.subscriber_id for m in ready])
        going = [m for m in ready if m.subscriber_id in still]  # not unsubscribed since
        ready.clear()
        if unavailable is not None:
            going = []
        marks = [subs.Delivery(m.subscriber_id, subs.SENDING, m.message_id) for m in going]
        store.log_deliveries(key, round_, [*outcomes, *marks], email.max_hard_failures)
        outcomes.clear()
        for m in going:
            resumed += m.resumed
            flight.append((m, sender.submit(template.sender, m.address, m.data)))

    try:
        for r in store.recipients(key, round_, cadence=cadence):
            if unavailable is not None:
                break
            message_id = template.message_id(round_, r.id)
            data, with_section = message_for(
                config, key, template, links, personal, r.id, r.email, message_id
            )
            ready.append(
                _Ready(r.id, r.email, message_id, data, with_section, r.logged == subs.SENDING)
            )
            if len(ready) >= batch:
                hand_over()
        if ready:
            hand_over()
        while flight:
            settle()
        store.log_deliveries(key, round_, outcomes, email.max_hard_failures)
    finally:
        sender.close()
    if unavailable is not None:
        raise DigestError(
            f"{unavailable}; {plural(counts[SENT], 'message')} sent before this; "
            f"run the same command again to send the rest"
        ) from None
    if resumed:
        log.warning(
            "%s: resent %s an interrupted run left without a reply (same Message-ID)",
            day,
            plural(resumed, "message"),
        )
    if not counts[DEFERRED]:
        store.finish_round(key, round_)
    return SendReport(
        day,
        round_,
        counts[SENT],
        counts[FAILED],
        counts[DEFERRED],
        resumed=resumed,
        already_sent=before.get(SENT, 0),
        already_refused=before.get(FAILED, 0),
        confirmed=confirmed,
        personalized=personalized,
    )


def message_for(
    config: Config,
    key: dt.date | str,
    template: MailTemplate,
    links: Links,
    personal: Personal | None,
    subscriber_id: int,
    email: str,
    message_id: str,
) -> tuple[bytes, bool]:
    """One reader's message, and whether it has a For you section (a daily digest's only):
    what is sent, and what a dry run writes to the outbox."""
    unsubscribe, preferences = links.unsubscribe_url(email), links.preferences_url(email)
    items = personal.sections.get(subscriber_id) if personal else None
    if items and personal is not None and personal.template is not None:
        assert isinstance(key, dt.date)
        section = render_section(config, links, email, key, items, personal.room)
        if section is not None:
            text, html_part, _shown = section
            data = personal.template.render(
                email, unsubscribe, message_id, preferences, for_you=(text, html_part)
            )
            return data, True
    return template.render(email, unsubscribe, message_id, preferences), False
