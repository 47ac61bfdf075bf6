"""CSS inlining of the day's email (css-inline): every element gets the declarations premailer
would give it (the oracle), what cannot be inlined stays, and the email stays in budget."""

from __future__ import annotations

import logging
import re
from importlib import resources

import pytest
from lxml import html as lxml_html
from premailer import Premailer
from test_render import fixture_digest, site_config, synthetic_digest

from digest.models import Digest
from digest.render import UNSUBSCRIBE_PLACEHOLDER, render_day
from digest.render.templating import render
from digest.render.view import build_view

# premailer as the project ran it before css-inline (docs/rendering.md says why it went)
PREMAILER_OPTIONS = {
    "allow_network": False,
    "strip_important": False,
    "cssutils_logging_level": logging.CRITICAL,
    "disable_validation": True,
    "remove_classes": False,
    "disable_basic_attributes": ["bgcolor", "width", "height", "align", "valign"],
}
_HEX3 = re.compile(r"#([0-9a-f])([0-9a-f])([0-9a-f])\b")


def declarations(style: str) -> dict[str, str]:
    """``style`` as {property: value}, in one spelling (premailer writes ``#fff`` for
    ``#ffffff`` and drops the space after commas)."""
    out = {}
    for part in style.split(";"):
        name, _, value = part.partition(":")
        if name.strip():
            value = _HEX3.sub(r"#\1\1\2\2\3\3", " ".join(value.lower().split()))
            out[name.strip().lower()] = value.replace(", ", ",")
    return out


def styled(html: str) -> list[tuple[str, str, dict[str, str]]]:
    """(tag, class, declarations) of each element in document order; the ``<tbody>`` an
    HTML parser implies (css-inline writes it out) left aside."""
    root = lxml_html.document_fromstring(html)
    return [
        (el.tag, el.get("class", ""), declarations(el.get("style", "")))
        for el in root.iter()
        if isinstance(el.tag, str) and el.tag not in ("tbody", "style")
    ]


def oracle(digest: Digest, **render_options: object) -> str:
    """What premailer makes of the day's email template."""
    config = site_config(**render_options)
    raw = render(
        config,
        "email.html",
        day=build_view(digest, config),
        unsubscribe_url=UNSUBSCRIBE_PLACEHOLDER,
    )
    return str(Premailer(raw, **PREMAILER_OPTIONS).transform())


@pytest.mark.parametrize(
    "digest",
    [fixture_digest(), synthetic_digest(40, themes=6), synthetic_digest(12, themes=1)],
    ids=["fixture", "40 papers", "one theme"],
)
def test_every_element_is_styled_as_premailer_would(digest: Digest) -> None:
    email = render_day(digest, site_config(max_email_bytes=10**7)).email_html
    expected = styled(oracle(digest, max_email_bytes=10**7))
    got = styled(email)
    assert len(got) == len(expected) > 100
    for mine, premailers in zip(got, expected, strict=True):
        assert mine == premailers


def test_what_cannot_be_inlined_stays_as_written_and_the_rest_goes() -> None:
    email = render_day(fixture_digest(), site_config()).email_html
    blocks = re.findall(r"<style([^>]*)>(.*?)</style>", email, re.S)
    assert len(blocks) == 1
    attributes, css = blocks[0]
    assert attributes == ' data-css-inline="keep"'
    assert css.lstrip().startswith("a:hover { text-decoration: underline !important; }")
    assert "@media (max-width: 620px)" in css and "@media (prefers-color-scheme: dark)" in css
    # every declaration kept is !important, or the inlined styles would win
    for rule in re.findall(r"\{([^{}]*)\}", css):
        for declaration in filter(str.strip, rule.split(";")):
            assert declaration.strip().endswith("!important"), declaration
    # the plain rules are on the elements, not in the email's <head>
    assert re.search(r'<td class="paper" style="[^"]*padding: 12px 28px;', email)
    assert "border-collapse" not in css


def test_an_overridden_stylesheet_is_inlined_and_its_kept_block_kept(tmp_path) -> None:
    (tmp_path / "email.css").write_text(".paper { color: #123456; } .title { color: red; }\n")
    (tmp_path / "email_kept.css").write_text(
        "@media print { .paper { color: black !important; } }\n"
    )
    email = render_day(fixture_digest(), site_config(templates_dir=str(tmp_path))).email_html
    assert re.search(r'<td class="paper" style="color: #123456;">', email)
    assert '<a class="title" href="https://arxiv.org/abs/2503.07004" style="color: red;">' in email
    assert "@media print { .paper { color: black !important; } }" in email
    assert ".title { color: red; }" not in email


def test_a_broken_stylesheet_is_inlined_as_far_as_it_reads(tmp_path) -> None:
    """A browser skips a rule it cannot read; so does the inliner, and the email is made."""
    (tmp_path / "email.css").write_text(".paper { color: red; } }}} .title { color: ; \n")
    rendered = render_day(fixture_digest(), site_config(templates_dir=str(tmp_path)))
    assert re.search(r'<td class="paper" style="color: red;">', rendered.email_html)
    assert rendered.shown == 12


def test_no_stylesheet_is_loaded_from_elsewhere(tmp_path) -> None:
    (tmp_path / "email.css").write_text("")
    outside = tmp_path / "outside.css"
    outside.write_text(".paper { color: red; }")
    link = (
        f'<link rel="stylesheet" href="{outside.as_uri()}">'
        '<link rel="stylesheet" href="https://example.org/x.css">'
    )
    bundled = resources.files("digest.templates").joinpath("email.html").read_text("utf-8")
    (tmp_path / "email.html").write_text(bundled.replace("</head>", link + "</head>"))
    email = render_day(fixture_digest(), site_config(templates_dir=str(tmp_path))).email_html
    assert "color: red" not in email
    assert "<link" not in email
