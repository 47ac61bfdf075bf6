"""A real UDP DNS server on 127.0.0.1 for the tests, answering TXT queries from a dict.

Built on dnspython's message API (parse the query, make the response); names it does not
know get NXDOMAIN, known names asked for another type an empty answer. ``silent_dns``
is a bound socket that never answers, for the unreachable-DNS path.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def _txt(name: str, values: list[str]) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.TXT)
    for value in values:
        # one TXT string holds at most 255 bytes: a DKIM key is published as several
        chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
        text = " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)
        rrset.add(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text), ttl=300)
    return rrset


@contextmanager
def dns_server(records: dict[str, list[str]]) -> Iterator[tuple[str, list[str]]]:
    """Serve ``records`` (name -> TXT values); yields ("127.0.0.1:PORT", names asked)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    known = {n.lower().rstrip("."): v for n, v in records.items()}
    asked: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                wire, client = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            reply = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().lower().rstrip(".")
            asked.append(name)
            if name not in known:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT and known[name]:
                reply.answer.append(_txt(question.name.to_text(), known[name]))
            sock.sendto(reply.to_wire(), client)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}", asked
    finally:
        stop.set()
        thread.join()
        sock.close()


@contextmanager
def silent_dns() -> Iterator[str]:
    """A UDP port that takes queries and never answers: DNS as an offline machine sees it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"
