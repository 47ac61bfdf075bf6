"""The day's email, plain text and web page: structure, escaping, LaTeX, size budget, goldens."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html as htmllib
import json
import re
from pathlib import Path

import pytest
from conftest import FIXTURES, UPDATE_GOLDEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.config import Config, RenderConfig
from digest.models import Digest, Paper, RankedPaper, Theme
from digest.render import UNSUBSCRIBE_PLACEHOLDER, RenderError, render_day

GOLDEN = Path(__file__).resolve().parent / "golden"
GMAIL_CLIP = 102 * 1024
SITE = "https://digest.example.org/"


def fixture_digest() -> Digest:
    return Digest.from_json(json.loads((FIXTURES / "render_day.json").read_text("utf-8")))


def site_config(**render: object) -> Config:
    return Config(site_url=SITE, render=dataclasses.replace(RenderConfig(), **render))


def synthetic_digest(count: int, themes: int = 30, day: dt.date = dt.date(2025, 6, 2)) -> Digest:
    """``count`` papers with realistic lengths (LaTeX included), spread over ``themes`` themes."""
    words = [
        "model",
        "learning",
        "data",
        "training",
        "neural",
        "graph",
        "language",
        "vision",
        "robust",
        "sparse",
    ]
    papers = []
    for n in range(count):
        title = " ".join(words[(n + k) % len(words)].title() for k in range(9)) + f" $O(n^{n % 3})$"
        abstract = " ".join(
            f"Sentence {s} of paper {n} studies {' '.join(words[(n + s + k) % 10] for k in range(12))}."
            for s in range(8)
        )
        papers.append(
            RankedPaper(
                paper=Paper(
                    id=f"2506.{n:05d}",
                    title=title,
                    abstract=abstract,
                    authors=tuple(f"Author {n}-{a} Surname" for a in range(1 + n % 7)),
                    url=f"https://arxiv.org/abs/2506.{n:05d}",
                    upvotes=n % 50 if n % 3 else None,
                    comments=n % 4 or None,
                    code_url=f"https://github.com/lab/repo{n}" if n % 2 else None,
                ),
                sources=("synthetic",),
                theme=f"t{n % themes}",
                score=1.0 / (n + 1),
                trending=n < 25,
                seen_days=1 + n % 5,
                position=n,
            )
        )
    groups = tuple(
        Theme(
            id=f"t{k}",
            label=f"theme {k} about {words[k % 10]}",
            terms=(words[k % 10],),
            paper_ids=tuple(p.paper.id for p in papers if p.theme == f"t{k}"),
            rising=k % 4 == 0,
        )
        for k in range(themes)
    )
    return Digest(
        date=day,
        generated_at=dt.datetime.combine(day, dt.time(7, 30), dt.UTC),
        sources=(),
        papers=tuple(papers),
        themes=groups,
        trending=tuple(p.paper.id for p in papers[:25]),
    )


def scripts(html: str) -> list[str]:
    """Every <script> element of ``html``, whole (an inline one shows its code)."""
    return re.findall(r"<script\b.*?</script\s*>", html, re.I | re.S)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}: run `make golden`"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


# ------------------------------------------------------------------ goldens


def test_golden_day_outputs() -> None:
    rendered = render_day(fixture_digest(), site_config())
    check_golden("2025-03-13/email.html", rendered.email_html)
    check_golden("2025-03-13/email.txt", rendered.email_txt)
    check_golden("2025-03-13/index.html", rendered.page_html)


def test_rendering_is_deterministic() -> None:
    a = render_day(fixture_digest(), site_config())
    b = render_day(fixture_digest(), site_config())
    assert a == b


# ------------------------------------------------------------------ the email


@pytest.fixture(scope="module")
def day() -> object:
    return render_day(fixture_digest(), site_config())


def test_email_layout_tables_are_presentation(day) -> None:
    html = day.email_html
    tables = re.findall(r"<table\b[^>]*>", html)
    assert len(tables) >= 3
    assert all('role="presentation"' in t for t in tables)
    assert 'width="600"' in html


def test_email_has_no_script_and_no_external_css(day) -> None:
    assert "<script" not in day.email_html.lower()
    # the web page's only script is the site's own search loader, no inline code
    assert scripts(day.page_html) == ['<script src="../search.js" defer></script>']
    for html in (day.email_html, day.page_html):
        assert "<link" not in html.lower() or 'rel="stylesheet"' not in html.lower()
        assert "@import" not in html
    # the title <script> of the fixture is shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in day.email_html
    assert "&lt;b&gt;Bold&lt;/b&gt; claims" in day.email_html
    assert "javascript:" not in day.email_html + day.page_html + day.email_txt


def test_email_css_is_inlined_and_media_rules_kept(day) -> None:
    html = day.email_html
    style = re.search(r"<style[^>]*>(.*?)</style>", html, re.S)
    assert style is not None
    css = style.group(1)
    # plain rules moved onto the elements; what cannot be inlined stays, !important
    assert re.search(r'<td class="paper" style="[^"]*padding: 12px 28px', html)
    assert "@media (max-width: 620px)" in css
    assert "@media (prefers-color-scheme: dark)" in css
    assert "!important" in css
    assert ".paper {" not in css.split("@media")[0]
    assert len(re.findall(r"<style", html)) == 1


def test_email_header_preheader_and_footer(day) -> None:
    html = day.email_html
    assert '<div class="preheader"' in html
    preheader = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', html, re.S)
    assert preheader and "12 papers in 3 themes" in preheader.group(1)
    assert "13 Mar 2025" in html
    assert f'<a href="{UNSUBSCRIBE_PLACEHOLDER}"' in html
    assert f'<a href="{SITE}2025-03-13/index.html"' in html
    assert f'<a href="{SITE}feed.xml"' in html


def test_email_themes_in_order_with_bars_and_papers_by_rank(day) -> None:
    html = day.email_html
    labels = [
        html.index(x) for x in ("transfer learning, μP", "neural architectures", "Other topics")
    ]
    assert labels == sorted(labels)
    # bars are table cells sized relative to the largest theme (5 papers)
    assert re.findall(r'class="bar-on"[^>]* width="(\d+)%"', html) == ["80", "60", "100"]
    # within a theme, the trending order: 07004 is ranked before 07001
    assert html.index("2503.07004") < html.index("2503.07001") < html.index("2503.07006")


def test_email_paper_badges_and_summary(day) -> None:
    html = day.email_html
    assert "▲&nbsp;120" in html  # the non-breaking space written as an entity
    assert "seen 3 days" in html
    assert 'href="https://github.com/example/ocean-emulator"' in html
    # "rising" is said once, on the theme heading, not on each of its papers
    assert re.search(r'<span class="badge hot"[^>]*>rising</span>', html)
    assert html.count(">rising</span>") == 1
    # AI summary preferred over the abstract; authors shortened
    assert "ML emulators reproduce 5–8 years" in html
    assert "Kurt Gödel, Emmy Noether, John von Neumann and 2 others" in html
    assert "Sofia Kovalevskaya" not in html


def test_latex_is_readable_in_every_output(day) -> None:
    for text in (day.email_html, day.email_txt, day.page_html):
        for readable in ("CO₂", "μ-Transfer", "ℓ₁/ℓ₂", "Revelio: Interpreting", "μP"):
            assert readable in text
        for raw in ("$CO_2$", "\\frac", "\\textit", "\\mu", "\\ell"):
            assert raw not in text


# ------------------------------------------------------------------ the plain text


def test_text_fits_72_columns_and_lists_its_links(day) -> None:
    lines = day.email_txt.splitlines()
    for line in lines:
        if len(line) > 72:  # only a lone unbreakable token (a URL) may overflow
            assert re.fullmatch(r"\s*(\[\d+\] |\* |[A-Za-z ]+: )?\S+", line), line
    refs = {int(n) for n in re.findall(r"\[(\d+)\]", day.email_txt)}
    listed = dict(re.findall(r"^\[(\d+)\] (\S+)$", day.email_txt, re.M))
    assert refs == {int(n) for n in listed}
    assert "https://arxiv.org/abs/2503.07004" in listed.values()
    assert f"Unsubscribe: {UNSUBSCRIBE_PLACEHOLDER}" in day.email_txt
    assert "<b>Bold</b> claims" in day.email_txt  # plain text shows the title as written
    assert "&lt;" not in day.email_txt and "&amp;" not in day.email_txt


_TITLE_WORDS = st.sampled_from(
    ["model", "Über", "well-known", "(ok)", "[3]", "1.5", "x" * 40, "https://example.org/" + "p" * 70,
     "a", "of", "LLMs:", "éé"]
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_TITLE_WORDS, min_size=1, max_size=30), min_size=1, max_size=4))
def test_the_plain_text_keeps_every_word_and_fits_72_columns(titles: list[list[str]]) -> None:
    digest = fixture_digest()
    papers = (
        tuple(
            dataclasses.replace(p, paper=dataclasses.replace(p.paper, title=" ".join(words)))
            for p, words in zip(digest.papers, titles, strict=False)
        )
        + digest.papers[len(titles) :]
    )
    text = render_day(dataclasses.replace(digest, papers=papers), site_config()).email_txt
    found = text.split()
    for words in titles:  # each title's words, in order and together
        assert any(found[i : i + len(words)] == words for i in range(len(found))), words
    for line in text.split("\n"):
        if len(line) > 72:  # only a lone unbreakable token (a URL) may overflow
            assert re.fullmatch(r"\s*(\[\d+\] |\* |[A-Za-z ]+: )?\S+", line), line


# ------------------------------------------------------------------ the web page


def test_page_lists_every_paper_with_anchors(day) -> None:
    html = day.page_html
    assert html.count("<article") == 12
    assert 'id="theme-1"' in html and 'href="#theme-1"' in html
    assert "<details><summary>Abstract</summary>" in html
    assert "<style>" in html and 'style="' in html  # normal CSS, bars sized inline


# ------------------------------------------------------------------ grouping


def test_no_themes_gives_one_group() -> None:
    digest = dataclasses.replace(fixture_digest(), themes=())
    rendered = render_day(digest, site_config())
    assert "All papers" in rendered.email_html
    assert rendered.email_txt.count("All papers (12 papers") == 1
    assert rendered.shown == 12


def test_papers_no_theme_claims_go_to_other_papers() -> None:
    digest = fixture_digest()
    digest = dataclasses.replace(digest, themes=digest.themes[:1])
    rendered = render_day(digest, site_config())
    assert "Other papers" in rendered.email_html
    assert rendered.shown == 12


# ------------------------------------------------------------------ size budget


def test_a_thousand_paper_day_fits_gmail() -> None:
    digest = synthetic_digest(1000)
    config = site_config()
    rendered = render_day(digest, config)
    size = len(rendered.email_html.encode("utf-8"))
    assert size <= config.render.max_email_bytes < GMAIL_CLIP
    assert 20 < rendered.shown < 1000
    # the budget is used, not wasted
    assert size > 0.95 * config.render.max_email_bytes
    assert "most trending are below" in rendered.email_html
    assert f'href="{SITE}2025-06-02/index.html#theme-' in rendered.email_html
    assert f'<a href="{UNSUBSCRIBE_PLACEHOLDER}"' in rendered.email_html
    # the top of the trending batch is what is kept
    assert "2506.00000" in rendered.email_html and "2506.00999" not in rendered.email_html
    # the plain text lists the same papers; the web page all of them
    assert rendered.email_txt.count("\n* ") >= rendered.shown
    assert rendered.page_html.count("<article") == 1000


def test_each_budget_gets_the_most_papers_that_fit() -> None:
    """For every budget the email is within it, and no email with more papers (made for a
    bigger budget) would have fitted it: the count is the largest that fits."""
    digest = synthetic_digest(300, themes=10)
    made: list[tuple[int, int, int]] = []  # budget, papers shown, bytes
    for budget in range(8_000, 120_001, 7_000):
        rendered = render_day(digest, site_config(max_email_bytes=budget))
        made.append((budget, rendered.shown, len(rendered.email_html.encode())))
    for budget, shown, size in made:
        assert size <= budget or shown == 1
        assert all(other > budget for _, more, other in made if more > shown)
    shown_counts = [shown for _, shown, _ in made]
    assert shown_counts == sorted(shown_counts) and len(set(shown_counts)) > 10


def test_an_email_does_not_depend_on_the_days_rendered_before() -> None:
    """Nothing of one day's email is kept for the next (a backfill, the scheduler)."""
    config = site_config()
    alone = render_day(synthetic_digest(280, themes=10), config)
    render_day(synthetic_digest(500, themes=7), site_config(max_email_bytes=30_000))
    again = render_day(synthetic_digest(280, themes=10), config)
    assert again == alone


