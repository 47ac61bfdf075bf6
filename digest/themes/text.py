"""Text preparation shared by clustering and labelling: cleaning, tokens, stop-words, stems.

The tokenizer keeps words of Unicode letters (so non-English abstracts still give tokens),
drops English and domain stop-words ("propose", "paper", "results"…) *before* stemming, then
applies a light suffix stemmer so "segmentation"/"segment" and "robots"/"robot" meet.
No stemming library is a dependency; the stemmer only has to merge variants, not be a
linguistic stemmer, and its output is never shown (labels use the original words).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Inline math, LaTeX commands and their braces, URLs, e-mail addresses, numbers with units.
_LATEX_MATH = re.compile(r"\$[^$]{0,200}\$|\\\(.{0,200}?\\\)|\\\[.{0,200}?\\\]")
_LATEX_CMD = re.compile(r"\\[a-zA-Z]+\*?(\[[^\]]*\])?")
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
_WEB_ADDRESS = re.compile(r"https?://\S+|www\.\S+")  # _URL without its e-mail branch
_WORD = re.compile(r"[^\W\d_][^\W\d_'\-]*[^\W\d_]")
# the same words in ASCII text (its letters are a-z, A-Z), which the regex engine scans in half
# the time; 99.9% of arXiv documents are ASCII once cleaned
_ASCII_WORD = re.compile(r"[a-zA-Z]{2,}")

# Words of the genre rather than the topic: they occur in every field's abstracts.
_DOMAIN_STOP_TEXT = """
    paper papers propose proposed proposes proposing present presents presented introduce
    introduces introduced approach approaches method methods methodology result results show shows
    shown showing demonstrate demonstrates demonstrated experiment experiments experimental
    evaluate evaluated evaluation evaluations novel new existing state art performance perform
    performs based using use used uses utilize utilizing framework frameworks study studies work
    works achieve achieves achieved achieving significantly significant outperform outperforms
    outperforming improve improves improved improving improvement improvements furthermore
    additionally moreover however extensive extensively challenge challenges challenging problem
    problems address addresses addressing also able can may might specifically effective
    effectively efficient efficiently efficiency effectiveness key important critical crucial
    various different multiple several across within without enable enables enabling provide
    provides providing including include includes well remain remains limited limitation
    limitations high low large small better best first second two three one recent recently
    current currently leverage leverages leveraging make makes made often typically generally
    overall respectively compared compare comparison comparable whereas thus therefore hence
    toward towards via among upon due given despite robust superior consistently substantially
    substantial notably finally code available publicly github com https http www task tasks
    et al ie eg
"""
DOMAIN_STOP_WORDS = frozenset(_DOMAIN_STOP_TEXT.split())
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | DOMAIN_STOP_WORDS

# Longest first; the stem must keep at least 4 letters so short words are left alone.
_SUFFIXES = (
    "izations",
    "ization",
    "ational",
    "ations",
    "ation",
    "ments",
    "ment",
    "izing",
    "ized",
    "izes",
    "ize",
    "ings",
    "ing",
    "ally",
    "ed",
    "ly",
)


def clean_text(text: str) -> str:
    """Lower-cased, accent-stripped text with LaTeX, URLs and numbers removed."""
    # each pattern runs only on texts that can hold a match: the e-mail branch alone tried
    # every word of every abstract, 80% of the cleaning time
    text = (_URL if "@" in text else _WEB_ADDRESS).sub(" ", text)
    if "$" in text or "\\" in text:
        text = _LATEX_MATH.sub(" ", text)
        text = _LATEX_CMD.sub(" ", text)
    text = text.replace("{", " ").replace("}", " ")
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light suffix stripper: plurals and the common derivational endings."""
    if len(word) <= 4 or "-" in word:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


# Consecutive days share most of their background papers (themes.background_days): caching
# each text's tokens makes a background cost a dictionary look-up per paper after day one.
TOKEN_CACHE_SIZE = 4096


class _TokenOf(dict[str, str]):
    """Word -> its token, or "" for a stop-word or a single letter; filled on first sight, so
    a day's words cost one dictionary look-up each (in C) instead of a set test, a length test
    and a cached call (the tokenizer was half the cost of the day's TF-IDF)."""

    def __missing__(self, word: str) -> str:
        if len(self) >= _TOKEN_OF_SIZE:
            self.clear()
        token = "" if word in STOP_WORDS or len(word) <= 1 else stem(word)
        self[word] = token
        return token


_TOKEN_OF_SIZE = 200_000
_TOKEN_OF = _TokenOf()


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def tokens(cleaned: str) -> tuple[str, ...]:
    """Tokenizer for the clustering vectorizer: content words, stemmed."""
    found = (_ASCII_WORD if cleaned.isascii() else _WORD).findall(cleaned)
    return tuple(filter(None, map(_TOKEN_OF.__getitem__, found)))


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def clean_cached(text: str) -> str:
    """:func:`clean_text` for texts that recur across days (background papers)."""
    return clean_text(text)


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def distinct_tokens(cleaned: str) -> frozenset[str]:
    """The distinct tokens of a text, for document frequencies of background papers."""
    return frozenset(tokens(cleaned))
