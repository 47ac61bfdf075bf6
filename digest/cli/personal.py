"""``digest recommend`` and ``digest subscribers profile``: personal digests from the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from digest.cli import cli
from digest.cli.delivery import _config, subscribers
from digest.cli.options import DATE, config_option, inputs_option
from digest.errors import DigestError, NoPapersError


@cli.command()
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Profile TOML: name, and any of keywords, exclude, categories, seed_ids, seed_file.",
)
@click.option("--date", "day", type=DATE, required=True, help="The day to rank.")
@inputs_option
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: a list of {id, title, score, reasons}, best first.",
)
@click.option(
    "--top", type=click.IntRange(min=1), default=25, show_default=True, help="How many papers."
)
def recommend(
    profile_path: Path,
    day: dt.date,
    inputs: tuple[Path, ...],
    config_path: Path | None,
    fmt: str,
    top: int,
) -> None:
    """Rank one day's papers for a profile, without sending anything.

    The day's papers come from --input (stored first, as digest ingest does)
    or, without it, from the store. The profile is kept in the store under its
    name; its model is refitted only when the profile or its seeds change.
    Seed entries that cannot be used are reported on stderr and skipped.
    A profile that matches nothing prints an empty list.

    \b
    Example:
      digest recommend --profile examples/personal/profile.toml --date 2025-03-13 --input examples/listings/2025-03-13.txt
    """
    from digest import pipeline
    from digest.personal.profile import load_profile
    from digest.personal.service import recommend as rank
    from digest.store import Store

    profile = load_profile(profile_path)
    if profile.empty:
        raise DigestError(
            f"{profile_path}: the profile has nothing to rank by: set keywords, categories, "
            "seed_ids or seed_file"
        )
    config = _config(config_path)
    with Store.open(config.database_path) as store:
        if inputs:
            for listing in pipeline.ingest(config, day, inputs, store):
                if not listing.ok:
                    click.echo(f"digest: warning: {listing.source}: {listing.error}", err=True)
        papers = [d.paper for d in store.day_papers(day)]
        if not papers:
            raise NoPapersError(
                f"no papers for {day} in the store; pass --input FILE or run: digest ingest --date {day}"
            )
        ranking = rank(store, profile, day, papers, top=top)
    for problem in ranking.problems:
        click.echo(f"digest: warning: {problem}", err=True)
    if fmt == "json":
        items = [
            {"id": r.paper_id, "title": r.title, "score": r.score, "reasons": list(r.reasons)}
            for r in ranking.recommendations
        ]
        click.echo(json.dumps(items, ensure_ascii=False, indent=1))
        return
    if not ranking.recommendations:
        click.echo(f"nothing for {profile.name} on {day}")
    for n, r in enumerate(ranking.recommendations, 1):
        click.echo(f"{n:2}. {r.score:7.3f}  {r.title} [{r.paper_id}]")
        for reason in r.reasons:
            click.echo(f"              {reason}")


def _split(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """Repeated or comma-separated values; None when the option was not given."""
    if not values:
        return None
    return tuple(x.strip() for v in values for x in v.split(",") if x.strip())


@subscribers.command("profile")
@click.argument("email")
@click.option("--keywords", multiple=True, help="Terms to follow, comma-separated (replaces).")
@click.option("--exclude", multiple=True, help="Terms to exclude, comma-separated (replaces).")
@click.option("--categories", multiple=True, help="arXiv categories, comma-separated (replaces).")
@click.option(
    "--seed-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Seed library: a listing, BibTeX, RIS, CSL-JSON or arXiv ids (replaces the seeds).",
)
@click.option(
    "--seed-ids", multiple=True, help="arXiv ids of seed papers, comma-separated (replaces)."
)
@click.option(
    "--import",
    "import_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Replace the profile by this TOML file (as --show prints).",
)
@click.option("--show", is_flag=True, help="Print the profile as TOML (an export).")
@config_option
def profile(
    email: str,
    keywords: tuple[str, ...],
    exclude: tuple[str, ...],
    categories: tuple[str, ...],
    seed_file: Path | None,
    seed_ids: tuple[str, ...],
    import_path: Path | None,
    show: bool,
    config_path: Path | None,
) -> None:
    """Set or show the personal-digest profile of subscriber EMAIL.

    Options given replace that part of the profile; the others are kept. Seed
    entries that cannot be used are reported (FILE:LINE) and skipped.

    \b
    Example:
      digest subscribers profile ada@example.org --keywords "mechanism design, auctions"
      digest subscribers profile ada@example.org --show > ada.toml
    """
    from dataclasses import replace

    from digest.personal.profile import Profile, load_profile, profile_from_toml, profile_to_toml
    from digest.personal.service import resolve_seeds
    from digest.store import Store
    from digest.store import subscribers as subs

    address = subs.normalize_email(email)
    config = _config(config_path)
    with Store.open(config.database_path) as store:
        if store.subscriber(address) is None:
            raise DigestError(
                f"{address} is not a subscriber; add them first: digest subscribers add {address}"
            )
        stored = store.subscriber_profile(address)
        current = profile_from_toml(stored.toml) if stored else Profile(name=address)
        changed = False
        if import_path is not None:
            current = load_profile(import_path)
            changed = True
        updates: dict[str, Any] = {
            k: v
            for k, v in (
                ("keywords", _split(keywords)),
                ("exclude", _split(exclude)),
                ("categories", _split(categories)),
                ("seed_ids", _split(seed_ids)),
            )
            if v is not None
        }
        if seed_file is not None:
            updates["seed_file"] = str(seed_file.resolve())
        if updates:
            current = replace(current, **updates)
            changed = True
        if changed:
            seeds = None
            if current.seed_file or "seed_ids" in updates or (import_path and current.seed_ids):
                lib = resolve_seeds(store, current)
                for problem in lib.problems:
                    click.echo(f"digest: warning: {problem}", err=True)
                seeds = list(lib.papers)
            # the seed papers are kept in the store, not the file: an upload is not kept
            current = replace(current, seed_file=None)
            stored = store.save_subscriber_profile(address, profile_to_toml(current), seeds)
            n = len(store.profile_seeds(stored.id))
            click.echo(f"profile of {address} saved ({n} seed papers)", err=True)
        if show or not changed:
            if stored is None:
                raise DigestError(
                    f"{address} has no profile; set one: digest subscribers profile {address} --keywords ..."
                )
            click.echo(profile_to_toml(current), nl=False)
