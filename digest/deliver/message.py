"""Digest emails: compiled once per digest, then stamped out per subscriber.

Everything the recipients share (headers, both bodies, already inlined by the
renderer) is encoded once into a :class:`MailTemplate`; a message for one
subscriber is that template with its To, Message-ID, List-Unsubscribe and the
unsubscribe URL spliced in. The bodies are quoted-printable, cut at the
``%%UNSUBSCRIBE_URL%%`` placeholder and encoded piece by piece: a soft line
break (``=`` CRLF) joins the pieces around the encoded URL, so splicing never
re-encodes 100 KB of HTML per subscriber. Headers the email package folds and
encodes (Subject, From); the spliced ones are ASCII by construction (addresses
are stored in ASCII form, URLs carry URL-safe tokens).
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from email.utils import quote as quote_phrase
from urllib.parse import quote

from digest.config import Config
from digest.errors import DigestError
from digest.models import Digest, clean_space
from digest.render import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER

CRLF = b"\r\n"
_SOFT_BREAK = b"=\r\n"
_POLICY = policy.SMTP
MAX_SUBJECT_CHARS = 140
_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')
# Where a subscriber's For you section goes: not in the rendered files (a reader without a
# profile gets them as they are), marked only in the bodies compiled for sending.
FOR_YOU_SLOT = "%%FOR_YOU%%"
_SLOTS = re.compile(
    "("
    + "|".join(map(re.escape, (UNSUBSCRIBE_PLACEHOLDER, PREFERENCES_PLACEHOLDER, FOR_YOU_SLOT)))
    + ")"
)


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", CRLF)


def _qp(text: str) -> bytes:
    return _crlf(binascii.b2a_qp(_crlf(text.encode("utf-8")), quotetabs=False, istext=True))


def subject_for(config: Config, digest: Digest) -> str:
    """One line, whatever the titles hold: newlines cannot become new headers."""
    day = digest.date
    when = f"{day.day} {day:%b %Y}"
    top = digest.trending_papers()
    lead = clean_space(top[0].paper.title) if top else ""
    prefix = clean_space(config.email.subject_prefix) or clean_space(config.title)
    subject = f"{prefix}, {when}: {lead}" if lead else f"{prefix}, {when}"
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[: MAX_SUBJECT_CHARS - 1].rstrip() + "…"
    return subject


def _fold(name: str, value: str | Address) -> bytes:
    holder = EmailMessage(policy=_POLICY)
    holder[name] = value
    return b"".join(_POLICY.fold_binary(k, v) for k, v in holder.items())


def _text_header(name: str, value: str) -> bytes:
    # email.header folds long values between words; the policy folder would put a long
    # ASCII subject wholly on a continuation line, which readers show with a leading space
    charset = "us-ascii" if value.isascii() else "utf-8"
    folded = Header(value, charset, header_name=name).encode(maxlinelen=78, linesep="\r\n")
    return f"{name}: {folded}".encode("ascii") + CRLF


def _list_id(title: str, list_id: str) -> bytes:
    """RFC 2919: a phrase (quoted or encoded when it must be) and the <list-id> kept literal."""
    if not title.isascii():
        phrase = Header(title, "utf-8").encode(linesep="\r\n")
    elif _SPECIALS.search(title):
        phrase = '"' + quote_phrase(title) + '"'
    else:
        phrase = title
    return f"List-Id: {phrase} <{list_id}>".encode("ascii") + CRLF


def _domain(addr: str) -> str:
    return addr.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class MailTemplate:
    """The shared, already encoded parts of one digest's email."""

    day: dt.date | str  # the delivery log's key: a digest's date, or a week ("2025-W12")
    sender: str  # envelope MAIL FROM
    shared_headers: bytes
    boundary: bytes
    text_pieces: tuple[bytes, ...]
    html_pieces: tuple[bytes, ...]
    text_slots: tuple[str, ...]  # the placeholder between each two pieces
    html_slots: tuple[str, ...]
    mailto: str
    id_domain: str
    id_key: bytes

    @property
    def has_unsubscribe_link(self) -> bool:
        return (
            UNSUBSCRIBE_PLACEHOLDER in self.text_slots
            and UNSUBSCRIBE_PLACEHOLDER in self.html_slots
        )

    @property
    def has_for_you_slot(self) -> bool:
        return FOR_YOU_SLOT in self.html_slots

    def message_id(self, round_: int, subscriber_id: int) -> str:
        """Stable for (day, round, subscriber): a resent-after-crash copy repeats it, so
        receivers that drop duplicate Message-IDs drop it."""
        key = self.day if isinstance(self.day, str) else self.day.isoformat()
        stem = f"{key}.r{round_}.s{subscriber_id}"
        tag = hashlib.blake2s(stem.encode(), key=self.id_key, digest_size=6).hexdigest()
        return f"<digest.{stem}.{tag}@{self.id_domain}>"

    def render(
        self,
        to: str,
        unsubscribe_url: str,
        message_id: str,
        preferences_url: str = "",
        for_you: tuple[str, str] | None = None,
    ) -> bytes:
        """The complete message for one recipient, CRLF line ends, ready for SMTP DATA.
        ``for_you`` is the (text, HTML) of the reader's For you section, if they have one."""
        for value in (to, unsubscribe_url, message_id, preferences_url):
            if not value.isascii() or any(c in value for c in "\r\n"):
                raise ValueError(f"unsafe header value: {value!r}")
        urls = {UNSUBSCRIBE_PLACEHOLDER: unsubscribe_url, PREFERENCES_PLACEHOLDER: preferences_url}
        text_values = {k: _qp(v) for k, v in urls.items()}
        html_values = {k: _qp(html.escape(v, quote=True)) for k, v in urls.items()}
        text_values[FOR_YOU_SLOT] = _qp(for_you[0]) if for_you else b""
        html_values[FOR_YOU_SLOT] = _qp(for_you[1]) if for_you else b""
        b = self.boundary
        return b"".join(
            (
                b"To: ",
                to.encode("ascii"),
                CRLF,
                b"Message-ID: ",
                message_id.encode("ascii"),
                CRLF,
                b"List-Unsubscribe: <",
                unsubscribe_url.encode("ascii"),
                b">,",
                CRLF,
                b" <",
                self.mailto.encode("ascii"),
                b">",
                CRLF,
                self.shared_headers,
                CRLF,
                b"--",
                b,
                CRLF,
                b'Content-Type: text/plain; charset="utf-8"',
                CRLF,
                b"Content-Transfer-Encoding: quoted-printable",
                CRLF,
                CRLF,
                _splice(self.text_pieces, self.text_slots, text_values),
                CRLF,
                b"--",
                b,
                CRLF,
                b'Content-Type: text/html; charset="utf-8"',
                CRLF,
                b"Content-Transfer-Encoding: quoted-printable",
                CRLF,
                CRLF,
                _splice(self.html_pieces, self.html_slots, html_values),
                CRLF,
                b"--",
                b,
                b"--",
                CRLF,
            )
        )


