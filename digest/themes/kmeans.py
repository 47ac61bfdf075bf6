"""Spherical k-means on unit vectors, in numpy: k-means++ seeding, Lloyd steps on cosine.

Written here rather than taken from scikit-learn because the day's problem is tiny (hundreds
of rows, a few dozen dimensions) and scikit-learn's per-call thread-pool and validation cost
dominated: 48 fits took 0.6 s there against a few milliseconds here.
"""

from __future__ import annotations

import numpy as np


def spherical_kmeans(
    z: np.ndarray, k: int, seed: int, restarts: int = 4, max_iter: int = 40
) -> np.ndarray:
    """Labels of the best of ``restarts`` runs (highest total cosine to the centres)."""
    rng = np.random.default_rng(seed)
    best_labels, best_fit = np.zeros(len(z), dtype=int), -np.inf
    # the centres are float64: z is promoted once here rather than in every product
    z64 = z.astype(np.float64, copy=False)
    for _ in range(restarts):
        labels, fit = _single_run(z, z64, k, rng, max_iter)
        if fit > best_fit:
            best_labels, best_fit = labels, fit
    return best_labels


def _single_run(
    z: np.ndarray, z64: np.ndarray, k: int, rng: np.random.Generator, max_iter: int
) -> tuple[np.ndarray, float]:
    centres = _plus_plus(z, k, rng)
    k = len(centres)
    labels = np.full(len(z), -1)
    rows = z  # same precision as the centres: seeds are rows of z, later centres float64 means
    sims = z @ centres.T
    for _ in range(max_iter):
        sims = rows @ centres.T
        new = sims.argmax(axis=1)
        # converged when (almost) no document moves: the last 0.1% never change a theme
        if np.count_nonzero(new != labels) <= len(z) // 1000:
            labels = new
            break
        labels = new
        sums = _group_sums(z, labels, k)
        empty = ~sums.any(axis=1)
        if empty.any():  # re-seed an emptied centre on the worst-served point
            worst = np.argsort(sims[np.arange(len(z)), labels])[: int(empty.sum())]
            sums[empty] = z[worst]
        centres = _unit_rows(sums)
        rows = z64
    fit = float(sims[np.arange(len(z)), labels].sum())
    return labels, fit


def _plus_plus(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding with cosine distance (1 - similarity)."""
    chosen = [int(rng.integers(len(z)))]
    distance = np.maximum(1.0 - z @ z[chosen[0]], 0.0)  # np.clip's wrapper costs more
    for _ in range(1, k):
        total = distance.sum()
        if total > 0:  # a point drawn with probability proportional to its distance
            pick = int(np.searchsorted(np.cumsum(distance), rng.random() * total, side="right"))
            pick = min(pick, len(z) - 1)
        else:
            pick = int(rng.integers(len(z)))
        chosen.append(pick)
        distance = np.minimum(distance, np.maximum(1.0 - z @ z[pick], 0.0))
    return z[chosen].copy()


def _unit_rows(a: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(norms > 0, norms, 1.0)


def _group_sums(z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=k)
    present = np.flatnonzero(sizes)
    starts = (np.cumsum(sizes) - sizes)[present]  # where each group begins in ``order``
    sums = np.zeros((k, z.shape[1]))
    sums[present] = np.add.reduceat(z[order], starts, axis=0)
    return sums
