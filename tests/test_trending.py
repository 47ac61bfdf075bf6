"""Trending score, the batch, theme momentum and rising themes."""

from __future__ import annotations

import datetime as dt

import pytest

from digest.config import ThemesConfig, TrendingConfig
from digest.models import DayPaper, Paper
from digest.themes import find_themes
from digest.trending import rank, score, theme_momentum

DAY = dt.date(2025, 6, 2)
NOW = dt.datetime(2025, 6, 2, 7, 30, tzinfo=dt.UTC)
CONFIG = TrendingConfig()

SPEECH = "Speech recognition and spoken audio transcription with acoustic models"
ROBOT = "Robot grasping and manipulation policies for robotic arms"
PROTEIN = "Protein structure prediction and folding of amino acid chains"


def paper(pid: str, topic: str, upvotes: int | None = None) -> Paper:
    return Paper(
        id=pid, title=f"{topic.split(' and ')[0]} study {pid}", abstract=topic, upvotes=upvotes
    )


def day_of(papers: list[Paper], seen: dict[str, int] | None = None) -> list[DayPaper]:
    seen = seen or {}
    return [DayPaper(p, ("s",), i, seen.get(p.id, 1), len(papers)) for i, p in enumerate(papers)]


def topics(n_speech: int, n_robot: int, n_protein: int, prefix: str = "") -> list[Paper]:
    return (
        [paper(f"{prefix}s{i:02d}", SPEECH) for i in range(n_speech)]
        + [paper(f"{prefix}r{i:02d}", ROBOT) for i in range(n_robot)]
        + [paper(f"{prefix}p{i:02d}", PROTEIN) for i in range(n_protein)]
    )


def test_each_signal_raises_the_score() -> None:
    base = DayPaper(Paper(id="a", title="A"), ("s",), position=5, seen_days=1, listing_size=10)
    s0 = score(base, 1.0, 100, CONFIG)
    voted = DayPaper(Paper(id="a", title="A", upvotes=50), ("s",), 5, 1, 10)
    earlier = DayPaper(Paper(id="a", title="A"), ("s",), 1, 1, 10)
    recurring = DayPaper(Paper(id="a", title="A"), ("s",), 5, 3, 10)
    assert score(voted, 1.0, 100, CONFIG) > s0
    assert score(earlier, 1.0, 100, CONFIG) > s0
    assert score(recurring, 1.0, 100, CONFIG) > s0
    assert score(base, 2.0, 100, CONFIG) > s0 > score(base, 0.5, 100, CONFIG)
    # upvotes are log-scaled: 10x the votes is far less than 10x the contribution
    ten = DayPaper(Paper(id="a", title="A", upvotes=10), ("s",), 5, 1, 10)
    hundred = DayPaper(Paper(id="a", title="A", upvotes=100), ("s",), 5, 1, 10)
    assert score(hundred, 1.0, 100, CONFIG) - s0 < 3 * (score(ten, 1.0, 100, CONFIG) - s0)


def test_weights_come_from_config() -> None:
    d = DayPaper(Paper(id="a", title="A", upvotes=7), ("s",), 0, 1, 10)
    only_votes = TrendingConfig(weight_position=0, weight_seen_days=0, weight_momentum=0)
    assert score(d, 1.0, 7, only_votes) == pytest.approx(1.0)
    nothing = TrendingConfig(
        weight_upvotes=0, weight_position=0, weight_seen_days=0, weight_momentum=0
    )
    assert score(d, 3.0, 7, nothing) == 0.0


def test_batch_is_top_n_with_ties_broken_by_id() -> None:
    papers = [Paper(id=f"x{i}", title="Same") for i in (3, 1, 2, 0)]
    days = [DayPaper(p, ("s",), 0, 1, 4) for p in papers]  # all equal
    themes = find_themes(papers, ThemesConfig())
    digest = rank(DAY, days, themes, {}, TrendingConfig(top_n=2), (), NOW)
    assert digest.trending == ("x0", "x1")
    assert [p.paper.id for p in digest.papers] == ["x0", "x1", "x2", "x3"]
    assert [p.trending for p in digest.papers] == [True, True, False, False]
    again = rank(DAY, list(reversed(days)), themes, {}, TrendingConfig(top_n=2), (), NOW)
    assert again.to_json() == digest.to_json()


def test_upvoted_and_recurring_papers_make_the_batch() -> None:
    papers = topics(10, 10, 10)
    papers[25] = paper("p05", PROTEIN, upvotes=300)
    days = day_of(papers, seen={"p07": 4})
    digest = rank(
        DAY, days, find_themes(papers, ThemesConfig()), {}, TrendingConfig(top_n=3), (), NOW
    )
    assert digest.trending[0] == "p05"  # last third of the listing, but 300 upvotes
    # seen on 4 days: ahead of the paper listed just before it
    assert digest.paper("p07").score > digest.paper("p06").score > digest.paper("p08").score


def test_a_theme_that_grew_is_rising_and_its_papers_gain() -> None:
    today = topics(12, 12, 12)
    result = find_themes(today, ThemesConfig())
    history = {DAY - dt.timedelta(days=d): topics(20, 1, 20, prefix=f"h{d}") for d in range(1, 8)}
    momentum = theme_momentum(result, history, len(today))
    robot = result.assignment["r00"]
    speech = result.assignment["s00"]
    assert momentum[robot] > 2.0 > momentum[speech]
    digest = rank(DAY, day_of(today), result, history, CONFIG, (), NOW)
    rising = {t.id for t in digest.themes if t.rising}
    assert rising == {robot}
    # momentum adjusts at the margin: the rising theme's first paper passes the paper listed
    # just before it, but not one listed 12 places higher (the source's order comes first)
    assert digest.paper("r00").score > digest.paper("s11").score
    assert digest.paper("s05").score > digest.paper("r05").score


