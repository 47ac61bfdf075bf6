"""``digest doctor`` against a real DNS server and the real app over HTTP, both on 127.0.0.1
(DIGEST_DNS_SERVER points the lookups at the local server: nothing reaches the internet)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import FIXTURES
from dns_fixture_server import dns_server, silent_dns
from smtp_fixture_server import SECRET, free_port, write_config
from werkzeug.serving import make_server

from digest.cli import main
from digest.config import load_config
from digest.serve import create_app

KEY = (FIXTURES / "dkim" / "test-2048.pem").read_text()
PUBLIC = (FIXTURES / "dkim" / "test-2048.pub.b64").read_text().strip()
DKIM_SETTINGS = {"dkim_selector": "mail2025", "dkim_domain": "digest.test"}
PUBLISHED = {
    "digest.test": ["v=spf1 ip4:127.0.0.1 -all", "google-site-verification=abc"],
    "mail2025._domainkey.digest.test": [f"v=DKIM1; k=rsa; p={PUBLIC}"],
    "_dmarc.digest.test": ["v=DMARC1; p=reject; adkim=s; rua=mailto:dmarc@digest.test"],
}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    monkeypatch.setenv("DIGEST_DKIM_KEY", KEY)
    monkeypatch.delenv("DIGEST_DNS_SERVER", raising=False)


def _project(root: Path, port: int, **email: str) -> Path:
    """A config at ROOT/config/digest.toml whose site_url is http://127.0.0.1:PORT/."""
    path = write_config(root, 2525, **email)
    text = path.read_text().replace("https://digest.test/", f"http://127.0.0.1:{port}/")
    (root / "config").mkdir(exist_ok=True)
    target = root / "config" / "digest.toml"
    target.write_text(text)
    return target


