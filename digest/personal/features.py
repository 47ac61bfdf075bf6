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
    """Raw feature counts of ``papers`` (one row each)."""
    return hasher().transform(list(papers))


@dataclass(frozen=True, eq=False)
class Idf:
    """Smoothed IDF per column; columns no document used get the rarest weight seen."""

    values: np.ndarray  # float32, N_FEATURES

    @classmethod
    def fit(cls, x: sp.csr_matrix, prior_papers: int = PRIOR_PAPERS) -> Idf:
        df = np.bincount(x.indices, minlength=N_FEATURES).astype(np.float64)
        total = float(x.shape[0])
        model_df = _model_rates()
        weight = max(0, prior_papers - x.shape[0]) if model_df is not None else 0
        if weight and model_df is not None:
            df += weight * model_df
            total += weight
        return cls(np.log((1.0 + total) / (1.0 + df)).astype(np.float32) + 1.0)

    def weigh(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf times IDF, rows l2-normalized (a copy)."""
        from sklearn.preprocessing import normalize

        y = x.astype(np.float32, copy=True)
        np.log(y.data, out=y.data)
        y.data += 1.0
        y.data *= self.values[y.indices]
        return normalize(y)


def _model_rates() -> np.ndarray | None:
    """The bundled background model's document rates, hashed to columns (unigrams only) by
    scikit-learn's FeatureHasher, as the hasher hashes features: 30 ms, so not kept."""
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