def test_a_small_budget_shrinks_the_email_but_keeps_the_top_paper() -> None:
    config = site_config(max_email_bytes=20_000)
    rendered = render_day(synthetic_digest(60, themes=3), config)
    assert len(rendered.email_html.encode()) <= 20_000
    assert 1 <= rendered.shown < 60
    tiny = render_day(synthetic_digest(5, themes=1), site_config(max_email_bytes=1_000))
    assert tiny.shown == 1  # over budget, but an email never comes out empty


# ------------------------------------------------------------------ templates


def test_templates_dir_overrides_one_file_and_falls_back_for_the_rest(tmp_path: Path) -> None:
    (tmp_path / "email.txt").write_text("Hello {{ day.heading }}\n", encoding="utf-8")
    rendered = render_day(fixture_digest(), site_config(templates_dir=str(tmp_path)))
    assert rendered.email_txt == "Hello Trending papers, 13 Mar 2025\n"
    assert "transfer learning, μP" in rendered.email_html  # bundled email.html still used


def test_a_broken_template_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "email.txt").write_text("{% for x in %}\n", encoding="utf-8")
    with pytest.raises(RenderError) as err:
        render_day(fixture_digest(), site_config(templates_dir=str(tmp_path)))
    assert "email.txt:1" in str(err.value) and "\n" not in str(err.value)
    (tmp_path / "email.txt").write_text("{{ day.no_such_field }}\n", encoding="utf-8")
    with pytest.raises(RenderError, match="no_such_field"):
        render_day(fixture_digest(), site_config(templates_dir=str(tmp_path)))


