"""Sources: turn command-line inputs or configured sources into dated ``Listing``s.

A source that fails becomes a ``Listing`` with ``status="error"``; the other
sources still run. Entry point: :func:`collect`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from digest.config import Config, SourceConfig
from digest.errors import DigestError
from digest.formats import date_from_name, read_listing
from digest.models import ERROR, Listing


def collect(config: Config, day: dt.date, inputs: Sequence[Path] = (), store: object = None) -> list[Listing]:
    """The listings for ``day``: from ``inputs`` when given, else from the enabled configured sources."""
    if inputs:
        return [_from_path(path, day, None) for path in inputs]
    listings = []
    for source in config.sources:
        if source.enabled:
            listings.append(_from_source(config, source, day, store))
    return listings


def _from_path(path: Path, day: dt.date, source: str | None) -> Listing:
    name = source or f"file:{path.name}"
    try:
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if date_from_name(p) == day)
            if not matches:
                return Listing(day, name, "directory", (), ERROR, f"{path}: no listing named {day}.* in this folder")
            path = matches[0]
        listing = read_listing(path, day, name)
    except DigestError as exc:
        return Listing(day, name, "file", (), ERROR, str(exc))
    return listing


def _from_source(config: Config, source: SourceConfig, day: dt.date, store: object) -> Listing:
    if source.kind == "file":
        return _from_path(config.resolve(source.path), day, source.name)
    return Listing(day, source.name, source.kind, (), ERROR, f"live source kind '{source.kind}' is not available yet")
