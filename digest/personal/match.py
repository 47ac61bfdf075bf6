"""Keywords, excluded terms and categories matched against a day's papers.

A phrase matches as a token sequence (the themes tokenizer and stemmer: "auctions" meets
"auction") or as plain text at the start of a word ("robot" meets "robotics"). A phrase
with LaTeX (``$`` or ``\\``) matches only as written: cleaning would leave "stable" of
"$\\alpha$-stable". User text is escaped, never used as a pattern, so regex metacharacters
("C++", "(a|b") are plain characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

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
        if not phrases:
            return [[] for _ in self.joined]
        found = [(ph, self.papers_matching(ph)) for ph in phrases]
        return [[ph for ph, hits in found if i in hits] for i in range(len(self.joined))]

    def papers_matching(self, phrase: str) -> frozenset[int]:
        """Indexes of the papers that contain ``phrase`` (found once per day)."""
        hits = self._found.get(phrase)
        if hits is None:
            _, seq, pattern = _compile(phrase)
            raw = phrase.casefold()
            hits = frozenset(
                i
                for i, (joined, plain) in enumerate(zip(self.joined, self.plain, strict=True))
                # the substring test first: the pattern only confirms the word start
                if (seq and seq in joined) or (raw in plain and pattern.search(plain))
            )
            self._found[phrase] = hits
        return hits

    def in_categories(self, categories: Sequence[str]) -> np.ndarray:
        """True for each paper listed in any of ``categories``."""
        wanted = {c.lower() for c in categories}
        return np.array([bool(wanted & cats) for cats in self.categories], dtype=bool)


def _compile(phrase: str) -> tuple[str, str | None, re.Pattern[str]]:
    from digest.themes.text import clean_text, tokens

    words = () if ("$" in phrase or "\\" in phrase) else tokens(clean_text(phrase))
    seq = " " + " ".join(words) + " " if words else None
    return phrase, seq, re.compile(r"(?<!\w)" + re.escape(phrase.casefold()))
