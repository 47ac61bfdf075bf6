"""Phrases of titles and abstracts for labels, and how the titles write them.

A phrase is a run of content words that never spans a stop-word, a digit or punctuation
("learning for robots" never gives "learning robots"); :func:`headness` tells how often a
word ends such a run (English noun phrases are head-final); :func:`cased` writes a phrase as
the titles most often write it, sentence-cased with acronyms kept. Used by ``labels.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import chain

from digest.themes.text import STOP_WORDS

_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|[^\w\s]+|\d+")
_WORDLIKE = re.compile(r"[^\W\d_]")


def _label_cuts() -> dict[int, str]:
    """ASCII text -> words and cuts for :func:`runs`: letters and hyphens stay, whitespace and
    the underscore (which no token holds) become spaces, digits and other punctuation a "|"
    (any non-word token cuts a run, and several in a row cut once)."""
    table: dict[int, str] = {}
    for c in map(chr, range(128)):
        if c == "-" or (c.isalpha() and _TOKEN.fullmatch(c)):
            continue
        table[ord(c)] = "|" if _TOKEN.fullmatch(c) else " "
    return table


_LABEL_CUTS = str.maketrans(_label_cuts())  # one character for one: str.translate's fast path


def runs(cleaned: str) -> list[list[str]]:
    """Maximal runs of content words, cut at stop-words, digits and punctuation."""
    return [list(run) for run in run_tuple(cleaned)]


def _split_runs(cleaned: str) -> list[tuple[str, ...]]:
    if cleaned.isascii():
        # the tokens of _TOKEN without a regex, in half the time: after the cuts, a
        # hyphen that does not join two letters ("--", at either end of a word) cuts too
        text = f" {cleaned.translate(_LABEL_CUTS)} ".replace("|", " | ")
        if "-" in text:
            text = text.replace("--", " | ").replace("- ", " | ").replace(" -", " | ")
        found = text.split()
        wordlike = True  # every token is a word or the cut "|", which is one character
    else:
        found = _TOKEN.findall(cleaned)
        wordlike = False
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    for tok in found:
        if len(tok) > 1 and tok not in STOP_WORDS and (wordlike or _WORDLIKE.match(tok)):
            run.append(tok)
        elif run:
            out.append(tuple(run))
            run = []
    if run:
        out.append(tuple(run))
    return out


def phrases(cleaned: str, longest: int) -> list[str]:
    """Runs of up to ``longest`` content words (see :func:`runs`), every position."""
    return list(phrase_tuple(cleaned, longest))


def phrase_tuple(cleaned: str, longest: int) -> tuple[str, ...]:
    return phrases_of(run_tuple(cleaned), longest)


def phrases_of(found_runs: Sequence[Sequence[str]], longest: int) -> tuple[str, ...]:
    """The phrases of :func:`phrase_tuple` from runs already found."""
    out: list[str] = []
    join = " ".join
    for run in found_runs:
        out.extend(run)
        if len(run) > 1 and longest > 1:  # most runs are a word or two
            out.extend(map(join, zip(run, run[1:], strict=False)))
            for size in range(3, min(longest, len(run)) + 1):
                out.extend(map(join, zip(*(run[i:] for i in range(size)), strict=False)))
    return tuple(out)


def run_tuple(cleaned: str) -> tuple[tuple[str, ...], ...]:
    return tuple(_split_runs(cleaned))


def headness(title_runs: Sequence[Sequence[str]]) -> dict[str, float]:
    """How often each word ends a run of title words, smoothed: English noun phrases end on
    their noun ("medical image *segmentation*"), so adjectives and verbs that lead into one
    ("deep", "self-supervised", "targeting") score low and nouns high."""
    ends = Counter(run[-1] for run in title_runs)
    seen = Counter(chain.from_iterable(title_runs))
    return {w: (ends[w] + 0.5) / (seen[w] + 1.0) for w in seen}


def cased(phrase: str, titles: Sequence[str]) -> str:
    """``phrase`` as the titles most often write it, sentence-cased: acronyms ("LLM", "3D",
    "DiT") kept, every other word or hyphenated part lower-case ("LLM-based")."""
    words = phrase.split(" ")
    if "and" in words:
        found = " and ".join(_as_in_titles(w, titles) for w in words if w != "and")
    else:
        found = _as_in_titles(phrase, titles)
    out = [_case_word(w) for w in found.split(" ")]
    if not _is_acronym(out[0]):
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def _as_in_titles(phrase: str, titles: Sequence[str]) -> str:
    """The commonest spelling of ``phrase`` in ``titles`` (ties: the least capitalized)."""
    pattern = re.compile(
        r"(?<!\w)" + r"[\s\-]+".join(map(re.escape, phrase.split(" "))) + r"(?!\w)", re.I
    )
    forms = Counter(re.sub(r"\s+", " ", m.group(0)) for t in titles for m in pattern.finditer(t))
    if not forms:
        return phrase
    return min(forms, key=lambda f: (-forms[f], sum(c.isupper() for c in f), f))


def _case_word(word: str) -> str:
    return "-".join(part if _is_acronym(part) else part.lower() for part in word.split("-"))


def _is_acronym(word: str) -> bool:
    # "LLMs", "3D", "GPT-4o", "DiT": a capital after the first letter, or a digit
    return any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)
