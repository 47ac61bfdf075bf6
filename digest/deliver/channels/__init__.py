"""Delivery channels: where a produced digest goes, each exactly once per round.

A channel is anything with ``send(digest, rendered, recipients)``: email (one message per
confirmed subscriber, with each reader's For you section: :mod:`.email`) and chat (one
post per configured room, through apprise: :mod:`.chat`). ``digest send``, ``digest run
--send`` and the scheduler all reach them through :func:`digest.deliver.deliver`, which
holds the send lock and opens the round; each channel asks the delivery log whom it has
not served yet in that round, so a rerun sends only what is missing.

Adding a channel: a module here with a class satisfying :class:`Channel` and, when it is
configured from ``[[channels]]``, a ``check(entry, where, file)`` function and an entry in
:data:`KINDS` (docs/ARCHITECTURE.md has the recipe).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from digest.errors import ConfigError

if TYPE_CHECKING:
    from digest.config import ChannelConfig, Config
    from digest.models import Digest
    from digest.store.protocol import StoreProtocol

# the kinds a [[channels]] entry may name -> the module that implements it (imported only
# when used: apprise takes a while to import, and most runs never post to a chat)
KINDS: dict[str, str] = {"chat": "digest.deliver.channels.chat"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Rendered:
    """The day as the render stage wrote it; each channel takes its own part."""

    email_txt: str
    email_html: str
    output_dir: Path  # where a dry run writes what it would have sent (OUTPUT/DAY/outbox/)


@dataclass(frozen=True)
class Recipients:
    """Whom a send is for: the round of the delivery log (``store``, its key: a digest's
    date or a week like 2025-W12) whose unserved entries a channel serves. ``round`` is 0
    for a dry run, which writes to the outbox and leaves the log alone."""

    store: StoreProtocol
    key: dt.date | str
    round: int
    resend: bool = False


class Outcome(Protocol):
    """What a channel reports: deferred entries make ``digest send`` exit 1 (run it again)."""

    @property
    def deferred(self) -> int: ...

    def summary(self) -> str: ...


class Channel(Protocol):
    """A delivery channel. ``name`` is its key in the delivery log."""

    name: str

    def send(self, digest: Digest, rendered: Rendered, recipients: Recipients) -> Outcome: ...


def check_config(entries: Sequence[ChannelConfig], file: Path) -> None:
    """The ``[[channels]]`` checks of ``digest.config`` (before any work): kind, name, and
    what the kind's own module checks (its URL)."""
    names: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"channels[{i}]"
        if entry.kind not in KINDS:
            raise ConfigError(
                f"{file}: '{where}.kind' must be one of {', '.join(KINDS)}, got \"{entry.kind}\""
            )
        if not _NAME.match(entry.name):
            raise ConfigError(
                f"{file}: '{where}.name' must be letters, digits, '.', '_' or '-' "
                f'(at most 64), got "{entry.name}"'
            )
        if entry.name in names or entry.name == "email":
            raise ConfigError(f"{file}: '{where}.name' \"{entry.name}\" is used by another channel")
        names.add(entry.name)
        importlib.import_module(KINDS[entry.kind]).check(entry, where, file)


def configured(config: Config, need_secrets: bool = True) -> list[Channel]:
    """The enabled ``[[channels]]`` of ``config``, built (secrets read: a missing one is a
    one-line DigestError before anything is sent; ``need_secrets`` False for a dry run)."""
    channels: list[Channel] = []
    for i, entry in enumerate(config.channels):
        if entry.enabled:
            module = importlib.import_module(KINDS[entry.kind])
            channels.append(module.build(config, entry, f"channels[{i}]", need_secrets))
    return channels
