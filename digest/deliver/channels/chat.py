"""The chat channel: a short digest (the top 5 and the theme list, with links: the
``chat.md`` template) posted once per round to Slack, Discord, Matrix, Mattermost,
Microsoft Teams, Telegram, ntfy or a generic JSON/form webhook, through apprise's public
API (one library for all of them; it turns the Markdown into each service's format).

Exactly once through the delivery log (:mod:`digest.store.channel_log`): a post already
``sent`` in this round is not posted again; a failed one (an error reply, a 429, no
connection) is logged ``deferred`` and posted by the next run. The reason apprise logged
(for the webhook plugins, the status: "Too Many Requests, error=429") is kept in the log's
``error`` column and the summary line, with the secret masked.

Why a 429's Retry-After is not honoured (checked in apprise 2.3.0's source, issue 12):
apprise gives a caller no HTTP reply. ``Apprise.notify`` returns a bool; the plugins keep
no response object and have no public attribute for a status or a header; and what
:class:`apprise.LogCapture` captures is text, where the JSON, form, Slack, Mattermost,
Teams, Telegram and ntfy plugins log the status code but never the Retry-After header.
Only some plugins act on rate limits themselves, inside ``notify``: Discord waits out
``X-RateLimit-Reset``, Matrix a 429's ``retry_after_ms``, and Fluxer and Trigv read
Retry-After. Reading the header would mean parsing log wording or patching requests, not a
public API, so the post is deferred to the next run like any failure; apprise's own
``?retry=N&wait=S`` URL parameters add tries within the run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from digest import writer
from digest.config import ChannelConfig, Config
from digest.deliver.channels import Recipients, Rendered
from digest.errors import ConfigError, DigestError
from digest.models import Digest

log = logging.getLogger("digest.deliver")

# apprise URL schemes of the services we document, by service (the error message lists them)
SERVICES: dict[str, tuple[str, ...]] = {
    "Slack": ("slack",),
    "Discord": ("discord",),
    "Matrix": ("matrix", "matrixs"),
    "Mattermost": ("mmost", "mmosts"),
    "Microsoft Teams": ("msteams", "workflow", "workflows"),
    "Telegram": ("tgram",),
    "ntfy": ("ntfy", "ntfys"),
    "a JSON or form webhook": ("json", "jsons", "form", "forms"),
    # a service's own webhook URL (https://hooks.slack.com/services/..., discord.com, ...)
    "the service's webhook": ("https",),
}
SCHEMES = {scheme for schemes in SERVICES.values() for scheme in schemes}
SECRET = "{secret}"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SENDING, SENT, DEFERRED = "sending", "sent", "deferred"


def check(entry: ChannelConfig, where: str, file: Path) -> None:
    """The keys of one chat entry, checked when the config is loaded (no secret needed)."""
    scheme, sep, rest = entry.url.partition("://")
    if not sep or scheme.lower() not in SCHEMES or not rest:
        known = "; ".join(
            f"{svc}: {', '.join(s + '://' for s in ss)}" for svc, ss in SERVICES.items()
        )
        raise ConfigError(
            f"{file}: '{where}.url' must be an apprise URL of a chat service ({known}), "
            f'got "{_shown(entry.url)}"'
        )
    if entry.secret_env and not _ENV_NAME.match(entry.secret_env):
        raise ConfigError(
            f"{file}: '{where}.secret_env' must name an environment variable, "
            f'got "{entry.secret_env}"'
        )
    if entry.secret_env and entry.url.count(SECRET) != 1:
        raise ConfigError(
            f"{file}: '{where}.url' must hold {SECRET} once, where the value of "
            f"{entry.secret_env} ('{where}.secret_env') goes"
        )
    if SECRET in entry.url and not entry.secret_env:
        raise ConfigError(
            f"{file}: '{where}.secret_env' is required: '{where}.url' holds {SECRET} "
            "(name the environment variable that holds the secret)"
        )


def _shown(url: str) -> str:
    return url if len(url) <= 60 else url[:57] + "..."


@dataclass(frozen=True)
class ChatOutcome:
    name: str
    status: str  # posted, already posted, deferred, unknown (an interrupted run), dry run
    detail: str = ""

    @property
    def deferred(self) -> int:
        return int(self.status == DEFERRED)

    def summary(self) -> str:
        text = f"chat {self.name}: {self.status}"
        if self.status == DEFERRED:
            text += f" ({self.detail or 'the post failed'}; run again to retry)"
        elif self.status == "unknown":
            text += " (an interrupted run was posting it; not posted again: --resend posts it)"
        elif self.status == "already posted":
            text += " (--resend to post again)"
        return text


@dataclass(frozen=True)
class ChatChannel:
    """One ``[[channels]]`` entry of kind ``chat``, its secret read."""

    name: str
    url: str  # with the secret: never logged or shown
    secret: str
    config: Config

    def send(self, digest: Digest, rendered: Rendered, recipients: Recipients) -> ChatOutcome:
        from digest.render.markdown import render_chat

        body = render_chat(digest, self.config)
        if recipients.round == 0:  # dry run: what would be posted, beside the .eml files
            day = digest.date.isoformat()
            writer.write_files(rendered.output_dir, {f"{day}/outbox/chat-{self.name}.md": body})
            return ChatOutcome(self.name, "dry run")
        store, key, round_ = recipients.store, recipients.key, recipients.round
        logged = store.channel_status(key, round_, self.name)
        if logged == SENT:
            return ChatOutcome(self.name, "already posted")
        if logged == SENDING:
            log.warning("chat %s: a run stopped while posting; not posted again", self.name)
            return ChatOutcome(self.name, "unknown")
        store.log_channel(key, round_, self.name, SENDING)
        ok, detail = self._post(body)
        store.log_channel(key, round_, self.name, SENT if ok else DEFERRED, detail or None)
        return ChatOutcome(self.name, "posted" if ok else DEFERRED, detail)

    def _post(self, body: str) -> tuple[bool, str]:
        """(posted, why not): apprise's result and the last reason it logged."""
        import apprise

        sender = apprise.Apprise()
        sender.add(self.url)
        # what apprise logs is kept (the reason of a failure) and said once, by deliver()
        apprise_log = logging.getLogger("apprise")
        propagate, apprise_log.propagate = apprise_log.propagate, False
        try:
            with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
                ok = bool(sender.notify(body=body, body_format=apprise.NotifyFormat.MARKDOWN))
        finally:
            apprise_log.propagate = propagate
        lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
        detail = lines[-1] if lines and not ok else ""
        if self.secret:
            detail = detail.replace(self.secret, "***")
        return ok, detail[:500]


def build(config: Config, entry: ChannelConfig, where: str, need_secret: bool) -> ChatChannel:
    """The channel with its secret read from the environment; a missing variable or a URL
    apprise cannot use is a one-line error naming the key (and the file)."""
    import apprise

    file = config.path or "the configuration"
    secret = config.secret(entry.secret_env) if entry.secret_env else ""
    if entry.secret_env and not secret:
        if need_secret:
            raise DigestError(
                f"the environment variable {entry.secret_env} is not set: it holds the secret "
                f"part of the URL of chat channel \"{entry.name}\" ('{where}.secret_env' in {file})"
            )
        secret = "dry-run"
    url = entry.url.replace(SECRET, secret or "")
    if need_secret and apprise.Apprise.instantiate(url) is None:
        raise DigestError(
            f"{file}: '{where}.url' of chat channel \"{entry.name}\" is not a URL apprise "
            f"can post to: {_shown(entry.url)}"
        )
    return ChatChannel(entry.name, url, secret or "", config)
