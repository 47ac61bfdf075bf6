"""The For you section of one subscriber's email, as text and HTML to splice into the
shared message (:meth:`digest.deliver.message.MailTemplate.render`).

Each paper carries More like this / Fewer like this links (a page with a button: a GET
changes nothing), all under one token signing the reader and the day and the section links the reader's preferences page. The HTML is
styled inline by its template (``email_foryou.html``), so no CSS inliner runs per reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from digest.config import Config
from digest.deliver.tokens import Links
from digest.render.templating import render
from digest.store.foryou import ForYouItem

MAX_REASON_CHARS = 160  # one line in a mail client


@dataclass(frozen=True)
class _Shown:
    title: str
    url: str
    reason: str
    more_url: str
    fewer_url: str


def one_line_reason(reasons: Sequence[str]) -> str:
    """The first two reasons ("matches: …; like: …"), cut to one line."""
    text = "; ".join(reasons[:2]) or "picked for your preferences"
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1].rstrip() + "…"


def render_section(
    config: Config,
    links: Links,
    email: str,
    day: dt.date,
    items: Sequence[ForYouItem],
    budget: int | None = None,
) -> tuple[str, str, int] | None:
    """(text, HTML, papers shown) of the section; papers are dropped from the end while the
    HTML passes ``budget`` bytes, and None when not even one fits (or there is none)."""
    feedback = links.section_feedback(email, day)  # one signature for the whole section
    shown = [
        _Shown(
            it.title,
            it.url,
            one_line_reason(it.reasons),
            feedback.url(it.paper_id, 1),
            feedback.url(it.paper_id, -1),
        )
        for it in items
    ]
    preferences_url = links.preferences_url(email)
    while shown:
        html = render(config, "email_foryou.html", items=shown, preferences_url=preferences_url)
        if budget is None or len(html.encode("utf-8")) <= budget:
            text = render(config, "email_foryou.txt", items=shown, preferences_url=preferences_url)
            return "\n\n\n" + text.strip("\n"), html, len(shown)
        shown.pop()
    return None
