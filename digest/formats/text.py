"""Plain-text copies of the trending-papers page, in both layouts seen in the wild.

Layout 1: a header ("Get trending papers in your email inbox!", "Subscribe", ...), a
"Mar 13" date line, then title / blank line / abstract / blank line ...
Layout 2: no date, no blank lines, and "Subscribe" glued to the first title.

Both reduce to the same thing once blank lines are dropped: a sequence of title lines,
each followed by its abstract. A title is told from an abstract by shape (short, not a
sentence); when two title-shaped lines follow each other, the order decides (see
:func:`_pair`), so a one-line abstract without a final period is not taken for a title.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote_plus

from digest.formats.base import month_day_date
from digest.models import Paper, clean_space, paper_key

KIND = "trending_text"

_BOILERPLATE = {
    "new",
    "subscribe",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
    "byak and the research community",
    "trending papers",
    "daily papers",
}
_MARKERS = ("get trending papers in your email inbox", "byak and the research community")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DATE_LINE = re.compile(r"^([A-Za-z]{3})[a-z]*\.? (\d{1,2})(?:, (\d{4}))?$")
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=\S)")
_SENTENCE_BREAK = re.compile(r"[a-z0-9%)\]]\.\s+[A-Z]")
MAX_TITLE_CHARS = 300
MAX_TITLE_WORDS = 45


@dataclass(frozen=True)
class TextListing:
    papers: tuple[Paper, ...]
    month_day: tuple[int, int] | None  # the "Mar 13" line
    full_date: dt.date | None  # a "Mar 13, 2025" line
    has_header: bool


def looks_like_title(line: str) -> bool:
    if len(line) > MAX_TITLE_CHARS or len(line.split()) > MAX_TITLE_WORDS:
        return False
    if line.endswith(".") and not line.endswith(".."):
        return False
    return len(_SENTENCE_BREAK.findall(line)) < 2


def parse_text(text: str) -> TextListing:
    lines = [clean_space(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    month_day: tuple[int, int] | None = None
    full_date: dt.date | None = None
    has_header = any(m in line.casefold() for line in lines[:12] for m in _MARKERS)
    start = 0
    # the header: boilerplate lines and the date line, in any order, before the first title
    while start < len(lines):
        line = lines[start]
        m = _DATE_LINE.match(line)
        if m and m.group(1).casefold() in _MONTHS and month_day is None:
            month_day = (_MONTHS[m.group(1).casefold()], int(m.group(2)))
            if m.group(3):
                try:
                    full_date = dt.date(int(m.group(3)), *month_day)
                except ValueError:
                    full_date = None
        elif line.casefold() not in _BOILERPLATE:
            break
        start += 1
    body = lines[start:]
    if body and _GLUED_SUBSCRIBE.match(body[0]):
        body[0] = body[0][len("Subscribe") :]
        has_header = True
    papers = tuple(_paper(title, abstract) for title, abstract in _pair(body))
    return TextListing(papers, month_day, full_date, has_header)


def _pair(lines: list[str]) -> list[tuple[str, str]]:
    """Group lines into (title, abstract). Lines before the first title are dropped."""
    pairs: list[tuple[str, list[str]]] = []
    shapes = [looks_like_title(line) for line in lines]
    for i, line in enumerate(lines):
        if shapes[i]:
            current_has_no_abstract = bool(pairs) and not pairs[-1][1]
            next_is_abstract = i + 1 < len(lines) and not shapes[i + 1]
            if current_has_no_abstract and not next_is_abstract:
                # title, short line, title...: the short line is the first title's abstract
                pairs[-1][1].append(line)
            else:
                pairs.append((line, []))
        elif pairs:
            pairs[-1][1].append(line)
    return [(title, " ".join(abstract)) for title, abstract in pairs]


def _paper(title: str, abstract: str) -> Paper:
    # the page copy carries no arXiv id: the paper is keyed by its title until a source
    # with the id merges it (see digest.store.papers)
    return Paper(
        id=paper_key(None, title),
        title=title,
        abstract=abstract,
        url=f"https://arxiv.org/search/?searchtype=title&query={quote_plus(title)}",
    )


def resolve_date(parsed: TextListing, near: dt.date | None) -> dt.date | None:
    """The listing's own date: a full date as is, a "Mar 13" in the year nearest ``near``."""
    if parsed.full_date:
        return parsed.full_date
    if parsed.month_day is None:
        return None
    try:
        return month_day_date(*parsed.month_day, near)
    except ValueError:
        return None
