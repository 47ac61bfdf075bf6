"""Typed TOML tables into frozen dataclasses: the loader under ``digest.config``.

Each key is checked against the dataclass fields and their type hints, so an unknown key,
a wrong type or a bad date fails with one line naming the file and the key. A dataclass
with a ``from_table(table, file, where)`` classmethod builds itself (a source table, whose
keys depend on its kind: ``digest.sources.registry``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from digest.errors import ConfigError


def build(
    cls: type, data: Any, file: Path, where: str, skip: set[str] | frozenset[str] = frozenset()
) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: '{where or 'top level'}': expected a table, got {tname(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{where}.{key}" if where else key
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{file}: unknown key '{name}' (known here: {known})")
        kwargs[key] = coerce(hints[key], value, file, name)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{file}: '{where}' is missing required key '{missing[0]}'")
    return cls(**kwargs)


def coerce(hint: Any, value: Any, file: Path, name: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        from_table = getattr(hint, "from_table", None)
        if from_table is not None:
            return from_table(value, file, name)
        return build(typing.cast(type, hint), value, file, name)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{file}: '{name}' must be a list, got {tname(value)}")
        item = args[0]
        return tuple(coerce(item, v, file, f"{name}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return coerce(next(a for a in args if a is not type(None)), value, file, name)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{file}: '{name}' must be true or false, got {tname(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{file}: '{name}' must be an integer, got {tname(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{file}: '{name}' must be a number, got {tname(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{file}: '{name}' must be a string, got {tname(value)}")
        return value
    if hint is dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        raise ConfigError(f"{file}: '{name}' must be a date like 2025-03-13, got {tname(value)}")
    raise ConfigError(f"{file}: '{name}' has a type the loader does not know")  # pragma: no cover


def tname(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"' if len(value) < 40 else "a string"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def url_ok(url: str) -> bool:
    u = urlparse(url)
    return u.scheme in ("http", "https") and bool(u.netloc)


def positive(file: Path, values: tuple[tuple[str, float], ...], strict: bool) -> None:
    """Each (key, value) must be > 0 (``strict``) or >= 0; the error names the first that is not."""
    for key, value in values:
        if value < 0 or (strict and value == 0):
            wanted = "greater than 0" if strict else "0 or more"
            raise ConfigError(f"{file}: '{key}' must be {wanted}, got {value}")
