"""Group documents: TF-IDF -> LSA -> spherical k-means, the number of groups chosen per day.

* TF-IDF (sublinear tf, stop-words and light stemming from :mod:`digest.themes.text`) on the
  day's vocabulary; its document frequencies also count a background: earlier days from the
  store and the bundled arXiv model, blended by :mod:`digest.themes.background`.
* LSA (truncated SVD) to a few dozen dimensions, rows re-normalized, then spherical k-means
  (k-means on cosine similarity, :mod:`digest.themes.kmeans`).
* k: candidates from sqrt(n)/3 to sqrt(n)+1 (capped by ``max_themes`` and ``n / min_theme_size``)
  are scored by the mean silhouette, measured with cosine distance on the TF-IDF vectors
  themselves (so the criterion does not depend on the reduction it chooses for); the fewest
  themes within ``themes.k_tolerance`` (2) standard errors of the best score win.
* The groups at that k: a consensus of ``themes.consensus_runs`` quick k-means runs
  (:mod:`digest.themes.consensus`), steadier than any one of them.

Everything is seeded; the same documents in the same order give the same groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import randomized_svd  # TruncatedSVD's core, 60 ms less import

from digest.config import ThemesConfig
from digest.themes.background import BackgroundModel, blended_idf, load_model
from digest.themes.consensus import consensus_groups
from digest.themes.kmeans import spherical_kmeans
from digest.themes.text import tokens

NO_GROUP = -1  # a document with no usable words
MAX_K_CANDIDATES = 8  # beyond this, candidates are spaced geometrically
SILHOUETTE_SAMPLE = 1000
SELECTION_SAMPLE = 2000  # bigger days choose k on a sample, then fit every row


def analyze(doc: str | tuple[str, ...]) -> tuple[str, ...]:
    """The clustering vectorizer's analyzer: the tokens of a cleaned document, or ``doc``
    itself when it is tokens already (the projector passes those it kept, below)."""
    return doc if isinstance(doc, tuple) else tokens(doc)


def make_vectorizer(n_docs: int) -> TfidfVectorizer:
    """The clustering vectorizer. Tiny days keep every word: min_df=2 would leave none."""
    small = n_docs < 20
    return TfidfVectorizer(
        input="content",
        encoding="utf-8",
        decode_error="replace",
        strip_accents=None,  # clean_text folds accents
        lowercase=False,  # clean_text lower-cases
        preprocessor=None,  # callers pass text through clean_text once, for labels too
        tokenizer=None,
        analyzer=analyze,  # stop-words, stems and what a word is: digest.themes.text
        stop_words=None,  # removed by the tokenizer, before stemming
        token_pattern=None,
        ngram_range=(1, 1),  # measured: bigrams did not help clustering
        max_df=1.0 if small else 0.5,
        min_df=1 if small else 2,
        max_features=None,
        vocabulary=None,
        binary=False,
        dtype=np.float32,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
    )


@dataclass(frozen=True, eq=False)
class Projector:
    """Maps texts of other days onto the day's groups (nearest centroid in LSA space)."""

    vectorizer: TfidfVectorizer
    basis: np.ndarray | None  # (dims, terms): the LSA directions; None = no reduction
    centroids: np.ndarray  # (groups, dims), unit rows; row g is group g

    def vectors(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unit LSA vectors of ``docs`` and a mask of the ones that had any known word.

        ``transform`` is given each document's tokens of the day's vocabulary only: it counts
        tokens one by one in Python and pays an exception for each unknown one (a fifth of
        another day's tokens); the filter runs in C: 33 instead of 41 ms for 1,031 papers,
        the same matrix (docs/themes.md)."""
        known = self.vectorizer.vocabulary_.__contains__
        x = self.vectorizer.transform([tuple(filter(known, analyze(doc))) for doc in docs])
        has_words = np.asarray(x.getnnz(axis=1) > 0)
        z = x @ self.basis.T if self.basis is not None else x.toarray()
        return normalize(z), has_words

    def nearest(self, docs: Sequence[str]) -> list[int]:
        if not docs or not len(self.centroids):
            return [NO_GROUP] * len(docs)
        z, has_words = self.vectors(docs)
        best = (z @ self.centroids.T).argmax(axis=1)
        return [int(g) if ok else NO_GROUP for g, ok in zip(best, has_words, strict=True)]


@dataclass(frozen=True, eq=False)
class Clustering:
    groups: np.ndarray  # group index per document, NO_GROUP when it had no usable words
    vectors: np.ndarray  # unit LSA vectors, for representatives
    projector: Projector | None


def group_documents(
    docs: Sequence[str], config: ThemesConfig, background: Sequence[str] = ()
) -> Clustering:
    """Group ``docs`` (already passed through ``clean_text``); ``background`` only informs IDF."""
    n = len(docs)
    vectorizer = make_vectorizer(n)
    try:
        x = vectorizer.fit_transform(docs)
    except ValueError:  # empty vocabulary: no document has a usable word
        return Clustering(np.full(n, NO_GROUP), np.zeros((n, 1)), None)
    model = load_model() if config.bundled_background else None
    if background or (model is not None and config.prior_papers):
        x = _with_background_idf(vectorizer, x, background, model, config.prior_papers)
    usable = np.flatnonzero(x.getnnz(axis=1) > 0)
    groups = np.full(n, NO_GROUP)
    basis, z = _reduce(x, config)
    if len(usable) < 2 * config.min_theme_size:
        groups[usable] = 0
    else:
        groups[usable] = _best_partition(x[usable], z[usable], config)
    groups = _fold_and_order(groups, config.min_theme_size)
    return Clustering(groups, z, Projector(vectorizer, basis, _centroids(z, groups)))


def _with_background_idf(
    vectorizer: TfidfVectorizer,
    x: sp.csr_matrix,
    background: Sequence[str],
    model: BackgroundModel | None,
    prior_papers: int,
) -> sp.csr_matrix:
    """The day's rows with the IDF blended over the day, the store's ``background`` and the
    bundled ``model`` (:func:`blended_idf`), set on the fitted vectorizer through its public
    ``idf_`` setter, so that the projector's ``transform`` of other days uses it too.

    Rows are l2-normalized tf * idf: multiplying each column by new idf / day idf and
    normalizing again gives what ``transform`` would (tested), without tokenizing the day a
    second time."""
    day_idf = vectorizer.idf_
    idf = blended_idf(
        vectorizer.get_feature_names_out().tolist(),
        x.getnnz(axis=0),
        x.shape[0],
        background,
        model,
        prior_papers,
    ).astype(day_idf.dtype)
    vectorizer.idf_ = idf
    return sp.csr_matrix(normalize(x @ sp.diags(idf / day_idf)))


def _fold_and_order(groups: np.ndarray, min_size: int) -> np.ndarray:
    """Groups below ``min_size`` join NO_GROUP (the remainder); the rest are renumbered 0, 1, …
    by size, largest first (ties: the group whose first document comes first)."""
    ids, first, sizes = np.unique(groups[groups != NO_GROUP], return_index=True, return_counts=True)
    if len(ids) > 1:
        keep = sizes >= min_size
        ids, first, sizes = ids[keep], first[keep], sizes[keep]
    order = sorted(range(len(ids)), key=lambda i: (-sizes[i], first[i]))
    out = np.full(len(groups), NO_GROUP)
    for new, i in enumerate(order):
        out[groups == ids[i]] = new
    return out


def _reduce(x: sp.csr_matrix, config: ThemesConfig) -> tuple[np.ndarray | None, np.ndarray]:
    """LSA: unit rows of the documents in the top ``lsa_components`` singular directions."""
    dims = min(config.lsa_components, x.shape[0] - 1, x.shape[1] - 1)
    if dims < 2:
        return None, normalize(x.toarray())
    u, sigma, vt = randomized_svd(x, dims, n_iter=5, random_state=config.seed)
    return vt, normalize(u * sigma)


def k_candidates(n: int, config: ThemesConfig) -> list[int]:
    """From sqrt(n)/3 (at least 2) to sqrt(n)+1 themes, never more than ``max_themes`` nor
    ``n / min_theme_size``.

    The floor matters on big days: silhouette on sparse text favours a coarse split (a
    5,000-paper day scored best with 2 themes), which no reader would call themes; with the
    floor an average theme holds at most about 3*sqrt(n) papers (24+ themes for 5,000).
    """
    top = min(config.max_themes, int(np.sqrt(n)) + 1, n // config.min_theme_size)
    if top < 2:
        return [1]
    bottom = min(top, max(2, int(np.ceil(np.sqrt(n) / 3))))
    if top - bottom < MAX_K_CANDIDATES:
        return list(range(bottom, top + 1))
    return sorted({int(round(k)) for k in np.geomspace(bottom, top, MAX_K_CANDIDATES)})


def _best_partition(x: sp.csr_matrix, z: np.ndarray, config: ThemesConfig) -> np.ndarray:
    distinct = len(np.unique(np.round(z, 6), axis=0))
    candidates = [k for k in k_candidates(len(z), config) if k <= distinct] or [1]
    if candidates == [1]:
        return np.zeros(len(z), dtype=int)
    # k is chosen on a fixed sample: the candidates are fitted on up to SELECTION_SAMPLE rows,
    # and one cosine-distance matrix on the first SILHOUETTE_SAMPLE of them scores them all
    rng = np.random.default_rng(config.seed)
    chosen = rng.permutation(len(z))[:SELECTION_SAMPLE]
    fit_rows = np.sort(chosen)
    scored = np.searchsorted(fit_rows, np.sort(chosen[:SILHOUETTE_SAMPLE]))  # within fit_rows
    xs = x[fit_rows[scored]]
    distance = 1.0 - (xs @ xs.T).toarray()
    fits: list[tuple[float, float, int, np.ndarray]] = []  # (mean, standard error, k, labels)
    for k in candidates:
        labels = spherical_kmeans(z[fit_rows], k, config.seed, config.kmeans_restarts)
        widths = silhouette_widths(distance, labels[scored])
        fits.append((float(widths.mean()), float(widths.std() / np.sqrt(len(widths))), k, labels))
    # the fewest themes whose silhouette is within k_tolerance standard errors of the best;
    # the curve is flat near its top, and more themes there only split topics a reader would
    # keep together (one standard error over-split: 1.48 themes per category, docs/themes.md)
    top_mean, top_error, _, _ = max(fits, key=lambda f: (f[0], -f[2]))
    floor = top_mean - config.k_tolerance * top_error
    _, _, k, labels = min((f for f in fits if f[0] >= floor), key=lambda f: f[2])
    voted = consensus_groups(z[fit_rows], k, config.seed, config.consensus_runs)
    if voted is None:
        if len(fit_rows) == len(z):
            return labels
        return spherical_kmeans(z, k, config.seed, config.kmeans_restarts)
    if len(fit_rows) == len(z):
        return voted
    # big days voted on the sample: every paper joins the nearest of its groups' centres
    return np.asarray((z @ _centroids(z[fit_rows], voted).T).argmax(axis=1))


def silhouette_widths(distance: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each point's silhouette from a precomputed distance matrix (Rousseeuw 1987);
    singletons score 0, and so does everything when there is a single group."""
    ids, labels = np.unique(labels, return_inverse=True)
    if len(ids) < 2:
        return np.zeros(len(labels))
    onehot = np.zeros((len(labels), len(ids)))
    onehot[np.arange(len(labels)), labels] = 1.0
    sizes = onehot.sum(axis=0)
    totals = distance @ onehot  # sum of distances from each point to each group
    own = totals[np.arange(len(labels)), labels]
    own_size = sizes[labels] - 1
    a = np.divide(own, own_size, out=np.zeros_like(own), where=own_size > 0)
    means = totals / sizes
    means[np.arange(len(labels)), labels] = np.inf
    b = means.min(axis=1)
    width = np.maximum(a, b)
    return np.divide(b - a, width, out=np.zeros_like(a), where=(width > 0) & (own_size > 0))


def _centroids(z: np.ndarray, groups: np.ndarray) -> np.ndarray:
    count = int(groups.max()) + 1 if len(groups) else 0
    rows = [z[groups == g].mean(axis=0) for g in range(count)]
    return normalize(np.array(rows)) if rows else np.zeros((0, z.shape[1]))
