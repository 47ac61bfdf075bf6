"""A reader's profile: what they follow, what they exclude, and the papers they like.

A profile is a frozen :class:`Profile`; on disk it is a small TOML file::

    name = "robotics reader"
    keywords = ["mechanism design", "auctions"]
    exclude = ["survey"]
    categories = ["cs.RO"]
    seed_ids = ["2501.01234"]
    seed_file = "library.bib"          # relative to the TOML file
    liked_ids = []                      # "More like this" feedback
    disliked_ids = []                   # "Fewer like this" feedback

Every key but ``name`` is optional. Errors name the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from digest.errors import ConfigError

LIST_KEYS = ("keywords", "exclude", "categories", "seed_ids", "liked_ids", "disliked_ids")
MAX_LIST = 1000  # a profile is written by a person: more items is a mistake, not a taste
MAX_ITEM_CHARS = 200


class ProfileError(ConfigError):
    """A profile file or value that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Profile:
    name: str
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    seed_ids: tuple[str, ...] = ()
    seed_file: str | None = None  # absolute once loaded from a file
    liked_ids: tuple[str, ...] = ()
    disliked_ids: tuple[str, ...] = ()

    def revision(self, extra: str = "") -> str:
        """A digest of everything the fitted model depends on (``extra``: the seed file's
        content digest): the store refits a profile's model only when this changes."""
        payload = json.dumps([asdict(self), extra], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    @property
    def empty(self) -> bool:
        """True when there is nothing to rank by (excludes alone select nothing)."""
        return not (
            self.keywords or self.categories or self.seed_ids or self.seed_file or self.liked_ids
        )

    def with_feedback(self, paper_id: str, vote: int) -> Profile:
        """The profile after "More like this" (``vote`` > 0) or "Fewer like this" on a paper."""
        liked = tuple(x for x in self.liked_ids if x != paper_id)
        disliked = tuple(x for x in self.disliked_ids if x != paper_id)
        if vote > 0:
            liked += (paper_id,)
        elif vote < 0:
            disliked += (paper_id,)
        return replace(self, liked_ids=liked, disliked_ids=disliked)


def profile_from_dict(data: dict[str, Any], where: str, base: Path | None = None) -> Profile:
    """Validate ``data`` (a parsed TOML table); ``where`` names its file in messages and
    ``base`` is the folder a relative ``seed_file`` is relative to."""
    known = {f.name for f in fields(Profile)}
    for key in data:
        if key not in known:
            raise ProfileError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProfileError(f"{where}: 'name' must be a non-empty string")
    values: dict[str, Any] = {"name": name.strip()}
    for key in LIST_KEYS:
        if key in data:
            values[key] = _string_list(data[key], key, where)
    seed_file = data.get("seed_file")
    if seed_file is not None:
        if not isinstance(seed_file, str) or not seed_file.strip():
            raise ProfileError(f"{where}: 'seed_file' must be a path string")
        path = Path(seed_file).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        values["seed_file"] = str(path)
    return Profile(**values)


def _string_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):  # keywords = "auctions" is meant as one item
        value = [value]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ProfileError(f"{where}: '{key}' must be a list of strings")
    if len(value) > MAX_LIST:
        raise ProfileError(f"{where}: '{key}' has {len(value)} items; at most {MAX_LIST}")
    out: list[str] = []
    for item in value:
        item = " ".join(item.split())
        if len(item) > MAX_ITEM_CHARS:
            raise ProfileError(
                f"{where}: '{key}' item '{item[:40]}…' is longer than {MAX_ITEM_CHARS} characters"
            )
        if item and item not in out:
            out.append(item)
    return tuple(out)


def load_profile(path: Path | str) -> Profile:
    """Read and validate a profile TOML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{p}: no such profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{p}: cannot read the profile: {exc}") from None
    return profile_from_toml(text, str(p), p.resolve().parent)


def profile_from_toml(text: str, where: str = "<profile>", base: Path | None = None) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{where}: not valid TOML: {exc}") from None
    return profile_from_dict(data, where, base)


def profile_to_toml(profile: Profile) -> str:
    """The TOML text of ``profile`` (what :func:`profile_from_toml` reads back)."""
    import tomli_w

    data: dict[str, Any] = {"name": profile.name}
    for key in LIST_KEYS:
        value = getattr(profile, key)
        if value:
            data[key] = list(value)
    if profile.seed_file:
        data["seed_file"] = profile.seed_file
    return tomli_w.dumps(data)
