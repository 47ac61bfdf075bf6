"""A scripted HTTP server on 127.0.0.1 for the live-source and webhook tests (a real socket,
no mocks).

Each path gets a list of replies served in order (the last one repeats); a reply may be
a callable of the request headers, for conditional GET. Every request is recorded.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    declared_length: int | None = None  # Content-Length to claim; default len(body), -1 none
    gzip: bool = False
    trickle: float = 0.0  # seconds between single bytes of the body
    hang_up: bool = False  # close the connection without a reply


@dataclass(frozen=True)
class Seen:
    path: str
    query: str
    headers: dict[str, str]
    at: float
    method: str = "GET"
    body: bytes = b""  # of a POST (a webhook's payload)


ReplySpec = Reply | Callable[[dict[str, str]], Reply]


class FixtureServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[ReplySpec]] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *replies: ReplySpec) -> str:
        self.routes[path] = list(replies)
        return self.url(path)

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def _next(self, path: str) -> ReplySpec | None:
        with self._lock:
            queue = self.routes.get(path)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]


def _handler(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: a short body ends at close

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._reply("GET", b"")

        def do_POST(self) -> None:  # noqa: N802
            self._reply("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _reply(self, method: str, payload: bytes) -> None:
            parts = urlsplit(self.path)
            headers = {k: v for k, v in self.headers.items()}
            seen = Seen(parts.path, parts.query, headers, time.monotonic(), method, payload)
            server.requests.append(seen)
            spec = server._next(parts.path)
            if spec is None:
                reply = Reply(404, b"no such fixture")
            else:
                reply = spec(headers) if callable(spec) else spec
            if reply.delay:
                time.sleep(reply.delay)
            if reply.hang_up:
                self.close_connection = True
                return
            body = gzip.compress(reply.body) if reply.gzip else reply.body
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if reply.status != 304:
                    length = len(body) if reply.declared_length is None else reply.declared_length
                    if length >= 0:
                        self.send_header("Content-Length", str(length))
                self.end_headers()
                if reply.status != 304 and reply.trickle:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                elif reply.status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (timeout tests)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve() -> Iterator[FixtureServer]:
    server = FixtureServer()
    server._thread.start()
    try:
        yield server
    finally:
        server._httpd.shutdown()
        server._httpd.server_close()


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
