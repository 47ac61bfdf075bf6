"""JSON listings: the Daily Papers API reply, and JSONL daily dumps of arXiv metadata.

Daily Papers (``/api/daily_papers``): a JSON array of ``{"paper": {...}, "title", "numComments",
...}``; ``[]`` is a day without papers. JSONL dumps: one paper per line with ``id, title,
summary, authors, categories, abs``; optional fields (upvotes, comments, code_url, keywords,
ai_summary) are read too, so a listing written from ``Paper`` fields reads back the same.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from digest.errors import InputError
from digest.formats.base import int_or_none, split_authors, str_list
from digest.models import Paper, arxiv_id, clean_space, paper_key

HF_KIND = "hf_daily"
JSONL_KIND = "jsonl"
HF_PAPER_URL = "https://huggingface.co/papers/{}"
JSONL_SEGMENT_CHARS = 4_000_000


@dataclass(frozen=True)
class ParsedJson:
    papers: tuple[Paper, ...]
    kind: str
    source_date: dt.date | None
    skipped: int  # rows without a title


def json_error(name: str, exc: json.JSONDecodeError, text: str) -> InputError:
    if exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string"):
        return InputError(f"{name}: truncated JSON (it ends in the middle, at line {exc.lineno})")
    return InputError(f"{name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")


def parse_hf_daily(text: str, name: str) -> ParsedJson:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise json_error(name, exc, text) from None
    if isinstance(data, dict):
        # {"error": "..."} replies, or a wrapper object around the list
        if isinstance(data.get("papers"), list):
            data = data["papers"]
        elif "error" in data:
            raise InputError(f"{name}: the Daily Papers API replied with an error: {data['error']}")
    if not isinstance(data, list):
        raise InputError(f"{name}: unknown format: JSON that is not a list of papers")
    papers: list[Paper] = []
    days: Counter[dt.date] = Counter()
    skipped = 0
    plain = 0
    for item in data:
        if isinstance(item, dict) and not isinstance(item.get("paper"), dict):
            plain += 1  # a JSON array of plain paper rows, as in the JSONL dumps
            paper = _jsonl_paper(item)
        else:
            paper = _hf_paper(item) if isinstance(item, dict) else None
        if paper is None:
            skipped += 1
            continue
        papers.append(paper)
        day = _item_day(item)
        if day:
            days[day] += 1
    if data and not papers:
        raise InputError(f"{name}: unknown format: a JSON list, but none of its items is a paper")
    source_date = days.most_common(1)[0][0] if days else None
    kind = JSONL_KIND if data and plain == len(data) else HF_KIND
    return ParsedJson(tuple(papers), kind, source_date, skipped)


def _hf_paper(item: dict[str, Any]) -> Paper | None:
    inner = item.get("paper")
    paper: dict[str, Any] = inner if isinstance(inner, dict) else item
    title = clean_space(_str(item.get("title")) or _str(paper.get("title")))
    if not title:
        return None
    aid = arxiv_id(_str(paper.get("id")))
    return Paper(
        id=paper_key(aid, title),
        title=title,
        abstract=clean_space(_str(paper.get("summary")) or _str(item.get("summary"))),
        authors=split_authors(paper.get("authors")),
        url=HF_PAPER_URL.format(aid) if aid else "",
        upvotes=int_or_none(paper.get("upvotes", item.get("upvotes"))),
        comments=int_or_none(item.get("numComments", paper.get("numComments"))),
        code_url=_str(paper.get("githubRepo")) or None,
        keywords=str_list(paper.get("ai_keywords")),
        ai_summary=clean_space(_str(paper.get("ai_summary"))) or None,
    )


def _item_day(item: dict[str, Any]) -> dt.date | None:
    inner = item.get("paper")
    paper: dict[str, Any] = inner if isinstance(inner, dict) else {}
    for value in (
        paper.get("submittedOnDailyAt"),
        item.get("publishedAt"),
        paper.get("publishedAt"),
    ):
        if isinstance(value, str) and len(value) >= 10:
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def parse_jsonl(text: str, name: str) -> ParsedJson:
    papers: list[Paper] = []
    skipped = 0
    for rows in _json_segments(text, name):
        for row in rows:
            paper = _jsonl_paper(row) if isinstance(row, dict) else None
            if paper is None:
                skipped += 1
            else:
                papers.append(paper)
    if skipped and not papers:
        raise InputError(f"{name}: unknown format: JSON lines, but none of them is a paper")
    return ParsedJson(tuple(papers), JSONL_KIND, None, skipped)


def _json_segments(text: str, name: str) -> Iterator[list[Any]]:
    """The rows of a JSONL text, a few MB at a time.

    A raw newline cannot occur inside a JSON value, so a segment whose newlines all become
    commas is one JSON array: one json.loads per segment instead of one per line. A 50 MB
    listing never exists as parsed JSON all at once. A segment that does not parse that
    way (a broken line, blank lines) is parsed line by line to name the culprit.
    """
    pos, first_line = 0, 1
    while pos < len(text):
        end = text.find("\n", pos + JSONL_SEGMENT_CHARS)
        end = len(text) if end < 0 else end + 1
        segment = text[pos:end]
        body = segment.strip()
        if body:
            try:
                yield json.loads("[" + body.replace("\n", ",") + "]")
            except json.JSONDecodeError:
                yield _json_lines(segment, first_line, name, is_last=end >= len(text))
        first_line += segment.count("\n")
        pos = end


def _json_lines(segment: str, first_line: int, name: str, is_last: bool) -> list[Any]:
    lines = segment.splitlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    rows = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            n = first_line + i
            at_end = exc.pos >= len(line.rstrip()) - 1 or exc.msg.startswith("Unterminated")
            if is_last and i == last and at_end:
                raise InputError(
                    f"{name}:{n}: truncated JSON line (the file ends in the middle)"
                ) from None
            raise InputError(
                f"{name}:{n}: not a JSON line ({exc.msg}, column {exc.colno})"
            ) from None
    return rows


_OPTIONAL = frozenset(
    ("upvotes", "comments", "code_url", "keywords", "ai_summary", "announce_type")
)


def _jsonl_paper(row: dict[str, Any]) -> Paper | None:
    # the bulk-ingest hot path (56k rows in the benchmark): one dict lookup per field
    get = row.get
    title = clean_space(_str(get("title")))
    if not title:
        return None
    aid = arxiv_id(_str(get("id"))) or arxiv_id(_str(get("abs")))
    url = _str(get("abs")) or _str(get("url")) or (f"https://arxiv.org/abs/{aid}" if aid else "")
    paper = Paper(
        paper_key(aid, title),
        title,
        clean_space(_str(get("summary")) or _str(get("abstract"))),
        split_authors(get("authors")),
        url,
        str_list(get("categories")),
    )
    if _OPTIONAL.isdisjoint(row):
        return paper
    comments = get("comments")  # arXiv dumps use "comment" (a note); a count is an int
    return replace(
        paper,
        upvotes=int_or_none(get("upvotes")),
        comments=None if isinstance(comments, str) else int_or_none(comments),
        code_url=_str(get("code_url")) or None,
        keywords=str_list(get("keywords")),
        ai_summary=_str(get("ai_summary")) or None,
        announce_type=_str(get("announce_type")) or None,
    )


def _str(value: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""
