"""The For you section of one subscriber's email, as text and HTML to splice into the
shared message (:meth:`digest.deliver.message.MailTemplate.render`).

Each paper carries More like this / Fewer like this links (a page with a button: a GET
changes nothing), all under one token signing the reader and the day and the section links the reader's preferences page. The HTML is
styled inline by its template (``email_foryou.html``), so no CSS inliner runs per reader.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digest import topics
from digest.config import Config
from digest.deliver.message import MailTemplate, compile_mail
from digest.deliver.tokens import Links
from digest.models import Digest
from digest.render.templating import render
from digest.store.foryou import ForYouItem
from digest.store.protocol import StoreProtocol
from digest.words import plural

log = logging.getLogger("digest.deliver")

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


# Bytes kept free for the For you section when the shared email is near the size budget:
# 10 papers with 156-character titles and long reasons measure 12 KB (tests/test_foryou_email.py).
FOR_YOU_RESERVE = 14_000


@dataclass(frozen=True)
class Personal:
    """What personalizes a send: each reader's For you items, and the shared email for them
    (the day's, or one rendered with room left for the section under the size budget)."""

    sections: dict[int, tuple[ForYouItem, ...]] = field(default_factory=dict)
    template: MailTemplate | None = None
    room: int = 0  # bytes of HTML the section may take


def personalize(
    store: StoreProtocol,
    config: Config,
    digest: Digest,
    output_dir: Path,
    text: str,
    html_body: str,
) -> Personal:
    """Rank the day for every confirmed subscriber with a profile (one sparse product per
    batch of profiles: digest.personal.foryou), keep the sections in the store (the feedback
    page and the private feed read them), and pick the shared email they go into."""
    from digest.personal.foryou import rank_subscribers
    from digest.render import render_day

    ranked = rank_subscribers(store, config, digest)
    if not ranked.sections:
        return Personal()
    store.save_for_you(digest.date, ranked.sections.items())
    log.info(
        "%s: For you for %s (%d models refitted)",
        digest.date,
        plural(len(ranked.sections), "reader"),
        ranked.refitted,
    )
    budget = config.render.max_email_bytes
    size = len(html_body.encode("utf-8"))
    if size + FOR_YOU_RESERVE > budget:
        # the shared email fills the budget: the personalized copy shows fewer common papers
        smaller = dataclasses.replace(
            config.render, max_email_bytes=max(budget - FOR_YOU_RESERVE, budget // 2)
        )
        links = topics.links_for(store, config.topics, digest)
        day = render_day(digest, config.with_overrides(render=smaller), links)
        text, html_body = day.email_txt, day.email_html
        size = len(html_body.encode("utf-8"))
    template = compile_mail(config, digest, text, html_body)
    if not template.has_for_you_slot:
        log.warning("%s: the email template has no header row to put For you after", digest.date)
        return Personal()
    return Personal(ranked.sections, template, budget - size)
