"""``digest serve`` in-process (Flask test client) with a real SMTP server for confirmations."""

from __future__ import annotations

import collections
import dataclasses
import re
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from flask.testing import FlaskClient
from smtp_fixture_server import DAY, SECRET, Recorder, setup_project, smtp_server

from digest import deliver
from digest.config import Config
from digest.deliver.tokens import Links
from digest.errors import DigestError
from digest.serve import create_app
from digest.store import Store


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _status(config: Config, email: str) -> str | None:
    with Store.open(config.database_path) as store:
        sub = store.subscriber(email)
        return sub.status if sub else None


def _link(msg: EmailMessage, path: str) -> str:
    """The first link to ``path`` in the plain-text part, as a path?query for the test client."""
    body = msg.get_body(("plain",))
    assert body is not None
    for word in body.get_content().split():
        if f"/{path}?token=" in word:
            url = urlsplit(word)
            return f"{url.path}?{url.query}"
    raise AssertionError(f"no {path} link in {body.get_content()!r}")


def test_whole_journey_subscribe_confirm_receive_unsubscribe_excluded(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        client = create_app(config).test_client()
        reply = client.post("/subscribe", data={"email": " Reader@Example.ORG "})
        assert reply.status_code == 200 and b"Check your inbox" in reply.data
        assert _status(config, "Reader@example.org") == "pending"
        [confirmation] = rec.messages()
        assert confirmation["To"] == "Reader@example.org"
        assert [p.get_content_type() for p in confirmation.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        # following the link shows a button; only pressing it (POST) confirms
        shown = client.get(_link(confirmation, "confirm"))
        assert shown.status_code == 200 and b'<form method="post"' in shown.data
        assert _status(config, "Reader@example.org") == "pending"
        confirmed = client.post(_link(confirmation, "confirm"))
        assert confirmed.status_code == 200 and b"Subscribed" in confirmed.data
        assert _status(config, "Reader@example.org") == "confirmed"

        with Store.open(config.database_path) as store:
            digest = store.digest_for(DAY)
            assert digest is not None
            assert deliver.send_digest(store, config, digest, config.output_path) == 1
        daily = rec.messages()[1]
        header_url = urlsplit(daily["List-Unsubscribe"].split(",")[0].strip().strip("<>"))
        assert _link(daily, "unsubscribe") == f"{header_url.path}?{header_url.query}"
        # what a mail client's one-click button sends (RFC 8058): no cookie, form body
        one_click = client.post(
            f"{header_url.path}?{header_url.query}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert one_click.status_code == 200
        assert "Location" not in one_click.headers and "Set-Cookie" not in one_click.headers
        assert _status(config, "Reader@example.org") == "unsubscribed"

        with Store.open(config.database_path) as store:
            digest = store.digest_for(DAY)
            assert digest is not None
            again = deliver.deliver(store, config, digest, config.output_path, resend=True)
        assert again.sent == 0
    assert collections.Counter(rec.recipients()) == {"Reader@example.org": 2}


def test_unsubscribe_page_has_a_button_and_get_changes_nothing(tmp_path: Path) -> None:
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "confirmed")
    client = create_app(config).test_client()
    token = Links.from_config(config).unsubscribe_token("ada@example.org")
    page = client.get(f"/unsubscribe?token={token}")
    assert page.status_code == 200
    assert b'<form method="post" action="/unsubscribe?token=' in page.data
    assert b'name="List-Unsubscribe" value="One-Click"' in page.data
    assert _status(config, "ada@example.org") == "confirmed"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    # unsubscribing twice is fine and still never redirects
    for _ in range(2):
        done = client.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and b"Unsubscribed" in done.data
    assert _status(config, "ada@example.org") == "unsubscribed"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # tampered signature
        lambda t: "bWFsbG9yeUBleGFtcGxlLm9yZw." + t.split(".")[-1],  # another payload
        lambda t: "",
        lambda t: "not-a-token",
    ],
)
def test_forged_or_tampered_tokens_get_a_clear_page_and_change_nothing(
    tmp_path: Path, mangle
) -> None:
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "confirmed")
        store.add_subscriber("pending@example.org", "pending")
    links = Links.from_config(config)
    client = create_app(config).test_client()
    bad_unsub = mangle(links.unsubscribe_token("ada@example.org"))
    bad_confirm = mangle(links.confirm_token("pending@example.org"))
    for reply in (
        client.get(f"/unsubscribe?token={bad_unsub}"),
        client.post(f"/unsubscribe?token={bad_unsub}", data={"List-Unsubscribe": "One-Click"}),
        client.get(f"/confirm?token={bad_confirm}"),
        client.post(f"/confirm?token={bad_confirm}"),
    ):
        assert reply.status_code == 400
        assert b"Link not valid" in reply.data and b"Nothing was changed" in reply.data
        assert b"Traceback" not in reply.data
    assert _status(config, "ada@example.org") == "confirmed"
    assert _status(config, "pending@example.org") == "pending"


