"""What ``digest send`` says and exits with when messages are refused, skipped or go nowhere;
through a real aiosmtpd server on 127.0.0.1 that refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_exit import cli as _cli
from smtp_fixture_server import DAY, SECRET, Recorder, setup_project, smtp_server

from digest.store import Store

REFUSED = "550 5.1.1 no such user"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _subscribe(config_path: Path, *emails: str) -> None:
    for e in emails:
        assert _cli("subscribers", "add", e, "--confirmed", "--config", str(config_path)) == 0


def test_every_recipient_refused_exits_non_zero_and_the_rerun_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder(rcpt_replies={"nobody@example.org": REFUSED})
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        cfg = str(config.path)
        _subscribe(config.path, "nobody@example.org")
        capsys.readouterr()
        assert _cli("send", "--date", "2025-06-02", "--config", cfg) == 1
        out = capsys.readouterr().out.strip()
        assert out == "2025-06-02: sent 0, 1 refused (5xx); nothing was delivered"
        # the rerun tries nobody again, and says whom it skipped and how to retry
        assert _cli("send", "--date", "2025-06-02", "--config", cfg) == 1
        out = capsys.readouterr().out.strip()
        assert out == (
            "2025-06-02: sent 0; skipped 1 already refused (5xx); --resend to retry; "
            "nothing was delivered"
        )
        # the hint works as printed: --resend tries again (and is refused again)
        assert _cli("send", "--date", "2025-06-02", "--resend", "--config", cfg) == 1
        assert "1 refused (5xx)" in capsys.readouterr().out
    assert rec.recipients() == []


def test_partly_refused_send_exits_zero_and_the_rerun_names_both_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder(rcpt_replies={"nobody@example.org": REFUSED})
    with smtp_server(rec) as (rec, port):
        config = setup_project(tmp_path, port)
        cfg = str(config.path)
        _subscribe(config.path, "ada@example.org", "nobody@example.org")
        capsys.readouterr()
        assert _cli("send", "--date", "2025-06-02", "--config", cfg) == 0
        assert capsys.readouterr().out.strip() == "2025-06-02: sent 1, 1 refused (5xx)"
        assert _cli("send", "--date", "2025-06-02", "--config", cfg) == 0
        assert capsys.readouterr().out.strip() == (
            "2025-06-02: sent 0; skipped 1 already sent, 1 already refused (5xx); "
            "--resend to send again"
        )
    assert rec.recipients() == ["ada@example.org"]


def test_no_confirmed_subscribers_is_said_and_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        capsys.readouterr()
        assert _cli("send", "--date", "2025-06-02", "--config", str(config.path)) == 0
    assert capsys.readouterr().out.strip() == "2025-06-02: sent 0 (no confirmed subscribers)"
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {}


def test_counts_of_one_are_singular_in_cli_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup_project(tmp_path, None)
    cfg = str(config.path)
    _subscribe(config.path, "ada@example.org")
    capsys.readouterr()
    assert _cli("send", "--date", "2025-06-02", "--dry-run", "--config", cfg) == 0
    assert capsys.readouterr().out.strip() == "2025-06-02: dry run, wrote 1 message to the outbox"
    assert _cli("subscribers", "list", "--config", cfg) == 0
    assert capsys.readouterr().err.strip() == "1 subscriber"
    assert _cli("subscribers", "export", "--config", cfg) == 0
    assert capsys.readouterr().err.strip() == "exported 1 subscriber"
    people = tmp_path / "people.csv"
    people.write_text("email\nalan@example.org\nnot an address\n")
    assert _cli("subscribers", "import", str(people), "--config", cfg) == 1
    assert capsys.readouterr().out.strip() == (
        "imported 1 new subscriber, 0 already present, 1 row skipped"
    )
    listing = tmp_path / "2025-06-05.jsonl"
    listing.write_text('{"id": "2506.00001v1", "title": "One lonely paper", "summary": "Alone."}\n')
    assert _cli("run", "--date", "2025-06-05", "--input", str(listing), "--config", cfg) == 0
    captured = capsys.readouterr()
    assert "2025-06-05: 1 paper, 1 theme, 1 trending" in captured.out
    assert "ok, 1 paper (" in captured.err


def test_subject_uses_the_config_title(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)  # title = "Paper digest", no subject_prefix
        _subscribe(config.path, "ada@example.org")
        assert _cli("send", "--date", "2025-06-02", "--config", str(config.path)) == 0
    [msg] = rec.messages()
    assert str(msg["Subject"]).startswith("Paper digest, 2 Jun 2025: ")


def test_sending_from_the_default_address_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = setup_project(tmp_path, None)
    cfg = config.path
    assert cfg is not None
    # the same project with no [email] section at all
    text = cfg.read_text()
    cfg.write_text(text[: text.index("[email]")])
    _subscribe(cfg, "ada@example.org")
    with caplog.at_level("WARNING"):
        assert _cli("send", "--date", "2025-06-02", "--dry-run", "--config", str(cfg)) == 0
    lines = [r.getMessage() for r in caplog.records if "digest@localhost" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith(f"email.from_addr is not set in {cfg}: messages go out From")
    # with an address set, nothing is said
    caplog.clear()
    cfg.write_text(text)
    with caplog.at_level("WARNING"):
        assert _cli("send", "--date", "2025-06-02", "--dry-run", "--config", str(cfg)) == 0
    assert "from_addr" not in caplog.text
