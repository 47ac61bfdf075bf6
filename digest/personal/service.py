"""Profiles as the store keeps them, turned into rankings: what the CLI and the send path call.

* :func:`resolve_seeds` — a profile's seed papers: its seed file, its seed ids, its liked
  papers, resolved against the store; problems as one-line messages.
* :func:`model_for` — the profile's fitted model: the stored one when the profile's revision
  is unchanged, else fitted now (negatives: earlier days from the store, or the day) and saved.
  :class:`Negatives` is what every fit of one day shares (the sample, vectorized once, and
  the IDF prior): the send path makes it once for all the profiles it refits.
* :func:`recommend` — both, then the day ranked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.models import Paper
from digest.personal.features import Prior, counts
from digest.personal.profile import Profile, profile_to_toml
from digest.personal.rank import (
    MAX_NEGATIVES,
    Day,
    ProfileModel,
    Recommendation,
    fit_model,
    rank_for_profile,
)
from digest.personal.seeds import SeedLibrary, read_seed_file, seeds_from_ids
from digest.store.profiles import StoredProfile, name_key
from digest.store.protocol import StoreProtocol

if TYPE_CHECKING:
    import scipy.sparse as sp

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


@dataclass(frozen=True, eq=False)
class Negatives:
    """A day's negatives for every profile fitted that day: the store's sample of earlier
    days, then the day's own papers (used when the sample is short), with their raw feature
    counts and the IDF prior. Made once, a refit costs its own papers only (a cold send of
    1,000 profiles vectorized the same negatives and hashed the prior 100 times)."""

    past: tuple[Paper, ...]
    today: tuple[Paper, ...]
    counts: sp.csr_matrix  # rows: past, then today
    prior: Prior

    @classmethod
    def of(
        cls,
        store: StoreProtocol,
        day: dt.date,
        day_papers: Sequence[Paper] = (),
        prior: Prior | None = None,
    ) -> Negatives:
        past = tuple(store.negative_sample(day, NEGATIVE_DAYS, MAX_NEGATIVES))
        both = past + tuple(day_papers)
        return cls(past, tuple(day_papers), counts(both), prior or Prior.load())

    def without(self, skip: set[str]) -> tuple[list[Paper], sp.csr_matrix]:
        """The negatives of a profile whose own papers are ``skip``, and their counts."""
        rows = [i for i, p in enumerate(self.past) if p.id not in skip]
        if len(rows) < MIN_PAST_NEGATIVES:
            rows += [len(self.past) + i for i, p in enumerate(self.today) if p.id not in skip]
        papers = [(self.past + self.today)[i] for i in rows]
        return papers, self.counts[rows]


def model_for(
    store: StoreProtocol,
    stored: StoredProfile,
    profile: Profile,
    day: dt.date,
    day_papers: Sequence[Paper] = (),
    negatives: Callable[[], Negatives] | None = None,
) -> tuple[ProfileModel, bool]:
    """The fitted model of ``stored`` (True when it was fitted now). ``negatives`` gives the
    day's :class:`Negatives` when a fit is needed (the send path: one set for all its
    refits); without it they are made for this fit."""
    raw = store.profile_model(stored.id, stored.revision)
    model = ProfileModel.from_bytes(raw) if raw is not None else None
    if model is not None:
        return model, False
    seeds = store.profile_seeds(stored.id)
    seed_ids = {p.id for p in seeds}
    liked = [p for p in store.papers_by_ids(profile.liked_ids).values() if p.id not in seed_ids]
    disliked = list(store.papers_by_ids(profile.disliked_ids).values())
    skip = seed_ids | {p.id for p in liked} | {p.id for p in disliked}
    shared = negatives() if negatives is not None else Negatives.of(store, day, day_papers)
    papers, rows = shared.without(skip)
    model = fit_model(
        stored.revision,
        seeds + liked,
        papers,
        disliked,
        negative_counts=rows,
        prior=shared.prior,
    )
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
    prior = Prior.load()  # one for the fit and the day
    model, refitted = model_for(
        store, stored, profile, day, papers, lambda: Negatives.of(store, day, papers, prior)
    )
    seed_ids = {p.id for p in seeds.papers}
    candidates = Day.of([p for p in papers if p.id not in seed_ids], prior=prior)
    ranked = rank_for_profile(profile, model, candidates, top=top)
    return Ranking(tuple(ranked), seeds.problems, refitted)