def test_token_signed_with_another_secret_or_for_another_purpose_is_rejected(
    tmp_path: Path,
) -> None:
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "confirmed")
    client = create_app(config).test_client()
    other = Links("another-secret-0123456789", config.site_url, 3600)
    assert (
        client.post(f"/confirm?token={other.confirm_token('ada@example.org')}").status_code == 400
    )
    # an unsubscribe token is not a confirmation token, and the reverse
    links = Links.from_config(config)
    assert (
        client.post(f"/confirm?token={links.unsubscribe_token('x@example.org')}").status_code == 400
    )
    confirm_token = links.confirm_token("ada@example.org")
    assert client.post(f"/unsubscribe?token={confirm_token}").status_code == 400
    assert _status(config, "ada@example.org") == "confirmed"


def test_expired_confirmation_link_changes_nothing(tmp_path: Path) -> None:
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("late@example.org", "pending")
    client = create_app(config).test_client()
    with time_machine.travel("2026-01-01 00:00:00+00:00", tick=False):
        token = Links.from_config(config).confirm_token("late@example.org")
    with time_machine.travel("2026-01-09 00:00:00+00:00", tick=False):  # default max age: 7 days
        reply = client.post(f"/confirm?token={token}")
    assert reply.status_code == 400 and b"expired" in reply.data
    assert _status(config, "late@example.org") == "pending"
    with time_machine.travel("2026-01-06 00:00:00+00:00", tick=False):
        assert client.post(f"/confirm?token={token}").status_code == 200
    assert _status(config, "late@example.org") == "confirmed"


def test_confirmation_link_dated_in_the_future_is_invalid_not_expired(tmp_path: Path) -> None:
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("early@example.org", "pending")
    client = create_app(config).test_client()
    with time_machine.travel("2030-01-01 00:00:00+00:00", tick=False):
        token = Links.from_config(config).confirm_token("early@example.org")
    for reply in (client.get(f"/confirm?token={token}"), client.post(f"/confirm?token={token}")):
        assert reply.status_code == 400 and b"not valid" in reply.data
        assert b"expired" not in reply.data and b"Subscribe again" not in reply.data
    assert _status(config, "early@example.org") == "pending"


def test_confirmation_get_shows_a_button_and_changes_nothing(tmp_path: Path) -> None:
    # a mail scanner fetches every link of a message: it must not subscribe anyone
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "pending")
    client = create_app(config).test_client()
    token = Links.from_config(config).confirm_token("ada@example.org")
    for _ in range(3):
        page = client.get(f"/confirm?token={token}")
        assert page.status_code == 200
        assert f'<form method="post" action="/confirm?token={token}">'.encode() in page.data
        assert page.headers["Cache-Control"] == "no-store"
    assert _status(config, "ada@example.org") == "pending"
    done = client.post(f"/confirm?token={token}")
    assert done.status_code == 200 and b"Subscribed" in done.data
    assert _status(config, "ada@example.org") == "confirmed"
    # the link again, once confirmed: says so, no button
    again = client.get(f"/confirm?token={token}")
    assert b"Subscribed" in again.data and b"<form" not in again.data


def test_confirm_does_not_resurrect_an_unsubscribed_address(tmp_path: Path) -> None:
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "unsubscribed")
    client = create_app(config).test_client()
    token = Links.from_config(config).confirm_token("ada@example.org")
    for reply in (client.get(f"/confirm?token={token}"), client.post(f"/confirm?token={token}")):
        assert reply.status_code == 200 and b"nothing was changed" in reply.data
    assert _status(config, "ada@example.org") == "unsubscribed"


def test_malformed_addresses_are_refused_with_a_clear_page(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        client = create_app(config).test_client()
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "x@example.org\r\nBcc: y@example.org",
            "a" * 300 + "@x.org",
        ]:
            reply = client.post("/subscribe", data={"email": bad})
            assert reply.status_code == 400, bad
            assert b"Check the address" in reply.data
    assert rec.recipients() == []
    with Store.open(config.database_path) as store:
        assert store.count_subscribers() == 0


