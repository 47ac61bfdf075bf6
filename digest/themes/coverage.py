"""Whether a label describes its theme: which papers of the day use the words of a label.

A label should name what most of its theme's papers share (issue 14): every word of it in the
title or abstract of at least ``COVERAGE`` of the theme's papers, and that share well above the
day's (its lift), so it names what sets the theme apart. :class:`Presence` answers both for any
phrase; :func:`label_key` tells near-duplicate labels apart. Rules and figures: docs/themes.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from digest.themes.text import distinct_tokens, tokens

# a label should describe most of its theme: every word of it in the title or abstract of at
# least this share of the theme's papers (words compared as clustering tokens, stemmed)
COVERAGE = 0.5
# near-duplicate labels: the same words by their first PREFIX letters (truncation stemming:
# "segmentation"/"segmenting", "robots"/"robotic"), as ../shared/tools/label_coverage.py compares
PREFIX = 5
_ALNUM = re.compile(r"[a-z0-9]+")


# an acronym defined in the text: the words before "(LLMs)" whose initials spell it
_BRACKETED = re.compile(r"\(([a-z]{2,8})\)")
_WORDS_BEFORE = 100  # characters before the brackets that can hold the spelled-out words
# words acronyms skip: "reinforcement learning from human feedback (RLHF)"
_UNSPELLED = frozenset(
    ("a", "an", "and", "by", "for", "from", "in", "of", "on", "the", "to", "via", "with")
)
MAX_ACRONYMS = 200  # per day; a day defines a few dozen


# words that name the field's methods, not a topic: a label of these alone names no theme
# ("Deep learning", "Neural networks", "AI", "Algorithms": issue 14's generic labels), and next
# to another label they add no meaning ("Pre-trained models" repeats "Pretraining")
GENERIC = frozenset(
    w[:PREFIX]
    for w in [
        "deep",
        "neural",
        "network",
        "learning",
        "machine",
        "model",
        "ai",
        "artificial",
        "intelligence",
        "algorithm",
        "data",
        "analysis",
        "system",
        "method",
        "technique",
        "application",
        "large",
        "based",
        "dnn",
        "training",
        "feature",
        "dataset",
        "research",
        "development",
        "parameter",
        "real",
    ]
)
# acronyms that need no definition on the day ("LLMs" beside "Language models"); a day's own
# definition ("... (RL)") comes first
KNOWN_ACRONYMS = {
    "llm": ("large", "language", "models"),
    "mllm": ("multimodal", "large", "language", "models"),
    "vlm": ("vision", "language", "models"),
    "lm": ("language", "models"),
    "rag": ("retrieval", "augmented", "generation"),
    "rl": ("reinforcement", "learning"),
    "gnn": ("graph", "neural", "networks"),
    "cnn": ("convolutional", "neural", "networks"),
    "dnn": ("deep", "neural", "networks"),
    "nlp": ("natural", "language", "processing"),
    "asr": ("automatic", "speech", "recognition"),
    "gan": ("generative", "adversarial", "networks"),
}
# a prefix written with or without its hyphen ("pre-training", "pretraining")
_JOINED_PREFIX = re.compile(r"\b(pre|re|co|non|fine|semi|post|un)-(?=[a-z])")


def label_key(label: str) -> str:
    """Labels with the same key are near-duplicates ("Language model", "Language models",
    "Models and language"): their content words, compared by prefix, as a set."""
    return " ".join(sorted(label_words(label).words))


@dataclass(frozen=True)
class LabelWords:
    """A label's content words by their first PREFIX letters, an acronym read as its words
    ("LLMs and language": large, langu, model); ``spelled`` are those only an acronym gave
    ("large"). ``topical`` and ``spelled_topical``: the same without GENERIC words."""

    words: frozenset[str]
    spelled: frozenset[str]

    @property
    def topical(self) -> frozenset[str]:
        return self.words - GENERIC

    @property
    def spelled_topical(self) -> frozenset[str]:
        return self.spelled - GENERIC


def label_words(label: str, acronyms: dict[str, tuple[str, ...]] | None = None) -> LabelWords:
    literal: set[str] = set()
    spelled: set[str] = set()
    for word in _ALNUM.findall(_JOINED_PREFIX.sub(r"\1", label.lower())):
        if word == "and":
            continue
        short = _singular(word)
        expansion = (acronyms or {}).get(short) or KNOWN_ACRONYMS.get(short)
        if expansion:
            words = _ALNUM.findall(" ".join(expansion))
            spelled.update(w[:PREFIX] for w in words if w not in _UNSPELLED)
        else:
            literal.add(word[:PREFIX])
    return LabelWords(frozenset(literal | spelled), frozenset(spelled - literal))


def is_generic(label: LabelWords) -> bool:
    """Whether the label is only words that name the field's methods ("Deep neural networks",
    "AI", "DNNs"), so it says nothing of what its theme's papers share."""
    return bool(label.words) and not label.topical


