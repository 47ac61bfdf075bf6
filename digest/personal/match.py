"""Keywords, excluded terms and categories matched against a day's papers.

A phrase matches as a token sequence (the themes tokenizer and stemmer: "auctions" meets
"auction") or as plain text at the start of a word ("robot" meets "robotics"). A phrase
with LaTeX (``$`` or ``\\``) matches only as written: cleaning would leave "stable" of
"$\\alpha$-stable". User text is escaped, never used as a pattern, so regex metacharacters
("C++", "(a|b") are plain characters.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from digest.models import Paper


@dataclass(frozen=True, eq=False)
class DayTexts:
    """A day's papers as matching reads them, made once for every profile."""

    joined: tuple[str, ...]  # " token token ... " of title and abstract
    plain: tuple[str, ...]  # casefolded title and abstract
    categories: tuple[frozenset[str], ...]  # lower-cased
    # phrase -> the papers it matches: ten thousand profiles share their common keywords
    _found: dict[str, frozenset[int]] = field(default_factory=dict, compare=False, repr=False)
    _in_categories: dict[frozenset[str], np.ndarray] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, papers: Sequence[Paper]) -> DayTexts:
        from digest.themes import document
        from digest.themes.text import tokens

        return cls(
            tuple(" " + " ".join(tokens(document(p))) + " " for p in papers),
            tuple(f"{p.title} {p.abstract}".casefold() for p in papers),
            tuple(frozenset(c.lower() for c in p.categories) for p in papers),
        )

    def matches(self, phrases: Sequence[str]) -> list[list[str]]:
        """For each paper, the ``phrases`` it contains."""
        found = self.matches_by_paper(phrases)
        return [found.get(i, []) for i in range(len(self.joined))]

    def matches_by_paper(self, phrases: Sequence[str]) -> dict[int, list[str]]:
        """The ``phrases`` each paper contains, for the papers that contain any (a profile's
        few keywords meet a handful of the day's papers: no per-paper loop)."""
        found: dict[int, list[str]] = {}
        for ph in phrases:
            for i in sorted(self.papers_matching(ph)):
                found.setdefault(i, []).append(ph)
        return found

    def papers_matching(self, phrase: str) -> frozenset[int]:
        """Indexes of the papers that contain ``phrase`` (found once per day)."""
        hits = self._found.get(phrase)
        if hits is None:
            _, seq, pattern_text = _compile(phrase)
            raw = phrase.casefold()
            compiled: list[re.Pattern[str]] = []

            def word_start(i: int) -> bool:
                if not compiled:  # most of a day's distinct keywords never occur at all
                    compiled.append(re.compile(pattern_text))
                return i not in found and bool(compiled[0].search(self.plain[i]))

            # one scan of the whole day per phrase (in C), each paper it lands in confirmed
            # on that paper's own text; the pattern only confirms the word start
            joined, plain = self._day_joined, self._day_plain
            found: set[int] = set()
            if seq:
                found |= _containing(*joined, seq, lambda i: seq in self.joined[i])
            found |= _containing(*plain, raw, word_start)
            hits = self._found[phrase] = frozenset(found)
        return hits

    @cached_property
    def _day_joined(self) -> tuple[str, list[int]]:
        return _concatenated(self.joined)

    @cached_property
    def _day_plain(self) -> tuple[str, list[int]]:
        return _concatenated(self.plain)

    def in_categories(self, categories: Sequence[str]) -> np.ndarray:
        """True for each paper listed in any of ``categories`` (kept per set of categories:
        profiles share them; read-only)."""
        wanted = frozenset(c.lower() for c in categories)
        found = self._in_categories.get(wanted)
        if found is None:
            found = np.array([bool(wanted & cats) for cats in self.categories], dtype=bool)
            found.flags.writeable = False
            self._in_categories[wanted] = found
        return found


def _compile(phrase: str) -> tuple[str, str | None, str]:
    """The phrase, its token sequence, and its word-start pattern (its source: compiled
    only when the phrase occurs at all)."""
    from digest.themes.text import clean_text, tokens

    words = () if ("$" in phrase or "\\" in phrase) else tokens(clean_text(phrase))
    seq = " " + " ".join(words) + " " if words else None
    return phrase, seq, r"(?<!\w)" + re.escape(phrase.casefold())


def _concatenated(texts: Sequence[str]) -> tuple[str, list[int]]:
    """The texts in one string (NUL between them) and where each starts."""
    starts, at = [], 0
    for text in texts:
        starts.append(at)
        at += len(text) + 1
    return "\0".join(texts), starts


def _containing(
    whole: str, starts: list[int], needle: str, confirm: Callable[[int], bool]
) -> set[int]:
    """The texts of ``whole`` in which ``needle`` occurs and ``confirm`` holds. An occurrence
    across a boundary only proposes a text, which ``confirm`` checks on its own."""
    out: set[int] = set()
    pos = whole.find(needle)
    while pos >= 0:
        i = bisect_right(starts, pos) - 1
        if confirm(i):
            out.add(i)
        following = starts[i + 1] if i + 1 < len(starts) else len(whole)
        pos = whole.find(needle, max(pos + 1, following))
    return out
