"""The source kinds, registered in one place: config validation, ``digest run`` and the
docs all read them here instead of switching on ``kind`` strings.

A kind is one module that builds a :class:`SourceKind` (its config keys, the URL it asks,
the content types it accepts, its parser and its date rule) and calls :func:`register`.
The built-in kinds are the modules in ``BUILTIN``; a contributor's kind registers the
same way from a module named in the config (``plugins = ["module"]``) or from an installed
package's entry point in the ``digest.sources`` group (docs/ARCHITECTURE.md has the recipe).

This module imports nothing of ``digest.config`` so that the config can import it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
import re
import threading
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from digest.configload import coerce, tname, url_ok
from digest.errors import ConfigError, DigestError
from digest.models import Listing, Paper

BUILTIN = ("hf_daily", "arxiv_rss", "feed", "file", "biorxiv")
ENTRY_POINT_GROUP = "digest.sources"


@dataclass(frozen=True)
class DateRule:
    """Which day a reply stands for (docs/sources.md): ``name`` is one of ``keyed`` (the
    service answers for the day asked), ``latest`` (a feed of its latest issue: dated
    another day, or undated and not today, it is stale) or ``named`` (a file)."""

    name: str
    means: str
    why_stale: str = ""


API_DAY = DateRule(
    "keyed",
    "the day asked for (a reply dated another day is stale)",
    "the API answered for another day",
)
LATEST_ISSUE = DateRule(
    "latest",
    "its latest issue only (dated another day, or undated and not today: stale)",
    "a feed only shows its latest issue",
)
FILE_DATE = DateRule("named", "the date in the file name, else in the content, else --date")


@dataclass(frozen=True)
class SourceConfig:
    """One configured source. ``kind`` names a registered :class:`SourceKind`, which says
    which of these keys it takes; keys of its own beyond these sit in ``options``."""

    name: str
    kind: str
    url: str = ""
    categories: tuple[str, ...] = ()
    announce_types: tuple[str, ...] = ("new", "cross")
    path: str = ""
    enabled: bool = True
    # hosts besides the URL's own that a redirect may lead to (digest.sources.http)
    allow_redirect_hosts: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str) -> Any:
        """A kind's own key: its configured value, else the kind's default."""
        for k, v in self.options:
            if k == key:
                return v
        if key in _SHARED:
            return getattr(self, key)
        return get(self.kind).fields[key].default

    @classmethod
    def from_table(cls, table: Any, file: Path, where: str) -> SourceConfig:
        """Build and check one ``[[sources]]`` table (called by ``digest.configload``)."""
        return _build_source(table, file, where)


@dataclass(frozen=True)
class Field:
    """One config key a kind takes. ``check`` returns what is wrong with a value (for a
    list, with each item), or None."""

    hint: Any
    default: Any
    help: str
    required: bool = False
    check: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Page:
    """What a parser makes of one reply: the listing, and the next page's URL if any."""

    listing: Listing
    next_url: str | None = None


@dataclass(frozen=True)
class Parse:
    """What a parser is told besides the bytes."""

    url: str
    day: dt.date
    source: SourceConfig
    limit: int | None


@dataclass(frozen=True)
class Context:
    """What a kind's ``fetch`` may use: ``day`` is ``--date`` (None: the source's own date,
    else today), ``config`` the whole ``Config``, ``store`` the open store (its HTTP cache)."""

    day: dt.date | None
    today: dt.date
    undated: dt.date | None
    config: Any
    store: object = None


@dataclass(frozen=True)
class SourceKind:
    """A kind of source. ``fetch`` turns a source and a context into one ``Listing``,
    never raising (a failure is a ``status="error"`` listing); HTTP kinds leave it to
    :func:`digest.sources.live.fetch`, which GETs ``urls``, parses each page with ``parse``
    and applies ``date_rule``."""

    name: str
    summary: str
    fields: Mapping[str, Field]
    date_rule: DateRule
    url: str = ""  # the default base URL ("" for a local kind)
    accept: str = ""  # the Accept header: the content types it parses
    urls: Callable[[SourceConfig, dt.date], list[str]] | None = None
    parse: Callable[[bytes, Parse], Page] | None = None
    fetch: Callable[[SourceConfig, Context], Listing] | None = None
    min_interval: Callable[[Any], float | None] | None = None  # of the [http] config

    @property
    def keys(self) -> tuple[str, ...]:
        return ("name", "kind", "enabled", *self.fields)


class RegistryError(DigestError):
    """Two modules registered the same kind name, or a plugin failed to load."""


_KINDS: dict[str, SourceKind] = {}
_LOCK = threading.RLock()
_LOADED = False
_SHARED = {f.name for f in fields(SourceConfig)} - {"options"}


def register(kind: SourceKind) -> SourceKind:
    """Make ``kind`` known; a second, different kind of the same name is an error."""
    if kind.fetch is None and (kind.urls is None or kind.parse is None):
        raise RegistryError(f"source kind '{kind.name}' needs either fetch, or urls and parse")
    with _LOCK:
        known = _KINDS.get(kind.name)
        if known is not None and known != kind:
            raise RegistryError(
                f"source kind '{kind.name}' is registered twice ({_origin(known)} and "
                f"{_origin(kind)})"
            )
        _KINDS[kind.name] = kind
    return kind


def _origin(kind: SourceKind) -> str:
    """The module that declared ``kind`` (where its functions live)."""
    return str(getattr(kind.fetch or kind.parse, "__module__", "?"))


