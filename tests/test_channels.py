"""Chat channels end to end: ``digest run --send``, ``digest send`` and the scheduler post the
short digest to a webhook server on 127.0.0.1 (apprise's json:// URL, a real socket) beside
the email to a real aiosmtpd, exactly once per round, with failures logged and retried."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from cli_exit import cli as _cli
from http_fixture_server import FixtureServer, Reply, serve
from smtp_fixture_server import DAY, SECRET, smtp_server

from digest.config import load_config
from digest.errors import ConfigError
from digest.schedule import Scheduler
from digest.store import Store

HOOK_SECRET = "s3cr3t-hook-token"
HOOK = f"/hook/{HOOK_SECRET}"
TITLES = [f"Graph networks *for* [problem {i}]" for i in range(8)]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    monkeypatch.setenv("DIGEST_TEST_HOOK", HOOK_SECRET)


@pytest.fixture
def webhook() -> FixtureServer:
    with serve() as server:
        yield server


def _project(root: Path, hook_port: int, smtp_port: int | None, extra: str = "") -> Path:
    listing = root / "listings" / f"{DAY}.jsonl"
    listing.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": f"2506.{i + 1:05d}", "title": t, "summary": f"We study graphs, case {i}.",
         "authors": ["Ada Lovelace"]}
        for i, t in enumerate(TITLES)
    ]  # fmt: skip
    listing.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = (
        f'site_url = "https://digest.test/"\noutput_dir = "{root / "output"}"\n'
        f'database = "{root / "var" / "digest.sqlite"}"\n'
        '[email]\nfrom_addr = "news@digest.test"\nrate_per_s = 2000\n'
        + (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n' if smtp_port else "")
        + '[schedule]\ncron = "30 7 * * *"\ntimezone = "UTC"\n'
        + f'[[sources]]\nname = "local"\nkind = "file"\npath = "{listing.parent}"\n'
        + '[[channels]]\nkind = "chat"\nname = "lab-room"\n'
        + f'url = "json://127.0.0.1:{hook_port}/hook/{{secret}}"\nsecret_env = "DIGEST_TEST_HOOK"\n'
        + extra
    )  # fmt: skip
    path = root / "digest.toml"
    path.write_text(text)
    return path


def _port(server: FixtureServer) -> int:
    return int(server.base.rsplit(":", 1)[1])


def _posts(server: FixtureServer) -> list[dict[str, str]]:
    return [json.loads(r.body) for r in server.hits(HOOK) if r.method == "POST"]


def test_run_send_posts_the_top_five_and_the_themes_once_beside_the_email(
    tmp_path: Path, webhook: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook.route(HOOK, Reply(200, b"ok"))
    with smtp_server() as (rec, smtp_port):
        cfg = str(_project(tmp_path, _port(webhook), smtp_port))
        assert _cli("subscribers", "add", "ada@example.org", "--confirmed", "--config", cfg) == 0
        assert _cli("run", "--date", str(DAY), "--send", "--config", cfg) == 0
        # the same day again: nothing is emailed or posted twice
        assert _cli("send", "--date", str(DAY), "--config", cfg) == 0
        out = capsys.readouterr().out
        assert "chat lab-room: already posted (--resend to post again)" in out
        assert rec.recipients() == ["ada@example.org"]
    [post] = _posts(webhook)
    message = post["message"]
    # the short digest: five papers, escaped, each linked; every theme linked to the page
    assert message.count("](https://arxiv.org/abs/2506.") == 5
    assert "Graph networks \\*for\\* \\[problem 0\\]" in message
    assert "(https://digest.test/2025-06-02/index.html#theme-1)" in message
    assert message.startswith("**[Trending papers, 2 Jun 2025](https://digest.test/2025-06-02/")


def test_failing_endpoint_is_logged_retried_by_the_next_run_and_never_posted_twice(
    tmp_path: Path,
    webhook: FixtureServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    webhook.route(HOOK, Reply(500, b"down"), Reply(500, b"down"), Reply(200, b"ok"))
    cfg = str(_project(tmp_path, _port(webhook), None))  # no [smtp]: chat only
    assert _cli("run", "--date", str(DAY), "--send", "--config", cfg) == 0
    said = [r.getMessage() for r in caplog.records if "500" in r.getMessage()]
    assert len(said) == 1 and "chat lab-room: deferred (" in said[0]  # once, not per logger
    assert _cli("send", "--date", str(DAY), "--config", cfg) == 1
    out = capsys.readouterr().out
    assert "2025-06-02: no email (smtp.host is not set)" in out
    assert "chat lab-room: deferred (" in out and "500" in out and "run again to retry" in out
    assert HOOK_SECRET not in out
    assert _cli("send", "--date", str(DAY), "--config", cfg) == 0  # the endpoint is back
    assert "chat lab-room: posted" in capsys.readouterr().out
    assert _cli("send", "--date", str(DAY), "--config", cfg) == 0
    assert "already posted" in capsys.readouterr().out
    assert len(webhook.hits(HOOK)) == 3  # two failed tries and the post: no fourth
    with Store.open(load_config(cfg).database_path) as store:
        assert store.channel_attempts(DAY, "lab-room") == 3
        assert store.channel_status(DAY, 1, "lab-room") == "sent"


def test_429_with_retry_after_is_deferred_to_the_next_run(
    tmp_path: Path, webhook: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # apprise reports only that the post failed and, in its log, the status, not the
    # Retry-After it was given: the post is logged deferred at once (no wait within the
    # run), the summary says it was a 429, and the next run posts it
    webhook.route(HOOK, Reply(429, b"slow down", {"Retry-After": "30"}), Reply(200, b"ok"))
    cfg = str(_project(tmp_path, _port(webhook), None))
    assert _cli("run", "--date", str(DAY), "--config", cfg) == 0
    capsys.readouterr()
    assert _cli("send", "--date", str(DAY), "--config", cfg) == 1
    out = capsys.readouterr().out
    assert "chat lab-room: deferred (" in out and "429" in out
    assert len(webhook.hits(HOOK)) == 1
    with Store.open(load_config(cfg).database_path) as store:
        assert store.channel_status(DAY, 1, "lab-room") == "deferred"
    assert _cli("send", "--date", str(DAY), "--config", cfg) == 0
    assert len(webhook.hits(HOOK)) == 2 and len(_posts(webhook)) == 2


def test_a_post_an_interrupted_run_left_in_flight_is_not_posted_again(
    tmp_path: Path, webhook: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook.route(HOOK, Reply(200, b"ok"))
    cfg = str(_project(tmp_path, _port(webhook), None))
    assert _cli("run", "--date", str(DAY), "--config", cfg) == 0
    with Store.open(load_config(cfg).database_path) as store:
        store.log_channel(DAY, store.send_round(DAY), "lab-room", "sending")
    capsys.readouterr()
    assert _cli("send", "--date", str(DAY), "--config", cfg) == 0
    assert "chat lab-room: unknown (an interrupted run" in capsys.readouterr().out
    assert webhook.hits(HOOK) == []
    # the hint works as printed: --resend posts it in a new round
    assert _cli("send", "--date", str(DAY), "--resend", "--config", cfg) == 0
    assert "chat lab-room: posted" in capsys.readouterr().out
    assert len(_posts(webhook)) == 1


def test_missing_secret_variable_is_one_line_and_nothing_is_sent(
    tmp_path: Path,
    webhook: FixtureServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    webhook.route(HOOK, Reply(200, b"ok"))
    with smtp_server() as (rec, smtp_port):
        cfg = str(_project(tmp_path, _port(webhook), smtp_port))
        assert _cli("subscribers", "add", "ada@example.org", "--confirmed", "--config", cfg) == 0
        assert _cli("run", "--date", str(DAY), "--config", cfg) == 0
        monkeypatch.delenv("DIGEST_TEST_HOOK")
        capsys.readouterr()
        assert _cli("send", "--date", str(DAY), "--config", cfg) != 0
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err
        assert "DIGEST_TEST_HOOK is not set" in err and "channels[0].secret_env" in err
        assert rec.recipients() == []
    assert webhook.hits(HOOK) == []


def test_dry_run_writes_the_post_to_the_outbox(tmp_path: Path, webhook: FixtureServer) -> None:
    cfg = str(_project(tmp_path, _port(webhook), None))
    assert _cli("run", "--date", str(DAY), "--config", cfg) == 0
    assert _cli("send", "--date", str(DAY), "--dry-run", "--config", cfg) == 0
    post = (tmp_path / "output" / str(DAY) / "outbox" / "chat-lab-room.md").read_text("utf-8")
    assert post.count("](https://arxiv.org/abs/2506.") == 5
    assert webhook.hits(HOOK) == []


@pytest.mark.slow
def test_the_scheduler_posts_through_the_same_run(tmp_path: Path, webhook: FixtureServer) -> None:
    webhook.route(HOOK, Reply(200, b"ok"))
    with smtp_server() as (rec, smtp_port):
        config = load_config(_project(tmp_path, _port(webhook), smtp_port))
        with Store.open(config.database_path) as store:
            store.add_subscriber("ada@example.org", "confirmed")
        moment = dt.datetime.combine(DAY, dt.time(7, 31), dt.UTC)
        with time_machine.travel(moment, tick=False):
            Scheduler(config, send=True).catch_up()
            Scheduler(config, send=True).catch_up()  # a later tick: nothing left to send
        assert rec.recipients() == ["ada@example.org"]
    assert len(_posts(webhook)) == 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('kind = "irc"\nname = "x"\nurl = "json://h/x"', "'channels[0].kind' must be one of chat"),
        ('kind = "chat"\nname = "a b"\nurl = "json://h/x"', "'channels[0].name' must be letters"),
        ('kind = "chat"\nname = "x"\nurl = "smtp://h/x"', "'channels[0].url' must be an apprise"),
        (
            'kind = "chat"\nname = "x"\nurl = "slack://{secret}"',
            "'channels[0].secret_env' is required",
        ),
        (
            'kind = "chat"\nname = "x"\nurl = "slack://T/B/C"\nsecret_env = "HOOK"',
            "'channels[0].url' must hold {secret} once",
        ),
        (
            'kind = "chat"\nname = "x"\nurl = "slack://{secret}"\nsecret_env = "A-B"',
            "'channels[0].secret_env' must name an environment variable",
        ),
        ('kind = "chat"\nname = "x"', "'channels[0]' is missing required key 'url'"),
        (
            'kind = "chat"\nname = "x"\nurl = "json://h"\ncolor = 1',
            "unknown key 'channels[0].color'",
        ),
    ],
)
def test_bad_channel_entries_fail_at_load_naming_the_key_and_the_file(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = tmp_path / "digest.toml"
    path.write_text(f"[[channels]]\n{entry}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_two_channels_may_not_share_a_name(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    entry = '[[channels]]\nkind = "chat"\nname = "room"\nurl = "ntfy://topic"\n'
    path.write_text(entry * 2)
    with pytest.raises(ConfigError, match=r"'channels\[1\].name' \"room\" is used by another"):
        load_config(path)


def test_the_readme_channels_example_loads_and_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.deliver.channels import configured

    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    section = readme.split("### Chat channels", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "digest.toml"
    path.write_text(example)
    config = load_config(path)
    assert [c.name for c in config.channels] == ["lab-slack", "lab-ntfy"]
    monkeypatch.setenv("DIGEST_SLACK_TOKENS", "T1234/B5678/abcdefghijkl")
    assert [c.name for c in configured(config)] == ["lab-slack", "lab-ntfy"]
