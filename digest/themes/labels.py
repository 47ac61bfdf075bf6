"""Readable names for groups: top terms by class-based TF-IDF and a 1-4 word label.

Terms: for every group, the counts of its words and two-word phrases (titles count twice,
abstracts by their opening) are summed and weighted by ``log(1 + average count per group /
count over all groups)`` (class-based TF-IDF), so a term ranks high when it is frequent in the
group and rare elsewhere.

Label: among phrases of 2 to 4 words that occur in the group's *titles*, the one whose words
are the group's most characteristic (mean class-based TF-IDF of its words), that the most
titles share, that is used mostly in this group, and that ends on a noun (how often its last
word ends a run of title words: English noun phrases are head-final). Phrases never span a
stop-word or punctuation ("learning for robots" never becomes "learning robots"). The label
keeps the titles' usual casing of acronyms and starts with a capital ("Medical image
segmentation"). The label must describe the group: the best title phrase whose words all
occur in at least half of its papers and set it apart from the day; else such a two-word
phrase of the abstracts' openings; else its most characteristic noun alone ("Robots"); else
the title phrase that describes the most of it. Never a generic label ("Deep learning",
"AI") while another is left, never two words joined by "and". Labels are unique within a day
and never near-duplicates (``coverage.near_duplicate``). docs/themes.md has the rules and the
measured results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import count, repeat

import numpy as np

from digest.themes import REMAINDER_LABEL
from digest.themes.background import load_model
from digest.themes.coverage import (
    COVERAGE,
    LabelWords,
    Presence,
    acronyms,
    is_generic,
    label_words,
    near_duplicate,
)
from digest.themes.phrases import cased, headness, phrases, phrases_of, run_tuple, runs
from digest.themes.text import stem, tokens

__all__ = ["describe", "phrases", "runs"]  # phrases and runs: where callers first found them

TOP_TERMS = 10
ABSTRACT_CHARS = 400
# a label must also set its theme apart: its share of the theme's papers at least LIFT times
# its share of the day's ("Attacks and models" fails on "models")
LIFT = 1.5
# when no phrase covers the theme, its most characteristic noun that does, alone: one of the
# group's SINGLE_WORDS top words, in SINGLE_LIFT times its share of the day's papers, that
# mostly ends the title phrases it is in (a noun: "Robots", not "Neural" or "Gaussian")
SINGLE_WORDS = 60  # 12: tune coverage 0.644 -> 0.584
SINGLE_LIFT = 3.0
SINGLE_HEAD = 0.3
# a two-word phrase of the abstracts' openings can name a group no title phrase describes:
# one of its ABSTRACT_PHRASES top terms
ABSTRACT_PHRASES = 100
# a word alone names nothing when half the arXiv papers use it ("Language", "Models"): its
# rate in the bundled background model; the field's words are barred (coverage.GENERIC), so
# a fifth (0.2) is no longer needed, and 0.3 lost "Images" (tune coverage 0.652 -> 0.609)
COMMON_RATE = 0.5
# a theme holding share s of the day can reach a lift of 1/s at most: it is asked
# min(LIFT, 1 + REACH * (1/s - 1))
REACH = 0.5
# words keep their hyphens here ("pre-trained", "fine-tuning"): a label needs the compound


def describe(
    titles: Sequence[str],
    clean_titles: Sequence[str],
    clean_abstracts: Sequence[str],
    groups: Sequence[int],
    n_groups: int,
    docs: Sequence[str] = (),
) -> list[tuple[str, tuple[str, ...]]]:
    """(label, top terms) for groups 0 .. n_groups-1; labels unique, never the remainder's.
    ``docs`` are the papers' clustering documents (``digest.themes.document``); without them
    each is made from the title and abstract."""
    if n_groups == 0:
        return []
    if not docs:
        docs = [f"{t}.\n{a}" for t, a in zip(clean_titles, clean_abstracts, strict=True)]
    title_runs = [run_tuple(t) for t in clean_titles]
    title_phrases = [phrases_of(runs, 4) for runs in title_runs]
    heads = headness([run for one_title in title_runs for run in one_title])
    # and of words no title uses, how often they end a run of the abstracts' openings
    openings = [run_tuple(a[:ABSTRACT_CHARS]) for a in clean_abstracts]
    any_heads = {**headness([run for runs in openings for run in runs]), **heads}
    # the opening of an abstract states its topic; the rest adds cost more than signal
    abstract_phrases = [phrases_of(runs, 2) for runs in openings]
    # every phrase of paper i: its abstract's (weight 1), then its title's (weight 2: titles
    # count twice); terms are numbered in the order they first appear, as ties are broken so
    flat: list[str] = []
    for t, a in zip(title_phrases, abstract_phrases, strict=True):
        flat.extend(a)
        flat.extend(t)
    if not flat:
        return [(f"Theme {g + 1} papers", ()) for g in range(n_groups)]
    vocab = dict(zip(dict.fromkeys(flat), count()))
    ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
    n = len(clean_titles)
    segments = np.array(
        [(len(a), len(t)) for t, a in zip(title_phrases, abstract_phrases, strict=True)]
    )
    weight = np.repeat(np.tile([1.0, 2.0], n), segments.ravel())
    is_title = weight == 2.0
    group_of = np.repeat(np.asarray(groups, dtype=np.int64), segments.sum(axis=1))
    grouped = (group_of >= 0) & (group_of < n_groups)
    cells = n_groups * len(vocab)
    key = group_of * len(vocab) + ids
    per_group = np.bincount(key[grouped], weight[grouped], minlength=cells)
    per_group = per_group.reshape(n_groups, len(vocab))
    # titles using each term: a (paper, term) pair once, however often the title repeats it
    row_of = np.repeat(np.arange(n), segments.sum(axis=1))
    title_uses = np.unique((row_of * len(vocab) + ids)[is_title & grouped])
    titles_per_group = np.bincount(
        np.asarray(groups, dtype=np.int64)[title_uses // len(vocab)] * len(vocab)
        + title_uses % len(vocab),
        minlength=cells,
    ).astype(np.float64)
    titles_per_group = titles_per_group.reshape(n_groups, len(vocab))
    terms = np.empty(len(vocab), dtype=object)
    terms[:] = list(vocab)  # numbered in insertion order
    total = per_group.sum(axis=0) + 1e-9
    average = per_group.sum() / n_groups
    scores = (
        per_group
        / np.maximum(per_group.sum(axis=1, keepdims=True), 1e-9)
        * np.log1p(average / total)
    )
    lengths = np.fromiter(map(str.count, vocab, repeat(" ")), dtype=np.int64, count=len(vocab)) + 1
    used: set[str] = {REMAINDER_LABEL.casefold()}
    # near-duplicates compare words, an acronym the day defines as its words ("LLMs")
    defined = acronyms([*clean_titles, *clean_abstracts])
    given: list[LabelWords] = []
    titles_of: list[list[str]] = [[] for _ in range(n_groups)]
    for title, group in zip(titles, groups, strict=True):
        if 0 <= group < n_groups:
            titles_of[group].append(title)
    presence = Presence(docs, groups, n_groups)
    out = []
    for g in range(n_groups):
        ranked = _ranked(scores[g])
        top = _top_terms(scores[g], ranked, terms, lengths)
        share = per_group[g] / total  # how much of a term's use is in this group
        label = _label(
            scores[g], ranked, share, titles_per_group[g], terms, lengths, vocab, titles_of[g],
            used, (heads, any_heads), presence, g, lambda label: near_duplicate(label_words(label, defined), given),
            lambda label: is_generic(label_words(label, defined)),
        )  # fmt: skip
        used.add(label.casefold())
        given.append(label_words(label, defined))
        out.append((label, top))
    return out


def _ranked(score: np.ndarray) -> np.ndarray:
    """Indices of the terms scoring above 0, best first, ties in index order: the head of
    ``np.argsort(-score, kind="stable")`` that the terms and the label read (they stop at a
    score of 0), without sorting the many terms a group does not use."""
    used = np.flatnonzero(score > 0)
    return used[np.argsort(-score[used], kind="stable")]


def _top_terms(
    score: np.ndarray, ranked: np.ndarray, terms: np.ndarray, lengths: np.ndarray
) -> tuple[str, ...]:
    chosen: list[str] = []
    covered: set[str] = set()
    for i in ranked:
        if score[i] <= 0 or len(chosen) == TOP_TERMS:
            break
        words = set(terms[i].split())
        if lengths[i] > 2 or words <= covered:  # nothing a reader has not seen in this list
            continue
        chosen.append(str(terms[i]))
        covered |= words
    return tuple(chosen)


def _label(
    score: np.ndarray,
    ranked: np.ndarray,
    share: np.ndarray,
    title_count: np.ndarray,
    terms: np.ndarray,
    lengths: np.ndarray,
    vocab: dict[str, int],
    own_titles: Sequence[str],
    used: set[str],
    all_heads: tuple[dict[str, float], dict[str, float]],
    presence: Presence,
    group: int,
    repeats: Callable[[str], bool],
    generic: Callable[[str], bool],
) -> str:
    heads, any_heads = all_heads  # of title words; of any word (abstracts' for the others)
    need = 2 if len(own_titles) >= 4 else 1  # a phrase titles share, not one title's quirk
    peak = float(score.max()) or 1.0

    def word_score(word: str) -> float:
        i = vocab.get(word)
        return float(score[i]) / peak if i is not None else 0.0

    # topical words (class-based TF-IDF), shared by many titles, used mostly in this group
    candidates: list[tuple[float, str]] = []
    for i in np.flatnonzero((lengths >= 2) & (title_count >= need)):
        words = terms[i].split()
        topical = sum(word_score(w) for w in words) / len(words)
        value = topical * math.log1p(title_count[i]) * share[i] * heads.get(words[-1], 0.5)
        candidates.append((value, str(terms[i])))
    candidates.sort(key=lambda c: (-c[0], c[1]))

    # a theme holding most of the day cannot be set apart LIFT times: REACH of the lift it
    # can reach above 1 is asked instead
    reach = 1.0 + (1.0 / max(presence.day_share(group), 1e-9) - 1.0) * REACH

    def apart(phrase: str, least: float = LIFT) -> bool:
        return presence.lift(phrase, group) >= min(least, reach)

    def describes(phrase: str) -> bool:
        return apart(phrase) and presence.coverage(phrase, group) >= COVERAGE

    def fresh(label: str) -> bool:
        return label.casefold() not in used and not repeats(label)

    def name(phrase: str, allow_generic: bool = False) -> str | None:
        """``phrase`` as the titles write it, if it is no label given and not generic (both
        judged on the lower-case phrase first: casing is the costly step)."""
        if not fresh(phrase) or (generic(phrase) and not allow_generic):
            return None
        label = cased(phrase, own_titles)
        return label if label.casefold() == phrase.casefold() or fresh(label) else None

    def noun(i: int, unseen: float = 0.0) -> bool:
        """A single word that can name a theme; ``unseen``: the headness of a word no title
        uses (0: it must be seen ending title phrases)."""
        word = str(terms[i])
        return lengths[i] == 1 and heads.get(word, unseen) >= SINGLE_HEAD and not _common(word)

    # 1. the best phrase that describes most of the group (COVERAGE) and sets it apart
    for _, phrase in candidates:
        if not describes(phrase):  # a longer phrase describes no more papers: not completed
            continue
        longer = _completed(phrase, title_count, terms, lengths, vocab)
        for form in dict.fromkeys((longer, phrase)):  # the completed phrase, else the phrase
            if (form == phrase or describes(form)) and (label := name(form)):
                return label
    # 1b. a two-word phrase of the abstracts' openings that does
    for i in ranked[:ABSTRACT_PHRASES]:
        phrase = str(terms[i])
        if lengths[i] != 2 or any_heads.get(phrase.split()[-1], 0.0) < SINGLE_HEAD:
            continue
        if describes(phrase) and (label := name(phrase)):
            return label
    # 2. no phrase does: its most characteristic noun that does, alone ("Robots" rather than
    # "Navigation planning" over a theme where half the papers mention neither); failing
    # that, one set apart only as much as a phrase must be (LIFT)
    for least in (SINGLE_LIFT, LIFT):
        for i in ranked[:SINGLE_WORDS]:
            word = str(terms[i])
            if noun(i) and apart(word, least) and describes(word) and (label := name(word)):
                return label
    # 3. nothing describes most of the group: the phrase that describes the most of it,
    # weighted by its rank; 4. its most characteristic noun; 5. a generic name, as a last resort
    by_share = sorted(
        ((-value * presence.coverage(phrase, group), phrase) for value, phrase in candidates)
    )
    for _, phrase in by_share:
        if label := name(phrase):
            return label
    for i in ranked[:SINGLE_WORDS]:
        if noun(i, unseen=1.0) and (label := name(str(terms[i]))):
            return label
    for _, phrase in candidates:
        if label := name(_completed(phrase, title_count, terms, lengths, vocab), True):
            return label
    n, label = 1, "Theme papers"
    while label.casefold() in used:
        n += 1
        label = f"Theme {n} papers"
    return label


def _common(word: str) -> bool:
    """Whether at least COMMON_RATE of the bundled model's papers use ``word`` (False without
    the model: a single word is then judged on the day alone, as before)."""
    model = load_model()
    found = tokens(word)
    if model is None or len(found) != 1:
        return False
    return bool(model.rates(found)[0] >= COMMON_RATE)


def _completed(
    phrase: str,
    title_count: np.ndarray,
    terms: np.ndarray,
    lengths: np.ndarray,
    vocab: dict[str, int],
) -> str:
    """``phrase`` extended word by word while most titles that use it go on the same way
    ("deep neural" becomes "deep neural networks"; "network" and "networks" count as one way).
    Stops at four words."""
    if " and " in phrase:
        return phrase

    def in_titles(term: str) -> float:
        i = vocab.get(term)
        return float(title_count[i]) if i is not None else 0.0

    while phrase.count(" ") < 3 and in_titles(phrase) > 0:
        ways: dict[str, list[tuple[float, str]]] = {}
        inside = f" {phrase} "
        # the title phrases one word longer, in term order
        for i in np.flatnonzero((lengths == phrase.count(" ") + 2) & (title_count > 0)):
            other = str(terms[i])
            if inside in f" {other} ":
                key = " ".join(stem(w) for w in other.split())
                ways.setdefault(key, []).append((float(title_count[i]), other))
        if not ways:
            break
        best = max(ways.values(), key=lambda forms: (sum(c for c, _ in forms), min(forms)[1]))
        if sum(c for c, _ in best) < max(2.0, 0.7 * in_titles(phrase)):
            break
        phrase = min(best, key=lambda form: (-form[0], form[1]))[1]
    return phrase
