"""Listing formats: read a listing of any supported format into a ``Listing``.

Supported, detected from the content (the file name only supplies a date):

- plain-text copies of the trending-papers page, both layouts (:mod:`.text`);
- the Daily Papers API JSON, and any JSON array of paper objects (:mod:`.jsondata`);
- JSONL dumps of arXiv metadata, one paper per line (:mod:`.jsondata`);
- RSS 2.0 and Atom feeds, arXiv's and any other (:mod:`.feeds`).

gzip is undone transparently. Entry points: :func:`read_listing` for a file,
:func:`parse_bytes` for bytes already in hand (an HTTP body). Both raise
:class:`~digest.errors.InputError` with a one-line message for anything they cannot read;
nothing else escapes them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from digest.errors import InputError
from digest.formats import feeds, jsondata, text
from digest.formats.base import decode_text
from digest.models import EMPTY, OK, Listing, Paper, clean_space

DEFAULT_ANNOUNCE_TYPES: tuple[str, ...] = ("new", "cross")
HINTS = ("hf_daily", "feed", "jsonl", "text")
DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.[\w.]+$")
_CONTENT = re.compile(rb"[^ \t\r\n]")
_NOT_LISTINGS = ("~", ".tmp", ".part", ".swp", ".bak")
GZIP_MAGIC = b"\x1f\x8b"
# The default of ``max_listing_bytes``: the largest listing read, before and after gunzip.
# A whole listing is parsed in memory and its Python objects take 4-7x its size (measured
# on 50 MB of each format: JSONL 220 MB peak RSS, JSON 290 MB, RSS 360 MB), so 64 MB keeps
# a run under 600 MB; a real day is well under 1 MB, a year of arXiv in one file 99 MB.
MAX_LISTING_BYTES = 64_000_000
# Bytes of Python objects a parse makes per delimiter, measured on the worst inputs found
# (tiny author strings: ~70 B per comma; tiny JSON objects: ~500 B per "{"; feed items:
# ~210 B per "<"), and the share of the memory budget they may take: a listing estimated
# over PARSE_BUDGET x max_listing_bytes is refused before it is parsed (honest listings
# at 64 MB estimate 50-210 MB, so the peak stays under 600 MB whatever the content).
_COST = ((b",", 70), (b"\n", 70), (b"<", 210), (b"{", 500))
PARSE_BUDGET = 5
# gunzip works in pieces of this size, so a bomb is refused after at most one more piece
_PIECE = 1 << 20
# a text file without the page header is a listing only if most "titles" have an abstract
MIN_ABSTRACT_SHARE = 0.8

__all__ = [
    "DEFAULT_ANNOUNCE_TYPES",
    "date_from_name",
    "listings_in_folder",
    "parse_bytes",
    "read_bytes",
    "read_listing",
    "read_listings",
]


def read_listing(
    path: Path,
    day: dt.date | None = None,
    source: str | None = None,
    announce_types: tuple[str, ...] | None = DEFAULT_ANNOUNCE_TYPES,
    undated: dt.date | None = None,
    limit: int | None = None,
) -> Listing:
    """Read one listing file.

    ``day`` is the listing's date when given; otherwise the date in the file name
    (``YYYY-MM-DD.ext``), else the date in the content, else ``undated``. ``source`` names
    the listing (default ``file:<name>``). ``announce_types`` filters arXiv feed items
    (None keeps all).
    ``limit``: the most bytes the listing may hold once unzipped (``max_listing_bytes``).
    """
    raw = read_bytes(path, limit)
    return parse_bytes(
        raw,
        name=str(path),
        day=day or date_from_name(path),
        source=source or f"file:{path.name}",
        announce_types=announce_types,
        undated=undated,
        limit=limit,
    )


def read_listings(
    paths: Iterable[Path],
    day: dt.date | None = None,
    announce_types: tuple[str, ...] | None = DEFAULT_ANNOUNCE_TYPES,
    read_ahead: int = 2,
) -> Iterator[tuple[Path, Listing | InputError]]:
    """Read many listing files in order, each as :func:`read_listing` would.

    A background thread reads up to ``read_ahead`` files ahead, so that parsing the next
    file overlaps with whatever the caller does with this one (SQLite and zlib release the
    GIL): a bulk ingest runs about 1.5x faster on two cores. A file that cannot be read
    gives its ``InputError`` in place of a listing; the others still come.
    """

    def one(path: Path) -> Listing | InputError:
        try:
            return read_listing(path, day, None, announce_types)
        except InputError as exc:
            return exc

    queue = list(paths)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as pool:
        pending: deque[tuple[Path, Future[Listing | InputError]]] = deque()
        for path in queue:
            pending.append((path, pool.submit(one, path)))
            if len(pending) > read_ahead:
                done_path, future = pending.popleft()
                yield done_path, future.result()
        while pending:
            done_path, future = pending.popleft()
            yield done_path, future.result()


def parse_bytes(
    raw: bytes,
    *,
    name: str,
    day: dt.date | None,
    source: str,
    announce_types: tuple[str, ...] | None = DEFAULT_ANNOUNCE_TYPES,
    hint: str | None = None,
    undated: dt.date | None = None,
    limit: int | None = None,
) -> Listing:
    """Parse a listing from bytes; ``name`` is used in messages, ``hint`` forces a format.
    Gzipped bytes (with or without a Content-Encoding that said so) unzip up to ``limit``.

    The listing's date is ``day`` when given, else the date the content states, else
    ``undated``; a listing with none of them raises ``InputError``. The content's own date
    is kept in ``source_date``.
    """
    if hint is not None and hint not in HINTS:
        raise ValueError(f"unknown format hint {hint!r}; expected one of {HINTS}")
    if raw[:2] == GZIP_MAGIC:
        raw = _gunzip(_pieces(raw), name, limit)
    _check_parse_cost(raw, name, MAX_LISTING_BYTES if limit is None else limit)
    papers, kind, source_date = _parse(raw, name, day, announce_types, hint)
    papers = tuple(map(_clean_fields, papers))
    listing_date = day or source_date or undated
    if listing_date is None:
        raise InputError(f"{name}: no date in this listing; pass --date")
    return Listing(
        date=listing_date,
        source=source,
        kind=kind,
        papers=papers,
        status=OK if papers else EMPTY,
        source_date=source_date,
    )


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes, unzipped when it is gzip, or an ``InputError`` saying why they
    cannot be read. Over ``limit`` bytes (default ``MAX_LISTING_BYTES``) is refused before
    it is read, or, for gzip, as soon as the unzipped bytes pass it: a 5 MB file of zeros
    must not unzip into gigabytes, and a 1 GB one is never read whole."""
    limit = MAX_LISTING_BYTES if limit is None else limit
    try:
        with path.open("rb") as f:
            if f.read(2) == GZIP_MAGIC:
                f.seek(0)
                return _gunzip(iter(lambda: f.read(_PIECE), b""), str(path), limit)
            if os.fstat(f.fileno()).st_size > limit:
                raise InputError(f"{path}: {_too_big(limit)}")
            f.seek(0)
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a listing file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def date_from_name(path: Path) -> dt.date | None:
    """The date of a file named ``YYYY-MM-DD.<ext>`` (e.g. ``2025-03-13.jsonl.gz``)."""
    m = DATED_NAME.match(path.name)
    if not m or path.name.endswith(_NOT_LISTINGS):
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def listings_in_folder(folder: Path, day: dt.date) -> list[Path]:
    """The files of ``folder`` named for ``day``."""
    try:
        return sorted(p for p in folder.iterdir() if date_from_name(p) == day and p.is_file())
    except PermissionError:
        raise InputError(f"{folder}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{folder}: cannot list this folder: {exc.strerror or exc}") from None


