"""The frozen records that pass between pipeline stages.

sources -> ``Listing`` (of ``Paper``) -> store -> ``DayPaper`` -> themes/trending
-> ``Digest`` (of ``RankedPaper`` and ``Theme``) -> render -> deliver.

Nothing here does I/O. ``Digest.to_json``/``Digest.from_json`` define the
``digest.json`` contract documented in ``docs/digest-json.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"\b([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?\b")
_NOT_WORD = re.compile(r"[^\w]+")


# What a text field may not carry, removed at ingest: the characters XML 1.0 forbids (C0
# controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), which make feed.xml unreadable
# for every reader, and the bidi embedding/override/isolate controls, which let a title
# display as different text (spoofing). Whitespace among them became spaces already.
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]"
)
_C0 = bytes(range(32))


def clean_space(text: str | None) -> str:
    """The one cleaning of a source's text field: every run of whitespace (newlines from
    wrapped feeds included) becomes one space, and the characters in ``_NOT_TEXT`` go."""
    if not text:
        return ""
    # Fast path for the common case, text wrapped with single "\n"s and nothing else to do:
    # the result is exactly the slow path's. An ASCII text needs no change when it has no
    # C0 control at all (bytes.translate deletes them in C: the cheapest exact test found);
    # beyond ASCII, isprintable() is False for every control, bidi mark, surrogate,
    # noncharacter and whitespace character but " ".
    flat = text.replace("\n", " ")
    if (
        (_no_control(flat) if flat.isascii() else flat.isprintable())
        and "  " not in flat
        and flat[0] != " "
        and flat[-1] != " "
    ):
        return flat
    # str.split() splits on exactly the characters re's \s matches
    spaced = " ".join(flat.split())
    kept = _NOT_TEXT.sub("", spaced)
    return kept if kept is spaced or len(kept) == len(spaced) else " ".join(kept.split())


def _no_control(s: str) -> bool:
    return len(s.encode("ascii").translate(None, _C0)) == len(s)


def arxiv_id(text: str | None) -> str | None:
    """The arXiv identifier inside ``text`` (an id, abs/pdf URL or OAI id), without version."""
    if not text:
        return None
    m = _ARXIV_NEW.search(text)
    if m:
        return m.group(1)
    m = _ARXIV_OLD.search(text)
    return m.group(1) if m else None


def normalize_title(title: str) -> str:
    """A key for matching the same title across sources: case, accents, markup and punctuation dropped."""
    text = title
    if not text.isascii():  # ASCII has no accents to drop; skipping NFKD makes ingest 2x faster
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return clean_space(_NOT_WORD.sub(" ", text.casefold()).replace("_", " "))


def paper_key(arxiv: str | None, title: str) -> str:
    """The deduplication key: the arXiv id without version when known, else a hash of the title."""
    if arxiv:
        return arxiv
    digest = hashlib.sha1(normalize_title(title).encode("utf-8")).hexdigest()[:16]
    return f"title:{digest}"


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper as a source describes it, normalized. ``id`` comes from :func:`paper_key`."""

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    url: str = ""
    categories: tuple[str, ...] = ()
    upvotes: int | None = None
    comments: int | None = None
    code_url: str | None = None
    keywords: tuple[str, ...] = ()
    ai_summary: str | None = None
    announce_type: str | None = None

    @property
    def arxiv_id(self) -> str | None:
        return None if self.id.startswith("title:") else self.id

    def optional_fields(self) -> dict[str, Any]:
        """The source-specific fields that are present, for ``digest.json``."""
        out: dict[str, Any] = {}
        if self.upvotes is not None:
            out["upvotes"] = self.upvotes
        if self.comments is not None:
            out["comments"] = self.comments
        if self.code_url:
            out["code_url"] = self.code_url
        if self.keywords:
            out["keywords"] = list(self.keywords)
        if self.ai_summary:
            out["ai_summary"] = self.ai_summary
        if self.announce_type:
            out["announce_type"] = self.announce_type
        return out


# Listing.status values
OK = "ok"
EMPTY = "empty"
ERROR = "error"
STALE = "stale"
NOT_MODIFIED = "not_modified"


@dataclass(frozen=True, slots=True)
class Listing:
    """The papers one source gave for one date, in the source's order.

    A failing source is a ``Listing`` with ``status="error"`` and a message in
    ``error``: failures are recorded, never raised through the whole run.
    ``date`` is None only for a file that carries no date when none was given.
    """

    date: dt.date | None
    source: str
    kind: str
    papers: tuple[Paper, ...] = ()
    status: str = OK
    error: str | None = None
    source_date: dt.date | None = (
        None  # the date the source itself states (feed channel date, "Mar 13")
    )

    @property
    def ok(self) -> bool:
        return self.status in (OK, EMPTY, NOT_MODIFIED)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How one source fared in a run, as ``digest.json`` reports it."""

    name: str
    kind: str
    status: str
    papers: int
    error: str | None = None

    @classmethod
    def of(cls, listing: Listing) -> SourceStatus:
        return cls(listing.source, listing.kind, listing.status, len(listing.papers), listing.error)

    @property
    def ok(self) -> bool:
        return self.status in (OK, EMPTY, NOT_MODIFIED)


@dataclass(frozen=True, slots=True)
class DayPaper:
    """A deduplicated paper of one day, with what the store knows of its appearances."""

    paper: Paper
    sources: tuple[str, ...]
    position: int  # best 0-based position in any of the day's listings
    seen_days: int  # distinct dates it was listed on, up to and including this day
    listing_size: int = 1  # size of the listing that gave ``position``


@dataclass(frozen=True, slots=True)
class Theme:
    """A group of the day's papers. ``remainder`` marks the catch-all of very small themes."""

    id: str
    label: str
    terms: tuple[str, ...]
    paper_ids: tuple[str, ...]
    representative: str | None = None
    remainder: bool = False
    rising: bool = False
    momentum: float = 1.0  # today's share / trailing share; >1 grows
    topic_id: str | None = None  # the persistent topic it continues (digest.topics)

    @property
    def size(self) -> int:
        return len(self.paper_ids)


