"""DKIM signatures (RFC 6376) on outgoing mail, made with dkimpy.

A :class:`DkimSigner` is built once per send from ``[email] dkim_*`` and signs
the exact bytes handed to SMTP, one message at a time: each digest message
carries its own To, Message-ID and unsubscribe link, so no signature can be
shared between recipients. The private key comes from the file
``email.dkim_key_file`` names or else from the environment variable
``email.dkim_key_env`` names (PEM; literal ``\\n`` in a one-line variable are
read as line breaks). It is checked at load by signing a probe message, so a
bad key stops a send with one line before anything goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dkim

from digest.config import Config
from digest.errors import DigestError

# RFC 8058 asks that List-Unsubscribe and List-Unsubscribe-Post be covered by the signature.
# "from" is listed twice (over-signed): a second From added in transit breaks the signature.
SIGNED_HEADERS = (
    b"from",
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)
# Headers relaxed: relays re-fold them. Body simple: it is quoted-printable, so it has no
# trailing whitespace or long lines for a relay to touch, and simple hashing takes a quarter
# less CPU per message than relaxed (bench/bench_send.py).
CANONICALIZE = (b"relaxed", b"simple")
# signed to check a key (here) and to match it with its DNS record (``digest doctor``)
PROBE = b"From: probe@example.invalid\r\nSubject: probe\r\n\r\nprobe\r\n"


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    domain: str
    key: bytes = field(repr=False)  # PEM, PKCS#1 or PKCS#8 RSA private key

    @property
    def record_name(self) -> str:
        """Where receivers look up the public key."""
        return f"{self.selector}._domainkey.{self.domain}"

    def sign(self, message: bytes) -> bytes:
        """``message`` with its DKIM-Signature header in front (CRLF line ends kept)."""
        signature = dkim.sign(
            message,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.key,
            canonicalize=CANONICALIZE,
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + message

    @classmethod
    def from_config(cls, config: Config) -> DkimSigner | None:
        """The configured signer; None when DKIM is off (no ``email.dkim_selector``).

        Raises DigestError naming the key file or the environment variable when the key
        cannot be read or is not a usable private key."""
        email = config.email
        if not email.dkim_selector:
            return None
        key, where = _read_key(config)
        signer = cls(email.dkim_selector, email.dkim_domain, key)
        try:
            signer.sign(PROBE)
        except (dkim.DKIMException, ValueError, IndexError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise DigestError(
                f"{where} does not hold a PEM RSA private key usable for DKIM ({detail})"
            ) from None
        return signer


def _read_key(config: Config) -> tuple[bytes, str]:
    """The key's bytes, and how to name where they came from in an error."""
    email = config.email
    if email.dkim_key_file:
        path = config.resolve(email.dkim_key_file)
        in_file = f" (set in {config.path})" if config.path else ""
        where = f"the DKIM key file {path} (email.dkim_key_file{in_file})"
        try:
            return path.read_bytes(), where
        except OSError as exc:
            raise DigestError(f"{where} cannot be read: {exc.strerror or exc}") from None
    name = email.dkim_key_env
    value = config.secret(name)
    if not value:
        raise DigestError(
            f"the environment variable {name} is not set: it holds the DKIM private key "
            f"(PEM) for {email.dkim_selector}._domainkey.{email.dkim_domain} "
            f"(email.dkim_key_env), or set email.dkim_key_file"
        )
    return value.replace("\\n", "\n").encode("utf-8"), f"the environment variable {name}"