def _splice(pieces: tuple[bytes, ...], slots: tuple[str, ...], values: dict[str, bytes]) -> bytes:
    """The encoded pieces with each slot's encoded value between soft line breaks (which
    decode to nothing, so an empty value leaves the body as rendered)."""
    out = [pieces[0]]
    for slot, piece in zip(slots, pieces[1:], strict=True):
        value = values[slot]
        out += [_SOFT_BREAK, value, _SOFT_BREAK] if value else [_SOFT_BREAK]
        out.append(piece)
    return b"".join(out)


def _split(body: str) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    parts = _SLOTS.split(body)
    return tuple(_qp(p) for p in parts[0::2]), tuple(parts[1::2])


def _mark_for_you_html(body: str) -> str:
    """The HTML with :data:`FOR_YOU_SLOT` after the header row (none: no For you section)."""
    head = body.find('class="header"')
    end = body.find("</td></tr>", head) if head >= 0 else -1
    if end < 0:
        return body
    end += len("</td></tr>")
    return body[:end] + FOR_YOU_SLOT + body[end:]


def _mark_for_you_text(body: str) -> str:
    """The text with :data:`FOR_YOU_SLOT` after the intro paragraph (heading, rule, intro)."""
    intro = body.find("\n\n")
    end = body.find("\n\n", intro + 2) if intro >= 0 else -1
    if end < 0:
        return body
    return body[:end] + FOR_YOU_SLOT + body[end:]


