"""Sources: turn command-line inputs or configured sources into dated ``Listing``s.

A source that fails becomes a ``Listing`` with ``status="error"``; the other
sources still run. Entry point: :func:`collect`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from digest.config import Config, SourceConfig
from digest.errors import DigestError, InputError
from digest.formats import DEFAULT_ANNOUNCE_TYPES, listings_in_folder, read_listing
from digest.models import EMPTY, ERROR, Listing
from digest.sources import live
from digest.sources.http import HttpClient


def collect(
    config: Config,
    day: dt.date | None,
    inputs: Sequence[Path] = (),
    store: object = None,
    undated: dt.date | None = None,
) -> list[Listing]:
    """The listings for ``day``: from ``inputs`` when given, else from the enabled configured
    sources. ``day=None`` (no ``--date``): each file keeps the date in its name or content
    (a dated listing is never relabelled), a file without one and a folder of dated
    listings take ``undated`` (none: an error asking for ``--date``), and live sources are
    asked for today. Configured file sources take today when ``undated`` is None."""
    if inputs:
        limit = config.max_listing_bytes
        return [_from_path(path, day, None, undated=undated, limit=limit) for path in inputs]
    today = dt.date.today()
    listings = []
    for source in config.sources:
        if not source.enabled:
            continue
        if source.kind == "file":
            path = config.resolve(source.path)
            listings.append(
                _from_path(
                    path,
                    day,
                    source.name,
                    source.announce_types,
                    undated or today,
                    config.max_listing_bytes,
                )
            )
        else:
            listings.append(_from_source(config, source, day or today, store))
    return listings


def _from_path(
    path: Path,
    day: dt.date | None,
    source: str | None,
    announce_types: tuple[str, ...] | None = DEFAULT_ANNOUNCE_TYPES,
    undated: dt.date | None = None,
    limit: int | None = None,
) -> Listing:
    """A listing file, or the file named ``<day>.*`` in a folder of dated listings
    (``undated`` when no ``day`` is given), of at most ``limit`` bytes once unzipped."""
    name = source or f"file:{path.name}"
    kind = "directory" if path.is_dir() else "file"
    try:
        if kind == "directory":
            day = day or undated
            if day is None:
                raise InputError(f"{path}: a folder of dated listings needs --date to pick a day")
            matches = listings_in_folder(path, day)
            if not matches:
                # a folder without a file for the day is a day without papers (weekends,
                # holidays), not a failure; the note says where we looked
                note = f"{path}: no listing named {day}.* in this folder"
                return Listing(day, name, kind, (), EMPTY, note)
            if len(matches) > 1:
                names = ", ".join(p.name for p in matches)
                raise InputError(f"{path}: several listings for {day} in this folder ({names})")
            path = matches[0]
        return read_listing(path, day, name, announce_types, undated, limit)
    except DigestError as exc:
        return Listing(day, name, kind, (), ERROR, str(exc))


def _from_source(config: Config, source: SourceConfig, day: dt.date, store: object) -> Listing:
    if source.kind in live.LIVE_KINDS:
        cache = store if isinstance(store, live.HttpCache) else None
        client = HttpClient(config.http)
        return live.fetch_listing(source, day, client, cache, limit=config.max_listing_bytes)
    return Listing(day, source.name, source.kind, (), ERROR, f"unknown source kind '{source.kind}'")
