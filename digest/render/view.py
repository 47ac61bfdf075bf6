"""What the templates see: a ``Digest`` turned into display-ready frozen records.

Everything a template prints is computed here once (LaTeX turned into text,
summaries cut, authors shortened, URLs joined), so the email, the plain text,
the web page and the feed all say the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlparse

from digest.config import Config
from digest.models import Digest, RankedPaper
from digest.render.feeds import FeedLink, feed_links
from digest.render.latex import latex_to_text
from digest.render.text import first_sentences, long_date, plural, short_authors
from digest.topics.history import TopicLink

BAR_CELLS = 20  # resolution of the theme size bar (table cells in the email)
UNTHEMED = "All papers"
AUTHORS_SHOWN = 3  # "A, B, C and 12 others"
# an http(s) scheme and a host of plain characters: a URL that urlparse gives a web
# scheme and a netloc, whatever follows the host
_PLAIN_WEB_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?:[:/?#]|\Z)")


@dataclass(frozen=True)
class PaperView:
    id: str
    rank: int  # 0 = most trending of the day
    title: str
    url: str
    authors: str
    summary: str
    abstract: str  # the whole abstract, for the web page
    # what the search index reads of the paper's text, beside its title and authors: its
    # abstract on the first day it was listed only (a later day page repeats it, as weekend
    # arXiv listings repeat Friday's), and its summary only when it is not the abstract's
    # opening shown again above the whole abstract
    abstract_indexed: bool
    summary_indexed: bool
    upvotes: int | None
    comments: int | None
    seen_days: int
    code_url: str | None
    trending: bool
    rising: bool  # its theme is rising

    @property
    def anchor(self) -> str:
        """Its fragment id on the web page."""
        return "paper-" + self.id.replace(":", "-").replace("/", "-")


@dataclass(frozen=True)
class ThemeView:
    id: str
    anchor: str  # fragment id on the web page
    label: str
    terms: tuple[str, ...]
    size: int  # papers in the theme, shown or not
    bar: int  # filled cells out of BAR_CELLS, relative to the largest theme
    share: int  # percent of the day's papers
    rising: bool
    remainder: bool
    papers: tuple[PaperView, ...]
    topic_url: str = ""  # the page of the topic it continues (docs/topics.md), if any
    topic_rising: bool = False  # that topic was rising on the day

    @property
    def hidden(self) -> int:
        return self.size - len(self.papers)


@dataclass(frozen=True)
class DayView:
    date: dt.date
    date_label: str  # 13 Mar 2025
    title: str  # the newsletter's name
    heading: str  # "Trending papers, 13 Mar 2025"
    site_url: str
    page_url: str  # the web page of the day ("view in browser")
    archive_url: str
    feed_url: str
    total: int  # papers of the day
    themes: tuple[ThemeView, ...]
    feed_links: tuple[FeedLink, ...] = ()  # the site's feeds, in every format

    @property
    def shown(self) -> int:
        return sum(len(t.papers) for t in self.themes)

    @property
    def truncated(self) -> bool:
        return self.shown < self.total

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.themes if not t.remainder] or [t.label for t in self.themes]

    @property
    def preheader(self) -> str:
        """The line mail clients show after the subject: counts and the biggest themes."""
        labels = ", ".join(self.labels[:3])
        counts = f"{plural(self.total, 'paper')} in {plural(len(self.themes), 'theme')}"
        return f"{counts}: {labels}." if labels else f"{counts}."

    def page_link(self, theme: ThemeView | None = None) -> str:
        return self.page_url + (f"#{theme.anchor}" if theme else "")


def site_link(config: Config, path: str = "") -> str:
    """An absolute URL under ``site_url`` (which may or may not end with a slash)."""
    base = config.site_url if config.site_url.endswith("/") else config.site_url + "/"
    return urljoin(base, path)


def site_feed_links(config: Config) -> tuple[FeedLink, ...]:
    """The site's feeds, each in every format, as a page's ``<link rel="alternate">``."""
    return feed_links(config.title, site_link(config, "feed.xml")) + feed_links(
        f"{config.title}: papers", site_link(config, "papers.xml")
    )


def ranked(digest: Digest) -> list[RankedPaper]:
    """Every paper of the day, most trending first: the trending batch in rank order, then score."""
    order = {pid: n for n, pid in enumerate(digest.trending)}
    position = {p.paper.id: n for n, p in enumerate(digest.papers)}
    return sorted(
        digest.papers,
        key=lambda p: (order.get(p.paper.id, len(order)), -p.score, position[p.paper.id]),
    )


def build_view(
    digest: Digest,
    config: Config,
    keep: Collection[str] | None = None,
    topics: Mapping[str, TopicLink] | None = None,
) -> DayView:
    """The display records of ``digest``: every paper listed, or only those in ``keep``.

    Theme sizes and bars always count every paper of the day. ``topics``: topic id -> link,
    for the themes' links to their topic pages (``digest.topics.links_of``).
    """
    links = topics or {}
    papers = ranked(digest)
    rising_themes = {t.id for t in digest.themes if t.rising}
    views = {
        p.paper.id: _paper_view(p, n, p.theme in rising_themes, config)
        for n, p in enumerate(papers)
        if keep is None or p.paper.id in keep
    }
    groups = _groups(digest, papers)
    largest = max((len(ids) for _, ids in groups), default=1) or 1
    total = len(digest.papers)
    themes = tuple(
        ThemeView(
            id=theme_id,
            anchor=f"theme-{n + 1}",
            label=label,
            terms=terms,
            size=len(ids),
            bar=max(1, round(BAR_CELLS * len(ids) / largest)) if ids else 0,
            share=round(100 * len(ids) / total) if total else 0,
            rising=rising,
            remainder=remainder,
            papers=tuple(views[i] for i in ids if i in views),
            topic_url=_topic_url(config, links.get(topic_id or "")),
            topic_rising=bool(topic_id and topic_id in links and links[topic_id].rising),
        )
        for n, ((theme_id, label, terms, rising, remainder, topic_id), ids) in enumerate(groups)
    )
    date_label = long_date(digest.date)
    heading = f"{config.title}, {date_label}"
    day = digest.date.isoformat()
    return DayView(
        date=digest.date,
        date_label=date_label,
        title=config.title,
        heading=heading,
        site_url=site_link(config),
        page_url=site_link(config, f"{day}/index.html"),
        archive_url=site_link(config, "index.html"),
        feed_url=site_link(config, "feed.xml"),
        total=total,
        themes=themes,
        feed_links=site_feed_links(config),
    )


def limit(view: DayView, keep: Collection[str]) -> DayView:
    """``view`` listing only the papers in ``keep``; theme sizes still count every paper."""
    themes = []
    for t in view.themes:
        papers = tuple(p for p in t.papers if p.id in keep)
        # a theme that keeps all its papers is kept as it is (drafts of an email keep most)
        themes.append(t if len(papers) == len(t.papers) else replace(t, papers=papers))
    return replace(view, themes=tuple(themes))


def papers_by_rank(view: DayView) -> list[PaperView]:
    return sorted((p for t in view.themes for p in t.papers), key=lambda p: p.rank)


_GroupKey = tuple[str, str, tuple[str, ...], bool, bool, str | None]


def _groups(digest: Digest, papers: list[RankedPaper]) -> list[tuple[_GroupKey, list[str]]]:
    """Theme by theme in the digest's order, each with its paper ids most trending first.

    Papers no theme claims (or every paper, when there are no themes) form a last group.
    """
    rank = {p.paper.id: n for n, p in enumerate(papers)}
    groups: list[tuple[_GroupKey, list[str]]] = []
    claimed: set[str] = set()
    for t in digest.themes:
        ids = sorted(
            (i for i in t.paper_ids if i in rank and i not in claimed), key=rank.__getitem__
        )
        claimed.update(ids)
        if ids:
            label = latex_to_text(t.label) or UNTHEMED
            terms = tuple(latex_to_text(term) for term in t.terms)
            groups.append(((t.id, label, terms, t.rising, t.remainder, t.topic_id), ids))
    rest = [p.paper.id for p in papers if p.paper.id not in claimed]
    if rest:
        label = "Other papers" if groups else UNTHEMED
        groups.append((("other", label, (), False, True, None), rest))
    return groups


def _topic_url(config: Config, link: TopicLink | None) -> str:
    return site_link(config, f"topics/{link.slug}/index.html") if link else ""


def _paper_view(p: RankedPaper, rank: int, rising: bool, config: Config) -> PaperView:
    paper = p.paper
    abstract = latex_to_text(paper.abstract)
    summary_source = latex_to_text(paper.ai_summary) if paper.ai_summary else abstract
    summary = first_sentences(summary_source, config.render.summary_sentences)
    return PaperView(
        id=paper.id,
        rank=rank,
        title=latex_to_text(paper.title) or "(untitled)",
        url=_safe_url(paper.url) or _arxiv_url(paper.arxiv_id),
        authors=short_authors(
            [latex_to_text(a) for a in paper.authors[:AUTHORS_SHOWN]]
            + list(paper.authors[AUTHORS_SHOWN:])
        ),
        summary=summary,
        abstract=abstract,
        abstract_indexed=p.seen_days <= 1,
        summary_indexed=p.seen_days <= 1 and (bool(paper.ai_summary) or abstract == summary),
        upvotes=paper.upvotes,
        comments=paper.comments,
        seen_days=p.seen_days,
        code_url=_safe_url(paper.code_url),
        trending=p.trending,
        rising=rising,
    )


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links reach an output; ``javascript:`` and friends are dropped."""
    if not url:
        return None
    url = url.strip()
    if _PLAIN_WEB_URL.match(url):
        return url  # what urlparse would accept, told without parsing (nearly every link)
    try:
        parsed = urlparse(url)
    except ValueError:  # a malformed [IPv6] host: no link rather than no email
        return None
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


def _arxiv_url(arxiv_id: str | None) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else ""
