"""The live and the sample setups never share output or database, an offline run fails
fast, and each output folder has its own default database (issue 10, items 4 and 5)."""

from __future__ import annotations

import errno
import json
import shutil
import socket
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result

from digest.cli import cli
from digest.config import HttpConfig, load_config
from digest.sources.http import FetchError, HttpClient
from digest.store import Store

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def listing(path: Path, ids: range) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": f"2503.{i:05d}", "title": f"Paper {i}", "summary": "Text."}) + "\n"
            for i in ids
        )
    )
    return path


def feed_days(out: Path) -> list[str]:
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    return [e.link.rsplit("/", 2)[-2] for e in parsed.entries]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A machine without DNS: every name lookup fails, as it does with the network down."""
    asked: list[str] = []

    def no_dns(host: object, *args: object, **kwargs: object) -> list:
        asked.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return asked


def test_a_name_that_does_not_resolve_fails_at_once_naming_the_host(offline: list[str]) -> None:
    slept: list[float] = []
    client = HttpClient(HttpConfig(retries=4), sleep=slept.append)
    with pytest.raises(FetchError) as caught:
        client.get("https://huggingface.co/api/daily_papers?date=2025-03-14")
    message = str(caught.value)
    assert "huggingface.co: DNS resolution failed" in message and "\n" not in message
    assert offline == ["huggingface.co"] and slept == []  # one attempt, no backoff


def test_an_unreachable_network_fails_at_once_too(monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[object] = []

    def no_route(address: object, *args: object, **kwargs: object) -> None:
        tries.append(address)
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_route)
    slept: list[float] = []
    with pytest.raises(FetchError, match=r"rss\.arxiv\.org: network unreachable"):
        HttpClient(HttpConfig(retries=4), sleep=slept.append).get("https://rss.arxiv.org/rss/cs.LG")
    assert len(tries) == 1 and slept == []


def test_the_live_and_sample_configs_have_their_own_output_and_database() -> None:
    sample = load_config(ROOT / "config" / "example.toml")
    live = load_config(ROOT / "config" / "digest.toml")
    assert sample.output_path != live.output_path
    assert sample.own_database != live.own_database
    assert sample.own_database == ROOT / "var" / "output.sqlite"
    assert live.own_database == ROOT / "var" / "output-live.sqlite"


@pytest.mark.slow
def test_digest_run_offline_after_make_run_fails_fast_and_touches_no_sample_file(
    tmp_path: Path, offline: list[str]
) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    made = invoke("run", "--config", "config/example.toml", "--date", "2025-03-14")
    assert made.exit_code == 0, made.output
    sample_files = {p: p.read_bytes() for p in (tmp_path / "output").rglob("*") if p.is_file()}
    sample_db = (tmp_path / "var" / "output.sqlite").read_bytes()

    live = invoke("run")  # config/digest.toml: the live sources
    assert live.exit_code == 1
    assert "huggingface.co: DNS resolution failed" in live.output
    assert "rss.arxiv.org: DNS resolution failed" in live.output
    assert "Traceback" not in live.output
    assert sorted(set(offline)) == ["huggingface.co", "rss.arxiv.org"]  # no retries
    after = {p: p.read_bytes() for p in (tmp_path / "output").rglob("*") if p.is_file()}
    assert after == sample_files
    assert (tmp_path / "var" / "output.sqlite").read_bytes() == sample_db
    assert not list((tmp_path / "output-live").glob("20*"))  # and nothing published there


def test_output_folders_side_by_side_have_their_own_databases(tmp_path: Path) -> None:
    one = listing(tmp_path / "2025-03-13.jsonl", range(0, 4))
    two = listing(tmp_path / "2025-03-14.jsonl", range(10, 14))
    assert invoke("run", "--input", str(one), "--output", "a").exit_code == 0
    assert invoke("run", "--input", str(two), "--output", "b").exit_code == 0
    assert feed_days(tmp_path / "a") == ["2025-03-13"]
    assert feed_days(tmp_path / "b") == ["2025-03-14"]  # no day that exists only in a/
    assert "2025-03-13" not in (tmp_path / "b" / "index.html").read_text()
    for name, day in (("a", "2025-03-13"), ("b", "2025-03-14")):
        with Store.open(tmp_path / "var" / f"{name}.sqlite") as store:
            assert [d.isoformat() for d in store.digest_dates()] == [day]
    assert not (tmp_path / "var" / "digest.sqlite").exists()


def test_an_install_with_the_former_default_database_keeps_it_and_says_so(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('output_dir = "output"\ndatabase = "var/digest.sqlite"\n')
    one = listing(tmp_path / "2025-03-13.jsonl", range(0, 4))
    assert invoke("run", "--config", str(config), "--input", str(one)).exit_code == 0
    config.write_text('output_dir = "output"\n')  # as configs said before: the default
    two = listing(tmp_path / "2025-03-14.jsonl", range(10, 14))
    done = invoke("run", "--config", str(config), "--input", str(two))
    assert done.exit_code == 0, done.output
    former, new = tmp_path / "var" / "digest.sqlite", tmp_path / "var" / "output.sqlite"
    assert (
        f"digest: note: using {former}, the former default database; the default is now {new}"
        in done.output
    )
    assert feed_days(tmp_path / "output") == ["2025-03-14", "2025-03-13"]
    assert not new.exists()
    former.rename(new)  # as the note says: the note goes, the archive stays
    moved = invoke("run", "--config", str(config), "--input", str(two))
    assert moved.exit_code == 0 and "note" not in moved.output
    assert feed_days(tmp_path / "output") == ["2025-03-14", "2025-03-13"]
