"""Seed libraries: the papers a reader already cares about.

Read from a file of any listing format digest reads (:func:`digest.formats.read_listing`),
BibTeX (bibtexparser), RIS (rispy), CSL-JSON (Zotero's "CSL JSON" export) or a plain list
of arXiv ids, one a line. A broken entry is reported as ``FILE:LINE: ...`` and skipped; the
good entries are used. arXiv ids found in an entry (eprint, URL, DOI 10.48550/arXiv.*) are
resolved against the store, which supplies the abstract an export often lacks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from digest.errors import InputError
from digest.models import Paper, arxiv_id, clean_space, paper_key

MAX_SEED_BYTES = 16 * 2**20  # a Zotero export of ~10,000 items with abstracts
MAX_SEEDS = 2000  # beyond this a library stops being a taste: the fit slows for nothing
_ARXIV_LINE = re.compile(r"^\s*(?:arxiv:)?\s*(\S+)\s*$", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"(?i)(?:https?://doi\.org/)?10\.48550/arxiv\.")
_RIS_START = re.compile(r"^TY  - ", re.MULTILINE)

Lookup = Callable[[Sequence[str]], Mapping[str, Paper]]


class SeedError(InputError):
    """A seed file that cannot be used at all (missing, too big, unknown format)."""


@dataclass(frozen=True)
class SeedLibrary:
    """Seed papers (at most ``MAX_SEEDS``) and one-line reports of what could not be used."""

    papers: tuple[Paper, ...]
    problems: tuple[str, ...] = ()


def read_seed_file(path: Path | str, lookup: Lookup | None = None) -> SeedLibrary:
    """The seed papers of ``path``; ``lookup`` (ids -> stored papers) resolves arXiv ids."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_SEED_BYTES:
            raise SeedError(
                f"{p}: seed file of {size / 2**20:.1f} MB; at most {MAX_SEED_BYTES // 2**20} MB "
                "(export a smaller collection)"
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise SeedError(f"{p}: no such seed file") from None
    except IsADirectoryError:
        raise SeedError(f"{p}: is a folder, not a seed file") from None
    except OSError as exc:
        raise SeedError(f"{p}: cannot read the seed file: {exc.strerror}") from None
    papers, problems = _parse(raw, p)
    return _finish(papers, problems, str(p), lookup)


def seeds_from_ids(
    ids: Iterable[str], lookup: Lookup | None, where: str = "seed_ids"
) -> SeedLibrary:
    """Seed papers for arXiv ids (or abs/pdf URLs), found in the store."""
    papers: list[Paper] = []
    problems: list[str] = []
    for raw in ids:
        found = arxiv_id(raw)
        if found is None:
            problems.append(f"{where}: '{raw[:60]}' is not an arXiv id")
        else:
            papers.append(Paper(id=found, title=""))
    return _finish(papers, problems, where, lookup)


def _finish(
    papers: list[Paper], problems: list[str], where: str, lookup: Lookup | None
) -> SeedLibrary:
    if not papers and not problems:
        problems.append(f"{where}: no seed papers in it")
    if len(papers) > MAX_SEEDS:
        problems.append(f"{where}: {len(papers)} seed papers; only the first {MAX_SEEDS} are used")
        papers = papers[:MAX_SEEDS]
    # entries without an abstract (or without anything but an id) take the stored paper's
    wanted = [p.id for p in papers if p.arxiv_id and not p.abstract]
    stored = lookup(wanted) if (lookup is not None and wanted) else {}
    out: list[Paper] = []
    seen: set[str] = set()
    for paper in papers:
        if paper.id in seen:
            continue
        seen.add(paper.id)
        found = stored.get(paper.id)
        if found is not None:
            paper = (
                found
                if not paper.title
                else Paper(
                    id=paper.id,
                    title=paper.title,
                    abstract=found.abstract,
                    authors=paper.authors or found.authors,
                    categories=paper.categories or found.categories,
                )
            )
        if not paper.title:
            problems.append(
                f"{where}: unknown arXiv id {paper.id} (not in the store: ingest a listing that has it)"
            )
            continue
        out.append(paper)
    return SeedLibrary(tuple(out), tuple(problems))


def _parse(raw: bytes, path: Path) -> tuple[list[Paper], list[str]]:
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    head = text.lstrip()[:2000]
    suffix = path.suffix.lower()
    if suffix in (".bib", ".bibtex") or re.match(r"@\w+\s*[{(]", head):
        return _bibtex(text, path)
    if suffix == ".ris" or _RIS_START.search(head):
        return _ris(text, path)
    if head.startswith("[") and _looks_csl(text):
        return _csl_json(text, path)
    if head and all(_is_id_line(line) for line in text.splitlines() if line.strip()):
        return _id_lines(text, path)
    return _listing(path)


# ------------------------------------------------------------------ formats


def _bibtex(text: str, path: Path) -> tuple[list[Paper], list[str]]:
    import bibtexparser

    # bibtexparser logs each broken block over several lines; they are reported here, one each
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    library = bibtexparser.parse_string(text)
    problems = [
        f"{path}:{(block.start_line or 0) + 1}: unreadable BibTeX entry "
        f"({_first_line(getattr(block.error, 'abort_reason', '') or 'syntax error')})"
        for block in library.failed_blocks
    ]
    papers: list[Paper] = []
    for entry in library.entries:
        fields = {k.lower(): _bib_text(str(v.value)) for k, v in entry.fields_dict.items()}
        found = _paper(
            fields.get("title", ""),
            fields.get("abstract", ""),
            fields.get("author", "").split(" and "),
            [fields.get(k, "") for k in ("eprint", "arxivid", "url", "doi", "note", "journal")],
        )
        if found is None:
            problems.append(
                f"{path}:{(entry.start_line or 0) + 1}: entry '{entry.key}' has no title or arXiv id"
            )
        else:
            papers.append(found)
    return papers, problems


def _bib_text(value: str) -> str:
    return clean_space(value.replace("{", "").replace("}", ""))


def _ris(text: str, path: Path) -> tuple[list[Paper], list[str]]:
    import rispy

    papers: list[Paper] = []
    problems: list[str] = []
    starts = [m.start() for m in _RIS_START.finditer(text)] + [len(text)]
    # one record at a time: rispy gives up on the whole file at its first bad line
    for start, end in zip(starts, starts[1:], strict=False):
        line = text.count("\n", 0, start) + 1
        try:
            records = rispy.loads(text[start:end])
        except Exception as exc:  # rispy raises KeyError/IndexError/ValueError on bad records
            problems.append(f"{path}:{line}: unreadable RIS record ({type(exc).__name__}: {exc})")
            continue
        for record in records:
            title = record.get("title") or record.get("primary_title") or ""
            urls = record.get("urls") or []
            found = _paper(
                title,
                record.get("abstract", ""),
                record.get("authors") or record.get("first_authors") or [],
                [record.get("doi", ""), *urls, record.get("notes_abstract", "")],
            )
            if found is None:
                problems.append(f"{path}:{line}: RIS record has no title or arXiv id")
            else:
                papers.append(found)
    return papers, problems


def _looks_csl(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(x, dict) for x in data)
        and any("type" in x and ("author" in x or "issued" in x or "DOI" in x) for x in data)
    )