def compile_mail(
    config: Config, digest: Digest, text: str, html_body: str, now: dt.datetime | None = None
) -> MailTemplate:
    """Encode what every recipient of ``digest`` shares. ``text``/``html_body`` are the rendered,
    inlined bodies holding the unsubscribe (and preferences) placeholders."""
    return compile_bodies(config, digest.date, subject_for(config, digest), text, html_body, now)


def compile_bodies(
    config: Config,
    key: dt.date | str,
    subject: str,
    text: str,
    html_body: str,
    now: dt.datetime | None = None,
) -> MailTemplate:
    """:func:`compile_mail` for any email (the weekly digest's: ``key`` is its week)."""
    email = config.email
    try:
        sender = Address(
            display_name=clean_space(email.from_name or config.title), addr_spec=email.from_addr
        )
    except (ValueError, IndexError) as exc:
        raise DigestError(f"email.from_addr '{email.from_addr}' cannot be used: {exc}") from None
    stamp = now or dt.datetime.now(dt.UTC)
    headers = [
        _fold("From", sender),
        _text_header("Subject", subject),
        _fold("Date", format_datetime(stamp.astimezone(dt.UTC))),
        _list_id(clean_space(config.title), email.list_id),
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" + CRLF,
    ]
    if email.reply_to:
        headers.append(_fold("Reply-To", email.reply_to))
    # "=_" never occurs in quoted-printable output, so the boundary cannot clash with a body
    boundary = ("=_digest_" + secrets.token_hex(12)).encode("ascii")
    headers += [
        b"MIME-Version: 1.0" + CRLF,
        b'Content-Type: multipart/alternative; boundary="' + boundary + b'"' + CRLF,
    ]
    text_pieces, text_slots = _split(_mark_for_you_text(text))
    html_pieces, html_slots = _split(_mark_for_you_html(html_body))
    mailbox = email.unsubscribe_mailto or email.from_addr
    mailto = f"mailto:{quote(mailbox, safe='@')}?subject=unsubscribe"
    return MailTemplate(
        day=key,
        sender=email.from_addr,
        shared_headers=b"".join(headers),
        boundary=boundary,
        text_pieces=text_pieces,
        html_pieces=html_pieces,
        text_slots=text_slots,
        html_slots=html_slots,
        mailto=mailto,
        id_domain=_domain(email.from_addr),
        id_key=hashlib.sha256(f"{config.title}|{email.list_id}".encode()).digest()[:16],
    )


def confirmation_message(config: Config, to: str, confirm_url: str) -> EmailMessage:
    """The double opt-in email: one link, nothing else, both parts."""
    email = config.email
    title = clean_space(config.title)
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = Address(
        display_name=clean_space(email.from_name or title), addr_spec=email.from_addr
    )
    msg["To"] = to
    msg["Subject"] = f"Confirm your subscription to {title}"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = f"<confirm.{secrets.token_hex(12)}@{_domain(email.from_addr)}>"
    if email.reply_to:
        msg["Reply-To"] = email.reply_to
    msg.set_content(
        f"Someone, hopefully you, asked to receive {title} at {to}.\n\n"
        f"Confirm with this link:\n{confirm_url}\n\n"
        "If you did not ask for this, ignore this email: nothing will be sent.\n"
    )
    link = html.escape(confirm_url, quote=True)
    msg.add_alternative(
        f"<!doctype html><html><body><p>Someone, hopefully you, asked to receive "
        f"{html.escape(title)} at {html.escape(to)}.</p>"
        f'<p><a href="{link}">Confirm your subscription</a></p>'
        "<p>If you did not ask for this, ignore this email: nothing will be sent.</p></body></html>",
        subtype="html",
    )
    return msg
