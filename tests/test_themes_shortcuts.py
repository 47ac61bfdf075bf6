"""The themes' faster paths give exactly what the plain rules give: k-means runs stepped
together against one run at a time, token ids against tokens, label runs split without a
regex against the regex, the ranked head of a group's terms against a full argsort."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.models import Paper
from digest.themes import document
from digest.themes.kmeans import _lloyd, _plus_plus, _plus_plus_together, spherical_kmeans
from digest.themes.labels import _TOKEN, _WORDLIKE, _ranked, _split_runs
from digest.themes.text import _WORD, STOP_WORDS, _words, distinct_tokens, stem, tokens


def unit_rows(seed: int, n: int = 120, dims: int = 8) -> np.ndarray:
    z = np.random.default_rng(seed).normal(size=(n, dims)).astype(np.float32)
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def one_run_at_a_time(z: np.ndarray, k: int, seed: int, restarts: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [_plus_plus(z, k, rng) for _ in range(restarts)]


def test_seeding_the_runs_together_draws_what_seeding_them_one_by_one_draws() -> None:
    z = unit_rows(0)
    for k, seed in [(2, 0), (5, 1), (12, 2)]:
        rng = np.random.default_rng(seed)
        together = _plus_plus_together(z, k, 4, rng)
        assert together is not None
        expected = one_run_at_a_time(z, k, seed, 4)
        assert np.array_equal(together, np.stack(expected))
        # and leaves the generator where the one-by-one seeding leaves it
        after = np.random.default_rng(seed)
        for _ in range(4):
            _plus_plus(z, k, after)
        assert rng.bit_generator.state == after.bit_generator.state


def test_seeding_together_gives_up_when_a_run_runs_out_of_distant_points() -> None:
    z = np.repeat(np.eye(3, 6, dtype=np.float32), 4, axis=0)  # 12 rows, 3 distinct
    assert _plus_plus_together(z, 4, 2, np.random.default_rng(0)) is None
    # spherical_kmeans then seeds one run at a time from the same draws
    seeds = np.stack(one_run_at_a_time(z, 4, 0, 2))
    fits = _lloyd(z, z.astype(np.float64), seeds, 40)
    best = max(range(2), key=lambda r: (fits[r][1], -r))
    assert np.array_equal(spherical_kmeans(z, 4, seed=0, restarts=2), fits[best][0])


def test_runs_stepped_together_end_where_each_run_alone_ends() -> None:
    z = unit_rows(2, n=300, dims=20)
    z64 = z.astype(np.float64)
    seeds = np.stack(one_run_at_a_time(z, 9, 3, 4))
    together = _lloyd(z, z64, seeds, 40)
    for r in range(4):
        [(alone_labels, alone_fit)] = _lloyd(z, z64, seeds[r : r + 1], 40)
        assert np.array_equal(together[r][0], alone_labels)
        assert together[r][1] == alone_fit
    # a run cut short by max_iter keeps its last assignment
    assert all(len(labels) == 300 for labels, _ in _lloyd(z, z64, seeds, 1))


def mini_docs(fixtures: Path) -> list[str]:
    rows = [json.loads(line) for line in (fixtures / "themes-mini.jsonl").read_text().splitlines()]
    return [document(Paper(id=r["id"], title=r["title"], abstract=r["summary"])) for r in rows]


def test_tokens_are_the_rule(fixtures: Path) -> None:
    docs = mini_docs(fixtures) + ["Éléments de géométrie, naïve Bayes.\n", "", "a b c of the"]
    for doc in docs:
        rule = [stem(w) for w in _WORD.findall(doc) if w not in STOP_WORDS and len(w) > 1]
        assert list(tokens(doc)) == rule
        assert distinct_tokens(doc) == set(rule)


ascii_text = st.text(alphabet=st.characters(max_codepoint=127), max_size=60)
label_text = st.lists(
    st.sampled_from(list("ab-- _-1.,x\t\n\x1c\x1f|") + ["the", "of", "robot"]), max_size=30
).map("".join)


@given(ascii_text)
def test_ascii_words_are_the_unicode_rule_on_ascii_text(text: str) -> None:
    assert [w for w in _words(text) if len(w) > 1] == _WORD.findall(text)


def runs_by_regex(cleaned: str) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    for tok in _TOKEN.findall(cleaned):
        if len(tok) > 1 and tok not in STOP_WORDS and _WORDLIKE.match(tok):
            run.append(tok)
        elif run:
            out.append(tuple(run))
            run = []
    return out + [tuple(run)] if run else out


@given(ascii_text)
def test_label_runs_of_ascii_text_are_the_regex_runs(text: str) -> None:
    assert _split_runs(text) == runs_by_regex(text)


@given(label_text.map(str.lower))
def test_label_runs_around_hyphens_and_cuts_are_the_regex_runs(text: str) -> None:
    assert _split_runs(text) == runs_by_regex(text)


@pytest.mark.slow
@given(st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.25, 0.5, 1.0, 2.0]), max_size=200))
def test_ranked_terms_are_the_head_of_a_stable_argsort(values: list[float]) -> None:
    score = np.array(values, dtype=np.float64)
    full = np.argsort(-score, kind="stable")
    assert _ranked(score).tolist() == [i for i in full.tolist() if score[i] > 0]
