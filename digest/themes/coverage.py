"""Whether a label describes its theme: which papers of the day use the words of a label.

A label should name what most of its theme's papers share (issue 14): every word of it in the
title or abstract of at least ``COVERAGE`` of the theme's papers, and that share well above the
day's (its lift), so it names what sets the theme apart. :class:`Presence` answers both for any
phrase; :func:`label_key` tells near-duplicate labels apart. Rules and figures: docs/themes.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from digest.themes.text import distinct_tokens, tokens

# a label should describe most of its theme: every word of it in the title or abstract of at
# least this share of the theme's papers (words compared as clustering tokens, stemmed)
COVERAGE = 0.5
# near-duplicate labels: the same words by their first PREFIX letters (truncation stemming:
# "segmentation"/"segmenting", "robots"/"robotic"), as ../shared/tools/label_coverage.py compares
PREFIX = 5
_ALNUM = re.compile(r"[a-z0-9]+")


def label_key(label: str) -> str:
    """Labels with the same key are near-duplicates ("Language model", "Language models",
    "Models and language"): their content words, compared by prefix, as a set."""
    return " ".join(sorted({w[:PREFIX] for w in _ALNUM.findall(label.lower()) if w != "and"}))


class Presence:
    """Which papers of the day use which words: for the share of a group's papers using every
    word of a label (its coverage) and how far that share exceeds the day's (its lift). Words
    are compared as clustering tokens (stemmed: "robots" and "robot" are one); a word
    clustering drops (a stop-word) is not required. The day's papers are indexed by token,
    so a label's papers are one intersection of a few sorted arrays."""

    def __init__(self, docs: Sequence[str], groups: Sequence[int], n_groups: int) -> None:
        rows: dict[str, list[int]] = {}
        for row, doc in enumerate(docs):
            for token in distinct_tokens(doc):
                rows.setdefault(token, []).append(row)
        self._rows = {token: np.array(found) for token, found in rows.items()}
        self._groups = np.asarray(groups, dtype=np.int64)
        self._n_groups = n_groups
        self._sizes = np.bincount(self._groups[self._groups >= 0], minlength=n_groups)
        self._counts: dict[frozenset[str], tuple[np.ndarray, int]] = {}

    def _count(self, phrase: str) -> tuple[np.ndarray, int]:
        """Papers using every word of ``phrase``: how many in each group, and in the day."""
        words = [w for w in phrase.lower().split() if w != "and"]
        key = frozenset(tokens(" ".join(words)))
        found = self._counts.get(key)
        if found is None:
            rows = np.arange(len(self._groups))
            for token in key:
                rows = np.intersect1d(rows, self._rows.get(token, rows[:0]), assume_unique=True)
            in_groups = self._groups[rows]
            per_group = np.bincount(in_groups[in_groups >= 0], minlength=self._n_groups)
            found = self._counts[key] = (per_group, len(rows))
        return found

    def coverage(self, phrase: str, group: int) -> float:
        """The share of the group's papers whose title or abstract uses every word of it."""
        per_group, _ = self._count(phrase)
        return float(per_group[group]) / max(int(self._sizes[group]), 1)

    def lift(self, phrase: str, group: int) -> float:
        """Its coverage of the group over its coverage of the day."""
        _, in_day = self._count(phrase)
        day = in_day / max(len(self._groups), 1)
        return self.coverage(phrase, group) / day if day else 0.0
