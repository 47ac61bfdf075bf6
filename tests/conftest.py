"""Shared fixtures. Tests never touch the internet; servers they need run on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
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
    # a developer's own database URL must never reach the tests' databases
    monkeypatch.delenv("DIGEST_DATABASE_URL", raising=False)


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session (``tests/pg_cluster.py``): DIGEST_TEST_PG_URL, else
    a throwaway cluster. Skipped with the reason when neither is possible; under CI=true
    that is a failure, so a CI machine never passes without the PostgreSQL tests."""
    import pg_cluster

    try:
        cluster = pg_cluster.start()
    except pg_cluster.Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests cannot run under CI: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    url = pg_server.new_database()
    yield url
    import psycopg

    try:
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    except psycopg.Error:
        pass


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The database of a store test, once on each backend: a SQLite file, a PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / "db.sqlite"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a whole-project test on each backend: PostgreSQL through DIGEST_DATABASE_URL
    (which overrides the config's database, in this process and in the commands it starts)."""
    if request.param == "postgresql":
        monkeypatch.setenv("DIGEST_DATABASE_URL", str(request.getfixturevalue("pg_url")))
    return str(request.param)
