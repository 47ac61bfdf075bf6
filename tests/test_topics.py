"""Persistent topics: linking rules (continuity, slug collision, split, merge, inactive),
digest.json's topic ids, topic pages and feeds, and backfill == day-by-day runs."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from digest import pipeline
from digest.backfill import backfill
from digest.config import Config, TopicsConfig
from digest.models import Digest
from digest.schedule import DayOutcome
from digest.store import Store
from digest.store.topics import DayTheme
from digest.topics import Linker, incremental, patch_text, slugify, with_topics

D0 = dt.date(2025, 3, 17)

WORDS = {
    "graphs": "graph neural network message passing node edge",
    "proteins": "protein folding structure amino residue enzyme",
    "speech": "speech recognition acoustic phoneme audio spoken",
    "robots": "robot grasping manipulation gripper arm tactile",
}


def theme(day: dt.date, tid: str, label: str, sig: dict[str, float], size: int = 5) -> DayTheme:
    norm = sum(w * w for w in sig.values()) ** 0.5
    unit = {t: w / norm for t, w in sig.items()}
    return DayTheme(
        day, tid, int(tid[1:]), label, size, unit, tuple(f"{tid}-{day}-{i}" for i in range(size))
    )


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def test_a_theme_continues_its_topic_and_an_unrelated_one_starts_another() -> None:
    linker = Linker(TopicsConfig())
    first = linker.link_day(day(0), [theme(day(0), "t1", "Graphs", {"graph": 1, "node": 1})])
    second = linker.link_day(
        day(1),
        [
            theme(day(1), "t1", "Proteins", {"protein": 1, "fold": 1}),
            theme(day(1), "t2", "Graph learning", {"graph": 1, "node": 1, "edge": 0.3}),
        ],
    )
    assert first == {"t1": "2025-03-17-t1"}
    assert second == {"t2": "2025-03-17-t1", "t1": "2025-03-18-t1"}
    topic = linker.topics["2025-03-17-t1"]
    assert topic.label == "Graph learning" and topic.slug == "graphs" and topic.papers == 10


def test_slug_collision_gets_a_number_and_an_empty_slug_a_word() -> None:
    linker = Linker(TopicsConfig())
    linker.link_day(
        day(0),
        [
            theme(day(0), "t1", "Language models", {"llm": 1}),
            theme(day(0), "t2", "Language models", {"speech": 1}),
            theme(day(0), "t3", "Language Models!", {"robot": 1}),
            theme(day(0), "t4", "語言", {"graph": 1}),
        ],
    )
    slugs = sorted(t.slug for t in linker.topics.values())
    assert slugs == ["language-models", "language-models-2", "language-models-3", "topic"]
    assert slugify("  Éléments -- finis ") == "elements-finis"


def test_a_split_keeps_the_id_on_the_closer_theme_and_records_the_parent() -> None:
    linker = Linker(TopicsConfig())
    linker.link_day(day(0), [theme(day(0), "t1", "Vision", {"image": 1, "video": 1})])
    ids = linker.link_day(
        day(1),
        [
            theme(day(1), "t1", "Images", {"image": 1, "video": 0.8}),
            theme(day(1), "t2", "Video", {"video": 1, "image": 0.4}),
        ],
    )
    assert ids["t1"] == "2025-03-17-t1"
    new = linker.topics[ids["t2"]]
    assert new.id == "2025-03-18-t2" and new.split_from == "2025-03-17-t1"


def test_a_merge_continues_under_the_bigger_topic(tmp_path: Path) -> None:
    linker = Linker(TopicsConfig())
    linker.link_day(
        day(0),
        [
            theme(day(0), "t1", "Agents", {"agent": 1, "tool": 0.5}, size=9),
            theme(day(0), "t2", "Tool use", {"tool": 1, "agent": 0.5}, size=4),
        ],
    )
    ids = linker.link_day(day(1), [theme(day(1), "t1", "LLM agents", {"agent": 1, "tool": 1})])
    assert ids == {"t1": "2025-03-17-t1"}
    assert linker.topics["2025-03-17-t2"].merged_into == "2025-03-17-t1"
    # later: the merged topic is not linked again, its theme's matches go to the survivor
    ids = linker.link_day(day(2), [theme(day(2), "t1", "Tools", {"tool": 1, "agent": 0.45})])
    assert ids == {"t1": "2025-03-17-t1"}


def test_a_topic_unseen_for_longer_than_active_days_is_not_linked_again() -> None:
    linker = Linker(TopicsConfig(active_days=28))
    linker.link_day(day(0), [theme(day(0), "t1", "Graphs", {"graph": 1})])
    assert linker.link_day(day(28), [theme(day(28), "t1", "Graphs", {"graph": 1})]) == {
        "t1": "2025-03-17-t1"
    }
    ids = linker.link_day(day(57), [theme(day(57), "t1", "Graphs", {"graph": 1})])
    assert ids == {"t1": "2025-05-13-t1"}
    assert linker.topics[ids["t1"]].slug == "graphs-2"


def test_patched_text_equals_the_digest_written_with_topic_ids(tmp_path: Path) -> None:
    digest = _run_days(tmp_path, 1)[0]
    ids = {t.id: f"topic-{t.id}" for t in digest.themes if not t.remainder}
    text = with_topics(digest, {}).to_json_text()
    assert patch_text(text, ids) == with_topics(digest, ids).to_json_text()


# ---------------------------------------------------------------- end to end


def write_listings(
    folder: Path, count: int, per_topic: int = 6, gone: str = "", back: int = 0
) -> list[dt.date]:
    """``count`` days of papers on the four topics of WORDS (``gone``: absent after day 1,
    until day ``back`` when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    days = [day(n) for n in range(count)]
    for n, d in enumerate(days):
        rows = []
        for t, (name, words) in enumerate(WORDS.items()):
            if name == gone and n > 1 and not (back and n >= back):
                continue
            w = words.split()
            for i in range(per_topic):
                rows.append(
                    {
                        "id": f"25{n:02d}.{t}{i:04d}",
                        "title": f"{w[0].title()} {w[1]} with {w[2 + i % 4]} {w[(i + 1) % 6]}",
                        "summary": f"We study {words} and {w[i % 6]} {w[(i + 2) % 6]} at scale.",
                        "authors": ["A. Author", "B. Author"],
                    }
                )
        (folder / f"{d.isoformat()}.jsonl").write_text(
            "\n".join(json.dumps(r) for r in rows) + "\n"
        )
    return days


def _config(tmp_path: Path, name: str = "out", **topics: object) -> Config:
    return Config(
        output_dir=str(tmp_path / name),
        database=str(tmp_path / f"{name}.sqlite"),
        topics=TopicsConfig(**topics),  # type: ignore[arg-type]
    )


def _run_days(
    tmp_path: Path, count: int, name: str = "out", gone: str = "", back: int = 0, **topics: object
) -> list[Digest]:
    days = write_listings(tmp_path / "in", count, gone=gone, back=back)
    config = _config(tmp_path, name, **topics)
    return [pipeline.run(config, d, [tmp_path / "in" / f"{d}.jsonl"]).digest for d in days]


@pytest.mark.slow
def test_digest_json_carries_topic_ids_that_persist_across_days(tmp_path: Path) -> None:
    days = write_listings(tmp_path / "in", 3)
    for d in days:
        proc = subprocess.run(
            [sys.executable, "-m", "digest", "run", "--date", str(d), "--input",
             f"in/{d}.jsonl", "--output", "out"],
            cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    files = [json.loads((tmp_path / "out" / str(d) / "digest.json").read_text()) for d in days]
    assert all(f["version"] == 2 for f in files)
    ids = [{t["topic_id"] for t in f["themes"] if not t["remainder"]} for f in files]
    assert len(ids[0]) >= 3 and ids[0] == ids[1] == ids[2]
    assert all(t["topic_id"] is None for f in files for t in f["themes"] if t["remainder"])
    index = (tmp_path / "out" / "topics" / "index.html").read_text()
    assert "<svg" in index and "<script" not in index and "polyline" in index
    for folder in (tmp_path / "out" / "topics").iterdir():
        if folder.is_dir():
            feed = feedparser.parse((folder / "feed.xml").read_bytes())
            assert not feed.bozo, feed.bozo_exception
            assert [e.published_parsed[:3] for e in feed.entries] == [
                (d.year, d.month, d.day) for d in reversed(days)
            ]
            assert "Active" in (folder / "index.html").read_text()
            atom = feedparser.parse((folder / "feed.atom").read_bytes())
            assert not atom.bozo and len(atom.entries) == len(days)
            assert len(json.loads((folder / "feed.json").read_text())["items"]) == len(days)


TOPIC_HREF = re.compile(r"http://localhost:8080/(topics/[a-z0-9-]+/index\.html)")


def _topic_links(folder: Path, name: str) -> list[str]:
    return TOPIC_HREF.findall((folder / name).read_text("utf-8"))


def test_day_pages_and_emails_link_each_theme_to_its_topic_page(tmp_path: Path) -> None:
    digests = _run_days(tmp_path, 2)
    out = tmp_path / "out"
    with Store.open(tmp_path / "out.sqlite") as store:
        slugs = {t.id: t.slug for t in store.topics()}
    for d in digests:
        expected = [
            f"topics/{slugs[t.topic_id]}/index.html" for t in d.themes if t.topic_id is not None
        ]
        assert len(expected) >= 3
        folder = out / d.date.isoformat()
        for name in ("index.html", "email.html", "email.txt"):
            assert _topic_links(folder, name) == expected, name
        assert all((out / path).is_file() for path in expected)
        # a topic's first days are its busiest of the 28: every topic here is rising
        assert "(rising topic)" in (folder / "index.html").read_text("utf-8")


def test_an_old_topic_is_kept_and_marked_inactive(tmp_path: Path) -> None:
    """Robots are listed on days 0-1, then not until day 6: by then (active_days=2) their
    topic is inactive, its page and feed still served and marked; the returning robots
    start a new topic whose slug collides with the old one's and gets a number."""
    digests = _run_days(tmp_path, 7, gone="robots", back=6, active_days=2)
    out = tmp_path / "out" / "topics"
    pages = {p.parent.name: p.read_text() for p in out.glob("*/index.html")}
    inactive = [
        slug for slug, html in pages.items() if "Inactive: not seen since 2025-03-18" in html
    ]
    assert len(inactive) == 1 and "robot" in inactive[0]
    feed = feedparser.parse((out / inactive[0] / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 2  # its two days, still served
    assert all(
        e.link.endswith(("2025-03-17/index.html", "2025-03-18/index.html")) for e in feed.entries
    )
    index = (out / "index.html").read_text()
    assert "Inactive topics" in index
    # the slug collision: a second robots topic, numbered, active, linked from day 6
    again = f"{inactive[0]}-2"
    assert "Active" in pages[again] and "Inactive" not in pages[again]
    assert (
        feedparser.parse((out / again / "feed.xml").read_bytes())
        .entries[0]
        .link.endswith(f"{digests[6].date}/index.html")
    )
    day6 = (tmp_path / "out" / str(digests[6].date) / "index.html").read_text()
    assert f"topics/{again}/index.html" in day6 and f"topics/{inactive[0]}/" not in day6


@pytest.mark.parametrize(
    "jobs,link_every,stop_at",
    [(2, incremental.LINK_EVERY, None), (2, 1, None), (1, 1, None), (1, 1, 1)],
    ids=["linked-at-the-end", "linked-as-days-finish", "one-process", "ctrl-c-then-resume"],
)
def test_backfill_links_topics_as_day_by_day_runs_do(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    jobs: int,
    link_every: int,
    stop_at: int | None,
) -> None:
    days = write_listings(tmp_path / "in", 4, gone="robots", back=3)
    for d in days:
        pipeline.run(_config(tmp_path, "daily"), d, [tmp_path / "in" / f"{d}.jsonl"])
    # days linked and rendered while later ones are produced, every day finished in order
    monkeypatch.setattr(incremental, "LINK_EVERY", link_every)

    def interrupt(outcome: DayOutcome) -> None:
        if stop_at is not None and outcome.date == days[stop_at]:
            raise KeyboardInterrupt

    config = _config(tmp_path, "bf")
    first = backfill(config, days[0], days[-1], tmp_path / "in", progress=False, jobs=jobs,
                     on_day=interrupt)  # fmt: skip
    assert first.interrupted == (stop_at is not None)
    if first.interrupted:  # the next backfill goes on, linking from where the first ended
        backfill(config, days[0], days[-1], tmp_path / "in", progress=False, jobs=jobs)
    for d in days:
        daily = json.loads((tmp_path / "daily" / str(d) / "digest.json").read_text())
        filled = json.loads((tmp_path / "bf" / str(d) / "digest.json").read_text())
        assert [t["topic_id"] for t in filled["themes"]] == [t["topic_id"] for t in daily["themes"]]
        with Store.open(tmp_path / "bf.sqlite") as store:
            assert store.digest_text(d) == (tmp_path / "bf" / str(d) / "digest.json").read_text()
    assert sorted(p.name for p in (tmp_path / "bf" / "topics").iterdir()) == sorted(
        p.name for p in (tmp_path / "daily" / "topics").iterdir()
    )
    # the backfill renders its days again once linked: their pages and emails link topics
    for d in days:
        for name in ("index.html", "email.html", "email.txt"):
            filled = _topic_links(tmp_path / "bf" / str(d), name)
            assert filled and filled == _topic_links(tmp_path / "daily" / str(d), name)


def test_redoing_an_earlier_day_relinks_the_later_ones(tmp_path: Path) -> None:
    digests = _run_days(tmp_path, 3)
    config = _config(tmp_path)
    again = pipeline.run(config, digests[0].date, [tmp_path / "in" / f"{digests[0].date}.jsonl"])
    assert [t.topic_id for t in again.digest.themes] == [t.topic_id for t in digests[0].themes]
    last = json.loads((tmp_path / "out" / str(digests[2].date) / "digest.json").read_text())
    assert [t["topic_id"] for t in last["themes"]] == [t.topic_id for t in digests[2].themes]


@pytest.mark.parametrize("key,value", [("threshold", 1.5), ("active_days", 0)])
def test_bad_topics_config_names_the_key(tmp_path: Path, key: str, value: object) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[topics]\n{key} = {value}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "digest", "run", "--config", str(path), "--date", "2025-03-17"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"'topics.{key}'" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- split and merge, published


def _publish_themes(tmp_path: Path, days: list[list[DayTheme]]) -> tuple[Path, list[str]]:
    """Store the days' themes, link them as a run does and publish the topic pages; the
    topic folder and the feeds offered for subscription (feeds.opml)."""
    config = _config(tmp_path)
    with Store.open(config.database_path) as store:
        for themes in days:
            store.save_day_themes(themes[0].date, themes)
        pipeline.link_all_topics(store, config, days[0][0].date, config.output_path)
        channels = pipeline.publish_topics(store, config, config.output_path)
    return config.output_path / "topics", [c.self_url for c in channels]


def _guids(path: Path) -> list[str]:
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    return [e.id for e in feed.entries]


def test_a_merged_topic_page_and_feed_continue_with_the_survivor(tmp_path: Path) -> None:
    topics, offered = _publish_themes(
        tmp_path,
        [
            [
                theme(day(0), "t1", "Agents", {"agent": 1, "tool": 0.5}, size=9),
                theme(day(0), "t2", "Tool use", {"tool": 1, "agent": 0.5}, size=4),
            ],
            [theme(day(1), "t1", "LLM agents", {"agent": 1, "tool": 1})],
            [theme(day(2), "t1", "Tools", {"tool": 1, "agent": 0.45})],
        ],
    )
    merged = (topics / "tool-use" / "index.html").read_text()
    assert (
        "Merged into" in merged
        and 'href="http://localhost:8080/topics/agents/index.html"' in merged
    )
    # the survivor's feed, item for item, under the merged topic's address too
    survivor = _guids(topics / "agents" / "feed.xml")
    assert len(survivor) == 3 and all(
        g.startswith("urn:digest:topic:2025-03-17-t1:") for g in survivor
    )
    assert _guids(topics / "tool-use" / "feed.xml") == survivor
    assert _guids(topics / "tool-use" / "feed.atom") == _guids(topics / "agents" / "feed.atom")
    # offered once, by the survivor; only the survivor's page is in the search index
    assert [u for u in offered if "/topics/" in u] == [
        "http://localhost:8080/topics/agents/feed.xml"
    ]
    assert "data-pagefind-body" not in merged
    assert "data-pagefind-body" in (topics / "agents" / "index.html").read_text()


def test_a_split_keeps_the_feed_on_the_closer_theme_and_links_the_parent(tmp_path: Path) -> None:
    topics, _ = _publish_themes(
        tmp_path,
        [
            [theme(day(0), "t1", "Vision", {"image": 1, "video": 1})],
            [
                theme(day(1), "t1", "Images", {"image": 1, "video": 0.8}),
                theme(day(1), "t2", "Video", {"video": 1, "image": 0.4}),
            ],
        ],
    )
    assert _guids(topics / "vision" / "feed.xml") == [
        "urn:digest:topic:2025-03-17-t1:2025-03-18",
        "urn:digest:topic:2025-03-17-t1:2025-03-17",
    ]
    assert _guids(topics / "video" / "feed.xml") == ["urn:digest:topic:2025-03-18-t2:2025-03-18"]
    page = (topics / "video" / "index.html").read_text()
    assert 'split from <a href="http://localhost:8080/topics/vision/index.html">' in page
