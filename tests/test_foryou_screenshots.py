"""`make screenshots`: the preferences page of digest serve at 375 and 1000 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from pngs import distinct_colours, width_of

from digest.render.screenshots import find_chromium
from digest.serve.preview import main, preferences_html


def test_preferences_page_preview_is_the_served_form() -> None:
    page = preferences_html()
    assert 'enctype="multipart/form-data"' in page and "mechanism design" in page
    assert "<script" not in page  # the CSP allows no inline script


@pytest.mark.browser
def test_preferences_page_screenshots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    assert main([str(tmp_path)]) == 0
    for width in (375, 1000):
        png = tmp_path / "screenshots" / f"preferences-{width}.png"
        assert str(png) in capsys.readouterr().out or png.is_file()
        assert width_of(png) == width
        assert distinct_colours(png) > 5  # text and form controls, not a blank page


def test_preview_usage_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m digest.serve.preview")
