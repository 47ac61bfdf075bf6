"""Storage faults through the CLI: a read-only database, a full disk and damaged pages each
give one line naming the database and what to do; commands that only read work on a
database this user cannot write; a damaged database is refused before anything touches it.

The tests run as root, which ignores file modes: a read-only file is made with
``chattr +i`` (immutable even for root) and a full disk with a 1 MB tmpfs; where the
machine does not allow these, the test is skipped and says why."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.store.db import RESTORE_HINT


def digest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def setup(tmp_path: Path, db: Path) -> Path:
    config = tmp_path / "digest.toml"
    config.write_text(f'output_dir = "{tmp_path / "out"}"\ndatabase = "{db}"\n')
    return config


def listing(tmp_path: Path, papers: int) -> Path:
    path = tmp_path / "2025-03-13.jsonl"
    abstract = "We study attention in transformers and report results on benchmarks. " * 15
    rows = (
        {"id": f"2503.{10000 + n}", "title": f"Paper {n} on attention", "summary": abstract}
        for n in range(papers)
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.fixture
def read_only_file() -> Iterator[list[Path]]:
    """Paths appended to the list are made read-only (for root too) and writable again after."""
    made: list[Path] = []
    yield made
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(0o644)


def make_read_only(path: Path, registry: list[Path]) -> None:
    registry.append(path)
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no way to make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")


@pytest.mark.slow
def test_read_only_database(tmp_path: Path, read_only_file: list[Path]) -> None:
    db = tmp_path / "var" / "d.sqlite"
    config = setup(tmp_path, db)
    added = digest(
        "subscribers",
        "add",
        "ada@example.org",
        "--confirmed",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert not db.with_name("d.sqlite-wal").exists()  # the last close checkpointed
    make_read_only(db, read_only_file)

    listed = digest("subscribers", "list", "--config", str(config), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("ada@example.org\tconfirmed\t")
    exported = digest("subscribers", "export", "--config", str(config), cwd=tmp_path)
    assert exported.returncode == 0 and "ada@example.org" in exported.stdout, exported.stderr
    status = digest("schedule", "--status", "--config", str(config), cwd=tmp_path)
    assert "scheduler: not running" in status.stdout, status.stderr
    assert "error" not in status.stderr

    refused = digest("subscribers", "add", "bob@example.org", "--config", str(config), cwd=tmp_path)
    assert refused.returncode == 1
    assert one_line(refused) == (
        f"digest: error: {db}: attempt to write a readonly database: the database is "
        f"read-only here; make {db} and its folder writable for this user"
    )


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a tmpfs mount, which needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 1 MB tmpfs to fill: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk(tmp_path: Path, tiny_disk: Path) -> None:
    db = tiny_disk / "d.sqlite"
    config = setup(tmp_path, db)
    big = listing(tmp_path, 3000)  # ~3 MB of papers for a 1 MB disk
    done = digest("ingest", "--config", str(config), "--input", str(big), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    line = one_line(done)
    assert line.startswith(f"digest: error: {db}: database or disk is full: ")
    assert line.endswith(
        "the disk is full; free space on it (or set database in the config to another disk)"
    )


@pytest.mark.slow
def test_damaged_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    config = setup(tmp_path, db)
    first = digest(
        "ingest", "--config", str(config), "--input", str(listing(tmp_path, 300)), cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    backup = tmp_path / "backup.sqlite"
    if shutil.which("sqlite3"):  # the backup command of the README and docs/operations.md
        made = subprocess.run(["sqlite3", str(db), f".backup {backup}"], cwd=tmp_path)
        assert made.returncode == 0
    size = db.stat().st_size
    assert size > 200_000
    with db.open("r+b") as f:  # a run of garbage over pages in the middle of the file
        f.seek(size // 2 // 16384 * 16384)
        f.write(b"\xa5" * 40_000)
    before = hashlib.sha256(db.read_bytes()).hexdigest()

    for args in (
        ["ingest", "--input", str(listing(tmp_path, 5))],
        ["subscribers", "list"],
        ["schedule", "--status"],
    ):
        done = digest(*args, "--config", str(config), cwd=tmp_path)
        assert done.returncode == 1, (args, done.stderr)
        line = one_line(done)
        assert line.startswith(f"digest: error: {db}: the database is damaged ("), line
        assert line.endswith(RESTORE_HINT), line
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before

    if not backup.exists():
        pytest.skip("no sqlite3 command to make the backup with (apt-get install sqlite3)")
    db.rename(tmp_path / "damaged.sqlite")  # the restore of docs/operations.md
    shutil.copyfile(backup, db)
    again = digest(
        "ingest", "--input", str(listing(tmp_path, 5)), "--config", str(config), cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
