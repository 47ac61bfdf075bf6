"""The whole personal-digest journey over real HTTP (``digest serve`` under waitress, in a
subprocess) and a real SMTP server (aiosmtpd): subscribe, confirm, set preferences and
upload a BibTeX library, receive For you, vote, see the next day change, read the feed."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import feedparser
import pytest
import requests
from cli_exit import cli as _cli
from smtp_fixture_server import SECRET, Recorder, free_port, smtp_server, write_config

from digest.config import load_config
from digest.store import Store

D1, D2, D3 = dt.date(2025, 6, 2), dt.date(2025, 6, 3), dt.date(2025, 6, 4)
FILLER = [
    ("Diffusion models for image synthesis", "We generate images with diffusion and noise."),
    ("Graph neural networks for molecules", "Message passing over molecular graphs."),
    ("Speech recognition with transformers", "Audio encoders and decoders for speech."),
    ("Robot grasping from tactile sensing", "Tactile sensors guide robot hands."),
    ("Vision transformers at scale", "Patch embeddings and attention for images."),
    ("Causal inference with instruments", "Instrumental variables identify effects."),
]
DAYS = {
    D1: FILLER,
    D2: FILLER
    + [
        (
            "Combinatorial auctions for spectrum allocation",
            "Bidders value bundles of spectrum licenses; we design auctions for wireless spectrum.",
        ),
        ("Revenue of sequential auctions", "Sellers run auctions one item at a time."),
    ],  # fmt: skip
    D3: FILLER
    + [
        (
            "Wireless spectrum sharing among licensees",
            "Licensees share wireless spectrum bands; spectrum licenses and bundles of bands.",
        ),
    ],  # fmt: skip
}
BIBTEX = """
@article{seed1, title={Optimal auctions}, author={Myerson, Roger}, year={1981},
  abstract={We design revenue-optimal auctions for a seller and bidders with private values.}}
