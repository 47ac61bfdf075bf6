"""DKIM signing: messages received by a real aiosmtpd on 127.0.0.1 verify with dkimpy against
the public key a stub resolver serves; bad DKIM settings are one line naming what to fix."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dkim
import pytest
from cli_exit import cli as _cli
from conftest import FIXTURES
from smtp_fixture_server import SECRET, Recorder, setup_project, smtp_server, write_config

from digest.config import Config
from digest.serve import create_app
from digest.store import Store

KEY = FIXTURES / "dkim" / "test-2048.pem"
PUBLIC = (FIXTURES / "dkim" / "test-2048.pub.b64").read_text().strip()
DKIM_SETTINGS = {"dkim_selector": "mail2025", "dkim_domain": "digest.test"}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    monkeypatch.delenv("DIGEST_DKIM_KEY", raising=False)


def stub_dns(records: dict[str, str]):  # type: ignore[no-untyped-def]
    """dkimpy's dnsfunc: TXT lookups answered from ``records`` (names without the final dot)."""
    asked: list[str] = []

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        key = name.decode().rstrip(".")
        asked.append(key)
        value = records.get(key)
        return value.encode() if value is not None else None

    lookup.asked = asked  # type: ignore[attr-defined]
    return lookup


PUBLISHED = stub_dns({"mail2025._domainkey.digest.test": f"v=DKIM1; k=rsa; p={PUBLIC}"})


def _subscribe(config: Config, *emails: str) -> None:
    with Store.open(config.database_path) as store:
        for e in emails:
            store.add_subscriber(e, "confirmed")


def _signature(raw: bytes) -> str:
    """The DKIM-Signature header, unfolded and without whitespace."""
    header = re.match(rb"DKIM-Signature:(.*?)\r\n(?![ \t])", raw, re.S)
    assert header is not None
    return re.sub(r"\s+", "", header.group(1).decode())


def _raw(rec: Recorder) -> list[bytes]:
    return [raw for _rcpt, raw in rec.accepted]


@pytest.mark.slow
def test_each_sent_message_carries_its_own_signature_that_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGEST_DKIM_KEY", KEY.read_text())
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port, **DKIM_SETTINGS)
        _subscribe(config, "ada@example.org", "alan@example.org")
        assert _cli("send", "--date", "2025-06-02", "--config", str(config.path)) == 0
    assert "sent 2" in capsys.readouterr().out
    raws = _raw(rec)
    assert len(raws) == 2
    for raw in raws:
        assert raw.startswith(b"DKIM-Signature: ")
        assert dkim.verify(raw, dnsfunc=PUBLISHED)
        header = _signature(raw)
        assert "d=digest.test;" in header and "s=mail2025;" in header
        signed = re.search(r"h=([^;]+);", header)
        assert signed is not None
        names = set(signed.group(1).split(":"))
        # RFC 8058: the one-click headers must be covered by the signature
        assert {"list-unsubscribe", "list-unsubscribe-post", "from", "to"} <= names
    # signed per message (To, Message-ID and the unsubscribe link differ): no shared signature
    tags = [dict(re.findall(r"\b(bh|b)=([^;]+)", _signature(raw))) for raw in raws]
    assert tags[0]["bh"] != tags[1]["bh"] and tags[0]["b"] != tags[1]["b"]
    assert PUBLISHED.asked == ["mail2025._domainkey.digest.test"] * 2  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_changed_body_or_a_key_not_published_fails_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_DKIM_KEY", KEY.read_text().replace("\n", "\\n"))  # one line
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port, **DKIM_SETTINGS)
        _subscribe(config, "ada@example.org")
        assert _cli("send", "--date", "2025-06-02", "--config", str(config.path)) == 0
    [raw] = _raw(rec)
    assert dkim.verify(raw, dnsfunc=PUBLISHED)
    tampered = raw.replace(b"unsubscribe?token=", b"unsubscribe?token=x", 1)
    assert tampered != raw and not dkim.verify(tampered, dnsfunc=PUBLISHED)
    assert not dkim.verify(raw, dnsfunc=stub_dns({}))
    # a relay re-folding a header (relaxed header canonicalization) keeps the signature valid
    refolded = raw.replace(b"\r\nSubject: ", b"\r\nSubject:\r\n \t ", 1)
    assert refolded != raw and dkim.verify(refolded, dnsfunc=PUBLISHED)


