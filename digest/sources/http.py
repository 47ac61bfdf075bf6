"""A small, polite HTTP GET client for the live sources (stdlib ``urllib`` only).

What it guarantees, per :meth:`HttpClient.get`:

- a descriptive ``User-Agent`` and ``Accept-Encoding: gzip`` on every request;
- conditional GET from a cached reply (``If-None-Match`` / ``If-Modified-Since``);
  a ``304`` hands back the cached body, so a re-run of the same day still works;
- retries on 408/429/5xx, timeouts, resets and truncated bodies, with exponential
  backoff and jitter, honouring ``Retry-After`` (seconds or HTTP-date) up to
  ``http.max_backoff_s``; other 4xx fail at once, and so do a host name that does
  not resolve and an unreachable network (an offline machine);
- at least ``min_interval`` seconds between the starts of two requests to one host
  (arXiv asks for 3 s), shared by every client in the process;
- a body that is shorter than its ``Content-Length``, or larger than
  ``http.max_bytes`` (compressed or not), never passes for a whole one;
- redirects are followed only to http(s) URLs on the requested host or on the hosts the
  source lists in ``allow_redirect_hosts``, never from https to http, and at most
  ``MAX_REDIRECTS`` hops (urllib alone follows any host, even http to ftp).

Every failure is a :class:`FetchError` with a one-line message.

Why the standard library and not httpx or urllib3 (issue 12): the sources make one GET at
a time, a few a day, so a connection pool, HTTP/2 or async buy nothing; and most of what
is listed above is policy neither library has. httpx retries only failed connections,
never a 429/5xx, and has no Retry-After; urllib3's ``Retry`` has status retries,
Retry-After and a redirect count, but not a redirect *host* allow-list, a per-host
interval shared across clients, or a cap on decompressed bytes (a gzip bomb is ours to
stop either way). Either would replace the 30 lines of ``urllib`` calls and keep the
rest, at the price of a runtime dependency; the tests (a real server on 127.0.0.1)
pin the behaviour, so a switch stays possible with the tests unchanged.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import errno
import http.client
import random
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from email.message import Message
from typing import IO
from urllib.parse import urljoin, urlsplit

from digest.config import HttpConfig
from digest.errors import DigestError
from digest.store.http_cache import HttpCacheEntry

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class FetchError(DigestError):
    """A URL that could not be fetched; the message names the URL and the cause."""


class _Transient(Exception):
    """A failure worth another attempt, with the server's ``Retry-After`` (seconds) if it sent one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Redirect(Exception):
    """A 3xx reply; ``location`` is absolute."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hands every 3xx back as an ``HTTPError``, so that ``HttpClient`` decides where to go."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None  # the documented way to decline: urllib then raises HTTPError(code)


@dataclass(frozen=True)
class Response:
    url: str
    status: int  # 200, or 304 when the cached body is handed back
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 1

    @property
    def from_cache(self) -> bool:
        return self.status == 304

    def cache_entry(self) -> HttpCacheEntry:
        return HttpCacheEntry(self.url, self.body, self.etag, self.last_modified)


class HostLimiter:
    """Spaces the starts of requests to one host by at least ``interval`` seconds.

    ``clock`` and ``sleep`` are injectable so tests can check the spacing without waiting.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str, interval: float) -> None:
        if interval <= 0:
            return
        with self._lock:  # held while sleeping: the next caller must queue behind this one
            last = self._last.get(host)
            if last is not None:
                delay = last + interval - self.clock()
                if delay > 0:
                    self.sleep(delay)
            self._last[host] = self.clock()


# One limiter per process: consecutive runs (catch-up, backfill) stay polite too.
SHARED_LIMITER = HostLimiter()


def is_arxiv_host(host: str) -> bool:
    return host == "arxiv.org" or host.endswith(".arxiv.org")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() also accepts '²'
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)


