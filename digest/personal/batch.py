"""Rank a day for many profiles at once: the send path's entry point.

The day is vectorized once (:class:`~digest.personal.rank.Day`). Profiles go in chunks: the
chunk's weight rows are stacked into one sparse matrix and its margins are one product with
the day (:func:`~digest.personal.rank.rank_many`); its positives are stacked too, so the
nearest-positive similarities are one more product, reduced per profile. Memory is bounded by
the chunk, not by the number of profiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from digest.personal.profile import Profile
from digest.personal.rank import Day, ProfileModel, Recommendation, rank_many, score_day

CHUNK = 500  # profiles per product: 500 x 30 positives x a 400-paper day is ~24 MB of floats


def rank_profiles(
    pairs: Iterable[tuple[Profile, ProfileModel]], day: Day, top: int = 10, chunk: int = CHUNK
) -> Iterator[list[Recommendation]]:
    """For each (profile, model), in order, its best ``top`` papers of ``day``."""
    batch: list[tuple[Profile, ProfileModel]] = []
    for pair in pairs:
        batch.append(pair)
        if len(batch) >= chunk:
            yield from _rank_chunk(batch, day, top)
            batch = []
    if batch:
        yield from _rank_chunk(batch, day, top)


def _rank_chunk(
    batch: Sequence[tuple[Profile, ProfileModel]], day: Day, top: int
) -> Iterator[list[Recommendation]]:
    import scipy.sparse as sp

    models = [m for _, m in batch]
    n = len(day.papers)
    if not n:
        for _ in batch:
            yield []
        return
    weights = sp.vstack([m.weights for m in models], format="csr")
    margins = rank_many(weights, np.array([m.intercept for m in models]), day.x)
    sizes = np.array([m.positives.shape[0] for m in models])
    if sizes.sum():
        positives = sp.vstack([m.positives for m in models if m.positives.shape[0]], format="csr")
        sims = np.asarray((day.x @ positives.T).toarray())  # papers x all positives
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    for k, (profile, model) in enumerate(batch):
        if sizes[k]:
            own = sims[:, starts[k] : starts[k] + sizes[k]]
            best, nearest = own.max(axis=1), own.argmax(axis=1)
        else:
            best, nearest = np.zeros(n), np.full(n, -1)
        yield score_day(profile, model, day, margins[k], best, nearest, top)
