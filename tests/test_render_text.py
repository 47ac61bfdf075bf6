"""Summaries, author lists, dates and wrapping shared by every output."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.render.text import (
    _ABBREVIATION,
    _SENTENCE_END,
    first_sentences,
    long_date,
    rfc822,
    short_authors,
    shorten,
    wrap,
)


def test_first_sentences_counts_sentences() -> None:
    text = "We propose X. It beats Y by 3 points. Code is public."
    assert first_sentences(text, 1) == "We propose X."
    assert first_sentences(text, 2) == "We propose X. It beats Y by 3 points."
    assert first_sentences(text, 5) == text


def test_first_sentences_skips_abbreviations() -> None:
    text = "Prior work, e.g. Smith et al. (2020), uses Fig. 3 and Eq. 2. We differ. Third one."
    assert (
        first_sentences(text, 1) == "Prior work, e.g. Smith et al. (2020), uses Fig. 3 and Eq. 2."
    )
    assert first_sentences(text, 2).endswith("We differ.")


def test_first_sentences_keeps_decimals_and_lowercase_continuations() -> None:
    text = "Accuracy rises from 71.5 to 80.2 percent. see the appendix. Next."
    assert first_sentences(text, 1) == "Accuracy rises from 71.5 to 80.2 percent. see the appendix."


def test_first_sentences_cuts_a_run_on_sentence_at_a_word() -> None:
    text = "word " * 200
    out = first_sentences(text, 2, max_chars=100)
    assert len(out) <= 100
    assert out.endswith("word…")


def _first_sentences_reference(text: str, count: int) -> str:
    """first_sentences as first written: each whole candidate sentence searched for an
    abbreviation at its end."""
    text = text.strip()
    if not text:
        return ""
    sentences: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[start : m.start()]
        if _ABBREVIATION.search(candidate):
            continue
        sentences.append(candidate)
        start = m.end()
        if len(sentences) == count:
            break
    else:
        sentences.append(text[start:])
    return shorten(" ".join(sentences[:count]), 10_000)


_SENTENCE_ATOMS = st.sampled_from(
    ["e.g.", "i.e.", "et al.", "al.", "Fig.", "Figs.", "approx.", "xapprox.", "viz.", "No.",
     "We", "we", "A", "1", "(", "[", "\"", "“", ".", "!", "?", " ", "  ", "\n", "é", "word"]
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(_SENTENCE_ATOMS, max_size=40).map("".join) | st.text(max_size=200),
       st.integers(1, 4))  # fmt: skip
def test_first_sentences_looks_for_abbreviations_only_at_the_end(text: str, count: int) -> None:
    assert first_sentences(text, count, max_chars=10_000) == _first_sentences_reference(text, count)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600), st.integers(1, 4), st.integers(20, 400))
def test_shorten_never_exceeds_the_limit(text: str, count: int, limit: int) -> None:
    assert len(first_sentences(text, count, max_chars=limit)) <= limit
    assert len(shorten(text, limit)) <= limit


def test_short_authors() -> None:
    assert short_authors([]) == ""
    assert short_authors(["Ada Lovelace"]) == "Ada Lovelace"
    assert short_authors(["A", "B"]) == "A and B"
    assert short_authors(["A", "B", "C"]) == "A, B and C"
    assert short_authors(["A", "B", "C", "D"]) == "A, B, C and 1 other"
    assert short_authors(["A", " ", "B", "C", "D", "E"]) == "A, B, C and 2 others"


def test_dates() -> None:
    assert long_date(dt.date(2025, 3, 3)) == "3 Mar 2025"
    moment = dt.datetime(2025, 3, 13, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert rfc822(moment) == "Thu, 13 Mar 2025 07:30:00 GMT"
    assert email.utils.parsedate_to_datetime(rfc822(moment)) == moment
    assert rfc822(dt.datetime(2025, 3, 13, 7, 30)) == "Thu, 13 Mar 2025 07:30:00 GMT"


def test_wrap_never_breaks_urls() -> None:
    url = "https://example.org/" + "a" * 80
    out = wrap(f"see {url} for the code of this rather long sentence", 72, "  ", "* ")
    lines = out.splitlines()
    assert lines[0] == "* see"
    assert lines[1] == "  " + url
    assert all(len(line) <= 72 for line in lines if url not in line)


_WRAP_ATOMS = st.sampled_from(
    ["a", "word", "wörd", "x" * 30, "https://example.org/" + "p" * 70, "-", "well-known", " ",
     "  ", "\t", "\n", "\r", "\x0b", "\xa0", "\u2009", ".", "[12]", "é"]
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(
    st.lists(_WRAP_ATOMS, max_size=60).map("".join)
    | st.lists(_WRAP_ATOMS.filter(str.strip), max_size=40).map(" ".join)  # the plain text path
    | st.text(max_size=200),
    st.integers(1, 90),
    st.sampled_from(["", " ", "  ", "    "]),
    st.sampled_from([None, "", "* ", "    - "]),
)
def test_wrap_keeps_every_word_and_respects_the_width(
    text: str, width: int, indent: str, first: str | None
) -> None:
    out = wrap(text, width, indent, first)
    kept: list[str] = []
    for n, line in enumerate(out.split("\n") if out else []):
        prefix = (indent if first is None else first) if n == 0 else indent
        assert line.startswith(prefix), (line, prefix)
        rest = line[len(prefix) :]
        # within the width, or a lone word too long for any line (a URL) after the prefix
        assert len(line) <= width or " " not in rest.strip(" "), line
        kept += rest.split(" ")
    # the words of the text, in order: split at the ASCII whitespace textwrap breaks at (a
    # no-break or thin space joins its words; alone, it is blank, no word)
    expected = text.translate(str.maketrans("\t\n\x0b\x0c\r", "     ")).split(" ")
    assert [w for w in kept if w.strip()] == [w for w in expected if w.strip()]
