"""Build the bundled background model of the themes stage: ``digest/themes/background.npz``.

The model holds document frequencies of the themes tokenizer (:func:`digest.themes.text.tokens`
over :func:`digest.themes.document`) counted on CC0 arXiv listings, so that a day clustered
on a cold start (an empty store) judges a word's rarity on tens of thousands of papers rather
than on itself. Optionally (``--lsa-dims``) it also stores a corpus-level LSA basis; see
docs/themes.md for what that measured and why it is not shipped.

Reproducible: the input files are read in sorted order, ids are deduplicated (a paper listed
again on a later day counts once) and nothing is random but the seeded SVD.

Held out, so that the evaluations stay honest:
* every third day (sorted index % 3 == 2): the papers first listed on those days are never
  counted; ``bench/eval_heldout.py`` builds its mixtures from them;
* the papers of ``../shared/data/themes-dev`` (only their ids are read), so ``make eval``
  measures papers the model has never seen.

    .venv/bin/python bench/build_background.py            # = make background
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.models import Paper  # noqa: E402
from digest.themes import document  # noqa: E402
from digest.themes.background import BUNDLED_PATH, PROBE_TEXT, probe_digest  # noqa: E402
from digest.themes.text import distinct_tokens  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
HOLDOUT_EVERY = 3  # every third day is held out for bench/eval_heldout.py


def is_held_out(day_index: int) -> bool:
    return day_index % HOLDOUT_EVERY == HOLDOUT_EVERY - 1


def first_listings(data: Path) -> Iterator[tuple[int, dict]]:
    """(index of the day a paper was first listed, its row), each id once, in file order."""
    seen: set[str] = set()
    for index, path in enumerate(sorted(data.glob("*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row["id"] not in seen:
                    seen.add(row["id"])
                    yield index, row


def dev_ids(folder: Path) -> set[str]:
    out: set[str] = set()
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.add(str(json.loads(line)["id"]))
    return out


def build(
    data: Path, exclude: set[str], min_df: int, lsa_dims: int, lsa_terms: int, seed: int
) -> tuple[dict[str, np.ndarray], dict]:
    docs: list[frozenset[str]] = []
    texts: list[str] = []
    for index, row in first_listings(data):
        if is_held_out(index) or row["id"] in exclude:
            continue
        text = document(Paper(id=row["id"], title=row["title"], abstract=row["summary"]))
        texts.append(text)
        docs.append(distinct_tokens(text))
    df = Counter(term for doc in docs for term in doc)
    # rare terms are dropped: they would cost most of the file and the themes stage treats a
    # term the model does not know as rarer than any it knows (docs/themes.md)
    kept = sorted((t for t, c in df.items() if c >= min_df), key=lambda t: (-df[t], t))
    arrays: dict[str, np.ndarray] = {
        "terms": np.frombuffer("\n".join(kept).encode("utf-8"), dtype=np.uint8),
        "df": np.array([df[t] for t in kept], dtype=np.uint32),
        "n_docs": np.array(len(docs), dtype=np.uint32),
    }
    meta = {
        "papers": len(docs),
        "terms": len(kept),
        "min_df": min_df,
        "holdout": f"days with sorted index % {HOLDOUT_EVERY} == {HOLDOUT_EVERY - 1}",
        "excluded_ids": len(exclude),
        "probe": probe_digest(),
    }
    if lsa_dims:
        arrays["basis"], arrays["basis_terms"] = _lsa_basis(texts, kept, lsa_terms, lsa_dims, seed)
        meta["lsa_dims"] = lsa_dims
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    return arrays, meta


def _lsa_basis(
    texts: list[str], kept: list[str], n_terms: int, dims: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Term -> topic loadings (float16) of the ``n_terms`` most frequent terms."""
    from sklearn.utils.extmath import randomized_svd

    from digest.themes.cluster import make_vectorizer

    vocabulary = sorted(kept[:n_terms])
    vectorizer = make_vectorizer(len(texts))
    vectorizer.set_params(vocabulary=vocabulary, min_df=1, max_df=1.0)
    x = vectorizer.fit_transform(texts)
    _, _, vt = randomized_svd(x, dims, n_iter=7, random_state=seed)
    index = {t: i for i, t in enumerate(kept)}
    order = np.array([index[t] for t in vocabulary], dtype=np.uint32)
    return vt.T.astype(np.float16), order


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=SHARED / "arxiv-daily")
    ap.add_argument("--exclude-dev", type=Path, default=SHARED / "themes-dev")
    ap.add_argument("--out", type=Path, default=BUNDLED_PATH)
    ap.add_argument("--min-df", type=int, default=5, help="drop terms in fewer papers")
    ap.add_argument("--lsa-dims", type=int, default=0, help="also store an LSA basis (0 = none)")
    ap.add_argument("--lsa-terms", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"{args.data} not found: the model is built from ../shared/data/arxiv-daily")
        return 1
    started = time.perf_counter()
    exclude = dev_ids(args.exclude_dev) if args.exclude_dev.is_dir() else set()
    arrays, meta = build(args.data, exclude, args.min_df, args.lsa_dims, args.lsa_terms, args.seed)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    args.out.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()[:12]
    print(
        f"{args.out}: {meta['papers']:,} papers, {meta['terms']:,} terms, "
        f"{len(buffer.getvalue()) / 1e6:.2f} MB, sha256 {digest}, "
        f"{time.perf_counter() - started:.0f} s (probe text: {PROBE_TEXT!r})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
