"""The archive's search index, built by Pagefind when the site is published, in bundles
that are rebuilt only when their pages change.

Pagefind (the ``pagefind[bin]`` dependency: the ``pagefind`` Python API finds the binary
the ``pagefind-bin`` package ships) reads the published HTML and makes a static index that
the browser queries with Pagefind's own JavaScript and WebAssembly: no server code, so
search works from ``digest serve`` and from any static host. Pagefind has no incremental
mode: each run indexes every page it is given. So the index is split into bundles, and
the browser merges them with Pagefind's documented multi-bundle search (``mergeIndex``):

- one bundle per calendar month of day pages, ``pagefind/2025-03/``: a re-run of an old
  day, or topic re-linking that renders old days again, marks their months; the newest
  month, which every daily run changes, is indexed in parts of :data:`PART_DAYS` days
  (``pagefind/2025-06-part1/``: days 1 to 7) until a day of a later month is published,
  when its month bundle is built once and the parts go;
- the part that holds the newest day (the current week) is indexed in pieces, as the
  binary digits of its days so far (day 5 of a part: ``2025-06-days01-04/`` and
  ``2025-06-day05/``), until a day of a later part is published, when the part is built
  once and the pieces go: over a week a daily run indexes 1, 2, 1, 4, 1, 2, 1 day pages
  (2.7 on average with the part's own build; a day page of arXiv size costs Pagefind
  0.15-0.25 s of CPU), where parts alone cost 1 to 7 (4 on average). The browser merges
  one bundle more at worst: on the 28th of a month the site bundle, 3 parts and 3 pieces
  (7, and one per earlier month), where parts alone made 6 on the 29th to 31st;
- one bundle for the pages that change every day, ``pagefind/site/``: the topic and
  weekly pages (the archive's own index page has no ``data-pagefind-body`` and is never
  indexed, as before the split).

Topic pages index only their header (label, state, lineage) and weekly pages their
heading, rising topics and days: their paper lists, found on the day pages with their
abstracts, are ``data-pagefind-ignore``, so the site bundle costs Pagefind about 0.1 s of
CPU at 35 stored days, where the paper lists made it 0.82 s at 60 days.

A bundle is rebuilt when the pages it covers changed: beside its files,
``digest-pages.json`` records each page's size, mtime and SHA-256 (and the binary that
indexed it); a page whose size and mtime are unchanged is not read again. The site bundle
is rebuilt on most days anyway (its pages' paper lists and sparklines change daily, and a
topic is born or changes state most days), so hashing only a page's indexed part was tried
and dropped: a hand-written HTML scan for a skip that rarely happens. Each bundle
indexes only its own pages (``--glob``), and only a bundle with at least one
``data-pagefind-body`` page exists: Pagefind indexes a whole page when no page of its run
has that mark, which would put pages that were never meant to be searched in the index.

``pagefind/bundles.json`` names the bundles, the primary one first: ``search.js`` reads it
and calls ``PagefindUI`` with the others in ``mergeIndex`` (no inline script: the pages'
CSP stays strict). Pagefind writes its bundles itself, so it writes into temporary
folders and :func:`build_index` hands the files back: ``digest.writer`` stays the only
writer of the output folder, and prunes what no bundle uses any more. Without the binary
(or when it fails) the archive still publishes, and one warning line says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("digest.search")

FOLDER = "pagefind"  # every bundle's folder in the output, where search.js looks
MANIFEST = f"{FOLDER}/bundles.json"  # the bundles, primary first: written after them
ENTRY = "pagefind-entry.json"  # names the index files of a bundle: written after them
PAGES = "digest-pages.json"  # beside a bundle's files: the pages it was built from
SITE_BUNDLE = "site"
SITE_GLOB = "{topics,weekly}/*/index.html"  # topic and weekly pages (pagefind's glob syntax)
BODY_MARK = b"data-pagefind-body"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # a day page's folder
# the newest month's days per bundle: a daily run re-indexes at most this many day pages
# (a whole month was 31, about 2.8 s of CPU for arXiv-sized days: bench_search.py)
PART_DAYS = 7
TIMEOUT_S = 600


@dataclass(frozen=True)
class Bundle:
    """One Pagefind bundle: ``pagefind/<name>/``, built from the pages ``glob`` matches
    (relative to the output folder; :meth:`pathlib.Path.glob` and Pagefind agree on it)."""

    name: str
    glob: str

    @property
    def folder(self) -> str:
        return f"{FOLDER}/{self.name}"


@dataclass(frozen=True)
class SearchIndex:
    """What a publish writes for search, in the order it must be written.

    ``batches``: each rebuilt bundle's files, then their entry files and page records
    (a browser that reads an entry finds every file it names), then the manifest.
    ``keep``: every file of the index after this publish; the rest of ``pagefind/`` is
    stale. ``built``/``kept``: the bundles indexed by this publish, and those left as they
    were because their pages did not change."""

    batches: tuple[Mapping[str, bytes], ...]
    keep: frozenset[str]
    built: tuple[str, ...]
    kept: tuple[str, ...]


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


def bundles(site: Path) -> list[Bundle]:
    """The bundles of the pages now under ``site``, the site bundle first, then the newest
    first: the newest month's part that holds the newest day, in pieces
    (:func:`_pieces`); the newest month's finished parts (``2025-06-part1``: days 1 to
    7, ...); one per earlier month. Once a day of a later part is published, a part's
    pieces give way to its part bundle, built once; once a day of a later month is
    published, a month's parts give way to its month bundle, built once."""
    days = sorted(
        {p.parent.name for p in site.glob("*/index.html") if DAY.fullmatch(p.parent.name)}
    )
    found = [Bundle(SITE_BUNDLE, SITE_GLOB)]
    newest = days[-1] if days else ""
    for month in sorted({d[:7] for d in days}, reverse=True):
        if month != newest[:7]:
            found.append(Bundle(month, f"{month}-*/index.html"))
            continue
        newest_part = (int(newest[8:]) - 1) // PART_DAYS
        parts = {(int(d[8:]) - 1) // PART_DAYS for d in days if d.startswith(month)}
        for part in sorted(parts, reverse=True):
            first = part * PART_DAYS + 1
            if part == newest_part:
                found.extend(reversed(_pieces(month, first, int(newest[8:]))))
            else:
                found.append(Bundle(f"{month}-part{part + 1}", _days_glob(month, first, PART_DAYS)))
    return found


def _pieces(month: str, first: int, newest: int) -> list[Bundle]:
    """The bundles of a part's days ``first`` to ``newest``, oldest first, as the binary
    digits of their count: 5 days are 4 + 1 (``2025-06-days01-04``, ``2025-06-day05``).
    The newest day's piece is built again every day, and a piece is rebuilt only when it
    grows past the size of the one before it merges them: over the 7 days of a part a
    daily run indexes 1, 2, 1, 4, 1, 2, 1 day pages (then the part, once, 7 pages),
    instead of 1, 2, ..., 7; the browser merges at most 3 pieces."""
    count = newest - first + 1
    found: list[Bundle] = []
    for size in (1 << bit for bit in reversed(range(count.bit_length()))):
        if count & size:
            last = first + size - 1
            name = f"{month}-day{first:02d}" if size == 1 else f"{month}-days{first:02d}-{last:02d}"
            found.append(Bundle(name, _days_glob(month, first, size)))
            first += size
    return found


def _days_glob(month: str, first: int, count: int) -> str:
    if count == 1:
        return f"{month}-{first:02d}/index.html"
    numbers = ",".join(f"{n:02d}" for n in range(first, first + count))
    return f"{month}-{{{numbers}}}/index.html"


def build_index(site: Path, jobs: int = 1) -> SearchIndex | None:
    """The search index of the HTML under ``site``, rebuilding only the bundles whose pages
    changed since the last publish (``jobs``: Pagefind runs at once).

    None, after one warning, when Pagefind is missing, or fails with no bundle to show:
    search is an extra, and a day's digest must publish without it.
    """
    binary = pagefind_binary()
    if binary is None:
        log.warning(
            "archive search not built: the pagefind binary is missing "
            "(pip install 'pagefind[bin]', or set PAGEFIND_BINARY_PATH)"
        )
        return None
    stat = binary.stat()
    indexer = f"{binary.resolve()} {stat.st_size} {stat.st_mtime_ns}"
    records: dict[Bundle, dict] = {}
    todo: list[Bundle] = []
    unchanged: list[Bundle] = []
    for bundle in bundles(site):
        before = _read_record(site / bundle.folder / PAGES)
        pages = _page_records(site, bundle.glob, before.get("pages", {}))
        if not any(body for *_, body in pages.values()):
            continue  # nothing to search there
        records[bundle] = {"indexer": indexer, "glob": bundle.glob, "pages": pages}
        same = before.get("indexer") == indexer and _hashes(before) == _hashes(records[bundle])
        if same and (site / bundle.folder / ENTRY).is_file():
            unchanged.append(bundle)
        else:
            todo.append(bundle)
    with ThreadPoolExecutor(max(1, min(jobs, len(todo) or 1))) as pool:
        results = list(pool.map(lambda b: _run_pagefind(binary, site, b), todo))
    built = {b: files for b, files in zip(todo, results, strict=True) if isinstance(files, dict)}
    failed = {b: err for b, err in zip(todo, results, strict=True) if isinstance(err, str)}
    # a bundle that failed keeps its former files if it has some (stale, not missing), and
    # its former record: the next publish tries again
    stale = [b for b in failed if (site / b.folder / ENTRY).is_file()]
    if failed:
        first, detail = next(iter(failed.items()))
        more = f" (and {len(failed) - 1} more bundles)" if len(failed) > 1 else ""
        if not built and not unchanged and not stale:
            log.warning("archive search not built: pagefind failed: %s", detail)
            return None
        log.warning(
            "archive search incomplete: pagefind failed for %s%s: %s", first.name, more, detail
        )
    files: dict[str, bytes] = {}
    entries: dict[str, bytes] = {}
    for bundle, bundle_files in built.items():
        entries[f"{bundle.folder}/{ENTRY}"] = bundle_files.pop(ENTRY)
        files.update({f"{bundle.folder}/{name}": data for name, data in bundle_files.items()})
    for bundle in [*built, *unchanged]:  # unchanged: mtimes may have moved, hashes did not
        entries[f"{bundle.folder}/{PAGES}"] = _json_bytes(records[bundle])
    shown = [b for b in records if b in built or b in unchanged or b in stale]
    manifest = {MANIFEST: _json_bytes({"bundles": [f"{b.name}/" for b in shown]})}
    keep = {*files, *entries, *manifest}
    for bundle in [*unchanged, *stale]:
        keep.update(_files_under(site, bundle.folder))
    return SearchIndex(
        batches=(files, entries, manifest),
        keep=frozenset(keep),
        built=tuple(b.name for b in built),
        kept=tuple(b.name for b in unchanged),
    )


def _page_records(site: Path, glob: str, before: Mapping[str, list]) -> dict[str, list]:
    """``{page: [size, mtime_ns, sha256, has a body]}`` for the pages ``glob`` matches; a
    page whose size and mtime are as recorded is not read again."""
    out: dict[str, list] = {}
    for page in sorted(_expand(site, glob)):
        rel = page.relative_to(site).as_posix()
        stat = page.stat()
        old = before.get(rel)
        if isinstance(old, list) and len(old) == 4 and old[:2] == [stat.st_size, stat.st_mtime_ns]:
            out[rel] = old
            continue
        data = page.read_bytes()
        out[rel] = [
            stat.st_size,
            stat.st_mtime_ns,
            hashlib.sha256(data).hexdigest(),
            BODY_MARK in data,
        ]
    return out


def _expand(site: Path, glob: str) -> set[Path]:
    """The files ``glob`` matches under ``site``, as Pagefind reads it: Path.glob has no
    ``{a,b}`` alternatives."""
    brace = re.search(r"\{([^{}]*)\}", glob)
    if brace is None:
        return {p for p in site.glob(glob) if p.is_file()}
    head, tail = glob[: brace.start()], glob[brace.end() :]
    return {p for option in brace.group(1).split(",") for p in _expand(site, head + option + tail)}


def _hashes(record: Mapping) -> dict[str, str]:
    pages = record.get("pages", {})
    return {rel: r[2] for rel, r in pages.items() if isinstance(r, list) and len(r) == 4}


def _read_record(path: Path) -> dict:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or damaged: the bundle is built again
    return data if isinstance(data, dict) else {}


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _files_under(site: Path, folder: str) -> set[str]:
    return {p.relative_to(site).as_posix() for p in (site / folder).rglob("*") if p.is_file()}


def _run_pagefind(binary: Path, site: Path, bundle: Bundle) -> dict[str, bytes] | str:
    """The bundle's files ``{name: bytes}`` (its entry file included), or why it failed."""
    with tempfile.TemporaryDirectory(prefix="digest-pagefind-") as tmp:
        command = [str(binary), "--site", str(site), "--glob", bundle.glob, "--output-path", tmp]
        try:
            proc = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return f"it took more than {TIMEOUT_S} s"
        except OSError as exc:
            return f"cannot run {binary}: {exc}"
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return lines[-1] if lines else f"exit code {proc.returncode}"
        root = Path(tmp)
        files = {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
    if ENTRY not in files:
        return f"it wrote no {ENTRY} for {bundle.folder}/"
    return files