# ------------------------------------------------------------------ odd days and odd text


def test_an_empty_day_says_so() -> None:
    empty = Digest(
        date=dt.date(2025, 3, 15),
        generated_at=dt.datetime(2025, 3, 15, 7, 0),
        sources=(),
        papers=(),
    )
    rendered = render_day(empty, site_config())
    for text in (rendered.email_html, rendered.email_txt, rendered.page_html):
        assert "No papers were listed for this day." in text
    assert "Links" not in rendered.email_txt
    assert f'<a href="{UNSUBSCRIBE_PLACEHOLDER}"' in rendered.email_html


_NASTY = st.lists(
    st.sampled_from([*"<>&\"'$\\{}_^ab ", "<script>", "</b>", "\\frac", "&amp;"]), max_size=20
).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_NASTY, abstract=_NASTY, author=_NASTY, label=_NASTY)
def test_any_text_renders_as_text(title: str, abstract: str, author: str, label: str) -> None:
    digest = fixture_digest()
    first = digest.papers[0]
    odd = dataclasses.replace(
        first,
        paper=dataclasses.replace(first.paper, title=title, abstract=abstract, authors=(author,)),
    )
    theme = dataclasses.replace(digest.themes[0], label=label)
    digest = dataclasses.replace(
        digest, papers=(odd, *digest.papers[1:]), themes=(theme, *digest.themes[1:])
    )
    rendered = render_day(digest, site_config())
    assert "<script" not in rendered.email_html
    assert scripts(rendered.page_html) == ['<script src="../search.js" defer></script>']
    for html in (rendered.email_html, rendered.page_html):
        assert "</b>" not in html.replace("</body>", "")
        assert "\\frac" not in html
    assert "\\frac" not in rendered.email_txt
    assert rendered.shown == 12


