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

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from digest.context import CONTEXT, WORD_TOKENS, WORDS_SIZE

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
    if not word.endswith(_SUFFIXES):  # most words: one test in C instead of sixteen
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _token(word: str) -> str:
    """The token of one word: "" for a stop-word or a single letter, else its stem."""
    return "" if word in STOP_WORDS or len(word) <= 1 else stem(word)


def tokens(cleaned: str) -> tuple[str, ...]:
    """Tokenizer for the clustering vectorizer (and every stage that compares text):
    content words of a cleaned text, stemmed, in order."""
    return CONTEXT.tokens_of_doc(cleaned, _make_tokens)[0]


def distinct_tokens(cleaned: str) -> frozenset[str]:
    """The distinct tokens of a cleaned text, for document frequencies."""
    return CONTEXT.tokens_of_doc(cleaned, _make_tokens)[1]


def _make_tokens(cleaned: str) -> tuple[str, ...]:
    words = _words(cleaned)
    if WORD_TOKENS not in CONTEXT.enabled:
        return tuple(filter(None, map(_token, words)))
    known = CONTEXT.word_tokens
    found = list(map(known.get, words))  # in C; a Python loop over the words cost 2x
    if None in found:  # words met for the first time
        if len(known) >= WORDS_SIZE:
            known.clear()
        for i, tok in enumerate(found):
            if tok is None:
                found[i] = known[words[i]] = _token(words[i])
    return tuple(filter(None, found))


def _words(cleaned: str) -> list[str]:
    """The words of ``_WORD`` (plus single letters when ``cleaned`` is ASCII)."""
    if cleaned.isascii():
        return cleaned.translate(_ASCII_NON_LETTERS).split()
    return _WORD.findall(cleaned)
