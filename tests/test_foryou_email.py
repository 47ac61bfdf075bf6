"""The For you section of personal digests, sent through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import os
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from cli_exit import cli as _cli
from smtp_fixture_server import DAY, SECRET, Recorder, produce_digest, smtp_server, write_config

from digest.config import Config, load_config
from digest.deliver.foryou import FOR_YOU_RESERVE, render_section
from digest.deliver.tokens import Links
from digest.store import Store
from digest.store.foryou import ForYouItem

GOLDEN = Path(__file__).parent / "golden" / "personal"
UPDATE_GOLDEN = os.environ.get("DIGEST_UPDATE_GOLDEN") == "1"
TITLES = [
    "Mechanism design for online auctions",
    "Graph networks for molecules",
    "Auctions with budget constraints",
    "A survey of robot grasping",
    "Diffusion models for images",
    "Learning to rank with transformers",
]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _project(root: Path, port: int) -> Config:
    config = load_config(write_config(root, port))
    produce_digest(root, config, TITLES)
    return config


def _subscribers(config: Config) -> None:
    cfg = str(config.path)
    with Store.open(config.database_path) as store:
        for address in ("ada@example.org", "alan@example.org", "grace@example.org"):
            store.add_subscriber(address, "confirmed")
    assert _cli("subscribers", "profile", "ada@example.org", "--keywords", "auctions",
                "--config", cfg) == 0  # fmt: skip
    # a profile that matches nothing of the day: no section at all
    assert _cli("subscribers", "profile", "grace@example.org", "--keywords", "quantum chromodynamics",
                "--config", cfg) == 0  # fmt: skip


def _by_recipient(rec: Recorder) -> dict[str, EmailMessage]:
    out = {}
    for rcpts, raw in rec.accepted:
        out[rcpts[0]] = email.message_from_bytes(raw, policy=policy.default)
    return out  # type: ignore[return-value]


def _parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    assert text is not None and html_part is not None
    return (
        text.get_content().replace("\r\n", "\n"),
        html_part.get_content().replace("\r\n", "\n"),
    )


def _mask(body: str) -> str:
    # signed tokens differ with the secret's salt per run of itsdangerous' timed tokens
    return re.sub(r"token=[\w.\-]+|feed/[\w.\-]+\.xml", "token=TOKEN", body)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}: run `make golden`"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_golden_personalized_email_and_the_others_unchanged(tmp_path: Path) -> None:
    with smtp_server() as (rec, port):
        config = _project(tmp_path, port)
        _subscribers(config)
        assert _cli("send", "--date", DAY.isoformat(), "--config", str(config.path)) == 0
    got = _by_recipient(rec)
    assert sorted(got) == ["ada@example.org", "alan@example.org", "grace@example.org"]
    ada_text, ada_html = _parts(got["ada@example.org"])
    alan_text, alan_html = _parts(got["alan@example.org"])
    grace_text, grace_html = _parts(got["grace@example.org"])
    # the section leads ada's email; its reasons name her keyword; both parts carry it
    assert "For you" in ada_text and "For you" in ada_html
    assert "matches: auctions" in ada_text and "matches: auctions" in ada_html
    section = ada_text.split("For you", 1)[1].split("Your preferences", 1)[0]
    assert "Mechanism design for online auctions" in section
    assert "Auctions with budget constraints" in section
    assert "Diffusion models" not in section
    assert ada_html.index("For you") < ada_html.index("Diffusion models for images")
    assert ada_html.count("More like this") == ada_html.count("Fewer like this") >= 2
    # no profile, or a profile that matches nothing: exactly the day's rendered email
    folder = config.output_path / DAY.isoformat()
    for text, html_body, who in (
        (alan_text, alan_html, "alan@example.org"),
        (grace_text, grace_html, "grace@example.org"),
    ):
        assert "For you" not in text and "For you" not in html_body
        links = Links.from_config(config)
        expect_txt = (folder / "email.txt").read_text("utf-8")
        expect_html = (folder / "email.html").read_text("utf-8")
        for placeholder, url in (
            ("%%UNSUBSCRIBE_URL%%", links.unsubscribe_url(who)),
            ("%%PREFERENCES_URL%%", "PREFS"),
        ):
            expect_txt = expect_txt.replace(placeholder, url)
            expect_html = expect_html.replace(placeholder, url.replace("&", "&amp;"))
        prefs = re.search(r"Your preferences: (\S+)", text)
        assert prefs and "/preferences?token=" in prefs.group(1)
        assert text.replace(prefs.group(1), "PREFS") == expect_txt
        escaped = prefs.group(1).replace("&", "&amp;")
        assert html_body.replace(escaped, "PREFS") == expect_html
    check_golden("email.txt", _mask(ada_text))
    check_golden("email.html", _mask(ada_html))
    with Store.open(config.database_path) as store:
        sid = store.subscriber("ada@example.org")
        assert sid is not None
        items = store.for_you(sid.id, DAY)
    assert [i.title for i in items][:2] == [
        "Mechanism design for online auctions",
        "Auctions with budget constraints",
    ] or {i.title for i in items[:2]} == {
        "Mechanism design for online auctions",
        "Auctions with budget constraints",
    }


def test_section_fits_the_size_budget(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, None))
    links = Links.from_config(config)
    items = [
        ForYouItem(
            f"2506.{i:05d}",
            "A long title " * 12,
            f"https://arxiv.org/abs/2506.{i:05d}",
            ("matches: " + "keyword, " * 30, "like: " + "a seed title " * 10),
            1.0,
        )  # fmt: skip
        for i in range(10)
    ]
    full = render_section(config, links, "ada@example.org", DAY, items)
    assert full is not None and full[2] == 10
    assert len(full[1].encode()) < FOR_YOU_RESERVE  # the reserve holds ten long items
    half = render_section(config, links, "ada@example.org", DAY, items, len(full[1]) // 2)
    assert half is not None and 1 <= half[2] < 10
    assert len(half[1].encode()) <= len(full[1]) // 2
    assert render_section(config, links, "ada@example.org", DAY, items, 100) is None


def test_personal_config_is_validated(tmp_path: Path) -> None:
    path = write_config(tmp_path, None)
    path.write_text(path.read_text() + "[personal]\ntrending_weight = -1\n")
    assert _cli("send", "--date", DAY.isoformat(), "--config", str(path)) == 2


def test_readme_profile_command_works_as_printed(tmp_path: Path) -> None:
    import shlex

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Personal digests", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"`(digest subscribers profile [^`]+)`", section.replace("\n  ", " "))
    assert found
    config = load_config(write_config(tmp_path, None))
    with Store.open(config.database_path) as store:
        store.add_subscriber("ada@example.org", "confirmed")
    args = shlex.split(found.group(1))[1:]
    assert _cli(*args, "--config", str(config.path)) == 0
    with Store.open(config.database_path) as store:
        stored = store.subscriber_profile("ada@example.org")
    assert stored is not None and '"mechanism design"' in stored.toml


def test_personalized_email_stays_under_the_size_budget(tmp_path: Path) -> None:
    budget = 20_000
    titles = [f"Auctions and networks with a rather long title, variant {i}" for i in range(80)]
    with smtp_server() as (rec, port):
        path = write_config(tmp_path, port)
        path.write_text(path.read_text() + f"[render]\nmax_email_bytes = {budget}\n")
        config = load_config(path)
        produce_digest(tmp_path, config, titles)
        with Store.open(config.database_path) as store:
            store.add_subscriber("ada@example.org", "confirmed")
            store.add_subscriber("alan@example.org", "confirmed")
        assert _cli("subscribers", "profile", "ada@example.org", "--keywords", "auctions",
                    "--config", str(path)) == 0  # fmt: skip
        assert _cli("send", "--date", DAY.isoformat(), "--config", str(path)) == 0
    got = _by_recipient(rec)
    ada_html = _parts(got["ada@example.org"])[1]
    alan_html = _parts(got["alan@example.org"])[1]
    assert "For you" in ada_html and ada_html.count("More like this") == 8
    # the shared email filled the budget: ada's copy shows fewer common papers to fit
    common = ada_html.count('class="paper"') - 8
    assert 1 <= common < alan_html.count('class="paper"')
    assert len(ada_html.encode()) <= budget and len(alan_html.encode()) <= budget
