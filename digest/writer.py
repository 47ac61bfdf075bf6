"""The only module that writes into the output directory.

Every file is written atomically (a temporary file in the same folder, fsync,
then ``os.replace``), so a feed reader or web server never sees half a file
and a crash leaves the previous version in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def atomic_write(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_json(path: Path, data: Any) -> Path:
    return atomic_write(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


PARALLEL_WRITES = 16  # files fsync'd at once: the file system commits their journal together


def write_files(
    root: Path, files: Mapping[str, str | bytes], only_changed: bool = False
) -> list[Path]:
    """Write ``{relative path: content}`` under ``root``; refuses paths that leave ``root``.
    ``only_changed``: a file whose content is already that is left alone (topic pages: a
    site of thousands of pages, most of them unchanged from one day to the next).

    Many files are written by a few threads: one at a time, each fsync waited for a journal
    commit of its own (1,800 topic pages took 14 s; 16 at once, 0.9 s)."""
    root = root.resolve()
    targets = []
    for rel, content in files.items():
        target = (root / rel).resolve()
        if root != target and root not in target.parents:
            raise ValueError(f"refusing to write outside the output directory: {rel}")
        if only_changed and _same(target, content):
            continue
        targets.append((target, content))
    if len(targets) < 4:
        return [atomic_write(target, content) for target, content in targets]
    with ThreadPoolExecutor(PARALLEL_WRITES) as pool:
        return list(pool.map(lambda tc: atomic_write(*tc), targets))


def _same(path: Path, content: str | bytes) -> bool:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    try:
        return path.stat().st_size == len(raw) and path.read_bytes() == raw
    except OSError:
        return False


def prune(root: Path, folder: str, keep: Collection[str]) -> list[Path]:
    """Remove the files under ``root/folder`` whose path (relative to ``root``) is not in
    ``keep``: what a generated bundle (the search index, named by content hashes) no longer
    uses. Empty folders go too. Returns the removed files."""
    root = root.resolve()
    base = (root / folder).resolve()
    if root not in base.parents:
        raise ValueError(f"refusing to prune outside the output directory: {folder}")
    if not base.is_dir():
        return []
    removed = []
    for path in sorted(base.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.rmdir()  # only when empty
        elif path.relative_to(root).as_posix() not in keep:
            path.unlink()
            removed.append(path)
    return removed
