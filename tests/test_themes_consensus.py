"""Issue 14: the consensus of k-means runs, and labels that never repeat one another through
an acronym the day defines."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from digest.config import ThemesConfig
from digest.models import Paper
from digest.themes import find_themes


def mini(fixtures: Path) -> list[Paper]:
    rows = [json.loads(line) for line in (fixtures / "themes-mini.jsonl").read_text().splitlines()]
    return [Paper(id=r["id"], title=r["title"], abstract=r["summary"]) for r in rows]


def agreement(papers: list[Paper], consensus_runs: int) -> float:
    """Mean adjusted Rand index between the partitions of seeds 0-3."""
    parts = []
    for seed in range(4):
        config = ThemesConfig(seed=seed, consensus_runs=consensus_runs)
        assignment = find_themes(papers, config).assignment
        parts.append([assignment[p.id] for p in papers])
    pairs = list(itertools.combinations(parts, 2))
    return sum(adjusted_rand_score(a, b) for a, b in pairs) / len(pairs)


def test_the_consensus_depends_less_on_the_seed_than_one_kmeans_fit(fixtures: Path) -> None:
    papers = mini(fixtures)
    assert agreement(papers, 40) > agreement(papers, 0) + 0.05


def test_without_consensus_runs_every_paper_still_gets_one_theme(fixtures: Path) -> None:
    papers = mini(fixtures)
    for runs in (0, 1, 40):
        result = find_themes(papers, ThemesConfig(consensus_runs=runs))
        ids = sorted(pid for t in result.themes for pid in t.paper_ids)
        assert ids == sorted(p.id for p in papers)
        again = find_themes(list(reversed(papers)), ThemesConfig(consensus_runs=runs))
        assert [t.paper_ids for t in again.themes] == [t.paper_ids for t in result.themes]


def llm_day() -> list[Paper]:
    """Papers on language models, papers on LLMs (defined as "large language models (LLMs)")
    and unrelated robot papers: without the acronym, the second group was labelled
    "LLMs and language", a repeat of "Language models"."""
    papers = []
    for i, topic in enumerate(
        [
            "translation",
            "summarization",
            "parsing",
            "tagging",
            "dialogue",
            "grammar",
            "syntax",
            "morphology",
            "dictionaries",
            "corpora",
        ]
    ):
        papers.append(
            Paper(
                id=f"a{i}",
                title=f"Language models for {topic}",
                abstract=f"We train language models for {topic} of text corpora. Language models "
                f"improve {topic} accuracy over baselines with words and sentences.",
            )
        )
    for i, topic in enumerate(
        [
            "agents",
            "tools",
            "planning",
            "memory",
            "reasoning",
            "coding",
            "math",
            "search",
            "browsing",
            "games",
        ]
    ):
        papers.append(
            Paper(
                id=f"b{i}",
                title=f"LLMs and language for {topic}",
                abstract=f"Large language models (LLMs) drive {topic} with prompts. We study LLMs "
                f"and language prompting for {topic} with instructions and tool calls.",
            )
        )
    for i, topic in enumerate(
        [
            "grasping",
            "walking",
            "arms",
            "hands",
            "navigation",
            "sensors",
            "control",
            "teams",
            "learning",
            "safety",
        ]
    ):
        papers.append(
            Paper(
                id=f"c{i}",
                title=f"Controllers for robot {topic}",
                abstract=f"A controller for robot {topic} with motors, joints and torque sensing.",
            )
        )
    return papers


def test_an_acronym_and_its_expansion_are_the_same_words_in_labels() -> None:
    result = find_themes(llm_day(), ThemesConfig())
    labels = [t.label for t in result.themes]
    spelled_out = {"large", "language", "model", "models", "llm", "llms", "and"}
    only_llm_words = [
        label for label in labels if set(re.findall(r"[a-z]+", label.lower())) <= spelled_out
    ]
    assert len(only_llm_words) == 1, labels  # "Language models", not also "LLMs and language"
    assert len(labels) == len(set(labels)) >= 3


def test_a_common_acronym_the_day_does_not_define_still_reads_as_its_words() -> None:
    # "LLMs" is read as "large language models" without the day's "(LLMs)" (KNOWN_ACRONYMS).
    # Before: "Language models" beside "LLMs and language"
    papers = [
        Paper(id=p.id, title=p.title, abstract=p.abstract.replace(" (LLMs)", "")) for p in llm_day()
    ]
    labels = [t.label for t in find_themes(papers, ThemesConfig()).themes]
    spelled_out = {"large", "language", "model", "models", "llm", "llms", "and"}
    only_llm_words = [
        label for label in labels if set(re.findall(r"[a-z]+", label.lower())) <= spelled_out
    ]
    assert len(only_llm_words) == 1, labels
    assert len(labels) == len(set(labels)) >= 3
