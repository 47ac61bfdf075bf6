"""Why themes keep their own spherical k-means: the day's candidate fits against scikit-learn's.

One day's choice of k fits 8 candidates x 4 restarts on a few hundred unit rows of a few
dozen LSA dimensions. Timed here in one run, CPU seconds, BLAS on one thread (as the themes
stage runs): ``digest.themes.kmeans.spherical_kmeans`` and ``sklearn.cluster.KMeans``
(n_init=4) on the same rows, twice each.

    .venv/bin/python bench/bench_kmeans.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.themes.kmeans import spherical_kmeans  # noqa: E402

CANDIDATES = (6, 7, 8, 9, 10, 12, 14, 16)


def main() -> int:
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(0)
    centres = normalize(rng.normal(size=(10, 30)))
    rows = centres[rng.integers(10, size=250)] + 0.3 * rng.normal(size=(250, 30))
    z = normalize(rows).astype(np.float32)
    print("-- a day's choice of k: 8 candidates x 4 restarts, 250 unit rows x 30 dims")
    with threadpool_limits(limits=1):
        for _ in range(2):
            start = time.process_time()
            for k in CANDIDATES:
                spherical_kmeans(z, k, seed=0, restarts=4)
            ours = time.process_time() - start
            start = time.process_time()
            for k in CANDIDATES:
                KMeans(k, n_init=4, random_state=0).fit_predict(z)
            theirs = time.process_time() - start
            print(
                f"spherical_kmeans {ours * 1000:.0f} ms CPU, sklearn KMeans {theirs * 1000:.0f} ms "
                f"CPU: {theirs / ours:.1f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