def _pieces(raw: bytes) -> Iterator[bytes]:
    view = memoryview(raw)
    for start in range(0, len(raw), _PIECE):
        yield bytes(view[start : start + _PIECE])


def _gunzip(compressed: Iterable[bytes], name: str, limit: int | None = None) -> bytes:
    """The gzip data arriving in ``compressed`` unzipped (every member), counting the bytes
    as they come out and refusing at once when they pass ``limit``."""
    limit = MAX_LISTING_BYTES if limit is None else limit
    out: list[bytes] = []
    size = 0
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    carry = b""  # the start of a next member's header cut by the end of a piece
    for data in compressed:
        data = carry + data if carry else data
        carry = b""
        while True:
            if inflater.eof:  # the previous member ended: another one, or garbage
                if len(data) < 2:
                    carry = data
                    break
                if data[:2] != GZIP_MAGIC:
                    raise InputError(f"{name}: corrupt gzip file (garbage after the end)")
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                piece = inflater.decompress(data, _PIECE)
            except zlib.error as exc:
                raise InputError(f"{name}: corrupt gzip file ({exc})") from None
            size += len(piece)
            if size > limit:
                raise InputError(f"{name}: {_too_big(limit, unzipped=True)}")
            out.append(piece)
            data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            # a full piece may leave output inside zlib even when all input was taken
            if not inflater.eof and not data and len(piece) < _PIECE:
                break  # zlib needs the next piece of input
    if carry:
        raise InputError(f"{name}: corrupt gzip file (garbage after the end)")
    if not inflater.eof:
        raise InputError(f"{name}: truncated gzip file (it ends in the middle)")
    return b"".join(out)


