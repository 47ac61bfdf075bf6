"""Compiled templates kept between processes (Jinja's bytecode cache in var/jinja/ beside
the output folder): used when the templates are unchanged, compiled again when one is
edited, and never in the way when the folder cannot be made, read or written."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from test_render import fixture_digest

from digest.config import Config, RenderConfig
from digest.context import CONTEXT, JINJA_BYTECODE, NAMES
from digest.render import render_day

HEADING = "Trending papers, 13 Mar 2025"


def _config(tmp_path: Path) -> Config:
    templates = tmp_path / "my-templates"
    templates.mkdir(exist_ok=True)
    render = dataclasses.replace(RenderConfig(), templates_dir=str(templates))
    return Config(output_dir=str(tmp_path / "site" / "out"), render=render)


def _override(tmp_path: Path, text: str) -> None:
    (tmp_path / "my-templates" / "email.txt").write_text(text, encoding="utf-8")


def _cache_files(tmp_path: Path) -> dict[str, int]:
    folder = tmp_path / "site" / "var" / "jinja"
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def _fresh_process_render(config: Config) -> str:
    CONTEXT.reset()  # what a new process starts with: no environment, nothing compiled
    return render_day(fixture_digest(), config).email_txt


def test_compiled_templates_are_reused_until_a_template_changes(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _override(tmp_path, "Hello {{ day.heading }}\n")
    assert _fresh_process_render(config) == f"Hello {HEADING}\n"
    first = _cache_files(tmp_path)
    assert len(first) >= 3  # the override and the bundled templates the day renders
    # Jinja loads these files as code: only their owner may write them
    folder = tmp_path / "site" / "var" / "jinja"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o022 == 0 for p in folder.iterdir())
    assert not (tmp_path / "site" / "out").exists()  # nothing inside the served folder
    # the next process loads them all: no entry is written again
    assert _fresh_process_render(config) == f"Hello {HEADING}\n"
    assert _cache_files(tmp_path) == first
    # an edited template (same name, same file) is compiled again and its entry replaced
    _override(tmp_path, "Bye {{ day.heading }}\n")
    assert _fresh_process_render(config) == f"Bye {HEADING}\n"
    after = _cache_files(tmp_path)
    changed = [name for name in first if after[name] != first[name]]
    assert len(changed) == 1 and set(after) == set(first)


def test_a_damaged_entry_is_compiled_again(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _override(tmp_path, "Hello {{ day.heading }}\n")
    expected = render_day(fixture_digest(), config)
    for entry in (tmp_path / "site" / "var" / "jinja").iterdir():
        entry.write_bytes(b"not a bytecode entry")
    CONTEXT.reset()
    assert render_day(fixture_digest(), config) == expected


def test_a_cache_folder_that_cannot_be_made_or_written_costs_only_the_compile(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    _override(tmp_path, "Hello {{ day.heading }}\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "var").write_text("a file where the folder would go")
    assert _fresh_process_render(config) == f"Hello {HEADING}\n"
    (tmp_path / "site" / "var").unlink()
    (tmp_path / "site" / "var" / "jinja").mkdir(parents=True)
    (tmp_path / "site" / "var" / "jinja").chmod(0o500)  # read-only (root writes anyway)
    try:
        assert _fresh_process_render(config) == f"Hello {HEADING}\n"
    finally:
        (tmp_path / "site" / "var" / "jinja").chmod(0o700)


def test_two_processes_starting_at_once_share_the_folder(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _override(tmp_path, "Hello {{ day.heading }}\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_templating_cache import _config, render_day, fixture_digest;"
        "from pathlib import Path;"
        "print(render_day(fixture_digest(), _config(Path(sys.argv[2]))).email_txt, end='')"
    )
    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "PYTHONPATH": tests}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, tests, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [out for out, _ in results] == [f"Hello {HEADING}\n"] * 3, results
    assert not list((tmp_path / "site" / "var" / "jinja").glob("*.tmp"))
    assert _fresh_process_render(config) == f"Hello {HEADING}\n"


def test_the_bytecode_switch_of_the_context_leaves_the_folder_alone(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _override(tmp_path, "Hello {{ day.heading }}\n")
    CONTEXT.reset(tuple(name for name in NAMES if name != JINJA_BYTECODE))
    try:
        assert render_day(fixture_digest(), config).email_txt == f"Hello {HEADING}\n"
        assert not (tmp_path / "site" / "var").exists()
    finally:
        CONTEXT.reset()
