"""The email's CSS inlined by css-inline, through its public API.

Why css-inline and not premailer (which the product brief named): premailer's public API,
``Premailer(html, ...).transform()``, takes 44 ms for the email of a 25-paper day and 70 ms
for a personalized one (measured in one run by ``bench/bench_inline.py``), while the render
of a whole 25-paper batch must stay under 50 ms and a personal send at 150 msgs/s has about
6.7 ms per message for everything. css-inline takes 0.75 and 1.1 ms for the same emails and
gives every element the declarations premailer gives it (262 of 262, 337 of 337; only the
spelling differs: ``color: #ffffff;`` where premailer writes ``color:#fff``).

The template says what is not inlined: the ``<style data-css-inline="keep">`` block of
``email.html`` (the @media rules for narrow screens and dark mode, and :hover) stays in the
email as written, its declarations ``!important`` so they beat the inlined styles in the
clients that read it; every other ``<style>`` block is inlined and removed. The inliner
never loads a stylesheet from the network.
"""

from __future__ import annotations

import css_inline

_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    """``html`` with the rules of its ``<style>`` blocks copied onto the elements they select;
    blocks marked ``data-css-inline="keep"`` stay, the others go."""
    # css-inline reads any HTML and CSS (a broken rule is skipped, as a browser skips it),
    # and raises only when it must load a stylesheet: never, with loading turned off
    return str(_INLINER.inline(html))
