"""The package installs as a user gets it: a wheel with the templates inside."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_the_templates(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("digest-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    templates = sorted(
        p.name
        for p in (ROOT / "templates").iterdir()
        if p.suffix in {".html", ".txt", ".xml", ".css", ".j2"}
    )
    assert templates, "templates/ holds no templates"
    for name in templates:
        assert f"digest/templates/{name}" in names
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "digest").rglob("*.py"))
    assert [m for m in modules if m not in names] == []
    assert any(n.endswith("entry_points.txt") for n in names)
    assert "digest/themes/background.npz" in names  # the themes stage's bundled IDF
