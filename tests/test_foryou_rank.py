"""The For you section is the reader's ranking from ``digest.personal.rank`` (what ``digest
recommend`` prints), re-ordered only by the trending score, seeds and disliked papers left out."""

from __future__ import annotations

import numpy as np
import pytest

from digest.models import Paper
from digest.personal.foryou import blend
from digest.personal.profile import Profile
from digest.personal.rank import Day, fit_model, rank_for_profile

WORDS = [
    "auction",
    "mechanism",
    "robot",
    "grasping",
    "spectrum",
    "protein",
    "folding",
    "graph",
    "neural",
    "diffusion",
]
PAPERS = [
    Paper(
        id=f"2506.{i:05d}",
        title=f"{WORDS[i % 10].capitalize()} {WORDS[(i * 3 + 1) % 10]}s for problem {i}",
        abstract=f"We study {WORDS[(i * 7 + 2) % 10]} and {WORDS[i % 10]} in case {i}.",
        categories=("cs.GT",) if i % 4 == 0 else ("cs.RO",),
    )
    for i in range(40)
]
INDEX = {p.id: i for i, p in enumerate(PAPERS)}


@pytest.mark.parametrize(
    "profile, seeds",
    [
        (Profile("k", keywords=("auctions", "robot")), []),
        (Profile("c", categories=("cs.GT",), exclude=("folding",)), []),
        (Profile("s", keywords=("spectrum",)), PAPERS[:3]),
    ],
)
def test_without_trending_weight_the_section_is_the_rank_order(
    profile: Profile, seeds: list[Paper]
) -> None:
    model = fit_model("r", seeds, [p for p in PAPERS if p not in seeds])
    recs = rank_for_profile(profile, model, Day.of(PAPERS), top=30)
    skip = frozenset(p.id for p in seeds)
    items = blend(recs, skip, np.zeros(len(PAPERS)), INDEX, PAPERS, 8)
    expected = [r for r in recs if r.paper_id not in skip][:8]
    assert [i.paper_id for i in items] == [r.paper_id for r in expected]
    assert [i.reasons for i in items] == [r.reasons for r in expected]
    assert len(items) <= 8 and not skip & {i.paper_id for i in items}


def test_trending_weight_lifts_a_trending_paper() -> None:
    profile = Profile("k", keywords=("auctions",))
    model = fit_model("r", [], PAPERS)
    recs = rank_for_profile(profile, model, Day.of(PAPERS), top=30)
    last = recs[-1].paper_id
    trend = np.zeros(len(PAPERS))
    trend[INDEX[last]] = 100.0
    items = blend(recs, frozenset(), trend, INDEX, PAPERS, 3)
    assert items[0].paper_id == last
