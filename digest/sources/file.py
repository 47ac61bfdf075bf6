"""``file``: a listing file, or a folder of dated listings (``YYYY-MM-DD.*``), on disk.

Any format ``digest.formats`` reads (detected from the content). The date rule is
``named``: the date in the file name, else in the content, else ``--date``; a folder
picks the file named for the day, and has none on days without papers. ``--input``
paths are read the same way (:func:`read_path`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from digest.errors import DigestError, InputError
from digest.formats import DEFAULT_ANNOUNCE_TYPES, listings_in_folder, read_listing
from digest.models import EMPTY, ERROR, Listing
from digest.sources.registry import (
    ANNOUNCE_TYPES,
    FILE_DATE,
    Context,
    Field,
    SourceConfig,
    SourceKind,
    register,
)


def fetch(source: SourceConfig, ctx: Context) -> Listing:
    path = ctx.config.resolve(source.path)
    limit = ctx.config.max_listing_bytes
    undated = ctx.undated or ctx.today
    return read_path(path, ctx.day, source.name, source.announce_types, undated, limit)


def read_path(
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


KIND = register(
    SourceKind(
        name="file",
        summary="a listing file or a folder of YYYY-MM-DD.* listings (any format digest reads)",
        fields={
            "path": Field(str, "", "the file or folder, relative to the project root", True),
            "announce_types": ANNOUNCE_TYPES,
        },
        date_rule=FILE_DATE,
        fetch=fetch,
    )
)
