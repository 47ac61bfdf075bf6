"""Several SMTP connections at once (``email.connections``), each in its own thread.

A server answers each command after a round trip, and a single connection leaves the
sender idle for each of them (half the time of a personal send was waiting on replies).
:class:`MailerPool` keeps one :class:`~digest.deliver.smtp.Mailer` per worker thread, all
paced by one :class:`~digest.deliver.smtp.Pacer` (``email.rate_per_s`` stays the rate of
the whole send), while the caller renders the next messages. The caller keeps the delivery
log: it marks a batch SENDING before handing it over and logs the outcomes of done futures,
in submission order, with the next batch's marks (the store is used from the caller's
thread only; :func:`digest.deliver.send.serve_round`).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from digest.deliver.smtp import Mailer, Outcome, Pacer, SmtpSettings

MAX_CONNECTIONS = 16


class Sender(Protocol):
    """Hands messages to the SMTP server; at most ``window`` of them are in flight."""

    window: int

    def submit(self, sender: str, recipient: str, data: bytes) -> Future[Outcome]: ...

    def close(self) -> None: ...


def open_sender(
    settings: SmtpSettings, connections: int, rate_per_s: float, retries: int, backoff_s: float
) -> Sender:
    """One connection in the caller's thread (one message in flight, as ever), or a pool."""
    if connections <= 1:
        return InlineSender(Mailer(settings, rate_per_s, retries, backoff_s))
    return MailerPool(settings, connections, rate_per_s, retries, backoff_s)


class InlineSender:
    """One connection, used in the caller's thread: each future is done when returned."""

    window = 1

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def submit(self, sender: str, recipient: str, data: bytes) -> Future[Outcome]:
        done: Future[Outcome] = Future()
        try:
            done.set_result(self.mailer.send(sender, recipient, data))
        except Exception as exc:  # SmtpUnavailable: raised again by result()
            done.set_exception(exc)
        return done

    def close(self) -> None:
        self.mailer.close()


class MailerPool:
    """``connections`` paced SMTP connections; :meth:`submit` returns a future Outcome
    (which raises SmtpUnavailable as :meth:`Mailer.send` does). Up to twice as many
    messages as connections are handed over at once, so a worker never waits for the
    caller to render; a crash resends those (same Message-IDs)."""

    def __init__(
        self,
        settings: SmtpSettings,
        connections: int,
        rate_per_s: float,
        retries: int,
        backoff_s: float,
    ) -> None:
        self.window = 2 * connections
        self._pacer = Pacer(rate_per_s)
        self._make = lambda: Mailer(settings, rate_per_s, retries, backoff_s, pacer=self._pacer)
        self._local = threading.local()
        self._mailers: list[Mailer] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(connections, thread_name_prefix="digest-smtp")

    def submit(self, sender: str, recipient: str, data: bytes) -> Future[Outcome]:
        return self._executor.submit(self._send, sender, recipient, data)

    def _send(self, sender: str, recipient: str, data: bytes) -> Outcome:
        mailer: Mailer | None = getattr(self._local, "mailer", None)
        if mailer is None:  # this worker's own connection, opened on its first message
            mailer = self._local.mailer = self._make()
            with self._lock:
                self._mailers.append(mailer)
        return mailer.send(sender, recipient, data)

    def close(self) -> None:
        """QUIT every connection once the messages being sent are done; those not started
        (the caller stopped early) are dropped: still SENDING in the log, resent next run."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        for mailer in self._mailers:
            mailer.close()
