"""Themes' shortcuts give what the plain rules would: token counts as scikit-learn's vectorizer
makes them (bit for bit), tokens and cleaned text as the rules in digest/themes/text.py say."""

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
from digest.themes.text import (
    _LATEX_CMD,
    _LATEX_MATH,
    _URL,
    _WORD,
    STOP_WORDS,
    clean_text,
    stem,
    tokens,
)


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
    assert list(ours.vocabulary_) == list(reference.get_feature_names_out())  # in column order
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


@given(
    st.lists(
        st.sampled_from(
            [
                "a@b.org",
                "x@y",
                "$x^2$",
                "$",
                "\\(a\\)",
                "\\emph{Deep}",
                "\\cite[p]{k}",
                "{",
                "}",
                "https://x.io/a",
                "www.a.b",
                "Ünïcode",
                "robots",
                " ",
                "\\",
                "@",
                "(",
                ")",
            ]
        ),
        max_size=20,
    ).map("".join)
)
def test_cleaning_skips_only_patterns_that_cannot_match(text: str) -> None:
    expected = _LATEX_CMD.sub(" ", _LATEX_MATH.sub(" ", _URL.sub(" ", text)))
    expected = expected.replace("{", " ").replace("}", " ")
    assert clean_text(text) == clean_text_reference_tail(expected)


def clean_text_reference_tail(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()
