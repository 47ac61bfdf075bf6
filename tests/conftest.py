"""Shared fixtures. Tests never touch the internet; servers they need run on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
UPDATE_GOLDEN = os.environ.get("DIGEST_UPDATE_GOLDEN") == "1"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared() -> Path:
    """../shared beside the project; tests that need it skip on a machine without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the project")
    return SHARED


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # commands look for ./config/digest.toml; run every test from an empty folder
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIGEST_DEBUG", raising=False)
