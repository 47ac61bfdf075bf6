"""The archive's search index, built by Pagefind when the site is published.

Pagefind (the ``pagefind[bin]`` dependency: the ``pagefind`` Python API finds the binary
the ``pagefind-bin`` package ships) reads the published HTML and makes a static index that
the browser queries with Pagefind's own JavaScript and WebAssembly: no server code, so
search works from ``digest serve`` and from any static host. The day, topic and weekly
pages are indexed (their ``<main data-pagefind-body>``); Pagefind reads only the
``index.html`` files (:data:`PAGES`), not the emails beside them, which it would parse
only to skip.

Pagefind writes its bundle itself, so it writes into a temporary folder and
:func:`build_index` hands the files back: ``digest.writer`` stays the only writer of the
output folder. Without the binary (or when it fails) the archive still publishes, without
search, and one warning line says why; the pages' search box then stays hidden.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger("digest.search")

FOLDER = "pagefind"  # the bundle's folder in the output, where search.js looks for it
ENTRY = f"{FOLDER}/pagefind-entry.json"  # names the index files of this build: written last
TIMEOUT_S = 600
# the pages (day, topic, weekly, archive): an email.html is never indexed, and a site's
# emails are as many as its days
PAGES = "**/index.html"


def pagefind_binary() -> Path | None:
    """The Pagefind executable: ``PAGEFIND_BINARY_PATH``, the ``pagefind-bin`` package, or
    one on PATH (the ``pagefind`` API's own search order); None when there is none."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        return None
    found = get_executable()
    if found is None or not found.is_file() or not os.access(found, os.X_OK):
        return None
    return found


def build_index(site: Path) -> dict[str, bytes] | None:
    """Pagefind's bundle for the HTML under ``site``, as ``{"pagefind/...": bytes}``.

    None, after one warning, when Pagefind is missing or fails: search is an extra, and a
    day's digest must publish without it.
    """
    binary = pagefind_binary()
    if binary is None:
        log.warning(
            "archive search not built: the pagefind binary is missing "
            "(pip install 'pagefind[bin]', or set PAGEFIND_BINARY_PATH)"
        )
        return None
    with tempfile.TemporaryDirectory(prefix="digest-pagefind-") as tmp:
        command = [str(binary), "--site", str(site), "--glob", PAGES, "--output-path", tmp]
        try:
            proc = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            log.warning("archive search not built: pagefind took more than %d s", TIMEOUT_S)
            return None
        except OSError as exc:
            log.warning("archive search not built: cannot run %s: %s", binary, exc)
            return None
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            detail = lines[-1] if lines else f"exit code {proc.returncode}"
            log.warning("archive search not built: pagefind failed: %s", detail)
            return None
        root = Path(tmp)
        files = {
            f"{FOLDER}/{p.relative_to(root).as_posix()}": p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
    if ENTRY not in files:
        log.warning("archive search not built: pagefind wrote no %s", ENTRY)
        return None
    # the entry file last: a browser that reads it finds every file it names in place
    entry = files.pop(ENTRY)
    files[ENTRY] = entry
    return files