def kinds() -> dict[str, SourceKind]:
    """Every registered kind: the built-in ones in ``BUILTIN`` order (whichever module was
    imported first), then the others as they registered."""
    _load_builtin()
    with _LOCK:
        ordered = {name: _KINDS[name] for name in BUILTIN}
        return ordered | _KINDS


def get(name: str) -> SourceKind:
    found = kinds().get(name)
    if found is None:
        raise ConfigError(f"unknown source kind '{name}' (known: {', '.join(kinds())})")
    return found


def load_plugins(modules: tuple[str, ...], file: Path) -> None:
    """Import each module named by the config's ``plugins`` key; it registers its kinds."""
    _load_builtin()
    for i, module in enumerate(modules):
        try:
            importlib.import_module(module)
        except RegistryError as exc:
            raise ConfigError(f"{file}: 'plugins[{i}]' ({module}): {exc}") from None
        except ImportError as exc:
            raise ConfigError(f"{file}: 'plugins[{i}]': cannot import {module}: {exc}") from None
        except Exception as exc:  # a plugin's own bug must still be one line naming it
            raise ConfigError(
                f"{file}: 'plugins[{i}]': {module} failed on import: {type(exc).__name__}: {exc}"
            ) from None


def _load_builtin() -> None:
    global _LOADED
    with _LOCK:
        if _LOADED:
            return
        _LOADED = True  # first, so that a kind module importing this one does not recurse
        for name in BUILTIN:
            importlib.import_module(f"digest.sources.{name}")
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
            except Exception as exc:
                raise RegistryError(
                    f"the {ENTRY_POINT_GROUP} entry point '{ep.name}' ({ep.value}) failed to "
                    f"load: {type(exc).__name__}: {exc}"
                ) from None
            if isinstance(loaded, SourceKind):
                register(loaded)


def _build_source(table: Any, file: Path, where: str) -> SourceConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: '{where}': expected a table, got {tname(table)}")
    for key in ("name", "kind"):
        if key not in table:
            raise ConfigError(f"{file}: '{where}' is missing required key '{key}'")
    name = coerce(str, table["name"], file, f"{where}.name")
    kind_name = coerce(str, table["kind"], file, f"{where}.kind")
    known = kinds()
    kind = known.get(kind_name)
    if kind is None:
        raise ConfigError(
            f"{file}: '{where}.kind' must be one of {', '.join(known)}, got \"{kind_name}\""
        )
    shared: dict[str, Any] = {}
    options: list[tuple[str, Any]] = []
    hints = typing.get_type_hints(SourceConfig)
    for key, value in table.items():
        if key in ("name", "kind"):
            continue
        spec = kind.fields.get(key)
        if key in _SHARED:
            # the shared keys' types are checked first, whatever the kind
            shared[key] = coerce(hints[key], value, file, f"{where}.{key}")
        if spec is None:
            if key == "enabled":
                continue
            raise ConfigError(
                f"{file}: unknown key '{where}.{key}' for kind \"{kind_name}\" "
                f"(its keys: {', '.join(kind.keys)})"
            )
        value = shared[key] if key in _SHARED else coerce(spec.hint, value, file, f"{where}.{key}")
        _check_value(spec, value, file, f"{where}.{key}")
        if key not in _SHARED:
            options.append((key, value))
    for key, spec in kind.fields.items():
        if spec.required and key not in table:
            raise ConfigError(f"{file}: '{where}.{key}' is required for kind \"{kind_name}\"")
    return SourceConfig(name=name, kind=kind_name, **shared, options=tuple(options))


def _check_value(spec: Field, value: Any, file: Path, where: str) -> None:
    if spec.check is None:
        return
    items = enumerate(value) if isinstance(value, tuple) else [(None, value)]
    for i, item in items:
        problem = spec.check(item)
        if problem:
            key = where if i is None else f"{where}[{i}]"
            raise ConfigError(f"{file}: '{key}' {problem}")


def check_sources(sources: tuple[SourceConfig, ...], file: Path) -> None:
    """Checks across sources: each name once (it keys the stored listings)."""
    names: set[str] = set()
    for i, s in enumerate(sources):
        if s.name in names:
            raise ConfigError(f"{file}: 'sources[{i}].name' \"{s.name}\" is used by another source")
        names.add(s.name)


# Keys several kinds share, declared once.
_HOST = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?)*$"
)


def _http_url(value: str) -> str | None:
    return None if url_ok(value) else f'must be an http(s) URL, got "{value}"'


def _host(value: str) -> str | None:
    if _HOST.match(value):
        return None
    return f'must be a host name like "export.arxiv.org" (no scheme, port or path), got "{value}"'


def url_field(help: str, required: bool = False) -> Field:
    return Field(str, "", help, required=required, check=_http_url)


def http_fields(url_help: str, required: bool = False) -> dict[str, Field]:
    """The keys of every HTTP kind: its URL, and the hosts a redirect may go to."""
    return {"url": url_field(url_help, required), "allow_redirect_hosts": REDIRECT_HOSTS}


ANNOUNCE_TYPES = Field(
    tuple[str, ...],
    ("new", "cross"),
    'arXiv announce types kept (also "replace", "replace-cross"); other feeds\' items all pass',
)
REDIRECT_HOSTS = Field(
    tuple[str, ...],
    (),
    "hosts besides the URL's own that a redirect may lead to",
    check=_host,
)


def paper_ids(papers: tuple[Paper, ...]) -> tuple[Paper, ...]:
    """``papers`` without repeats of one id (the first kept): pages and categories overlap."""
    seen: set[str] = set()
    out = []
    for p in papers:
        if p.id not in seen:
            seen.add(p.id)
            out.append(p)
    return tuple(out)
