"""Rank a day's papers for a reader: a linear model per profile, plus keywords and categories.

Per profile (:func:`fit_model`): seed papers and "More like this" papers are the positives,
"Fewer like this" papers and a sample of other papers (earlier days from the store, or the
day itself) the negatives, in the feature space of :mod:`.features`. The score of a paper
(:func:`score_day`) is:

* the linear model's margin, standardized over the day (arxiv-sanity-lite trains a
  LinearSVC the same way; the seeds' categories are features, which it lacks);
* plus a boost per followed keyword found in the title or abstract, and for a followed
  category, in day standard deviations.

The cosine to the nearest positive is evidence and the "like: <title>" reason; as a score
term it made the ranking worse (docs/personal.md).

A paper matching an excluded term is dropped. A paper with no evidence at all (no keyword,
no category, and no nearest positive at ``MIN_SIMILARITY``) is never recommended, so a profile
that matches nothing gets an empty list. The method and its measured figures: docs/personal.md.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from digest.models import Paper
from digest.personal.features import (
    CATEGORY_PREFIX,
    N_FEATURES,
    Idf,
    Prior,
    columns,
    counts,
    paper_features,
    readable,
)
from digest.personal.match import DayTexts
from digest.personal.profile import Profile

if TYPE_CHECKING:
    import scipy.sparse as sp

MIN_SIMILARITY = 0.02  # cosine to the nearest positive below which a paper shares nothing real
KEYWORD_BOOST = 1.5  # per matched keyword, in day standard deviations
CATEGORY_BOOST = 1.0
SVM_C = 0.1
MAX_NEGATIVES = 2000
MODEL_FORMAT = 2  # 2: unigrams and categories (1 had bigrams): older models are refitted


@dataclass(frozen=True)
class Recommendation:
    paper_id: str
    title: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ProfileModel:
    """What ranking needs of a profile besides the profile: the fitted weights (one row of
    ``N_FEATURES``), its intercept, the positives' vectors and their titles (for "like: …")."""

    revision: str
    weights: sp.csr_matrix  # 1 x N_FEATURES
    intercept: float
    positives: sp.csr_matrix  # k x N_FEATURES, unit rows
    titles: tuple[str, ...]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            format=np.array(MODEL_FORMAT),
            revision=np.array(self.revision),
            w_indices=self.weights.indices.astype(np.int32),
            w_data=self.weights.data.astype(np.float32),
            intercept=np.array(self.intercept),
            p_indptr=self.positives.indptr.astype(np.int64),
            p_indices=self.positives.indices.astype(np.int32),
            p_data=self.positives.data.astype(np.float32),
            titles=np.array("\n".join(t.replace("\n", " ") for t in self.titles)),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ProfileModel | None:
        """The model, or None for one of an older format (the caller refits)."""
        import scipy.sparse as sp

        with np.load(io.BytesIO(raw)) as d:
            if int(d["format"]) != MODEL_FORMAT:
                return None
            w = sp.csr_matrix(
                (d["w_data"], d["w_indices"], np.array([0, len(d["w_data"])])),
                shape=(1, N_FEATURES),
            )
            pos = sp.csr_matrix(
                (d["p_data"], d["p_indices"], d["p_indptr"]),
                shape=(len(d["p_indptr"]) - 1, N_FEATURES),
            )
            titles = str(d["titles"])
            return cls(str(d["revision"]), w, float(d["intercept"]), pos, tuple(titles.split("\n")))


def fit_model(
    revision: str,
    positives: Sequence[Paper],
    negatives: Sequence[Paper],
    disliked: Sequence[Paper] = (),
    *,
    negative_counts: sp.csr_matrix | None = None,
    prior: Prior | None = None,
) -> ProfileModel:
    """Fit a profile's weights: ``positives`` (seeds, liked) against ``negatives`` and
    ``disliked``. With no positives the weights are zero (keywords and categories rank).
    ``negative_counts`` (``features.counts(negatives)``) and ``prior`` are what the profiles
    fitted on one day share: given, they are not made again for each."""
    import scipy.sparse as sp

    negatives = list(negatives)[:MAX_NEGATIVES]
    if negative_counts is None:
        negative_counts = counts(negatives)
    own_counts = counts(list(positives) + list(disliked))
    n_pos = len(positives)
    raw = sp.vstack(
        [own_counts[:n_pos], negative_counts[: len(negatives)], own_counts[n_pos:]], format="csr"
    )
    negatives += list(disliked)
    idf = Idf.fit(raw, prior=prior)
    x = idf.weigh(raw)
    if n_pos == 0 or not negatives:
        w = sp.csr_matrix((1, N_FEATURES), dtype=np.float32)
        return ProfileModel(revision, w, 0.0, x[:n_pos], tuple(p.title for p in positives))
    from sklearn.svm import LinearSVC

    y = np.r_[np.ones(n_pos), np.zeros(len(negatives))]
    # fitting on the used columns only: the full width would make a dense 1M-wide coef_
    used = np.unique(x.indices)
    # a fixed seed for liblinear's shuffling: the same profile gives the same model (unset,
    # two fits of one profile differed by ~1e-7, enough to flip a rounded score)
    clf = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=10000, tol=1e-5, random_state=0)
    clf.fit(x[:, used], y)
    coef = clf.coef_.ravel().astype(np.float32)
    keep = np.flatnonzero(coef)
    w = sp.csr_matrix(
        (coef[keep], used[keep].astype(np.int32), np.array([0, len(keep)])),
        shape=(1, N_FEATURES),
    )
    return ProfileModel(
        revision, w, float(clf.intercept_[0]), x[:n_pos], tuple(p.title for p in positives)
    )


