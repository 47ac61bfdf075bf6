"""The day's final groups: a consensus of many quick k-means runs at the chosen k.

One k-means partition depends on where its seeds fell: papers between two topics go one way
or the other by luck, and the best of a few restarts (by total cosine to the centres) is not
the partition that agrees most with the categories. Here ``themes.consensus_runs`` (40)
single k-means runs on the day's LSA vectors vote: two papers are as close as the share of
runs that put them together (the co-association matrix, Fred & Jain's evidence
accumulation), and average linkage on ``1 - share`` cuts them into k groups
(``scipy.cluster.hierarchy``: scikit-learn's ``AgglomerativeClustering`` does the same, but
importing ``sklearn.cluster`` costs 0.24-0.6 s more on every ``digest run``, against 0.03 s
for scipy's module; ``python -X importtime``, 2026-12-06).

Measured (issue 14, docs/themes.md): with k chosen as before, mean V-measure over five
seeds on the tune mixtures 0.461 -> 0.477, the test mixtures 0.363 -> 0.379, themes-dev
0.554 -> 0.560. It costs 16-28% more CPU in the themes stage (250 to 5,000-paper days).

The matrix is n x n: days bigger than ``cluster.SELECTION_SAMPLE`` vote on that sample, and
the other papers join the group whose centre is nearest (``cluster._best_partition``).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from digest.themes.kmeans import kmeans_runs

# the votes' generator: apart from the seed the candidates' fits draw from
SEED_OFFSET = 1000


def consensus_groups(z: np.ndarray, k: int, seed: int, runs: int) -> np.ndarray | None:
    """k groups of the rows of ``z`` (unit LSA vectors), or None when there is nothing to
    vote on (no runs, fewer than 2 groups or no more rows than groups)."""
    n = len(z)
    if k < 2 or runs < 1 or n <= k:
        return None
    votes = np.zeros((n, k * runs), dtype=np.float32)
    for run, labels in enumerate(kmeans_runs(z, k, seed * SEED_OFFSET, runs)):
        votes[np.arange(n), run * k + labels] = 1.0
    together = votes @ votes.T  # one product: how many runs put each two papers together
    distance = 1.0 - together / runs
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return np.asarray(fcluster(tree, k, criterion="maxclust")) - 1
