"""CSS inlining per email: premailer's public API against css-inline, on the bundled email.

Two emails, from real arXiv titles and abstracts (``../shared/data/arxiv-daily``):

- the daily email of a 25-paper batch, as ``render_day`` builds it (once per day);
- a personalized email: the same with a reader's For you section (10 papers) after the
  header, what a per-reader inliner would get (the personal send must reach 150 msgs/s end
  to end, about 6.7 ms per message for everything, so per-email inlining must be cheap).

For each inliner: the median time per email after a warm-up, the output size, and whether
every element gets the same declarations as premailer gives it (colours compared in one
spelling: premailer writes ``#fff`` where the stylesheet says ``#ffffff``). Prints the
figures and the peak RSS, and exits 0. The run that chose css-inline (load ~4) also timed
the premailer emulation digest had then (removed since): 1.98 ms for the daily email,
34.5 ms for the personalized one (its inline styles sent it to premailer itself).

    .venv/bin/python bench/bench_inline.py
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import css_inline
from lxml import html as lxml_html
from premailer import Premailer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import DATA, load_rows, make_digest  # noqa: E402

from digest.config import Config  # noqa: E402
from digest.render.templating import render  # noqa: E402
from digest.render.view import build_view  # noqa: E402

REPEAT = 30
PREMAILER = {
    "allow_network": False,
    "strip_important": False,
    "cssutils_logging_level": logging.CRITICAL,
    "disable_validation": True,
    "remove_classes": False,
    "disable_basic_attributes": ["bgcolor", "width", "height", "align", "valign"],
}


def premailer_inline(html: str) -> str:
    return str(Premailer(html, **PREMAILER).transform())


def emails(config: Config) -> dict[str, str]:
    rows = load_rows(25)
    view = build_view(make_digest(rows, dt.date(2025, 3, 13), themes=5), config)
    daily = render(config, "email.html", day=view, unsubscribe_url="%%UNSUBSCRIBE_URL%%")
    items = [
        {
            "title": r["title"],
            "url": r["abs"],
            "reason": "matches: language models; like: a paper you saved",
            "more_url": f"https://digest.example.org/feedback/{n}/more?t=0123456789abcdef",
            "fewer_url": f"https://digest.example.org/feedback/{n}/fewer?t=0123456789abcdef",
        }
        for n, r in enumerate(rows[:10])
    ]
    section = render(
        config, "email_foryou.html", items=items, preferences_url="%%PREFERENCES_URL%%"
    )
    head = daily.find('class="header"')
    end = daily.find("</td></tr>", head) + len("</td></tr>")
    return {"25-paper daily": daily, "personalized": daily[:end] + section + daily[end:]}


def median_ms(inline: Callable[[str], str], html: str) -> float:
    inline(html)
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        inline(html)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


_HEX3 = re.compile(r"#([0-9a-f])([0-9a-f])([0-9a-f])\b")


def declarations(style: str) -> dict[str, str]:
    out = {}
    for part in style.split(";"):
        name, _, value = part.partition(":")
        if name.strip():
            value = _HEX3.sub(r"#\1\1\2\2\3\3", " ".join(value.lower().split()))
            out[name.strip().lower()] = value.replace(", ", ",")
    return out


def styles(inlined: str) -> list[tuple[str, str, dict[str, str]]]:
    """(tag, class, declarations) of every element in document order (css-inline adds the
    ``<tbody>`` the HTML parser implies: left out)."""
    root = lxml_html.document_fromstring(inlined)
    return [
        (el.tag, el.get("class", ""), declarations(el.get("style", "")))
        for el in root.iter()
        if isinstance(el.tag, str) and el.tag not in ("tbody", "style")
    ]


def main() -> int:
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (needs ../shared beside the project)")
        return 0
    config = Config(site_url="https://digest.example.org/")
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False)
    contenders: dict[str, Callable[[str], str]] = {
        "premailer (public API)": premailer_inline,
        "css-inline": inliner.inline,
    }
    for name, html in emails(config).items():
        reference = premailer_inline(html)
        expected = styles(reference)
        print(f"{name} email: {len(html.encode()):,} bytes before inlining")
        for label, inline in contenders.items():
            ms = median_ms(inline, html)
            out = inline(html)
            got = styles(out)
            same = sum(a == b for a, b in zip(got, expected, strict=False))
            verdict = (
                "byte-identical to premailer"
                if out == reference
                else f"{same}/{len(expected)} elements styled as premailer"
                + ("" if len(got) == len(expected) else f" ({len(got)} elements)")
            )
            print(f"  {label:32s} {ms:7.2f} ms/email  {len(out.encode()):,} bytes  {verdict}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: process max RSS {rss_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
