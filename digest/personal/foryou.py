"""The For you section of every subscriber's email: all profiles ranked for one day at once.

:func:`rank_subscribers` takes each confirmed subscriber's stored model (refitted only when
the profile's revision changed: :func:`digest.personal.service.model_for`), stacks the weight
rows and scores the whole day for all of them in one sparse product
(:func:`digest.personal.rank.rank_many`); each profile's keywords, categories, nearest seed
and excludes then pick and explain its papers (:func:`digest.personal.rank.score_day`). The
For you score adds ``personal.trending_weight`` times the paper's trending score,
standardized over the day, to the relevance score. A profile that matches nothing gets no
section at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from digest.config import Config
from digest.models import Digest, Paper
from digest.personal.profile import Profile, ProfileError, profile_from_toml
from digest.personal.rank import ProfileModel, day_matrix, rank_many, score_day
from digest.personal.service import model_for
from digest.store import Store
from digest.store.foryou import ForYouItem
from digest.store.profiles import StoredProfile

log = logging.getLogger("digest.personal")

BATCH = 1000  # profiles ranked per sparse product: memory stays flat as the list grows


@dataclass(frozen=True)
class RankedSubscribers:
    """For you items by subscriber id (only readers with a non-empty section), and counts."""

    sections: dict[int, tuple[ForYouItem, ...]]
    profiles: int
    refitted: int


def rank_subscribers(store: Store, config: Config, digest: Digest) -> RankedSubscribers:
    """Rank ``digest``'s papers for every confirmed subscriber with a profile."""
    papers = [rp.paper for rp in digest.papers]
    sections: dict[int, tuple[ForYouItem, ...]] = {}
    profiles = refitted = 0
    if not papers:
        return RankedSubscribers(sections, 0, 0)
    x = day_matrix(papers)
    trend = _standard(np.array([rp.score for rp in digest.papers]))
    weight = config.personal.trending_weight
    index = {p.id: i for i, p in enumerate(papers)}
    for batch in _batches(store, config, digest, papers):
        profiles += len(batch)
        refitted += sum(1 for b in batch if b[4])
        margins = rank_many(
            _stack([b[3].weights for b in batch]), np.array([b[3].intercept for b in batch]), x
        )
        for row, (sid, profile, seed_ids, model, _fresh) in enumerate(batch):
            keep = [i for i, p in enumerate(papers) if p.id not in seed_ids]
            if not keep:
                continue
            sub = [papers[i] for i in keep]
            xs = x[keep]
            sims = (xs @ model.positives.T).toarray() if model.positives.shape[0] else None
            ranked = score_day(profile, model, sub, xs, margins[row, keep], sims)
            if not ranked:
                continue
            blended = sorted(
                ((r.score + weight * float(trend[index[r.paper_id]]), r) for r in ranked),
                key=lambda pair: -pair[0],
            )[: config.personal.max_items]
            sections[sid] = tuple(
                ForYouItem(
                    r.paper_id, r.title, papers[index[r.paper_id]].url, r.reasons, round(s, 4)
                )  # fmt: skip
                for s, r in blended
            )
    return RankedSubscribers(sections, profiles, refitted)


_Entry = tuple[int, Profile, set[str], ProfileModel, bool]


def _batches(
    store: Store, config: Config, digest: Digest, papers: list[Paper]
) -> Iterator[list[_Entry]]:
    batch: list[_Entry] = []
    for email, stored in store.confirmed_profiles():
        entry = _entry(store, stored, email, digest, papers)
        if entry is None:
            continue
        batch.append(entry)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _entry(
    store: Store, stored: StoredProfile, email: str, digest: Digest, papers: list[Paper]
) -> _Entry | None:
    try:
        profile = profile_from_toml(stored.toml, f"the stored profile of {email}")
    except ProfileError as exc:  # written by this program; a damaged row costs one section
        log.warning("%s; no For you section", exc)
        return None
    if profile.empty or stored.subscriber_id is None:
        return None
    model, fresh = model_for(store, stored, profile, digest.date, papers)
    seed_ids = {p.id for p in store.profile_seeds(stored.id)} | set(profile.disliked_ids)
    return stored.subscriber_id, profile, seed_ids, model, fresh


def _stack(rows: list[object]) -> object:
    import scipy.sparse as sp

    return sp.vstack(rows, format="csr")


def _standard(v: np.ndarray) -> np.ndarray:
    sd = float(v.std()) if v.size else 0.0
    return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v, dtype=np.float64)
