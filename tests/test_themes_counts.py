"""Themes' own token counting gives what scikit-learn's vectorizer would, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from digest.models import Paper
from digest.themes import document
from digest.themes.cluster import fit_tfidf, make_vectorizer
from digest.themes.text import _WORD, STOP_WORDS, clean_text, stem, tokens


def mini_docs(fixtures: Path) -> list[str]:
    rows = [json.loads(line) for line in (fixtures / "themes-mini.jsonl").read_text().splitlines()]
    return [document(Paper(id=r["id"], title=r["title"], abstract=r["summary"])) for r in rows]


@pytest.mark.parametrize("size", [None, 15, 3])  # a day, a small day (min_df=1), a tiny one
def test_fit_tfidf_is_fit_transform_bit_for_bit(fixtures: Path, size: int | None) -> None:
    docs = mini_docs(fixtures)[:size]
    reference = make_vectorizer(len(docs))
    expected = sp.csr_matrix(reference.fit_transform(docs))
    ours = make_vectorizer(len(docs))
    got = fit_tfidf(ours, docs)
    assert got.dtype == expected.dtype
    # the same entries in the same order: the row norms are summed in that order
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)
    assert ours.vocabulary_ == reference.vocabulary_
    assert np.array_equal(ours.idf_, reference.idf_)
    # fitted as scikit-learn leaves it: it places other days' papers the same way
    others = [clean_text("Robot grasping policies for medical image segmentation"), docs[0]]
    assert np.array_equal(ours.transform(others).toarray(), reference.transform(others).toarray())


def test_fit_tfidf_fails_as_fit_transform_does_without_words() -> None:
    docs = ["the of and.\n", "we propose a novel method.\n"]
    with pytest.raises(ValueError):
        make_vectorizer(len(docs)).fit_transform(docs)
    with pytest.raises(ValueError):
        fit_tfidf(make_vectorizer(len(docs)), docs)


def test_fit_tfidf_fails_when_pruning_leaves_no_term() -> None:
    docs = [f"word{chr(97 + i)}x unique{chr(97 + i)}y" for i in range(25)]  # every df is 1
    with pytest.raises(ValueError, match="no terms remain"):
        fit_tfidf(make_vectorizer(len(docs)), docs)


@given(st.text(alphabet=st.sampled_from("ab ée-'.xyz segmentation robots the of "), max_size=80))
def test_tokens_follow_the_rule(text: str) -> None:
    cleaned = clean_text(text)
    expected = tuple(stem(w) for w in _WORD.findall(cleaned) if w not in STOP_WORDS and len(w) > 1)
    assert tokens(cleaned) == expected
