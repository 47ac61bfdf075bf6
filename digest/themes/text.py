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
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import repeat

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Inline math, LaTeX commands and their braces, URLs, e-mail addresses, numbers with units.
_LATEX_MATH = re.compile(r"\$[^$]{0,200}\$|\\\(.{0,200}?\\\)|\\\[.{0,200}?\\\]")
_LATEX_CMD = re.compile(r"\\[a-zA-Z]+\*?(\[[^\]]*\])?")
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
_WEB_ADDRESS = re.compile(r"https?://\S+|www\.\S+")  # _URL without its e-mail branch
_WORD = re.compile(r"[^\W\d_][^\W\d_'\-]*[^\W\d_]")
# the same words in ASCII text (99.9% of arXiv documents once cleaned), found without a regex
# in a fifth of the time: every ASCII character but a-z, A-Z made a space, then split (which
# also yields single letters: the tokenizer drops them as it drops stop-words)
_ASCII_NON_LETTERS = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not ("a" <= c.lower() <= "z")}
)

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
    if "@" in text:
        text = _URL.sub(" ", text)
    elif "://" in text or "www." in text:  # what a web address starts with
        text = _WEB_ADDRESS.sub(" ", text)
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
    """Tokenizer for the clustering vectorizer: content words, stemmed. Read from the token
    ids, which the day's clustering has usually found already (trending asks again for the
    same papers on the following days)."""
    return tuple(map(TERMS.__getitem__, token_ids(cleaned).tolist()))


def _words(cleaned: str) -> list[str]:
    """The words of ``_WORD`` (plus single letters when ``cleaned`` is ASCII)."""
    if cleaned.isascii():
        return cleaned.translate(_ASCII_NON_LETTERS).split()
    return _WORD.findall(cleaned)


# The same tokens as numbers: ids in one vocabulary that grows as words are met, so a day's
# count matrix and its background's document frequencies are built from arrays kept per
# document (concatenated and counted in numpy) rather than from every token as a string.
TERMS: list[str] = []  # id -> token
_TERM_ID: dict[str, int] = {}  # token -> id
# OrderedDicts: they drop their oldest entry at once (see digest.themes._DOCUMENTS)
_DOC_IDS: OrderedDict[str, np.ndarray] = OrderedDict()  # cleaned document -> ids, in order
_DOC_DISTINCT: OrderedDict[str, np.ndarray] = OrderedDict()  # ... -> ids of distinct tokens
_DOC_CACHE_SIZE = 8192  # a week of background (1,000 papers) and its days, several times over
_TERMS_SIZE = 500_000  # a scheduler running for years starts the ids afresh


class _WordId(dict[str, int]):
    """Word -> id of its token, or -1 for a stop-word or a single letter (see _TokenOf)."""

    def __missing__(self, word: str) -> int:
        token = _TOKEN_OF[word]
        if not token:
            found = -1
        else:
            found = _TERM_ID.get(token, -1)
            if found < 0:
                found = _TERM_ID[token] = len(TERMS)
                TERMS.append(token)
        if len(self) >= _TOKEN_OF_SIZE:
            self.clear()  # only the shortcut: the ids themselves stay
        self[word] = found
        return found


_WORD_ID = _WordId()


def renew_term_ids() -> None:
    """Start the ids afresh once the vocabulary is very large. Call it only between days:
    ids handed out before are then meaningless."""
    if len(TERMS) > _TERMS_SIZE:
        forget_token_ids()


def forget_token_ids() -> None:
    """Empty the vocabulary and every document's kept ids (benchmarks time a cold start)."""
    TERMS.clear()
    _TERM_ID.clear()
    _WORD_ID.clear()
    _DOC_IDS.clear()
    _DOC_DISTINCT.clear()


def term_ids(terms: Iterable[str]) -> np.ndarray:
    """The id of each token in ``terms``, -1 for one not met yet."""
    return np.fromiter(map(_TERM_ID.get, terms, repeat(-1)), dtype=np.int64)


def token_ids(cleaned: str) -> np.ndarray:
    """Ids (see ``TERMS``) of ``tokens(cleaned)``, in order; kept per document."""
    found = _DOC_IDS.get(cleaned)
    if found is None:
        words = _words(cleaned)
        ids = np.fromiter(map(_WORD_ID.__getitem__, words), dtype=np.int64, count=len(words))
        found = ids[ids >= 0]
        _keep(_DOC_IDS, cleaned, found)
    return found


def distinct_token_ids(cleaned: str) -> np.ndarray:
    """Ids of the distinct tokens of ``cleaned`` (for document frequencies); kept per document."""
    found = _DOC_DISTINCT.get(cleaned)
    if found is None:
        found = np.unique(token_ids(cleaned))
        _keep(_DOC_DISTINCT, cleaned, found)
    return found


def keep_distinct_token_ids(docs: Sequence[str], ids: np.ndarray, indptr: np.ndarray) -> None:
    """Keep the distinct token ids of each of ``docs`` as a count matrix of them holds them
    (document i's are ``ids[indptr[i]:indptr[i + 1]]``): today's papers are tomorrow's
    background, and this spares sorting each one's ids again."""
    bounds = indptr.tolist()
    for doc, start, end in zip(docs, bounds, bounds[1:], strict=False):
        if doc not in _DOC_DISTINCT:
            _keep(_DOC_DISTINCT, doc, ids[start:end].copy())


def _keep(cache: OrderedDict[str, np.ndarray], key: str, value: np.ndarray) -> None:
    if len(cache) >= _DOC_CACHE_SIZE:
        cache.popitem(last=False)  # the oldest: documents come back for a week, then not
    cache[key] = value


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def clean_cached(text: str) -> str:
    """:func:`clean_text` for texts that recur across days (background papers)."""
    return clean_text(text)


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def distinct_tokens(cleaned: str) -> frozenset[str]:
    """The distinct tokens of a text, for document frequencies of background papers."""
    return frozenset(tokens(cleaned))
