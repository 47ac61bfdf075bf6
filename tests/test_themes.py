"""Themes: every paper in exactly one theme, labels readable and unique, edge-case days."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sklearn.metrics import v_measure_score

from digest.config import ThemesConfig
from digest.models import Paper
from digest.themes import REMAINDER_ID, ThemeResult, find_themes
from digest.themes.cluster import k_candidates
from digest.themes.coverage import is_generic, label_key, label_words, near_duplicate
from digest.themes.labels import REMAINDER_LABEL, phrases
from digest.themes.text import clean_text, stem, tokens

CONFIG = ThemesConfig()


def mini(fixtures: Path) -> tuple[list[Paper], dict[str, str]]:
    rows = [json.loads(line) for line in (fixtures / "themes-mini.jsonl").read_text().splitlines()]
    papers = [Paper(id=r["id"], title=r["title"], abstract=r["summary"]) for r in rows]
    return papers, {r["id"]: r["label"] for r in rows}


def check_partition(result: ThemeResult, papers: list[Paper]) -> None:
    ids = [pid for t in result.themes for pid in t.paper_ids]
    assert sorted(ids) == sorted(p.id for p in papers)  # every paper exactly once
    assert result.assignment == {pid: t.id for t in result.themes for pid in t.paper_ids}
    labels = [t.label.casefold() for t in result.themes]
    assert len(labels) == len(set(labels))
    keys = [label_key(t.label) for t in result.themes]  # no near-duplicates ("Model", "Models")
    assert len(keys) == len(set(keys)), labels
    # nor in meaning ("Pretraining", "Pre-trained models"; "LLMs", "Language models")
    words = [label_words(t.label) for t in result.themes]
    assert not any(near_duplicate(w, words[:i]) for i, w in enumerate(words)), labels
    # nor generic ("Deep learning", "Neural networks")
    assert not any(is_generic(w) for w in words), labels
    assert len({t.id for t in result.themes}) == len(result.themes)
    remainders = [t for t in result.themes if t.remainder]
    assert len(remainders) <= 1
    if remainders:
        assert result.themes[-1].remainder and result.themes[-1].label == REMAINDER_LABEL
    for t in result.themes:
        assert t.paper_ids
        if not t.remainder:
            assert 1 <= len(t.label.split()) <= 4, t.label
            assert t.label[0].isupper() or not t.label[0].isalpha(), t.label
            assert t.representative in t.paper_ids


def test_recovers_the_categories_of_a_labeled_mixture(fixtures: Path) -> None:
    papers, truth = mini(fixtures)
    result = find_themes(papers, CONFIG)
    check_partition(result, papers)
    ids = [p.id for p in papers]
    v = v_measure_score([truth[i] for i in ids], [result.assignment[i] for i in ids])
    assert v >= 0.5, v
    assert 3 <= len([t for t in result.themes if not t.remainder]) <= 9


def described(label: str, papers: list[Paper]) -> float:
    """The share of ``papers`` whose title or abstract has every word of ``label`` (first five
    letters compared, as ../shared/tools/label_coverage.py does)."""
    need = {w[:5] for w in re.findall(r"[a-z0-9]+", label.lower()) if w != "and"}
    texts = [
        {w[:5] for w in re.findall(r"[a-z0-9]+", f"{p.title} {p.abstract}".lower())} for p in papers
    ]
    return sum(need <= words for words in texts) / len(texts)


def test_labels_name_what_most_of_their_papers_share(fixtures: Path) -> None:
    papers, _ = mini(fixtures)
    by_id = {p.id: p for p in papers}
    result = find_themes(papers, CONFIG)
    shares = {t.label: described(t.label, [by_id[i] for i in t.paper_ids]) for t in result.themes}
    # before: "Planning and navigation" described 10% of its 21 papers; now "Robots", 57%
    assert sum(share >= 0.5 for share in shares.values()) >= 3, shares


def test_labels_come_from_the_papers_and_terms_are_distinct_words(fixtures: Path) -> None:
    papers, _ = mini(fixtures)
    result = find_themes(papers, CONFIG)
    text = " ".join(clean_text(f"{p.title} {p.abstract}") for p in papers)
    for t in result.themes:
        if t.remainder:
            continue
        assert 1 <= len(t.terms) <= 10
        assert len(set(t.terms)) == len(t.terms)
        for word in t.label.casefold().replace("-", " ").split():
            assert word == "and" or word in text.replace("-", " "), (t.label, word)


def test_same_input_same_output_whatever_the_order(fixtures: Path) -> None:
    papers, _ = mini(fixtures)
    a = find_themes(papers, CONFIG)
    b = find_themes(list(reversed(papers)), CONFIG)
    assert a.themes == b.themes


def test_no_papers_no_themes() -> None:
    result = find_themes([], CONFIG)
    assert result.themes == () and result.assignment == {}
    assert result.assign([Paper(id="x", title="Anything at all")]) == [None]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_day_of_one_to_three_papers_is_one_named_theme(n: int) -> None:
    titles = [
        "Graph neural networks for molecules",
        "Molecular graph transformers",
        "Protein graph neural networks",
    ]
    papers = [
        Paper(id=f"p{i}", title=titles[i], abstract=f"We study graph models of molecules {i}.")
        for i in range(n)
    ]
    result = find_themes(papers, CONFIG)
    check_partition(result, papers)
    assert len(result.themes) == 1 and not result.themes[0].remainder
    assert (
        "graph" in result.themes[0].label.casefold()
        or "molecul" in result.themes[0].label.casefold()
    )


def test_identical_abstracts_and_titles_do_not_break_clustering() -> None:
    same = "A single abstract about quantum error correction codes repeated verbatim."
    papers = [Paper(id=f"q{i}", title="Quantum error correction", abstract=same) for i in range(30)]
    papers += [
        Paper(id=f"r{i}", title="Robot grasping policies", abstract="Robot arms learn grasping.")
        for i in range(10)
    ]
    result = find_themes(papers, CONFIG)
    check_partition(result, papers)
    assert len({result.assignment[f"q{i}"] for i in range(30)}) == 1
    assert result.assignment["q0"] != result.assignment["r0"]


def test_title_only_papers_are_grouped_by_their_titles() -> None:
    papers = [
        Paper(id=f"a{i}", title=f"Speech recognition with transformers part {i}") for i in range(8)
    ]
    papers += [
        Paper(id=f"b{i}", title=f"Protein folding with diffusion variant {i}") for i in range(8)
    ]
    result = find_themes(papers, CONFIG)
    check_partition(result, papers)
    assert len({result.assignment[f"a{i}"] for i in range(8)}) == 1
    assert result.assignment["a0"] != result.assignment["b0"]


def test_non_english_and_wordless_papers_still_get_exactly_one_theme(fixtures: Path) -> None:
    papers, _ = mini(fixtures)
    odd = [
        Paper(
            id="zh", title="基于深度学习的图像分割方法", abstract="本文提出了一种新的图像分割方法。"
        ),
        Paper(
            id="de", title="Über die Stabilität neuronaler Netze", abstract="Wir untersuchen Netze."
        ),
        Paper(id="sym", title="$\\alpha$ = 42", abstract="$$ \\int_0^1 f(x) dx $$ 1, 2, 3."),
    ]
    result = find_themes([*papers, *odd], CONFIG)
    check_partition(result, [*papers, *odd])
    assert result.assignment["sym"] == REMAINDER_ID  # no word at all: the remainder


def test_only_wordless_papers_form_the_remainder() -> None:
    papers = [Paper(id=f"n{i}", title=f"{i} + {i}", abstract="$x^2$") for i in range(4)]
    result = find_themes(papers, CONFIG)
    check_partition(result, papers)
    assert [t.remainder for t in result.themes] == [True]


def test_small_groups_fold_into_the_remainder(fixtures: Path) -> None:
    papers, _ = mini(fixtures)
    lonely = [
        Paper(id=f"x{i}", title=f"Lonely topic {w}", abstract=f"{w} {w} {w} volcanic basalt")
        for i, w in enumerate(["glaciers", "volcanoes"])
    ]
    result = find_themes([*papers, *lonely], ThemesConfig(min_theme_size=5))
    check_partition(result, [*papers, *lonely])
    assert all(t.size >= 5 or t.remainder for t in result.themes)


def test_assign_places_other_days_papers_on_todays_themes(fixtures: Path) -> None:
    papers, truth = mini(fixtures)
    result = find_themes(papers[:60], CONFIG)
    held_out = papers[60:]
    assigned = result.assign(held_out)
    assert all(a is None or a in {t.id for t in result.themes} for a in assigned)
    # a held-out paper lands in the theme where most of its category went
    majority = {}
    for t in result.themes:
        cats = [truth[pid] for pid in t.paper_ids]
        majority[t.id] = max(set(cats), key=cats.count)
    hits = sum(
        majority.get(a or "") == truth[p.id] for p, a in zip(held_out, assigned, strict=True)
    )
    assert hits >= 0.6 * len(held_out)
    assert result.assign([papers[0]]) == [result.assignment[papers[0].id]]
    assert result.assign([Paper(id="none", title="$x$", abstract="42")]) == [None]


def test_background_informs_idf_but_only_todays_papers_get_themes(fixtures: Path) -> None:
    papers, _ = mini(fixtures)
    result = find_themes(papers[:40], ThemesConfig(background_days=7), background=papers[40:])
    check_partition(result, papers[:40])


def test_k_candidates_scale_with_the_day() -> None:
    assert k_candidates(20, CONFIG) == [2, 3, 4, 5]
    assert max(k_candidates(320, CONFIG)) == 18
    assert max(k_candidates(5000, CONFIG)) == CONFIG.max_themes
    assert len(k_candidates(5000, CONFIG)) <= 8
    assert k_candidates(4, CONFIG) == [1]


def test_labelled_mixtures_are_not_over_split(shared: Path) -> None:
    # with the one-standard-error rule mix0 (8 categories) gave 13 themes: over 1.5x
    for path in sorted((shared / "data" / "themes-dev").glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        papers = [Paper(id=r["id"], title=r["title"], abstract=r["summary"]) for r in rows]
        result = find_themes(papers, CONFIG)
        assert len(result.themes) <= 1.5 * len({r["label"] for r in rows}), path.name
        less_tolerant = find_themes(papers, ThemesConfig(k_tolerance=0))  # the best silhouette
        assert len(result.themes) <= len(less_tolerant.themes)


def test_text_helpers() -> None:
    assert clean_text("Über $x^2$ see https://x.org \\textbf{Bold}").split() == [
        "uber",
        "see",
        "bold",
    ]
    assert stem("segmentation") == stem("segment") and stem("robots") == "robot"
    assert "propose" not in tokens("we propose a novel method for robot grasping")
    assert phrases("medical image segmentation for robots", 4)[:3] == [
        "medical",
        "image",
        "segmentation",
    ]
    assert "segmentation robots" not in phrases("medical image segmentation for robots", 4)


@pytest.mark.slow
def test_a_5000_paper_day_completes(shared: Path) -> None:
    import gzip

    papers: list[Paper] = []
    seen: set[str] = set()
    for path in sorted((shared / "data" / "arxiv-daily").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as lines:
            for line in lines:
                row = json.loads(line)
                if row["id"] not in seen:
                    seen.add(row["id"])
                    papers.append(Paper(id=row["id"], title=row["title"], abstract=row["summary"]))
        if len(papers) >= 5000:
            break
    papers = papers[:5000]
    result = find_themes(papers, CONFIG)
    check_partition(result, papers)
    assert 20 <= len(result.themes) <= CONFIG.max_themes + 1
