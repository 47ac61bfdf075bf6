"""The For you ranking of the send path is the ranking of ``digest.personal.rank``: the same
order and reasons as ``rank_for_profile`` (what ``digest recommend`` prints), found faster."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.models import Paper
from digest.personal.foryou import DayText, pick
from digest.personal.profile import Profile
from digest.personal.rank import day_matrix, fit_model, rank_for_profile, rank_many

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


def _papers() -> list[Paper]:
    out = []
    for i in range(40):
        words = [WORDS[(i * 3 + k) % len(WORDS)] for k in range(3)]
        out.append(
            Paper(
                id=f"2506.{i:05d}",
                title=f"{words[0].capitalize()} {words[1]}s for problem {i}",
                abstract=f"We study {' and '.join(words)} with robotics and C++ code, "
                f"$\\alpha$-stable noise in case {i}.",
                categories=("cs.GT",) if i % 4 == 0 else ("cs.RO",),
            )
        )
    return out


PAPERS = _papers()
X = day_matrix(PAPERS)
DAY = DayText(PAPERS)


def _compare(profile: Profile, seeds: list[Paper]) -> None:
    seed_ids = {p.id for p in seeds}
    negatives = [p for p in PAPERS if p.id not in seed_ids]
    model = fit_model("r1", seeds, negatives)
    candidates = [p for p in PAPERS if p.id not in seed_ids]
    expected = rank_for_profile(profile, model, candidates, x=day_matrix(PAPERS)[
        [i for i, p in enumerate(PAPERS) if p.id not in seed_ids]
    ])  # fmt: skip
    margin = rank_many(model.weights, np.array([model.intercept]), X)[0]
    sims = (X @ model.positives.T).toarray() if model.positives.shape[0] else None
    got = pick(profile, model, DAY, margin, sims, np.zeros(len(PAPERS)), seed_ids, len(PAPERS))
    assert [g.paper_id for g in got] == [e.paper_id for e in expected]
    assert [g.reasons for g in got] == [e.reasons for e in expected]
    assert [g.score for g in got] == pytest.approx([e.score for e in expected], abs=1e-3)


@pytest.mark.parametrize(
    "profile, seeds",
    [
        (Profile("k", keywords=("auctions", "robot")), []),
        (Profile("c", categories=("cs.GT",), exclude=("folding",)), []),
        (Profile("s", keywords=("spectrum",)), PAPERS[:3]),
        (Profile("l", keywords=("$\\alpha$-stable", "C++", "a.*(b")), PAPERS[5:7]),
        (Profile("none", keywords=("quantum chromodynamics",)), []),
    ],
)
def test_same_order_and_reasons_as_rank_for_profile(profile: Profile, seeds: list[Paper]) -> None:
    _compare(profile, seeds)


@settings(max_examples=25, deadline=None)
@given(
    keywords=st.lists(
        st.sampled_from(WORDS + ["robo", "neural graph", "C++", "$x$", "ing"]), max_size=3
    ),
    exclude=st.lists(st.sampled_from(WORDS), max_size=1),
)
def test_keyword_matching_agrees_on_any_keywords(keywords: list[str], exclude: list[str]) -> None:
    _compare(Profile("h", keywords=tuple(keywords), exclude=tuple(exclude)), [])
