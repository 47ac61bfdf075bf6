"""CSS inlining: after one premailer pass, emails of known kinds are inlined without premailer,
and the result is premailer's, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from premailer import Premailer
from test_render import site_config, synthetic_digest

from digest.render import inline
from digest.render.email import render_email
from digest.render.inline import PREMAILER_OPTIONS, inline_css
from digest.render.templating import render
from digest.render.view import build_view, limit, papers_by_rank


def fresh(html: str) -> str:
    return str(Premailer(html, **PREMAILER_OPTIONS).transform())


@pytest.fixture
def premailer_passes(monkeypatch) -> Iterator[list[int]]:
    """Counts the premailer passes of inline_css, starting from nothing learned."""
    inline.forget_styles()
    passes: list[int] = []
    real = inline._KeptRulesPremailer.transform

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        passes.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(inline._KeptRulesPremailer, "transform", counted)
    yield passes
    inline.forget_styles()


def drafts(count: int, themes: int, shown: tuple[int, ...]) -> list[str]:
    config = site_config()
    view = build_view(synthetic_digest(count, themes=themes), config)
    ranked = papers_by_rank(view)
    return [
        render(
            config,
            "email.html",
            day=limit(view, {p.id for p in ranked[:n]}),
            unsubscribe_url="%%UNSUBSCRIBE_URL%%",
        )
        for n in shown
    ]


def test_known_kinds_are_inlined_without_premailer_as_premailer_would(premailer_passes) -> None:
    # every paper shown, and three (the rest of the themes only named): every kind between them
    first, second, *later = drafts(120, themes=12, shown=(120, 3, 40, 119, 60))
    for html in (first, second):
        assert inline_css(html) == fresh(html)
    assert len(premailer_passes) == 2
    for html in later:
        assert inline_css(html) == fresh(html)
    assert len(premailer_passes) == 2


def test_a_kind_not_seen_yet_goes_to_premailer_once(premailer_passes) -> None:
    plain, richer = drafts(40, themes=5, shown=(40, 40))
    # a kind of element the first email lacks
    richer = richer.replace('<div class="authors">', '<div class="authors extra">', 1)
    assert inline_css(plain) == fresh(plain)
    assert inline_css(richer) == fresh(richer)
    assert inline_css(richer) == fresh(richer)
    assert len(premailer_passes) == 2


@pytest.mark.parametrize(
    "change",
    [
        # a rule that looks at ancestors: an element's style is no longer its kind's
        ("</style>", ".theme a { color: red; }\n</style>"),
        ("</style>", "td:first-child { color: red; }\n</style>"),
        ("</style>", "#x { color: red; }\n</style>"),
        # the element's own inline style is merged with the rules
        ('<td class="paper">', '<td class="paper" style="color: red">'),
        # a second style block, an image, a style block for print only
        ("</head>", "<style>.x { color: red; }</style></head>"),
        ("</body>", '<img src="x.png" alt=""></body>'),
        ("<style>", '<style media="print">'),
    ],
)
def test_anything_else_is_left_to_premailer(premailer_passes, change: tuple[str, str]) -> None:
    html = drafts(30, themes=4, shown=(30,))[0].replace(*change, 1)
    for _ in range(2):
        assert inline_css(html) == fresh(html)
    assert len(premailer_passes) == 2


def test_the_stylesheet_decides_what_is_learned(premailer_passes) -> None:
    body = '<body><p class="a">x</p><p class="b"><a href="#">y</a></p><!-- c --></body>'
    head = "<!DOCTYPE html><html><head><title>t</title><style>{}</style></head>"
    sheets = [
        ".a { color: red; } a:hover { color: blue; } @media (max-width: 9px) { .a { color: x; } }",
        ".a { padding: 1px; } p.b { margin: 0 !important; }",
        ".c { color: red; }",  # no rule applies: the block goes, nothing is styled
    ]
    for css in sheets + sheets:
        html = head.format(css) + body + "</html>"
        assert inline_css(html) == fresh(html)
    assert len(premailer_passes) == len(sheets)


def test_a_backfill_of_big_days_needs_one_premailer_pass(premailer_passes) -> None:
    config = site_config()
    for count in (300, 280, 500):
        render_email(build_view(synthetic_digest(count, themes=10), config), config, "u")
    assert len(premailer_passes) == 1


def test_a_draft_estimate_is_its_skeleton_plus_its_paper_blocks() -> None:
    """render_email sizes a draft from its skeleton and the papers' blocks: the same figure
    as the whole draft's estimate."""
    from digest.render.email import _NO_BLOCKS, Growth, _PaperBlocks

    config = site_config()
    view = build_view(synthetic_digest(90, themes=9), config)
    ranked = papers_by_rank(view)
    blocks = _PaperBlocks(config)

    def draft(n: int, paper_html: object) -> str:
        shown = limit(view, {p.id for p in ranked[:n]})
        return render(config, "email.html", day=shown, unsubscribe_url="u", paper_html=paper_html)

    growth = Growth.measure(draft(8, blocks), inline_css(draft(8, blocks)))
    for n in (1, 8, 33, 89, 90):
        whole = draft(n, blocks)
        assert whole == drafts(90, themes=9, shown=(n,))[0].replace("%%UNSUBSCRIBE_URL%%", "u")
        pieces = growth.estimate(draft(n, _NO_BLOCKS)) + sum(
            growth.size(blocks[p]) for p in ranked[:n]
        )
        assert pieces == growth.estimate(whole)
