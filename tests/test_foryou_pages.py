"""Preferences, feedback and feed pages of ``digest serve``: bad tokens change nothing."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
import time_machine
from smtp_fixture_server import DAY, SECRET, setup_project

from digest.config import Config
from digest.deliver.tokens import Links
from digest.serve import create_app
from digest.store import Store
from digest.store.foryou import ForYouItem

ADA = "ada@example.org"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)


def _project(tmp_path: Path) -> Config:
    config = setup_project(tmp_path, None)
    with Store.open(config.database_path) as store:
        store.add_subscriber(ADA, "confirmed")
        sub = store.subscriber(ADA)
        assert sub is not None
        item = ForYouItem(
            "2506.00001v1", "Shown paper", "https://arxiv.org/abs/2506.00001", ("matches: x",), 1.0
        )
        store.save_for_you(DAY, [(sub.id, [item])])
    return config


def _profile(config: Config) -> str | None:
    with Store.open(config.database_path) as store:
        stored = store.subscriber_profile(ADA)
        return stored.toml if stored else None


def test_forged_expired_or_cross_purpose_preferences_tokens_are_400(tmp_path: Path) -> None:
    config = _project(tmp_path)
    links = Links.from_config(config)
    client = create_app(config).test_client()
    form = {"keywords": "auctions"}
    other = Links("another-secret-0123456789", config.site_url, 60)
    for token in (
        "forged",
        links.preferences_token(ADA) + "x",
        links.unsubscribe_token(ADA),  # another purpose
        links.confirm_token(ADA),
        links.feed_token(ADA),
        other.preferences_token(ADA),  # another site's secret
    ):
        assert client.get(f"/preferences?token={token}").status_code == 400
        reply = client.post(f"/preferences?token={token}", data=form)
        assert reply.status_code == 400 and b"Nothing was changed" in reply.data
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=400)):
        old = links.preferences_token(ADA)
    reply = client.post(f"/preferences?token={old}", data=form)
    assert reply.status_code == 400 and b"expired" in reply.data
    assert _profile(config) is None
    ok = client.post(f"/preferences?token={links.preferences_token(ADA)}", data=form)
    assert ok.status_code == 200 and "auctions" in (_profile(config) or "")
    assert ok.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in ok.headers["Content-Security-Policy"]


def test_preferences_form_errors_and_bad_uploads_save_nothing(tmp_path: Path) -> None:
    config = _project(tmp_path)
    url = f"/preferences?token={Links.from_config(config).preferences_token(ADA)}"
    client = create_app(config).test_client()
    long = client.post(url, data={"keywords": "x" * 300})
    assert long.status_code == 400 and b"longer than 200 characters" in long.data
    empty = client.post(
        url, data={"keywords": "a", "seed_file": (__import__("io").BytesIO(b""), "empty.bib")}
    )
    assert empty.status_code == 400 and b"empty.bib" in empty.data
    assert _profile(config) is None
    regex = client.post(url, data={"keywords": "a.*(b\n$\\alpha$-stable"})
    assert regex.status_code == 200
    assert "$\\\\alpha$-stable" in (_profile(config) or "") or "alpha" in (_profile(config) or "")


def test_feedback_get_shows_a_button_and_bad_votes_change_nothing(tmp_path: Path) -> None:
    config = _project(tmp_path)
    links = Links.from_config(config)
    client = create_app(config).test_client()
    good = links.feedback_token(ADA, "2506.00001v1", 1, DAY)
    page = client.get(f"/feedback?token={good}")
    assert page.status_code == 200 and b'<form method="post"' in page.data
    assert b"Shown paper" in page.data
    for token in (
        links.feedback_token(ADA, "2506.00002v1", 1, DAY),  # not in ada's email
        links.feedback_token(ADA, "2506.00001v1", 1, DAY + dt.timedelta(days=1)),  # other day
        links.feedback_token("bob@example.org", "2506.00001v1", 1, DAY),
        links.preferences_token(ADA),
        links.unsubscribe_token(ADA),
        good[:-2],
    ):
        assert client.get(f"/feedback?token={token}").status_code == 400
        assert client.post(f"/feedback?token={token}").status_code == 400
    with Store.open(config.database_path) as store:
        assert store.feedback(ADA) == []
    assert _profile(config) is None
    fewer = links.feedback_token(ADA, "2506.00001v1", -1, DAY)
    assert client.post(f"/feedback?token={fewer}").status_code == 200
    with Store.open(config.database_path) as store:
        assert store.feedback(ADA) == [("2506.00001v1", -1, DAY)]
    assert 'disliked_ids = [\n    "2506.00001v1",' in (_profile(config) or "") or (
        "2506.00001v1" in (_profile(config) or "")
    )


def test_feed_tokens(tmp_path: Path) -> None:
    import feedparser

    config = _project(tmp_path)
    links = Links.from_config(config)
    client = create_app(config).test_client()
    reply = client.get(f"/feed/{links.feed_token(ADA)}.xml")
    assert reply.status_code == 200
    feed = feedparser.parse(reply.data)
    assert not feed.bozo and [e.title for e in feed.entries] == ["Shown paper"]
    for token in (links.preferences_token(ADA), links.unsubscribe_token(ADA), "x"):
        assert client.get(f"/feed/{token}.xml").status_code == 400


def test_section_feedback_links_accept_only_a_paper_shown_with_a_vote_of_one(
    tmp_path: Path,
) -> None:
    # one signed token per For you section: the paper and vote ride in the query, so the
    # server is what refuses a paper the reader was not shown, another vote, another reader
    from urllib.parse import urlsplit

    config = _project(tmp_path)
    links = Links.from_config(config)
    client = create_app(config).test_client()
    section = links.section_feedback(ADA, DAY)
    token = section.token
    bad = [
        section.query("2506.00002v1", 1),  # not in ada's email
        section.query("2506.00001v1", 2),  # no such vote
        f"token={token}&paper=2506.00001v1&vote=up",
        f"token={token}&paper=2506.00001v1",  # vote missing
        f"token={token}&vote=1",  # paper missing
        f"token={token}&paper=&vote=1",
        links.section_feedback(ADA, DAY + dt.timedelta(days=1)).query("2506.00001v1", 1),
        links.section_feedback("bob@example.org", DAY).query("2506.00001v1", 1),
        f"token={token[:-2]}&paper=2506.00001v1&vote=1",  # damaged
        f"token={links.preferences_token(ADA)}&paper=2506.00001v1&vote=1",  # other purpose
        f"token={links.feedback_token(ADA, '2506.00001v1', 1, DAY)}&paper=2506.00001v1&vote=1",
        f"token={Links('another-secret-0123456789', config.site_url, 60).section_token(ADA, DAY)}"
        "&paper=2506.00001v1&vote=1",
    ]
    for query in bad:
        assert client.get(f"/feedback?{query}").status_code == 400, query
        reply = client.post(f"/feedback?{query}")
        assert reply.status_code == 400 and b"Nothing was changed" in reply.data, query
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=400)):
        old = links.section_feedback(ADA, DAY).query("2506.00001v1", 1)
    from itsdangerous import URLSafeSerializer

    v2 = URLSafeSerializer(links.secret, salt="digest.feedback.v2").dumps([ADA, DAY.isoformat()])
    assert client.get(f"/feedback?token={v2}&paper=2506.00001v1&vote=1").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)):
        future = links.section_feedback(ADA, DAY).query("2506.00001v1", 1)
    reply = client.post(f"/feedback?{old}")
    assert reply.status_code == 400 and b"expired" in reply.data
    reply = client.post(f"/feedback?{future}")  # signed "later than now": never made here
    assert reply.status_code == 400 and b"not valid" in reply.data
    with Store.open(config.database_path) as store:
        assert store.feedback(ADA) == []
    assert _profile(config) is None

    url = links.feedback_url(ADA, "2506.00001v1", 1, DAY)
    # the same link as the section's, but for the token's signing time (its own second)
    untimed = re.compile(r"token=[^&]+")
    assert untimed.sub("token=T", url) == untimed.sub("token=T", section.url("2506.00001v1", 1))
    parts = urlsplit(url)
    assert parts.path == "/feedback"
    page = client.get(f"/feedback?{parts.query}")
    assert page.status_code == 200 and b"More like this" in page.data
    action = re.search(rb'<form method="post" action="([^"]+)"', page.data)
    assert action is not None
    posted = client.post(html.unescape(action.group(1).decode()))
    assert posted.status_code == 200 and "Thank you" in posted.text
    with Store.open(config.database_path) as store:
        assert store.feedback(ADA) == [("2506.00001v1", 1, DAY)]