GRAPH = "Graph neural networks message passing on node embeddings"


def test_no_theme_holds_more_than_its_share_of_the_batch() -> None:
    # the page lists 20 speech papers first: without the diversity step they fill the batch
    papers = (
        topics(20, 8, 8)
        + [paper(f"g{i:02d}", GRAPH) for i in range(8)]
        + [paper(f"v{i:02d}", "Video generation with diffusion transformers") for i in range(8)]
    )
    result = find_themes(papers, ThemesConfig())
    assert sum(not t.remainder for t in result.themes) >= 4
    digest = rank(DAY, day_of(papers), result, {}, TrendingConfig(top_n=10), (), NOW)
    speech = result.assignment["s00"]
    in_batch = [digest.paper(pid).theme for pid in digest.trending]
    assert in_batch.count(speech) == 4  # 40% of 10
    assert digest.trending[:4] == ("s00", "s01", "s02", "s03")  # the page's order first
    scores = [digest.paper(pid).score for pid in digest.trending]
    assert scores == sorted(scores, reverse=True)  # the batch is listed by score
    # the rest of the batch: the next papers of the page's other themes, not more speech
    assert set(digest.trending[4:]) == {"r00", "r01", "r02", "r03", "p00", "p01"}
    assert not digest.paper("s04").trending


def test_days_with_few_themes_or_a_cap_of_one_keep_a_full_batch() -> None:
    papers = topics(20, 8, 0)  # two themes: no cap
    result = find_themes(papers, ThemesConfig())
    plain = rank(DAY, day_of(papers), result, {}, TrendingConfig(top_n=10, diversity=0), (), NOW)
    assert plain.trending == tuple(f"s{i:02d}" for i in range(10))
    capped = TrendingConfig(top_n=10, max_theme_share=0.1, diverse_min_themes=1)
    full = rank(DAY, day_of(papers), result, {}, capped, (), NOW)
    assert len(full.trending) == 10  # the cap cannot be met: filled in score order


def test_no_history_means_no_rising_theme_and_momentum_one() -> None:
    today = topics(12, 12, 12)
    digest = rank(DAY, day_of(today), find_themes(today, ThemesConfig()), {}, CONFIG, (), NOW)
    assert not any(t.rising for t in digest.themes)
    assert all(t.momentum == 1.0 for t in digest.themes)


def test_one_paper_against_none_is_not_rising() -> None:
    today = topics(12, 12, 0) + [paper("p00", PROTEIN), paper("p01", PROTEIN)]
    result = find_themes(today, ThemesConfig(min_theme_size=2))
    history = {DAY - dt.timedelta(days=1): topics(12, 12, 0, prefix="h")}
    digest = rank(DAY, day_of(today), result, history, TrendingConfig(rising_min_papers=3), (), NOW)
    protein = digest.theme(digest.paper("p00").theme)
    assert protein is not None and protein.momentum > 1.5 and not protein.rising


def test_themes_ordered_by_trending_papers_remainder_last() -> None:
    today = topics(12, 6, 6) + [Paper(id="zz", title="42", abstract="$x$")]
    days = day_of(today)
    # protein papers lead the listing
    days = [
        DayPaper(d.paper, d.sources, 0 if d.paper.id.startswith("p") else 10, 1, 30) for d in days
    ]
    digest = rank(
        DAY, days, find_themes(today, ThemesConfig()), {}, TrendingConfig(top_n=6), (), NOW
    )
    assert digest.themes[0].id == digest.paper("p00").theme
    assert digest.themes[-1].remainder
    assert sum(t.size for t in digest.themes) == len(today)


def test_empty_day() -> None:
    digest = rank(DAY, [], find_themes([], ThemesConfig()), {}, CONFIG, (), NOW)
    assert digest.papers == () and digest.themes == () and digest.trending == ()


def test_the_remainder_gets_no_momentum_boost() -> None:
    today = topics(12, 12, 12) + [Paper(id=f"z{i}", title=f"{i}", abstract="$x$") for i in range(3)]
    result = find_themes(today, ThemesConfig())
    history = {DAY - dt.timedelta(days=1): topics(12, 12, 12, prefix="h")}
    momentum = theme_momentum(result, history, len(today))
    assert result.assignment["z0"] == "other" and momentum["other"] == 1.0


def test_the_window_is_placed_on_todays_themes(fixtures) -> None:
    """Momentum places past papers with ``ThemeResult.assign``: a paper listed today keeps its
    theme, a paper sharing no word with today goes nowhere, the others to today's themes."""
    import json

    rows = [json.loads(x) for x in (fixtures / "themes-mini.jsonl").read_text().splitlines()]
    papers = [Paper(id=r["id"], title=r["title"], abstract=r["summary"]) for r in rows]
    today, past = papers[:50], papers[40:]
    result = find_themes(today, ThemesConfig(min_theme_size=3), background=papers[50:])
    assert result.projector is not None and len(result.themes) > 1
    unrelated = Paper(id="x1", title="Zzz", abstract="qqq www")  # no word known today
    empty = Paper(id="e1", title="", abstract="")
    window = [empty, *past, unrelated, *past[:5]]
    placed = result.assign(window)
    assert placed[0] is None and placed[len(past) + 1] is None
    assert placed[1:11] == [result.assignment[p.id] for p in past[:10]]  # listed today
    assert all(t is not None for t in placed[11 : len(past) + 1])
    assert len({t for t in placed if t}) > 1
    history = {dt.date(2025, 3, 10): past, dt.date(2025, 3, 11): [unrelated, empty]}
    momentum = theme_momentum(result, history, len(today))
    assert set(momentum) == {t.id for t in result.themes}
    assert len(set(momentum.values())) > 1