class HttpClient:
    """GET with retries, conditional requests and per-host spacing, configured by ``[http]``."""

    def __init__(
        self,
        config: HttpConfig,
        *,
        limiter: HostLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.limiter = limiter or SHARED_LIMITER
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.rng = rng or random.Random()
        self._opener = urllib.request.build_opener(_NoRedirects())

    def get(
        self,
        url: str,
        *,
        cached: HttpCacheEntry | None = None,
        min_interval: float | None = None,
        accept: str = "*/*",
        allow_redirect_hosts: Collection[str] = (),
    ) -> Response:
        """Fetch ``url``; ``min_interval`` defaults to ``http.arxiv_min_interval_s`` for arXiv hosts.
        A redirect may lead to ``url``'s own host or to one of ``allow_redirect_hosts``."""
        if min_interval is None:
            hostname = urlsplit(url).hostname or ""
            min_interval = self.config.arxiv_min_interval_s if is_arxiv_host(hostname) else 0.0
        headers = {
            "User-Agent": self.config.user_agent,
            "Accept": accept,
            "Accept-Encoding": "gzip",
        }
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        attempts = self.config.retries + 1
        last: _Transient | None = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(self._delay(attempt - 1, last))
            try:
                response = self._follow(url, headers, cached, min_interval, allow_redirect_hosts)
            except _Transient as exc:
                last = exc
                continue
            return Response(
                url,  # the URL asked for, wherever the reply came from: it keys the cache
                response.status,
                response.body,
                response.etag,
                response.last_modified,
                attempt + 1,
            )
        assert last is not None
        tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
        raise FetchError(f"GET {url}: {last.reason} (gave up after {tries})")

    def _follow(
        self,
        url: str,
        headers: dict[str, str],
        cached: HttpCacheEntry | None,
        min_interval: float,
        allowed: Collection[str],
    ) -> Response:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self.limiter.wait(urlsplit(current).netloc.lower(), min_interval)
            try:
                return self._once(current, headers, cached)
            except _Redirect as hop:
                current = _redirect_target(url, hop.location, allowed)
        raise FetchError(f"GET {url}: more than {MAX_REDIRECTS} redirects, not followed further")

    def _delay(self, retry: int, failure: _Transient | None) -> float:
        cap = self.config.max_backoff_s
        if failure is not None and failure.retry_after is not None:
            return min(failure.retry_after, cap)
        # "equal jitter": at least half the exponential step, so retries never bunch at zero
        step = min(cap, self.config.backoff_s * (2**retry))
        return step / 2 + self.rng.uniform(0, step / 2)

    def _once(self, url: str, headers: dict[str, str], cached: HttpCacheEntry | None) -> Response:
        request = urllib.request.Request(url, headers=headers, method="GET")
        try:
            with self._opener.open(request, timeout=self.config.timeout_s) as reply:
                body = self._read_body(url, reply)
                return Response(
                    url,
                    reply.status,
                    body,
                    reply.headers.get("ETag"),
                    reply.headers.get("Last-Modified"),
                )
        except urllib.error.HTTPError as exc:
            with exc:
                return self._http_error(url, exc, cached)
        except (TimeoutError, http.client.IncompleteRead) as exc:
            raise _Transient(_describe(exc, self.config.timeout_s)) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise _Transient(_describe(reason, self.config.timeout_s)) from None
            offline = _offline(reason)
            if offline:
                # no DNS or no route: retrying with backoff only makes an offline run wait
                # (40 s for the live config), so it fails at once, naming the host
                raise FetchError(f"GET {url}: {urlsplit(url).hostname}: {offline}") from None
            raise _Transient(
                f"cannot connect: {getattr(reason, 'strerror', None) or reason}"
            ) from None
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise _Transient(_describe(exc, self.config.timeout_s)) from None

    def _http_error(
        self, url: str, exc: urllib.error.HTTPError, cached: HttpCacheEntry | None
    ) -> Response:
        if exc.code == 304:
            if cached is None:
                raise FetchError(
                    f"GET {url}: 304 Not Modified to a request that had nothing cached"
                )
            return Response(url, 304, cached.body, cached.etag, cached.last_modified)
        status = f"HTTP {exc.code} {exc.reason}".rstrip()
        if exc.code in REDIRECT_STATUSES:
            location = (exc.headers.get("Location") or "").strip()
            if not location:
                raise FetchError(f"GET {url}: {status} without a Location to go to")
            raise _Redirect(urljoin(url, location))
        if exc.code in RETRY_STATUSES or exc.code >= 500:
            retry_after = parse_retry_after(exc.headers.get("Retry-After"), self.wall_clock())
            raise _Transient(status, retry_after)
        raise FetchError(f"GET {url}: {status}")

    def _read_body(self, url: str, reply: http.client.HTTPResponse) -> bytes:
        limit = self.config.max_bytes
        declared = _content_length(reply.headers.get("Content-Length"))
        if declared is not None and declared > limit:
            raise FetchError(
                f"GET {url}: reply of {declared} bytes is over http.max_bytes ({limit})"
            )
        # timeout_s bounds each socket read; the deadline stops a server that trickles forever
        deadline = time.monotonic() + self.config.total_timeout_s
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = reply.read1(
                _CHUNK
            )  # read1: returns what has arrived, so the deadline is checked
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise FetchError(f"GET {url}: reply is over http.max_bytes ({limit} bytes)")
            if time.monotonic() > deadline:
                raise _Transient(f"reply took longer than {self.config.total_timeout_s:g} s")
        if declared is not None and size < declared:
            raise _Transient(f"truncated reply ({size} of {declared} bytes)")
        body = b"".join(chunks)
        encoding = (reply.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding == "gzip":
            return _gunzip(url, body, limit)
        if encoding != "identity":
            raise FetchError(f"GET {url}: unsupported Content-Encoding '{encoding}'")
        return body


def _redirect_target(url: str, target: str, allowed: Collection[str]) -> str:
    """``target`` when a redirect from ``url`` (the URL first asked for) may go there."""
    start, to = urlsplit(url), urlsplit(target)
    host = (to.hostname or "").lower()
    if to.scheme not in ("http", "https") or not host:
        why = "only http(s) redirects are followed"
    elif start.scheme == "https" and to.scheme == "http":
        why = "from https to http"
    elif host != (start.hostname or "").lower() and host not in {a.lower() for a in allowed}:
        why = f'another host; list "{host}" in the source\'s allow_redirect_hosts to follow it'
    else:
        return target
    raise FetchError(f"GET {url}: redirect to {target} refused ({why})")


def _content_length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _gunzip(url: str, body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise _Transient(f"corrupt gzip body ({exc})") from None
    if len(out) > limit:
        raise FetchError(f"GET {url}: reply is over http.max_bytes ({limit} bytes) once unzipped")
    if not inflater.eof:
        raise _Transient("truncated gzip body")
    return out


_UNREACHABLE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN})


def _offline(reason: object) -> str | None:
    """What is wrong when ``reason`` says this machine cannot reach the host at all (a name
    that does not resolve, no route to the network); None for anything worth a retry."""
    if isinstance(reason, socket.gaierror):
        return f"DNS resolution failed ({reason.strerror or reason}); is the network up?"
    if isinstance(reason, OSError) and reason.errno in _UNREACHABLE:
        return f"network unreachable ({reason.strerror or reason}); is the network up?"
    return None


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no reply within {timeout:g} s"
    if isinstance(exc, http.client.IncompleteRead):
        return f"truncated reply ({len(exc.partial)} bytes, then the connection closed)"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without replying"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
