"""digest.md (the day in Markdown) and the Markdown escaping shared with the chat post:
golden file, the file the run writes, and titles with Markdown/HTML metacharacters."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from test_render import check_golden, fixture_digest, site_config, synthetic_digest

from digest.cli import cli
from digest.models import Digest
from digest.render import render_day
from digest.render.markdown import render_chat

# CommonMark plus the GitHub extensions wikis turn on (tables, strikethrough)
PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def test_golden_markdown() -> None:
    check_golden("2025-03-13/digest.md", render_day(fixture_digest(), site_config()).markdown)


def test_run_writes_digest_md_beside_the_email(tmp_path: Path) -> None:
    listing = tmp_path / "2025-06-02.jsonl"
    rows = [
        {"id": f"2506.{i:05d}", "title": f"Graph *networks* [{i}]", "summary": "We study graphs."}
        for i in range(1, 5)
    ]
    listing.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(
        cli, ["run", "--date", "2025-06-02", "--input", str(listing), "--output", "out"]
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "2025-06-02" / "digest.md").read_text("utf-8")
    assert text.startswith("# Trending papers, 2 Jun 2025\n")
    assert "[Graph \\*networks\\* \\[1\\]](https://arxiv.org/abs/2506.00001)" in text
    assert _link_texts(text)["https://arxiv.org/abs/2506.00001"] == "Graph *networks* [1]"


def _text(children: list[Token]) -> str:
    return "".join(
        t.content if t.type in ("text", "code_inline") else " " if "break" in t.type else ""
        for t in children
    )


def _link_texts(markdown: str) -> dict[str, str]:
    """{href: the link's text as a reader sees it} of every link in ``markdown``."""
    links: dict[str, str] = {}
    for token in PARSER.parse(markdown):
        children = token.children or []
        for i, child in enumerate(children):
            if child.type == "link_open":
                end = next(j for j in range(i, len(children)) if children[j].type == "link_close")
                links[str(child.attrGet("href"))] = _text(children[i + 1 : end])
    return links


def _with_title(digest: Digest, title: str, label: str) -> Digest:
    first = digest.papers[0]
    paper = dataclasses.replace(first.paper, title=title)
    papers = (dataclasses.replace(first, paper=paper), *digest.papers[1:])
    theme = dataclasses.replace(digest.themes[0], label=label)
    return dataclasses.replace(digest, papers=papers, themes=(theme, *digest.themes[1:]))


# text with every character Markdown or HTML gives a meaning to, among letters and spaces
_META = "\\`*_{}[]()#+-.!|~<>&;:\"'=/$^ \t\n"
_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(_META), st.sampled_from("aZ09é"), st.characters()),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() and "\x00" not in s)


def _visible(text: str) -> str:
    # what a title becomes in any output: one line, single spaces (the views do the same)
    return " ".join(text.split())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_TEXT, label=_TEXT)
def test_titles_with_markdown_and_html_metacharacters_print_as_themselves(
    title: str, label: str
) -> None:
    digest = _with_title(synthetic_digest(6, themes=2), title, label)
    config = site_config()
    paper_url = digest.papers[0].paper.url
    for markdown in (render_day(digest, config).markdown, render_chat(digest, config)):
        tokens = PARSER.parse(markdown)
        shown = _link_texts(markdown)
        # the title is the text of its link, whole, and nothing of it became markup
        expected = _visible(html.unescape(_visible_title(digest)))
        assert _visible(shown[str(paper_url)]) == expected
        assert not any(t.type.startswith(("html", "s_open", "em_open")) for t in _all(tokens))


def _visible_title(digest: Digest) -> str:
    from digest.render.view import build_view

    view = build_view(digest, site_config())
    return next(p.title for t in view.themes for p in t.papers if p.id == digest.papers[0].paper.id)


def _all(tokens: list[Token]) -> list[Token]:
    out = []
    for t in tokens:
        out.append(t)
        out.extend(_all(t.children or []))
    return out


def test_chat_post_lists_the_top_five_and_every_theme() -> None:
    digest = synthetic_digest(30, themes=4, day=dt.date(2025, 6, 2))
    text = render_chat(digest, site_config())
    links = _link_texts(text)
    assert sum("arxiv.org/abs/" in href for href in links) == 5
    assert sum("#theme-" in href for href in links) == 4
    assert "https://digest.example.org/2025-06-02/index.html" in links
