"""The command line as a user meets it: exit codes, one-line errors, --debug tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def digest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _listing(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "2025-06-02.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"2506.{i:05d}", "title": f"Paper {i}", "summary": "Text."}) + "\n"
            for i in range(rows)
        )
    )
    return path


@pytest.mark.slow
def test_help_and_version(tmp_path: Path) -> None:
    out = digest("--help", cwd=tmp_path)
    assert out.returncode == 0
    for command in ("run", "ingest"):
        assert command in out.stdout
    assert "Example" in digest("run", "--help", cwd=tmp_path).stdout
    assert "Example" in digest("ingest", "--help", cwd=tmp_path).stdout
    version = digest("--version", cwd=tmp_path)
    assert version.returncode == 0 and "digest, version" in version.stdout


@pytest.mark.slow
def test_exit_3_when_the_day_has_no_papers(tmp_path: Path) -> None:
    empty = tmp_path / "2025-06-02.jsonl"
    empty.write_text("")
    out = digest(
        "run", "--date", "2025-06-02", "--input", str(empty), "--output", "out", cwd=tmp_path
    )
    assert out.returncode == 3, out.stderr
    assert "no papers for 2025-06-02" in out.stderr
    assert (tmp_path / "out" / "2025-06-02" / "digest.json").exists()


@pytest.mark.slow
def test_exit_1_when_every_source_fails_and_the_reason_is_shown(tmp_path: Path) -> None:
    out = digest(
        "run", "--date", "2025-06-02", "--input", "missing.jsonl", "--output", "out", cwd=tmp_path
    )
    assert out.returncode == 1
    assert "missing.jsonl" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_one_failing_input_does_not_stop_the_others(tmp_path: Path) -> None:
    good = _listing(tmp_path, 3)
    out = digest(
        "run",
        "--date",
        "2025-06-02",
        "--input",
        str(good),
        "--input",
        "missing.jsonl",
        "--output",
        "out",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "out" / "2025-06-02" / "digest.json").read_text())
    statuses = {s["name"]: s["status"] for s in data["sources"]}
    assert statuses == {"file:2025-06-02.jsonl": "ok", "file:missing.jsonl": "error"}
    assert len(data["papers"]) == 3


@pytest.mark.slow
@pytest.mark.parametrize("debug", [False, True])
def test_errors_are_one_line_unless_debug(tmp_path: Path, debug: bool) -> None:
    (tmp_path / "db-is-a-folder").mkdir()
    config = tmp_path / "c.toml"
    config.write_text('database = "db-is-a-folder"\n')
    good = _listing(tmp_path, 1)
    args = ["--debug"] if debug else []
    out = digest(
        *args,
        "run",
        "--config",
        str(config),
        "--date",
        "2025-06-02",
        "--input",
        str(good),
        cwd=tmp_path,
    )
    assert out.returncode == 1
    assert "db-is-a-folder" in out.stderr
    if debug:
        assert "Traceback" in out.stderr
    else:
        assert "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) <= 2


@pytest.mark.slow
def test_bad_config_is_exit_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[trending]\ntop_n = 'many'\n")
    out = digest("run", "--config", str(config), "--date", "2025-06-02", cwd=tmp_path)
    assert out.returncode == 2
    assert "trending.top_n" in out.stderr and str(config) in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    out = digest("run", "--colour", "red", cwd=tmp_path)
    assert out.returncode == 2
    assert "--colour" in out.stderr


@pytest.mark.slow
def test_run_send_without_smtp_settings_fails_before_any_work(tmp_path: Path) -> None:
    good = _listing(tmp_path, 2)
    out = digest(
        "run",
        "--send",
        "--date",
        "2025-06-02",
        "--input",
        str(good),
        "--output",
        "out",
        cwd=tmp_path,
    )
    assert out.returncode == 1
    assert "smtp.host is not set" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out" / "2025-06-02").exists()


@pytest.mark.slow
def test_ingest_without_date_keeps_each_files_own_date(tmp_path: Path) -> None:
    dated = tmp_path / "2025-03-12.jsonl"
    dated.write_text(json.dumps({"id": "2503.00001", "title": "Dated", "summary": "S."}) + "\n")
    undated = tmp_path / "papers.jsonl"
    undated.write_text(json.dumps({"id": "2503.00002", "title": "Undated", "summary": "S."}) + "\n")
    out = digest("ingest", "--input", str(dated), "--input", str(undated), cwd=tmp_path)
    assert out.returncode == 0, out.stderr  # one good listing is enough
    assert "no date in this listing; pass --date" in out.stderr
    assert "Traceback" not in out.stderr
    from digest.store import Store

    with Store.open(tmp_path / "var" / "output.sqlite") as store:
        assert [d.isoformat() for d in store.listing_dates()] == ["2025-03-12"]
    folder = digest("ingest", "--input", str(tmp_path), cwd=tmp_path)
    assert folder.returncode == 1
    assert "needs --date" in folder.stderr
