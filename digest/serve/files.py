"""Which file of the output folder a URL path names, if the site may publish it.

Only regular files of publishable kinds whose *resolved* path lies inside the
output folder: a symlink in the output folder (to /etc/passwd, to the
database) must not turn the site into a window on the rest of the disk. The
resolved path is checked against the same rules as the requested one, so a
link from ``leak.html`` to a dotfile or the outbox is refused too.
"""

from __future__ import annotations

import stat
from pathlib import Path, PurePosixPath

# what the site publishes; anything else in the output folder stays private
PUBLIC_SUFFIXES = frozenset(
    {".html", ".xml", ".json", ".txt", ".css", ".js", ".svg", ".png", ".jpg", ".jpeg", ".gif",
     ".webp", ".ico", ".woff2", ".pdf", ".atom", ".opml",
     # the search index Pagefind builds in pagefind/ (WebAssembly, index and fragments)
     ".pagefind", ".pf_meta", ".pf_index", ".pf_fragment"}
)  # fmt: skip
# types Python's mimetypes does not know, or knows too vaguely for feed readers
MIME_TYPES = {".atom": "application/atom+xml", ".opml": "text/x-opml"}
PRIVATE_DIRS = frozenset({"outbox"})


def _publishable(parts: tuple[str, ...]) -> bool:
    if any(p.startswith(".") or p in PRIVATE_DIRS for p in parts):
        return False
    return bool(parts) and PurePosixPath(*parts).suffix.lower() in PUBLIC_SUFFIXES


def public_file(output: Path, url_path: str) -> str | None:
    """The path, relative to ``output`` (already resolved), of the regular file to send
    for ``url_path``; None when there is none the site may publish (answer 404)."""
    parts = PurePosixPath(url_path).parts
    if ".." in parts or url_path.startswith("/"):
        return None
    target = output.joinpath(*parts)
    if target.is_dir():
        target, parts = target / "index.html", (*parts, "index.html")
    if not _publishable(parts):
        return None
    try:
        real = target.resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError):  # missing, a symlink loop, unreadable
        return None
    if not stat.S_ISREG(mode) or not real.is_relative_to(output):
        return None
    inside = real.relative_to(output).parts
    # a link inside the folder to a dotfile or the outbox is as private as its target
    return "/".join(inside) if _publishable(inside) else None
