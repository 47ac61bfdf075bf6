"""Markdown outputs: the day's ``digest.md`` (for wikis and chats) and the short chat post.

Text from listings goes through :func:`digest.render.text.md_escape` (the ``md`` filter of the templates),
URLs through :func:`~digest.render.text.md_url`, so a title such as ``*Attention* is [not] <all> you need``
prints as itself in a CommonMark renderer, python-markdown (what apprise converts with) and
Slack alike: ``& < >`` become entities (Slack wants exactly those three) and the inline
markers a title can hold are backslash-escaped.
"""

from __future__ import annotations

from digest.config import Config
from digest.models import Digest
from digest.render.templating import render
from digest.render.view import DayView, build_view, papers_by_rank

CHAT_TOP = 5  # papers a chat post lists: a short digest, the rest is on the web page


def render_markdown(digest: Digest, config: Config, view: DayView | None = None) -> str:
    """``digest.md``: every paper of the day by theme, with links, authors and summary."""
    day = view or build_view(digest, config)
    return render(config, "digest.md", day=day)


def render_chat(digest: Digest, config: Config, top: int = CHAT_TOP) -> str:
    """The chat post: the ``top`` most trending papers and the theme list, with links."""
    day = build_view(digest, config)
    return render(config, "chat.md", day=day, top=papers_by_rank(day)[:top])
