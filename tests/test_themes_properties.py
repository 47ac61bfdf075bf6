"""Property tests of find_themes: a partition, deterministic, unique labels, on any day."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.config import ThemesConfig
from digest.models import Paper
from digest.themes import find_themes

WORDS = [
    "graph",
    "neural",
    "speech",
    "robot",
    "privacy",
    "attack",
    "image",
    "segmentation",
    "retrieval",
    "language",
    "model",
    "diffusion",
    "protein",
    "quantum",
    "policy",
    "über",
    "数据",
    "$x$",
    "42",
    "the",
    "propose",
    "LLM",
    "3D",
    "self-supervised",
]
text = st.lists(st.sampled_from(WORDS), min_size=0, max_size=25).map(" ".join)
papers = st.lists(st.tuples(text, text), min_size=0, max_size=40).map(
    lambda rows: [Paper(id=f"p{i:03d}", title=t, abstract=a) for i, (t, a) in enumerate(rows)]
)
CONFIG = ThemesConfig()


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(papers)
def test_every_paper_in_exactly_one_theme_labels_unique_and_deterministic(day: list[Paper]) -> None:
    result = find_themes(day, CONFIG)
    ids = [pid for t in result.themes for pid in t.paper_ids]
    assert sorted(ids) == sorted(p.id for p in day)
    labels = [t.label.casefold() for t in result.themes]
    assert len(labels) == len(set(labels))
    assert all(t.label.strip() for t in result.themes)
    assert find_themes(day, CONFIG).themes == result.themes
    assert find_themes(list(reversed(day)), CONFIG).themes == result.themes
