"""``digest doctor``: what a sender's setup still lacks, one line per check.

Reads the configuration and the environment, looks up the From domain's SPF,
DKIM and DMARC TXT records with dnspython, and fetches one unsubscribe link
from ``site_url``; it sends no mail and changes nothing. Each check ends as
``ok``, ``warn`` (works, could be better), ``missing`` (what to do is in the
line) or ``skipped`` (could not be checked, e.g. DNS unreachable).

DNS goes to the system's resolvers, or to the server that the environment
variable ``DIGEST_DNS_SERVER`` names (``IP`` or ``IP:PORT``): a seam for a
split-horizon resolver, and for the tests, which run a DNS server on
127.0.0.1 and never touch the internet.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import dkim
import dns.exception
import dns.resolver

from digest.config import Config
from digest.deliver.signing import PROBE, DkimSigner
from digest.deliver.smtp import SmtpSettings
from digest.deliver.tokens import Links, dev_secret_path
from digest.errors import DigestError

DNS_SERVER_ENV = "DIGEST_DNS_SERVER"
OK, WARN, MISSING, SKIPPED = "ok", "warn", "missing", "skipped"
PROBE_ADDRESS = "doctor-probe@example.invalid"  # RFC 2606: never a real mailbox


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK | WARN | MISSING | SKIPPED
    detail: str

    def line(self) -> str:
        return f"{self.status:<8}{self.name}: {self.detail}"


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """Every check ran and none is missing (warnings allowed)."""
        return all(c.status in (OK, WARN) for c in self.checks)

    def summary(self) -> str:
        counts = {s: sum(c.status == s for c in self.checks) for s in (OK, WARN, MISSING, SKIPPED)}
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


class DnsUnreachable(Exception):
    """No answer at all from the resolver (timeout, no route, no configuration)."""


TxtLookup = Callable[[str], list[str]]


def make_resolver(timeout_s: float) -> dns.resolver.Resolver:
    """The system's resolver, or the one ``DIGEST_DNS_SERVER`` names; DigestError when that
    variable is not an address."""
    server = os.environ.get(DNS_SERVER_ENV, "").strip()
    if not server:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            resolver = dns.resolver.Resolver(configure=False)  # no servers: "unreachable"
    else:
        host, port = server, 53
        if server.startswith("["):  # [IPv6]:PORT
            host, _, rest = server[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 53
        elif server.count(":") == 1:
            host, _, port_text = server.partition(":")
            if not port_text.isdigit():
                raise DigestError(f"{DNS_SERVER_ENV} must be IP or IP:PORT, got '{server}'")
            port = int(port_text)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise DigestError(f"{DNS_SERVER_ENV} must be IP or IP:PORT, got '{server}'") from None
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
    resolver.timeout = resolver.lifetime = timeout_s
    return resolver


def txt_lookup(resolver: dns.resolver.Resolver) -> TxtLookup:
    """TXT strings at a name ([] when there are none); DnsUnreachable when no server answers."""

    def lookup(name: str) -> list[str]:
        try:
            answer = resolver.resolve(name, "TXT", search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            servers = ", ".join(
                f"{ns}:{resolver.port}" if isinstance(ns, str) else str(ns)
                for ns in resolver.nameservers
            )
            raise DnsUnreachable(f"no answer from {servers} in {resolver.lifetime:g} s") from None
        except dns.exception.DNSException as exc:  # no servers configured, every server failed
            raise DnsUnreachable(" ".join(str(exc).split()) or type(exc).__name__) from None
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]

    return lookup


def _from_domain(config: Config) -> str:
    return config.email.from_addr.rpartition("@")[2].lower().rstrip(".")


def run_checks(config: Config, lookup: TxtLookup, http_timeout_s: float = 5.0) -> Report:
    """Every check, in the order a sender fixes them."""
    checks: list[Check] = []
    domain = _from_domain(config)
    usable_domain = "." in domain and domain != "localhost"
    if usable_domain:
        checks.append(Check("From", OK, f"{config.email.from_addr} (domain {domain})"))
    else:
        where = f" in {config.path}" if config.path else ""
        checks.append(
            Check(
                "From",
                MISSING,
                f"email.from_addr is {config.email.from_addr}: set [email] from_addr{where} "
                "to an address at a domain you control",
            )
        )
    checks.append(_secret(config))
    checks.append(_smtp(config))
    signer, key_check = _dkim_key(config)
    checks.append(key_check)
    dmarc: dict[str, str] = {}
    if usable_domain:
        checks += _dns_checks(domain, signer, lookup, dmarc)
        checks.append(_alignment(domain, signer, dmarc))
    else:
        checks.append(Check("DNS", SKIPPED, "no From domain to look up (see From above)"))
    checks += _unsubscribe(config, http_timeout_s)
    return Report(tuple(checks))


def _secret(config: Config) -> Check:
    try:
        Links.from_config(config)
    except DigestError as exc:
        return Check("secret", MISSING, str(exc))
    if not config.secret(config.serve.secret_env):  # serve.dev_secret: fine here, not live
        return Check(
            "secret",
            WARN,
            f"{config.serve.secret_env} is not set: the development secret in "
            f"{dev_secret_path(config)} signs the links (serve.dev_secret, for local use only)",
        )
    return Check("secret", OK, f"{config.serve.secret_env} is set")


def _smtp(config: Config) -> Check:
    # DKIM has its own line: check the SMTP settings with signing off
    email = dataclasses.replace(config.email, dkim_selector="", dkim_domain="")
    try:
        settings = SmtpSettings.from_config(config.with_overrides(email=email))
    except DigestError as exc:
        return Check("SMTP", MISSING, str(exc))
    login = f", login {settings.username}" if settings.username else ", no login"
    return Check("SMTP", OK, f"{settings.describe()}{login} (settings only; not connected)")


def _dkim_key(config: Config) -> tuple[DkimSigner | None, Check]:
    try:
        signer = DkimSigner.from_config(config)
    except DigestError as exc:
        return None, Check("DKIM key", MISSING, str(exc))
    if signer is None:
        return None, Check(
            "DKIM key",
            MISSING,
            "signing is off: set email.dkim_selector, email.dkim_domain and the private key "
            f"(variable {config.email.dkim_key_env} or email.dkim_key_file); docs/delivery.md",
        )
    return signer, Check("DKIM key", OK, f"signs as d={signer.domain} s={signer.selector}")


def _dns_checks(
    domain: str, signer: DkimSigner | None, lookup: TxtLookup, dmarc: dict[str, str]
) -> list[Check]:
    try:
        spf = [t for t in lookup(domain) if t.lower().startswith("v=spf1")]
    except DnsUnreachable as exc:
        return [Check("DNS", SKIPPED, f"unreachable ({exc}); SPF, DKIM and DMARC not checked")]
    checks = [_spf(domain, spf)]
    try:
        checks.append(_dkim_record(signer, lookup))
        checks.append(_dmarc(domain, lookup, dmarc))
    except DnsUnreachable as exc:
        checks.append(Check("DNS", SKIPPED, f"stopped answering ({exc})"))
    return checks


def _spf(domain: str, records: list[str]) -> Check:
    if not records:
        return Check(
            "SPF",
            MISSING,
            f'no SPF record at {domain}: publish TXT "v=spf1 ... -all" naming your SMTP '
            "server (e.g. include: your provider)",
        )
    if len(records) > 1:
        return Check("SPF", MISSING, f"{len(records)} SPF records at {domain}: keep one (RFC 7208)")
    record = records[0]
    if record.split()[-1].lower() in ("+all", "all"):
        return Check("SPF", MISSING, f'{domain}: "{record}" lets any server send as {domain}')
    return Check("SPF", OK, f'{domain}: "{record}"')


def _dkim_record(signer: DkimSigner | None, lookup: TxtLookup) -> Check:
    if signer is None:
        return Check("DKIM record", SKIPPED, "no usable DKIM key configured (see DKIM key)")
    name = signer.record_name
    records = [t for t in lookup(name) if "p=" in t]
    if not records:
        return Check(
            "DKIM record",
            MISSING,
            f'no DKIM key at {name}: publish TXT "v=DKIM1; k=rsa; p=<public key of the '
            'configured private key>"',
        )
    # the published key must verify a probe signed with the configured private key
    probe = signer.sign(PROBE)

    def published(_name: bytes, timeout: int = 5) -> bytes:
        return records[0].encode()

    if not dkim.verify(probe, dnsfunc=published):
        return Check(
            "DKIM record",
            MISSING,
            f"{name} does not hold the public key of the configured private key "
            "(another key, a revoked empty p=, or a malformed record)",
        )
    return Check("DKIM record", OK, f"{name} matches the configured key")


def _dmarc(domain: str, lookup: TxtLookup, found: dict[str, str]) -> Check:
    """The From domain's policy, else its parents' (organizational domain without the public
    suffix list: walked up to two labels)."""
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        name = "_dmarc." + ".".join(labels[i:])
        records = [t for t in lookup(name) if t.replace(" ", "").lower().startswith("v=dmarc1")]
        if records:
            tags = dict(
                (k.strip().lower(), v.strip())
                for k, _, v in (part.partition("=") for part in records[0].split(";"))
                if k.strip()
            )
            found.update(tags, name=name)
            policy = tags.get("p", "")
            if policy.lower() not in ("none", "quarantine", "reject"):
                return Check("DMARC", MISSING, f'{name}: "{records[0]}" has no valid p= policy')
            return Check("DMARC", OK, f"{name}: p={policy}")
    return Check(
        "DMARC",
        MISSING,
        f'no DMARC record at _dmarc.{domain}: publish TXT "v=DMARC1; p=none; '
        f'rua=mailto:dmarc@{domain}" (then tighten p= once reports look right)',
    )


def _alignment(domain: str, signer: DkimSigner | None, dmarc: dict[str, str]) -> Check:
    """DMARC passes when SPF or DKIM passes for a domain aligned with From. SPF: the envelope
    sender is email.from_addr itself, so it is aligned by construction; DKIM: d= against From."""
    if signer is None:
        return Check(
            "alignment",
            MISSING,
            f"no DKIM signature: DMARC for {domain} rests on SPF alone, which forwarding breaks",
        )
    d = signer.domain.lower().rstrip(".")
    strict = dmarc.get("adkim", "r").lower() == "s"
    aligned = d == domain or (not strict and (domain.endswith("." + d) or d.endswith("." + domain)))
    mode = "strict (adkim=s)" if strict else "relaxed"
    if not aligned:
        return Check(
            "alignment",
            MISSING,
            f"DKIM d={d} is not aligned with From {domain} ({mode}): sign with "
            f'email.dkim_domain = "{domain}"',
        )
    return Check(
        "alignment", OK, f"From {domain}: DKIM d={d} aligned ({mode}); SPF via envelope sender"
    )


def _unsubscribe(config: Config, timeout_s: float) -> list[Check]:
    checks = []
    base = config.site_url if config.site_url.endswith("/") else config.site_url + "/"
    shown = base + "unsubscribe"
    if not config.site_url.startswith("https://"):
        checks.append(
            Check(
                "site_url",
                WARN,
                f"{config.site_url} is not https: mail clients offer one-click unsubscribe "
                "(RFC 8058) only for https links",
            )
        )
    try:
        url = Links.from_config(config).unsubscribe_url(PROBE_ADDRESS)
    except DigestError:
        checks.append(Check("List-Unsubscribe", SKIPPED, "needs the secret to make a link"))
        return checks
    request = urllib.request.Request(url, headers={"User-Agent": "digest-doctor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            status = reply.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        checks.append(
            Check(
                "List-Unsubscribe",
                MISSING,
                f"GET {shown} failed ({reason}): run digest serve behind site_url",
            )
        )
        return checks
    if status == 200:
        checks.append(Check("List-Unsubscribe", OK, f"GET {shown} answers 200"))
    elif status == 400:
        checks.append(
            Check(
                "List-Unsubscribe",
                MISSING,
                f"GET {shown} refuses this link (400): the server's "
                f"{config.serve.secret_env} differs from this one",
            )
        )
    else:
        checks.append(Check("List-Unsubscribe", MISSING, f"GET {shown} answers {status}, not 200"))
    return checks
