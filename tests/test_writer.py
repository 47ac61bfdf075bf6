"""digest.writer.write_files: every file lands under the output folder, never outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest import writer


def test_writes_many_files_in_shared_folders(tmp_path: Path) -> None:
    files = {f"topics/t{n % 3}/{name}": f"{n}" for n in range(12) for name in ("a", "b")}
    writer.write_files(tmp_path, files)
    assert {
        p.relative_to(tmp_path).as_posix(): p.read_text()
        for p in tmp_path.rglob("*")
        if p.is_file()
    } == files


@pytest.mark.parametrize("rel", ["../x.txt", "a/../../x.txt", "..", "/tmp/x.txt"])
def test_paths_leaving_the_folder_are_refused(tmp_path: Path, rel: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="outside the output directory"):
        writer.write_files(out, {rel: "x"})


def test_symlinks_leading_out_are_refused(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "folder").symlink_to(elsewhere, target_is_directory=True)
    (out / "file.txt").symlink_to(elsewhere / "file.txt")
    for rel in ("folder/x.txt", "file.txt"):
        with pytest.raises(ValueError, match="outside the output directory"):
            writer.write_files(out, {rel: "x"})
    assert not any(elsewhere.iterdir())