@contextmanager
def _site(config_path: Path, port: int, secret: str = SECRET) -> Iterator[None]:
    """The real app (digest.serve.create_app) on 127.0.0.1:PORT, signing with ``secret``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGEST_SECRET", secret)
        app = create_app(load_config(config_path))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    try:
        main(["doctor", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out.splitlines()


def _by_name(lines: list[str]) -> dict[str, str]:
    return {line[8:].partition(":")[0]: line for line in lines}


def test_everything_in_place_passes_as_the_help_example_prints_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    _project(tmp_path, port, **DKIM_SETTINGS)
    with dns_server(PUBLISHED) as (server, asked), _site(tmp_path / "config/digest.toml", port):
        monkeypatch.setenv("DIGEST_DNS_SERVER", server)
        code, lines = _doctor(capsys, "--config", "config/digest.toml")  # as in --help
    checks = _by_name(lines)
    assert code == 0, lines
    assert set(checks) == {
        "From",
        "secret",
        "SMTP",
        "DKIM key",
        "SPF",
        "DKIM record",
        "DMARC",
        "alignment",
        "site_url",
        "List-Unsubscribe",
    }
    assert all(line.startswith("ok ") for n, line in checks.items() if n != "site_url"), lines
    assert checks["site_url"].startswith("warn ")  # http here; only https gets one-click
    assert "digest.test" in checks["SPF"] and "matches the configured key" in checks["DKIM record"]
    assert "p=reject" in checks["DMARC"] and "strict (adkim=s)" in checks["alignment"]
    assert "answers 200" in checks["List-Unsubscribe"]
    assert {"digest.test", "mail2025._domainkey.digest.test", "_dmarc.digest.test"} <= set(asked)


def test_what_is_missing_is_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIGEST_SECRET")
    monkeypatch.delenv("DIGEST_DKIM_KEY")
    config = _project(tmp_path, free_port(), **DKIM_SETTINGS)
    with dns_server({"digest.test": ["unrelated=1"]}) as (server, _asked):
        monkeypatch.setenv("DIGEST_DNS_SERVER", server)
        code, lines = _doctor(capsys, "--config", str(config), "--timeout", "1")
    checks = _by_name(lines)
    assert code == 1
    assert len(lines) == len(checks)  # one line per check
    for name in ("secret", "DKIM key", "SPF", "DMARC", "alignment"):
        assert checks[name].startswith("missing "), checks[name]
    assert "DIGEST_SECRET is not set" in checks["secret"]
    assert "DIGEST_DKIM_KEY is not set" in checks["DKIM key"]
    assert 'no SPF record at digest.test: publish TXT "v=spf1' in checks["SPF"]
    assert 'no DMARC record at _dmarc.digest.test: publish TXT "v=DMARC1' in checks["DMARC"]
    assert checks["DKIM record"].startswith("skipped ")  # no key to compare with
    assert checks["List-Unsubscribe"].startswith("skipped ")


def test_wrong_key_misaligned_domain_and_other_secret_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    config = _project(tmp_path, port, dkim_selector="s1", dkim_domain="mailer.example.net")
    records = {
        **PUBLISHED,
        "s1._domainkey.mailer.example.net": [f"v=DKIM1; k=rsa; p={PUBLIC[:-40]}"],
        "digest.test": ["v=spf1 +all"],
    }
    with (
        dns_server(records) as (server, _asked),
        _site(config, port, secret="another-secret-0123456789"),
    ):
        monkeypatch.setenv("DIGEST_DNS_SERVER", server)
        code, lines = _doctor(capsys, "--config", str(config))
    checks = _by_name(lines)
    assert code == 1
    assert "does not hold the public key of the configured private key" in checks["DKIM record"]
    assert "lets any server send as digest.test" in checks["SPF"]
    assert (
        checks["alignment"].startswith("missing ") and "mailer.example.net" in checks["alignment"]
    )
    assert "the server's DIGEST_SECRET differs" in checks["List-Unsubscribe"]


def test_unreachable_dns_is_one_line_and_the_record_checks_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _project(tmp_path, free_port(), **DKIM_SETTINGS)
    with silent_dns() as server:
        monkeypatch.setenv("DIGEST_DNS_SERVER", server)
        start = time.monotonic()
        code, lines = _doctor(capsys, "--config", str(config), "--timeout", "0.5")
        elapsed = time.monotonic() - start
    checks = _by_name(lines)
    assert code == 1
    assert checks["DNS"].startswith("skipped DNS: unreachable (")
    assert checks["DNS"].endswith("SPF, DKIM and DMARC not checked")
    assert not {"SPF", "DKIM record", "DMARC"} & set(checks)
    assert elapsed < 10  # one short timeout, not a resolver's retries


def test_default_sender_and_a_bad_dns_seam(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare.toml"
    bare.write_text('site_url = "http://127.0.0.1:9/"\n')
    monkeypatch.setenv("DIGEST_DNS_SERVER", "127.0.0.1:1")  # never asked: no domain to look up
    code, lines = _doctor(capsys, "--config", str(bare), "--timeout", "0.5")
    checks = _by_name(lines)
    assert code == 1
    assert checks["From"].startswith("missing From: email.from_addr is digest@localhost")
    assert str(bare) in checks["From"]
    assert checks["DNS"] == "skipped DNS: no From domain to look up (see From above)"
    assert "alignment" not in checks  # nothing to align with: the From line says what to do
    assert "failed" in checks["List-Unsubscribe"]

    monkeypatch.setenv("DIGEST_DNS_SERVER", "dns.example.org")
    try:
        main(["doctor", "--config", str(bare)])
    except SystemExit as exc:
        assert exc.code == 1
    err = capsys.readouterr().err.strip()
    assert err == "digest: error: DIGEST_DNS_SERVER must be IP or IP:PORT, got 'dns.example.org'"


def test_help_lists_doctor_and_shows_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert _doctor(capsys, "--help")[0] == 0
    main(["--help"])
    out = capsys.readouterr().out
    assert "\n  doctor " in out
    assert "Example:\n    digest doctor --config config/digest.toml\n" in (
        "\n".join(_doctor(capsys, "--help")[1]) + "\n"
    )
