"""Listing formats: read a local listing file of any supported format into a ``Listing``.

The format is detected from the content (the file name is only a hint);
``.gz`` files are decompressed transparently. Entry point: :func:`read_listing`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from pathlib import Path

from digest.errors import InputError
from digest.models import EMPTY, OK, Listing, Paper, arxiv_id, clean_space, paper_key

DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.")


def read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: truncated or corrupt gzip file ({exc})") from None
    return raw


def date_from_name(path: Path) -> dt.date | None:
    m = DATED_NAME.match(path.name)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def read_listing(path: Path, day: dt.date | None = None, source: str | None = None) -> Listing:
    """Read one listing file. ``day`` wins over a date in the file or its name."""
    raw = read_bytes(path)
    name = source or f"file:{path.name}"
    day = day or date_from_name(path)
    return _read_jsonl(raw, path, day, name)


def _read_jsonl(raw: bytes, path: Path, day: dt.date | None, source: str) -> Listing:
    papers = []
    for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not a JSON line ({exc.msg})") from None
        title = clean_space(row.get("title"))
        aid = arxiv_id(str(row.get("id") or row.get("abs") or ""))
        papers.append(
            Paper(
                id=paper_key(aid, title),
                title=title,
                abstract=clean_space(row.get("summary") or row.get("abstract")),
                authors=tuple(row.get("authors") or ()),
                url=row.get("abs") or (f"https://arxiv.org/abs/{aid}" if aid else ""),
                categories=tuple(row.get("categories") or ()),
            )
        )
    return Listing(day, source, "jsonl", tuple(papers), OK if papers else EMPTY)