def day_matrix(
    papers: Sequence[Paper], background: Sequence[Paper] = (), prior: Prior | None = None
) -> sp.csr_matrix:
    """The day's papers in the feature space, IDF over the day and ``background``."""
    raw = counts(list(papers) + list(background))
    return Idf.fit(raw, prior=prior).weigh(raw[: len(papers)])


@dataclass(frozen=True, eq=False)
class Day:
    """A day prepared once for any number of profiles: its papers, their feature rows and
    their texts for keyword matching."""

    papers: tuple[Paper, ...]
    x: sp.csr_matrix
    texts: DayTexts
    _features: dict[int, tuple[list[str], np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def features(self, i: int) -> tuple[list[str], np.ndarray]:
        """Paper ``i``'s distinct word features as the paper writes them, and their columns
        (for reasons; kept)."""
        found = self._features.get(i)
        if found is None:
            feats = [
                f
                for f in dict.fromkeys(paper_features(self.papers[i]))
                if not f.startswith(CATEGORY_PREFIX)
            ]
            found = self._features[i] = (readable(self.papers[i], feats), columns(feats))
        return found

    @classmethod
    def of(
        cls, papers: Sequence[Paper], background: Sequence[Paper] = (), prior: Prior | None = None
    ) -> Day:
        papers = tuple(papers)
        return cls(papers, day_matrix(papers, background, prior), DayTexts.of(papers))


def rank_many(weights: sp.csr_matrix, intercepts: np.ndarray, day: sp.csr_matrix) -> np.ndarray:
    """Margins of every profile (rows of ``weights``, stacked) for every paper of ``day``:
    one sparse product, profiles x papers. The send path ranks thousands of profiles so."""
    scores = (weights @ day.T).toarray()
    return scores + np.asarray(intercepts, dtype=scores.dtype)[:, None]


def rank_for_profile(
    profile: Profile,
    model: ProfileModel,
    papers: Sequence[Paper] | Day,
    top: int | None = None,
) -> list[Recommendation]:
    """The day's ``papers`` for ``profile``, best first, each with its reasons."""
    day = papers if isinstance(papers, Day) else Day.of(papers)
    if not day.papers:
        return []
    margin = rank_many(model.weights, np.array([model.intercept]), day.x)[0]
    best, nearest = nearest_positive(day.x, model.positives)
    return score_day(profile, model, day, margin, best, nearest, top)


def nearest_positive(x: sp.csr_matrix, positives: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each paper's cosine to its nearest positive, and which positive (-1: none)."""
    n = x.shape[0]
    if not positives.shape[0]:
        return np.zeros(n), np.full(n, -1)
    sims = np.asarray((x @ positives.T).toarray())
    return sims.max(axis=1), sims.argmax(axis=1)


def score_day(
    profile: Profile,
    model: ProfileModel,
    day: Day,
    margin: np.ndarray,
    best: np.ndarray,
    nearest: np.ndarray,
    top: int | None = None,
) -> list[Recommendation]:
    """Blend a profile's margins and nearest-positive similarities (``best``, the cosine to
    positive ``nearest``) with its keywords and categories."""
    papers = day.papers
    n = len(papers)
    score = _standard(margin) if model.weights.nnz else np.zeros(n)
    evidence = np.zeros(n, dtype=bool)
    if model.positives.shape[0]:
        # the nearest positive is evidence and a reason, not a score: blended with the
        # margin it lowered P@10 from 0.317 to 0.253 (docs/personal.md)
        evidence |= best >= MIN_SIMILARITY
        nearest = np.where(best >= MIN_SIMILARITY, nearest, -1)
    matched = day.texts.matches_by_paper(profile.keywords)
    in_cat = day.texts.in_categories(profile.categories)
    cats = {c.lower() for c in profile.categories}
    hits = np.zeros(n)
    for i, found in matched.items():
        hits[i] = len(found)
    score = score + KEYWORD_BOOST * hits + CATEGORY_BOOST * in_cat
    evidence |= (hits > 0) | in_cat
    excluded = np.zeros(n, dtype=bool)
    excluded[list(day.texts.matches_by_paper(profile.exclude))] = True
    ok = np.flatnonzero(evidence & ~excluded)
    # a stable sort of the kept papers: the order a stable sort of all gives, filtered
    order = ok[np.argsort(-score[ok], kind="stable")].tolist()
    if top is not None:
        order = order[:top]
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
        terms = _top_terms(model, day, i)
        if terms:
            reasons.append("terms: " + ", ".join(terms))
        out.append(
            Recommendation(papers[i].id, papers[i].title, round(float(score[i]), 4), tuple(reasons))
        )
    return out


def _standard(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    sd = v.std()
    return (v - v.mean()) / sd if sd > 0 else v * 0.0


def _top_terms(model: ProfileModel, day: Day, i: int, k: int = 3) -> list[str]:
    """Paper ``i``'s features with the largest positive weight in the model: the words the
    margin rests on (hashing loses names, so they come from the paper's own features)."""
    w = model.weights
    if not w.nnz:
        return []
    feats, cols = day.features(i)
    if not feats:
        return []
    # the row's columns are sorted: a binary search, not a column slice of a 1M-wide matrix
    at = np.minimum(np.searchsorted(w.indices, cols), len(w.indices) - 1)
    weight = np.where(w.indices[at] == cols, w.data[at], 0.0)
    return [feats[j] for j in np.argsort(-weight, kind="stable")[:k] if weight[j] > 0]


__all__ = [
    "Recommendation",
    "ProfileModel",
    "fit_model",
    "day_matrix",
    "Day",
    "nearest_positive",
    "rank_many",
    "rank_for_profile",
    "score_day",
]
