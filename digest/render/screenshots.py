"""Screenshots of an email at phone and desktop widths, in headless Debian chromium.

``python -m digest.render.screenshots output/DATE/email.html`` (what ``make
screenshots`` runs) writes ``output/DATE/screenshots/email-600.png`` and
``email-375.png``. Chromium runs with a fresh profile and every background
service off, so a screenshot never waits on, or reaches, the network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from digest.errors import DigestError

WIDTHS = (600, 375)
HEIGHT = 2400
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 90


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(html_file: Path, png: Path, width: int, height: int = HEIGHT) -> Path:
    """Render ``html_file`` at ``width`` x ``height`` CSS pixels into ``png``."""
    browser = find_chromium()
    if browser is None:
        raise DigestError("chromium not found: install it with `apt-get install chromium`")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="digest-chromium-") as profile:
        args = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            html_file.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise DigestError(f"chromium took more than {TIMEOUT_S} s on {html_file}") from None
    if done.returncode != 0 or not png.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DigestError(f"chromium could not screenshot {html_file}: {last}")
    return png


def screenshots(html_file: Path, widths: Sequence[int] = WIDTHS) -> list[Path]:
    """One PNG per width in ``screenshots/`` beside ``html_file``."""
    if not html_file.is_file():
        raise DigestError(f"{html_file}: no such file (run `make run` first)")
    folder = html_file.parent / "screenshots"
    return [screenshot(html_file, folder / f"{html_file.stem}-{w}.png", w) for w in widths]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m digest.render.screenshots output/DATE/email.html", file=sys.stderr)
        return 2
    try:
        for png in screenshots(Path(args[0])):
            print(png)
    except DigestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
