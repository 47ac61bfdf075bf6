"""Profiles as the store keeps them, turned into rankings: what the CLI and the send path call.

* :func:`resolve_seeds` — a profile's seed papers: its seed file, its seed ids, its liked
  papers, resolved against the store; problems as one-line messages.
* :func:`model_for` — the profile's fitted model: the stored one when the profile's revision
  is unchanged, else fitted now (negatives: earlier days from the store, or the day) and saved.
* :func:`recommend` — both, then the day ranked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from digest.models import Paper
from digest.personal.profile import Profile, profile_to_toml
from digest.personal.rank import ProfileModel, Recommendation, fit_model, rank_for_profile
from digest.personal.seeds import SeedLibrary, read_seed_file, seeds_from_ids
from digest.store.profiles import StoredProfile, name_key
from digest.store.protocol import StoreProtocol

NEGATIVE_DAYS = 30  # earlier days sampled for negatives
MIN_PAST_NEGATIVES = 300  # fewer past papers than this: the day's own papers join the negatives


@dataclass(frozen=True)
class Ranking:
    recommendations: tuple[Recommendation, ...]
    problems: tuple[str, ...]  # seed entries or ids that could not be used, one line each
    refitted: bool


def resolve_seeds(store: StoreProtocol, profile: Profile) -> SeedLibrary:
    """The seed papers of ``profile``'s seed file and seed ids (liked papers are added by
    :func:`model_for`), arXiv ids resolved against ``store``."""
    papers: list[Paper] = []
    problems: list[str] = []
    if profile.seed_file:
        lib = read_seed_file(profile.seed_file, store.papers_by_ids)
        papers += lib.papers
        problems += lib.problems
    if profile.seed_ids:
        lib = seeds_from_ids(profile.seed_ids, store.papers_by_ids)
        papers += lib.papers
        problems += lib.problems
    return SeedLibrary(tuple(papers), tuple(problems))


def model_for(
    store: StoreProtocol,
    stored: StoredProfile,
    profile: Profile,
    day: dt.date,
    day_papers: Sequence[Paper] = (),
) -> tuple[ProfileModel, bool]:
    """The fitted model of ``stored`` (True when it was fitted now)."""
    raw = store.profile_model(stored.id, stored.revision)
    model = ProfileModel.from_bytes(raw) if raw is not None else None
    if model is not None:
        return model, False
    seeds = store.profile_seeds(stored.id)
    seed_ids = {p.id for p in seeds}
    liked = [p for p in store.papers_by_ids(profile.liked_ids).values() if p.id not in seed_ids]
    disliked = list(store.papers_by_ids(profile.disliked_ids).values())
    positives = seeds + liked
    skip = seed_ids | {p.id for p in liked} | {p.id for p in disliked}
    negatives = [p for p in store.negative_sample(day, NEGATIVE_DAYS, 2000) if p.id not in skip]
    if len(negatives) < MIN_PAST_NEGATIVES:
        negatives += [p for p in day_papers if p.id not in skip]
    model = fit_model(stored.revision, positives, negatives, disliked)
    store.save_profile_model(stored.id, stored.revision, model.to_bytes())
    return model, True


def recommend(
    store: StoreProtocol,
    profile: Profile,
    day: dt.date,
    papers: Sequence[Paper],
    top: int | None = None,
    key: str | None = None,
) -> Ranking:
    """Rank ``papers`` (the day's) for ``profile``, kept in the store under ``key`` (default:
    its name), its model refitted only when the profile or its seeds changed."""
    seeds = resolve_seeds(store, profile)
    stored = store.save_profile(
        key or name_key(profile.name), profile_to_toml(profile), seeds.papers
    )
    model, refitted = model_for(store, stored, profile, day, papers)
    seed_ids = {p.id for p in seeds.papers}
    candidates = [p for p in papers if p.id not in seed_ids]
    ranked = rank_for_profile(profile, model, candidates, top=top)
    return Ranking(tuple(ranked), seeds.problems, refitted)
