"""Signed links for confirming, unsubscribing, preferences, feedback and private feeds
(HMAC via itsdangerous).

The secret comes from the environment variable that ``serve.secret_env``
names. A config for local use (the bundled example) may set
``serve.dev_secret``: without the variable, a secret is then made once into a
file beside the database (mode 0600) and reused, so the offline sample serves
as printed; the config check allows it only for a localhost ``site_url``. A
confirmation token carries a timestamp and expires after
``serve.token_max_age_s``; an unsubscribe token does not expire, because the
unsubscribe button of a months-old email must still work. Each kind has its
own salt, so one kind can never be replayed as the other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin

from itsdangerous import BadData, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from digest.config import Config
from digest.errors import DigestError

_CONFIRM_SALT = "digest.confirm.v1"
_UNSUBSCRIBE_SALT = "digest.unsubscribe.v1"
# personal digests (docs/personal.md): each purpose its own salt, so none replays as another
_PREFERENCES_SALT = "digest.preferences.v1"
_FEEDBACK_SALT = "digest.feedback.v1"  # one token per link: emails sent before v2, still valid
# v2: one token per For you section (reader and day); the paper and the vote ride as plain
# query parameters, and the server accepts them only for a paper it showed that reader that
# day. Signing 2 links x 8 papers per message cost more than rendering the section.
_SECTION_V2_SALT = "digest.feedback.v2"  # emails sent before v3, still valid (no time)
# v3 = v2 with the time of signing: a section's links expire like the preferences link.
_SECTION_SALT = "digest.feedback.v3"
_FEED_SALT = "digest.feed.v1"
PREFERENCES_MAX_AGE_S = 366 * 24 * 3600  # the footer link of a year-old email still opens
FEEDBACK_MAX_AGE_S = PREFERENCES_MAX_AGE_S  # a vote from a year-old email still counts
MIN_SECRET_LENGTH = 16
DEV_SECRET_SUFFIX = ".dev-secret"  # beside the database: var/output.sqlite -> var/output.dev-secret

log = logging.getLogger("digest.deliver")
_announced: set[Path] = set()  # development secrets already warned about in this process


class MissingSecret(DigestError):
    """``serve.secret_env`` is not set (and the config has no development secret)."""


class TokenError(DigestError):
    """A link whose token is forged, damaged or expired. ``expired`` tells which."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def secret_from_env(config: Config) -> str:
    """The signing secret, or a DigestError naming the variable to set."""
    name = config.serve.secret_env
    value = config.secret(name)
    if not value and config.serve.dev_secret:
        return development_secret(config)
    if not value:
        raise MissingSecret(
            f"the environment variable {name} is not set: it holds the secret that signs "
            f"confirm and unsubscribe links (serve.secret_env); set it to a long random string, "
            f'e.g. export {name}="$(python3 -c "import secrets; print(secrets.token_urlsafe(32))")"'
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise DigestError(
            f"the secret in {name} is too short: use at least {MIN_SECRET_LENGTH} characters"
        )
    return value


def dev_secret_path(config: Config) -> Path:
    db = config.database_path
    # a PostgreSQL database has no folder of its own: the output folder's would-be file's
    return (db if isinstance(db, Path) else config.own_database).with_suffix(DEV_SECRET_SUFFIX)


def development_secret(config: Config) -> str:
    """The secret of ``serve.dev_secret``: read from beside the database, made there on first
    use. Warns once per process that it is for local use only."""
    path = dev_secret_path(config)
    try:
        value = _read_or_create(path)
    except OSError as exc:
        raise DigestError(
            f"{path}: cannot read or make the development secret (serve.dev_secret): "
            f"{exc.strerror or exc}"
        ) from None
    if len(value) < MIN_SECRET_LENGTH:
        raise DigestError(
            f"{path}: the development secret is shorter than {MIN_SECRET_LENGTH} characters; "
            "delete the file and a new one is made"
        )
    if path not in _announced:
        _announced.add(path)
        log.warning(
            "using the development secret in %s (serve.dev_secret): for local use only; "
            "a live site sets %s",
            path,
            config.serve.secret_env,
        )
    return value


def _read_or_create(path: Path) -> str:
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file 0600; link() never replaces, so two first starts agree on one
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_text("utf-8").strip()


@dataclass(frozen=True)
class Links:
    """Makes and checks the signed links of one site."""

    secret: str
    site_url: str
    max_age_s: int

    @classmethod
    def from_config(cls, config: Config) -> Links:
        return cls(secret_from_env(config), config.site_url, config.serve.token_max_age_s)

    @classmethod
    def for_outbox(cls, config: Config) -> Links:
        """Links for a dry run's .eml files, which nobody receives: without a secret they are
        signed with a throwaway one (and say so), so a dry run needs no setup."""
        try:
            return cls.from_config(config)
        except MissingSecret:
            log.warning(
                "%s is not set: the outbox's unsubscribe links are signed with a throwaway "
                "secret and will not work",
                config.serve.secret_env,
            )
            return cls(secrets.token_urlsafe(32), config.site_url, config.serve.token_max_age_s)

    def confirm_token(self, email: str) -> str:
        return URLSafeTimedSerializer(self.secret, salt=_CONFIRM_SALT).dumps(email)

    def unsubscribe_token(self, email: str) -> str:
        # no timestamp: the same address always gets the same token, in every digest
        return URLSafeSerializer(self.secret, salt=_UNSUBSCRIBE_SALT).dumps(email)

    def confirm_url(self, email: str) -> str:
        return self._url("confirm", self.confirm_token(email))

    def unsubscribe_url(self, email: str) -> str:
        return self._url("unsubscribe", self.unsubscribe_token(email))

    def preferences_token(self, email: str) -> str:
        return URLSafeTimedSerializer(self.secret, salt=_PREFERENCES_SALT).dumps(email)

    def preferences_url(self, email: str) -> str:
        return self._url("preferences", self.preferences_token(email))

    def feedback_token(self, email: str, paper_id: str, vote: int, day: dt.date) -> str:
        """The v1 token of one "More like this" (``vote`` 1) or "Fewer like this" (-1) link,
        which signs the paper and vote too: what emails sent before v2 carry (still accepted
        by :meth:`feedback_vote`); new emails use :meth:`section_feedback`."""
        payload = [email, paper_id, vote, day.isoformat()]
        return URLSafeSerializer(self.secret, salt=_FEEDBACK_SALT).dumps(payload)

    def section_token(self, email: str, day: dt.date) -> str:
        """The one token of a reader's For you section of ``day`` (all its feedback links)."""
        payload = [email, day.isoformat()]
        return URLSafeTimedSerializer(self.secret, salt=_SECTION_SALT).dumps(payload)

    def section_feedback(self, email: str, day: dt.date) -> FeedbackLinks:
        """The feedback links of one reader's section: signed once, then one URL per paper
        and vote."""
        return FeedbackLinks(f"{self._base()}feedback", self.section_token(email, day))

    def feedback_url(self, email: str, paper_id: str, vote: int, day: dt.date) -> str:
        return self.section_feedback(email, day).url(paper_id, vote)

    def feed_token(self, email: str) -> str:
        # no timestamp: a feed reader polls the same URL for months
        return URLSafeSerializer(self.secret, salt=_FEED_SALT).dumps(email)

    def feed_url(self, email: str) -> str:
        return f"{self._base()}feed/{self.feed_token(email)}.xml"

    def preferences_email(self, token: str) -> str:
        """The address a preferences token was made for; TokenError when bad or expired."""
        serializer = URLSafeTimedSerializer(self.secret, salt=_PREFERENCES_SALT)
        try:
            return _as_email(serializer.loads(token, max_age=PREFERENCES_MAX_AGE_S))
        except SignatureExpired as exc:
            signed = exc.date_signed
            if signed is not None and signed > dt.datetime.now(dt.UTC):
                raise TokenError("this preferences link is not valid") from None
            raise TokenError(
                "this preferences link has expired; the footer of your latest digest has a new one",
                expired=True,
            ) from None
        except BadData:
            raise TokenError("this preferences link is not valid") from None

    def feedback_vote(
        self, token: str, paper: str | None = None, vote: str | None = None
    ) -> tuple[str, str, int, dt.date]:
        """(email, paper id, vote, day) of a feedback link: a section token with its ``paper``
        and ``vote`` query parameters, or a v1 token that signs them all; TokenError when bad.
        The caller still checks that the paper was in that reader's section of that day."""
        try:
            if paper is not None or vote is not None:
                email, day = self._section(token)
                value = int(vote or "")
                if not paper or value not in (1, -1):
                    raise ValueError(paper, vote)
                return _as_email(email), paper, value, dt.date.fromisoformat(day)
            v1 = URLSafeSerializer(self.secret, salt=_FEEDBACK_SALT)
            email, paper_id, value, day = v1.loads(token)
            if not (isinstance(paper_id, str) and value in (1, -1)):
                raise ValueError(paper_id, value)
            return _as_email(email), paper_id, int(value), dt.date.fromisoformat(day)
        except SignatureExpired as exc:
            signed = exc.date_signed
            if signed is not None and signed > dt.datetime.now(dt.UTC):
                raise TokenError("this feedback link is not valid") from None
            raise TokenError("this feedback link has expired", expired=True) from None
        except (BadData, ValueError, TypeError):
            raise TokenError("this feedback link is not valid") from None

    def _section(self, token: str) -> tuple[object, str]:
        section = URLSafeTimedSerializer(self.secret, salt=_SECTION_SALT)
        try:
            email, day = section.loads(token, max_age=FEEDBACK_MAX_AGE_S)
        except SignatureExpired:
            raise
        except BadData:
            email, day = URLSafeSerializer(self.secret, salt=_SECTION_V2_SALT).loads(token)
        return email, day

    def feed_email(self, token: str) -> str:
        try:
            return _as_email(URLSafeSerializer(self.secret, salt=_FEED_SALT).loads(token))
        except BadData:
            raise TokenError("this feed link is not valid") from None

    @cached_property
    def _site(self) -> str:
        # resolved once: urljoin per link cost as much as signing it
        site = self.site_url if self.site_url.endswith("/") else self.site_url + "/"
        return urljoin(site, ".")

    def _base(self) -> str:
        """``site_url`` ending in a slash: the base of every link."""
        return self._site

    def _url(self, path: str, token: str) -> str:
        return f"{self._base()}{path}?{urlencode({'token': token})}"

    def confirmed_email(self, token: str) -> str:
        """The address a confirmation token was made for; TokenError when bad or expired."""
        serializer = URLSafeTimedSerializer(self.secret, salt=_CONFIRM_SALT)
        try:
            return _as_email(serializer.loads(token, max_age=self.max_age_s))
        except SignatureExpired as exc:
            # itsdangerous also says "expired" of a link dated in the future: never made here
            signed = exc.date_signed
            if signed is not None and signed > dt.datetime.now(dt.UTC):
                raise TokenError("this confirmation link is not valid") from None
            raise TokenError("this confirmation link has expired", expired=True) from None
        except BadData:
            raise TokenError("this confirmation link is not valid") from None

    def unsubscribed_email(self, token: str) -> str:
        """The address an unsubscribe token was made for; TokenError when bad."""
        try:
            return _as_email(URLSafeSerializer(self.secret, salt=_UNSUBSCRIBE_SALT).loads(token))
        except BadData:
            raise TokenError("this unsubscribe link is not valid") from None


@dataclass(frozen=True)
class FeedbackLinks:
    """More / Fewer like this links of one For you section: one signed token, the paper and
    the vote as query parameters."""

    endpoint: str
    token: str

    def url(self, paper_id: str, vote: int) -> str:
        return f"{self.endpoint}?{self.query(paper_id, vote)}"

    def query(self, paper_id: str, vote: int) -> str:
        # the token is URL-safe by construction; urlencode per link cost as much as signing
        return f"token={self.token}&paper={quote(paper_id, safe='')}&vote={vote}"


def _as_email(value: object) -> str:
    if not isinstance(value, str) or "@" not in value:
        raise TokenError("this link is not valid")
    return value
