"""The archive page's layout: the subscribe box sits in the centred column (checked in
headless chromium at 1000 and 375 px) and the feed is linked once."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pngs import margins_are_blank
from test_render import fixture_digest, site_config
from test_render_site import days_of

from digest.render import render_site
from digest.render.screenshots import find_chromium, screenshot


class _Where(HTMLParser):
    """The open elements at the subscribe form, and every visible link's href."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.form_in: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.form_in = list(self.stack)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag not in ("input", "meta", "link", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]


def _archive() -> str:
    return render_site(days_of(fixture_digest(), 3), site_config()).index_html


def test_subscribe_form_is_in_the_main_column_and_the_feed_is_linked_once() -> None:
    html = _archive()
    where = _Where()
    where.feed(html)
    assert "main" in where.form_in, where.form_in
    feed_url = re.search(r'<link rel="alternate"[^>]*href="([^"]+)"', html)
    assert feed_url is not None
    assert where.links.count(feed_url.group(1)) == 1, where.links


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize(("width", "margin"), [(1000, 110), (375, 15)])
def test_nothing_on_the_archive_page_leaves_the_centred_column(
    tmp_path: Path, width: int, margin: int
) -> None:
    # the column is 760 px wide with 20 px padding: at 1000 px, 120 px either side stay empty
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "index.html"
    page.write_text(_archive(), encoding="utf-8")
    png = screenshot(page, tmp_path / f"archive-{width}.png", width, height=1400)
    assert margins_are_blank(png, margin)