def _csl_json(text: str, path: Path) -> tuple[list[Paper], list[str]]:
    papers: list[Paper] = []
    problems: list[str] = []
    for n, item in enumerate(json.loads(text), 1):
        authors = [
            " ".join(str(a.get(k, "")) for k in ("given", "family") if a.get(k))
            or str(a.get("literal", ""))
            for a in item.get("author", [])
            if isinstance(a, dict)
        ]
        found = _paper(
            str(item.get("title", "")),
            str(item.get("abstract", "")),
            authors,
            [str(item.get(k, "")) for k in ("DOI", "URL", "number", "id", "note")],
        )
        if found is None:
            problems.append(f"{path}: item {n}: has no title or arXiv id")
        else:
            papers.append(found)
    return papers, problems


def _is_id_line(line: str) -> bool:
    m = _ARXIV_LINE.match(line)
    return m is not None and arxiv_id(m.group(1)) is not None


def _id_lines(text: str, path: Path) -> tuple[list[Paper], list[str]]:
    ids = [arxiv_id(line) for line in text.splitlines() if line.strip()]
    return [Paper(id=i, title="") for i in ids if i], []


def _listing(path: Path) -> tuple[list[Paper], list[str]]:
    from digest.formats import read_listing

    try:
        # a seed library has no date of its own; any date lets the listing readers accept it
        listing = read_listing(path, dt.date.today(), announce_types=None)
    except InputError as exc:
        raise SeedError(
            f"{exc} (a seed file is a listing, BibTeX, RIS, CSL-JSON or arXiv ids one a line)"
        ) from None
    return list(listing.papers), []


def _paper(
    title: str, abstract: str, authors: Iterable[str], id_fields: Iterable[str]
) -> Paper | None:
    found = None
    for value in id_fields:
        value = _ARXIV_DOI.sub("", value)  # 10.48550/arXiv.2401.12345: the id follows
        if value and (
            "arxiv" in value.lower() or re.fullmatch(r"\s*\d{4}\.\d{4,5}(v\d+)?\s*", value)
        ):
            found = arxiv_id(value)
            if found:
                break
    title = clean_space(title)
    if not title and not found:
        return None
    return Paper(
        id=paper_key(found, title),
        title=title,
        abstract=clean_space(abstract),
        authors=tuple(a.strip() for a in authors if a and a.strip()),
    )


def _first_line(text: str) -> str:
    return clean_space(text.splitlines()[0] if text else "")[:120]
