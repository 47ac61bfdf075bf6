"""Document frequencies from beyond the day, for the IDF of the clustering vectorizer.

Two sources, blended by :func:`blended_idf`:

* the **store**: papers of earlier days (``themes.background_days``), counted exactly;
* the **bundled model** (``background.npz``, built by ``bench/build_background.py`` from CC0
  arXiv listings): document frequencies of about 28,000 papers, loaded once per process.

The rule (docs/themes.md): the bundled model counts as ``themes.prior_papers`` pseudo-papers
with its document *rates*, minus the store papers there are, so it fills in what the store
lacks: on a cold start it stands for a corpus of that size, and once the store holds that
many papers it steps aside and the user's own sources define what is common.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path

import numpy as np

log = logging.getLogger("digest.themes")

BUNDLED_PATH = Path(__file__).with_name("background.npz")

# The model is only valid for the tokenizer it was counted with: the digest of this text's
# tokens is stored in the model, and a test fails when text.py changes them (rebuild it).
PROBE_TEXT = (
    "Towards Robust Segmentation of Medical Images: we propose a novel framework, and "
    "experiments show that robots' grasping policies generalized across simulated environments."
)


def probe_digest() -> str:
    from digest.themes.text import STOP_WORDS, clean_text, tokens

    payload = json.dumps([tokens(clean_text(PROBE_TEXT)), sorted(STOP_WORDS)])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class BackgroundModel:
    """Document counts of a corpus: ``df[index[term]]`` of ``n_docs`` papers."""

    index: dict[str, int]
    df: np.ndarray  # float64, one per term
    n_docs: int
    meta: dict

    def rates(self, terms: Sequence[str]) -> np.ndarray:
        """Each term's share of the corpus's papers; 0 for a term the model does not hold."""
        at = np.fromiter(map(self.index.get, terms, repeat(-1)), dtype=np.int64, count=len(terms))
        counts = np.where(at >= 0, self.df[np.maximum(at, 0)], 0.0) if len(self.df) else at * 0.0
        return counts / max(self.n_docs, 1)


def load_model(path: Path = BUNDLED_PATH) -> BackgroundModel | None:
    """The model at ``path``; None when the file is absent or unreadable (a damaged install):
    themes then use the day and the store, and a warning says so.

    Read once per process (:data:`digest.context.CONTEXT`, measured there): themes, labels,
    topics and personal features each ask for it, for every day of a backfill."""
    from digest.context import CONTEXT

    return CONTEXT.background_model(str(path), lambda _: _read_model(path))


def _read_model(path: Path) -> BackgroundModel | None:
    try:
        with np.load(path) as data:
            terms = bytes(data["terms"]).decode("utf-8").split("\n")
            df = data["df"].astype(np.float64)
            n_docs = int(data["n_docs"])
            meta = json.loads(bytes(data["meta"]).decode())
        if len(terms) != len(df):
            raise ValueError(f"{len(terms)} terms but {len(df)} counts")
    except FileNotFoundError:
        log.warning("no bundled background model at %s: themes use the day and the store", path)
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning(
            "unreadable background model %s (%s): themes use the day and the store", path, exc
        )
        return None
    return BackgroundModel({t: i for i, t in enumerate(terms)}, df, n_docs, meta)


def blended_idf(
    terms: Sequence[str],
    day_df: np.ndarray,
    n_day: int,
    store_docs: Sequence[str],
    model: BackgroundModel | None,
    prior_papers: int,
) -> np.ndarray:
    """Smoothed IDF (TfidfVectorizer's formula) of the day's ``terms`` over the day, the store
    papers ``store_docs`` (cleaned documents) and the model's share of the prior."""
    df = np.asarray(day_df, dtype=np.float64).copy()
    total = float(n_day)
    if store_docs:
        df += store_document_frequencies(terms, store_docs)
        total += len(store_docs)
    weight = max(0, prior_papers - len(store_docs)) if model is not None else 0
    if weight:
        assert model is not None
        df += weight * model.rates(terms)
        total += weight
    return np.log((1.0 + total) / (1.0 + df)) + 1.0


def store_document_frequencies(terms: Sequence[str], docs: Sequence[str]) -> np.ndarray:
    """How many of ``docs`` (cleaned documents) use each of ``terms`` (themes tokens).

    Store papers come back on the following days (``themes.background_days``): their distinct
    tokens are kept per process (:data:`digest.context.CONTEXT`), so a day's store counts are
    one count over sets already made."""
    from digest.themes.text import distinct_tokens

    counts = Counter(chain.from_iterable(map(distinct_tokens, docs)))
    return np.fromiter(map(counts.__getitem__, terms), dtype=np.float64, count=len(terms))