@dataclass(frozen=True, slots=True)
class RankedPaper:
    """A paper of the digest with its theme and trending score."""

    paper: Paper
    sources: tuple[str, ...]
    theme: str | None
    score: float
    trending: bool
    seen_days: int = 1
    position: int = 0


JSON_VERSION = 2  # of the digest.json contract: 2 added "version" and themes' "topic_id"


@dataclass(frozen=True)
class Digest:
    """One day's digest: what every renderer and the delivery step read."""

    date: dt.date
    generated_at: dt.datetime
    sources: tuple[SourceStatus, ...]
    papers: tuple[RankedPaper, ...]
    themes: tuple[Theme, ...] = ()
    trending: tuple[str, ...] = ()
    _by_id: dict[str, RankedPaper] = field(default_factory=dict, compare=False, repr=False)
    # the digest.json text, made once: the store keeps it and the writer writes it. Not an init
    # field, so dataclasses.replace() starts a new digest without the old one's text.
    _text: list[str] = field(default_factory=list, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({p.paper.id: p for p in self.papers})

    def paper(self, paper_id: str) -> RankedPaper:
        return self._by_id[paper_id]

    def trending_papers(self) -> list[RankedPaper]:
        return [self._by_id[i] for i in self.trending if i in self._by_id]

    def theme(self, theme_id: str | None) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)

    def to_json(self) -> dict[str, Any]:
        # "themes" and "trending" stay the last keys: digest.topics rewrites that tail alone
        return {
            "version": JSON_VERSION,
            "date": self.date.isoformat(),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "sources": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "status": s.status,
                    "papers": s.papers,
                    "error": s.error,
                }
                for s in self.sources
            ],
            "papers": [_paper_json(p) for p in self.papers],
            "themes": [
                {
                    "id": t.id,
                    "label": t.label,
                    "terms": list(t.terms),
                    "paper_ids": list(t.paper_ids),
                    "size": t.size,
                    "representative": t.representative,
                    "remainder": t.remainder,
                    "rising": t.rising,
                    "momentum": round(t.momentum, 4),
                    "topic_id": t.topic_id,
                }
                for t in self.themes
            ],
            "trending": list(self.trending),
        }

    def to_json_text(self) -> str:
        """The text of ``digest.json``: ``to_json()`` as indented JSON, then a newline."""
        if not self._text:
            self._text.append(json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n")
        return self._text[0]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        papers = tuple(_paper_from_json(p) for p in data["papers"])
        themes = tuple(
            Theme(
                id=t["id"],
                label=t["label"],
                terms=tuple(t["terms"]),
                paper_ids=tuple(t["paper_ids"]),
                representative=t.get("representative"),
                remainder=bool(t.get("remainder", False)),
                rising=bool(t.get("rising", False)),
                momentum=float(t.get("momentum", 1.0)),
                topic_id=t.get("topic_id"),
            )
            for t in data["themes"]
        )
        return cls(
            date=dt.date.fromisoformat(data["date"]),
            generated_at=dt.datetime.fromisoformat(data["generated_at"]),
            sources=tuple(
                SourceStatus(s["name"], s["kind"], s["status"], s["papers"], s.get("error"))
                for s in data["sources"]
            ),
            papers=papers,
            themes=themes,
            trending=tuple(data["trending"]),
        )


def _paper_json(r: RankedPaper) -> dict[str, Any]:
    p = r.paper
    out: dict[str, Any] = {
        "id": p.id,
        "title": p.title,
        "abstract": p.abstract,
        "authors": list(p.authors),
        "url": p.url,
        "categories": list(p.categories),
        "sources": list(r.sources),
        "theme": r.theme,
        "score": round(r.score, 6),
        "trending": r.trending,
        "seen_days": r.seen_days,
        "position": r.position,
    }
    out.update(p.optional_fields())
    return out


def _paper_from_json(d: dict[str, Any]) -> RankedPaper:
    paper = Paper(
        id=d["id"],
        title=d["title"],
        abstract=d.get("abstract", ""),
        authors=tuple(d.get("authors", ())),
        url=d.get("url", ""),
        categories=tuple(d.get("categories", ())),
        upvotes=d.get("upvotes"),
        comments=d.get("comments"),
        code_url=d.get("code_url"),
        keywords=tuple(d.get("keywords", ())),
        ai_summary=d.get("ai_summary"),
        announce_type=d.get("announce_type"),
    )
    return RankedPaper(
        paper=paper,
        sources=tuple(d.get("sources", ())),
        theme=d.get("theme"),
        score=float(d.get("score", 0.0)),
        trending=bool(d.get("trending", False)),
        seen_days=int(d.get("seen_days", 1)),
        position=int(d.get("position", 0)),
    )
