"""SMTP over STARTTLS and implicit TLS with a login, against aiosmtpd with a test certificate."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from smtp_fixture_server import DAY, SECRET, Recorder, free_port, setup_project

from digest import deliver
from digest.config import Config
from digest.errors import DigestError
from digest.store import Store

TLS = Path(__file__).parent / "fixtures" / "smtp-tls"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "correct horse")
    # the client verifies certificates with the default trust store; trust the test one
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "cert.pem"))


def _server_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    return context


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"bot"
        and data.password == b"correct horse"
    )
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535


@contextmanager
def _server(**tls: Any) -> Iterator[tuple[Recorder, int]]:
    """aiosmtpd on a free port with the test certificate and ``tls`` options."""
    rec = Recorder()
    port = free_port()
    controller = Controller(rec, hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        yield rec, port
    finally:
        controller.stop()


def _send(config: Config, security: str, port: int, username: str = "bot") -> deliver.SendReport:
    smtp = dataclasses.replace(config.smtp, security=security, port=port, username=username)
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "confirmed")
        digest = store.digest_for(DAY)
        assert digest is not None
        return deliver.deliver(store, config.with_overrides(smtp=smtp), digest, config.output_path)


def test_starttls_with_login(tmp_path: Path) -> None:
    with _server(
        tls_context=_server_context(),
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    ) as (rec, port):
        config = setup_project(tmp_path, port)
        assert _send(config, "starttls", port).sent == 1
    assert rec.recipients() == ["ada@example.org"]


def test_implicit_tls_with_login(tmp_path: Path) -> None:
    # aiosmtpd cannot tell implicit TLS from plain text, so it must not insist on TLS for AUTH
    with _server(
        ssl_context=_server_context(), authenticator=_authenticator, auth_require_tls=False
    ) as (rec, port):
        config = setup_project(tmp_path, port)
        assert _send(config, "ssl", port).sent == 1
    assert rec.recipients() == ["ada@example.org"]


def test_wrong_password_is_one_clear_error_and_nothing_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong")
    with _server(
        tls_context=_server_context(), authenticator=_authenticator, auth_require_tls=True
    ) as (rec, port):
        config = setup_project(tmp_path, port)
        with pytest.raises(
            DigestError, match=r"SMTP login to 127\.0\.0\.1:\d+ \(starttls\) refused: 535"
        ):
            _send(config, "starttls", port)
    assert rec.recipients() == []
    with Store.open(config.database_path) as store:
        assert store.delivery_counts(DAY) == {"deferred": 1}


def test_untrusted_certificate_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # an empty trust store
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    with _server(tls_context=_server_context()) as (rec, port):
        config = setup_project(tmp_path, port, retries=0)
        with pytest.raises(
            DigestError, match="cannot connect to SMTP server.*CERTIFICATE_VERIFY_FAILED"
        ):
            _send(config, "starttls", port, username="")
    assert rec.recipients() == []


def test_server_without_starttls_or_auth_is_one_clear_line(tmp_path: Path) -> None:
    with _server() as (rec, port):  # plain SMTP: neither STARTTLS nor AUTH on offer
        config = setup_project(tmp_path, port)
        with pytest.raises(DigestError, match=r"does not offer STARTTLS; set smtp.security"):
            _send(config, "starttls", port)
        with pytest.raises(DigestError, match=r"does not offer AUTH here"):
            _send(config, "none", port, username="bot")
    assert rec.recipients() == []
