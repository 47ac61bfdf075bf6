"""The For you section of every subscriber's email: all profiles ranked for one day at once.

:func:`rank_subscribers` takes each confirmed subscriber's stored model (refitted only when
the profile's revision changed: :func:`digest.personal.service.model_for`), stacks the weight
rows and scores the whole day for all of them in one sparse product
(:func:`digest.personal.rank.rank_many`); each profile's keywords, categories, nearest seed
and excludes then pick and explain its papers (:func:`pick`: the blend of
:func:`digest.personal.rank.score_day`, with each keyword found in the day once for every
profile that follows it: per paper and profile, matching was 90% of the time). The
For you score adds ``personal.trending_weight`` times the paper's trending score,
standardized over the day, to the relevance score. A profile that matches nothing gets no
section at all.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from digest.config import Config
from digest.models import Digest, Paper
from digest.personal.features import CATEGORY_PREFIX, N_FEATURES, columns, paper_features
from digest.personal.profile import Profile, ProfileError, profile_from_toml
from digest.personal.rank import (
    CATEGORY_BOOST,
    KEYWORD_BOOST,
    KNN_WEIGHT,
    MIN_SIMILARITY,
    ProfileModel,
    day_matrix,
    rank_many,
)
from digest.personal.service import model_for
from digest.store import Store
from digest.store.foryou import ForYouItem
from digest.store.profiles import StoredProfile
from digest.store.subscribers import DAILY

if TYPE_CHECKING:
    import scipy.sparse as sp

log = logging.getLogger("digest.personal")

BATCH = 1000  # profiles ranked per sparse product: memory stays flat as the list grows


@dataclass(frozen=True)
class RankedSubscribers:
    """For you items by subscriber id (only readers with a non-empty section), and counts."""

    sections: dict[int, tuple[ForYouItem, ...]]
    profiles: int
    refitted: int


def rank_subscribers(store: Store, config: Config, digest: Digest) -> RankedSubscribers:
    """Rank ``digest``'s papers for every confirmed subscriber with a profile."""
    papers = [rp.paper for rp in digest.papers]
    sections: dict[int, tuple[ForYouItem, ...]] = {}
    profiles = refitted = 0
    if not papers:
        return RankedSubscribers(sections, 0, 0)
    weight = config.personal.trending_weight
    top = config.personal.max_items
    for batch in _batches(store, digest, papers):
        if not profiles:  # the day's text and vectors, only when someone has a profile
            day = DayText(papers)
            x = day_matrix(papers)
            trend = _standard(np.array([rp.score for rp in digest.papers]))
        profiles += len(batch)
        refitted += sum(1 for b in batch if b[4])
        margins = rank_many(
            _stack([b[3].weights for b in batch]), np.array([b[3].intercept for b in batch]), x
        )
        for row, (sid, profile, seed_ids, model, _fresh) in enumerate(batch):
            sims = (x @ model.positives.T).toarray() if model.positives.shape[0] else None
            items = pick(profile, model, day, margins[row], sims, trend * weight, seed_ids, top)
            if items:
                sections[sid] = items
    return RankedSubscribers(sections, profiles, refitted)


