"""End-to-end through the console entry point, as a user would call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _digest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.slow
def test_run_on_jsonl_writes_digest_json(tmp_path: Path) -> None:
    listing = tmp_path / "2025-06-02.jsonl"
    listing.write_text(
        json.dumps(
            {
                "id": "2506.00001v2",
                "title": "A  paper",
                "summary": "About graphs.",
                "authors": ["A B"],
            }
        )
        + "\n"
    )
    proc = _digest(
        "run", "--date", "2025-06-02", "--input", str(listing), "--output", "out", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out" / "2025-06-02" / "digest.json").read_text())
    assert [p["id"] for p in data["papers"]] == ["2506.00001"]
    assert data["papers"][0]["title"] == "A paper"
    assert set(data) >= {"date", "generated_at", "sources", "papers", "themes", "trending"}


@pytest.mark.slow
def test_bad_date_is_a_usage_error_without_traceback(tmp_path: Path) -> None:
    proc = _digest("run", "--date", "2025-13-40", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "2025-13-40" in proc.stderr