def near_duplicate(label: LabelWords, given: Sequence[LabelWords]) -> bool:
    """Whether a label repeats one already given: the same words ("Language model",
    "Models and language"), or the other's words and only words an acronym of its own
    added ("LLMs and language" after "Language models": the acronym brings "large", which
    writers leave out). "Multimodal LLMs" is not a repeat of "Language models": "multimodal"
    is a word of its own. Without an acronym a longer label is a narrower topic ("Video
    diffusion models" beside "Diffusion models"): rejecting every label whose words hold
    another's lowered label coverage on the tune mixtures from 0.67 to 0.65. Words that name
    the field's methods (GENERIC) do not count when both labels have others ("Pretraining",
    "Pre-trained models"; "Reasoning", "Reasoning models")."""
    for other in given:
        if label.topical and other.topical:
            mine, theirs = label.topical, other.topical
            mine_spelled, theirs_spelled = label.spelled_topical, other.spelled_topical
        else:
            mine, theirs = label.words, other.words
            mine_spelled, theirs_spelled = label.spelled, other.spelled
        if mine == theirs:
            return True
        if theirs < mine and mine - theirs <= mine_spelled:
            return True
        if mine < theirs and theirs - mine <= theirs_spelled:
            return True
    return False


def acronyms(texts: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Acronyms the day's cleaned (lower-cased) texts define, singular, to their words:
    "large language models (llms)" gives llm -> (large, language, models); the words are
    the last ones before the brackets whose initials (hyphenated parts count: "retrieval-
    augmented generation (rag)") spell the acronym."""
    found: dict[str, tuple[str, ...]] = {}
    for text in texts:
        if "(" not in text:
            continue
        for match in _BRACKETED.finditer(text):
            short = _singular(match.group(1))
            if short in found:
                continue
            before = text[max(0, match.start() - _WORDS_BEFORE) : match.start()]
            words = [w for w in re.split(r"[^a-z-]+", before.split(".")[-1]) if w]
            expansion = _spelling(words, short)
            if expansion is not None:
                found[short] = expansion
                if len(found) >= MAX_ACRONYMS:
                    return found
    return found


def _spelling(words: list[str], short: str) -> tuple[str, ...] | None:
    """The shortest tail of ``words`` whose initials (of each hyphenated part) spell
    ``short``, else None."""
    for start in range(len(words) - 1, -1, -1):
        tail = words[start:]
        initials = "".join(
            part[0] for w in tail if w not in _UNSPELLED for part in w.split("-") if part
        )
        if initials == short:
            return tuple(tail)
        if len(initials) > len(short):
            return None
    return None


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 2 and word.endswith("s") else word


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

    def day_share(self, group: int) -> float:
        """The share of the day's papers in the group."""
        return int(self._sizes[group]) / max(len(self._groups), 1)

    def lift(self, phrase: str, group: int) -> float:
        """Its coverage of the group over its coverage of the day."""
        _, in_day = self._count(phrase)
        day = in_day / max(len(self._groups), 1)
        return self.coverage(phrase, group) / day if day else 0.0