class DayText:
    """The day's papers as two long strings (cleaned tokens, and plain case-folded text),
    so a keyword is found in every paper with a few ``str.find`` calls, once per keyword
    for all the profiles that follow it, rather than once per paper and profile."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        from digest.themes import document
        from digest.themes.text import tokens

        self.papers = list(papers)
        joined = [" " + " ".join(tokens(document(p))) + " " for p in papers]
        plain = [f"{p.title} {p.abstract}".casefold() for p in papers]
        self._joined, self._joined_at = _concat(joined)
        self._plain, self._plain_at = _concat(plain)
        self._found: dict[str, frozenset[int]] = {}
        self.categories = [{c.lower() for c in p.categories} for p in papers]

    def papers_with(self, phrase: str) -> frozenset[int]:
        """Indexes of the papers that contain ``phrase``, as the ranking matches keywords:
        as a token sequence (the themes stemmer: "auctions" meets "auction") or as plain text
        at a word start ("robot" meets "robotics"); LaTeX only as written. Never a pattern."""
        found = self._found.get(phrase)
        if found is not None:
            return found
        from digest.themes.text import clean_text, tokens

        hits: set[int] = set()
        words = () if ("$" in phrase or "\\" in phrase) else tokens(clean_text(phrase))
        if words:
            hits |= _occurrences(self._joined, self._joined_at, " " + " ".join(words) + " ")
        hits |= _occurrences(self._plain, self._plain_at, phrase.casefold(), word_start=True)
        found = self._found[phrase] = frozenset(hits)
        return found


def _concat(texts: list[str]) -> tuple[str, list[int]]:
    # NUL never occurs in cleaned or case-folded text (ingest drops control characters)
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    return "\0".join(texts), starts


def _occurrences(text: str, starts: list[int], needle: str, word_start: bool = False) -> set[int]:
    out: set[int] = set()
    if not needle:
        return out
    at = text.find(needle)
    while at >= 0:
        before = text[at - 1] if at else "\0"
        if not word_start or not (before.isalnum() or before == "_"):
            out.add(bisect.bisect_right(starts, at) - 1)
        at = text.find(needle, at + 1)
    return out


def pick(
    profile: Profile,
    model: ProfileModel,
    day: DayText,
    margin: np.ndarray,
    sims: np.ndarray | None,
    trend: np.ndarray,
    skip: set[str],
    top: int,
) -> tuple[ForYouItem, ...]:
    """The ``top`` papers of the day for one profile, best first, each with its reasons.

    The relevance score is :func:`digest.personal.rank.score_day`'s (the same constants;
    tests/test_foryou_rank.py holds the two to the same order and reasons), computed with the
    day's keyword matches found once for all profiles; ``trend`` (the weighted, standardized
    trending score) is added to it. Seeds and disliked papers (``skip``) are never picked.
    """
    papers = day.papers
    n = len(papers)
    keep = np.array([p.id not in skip for p in papers], dtype=bool)
    score = _standard(margin, keep) if model.weights.nnz else np.zeros(n)
    evidence = np.zeros(n, dtype=bool)
    nearest = np.full(n, -1)
    if sims is not None and sims.shape[1]:
        best = sims.max(axis=1)
        score = score + KNN_WEIGHT * _standard(best, keep)
        evidence |= best >= MIN_SIMILARITY
        nearest = np.where(best >= MIN_SIMILARITY, sims.argmax(axis=1), -1)
    hits = np.zeros(n)
    matched: dict[int, list[str]] = {}
    for phrase in profile.keywords:
        for i in day.papers_with(phrase):
            hits[i] += 1
            matched.setdefault(i, []).append(phrase)
    cats = {c.lower() for c in profile.categories}
    in_cat = np.array([bool(cats & c) for c in day.categories]) if cats else np.zeros(n, bool)
    score = score + KEYWORD_BOOST * hits + CATEGORY_BOOST * in_cat
    evidence |= (hits > 0) | in_cat
    for phrase in profile.exclude:
        for i in day.papers_with(phrase):
            evidence[i] = False
    ok = evidence & keep
    if not ok.any():
        return ()
    final = score + trend
    order = [i for i in np.argsort(-final, kind="stable").tolist() if ok[i]][:top]
    weights = _weights(model)
    out = []
    for i in order:
        reasons: list[str] = []
        if i in matched:
            reasons.append("matches: " + ", ".join(matched[i]))
        if in_cat[i]:
            reasons.append(
                "category: " + ", ".join(c for c in papers[i].categories if c.lower() in cats)
            )
        if nearest[i] >= 0:
            reasons.append(f"like: {model.titles[nearest[i]]}")
        terms = _terms(weights, papers[i])
        if terms:
            reasons.append("terms: " + ", ".join(terms))
        p = papers[i]
        out.append(ForYouItem(p.id, p.title, p.url, tuple(reasons), round(float(final[i]), 4)))
    return tuple(out)


def _weights(model: ProfileModel) -> dict[int, float]:
    w = model.weights
    return dict(zip(w.indices.tolist(), w.data.tolist(), strict=True)) if w.nnz else {}


def _terms(weights: dict[int, float], paper: Paper, k: int = 3) -> list[str]:
    """The paper's features with the largest positive weight in the model (its own words:
    hashing loses the names)."""
    if not weights:
        return []
    feats = [f for f in dict.fromkeys(paper_features(paper)) if not f.startswith(CATEGORY_PREFIX)]
    if not feats:
        return []
    w = [weights.get(c, 0.0) for c in columns(feats).tolist()]
    ranked = sorted(range(len(feats)), key=lambda j: -w[j])[:k]
    return [feats[j] for j in ranked if w[j] > 0]


_Entry = tuple[int, Profile, set[str], ProfileModel, bool]


def _batches(store: Store, digest: Digest, papers: list[Paper]) -> Iterator[list[_Entry]]:
    batch: list[_Entry] = []
    for email, stored in store.confirmed_profiles():
        entry = _entry(store, stored, email, digest, papers)
        if entry is None:
            continue
        batch.append(entry)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _entry(
    store: Store, stored: StoredProfile, email: str, digest: Digest, papers: list[Paper]
) -> _Entry | None:
    try:
        profile = profile_from_toml(stored.toml, f"the stored profile of {email}")
    except ProfileError as exc:  # written by this program; a damaged row costs one section
        log.warning("%s; no For you section", exc)
        return None
    if profile.empty or stored.subscriber_id is None:
        return None
    subscriber = store.subscriber(email)
    if subscriber is None or subscriber.cadence != DAILY:  # the weekly email has no For you
        return None
    seed_ids = {p.id for p in store.profile_seeds(stored.id)}
    if not seed_ids and not profile.liked_ids:
        # keywords and categories alone: nothing to fit (fit_model would give zero weights
        # after vectorizing its sample of negatives, for nothing)
        model, fresh = _no_positives(stored.revision), False
    else:
        model, fresh = model_for(store, stored, profile, digest.date, papers)
    return stored.subscriber_id, profile, seed_ids | set(profile.disliked_ids), model, fresh


def _no_positives(revision: str) -> ProfileModel:
    import scipy.sparse as sp

    empty = sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    return ProfileModel(revision, sp.csr_matrix((1, N_FEATURES), dtype=np.float32), 0.0, empty, ())


def _stack(rows: list[sp.csr_matrix]) -> sp.csr_matrix:
    import scipy.sparse as sp

    return sp.vstack(rows, format="csr")


def _standard(v: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Standardized over the papers kept (the candidates), as score_day standardizes."""
    v = np.asarray(v, dtype=np.float64)
    base = v[keep] if keep is not None else v
    sd = float(base.std()) if base.size else 0.0
    return (v - base.mean()) / sd if sd > 0 else np.zeros_like(v)
