"""The benches' SMTP server: aiosmtpd processes sharing one listening socket, counting and
discarding messages, and what their CPU cost.

One single-threaded aiosmtpd process is itself near 300 messages/s for a digest-sized
message, so a send bench that wants to measure the sender runs several (``servers``); the
kernel spreads the connections over them. CPU per message of the server side comes from
/proc, so a bench can say which side is the limit. Used by bench_send.py,
bench_send_backends.py and bench_foryou.py.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import smtplib
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _serve(sock: socket.socket, ready: Any, count: Any) -> None:
    """One aiosmtpd process serving the shared listening socket (aiosmtpd's public SMTP
    protocol under asyncio's create_server), counting and discarding messages."""
    from aiosmtpd.smtp import SMTP

    class Counter:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: SMTP(Counter(), data_size_limit=0), sock=sock)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(serve())


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of processes, from /proc (0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class Sink:
    port: int
    count: Any  # multiprocessing.Value: messages received so far
    processes: list[Any]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    def cpu_s(self) -> float:
        return cpu_s(self.pids)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()


def start(servers: int) -> Sink:
    """``servers`` aiosmtpd processes on one 127.0.0.1 port; RuntimeError if one does not
    come up."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    fork = multiprocessing.get_context("fork")  # the children inherit the listening socket
    count = fork.Value("l", 0)
    sink = Sink(int(listener.getsockname()[1]), count, [])
    for _ in range(servers):
        ready = fork.Event()
        process = fork.Process(target=_serve, args=(listener, ready, count), daemon=True)
        process.start()
        sink.processes.append(process)
        if not ready.wait(20):
            sink.stop()
            raise RuntimeError("the aiosmtpd sink did not start")
    listener.close()  # the servers hold their copies
    return sink


def ceiling(
    host: str, port: int, sender: str, recipient: str, data: bytes, connections: int, total: int
) -> tuple[int, float]:
    """The server's ceiling for ``data``: (messages, seconds) for ``total`` messages sent by
    bare smtplib over ``connections`` connections in threads, nothing else done per message."""

    def send(count: int) -> None:
        with smtplib.SMTP(host, port) as conn:
            for _ in range(count):
                conn.sendmail(sender, [recipient], data)

    each = max(1, total // connections)
    start_at = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(send, [each] * connections))
    return each * connections, time.perf_counter() - start_at