def test_key_from_a_file_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    shutil.copy(KEY, tmp_path / "keys" / "dkim.pem")
    with smtp_server() as (rec, port):
        config = setup_project(
            tmp_path, port, **DKIM_SETTINGS, dkim_key_file="keys/dkim.pem", dkim_key_env="UNSET_X"
        )
        _subscribe(config, "ada@example.org")
        assert _cli("send", "--date", "2025-06-02", "--config", str(config.path)) == 0
    [raw] = _raw(rec)
    assert dkim.verify(raw, dnsfunc=PUBLISHED)


def test_confirmation_emails_are_signed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_DKIM_KEY", KEY.read_text())
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port, **DKIM_SETTINGS)
        reply = create_app(config).test_client().post("/subscribe", data={"email": "a@example.org"})
        assert reply.status_code == 200
    [raw] = _raw(rec)
    assert raw.startswith(b"DKIM-Signature: ") and dkim.verify(raw, dnsfunc=PUBLISHED)


@pytest.mark.slow
def test_without_dkim_settings_nothing_is_signed(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port)
        _subscribe(config, "ada@example.org")
        assert _cli("send", "--date", "2025-06-02", "--config", str(config.path)) == 0
    [raw] = _raw(rec)
    assert b"DKIM-Signature" not in raw


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("digest: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"dkim_selector": "mail2025"}, "'email.dkim_domain' is required"),
        ({"dkim_domain": "digest.test"}, "'email.dkim_selector' is required"),
        ({**DKIM_SETTINGS, "dkim_selector": "bad selector"}, "'email.dkim_selector' must be a DNS"),
        ({"dkim_key_file": "k.pem"}, "'email.dkim_key_file' is set but"),
    ],
)
def test_incomplete_dkim_settings_name_the_key_and_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: dict[str, str], named: str
) -> None:
    cfg = write_config(tmp_path, 2525, **settings)
    assert _cli("send", "--date", "2025-06-02", "--config", str(cfg)) == 2
    line = _one_error_line(capsys)
    assert named in line and str(cfg) in line


@pytest.mark.parametrize(
    ("key_env", "key_file", "named"),
    [
        (None, None, "the environment variable DIGEST_DKIM_KEY is not set"),
        ("not a key", None, "the environment variable DIGEST_DKIM_KEY does not hold a PEM"),
        (None, "missing.pem", "missing.pem (email.dkim_key_file (set in"),
        (None, "garbage.pem", "garbage.pem (email.dkim_key_file (set in"),
    ],
)
def test_unreadable_or_invalid_key_is_one_line_and_nothing_is_sent(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key_env: str | None,
    key_file: str | None,
    named: str,
) -> None:
    if key_env is not None:
        monkeypatch.setenv("DIGEST_DKIM_KEY", key_env)
    (tmp_path / "garbage.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END\n")
    extra = {"dkim_key_file": key_file} if key_file else {}
    with smtp_server() as (rec, port):
        config = setup_project(tmp_path, port, **DKIM_SETTINGS, **extra)
        _subscribe(config, "ada@example.org")
        assert _cli("send", "--date", "2025-06-02", "--config", str(config.path)) == 1
        # run --send checks the same before any work
        listing = str(tmp_path / "2025-06-02.jsonl")
        run = ("run", "--date", "2025-06-02", "--send", "--input", listing)
        assert _cli(*run, "--config", str(config.path)) == 1
    assert rec.accepted == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0] == err[1] and named in err[0], err
    if key_file:
        assert str(tmp_path / key_file) in err[0] and str(config.path) in err[0]
