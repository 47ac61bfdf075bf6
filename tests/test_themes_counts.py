"""Themes' TF-IDF is scikit-learn's TfidfVectorizer, with the day's IDF blended over the
background by its public ``idf_``; tokens and cleaned text follow the rules docs/themes.md
states (spelled out here as the reference)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.config import ThemesConfig
from digest.models import Paper
from digest.themes import document
from digest.themes.background import blended_idf, load_model
from digest.themes.cluster import NO_GROUP, group_documents, make_vectorizer
from digest.themes.text import STOP_WORDS, clean_text, stem, tokens

# the rules, as docs/themes.md states them
WORD = re.compile(r"[^\W\d_][^\W\d_'\-]*[^\W\d_]")  # letters, inner hyphens/apostrophes
URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
LATEX_MATH = re.compile(r"\$[^$]{0,200}\$|\\\(.{0,200}?\\\)|\\\[.{0,200}?\\\]")
LATEX_CMD = re.compile(r"\\[a-zA-Z]+\*?(\[[^\]]*\])?")


def mini_docs(fixtures: Path) -> list[str]:
    rows = [json.loads(line) for line in (fixtures / "themes-mini.jsonl").read_text().splitlines()]
    return [document(Paper(id=r["id"], title=r["title"], abstract=r["summary"])) for r in rows]


@pytest.mark.parametrize("background", [0, 5])
def test_the_day_is_weighted_by_tfidfvectorizer_with_the_blended_idf(
    fixtures: Path, background: int
) -> None:
    docs = mini_docs(fixtures)
    store = docs[:background]
    result = group_documents(docs, ThemesConfig(), store)
    assert result.projector is not None
    fitted = result.projector.vectorizer
    reference = make_vectorizer(len(docs)).fit(docs)
    terms = reference.get_feature_names_out().tolist()
    day_df = reference.transform(docs).getnnz(axis=0)
    idf = blended_idf(terms, day_df, len(docs), store, load_model(), ThemesConfig().prior_papers)
    assert fitted.vocabulary_ == reference.vocabulary_
    assert np.allclose(fitted.idf_, idf, rtol=1e-6)
    # the day's own vectors are what the fitted vectorizer gives it (the rescaled rows)
    again, has_words = result.projector.vectors(docs)
    assert has_words.all()
    assert np.allclose(again, result.vectors, atol=1e-4)


def test_a_day_without_a_usable_word_has_no_groups() -> None:
    docs = ["the of and.\n", "we propose a novel method.\n"]
    with pytest.raises(ValueError):
        make_vectorizer(len(docs)).fit_transform(docs)
    result = group_documents(docs, ThemesConfig())
    assert result.groups.tolist() == [NO_GROUP, NO_GROUP] and result.projector is None


def test_a_day_whose_words_pruning_removes_has_no_groups() -> None:
    docs = [f"word{chr(97 + i)}x unique{chr(97 + i)}y" for i in range(25)]  # every df is 1
    result = group_documents(docs, ThemesConfig())
    assert (result.groups == NO_GROUP).all() and result.projector is None


@given(st.text(alphabet=st.sampled_from("ab ée-'.xyz segmentation robots the of "), max_size=80))
def test_tokens_follow_the_rule(text: str) -> None:
    cleaned = clean_text(text)
    expected = tuple(stem(w) for w in WORD.findall(cleaned) if w not in STOP_WORDS and len(w) > 1)
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
    expected = LATEX_CMD.sub(" ", LATEX_MATH.sub(" ", URL.sub(" ", text)))
    expected = expected.replace("{", " ").replace("}", " ")
    assert clean_text(text) == clean_text_reference_tail(expected)


def clean_text_reference_tail(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()
