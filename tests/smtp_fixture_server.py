"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the delivery tests, with scripted faults,
and a tiny real digest produced by the pipeline to send."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from digest import pipeline
from digest.config import Config, load_config

DAY = dt.date(2025, 6, 2)
SECRET = "test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Recorder:
    """aiosmtpd handler that keeps what it accepted (250 after DATA) and can misbehave.

    ``rcpt_replies`` maps an address to the reply its RCPT gets (e.g. "550 ...");
    ``temporary`` maps an address to how many RCPTs answer 451 before it is accepted;
    ``on_data`` is called with the 1-based number of the DATA command and may return a
    reply (not accepted), or "DROP" to close the connection without a reply.
    """

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    temporary: dict[str, int] = field(default_factory=dict)
    on_data: Callable[[int], str | None] | None = None
    accepted: list[tuple[tuple[str, ...], bytes]] = field(default_factory=list)
    data_commands: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:  # noqa: E501
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:  # noqa: E501
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        with self.lock:
            left = self.temporary.get(address, 0)
            if left:
                self.temporary[address] = left - 1
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_commands += 1
            number = self.data_commands
        verdict = self.on_data(number) if self.on_data else None
        if verdict == "DROP":
            server.transport.close()
            return "421 closing"
        if verdict:
            return verdict
        with self.lock:
            self.accepted.append((tuple(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            raws = [raw for _rcpt, raw in self.accepted]
        return [email.message_from_bytes(raw, policy=policy.default) for raw in raws]  # type: ignore[misc]

    def recipients(self) -> list[str]:
        with self.lock:
            return [r for rcpts, _raw in self.accepted for r in rcpts]


@contextmanager
def smtp_server(recorder: Recorder | None = None) -> Iterator[tuple[Recorder, int]]:
    rec = recorder or Recorder()
    port = free_port()
    controller = Controller(rec, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield rec, port
    finally:
        controller.stop()


def write_config(root: Path, smtp_port: int | None, **email: Any) -> Path:
    """A config file for a project in ``root`` sending through 127.0.0.1:``smtp_port``."""
    settings = {"rate_per_s": 2000, "retries": 2, "retry_backoff_s": 0.01, **email}
    lines = [
        'title = "Paper digest"',
        'site_url = "https://digest.test/"',
        f'output_dir = "{root / "output"}"',
        f'database = "{root / "var" / "digest.sqlite"}"',
        "[email]",
        'from_addr = "news@digest.test"',
        'list_id = "papers.digest.test"',
        *(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
    ]
    if smtp_port is not None:
        lines += ["[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", 'security = "none"']
    path = root / "digest.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def produce_digest(
    root: Path, config: Config, titles: list[str] | None = None
) -> pipeline.RunResult:
    """Run the real pipeline on a small JSONL listing, so email.html/email.txt are the real renders."""
    titles = titles or [f"Graph networks for problem {i}" for i in range(6)]
    listing = root / f"{DAY}.jsonl"
    listing.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"2506.{i + 1:05d}v1",
                    "title": t,
                    "summary": f"We study graphs and networks, case {i}. Results improve.",
                    "authors": ["Ada Lovelace", "Alan Turing"],
                }
            )
            + "\n"
            for i, t in enumerate(titles)
        )
    )
    return pipeline.run(config, DAY, [listing])


def setup_project(root: Path, smtp_port: int | None, **email: Any) -> Config:
    config = load_config(write_config(root, smtp_port, **email))
    produce_digest(root, config)
    return config
