"""Single-word labels (issue 14): a theme no phrase describes is named by the noun most of its
papers share, even when other themes use it too, but never by a word too common to name one."""

from __future__ import annotations

import pytest

from digest.config import ThemesConfig
from digest.models import Paper
from digest.themes import find_themes
from digest.themes.coverage import label_words, near_duplicate

ROBOTS = ["gripper", "grasping", "manipulator", "tactile", "dexterous", "arm", "pick", "servo"]
PROTEIN = ["protein", "folding", "residue", "peptide", "enzyme", "backbone", "amino", "ligand"]
CHAIN = ["consensus", "validator", "sharding", "mempool", "rollup", "escrow", "notary", "custody"]
ADJECTIVES = [
    "Auditable",
    "Permissioned",
    "Verifiable",
    "Scalable",
    "Lightweight",
    "Federated",
    "Append-only",
    "Tamper-evident",
]


def day(noun: str, elsewhere: int) -> list[Paper]:
    """Three themes of 8 papers; every paper of the third is titled "<adjective> <noun>" and
    its other words are each in at most half of its papers (no phrase describes it), while
    ``elsewhere`` papers of the first theme use ``noun`` too."""
    papers = []
    for i in range(8):
        words = " ".join(ROBOTS[(i + j) % 8] for j in range(5))
        extra = f" {noun} of trials" if i < elsewhere else ""
        abstract = f"A robot grasping study: {words} {words}{extra}."
        papers.append(
            Paper(id=f"a{i}", title=f"Robot grasping with {ROBOTS[i]} control", abstract=abstract)
        )
    for i in range(8):
        words = " ".join(PROTEIN[(i + j) % 8] for j in range(5))
        abstract = f"Protein folding prediction: {words} {words}."
        papers.append(
            Paper(id=f"b{i}", title=f"Protein folding of {PROTEIN[i]} chains", abstract=abstract)
        )
    for i in range(8):
        words = " ".join(CHAIN[(i + j) % 8] for j in range(3))
        abstract = f"We study the {noun}: {words} {words}."
        papers.append(Paper(id=f"c{i}", title=f"{ADJECTIVES[i]} {noun}", abstract=abstract))
    return papers


def third_label(papers: list[Paper]) -> str:
    result = find_themes(papers, ThemesConfig())
    (theme,) = [t for t in result.themes if "c0" in t.paper_ids]
    assert sorted(theme.paper_ids) == [f"c{i}" for i in range(8)]
    return theme.label


def test_a_shared_noun_names_a_theme_other_themes_also_use_it_in() -> None:
    # every paper of the theme says "ledger", and 3 of 16 others: twice the day's share.
    # Before: "Ledger and consensus", where "consensus" is in 3 of its 8 papers
    assert third_label(day("ledger", 3)) == "Ledger"


@pytest.mark.parametrize("noun", ["data", "learning"])
def test_a_word_one_paper_in_five_uses_never_names_a_theme_alone(noun: str) -> None:
    # set apart 3x on this day (no other theme uses it), but a fifth of arXiv papers do.
    # Before: "Data", "Learning"
    assert third_label(day(noun, 0)).casefold() != noun


@pytest.mark.parametrize("noun", ["deep neural networks", "machine learning models", "AI"])
def test_words_that_name_the_whole_field_never_make_a_label_alone(noun: str) -> None:
    # every title of the theme says it, no other theme does: set apart, but it names nothing
    # a reader of an arXiv digest can tell themes by (issue 14's "Deep learning",
    # "Neural networks"). Before: "Deep neural networks", "Machine learning models", "AI"
    label = third_label(day(noun, 0))
    field_words = {"deep", "neural", "networks", "machine", "learning", "models", "ai"}
    assert not set(label.lower().split()) <= field_words, label


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Pretraining", "Pre-trained models"),  # a hyphen and a word of the field
        ("Reasoning", "Reasoning models"),
        ("Language models", "LLMs"),  # an acronym known without the day's definition
        ("Retrieval-augmented generation", "RAG"),
    ],
)
def test_labels_that_differ_only_by_field_words_or_acronyms_are_near_duplicates(
    first: str, second: str
) -> None:
    assert near_duplicate(label_words(second), [label_words(first)])


@pytest.mark.parametrize(
    ("first", "second"),
    [("Diffusion models", "Video diffusion models"), ("Language models", "Speech language models")],
)
def test_a_label_with_a_topic_word_of_its_own_is_not_a_near_duplicate(
    first: str, second: str
) -> None:
    assert not near_duplicate(label_words(second), [label_words(first)])
