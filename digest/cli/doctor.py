"""``digest doctor``: checks what sending needs, one line per check."""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli import cli
from digest.cli.options import config_option, load


@cli.command()
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0.1),
    default=3.0,
    show_default=True,
    help="Seconds to wait for each DNS lookup and for the unsubscribe page.",
)
@config_option
def doctor(timeout_s: float, config_path: Path | None) -> None:
    """Check what sending needs: From domain, secret, SMTP settings, DKIM key, the SPF, DKIM
    and DMARC records of the From domain, their alignment with From, and an unsubscribe link
    fetched from site_url.

    One line per check (ok, warn, missing or skipped), saying what to do when something is
    missing. Sends no mail and changes nothing. When DNS does not answer, the record checks
    are skipped with one line. Exit code 0 when every check passed, 1 otherwise.
    DIGEST_DNS_SERVER=IP[:PORT] asks that DNS server instead of the system's.

    \b
    Example:
      digest doctor --config config/digest.toml
    """
    from digest.deliver import doctor as checks

    config = load(config_path)
    lookup = checks.txt_lookup(checks.make_resolver(timeout_s))
    report = checks.run_checks(config, lookup, http_timeout_s=timeout_s)
    for check in report.checks:
        click.echo(check.line())
    click.echo(f"doctor: {report.summary()}", err=True)
    if not report.passed:
        raise SystemExit(1)
