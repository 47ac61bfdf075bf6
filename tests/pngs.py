"""The screenshots' PNGs read in tests, with Pillow (of the test extra)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def width_of(png: Path) -> int:
    with Image.open(png) as image:
        return int(image.width)


def distinct_colours(png: Path, step: int = 4) -> int:
    """How many different colours a sample of the image holds (1 for a blank page): every
    ``step``-th pixel of every ``step``-th row, alpha left aside."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    pixels = rgb.load()
    assert pixels is not None
    rows, columns = range(0, rgb.height, step), range(0, rgb.width, step)
    return len({pixels[x, y] for y in rows for x in columns})


def margins_are_blank(png: Path, margin: int) -> bool:
    """Nothing drawn in the ``margin`` px at either side of the image, on any row: both
    strips hold the colour of the top left pixel alone."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    background = rgb.getpixel((0, 0))
    for box in ((0, 0, margin, rgb.height), (rgb.width - margin, 0, rgb.width, rgb.height)):
        colours = rgb.crop(box).getcolors(maxcolors=1)
        if colours is None or colours[0][1] != background:
            return False
    return True