@pytest.mark.slow
def test_subscribe_rate_limits_per_address_and_per_client(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        config = config.with_overrides(
            serve=dataclasses.replace(config.serve, subscribe_per_address=2, subscribe_per_client=4)
        )
        client = create_app(config).test_client()
        codes = [
            client.post("/subscribe", data={"email": "ada@example.org"}).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        assert rec.recipients() == ["ada@example.org"] * 2
        # the same client, other addresses: one more, then its own limit
        assert client.post("/subscribe", data={"email": "b@example.org"}).status_code == 200
        assert client.post("/subscribe", data={"email": "c@example.org"}).status_code == 429
        other = client.post(
            "/subscribe", data={"email": "c@example.org"}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
        )
        assert other.status_code == 200


def test_subscribing_a_confirmed_address_sends_nothing_and_reveals_nothing(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        with Store.open(config.database_path) as store:
            store.add_subscriber("ada@example.org", "confirmed")
        client = create_app(config).test_client()
        known = client.post("/subscribe", data={"email": "ada@example.org"})
        new = client.post("/subscribe", data={"email": "new@example.org"})
    assert known.status_code == new.status_code == 200
    assert known.data.replace(b"ada@example.org", b"X") == new.data.replace(
        b"new@example.org", b"X"
    )
    assert rec.recipients() == ["new@example.org"]
    assert _status(config, "ada@example.org") == "confirmed"


def test_smtp_refusal_of_the_confirmation_is_logged_and_the_client_gets_a_generic_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reply_text = "550 5.1.1 no such user (relay mx7.internal.example, policy 12)"
    rec = Recorder(rcpt_replies={"nobody@example.org": reply_text})
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        client = create_app(config).test_client()
        with caplog.at_level("WARNING", logger="digest.serve"):
            reply = client.post("/subscribe", data={"email": "nobody@example.org"})
    assert reply.status_code == 400 and b"could not be sent" in reply.data
    assert b"no such user" not in reply.data and b"mx7" not in reply.data
    assert "no such user" in caplog.text and "nobody@example.org" in caplog.text


def test_subscriptions_closed_without_smtp_but_the_archive_is_served(tmp_path: Path) -> None:
    config = setup_project(tmp_path, None)
    client = create_app(config).test_client()
    assert client.post("/subscribe", data={"email": "ada@example.org"}).status_code == 503
    assert client.get("/").status_code == 200
    assert client.get("/subscribe").status_code == 200


def test_missing_secret_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = setup_project(tmp_path, None)
    monkeypatch.delenv("DIGEST_SECRET")
    with pytest.raises(DigestError, match="DIGEST_SECRET is not set"):
        create_app(config)
    monkeypatch.setenv("DIGEST_SECRET", "short")
    with pytest.raises(DigestError, match="too short"):
        create_app(config)


def _client(tmp_path: Path) -> tuple[Config, FlaskClient]:
    config = setup_project(tmp_path, None)
    return config, create_app(config).test_client()


def test_serves_archive_day_pages_and_feed(tmp_path: Path) -> None:
    config, client = _client(tmp_path)
    index = client.get("/")
    assert index.status_code == 200 and index.mimetype == "text/html"
    assert index.data == (config.output_path / "index.html").read_bytes()
    assert (
        client.get("/2025-06-02/").data
        == (config.output_path / "2025-06-02" / "index.html").read_bytes()
    )
    assert client.get("/2025-06-02/digest.json").is_json
    if (config.output_path / "feed.xml").exists():
        assert client.get("/feed.xml").status_code == 200


def test_serves_every_feed_format_with_its_type(tmp_path: Path) -> None:
    config, client = _client(tmp_path)
    types = {
        "feed.xml": "application/xml",
        "feed.atom": "application/atom+xml",
        "feed.json": "application/json",
        "papers.atom": "application/atom+xml",
        "feeds.opml": "text/x-opml",
    }
    for name, mimetype in types.items():
        reply = client.get(f"/{name}")
        assert reply.status_code == 200, name
        assert reply.mimetype == mimetype, name
        assert reply.data == (config.output_path / name).read_bytes()


def test_never_serves_outside_output_dotfiles_or_the_outbox(tmp_path: Path) -> None:
    config, client = _client(tmp_path)
    out = config.output_path
    (out / ".secret.html").write_text("hidden")
    (out / "2025-06-02" / ".email.html.abc.tmp").write_text("partial")
    (out / "2025-06-02" / "outbox").mkdir()
    (out / "2025-06-02" / "outbox" / "000001-ada.eml").write_text("personal token")
    (out / "2025-06-02" / "outbox" / "x.html").write_text("personal")
    (out / "notes.sqlite").write_text("db")
    (tmp_path / "outside.html").write_text("outside")
    for path in [
        "/.secret.html",
        "/2025-06-02/.email.html.abc.tmp",
        "/2025-06-02/outbox/000001-ada.eml",
        "/2025-06-02/outbox/x.html",
        "/notes.sqlite",
        "/../outside.html",
        "/%2e%2e/outside.html",
        "/2025-06-02/../../outside.html",
        "/nope.html",
    ]:
        assert client.get(path).status_code == 404, path


def test_symlinks_out_of_the_output_folder_are_not_followed(tmp_path: Path) -> None:
    config, client = _client(tmp_path)
    out = config.output_path
    secret = tmp_path / "private.txt"
    secret.write_text("root:x:0:0")
    (out / "leak.txt").symlink_to(secret)
    (out / "subscribers.json").symlink_to(config.database_path)
    (out / "2025-06-02" / "db.html").symlink_to(config.database_path)
    (out / "escape").symlink_to(tmp_path, target_is_directory=True)
    (out / "loop.html").symlink_to(out / "loop.html")
    (out / "fifo.txt").symlink_to("/dev/null")
    (out / "2025-06-02" / "outbox").mkdir()
    (out / "2025-06-02" / "outbox" / "000001-ada.html").write_text("personal token")
    (out / "mail.html").symlink_to(out / "2025-06-02" / "outbox" / "000001-ada.html")
    for path in [
        "/leak.txt",
        "/subscribers.json",
        "/2025-06-02/db.html",
        "/escape/private.txt",
        "/loop.html",
        "/fifo.txt",
        "/mail.html",
    ]:
        reply = client.get(path)
        assert reply.status_code == 404, path
        assert b"root:x" not in reply.data and b"SQLite" not in reply.data, path
    # a link that stays inside the folder, to a file the site publishes anyway, still works
    (out / "latest.html").symlink_to(out / "2025-06-02" / "index.html")
    latest = client.get("/latest.html")
    assert latest.status_code == 200
    assert latest.data == (out / "2025-06-02" / "index.html").read_bytes()


def test_every_response_forbids_framing_and_foreign_scripts(tmp_path: Path) -> None:
    config, client = _client(tmp_path)
    token = Links.from_config(config).unsubscribe_token("ada@example.org")
    for reply in (
        client.get("/"),
        client.get("/2025-06-02/"),
        client.get("/2025-06-02/digest.json"),
        client.get("/subscribe"),
        client.post("/subscribe", data={"email": "x"}),
        client.get("/confirm?token=bad"),
        client.get(f"/unsubscribe?token={token}"),
        client.get("/nope.html"),
    ):
        assert reply.headers["X-Frame-Options"] == "DENY"
        csp = {
            d.split()[0]: d.split()[1:]
            for d in reply.headers["Content-Security-Policy"].split("; ")
        }
        assert csp["default-src"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert "'self'" in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"]
        assert csp["form-action"] == ["'self'"] and csp["base-uri"] == ["'none'"]
    # the generated pages hold no inline script the policy would block: only the site's
    # own search loader, an external 'self' script (Pagefind's UI is its own files too)
    for page in config.output_path.rglob("*.html"):
        text = page.read_text("utf-8")
        for script in re.findall(r"<script\b[^>]*>(.*?)</script\s*>", text, re.I | re.S):
            assert not script.strip(), page  # no inline code
        tags = re.findall(r"<script\b[^>]*>", text, re.I)
        assert all(re.fullmatch(r'<script src="(\.\./)?search\.js" defer>', t) for t in tags), page


@pytest.mark.slow
def test_digest_serve_command_runs_waitress_over_real_http(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from smtp_fixture_server import free_port

    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "confirmed")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digest",
            "serve",
            "--config",
            str(config.path),
            "--port",
            str(port),
        ],
        env={**os.environ, "DIGEST_SECRET": SECRET},
        cwd=tmp_path,
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
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/") as reply:
            assert reply.status == 200
            assert reply.read() == (config.output_path / "index.html").read_bytes()
        token = Links.from_config(config).unsubscribe_token("ada@example.org")
        request = urllib.request.Request(
            f"{base}/unsubscribe?token={token}", data=b"List-Unsubscribe=One-Click", method="POST"
        )
        with urllib.request.urlopen(request) as reply:
            assert reply.status == 200 and reply.geturl() == request.full_url  # no redirect
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/..%2f..%2fetc/passwd")
        assert missing.value.code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert _status(config, "ada@example.org") == "unsubscribed"
