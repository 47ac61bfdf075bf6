"""The feature space every profile is ranked in.

The themes stage's text preparation (:mod:`digest.themes.text`: cleaning, stop-words, light
stemming) gives each paper's tokens; its features are those tokens and its arXiv categories
(``cat:cs.RO``: a reader's seeds say which categories they read), hashed into ``N_FEATURES`` columns. A fixed width is what
lets a profile's fitted weights be stored and reused on later days, and lets many profiles
be ranked at once as one sparse matrix product (:func:`digest.personal.rank.rank_many`).

Weights: sublinear tf times a smoothed IDF over the documents at hand (the day, the store's
sample of earlier days, the seeds) blended with the bundled background model's document
rates (:mod:`digest.themes.background`), rows l2-normalized, as the themes stage does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from digest.models import Paper

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

N_FEATURES = 2**20  # collisions among a day's ~40,000 distinct features stay under 4%
CATEGORY_PREFIX = "cat:"
PRIOR_PAPERS = 2000  # the background model counts as this many papers (themes' default)


def paper_features(paper: Paper) -> list[str]:
    """Tokens of the title and abstract, and the paper's categories. No bigrams: with 30
    seeds they were noise (P@10 0.317 with them, 0.348 without; docs/personal.md)."""
    from digest.themes import document
    from digest.themes.text import tokens

    return list(tokens(document(paper))) + [CATEGORY_PREFIX + c.lower() for c in paper.categories]


_WORD = re.compile(r"[^\W\d_]+")  # letter runs, as the themes tokenizer splits ASCII text


def readable(paper: Paper, tokens: Sequence[str]) -> list[str]:
    """Each token as ``paper`` writes it most often ("comput" -> "computation"): reasons
    name words, not stems. A token the text does not yield again stays as it is."""
    from digest.themes import document
    from digest.themes.text import stem

    wanted = set(tokens)
    forms: dict[str, Counter[str]] = {}
    for word in _WORD.findall(document(paper)):
        token = stem(word)
        if token in wanted:
            forms.setdefault(token, Counter())[word] += 1
    out = []
    for token in tokens:
        seen = forms.get(token)
        out.append(min(seen, key=lambda w: (-seen[w], len(w), w)) if seen else token)
    return out


def hasher() -> HashingVectorizer:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer=paper_features,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def columns(features: Sequence[str]) -> np.ndarray:
    """The column of each feature string, as the hasher computes it (scikit-learn's
    FeatureHasher: the signed 32-bit murmurhash, its absolute value modulo the width)."""
    from sklearn.utils import murmurhash3_32

    h = np.array([murmurhash3_32(f, seed=0) for f in features], dtype=np.int64)
    # -2**31 has no absolute value in int32; FeatureHasher maps it so
    edge = (2**31 - 1 - (N_FEATURES - 1)) % N_FEATURES
    return np.where(h == -(2**31), edge, np.abs(h) % N_FEATURES)


def counts(papers: Sequence[Paper]) -> sp.csr_matrix:
    """Raw feature counts of ``papers`` (one row each; none is a 0-row matrix)."""
    papers = list(papers)
    if not papers:  # the hasher cannot transform nothing
        import scipy.sparse as sp

        return sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    return hasher().transform(papers)


@dataclass(frozen=True, eq=False)
class Prior:
    """The bundled background model's document rates, hashed to columns: the IDF's prior.
    Made once per call that fits many profiles (a send), and handed to :meth:`Idf.fit`."""

    rates: np.ndarray | None  # float64, N_FEATURES; None without a bundled model

    @classmethod
    def load(cls) -> Prior:
        return cls(_model_rates())


@dataclass(frozen=True, eq=False)
class Idf:
    """Smoothed IDF, kept for the columns the fitted documents use (a fit touches a few
    thousand of the 2^20 columns: computing all of them was most of a profile's fit);
    any other column gets the weight of a document frequency of 0 plus the prior's."""

    columns: np.ndarray  # sorted columns the fitted documents use
    values: np.ndarray  # float32, their weights
    total: float  # documents, the prior's included
    prior_weight: int  # papers the prior counts as
    rates: np.ndarray | None  # the prior's rates by column

    @classmethod
    def fit(
        cls, x: sp.csr_matrix, prior_papers: int = PRIOR_PAPERS, prior: Prior | None = None
    ) -> Idf:
        """IDF over the rows of ``x`` blended with ``prior`` (the bundled model's rates,
        loaded now when not given) counted as ``prior_papers`` less the rows of ``x``."""
        rates = (prior or Prior.load()).rates
        columns, df = np.unique(x.indices, return_counts=True)  # a row holds a column once
        total = float(x.shape[0])
        weight = max(0, prior_papers - x.shape[0]) if rates is not None else 0
        total += weight
        values = _smoothed(columns, df.astype(np.float64), total, weight, rates)
        return cls(columns, values, total, weight, rates)

    def lookup(self, columns: np.ndarray) -> np.ndarray:
        """The IDF weight of each of ``columns``."""
        at = np.minimum(np.searchsorted(self.columns, columns), max(len(self.columns) - 1, 0))
        found = self.columns[at] == columns if len(self.columns) else np.zeros(len(columns), bool)
        out = np.empty(len(columns), dtype=np.float32)
        out[found] = self.values[at[found]]
        if not found.all():
            rest = columns[~found]
            out[~found] = _smoothed(
                rest, np.zeros(len(rest)), self.total, self.prior_weight, self.rates
            )
        return out

    def weigh(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf times IDF, rows l2-normalized (a copy)."""
        from sklearn.preprocessing import normalize

        y = x.astype(np.float32, copy=True)
        np.log(y.data, out=y.data)
        y.data += 1.0
        y.data *= self.lookup(y.indices)
        return normalize(y)


def _smoothed(
    columns: np.ndarray, df: np.ndarray, total: float, weight: int, rates: np.ndarray | None
) -> np.ndarray:
    if weight and rates is not None:
        df = df + weight * rates[columns]
    return np.log((1.0 + total) / (1.0 + df)).astype(np.float32) + 1.0


def _model_rates() -> np.ndarray | None:
    """The bundled background model's document rates, hashed to columns (unigrams only) by
    scikit-learn's FeatureHasher, as the hasher hashes features (9 ms: made once per send,
    :class:`Prior`)."""
    from sklearn.feature_extraction import FeatureHasher

    from digest.themes.background import load_model

    model = load_model()
    if model is None or not model.n_docs:
        return None
    terms = [""] * len(model.index)
    for term, i in model.index.items():
        terms[i] = term
    one_hot = FeatureHasher(
        n_features=N_FEATURES, input_type="string", alternate_sign=False, dtype=np.float64
    ).transform([term] for term in terms)  # row i: term i's column
    return np.asarray(one_hot.T @ (model.df / model.n_docs))
