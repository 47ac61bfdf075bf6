"""Sending a real digest through a real SMTP server (aiosmtpd on 127.0.0.1) and reading it back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import html
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cli_exit import cli as _cli
from hypothesis import given, settings
from hypothesis import strategies as st
from smtp_fixture_server import DAY, SECRET, Recorder, produce_digest, setup_project, smtp_server

from digest import deliver
from digest.config import Config, load_config
from digest.deliver.message import compile_mail, subject_for
from digest.errors import DigestError
from digest.models import Digest, Paper, RankedPaper
from digest.serve import create_app
from digest.store import Store


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _subscribe(config: Config, *emails: str, status: str = "confirmed") -> None:
    with Store.open(config.database_path) as store:
        for e in emails:
            store.add_subscriber(e, status)


def _send(config: Config, **kw: bool) -> deliver.SendReport:
    with Store.open(config.database_path) as store:
        digest = store.digest_for(DAY)
        assert digest is not None
        return deliver.deliver(store, config, digest, config.output_path, **kw)


def test_each_confirmed_subscriber_gets_one_multipart_message_with_list_headers(
    tmp_path: Path,
) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org", "alan@example.org")
        _subscribe(config, "pending@example.org", status="pending")
        _subscribe(config, "gone@example.org", status="unsubscribed")
        report = _send(config)
    assert report.sent == 2 and rec.connections == 1  # one connection for the whole batch
    assert sorted(rec.recipients()) == ["ada@example.org", "alan@example.org"]
    for msg in rec.messages():
        to = str(msg["To"])
        assert msg.get_content_type() == "multipart/alternative"
        parts = list(msg.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        assert str(msg["From"]) == "Paper digest <news@digest.test>"
        assert msg["Subject"].startswith("Paper digest, 2 Jun 2025: ")  # the config title
        assert email.utils.parsedate_to_datetime(msg["Date"]).tzinfo is not None
        assert msg["Message-ID"].startswith("<digest.2025-06-02.") and msg["Message-ID"].endswith(
            "@digest.test>"
        )
        assert msg["List-Id"] == "Paper digest <papers.digest.test>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https, mailto = [u.strip().strip("<>") for u in msg["List-Unsubscribe"].split(",")]
        assert https.startswith("https://digest.test/unsubscribe?token=")
        assert mailto == "mailto:news@digest.test?subject=unsubscribe"
        text = parts[0].get_content()
        body = parts[1].get_content()
        assert "%%UNSUBSCRIBE_URL%%" not in text and "%%UNSUBSCRIBE_URL%%" not in body
        assert "Graph networks for problem 0" in text and "Graph networks for problem 0" in body
        # the footer links are this subscriber's own, the same as the header's
        assert https in text
        assert html.escape(https) in body or https in body
        assert to in {"ada@example.org", "alan@example.org"}
    ids = [m["Message-ID"] for m in rec.messages()]
    assert len(set(ids)) == 2


def test_links_in_the_email_resolve_against_the_app(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org")
        _send(config)
    msg = rec.messages()[0]
    url = msg["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    link = urlsplit(url)
    client = create_app(config).test_client()
    page = client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200 and b"ada@example.org" in page.data
    archive = client.get("/2025-06-02/index.html")
    assert archive.status_code == 200 and b"Graph networks for problem 0" in archive.data
    one_click = client.post(f"{link.path}?{link.query}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    with Store.open(config.database_path) as store:
        sub = store.subscriber("ada@example.org")
        assert sub is not None and sub.status == "unsubscribed"


def test_rerun_after_success_sends_nothing_and_resend_sends_again(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org", "alan@example.org")
        assert _send(config).sent == 2
        assert _send(config).sent == 0
        again = _send(config, resend=True)
        assert again.sent == 2 and again.round == 2
        assert _send(config).sent == 0
    assert sorted(rec.recipients()) == ["ada@example.org"] * 2 + ["alan@example.org"] * 2
    first, second = (
        {m["Message-ID"] for m in rec.messages()[:2]},
        {m["Message-ID"] for m in rec.messages()[2:]},
    )
    assert not first & second  # a deliberate resend is a new message, not a duplicate to drop


def test_subscriber_added_after_a_send_gets_it_on_the_rerun(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org")
        _send(config)
        _subscribe(config, "late@example.org")
        assert _send(config).sent == 1
    assert rec.recipients() == ["ada@example.org", "late@example.org"]


def test_title_with_newlines_cannot_inject_headers(tmp_path: Path) -> None:
    config = load_config(None)
    paper = Paper(id="2506.00001", title="Evil\r\nBcc: victim@example.org\nX-Evil: 1 title")
    digest = Digest(
        date=DAY,
        generated_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC),
        sources=(),
        papers=(RankedPaper(paper, (), None, 1.0, True),),
        trending=("2506.00001",),
    )
    template = compile_mail(
        config, digest, "text %%UNSUBSCRIBE_URL%%", "<p>%%UNSUBSCRIBE_URL%%</p>"
    )
    raw = template.render("ada@example.org", "https://x.test/unsubscribe?token=t", "<m@x.test>")
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert "\n" not in subject_for(config, digest)
    assert msg["Subject"] == subject_for(config, digest)
    assert "Evil Bcc: victim@example.org X-Evil: 1 title" in msg["Subject"]
    with pytest.raises(ValueError):
        template.render("ada@example.org\r\nBcc: x@y.org", "https://x.test/u", "<m@x.test>")


def test_html_part_escapes_the_url_and_text_part_does_not(tmp_path: Path) -> None:
    config = load_config(None)
    digest = Digest(
        date=DAY, generated_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC), sources=(), papers=()
    )
    template = compile_mail(
        config, digest, "go: %%UNSUBSCRIBE_URL%%\n", '<a href="%%UNSUBSCRIBE_URL%%">x</a>'
    )
    url = "https://x.test/unsubscribe?token=abc&x=1"
    msg = email.message_from_bytes(template.render("a@b.org", url, "<m@x>"), policy=policy.default)
    text, body = (p.get_content() for p in msg.iter_parts())
    assert text.strip() == f"go: {url}"
    assert body.strip() == '<a href="https://x.test/unsubscribe?token=abc&amp;x=1">x</a>'


def test_dry_run_writes_eml_files_and_leaves_the_log_alone(tmp_path: Path) -> None:
    config = setup_project(tmp_path, None)  # no SMTP needed for a dry run
    _subscribe(config, "ada@example.org", "alan@example.org")
    report = _send(config, dry_run=True)
    assert report.sent == 2 and report.dry_run
    files = sorted((config.output_path / "2025-06-02" / "outbox").glob("*.eml"))
    assert len(files) == 2
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["To"] == "ada@example.org"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {}


def test_missing_smtp_settings_is_a_clear_error_before_any_send(tmp_path: Path) -> None:
    config = setup_project(tmp_path, None)
    _subscribe(config, "ada@example.org")
    with pytest.raises(DigestError, match=r"smtp\.host is not set"):
        _send(config)
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {}


def test_missing_password_and_secret_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = setup_project(tmp_path, 2525)
    _subscribe(config, "ada@example.org")
    with_user = config.with_overrides(smtp=dataclasses.replace(config.smtp, username="bot"))
    monkeypatch.delenv("DIGEST_SMTP_PASSWORD", raising=False)
    with Store.open(config.database_path) as store:
        digest = store.digest_for(DAY)
        assert digest is not None
        with pytest.raises(DigestError, match="DIGEST_SMTP_PASSWORD is not set"):
            deliver.send_digest(store, with_user, digest, config.output_path)
        monkeypatch.delenv("DIGEST_SECRET")
        with pytest.raises(DigestError, match="DIGEST_SECRET is not set"):
            deliver.send_digest(store, config, digest, config.output_path)


def test_unreachable_server_is_a_clear_error_and_the_rerun_sends(tmp_path: Path) -> None:
    with smtp_server() as (_rec, port):
        pass  # the port is free again: nothing listens there
    config = setup_project(tmp_path, port, retries=1)
    _subscribe(config, "ada@example.org")
    with pytest.raises(DigestError, match="cannot connect to SMTP server"):
        _send(config)
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {"deferred": 1}  # never in flight
    with smtp_server() as (rec, port2):
        config2 = config.with_overrides(smtp=dataclasses.replace(config.smtp, port=port2))
        assert _send(config2).sent == 1
    assert rec.recipients() == ["ada@example.org"]


def test_empty_day_sends_nothing_unless_send_empty(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org")
        empty_day = dt.date(2025, 6, 3)
        listing = tmp_path / "2025-06-03.jsonl"
        listing.write_text("")
        from digest import pipeline

        pipeline.run(config, empty_day, [listing])
        with Store.open(config.database_path) as store:
            digest = store.digest_for(empty_day)
            assert digest is not None and not digest.papers
            report = deliver.deliver(store, config, digest, config.output_path)
            assert report.skipped_empty and report.sent == 0
            assert rec.recipients() == []
            loud = config.with_overrides(email=dataclasses.replace(config.email, send_empty=True))
            assert deliver.send_digest(store, loud, digest, config.output_path) == 1


def test_send_command_and_run_send(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org")
        cfg = str(config.path)
        assert _cli("send", "--date", "2025-06-02", "--config", cfg) == 0
        assert "sent 1" in capsys.readouterr().out
        assert _cli("send", "--date", "2025-06-02", "--config", cfg) == 0
        assert "sent 0" in capsys.readouterr().out
        listing = tmp_path / "2025-06-09.jsonl"
        listing.write_text((tmp_path / "2025-06-02.jsonl").read_text())
        code = _cli(
            "run", "--date", "2025-06-09", "--input", str(listing), "--send", "--config", cfg
        )
        assert code == 0
        assert "sent 1" in capsys.readouterr().out
    assert rec.recipients() == ["ada@example.org", "ada@example.org"]
    assert "9 Jun 2025" in rec.messages()[1]["Subject"]


def test_send_command_without_digest_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smtp_fixture_server import write_config

    cfg = write_config(tmp_path, 2525)
    assert _cli("send", "--date", "2024-01-01", "--config", str(cfg)) == 1
    err = capsys.readouterr().err
    assert (
        err.strip()
        == "digest: error: no digest for 2024-01-01 in the store; run: digest run --date 2024-01-01"
    )


def test_rendered_files_are_read_not_rerendered(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org")
        html_file = config.output_path / "2025-06-02" / "email.html"
        html_file.write_text(html_file.read_text().replace("</body>", "<p>MARKER-42</p></body>"))
        _send(config)
    assert "MARKER-42" in rec.messages()[0].get_body(("html",)).get_content()


def test_subscriber_unsubscribed_mid_send_is_skipped(tmp_path: Path) -> None:
    def unsubscribe_second(number: int) -> None:
        if number == 1:
            with Store.open(config.database_path) as store:
                store.set_subscriber_status("c@example.org", "unsubscribed")
        return None

    rec = Recorder(on_data=unsubscribe_second)
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "a@example.org", "c@example.org")
        assert _send(config).sent == 1
    assert rec.recipients() == ["a@example.org"]


def test_produce_digest_helper_writes_real_renders(tmp_path: Path) -> None:
    config = load_config(None).with_overrides(output_dir=str(tmp_path / "out"))
    produce_digest(tmp_path, config)
    assert (tmp_path / "out" / "2025-06-02" / "email.html").read_text().count("Graph networks") >= 6


def test_lines_starting_with_a_dot_survive_the_smtp_transfer(tmp_path: Path) -> None:
    from digest.deliver.smtp import Mailer, SmtpSettings

    config = load_config(None)
    digest = Digest(
        date=DAY, generated_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC), sources=(), papers=()
    )
    text = ".starts with a dot\n..two dots\n.\nend %%UNSUBSCRIBE_URL%%\n"
    template = compile_mail(config, digest, text, "<p>\n.x</p>%%UNSUBSCRIBE_URL%%")
    # a token whose quoted-printable continuation line starts with a dot
    url = "https://x.test/unsubscribe?token=" + "a" * 40 + "." + "b" * 30
    raw = template.render("ada@example.org", url, "<m@x.test>")
    with smtp_server() as (rec, port):
        settings = SmtpSettings("127.0.0.1", port, "none", "", "", 10.0)
        with Mailer(settings, 1000.0, retries=0, backoff_s=0.0) as mailer:
            assert mailer.send("news@digest.test", "ada@example.org", raw).status == "sent"
            with pytest.raises(ValueError):
                mailer.send("news@digest.test", "ada@example.org", b"Subject: x\n\nbare LF\n")
    [(_, received)] = rec.accepted
    assert received.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    msg = rec.messages()[0]
    body = msg.get_body(("plain",))
    assert body is not None
    # quoted-printable text travels with CRLF line breaks, its canonical form
    assert body.get_content().replace("\r\n", "\n") == text.replace("%%UNSUBSCRIBE_URL%%", url)


_URL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    text_pieces=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), min_size=1, max_size=4
    ),
    html_pieces=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), min_size=1, max_size=4
    ),
    token=st.text(_URL_CHARS, min_size=1, max_size=150),
)
def test_spliced_message_decodes_to_the_bodies_with_the_url(
    text_pieces: list[str], html_pieces: list[str], token: str
) -> None:
    config = load_config(None)
    digest = Digest(
        date=DAY, generated_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC), sources=(), papers=()
    )
    text = "%%UNSUBSCRIBE_URL%%".join(text_pieces)
    body = "%%UNSUBSCRIBE_URL%%".join(html_pieces)
    url = f"https://x.test/unsubscribe?token={token}&a=1"
    raw = compile_mail(config, digest, text, body).render("a@b.org", url, "<m@x.test>")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert not msg.defects
    plain, rich = msg.iter_parts()

    def lines(value: str) -> str:
        return value.replace("\r\n", "\n").replace("\r", "\n")

    assert lines(plain.get_content()) == lines(text.replace("%%UNSUBSCRIBE_URL%%", url))
    assert lines(rich.get_content()) == lines(body.replace("%%UNSUBSCRIBE_URL%%", html.escape(url)))