def _check_parse_cost(raw: bytes, name: str, limit: int) -> None:
    """A listing under the byte limit can still parse into gigabytes of tiny objects
    (millions of one-letter authors): estimate from its delimiters and refuse those."""
    cost = sum(raw.count(sep) * size for sep, size in _COST)
    if cost > PARSE_BUDGET * limit:
        raise InputError(
            f"{name}: too many small items to parse in bounded memory (about "
            f"{cost / 1e6:,.0f} MB of objects; the limit is {PARSE_BUDGET} x "
            "max_listing_bytes in the config)"
        )


def _clean_fields(paper: Paper) -> Paper:
    """``paper`` with every text field as :func:`clean_space` leaves it, so no source can
    store a character that breaks the XML feeds or spoofs the display. The parsers clean
    title and abstract as they read them; the rest is checked here in one pass: a text of
    non-empty clean parts joined by single spaces is clean exactly when every part is."""
    parts = (
        paper.url,
        paper.code_url,
        paper.ai_summary,
        paper.announce_type,
        *paper.authors,
        *paper.categories,
        *paper.keywords,
    )
    joined = " ".join(p for p in parts if p)
    if clean_space(joined) == joined:
        return paper
    return replace(
        paper,
        title=clean_space(paper.title),
        abstract=clean_space(paper.abstract),
        url=clean_space(paper.url),
        code_url=clean_space(paper.code_url) or None,
        ai_summary=clean_space(paper.ai_summary) or None,
        announce_type=clean_space(paper.announce_type) or None,
        authors=_clean_all(paper.authors),
        categories=_clean_all(paper.categories),
        keywords=_clean_all(paper.keywords),
    )


def _clean_all(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in map(clean_space, values) if v)


def _too_big(limit: int, unzipped: bool = False) -> str:
    size = f"{limit / 1e6:,.0f} MB" if limit >= 10**6 else f"{limit:,} bytes"
    return f"over {size}{' once unzipped' if unzipped else ''}; the limit is max_listing_bytes in the config"


def _parse(
    raw: bytes,
    name: str,
    day: dt.date | None,
    announce_types: tuple[str, ...] | None,
    hint: str | None,
) -> tuple[tuple[Paper, ...], str, dt.date | None]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raw = decode_text(raw, name).encode("utf-8")
    start = _CONTENT.search(raw, 3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    if start is None:
        return (), "empty", None  # an empty file is a day without papers, as `[]` is
    head = raw[start.start() : start.start() + 512]
    if hint == "feed" or (hint is None and head[:1] == b"<"):
        return _parse_xml(raw, head, name, announce_types)
    body = decode_text(raw, name)
    if hint == "hf_daily" or (hint is None and head[:1] == b"["):
        j = jsondata.parse_hf_daily(body, name)
        return j.papers, j.kind, j.source_date
    if hint == "jsonl" or (hint is None and head[:1] == b"{"):
        j = jsondata.parse_jsonl(body, name)
        return j.papers, j.kind, j.source_date
    return _parse_text(body, name, day)


def _parse_xml(
    raw: bytes, head: bytes, name: str, announce_types: tuple[str, ...] | None
) -> tuple[tuple[Paper, ...], str, dt.date | None]:
    lowered = head[:500].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        raise InputError(f"{name}: unknown format: an HTML page, not a listing or feed")
    f = feeds.parse_feed(raw, name, announce_types)
    return f.papers, f.kind, f.channel_date


def _parse_text(
    body: str, name: str, day: dt.date | None
) -> tuple[tuple[Paper, ...], str, dt.date | None]:
    parsed = text.parse_text(body)
    with_abstract = sum(1 for p in parsed.papers if p.abstract)
    if not parsed.has_header and (
        not parsed.papers or with_abstract < MIN_ABSTRACT_SHARE * len(parsed.papers)
    ):
        raise InputError(
            f"{name}: unknown format (not JSON, JSONL, RSS/Atom, or a trending-papers page)"
        )
    return parsed.papers, text.KIND, text.resolve_date(parsed, day)
