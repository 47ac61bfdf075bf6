"""Sources: turn command-line inputs or configured sources into dated ``Listing``s.

Each ``kind`` of source is a module registered in :mod:`digest.sources.registry`; this
module only asks each configured source's kind for its listing. A source that fails
becomes a ``Listing`` with ``status="error"``; the other sources still run. Entry point:
:func:`collect`. (Nothing is imported at the top: ``digest.config`` imports the registry.)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from digest.models import ERROR, Listing

if TYPE_CHECKING:
    from digest.config import Config
    from digest.sources.registry import Context, SourceConfig

log = logging.getLogger("digest")


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
    from digest.sources.file import read_path
    from digest.sources.registry import Context

    if inputs:
        limit = config.max_listing_bytes
        return [read_path(path, day, None, undated=undated, limit=limit) for path in inputs]
    ctx = Context(day, dt.date.today(), undated, config, store)
    return [fetch_source(source, ctx) for source in config.sources if source.enabled]


def fetch_source(source: SourceConfig, ctx: Context) -> Listing:
    """One source's listing by its kind's ``fetch``; whatever goes wrong is an error listing."""
    from digest.errors import DigestError
    from digest.sources import live, registry

    day = ctx.day or ctx.today
    try:
        kind = registry.get(source.kind)
        return (kind.fetch or live.fetch)(source, ctx)
    except DigestError as exc:
        return Listing(day, source.name, source.kind, (), ERROR, " ".join(str(exc).split()))
    except Exception as exc:  # a plugin's bug must not take the other sources down
        log.debug("source %s failed unexpectedly", source.name, exc_info=True)
        message = (
            f"{source.name}: unexpected {type(exc).__name__}: {exc} (run with --debug for details)"
        )
        return Listing(day, source.name, source.kind, (), ERROR, " ".join(message.split()))
