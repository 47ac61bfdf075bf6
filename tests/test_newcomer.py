"""The newcomer's path: what `make run` prints at the end works as printed, offline, with
no secret set (the example config opts in to a development secret kept in var/)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cli_exit import cli as _cli
from smtp_fixture_server import free_port, write_config

from digest.config import load_config
from digest.deliver.tokens import MIN_SECRET_LENGTH, Links, dev_secret_path

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DIGEST_SECRET"}
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _printed_serve_command() -> list[str]:
    """The command `make run` ends by printing, with $(DIGEST) as this interpreter's digest."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r'^\t@echo "open output/index.html, or: (.+)"$', makefile, re.M)
    assert match, "make run no longer prints a serve command"
    words = shlex.split(match.group(1))
    assert words[0] == "$(DIGEST)"
    return [sys.executable, "-m", "digest", *words[1:]]


def _project_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path / "config" / "example.toml"


def _wait_for(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if server.poll() is not None:
                raise AssertionError(f"digest serve exited: {server.communicate()[1]}") from None
            assert time.monotonic() < deadline, "digest serve did not start"
            time.sleep(0.1)


@pytest.mark.slow
def test_the_serve_command_make_run_prints_works_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGEST_SECRET", raising=False)
    config_path = _project_copy(tmp_path)
    run = [sys.executable, "-m", "digest", "run", "--config", "config/example.toml"]
    done = subprocess.run(
        [*run, "--date", "2025-03-14"], cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    port = free_port()
    command = _printed_serve_command()
    assert command[3:] == ["serve", "--config", "config/example.toml"]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port, server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as reply:
            assert reply.status == 200
            assert b"Archive" in reply.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/2025-03-14/") as reply:
            assert reply.status == 200
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/confirm?token=forged")
        assert bad.value.code == 400
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    # one warning line says what the secret is and that it is for local use only
    warnings = [line for line in err.splitlines() if "development secret" in line]
    assert len(warnings) == 1 and "local use only" in warnings[0], err
    secret_file = dev_secret_path(load_config(config_path))
    assert secret_file.parent == tmp_path / "var"  # beside the example's database
    assert str(secret_file.relative_to(tmp_path)) in warnings[0] or str(secret_file) in warnings[0]
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    # made once: later commands sign with the same secret
    assert Links.from_config(load_config(config_path)).secret == secret


def test_send_dry_run_works_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIGEST_SECRET", raising=False)
    # the example (opts in to the development secret) and a live-style config (does not)
    example = _project_copy(tmp_path / "example")
    (tmp_path / "live").mkdir()
    live = write_config(tmp_path / "live", None)
    listing = ROOT / "examples" / "listings" / "2025-03-11.txt"
    for cfg in (example, live):
        c = str(cfg)
        assert _cli("run", "--config", c, "--date", "2025-03-11", "--input", str(listing)) == 0
        assert _cli("subscribers", "add", "ada@example.org", "--confirmed", "--config", c) == 0
        capsys.readouterr()
        assert _cli("send", "--date", "2025-03-11", "--dry-run", "--config", c) == 0
        assert "wrote 1 message to the outbox" in capsys.readouterr().out
        outbox = load_config(cfg).output_path / "2025-03-11" / "outbox"
        assert len(list(outbox.glob("*.eml"))) == 1
    # a live config never gets a development secret: a real send still asks for DIGEST_SECRET
    assert not dev_secret_path(load_config(live)).exists()
    assert _cli("send", "--date", "2025-03-11", "--config", str(live)) == 1
    assert "DIGEST_SECRET is not set" in capsys.readouterr().err


def test_the_secret_hint_names_python3_and_its_command_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIGEST_SECRET", raising=False)
    cfg = write_config(tmp_path, None)
    assert _cli("serve", "--config", str(cfg)) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    hint = re.search(r'export DIGEST_SECRET="\$\((python3 -c .+)\)"$', err)
    assert hint, err
    made = subprocess.run(
        ["sh", "-c", hint.group(1)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert len(made) >= MIN_SECRET_LENGTH
    monkeypatch.setenv("DIGEST_SECRET", made)
    assert Links.from_config(load_config(cfg)).secret == made


def test_development_secret_is_refused_for_a_public_site_url(tmp_path: Path) -> None:
    from digest.errors import ConfigError

    cfg = tmp_path / "digest.toml"
    cfg.write_text('site_url = "https://papers.example.org/"\n[serve]\ndev_secret = true\n')
    with pytest.raises(ConfigError, match=r"'serve\.dev_secret'.*local"):
        load_config(cfg)


def test_doctor_says_the_development_secret_is_for_local_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIGEST_SECRET", raising=False)
    monkeypatch.setenv("DIGEST_DNS_SERVER", "127.0.0.1:1")  # never asked: no From domain
    cfg = tmp_path / "local.toml"
    cfg.write_text('site_url = "http://127.0.0.1:9/"\n[serve]\ndev_secret = true\n')
    assert _cli("doctor", "--config", str(cfg), "--timeout", "0.5") == 1
    lines = capsys.readouterr().out.splitlines()
    [secret] = [line for line in lines if " secret: " in line]
    assert re.match(r"warn +secret: DIGEST_SECRET is not set: the development secret in ", secret)
    assert "for local use only" in secret
