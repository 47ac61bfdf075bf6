"""`make screenshots`: the email at 600 and 375 px in headless chromium, and the PNG check."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from test_render import fixture_digest, site_config

from digest.errors import DigestError
from digest.render import render_day
from digest.render.screenshots import distinct_colours, find_chromium, main, png_pixels, screenshots


def make_png(rows: list[list[tuple[int, int, int]]], filters: list[int]) -> bytes:
    """An RGB PNG whose rows use the given filter types (0 none, 1 sub, 2 up)."""
    width = len(rows[0])
    raw = b""
    previous = bytes(width * 3)
    for row, kind in zip(rows, filters, strict=True):
        line = bytes(c for px in row for c in px)
        if kind == 1:
            line = bytes(
                (line[i] - (line[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(line))
            )
        elif kind == 2:
            line = bytes((line[i] - previous[i]) & 0xFF for i in range(len(line)))
        raw += bytes([kind]) + line
        previous = bytes(c for px in row for c in px)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_png_decoder_undoes_the_filters(tmp_path: Path) -> None:
    rows = [[(x * 40, y * 60, (x + y) * 20) for x in range(5)] for y in range(4)]
    data = make_png(rows, [0, 1, 2, 1])
    width, height, channels, decoded = png_pixels(data)
    assert (width, height, channels) == (5, 4, 3)
    assert decoded == [bytes(c for px in row for c in px) for row in rows]
    path = tmp_path / "x.png"
    path.write_bytes(data)
    assert distinct_colours(path, step=1) == 20
    blank = tmp_path / "blank.png"
    blank.write_bytes(make_png([[(255, 255, 255)] * 5] * 4, [0, 2, 1, 0]))
    assert distinct_colours(blank, step=1) == 1
    with pytest.raises(ValueError, match="not a PNG"):
        png_pixels(b"GIF89a")


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
        assert png_pixels(png.read_bytes())[0] == width
        assert distinct_colours(png) > 50  # text, links, badges and bars, not an empty page
    (blank_png,) = screenshots(blank, widths=(375,))
    assert distinct_colours(blank_png) == 1
