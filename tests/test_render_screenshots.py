"""`make screenshots`: the email at 600 and 375 px in headless chromium, none of them blank."""

from __future__ import annotations

from pathlib import Path

import pytest
from pngs import distinct_colours, width_of
from test_render import fixture_digest, site_config

from digest.errors import DigestError
from digest.render import render_day
from digest.render.screenshots import find_chromium, main, screenshots


def test_missing_email_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DigestError, match="no such file"):
        screenshots(tmp_path / "nope" / "email.html")
    assert main([str(tmp_path / "nope.html")]) == 1
    assert "error:" in capsys.readouterr().err
    assert main([]) == 2


@pytest.mark.browser
@pytest.mark.slow
def test_screenshots_are_not_blank(tmp_path: Path) -> None:
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    email = tmp_path / "2025-03-13" / "email.html"
    email.parent.mkdir()
    email.write_text(render_day(fixture_digest(), site_config()).email_html, encoding="utf-8")
    blank = tmp_path / "blank" / "email.html"
    blank.parent.mkdir()
    blank.write_text(
        "<!DOCTYPE html><title>x</title><body style='background:#fff'>", encoding="utf-8"
    )

    pngs = screenshots(email)
    assert [p.name for p in pngs] == ["email-600.png", "email-375.png"]
    assert all(p.parent == email.parent / "screenshots" for p in pngs)
    for png, width in zip(pngs, (600, 375), strict=True):
        assert width_of(png) == width
        assert distinct_colours(png) > 50  # text, links, badges and bars, not an empty page
    (blank_png,) = screenshots(blank, widths=(375,))
    assert distinct_colours(blank_png) == 1


@pytest.mark.browser
@pytest.mark.slow
def test_the_kept_rules_beat_the_inlined_styles_in_a_browser(tmp_path: Path) -> None:
    """Narrow screens and dark mode restyle the inlined email: its kept <style> block wins
    over the style attributes (its declarations are !important)."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    email = tmp_path / "email.html"
    email.write_text(render_day(fixture_digest(), site_config()).email_html, encoding="utf-8")
    probe = "e => [getComputedStyle(e).color, getComputedStyle(e).paddingLeft]"
    seen = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            for scheme, width in (("light", 800), ("dark", 375)):
                page = browser.new_page(
                    viewport={"width": width, "height": 800}, color_scheme=scheme
                )
                page.goto(email.as_uri())
                seen[scheme] = page.eval_on_selector("td.paper", probe)
                page.close()
        finally:
            browser.close()
    assert seen["light"] == ["rgb(31, 41, 55)", "28px"]  # #1f2937, as inlined
    assert seen["dark"] == ["rgb(229, 231, 235)", "16px"]  # #e5e7eb and the narrow padding