def _safe_url_reference(url: str | None) -> str | None:
    """The rule as urlparse states it: an http(s) scheme and a host (a URL urlparse cannot
    read, such as a malformed [IPv6] host, is no link)."""
    from urllib.parse import urlparse

    if not url:
        return None
    url = url.strip()
    try:
        parsed = urlparse(url)
    except ValueError:
        return None
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


_URL_ATOMS = st.sampled_from(
    ["http", "https", "HTTP", "javascript", "ftp", ":", "//", "/", "?", "#", "@", "[", "]",
     "example.org", "a", "-", ".", "8080", " ", "\t", "\n", "é", "%20", "x=1"]
)  # fmt: skip
_CODE_LINK = re.compile(r'<a class="badge" href="([^"]*)"[^>]*>code</a>')


def code_links(url: str) -> list[list[str]]:
    """The code link of a paper whose code_url is ``url``, as the email and the page show it."""
    digest = synthetic_digest(2, themes=1)
    first = digest.papers[0]
    odd = dataclasses.replace(first, paper=dataclasses.replace(first.paper, code_url=url))
    rendered = render_day(dataclasses.replace(digest, papers=(odd,)), site_config())
    return [
        [htmllib.unescape(link) for link in _CODE_LINK.findall(out)]
        for out in (rendered.email_html, rendered.page_html)
    ]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(_URL_ATOMS, max_size=12).map("".join) | st.text(max_size=30))
def test_only_plain_web_urls_become_links(url: str) -> None:
    expected = _safe_url_reference(url)
    assert code_links(url) == [[expected]] * 2 if expected else [[], []]


def test_a_url_urlparse_cannot_read_is_no_link_and_no_crash() -> None:
    assert code_links("http://[::1") == [[], []]
    assert code_links(" https://example.org/x ") == [["https://example.org/x"]] * 2