@article{broken, title={No closing brace
"""


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _listing(root: Path, day: dt.date) -> Path:
    path = root / f"{day}.jsonl"
    rows = [
        {"id": f"2506.{day.day:02d}{i:03d}", "title": t, "summary": a, "authors": ["Ada Lovelace"]}
        for i, (t, a) in enumerate(DAYS[day])
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@contextmanager
def _serve(config_path: Path, root: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digest",
            "serve",
            "--config",
            str(config_path),
            "--port",
            str(port),
        ],
        env={**os.environ, "DIGEST_SECRET": SECRET},
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "digest serve did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def _local(url: str, base: str) -> str:
    return re.sub(r"^https://digest\.test", base, url)


def _for_you(text: str) -> str:
    """The For you section of a text part, reasons unwrapped to one line."""
    if "\nFor you\n" not in text:
        return ""
    section = text.split("\nFor you\n", 1)[1].split("Your preferences:", 1)[0]
    return re.sub(r"\n {2,}(?!More|Fewer|https)(?=\S)", " ", section)


def test_subscribe_prefer_receive_vote_and_read_the_feed(tmp_path: Path) -> None:
    rec = Recorder()
    with smtp_server(rec) as (_rec, smtp_port):
        config_path = write_config(tmp_path, smtp_port)
        config = load_config(config_path)
        cfg = str(config_path)
        assert (
            _cli("run", "--date", str(D1), "--input", str(_listing(tmp_path, D1)), "--config", cfg)
            == 0
        )
        with _serve(config_path, tmp_path) as base:
            http = requests.Session()
            assert http.post(f"{base}/subscribe", data={"email": "ada@example.org"}).ok
            confirm = re.search(
                r"https://digest\.test/confirm\?token=\S+", _text(rec.messages()[0])
            )
            assert confirm
            assert http.get(_local(confirm.group(0), base)).ok
            assert http.post(_local(confirm.group(0), base)).ok
            # the control reader: the same preferences from the CLI, and never votes
            with Store.open(config.database_path) as store:
                store.add_subscriber("control@example.org", "confirmed")
            bib = tmp_path / "library.bib"
            bib.write_text(BIBTEX)
            assert _cli("send", "--date", str(D1), "--config", cfg) == 0
            first = {str(m["To"]): m for m in rec.messages()[1:]}
            assert "For you" not in _text(first["ada@example.org"])  # no profile yet
            prefs = re.search(r"Your preferences: (\S+)", _text(first["ada@example.org"]))
            assert prefs
            prefs_url = _local(prefs.group(1), base)
            page = http.get(prefs_url)
            assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
            saved = http.post(
                prefs_url,
                data={
                    "keywords": "spectrum, auctions",
                    "exclude": "",
                    "categories": "",
                    "seed_ids": "",
                },
                files={"seed_file": ("library.bib", BIBTEX.encode(), "application/x-bibtex")},
            )
            assert saved.status_code == 200 and "Saved" in saved.text
            assert "library.bib:" in saved.text  # the broken entry, named by FILE:LINE
            assert "spectrum" in saved.text  # the form shows what was saved
            assert _cli("subscribers", "profile", "control@example.org", "--keywords",
                        "spectrum, auctions", "--seed-file", str(bib), "--config", cfg) == 0  # fmt: skip

            assert _cli("run", "--date", str(D2), "--input", str(_listing(tmp_path, D2)),
                        "--send", "--config", cfg) == 0  # fmt: skip
            second = {str(m["To"]): m for m in rec.messages()[3:]}
            section = _for_you(_text(second["ada@example.org"]))
            assert "Combinatorial auctions for spectrum allocation" in section
            assert (
                "matches: spectrum, auctions" in section or "matches: auctions, spectrum" in section
            )
            assert "Revenue of sequential auctions" in section
            assert "Diffusion models" not in section

            more = re.search(
                r"Combinatorial auctions for spectrum allocation.*?More like this: (\S+)",
                section,
                re.S,
            )
            assert more
            vote_url = _local(more.group(1), base)
            shown = http.get(vote_url)  # a mail scanner's prefetch: a page, no vote
            assert shown.status_code == 200 and '<form method="post"' in shown.text
            with Store.open(config.database_path) as store:
                assert store.feedback("ada@example.org") == []
            voted = http.post(vote_url)
            assert voted.status_code == 200 and "Thank you" in voted.text
            with Store.open(config.database_path) as store:
                [(paper, vote, day)] = store.feedback("ada@example.org")
            assert (paper, vote, day) == ("2506.03006", 1, D2)

            # the next day: the liked paper's neighbour is picked for ada, not for the control
            assert _cli("run", "--date", str(D3), "--input", str(_listing(tmp_path, D3)),
                        "--send", "--config", cfg) == 0  # fmt: skip
            third = {str(m["To"]): m for m in rec.messages()[5:]}
            ada3 = _for_you(_text(third["ada@example.org"]))
            control3 = _for_you(_text(third["control@example.org"]))
            assert "Wireless spectrum sharing among licensees" in ada3
            assert "like: Combinatorial auctions for spectrum allocation" in ada3
            assert "like: Combinatorial auctions" not in control3

            feed_link = re.search(
                r'href="(/feed/[^"]+\.xml)"|href="https://digest\.test(/feed/[^"]+\.xml)"',
                http.get(prefs_url).text,
            )
            assert feed_link
            feed_path = feed_link.group(1) or feed_link.group(2)
            reply = http.get(base + feed_path)
            assert reply.status_code == 200
            assert reply.headers["Content-Type"].startswith("application/rss+xml")
            feed = feedparser.parse(reply.content)
            assert not feed.bozo, feed.bozo_exception
            titles = [e.title for e in feed.entries]
            assert "Wireless spectrum sharing among licensees" in titles
            assert "Combinatorial auctions for spectrum allocation" in titles
            # a damaged feed token is refused
            assert http.get(base + feed_path.replace(".xml", "x.xml")).status_code == 400
