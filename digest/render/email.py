"""The HTML email: a size budget picks the papers, premailer inlines the CSS once.

Gmail clips a message whose HTML passes 102 KB, hiding the footer with the
unsubscribe link. Premailer is the slow step and its time grows with the
document, so the budget is decided *before* inlining the email:

- a day whose template output is under half the budget is inlined at once;
- a bigger day first inlines a small sample (the top few papers) to learn how many
  bytes premailer adds to each kind of element, then sizes drafts of the template
  (cheap Jinja renders with more or fewer of the most trending papers) against the
  budget, and inlines the largest that fits. What premailer adds to a kind of element
  depends on the stylesheet alone, so the sample is kept per stylesheet: the next big
  day of the process (a backfill, the scheduler) needs one premailer pass, not two.
  A draft with a kind the kept sample lacks brings in a sample of its own day.

The result is measured; only if the estimate fell short (an overriding stylesheet
with descendant selectors) does a smaller pass run. The drafts of one email share each
paper's block (:class:`_PaperBlocks`), and :func:`digest.render.inline.inline_css` spares
premailer itself the emails whose kinds of element it has styled before.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from digest.config import Config
from digest.render.inline import inline_css
from digest.render.templating import env_for, render
from digest.render.view import DayView, PaperView, limit, papers_by_rank

log = logging.getLogger("digest.render")

# Inlined size / template size of the bundled email: 1.5 to 1.9 measured on real and
# synthetic days. A day that fits even at 2.0 is inlined at once, without a sample.
INLINE_GROWTH = 2.0
SMALL_DAY = 60  # papers; a bigger day goes straight to the sample
SAMPLE_PAPERS = 8  # papers in the sample premailer measures
SAFETY = 0.99  # of the budget, for what the per-element estimate cannot see
MIN_PAPERS = 1  # even a tiny budget shows the top paper


def render_email(
    view: DayView,
    config: Config,
    unsubscribe_url: str,
    inline: Callable[[str], str] | None = None,
) -> tuple[str, DayView]:
    """The inlined email of ``view`` within ``render.max_email_bytes``, and the view it shows."""
    inline = inline or inline_css
    budget = config.render.max_email_bytes
    ranked = papers_by_rank(view)
    total = len(ranked)

    def shown(count: int) -> DayView:
        return view if count >= total else limit(view, {p.id for p in ranked[:count]})

    blocks = _PaperBlocks(config)

    def raw(count: int, paper_html: _Blocks = blocks) -> str:
        return render(
            config,
            "email.html",
            day=shown(count),
            unsubscribe_url=unsubscribe_url,
            paper_html=paper_html,
        )

    count, html = total, ""
    if total <= SMALL_DAY:
        html = raw(total)
        if len(html.encode("utf-8")) * INLINE_GROWTH > budget:
            html = ""
    if not html:
        # Too big for the quick bound: learn from a small sample what premailer adds to each
        # kind of element, then size drafts (cheap Jinja renders) against the exact budget.
        sampled = min(total, SAMPLE_PAPERS)
        sample = raw(sampled)
        growth = _sampled_growth(sample, inline, config.render.templates_dir)
        sizes: dict[int, int] = {}
        block_sizes: list[int] = []  # of the papers in rank order, as far as drafts went

        def estimate(n: int) -> int:
            # A draft is its skeleton (the template with empty paper blocks) and the blocks of
            # its n papers; bytes and premailer's additions add up piece by piece, and the
            # skeleton is a tenth of the draft.
            if n not in sizes:
                while len(block_sizes) < n:
                    block_sizes.append(growth.size(blocks[ranked[len(block_sizes)]]))
                sizes[n] = growth.estimate(raw(n, _NO_BLOCKS)) + sum(block_sizes[:n])
            return sizes[n]

        target = budget * SAFETY
        guess = _first_guess(total, estimate, target, sampled)
        count = largest_fitting(total, lambda n: estimate(n) <= target, guess)
        html = sample if count == sampled else raw(count)
    while True:
        inlined = inline(html)
        size = len(inlined.encode("utf-8"))
        if size <= budget or count <= MIN_PAPERS:
            return inlined, shown(count)
        # the estimate was short (CSS with context selectors): shrink by the overshoot
        smaller = max(MIN_PAPERS, min(count - 1, int(count * budget / size * 0.95)))
        log.debug(
            "email %s: %d bytes with %d papers; retrying with %d", view.date, size, count, smaller
        )
        count = smaller
        html = raw(count)


class _Blocks(Protocol):
    def __getitem__(self, paper: PaperView) -> str: ...


class _PaperBlocks:
    """``blocks[paper]``: the ``paper`` macro of ``email_macros.html``, each paper rendered
    once per email.

    The drafts of one email list the same papers over and over; a paper's block depends
    on the paper alone, so the drafts share them. The template looks them up by
    subscript, three times cheaper in Jinja than a call.
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._macro: Callable[[PaperView], str] | None = None
        self._done: dict[str, str] = {}

    def __getitem__(self, paper: PaperView) -> str:
        html = self._done.get(paper.id)
        if html is None:
            if self._macro is None:  # looked up during the first render: errors read as usual
                macros: Any = env_for(self._config).get_template("email_macros.html").module
                self._macro = macros.paper
            html = self._done[paper.id] = self._macro(paper)
        return html


class _NoBlocks:
    """Every paper's block left empty: the skeleton of a draft."""

    def __getitem__(self, paper: PaperView) -> str:
        return ""


_NO_BLOCKS = _NoBlocks()


# What premailer added to each kind of element, per (inliner, templates folder, stylesheet):
# a few entries, kept for the process
_ADDED_BY_STYLE: dict[tuple[object, ...], tuple[dict[tuple[str, str], int], int]] = {}
_CACHE_SIZE = 8


def _sampled_growth(sample: str, inline: Callable[[str], str], templates_dir: str) -> Growth:
    """``Growth.measure(sample, inline(sample))``, without premailer when every kind of
    element in ``sample`` was measured before with the same stylesheet.

    Restricted to the sample's kinds, the kept figures give the very estimate a fresh
    sample would (an element's inlined style depends on its kind alone), so the email
    does not depend on which days the process rendered before.
    """
    key = (inline, templates_dir, _style_text(sample))
    kinds = {_kind(m) for m in _START_TAG.finditer(sample)}
    known, shrink = _ADDED_BY_STYLE.get(key, ({}, 0))
    if key in _ADDED_BY_STYLE and kinds <= known.keys():
        return Growth.of({kind: known[kind] for kind in kinds}, shrink)
    growth = Growth.measure(sample, inline(sample))
    if key not in _ADDED_BY_STYLE and len(_ADDED_BY_STYLE) >= _CACHE_SIZE:
        _ADDED_BY_STYLE.pop(next(iter(_ADDED_BY_STYLE)))
    _ADDED_BY_STYLE[key] = ({**known, **growth.added}, growth.style_shrink)
    return growth


def forget_growth() -> None:
    """Drop the kept measurements (tests that count premailer passes start from none)."""
    _ADDED_BY_STYLE.clear()


def _first_guess(total: int, estimate: Callable[[int], int], target: float, low: int) -> int:
    """Where to start looking: the secant through the sample (``low`` papers) and a draft of
    25, then through the next draft.

    The estimate grows almost linearly with the papers shown (theme headings make the
    first ones cost a little more), so two steps land within a paper or two.
    """
    high = min(total, 25)
    if high <= low:
        return high
    size_low, size_high = estimate(low), estimate(high)
    for _ in range(2):
        if size_high <= size_low:
            return high
        guess = high + int((target - size_high) * (high - low) / (size_high - size_low))
        guess = max(MIN_PAPERS, min(total, guess))
        if guess in (low, high):
            return guess
        low, size_low, high, size_high = high, size_high, guess, estimate(guess)
    return high


_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_CLASS = re.compile(r"""\sclass=(?:"([^"]*)"|'([^']*)')""")
_STYLE = re.compile(r"""\sstyle=(?:"[^"]*"|'[^']*')""")
_STYLE_BLOCK = re.compile(r"<style[^>]*>.*?</style>", re.S)


@dataclass(frozen=True)
class Growth:
    """Bytes premailer adds to each kind of element (tag and classes), measured on a sample.

    With class and tag selectors (all the bundled CSS uses) an element's inlined style
    depends on its kind alone, so the sample predicts any draft of the same day; a kind
    the sample lacks counts as the largest of its tag.
    """

    added: dict[tuple[str, str], int]
    by_tag: dict[str, int]
    largest: int
    style_shrink: int  # the <style> block loses the rules that were inlined

    @classmethod
    def measure(cls, raw: str, inlined: str) -> Growth:
        added: dict[tuple[str, str], int] = {}
        for m in _START_TAG.finditer(inlined):
            style = _STYLE.search(m.group(2))
            kind = _kind(m)
            added[kind] = max(added.get(kind, 0), len(style.group(0).encode()) if style else 0)
        return cls.of(added, max(0, _style_bytes(raw) - _style_bytes(inlined)))

    @classmethod
    def of(cls, added: dict[tuple[str, str], int], style_shrink: int) -> Growth:
        by_tag: dict[str, int] = {}
        for (tag, _), n in added.items():
            by_tag[tag] = max(by_tag.get(tag, 0), n)
        return cls(added, by_tag, max(added.values(), default=0), style_shrink)

    def estimate(self, raw: str) -> int:
        """The inlined size of the email ``raw``."""
        return self.size(raw) - self.style_shrink

    def size(self, part: str) -> int:
        """Bytes of ``part`` of an email once inlined, its ``<style>`` block aside: parts
        that split the email between tags add up to the email's."""
        size = len(part.encode("utf-8"))
        # identical tags (most of a draft) are counted in C and looked at once
        for (tag, attributes), times in Counter(_START_TAG.findall(part)).items():
            kind = _kind_of(tag, attributes)
            size += times * self.added.get(kind, self.by_tag.get(kind[0], self.largest))
        return size


def _kind(tag: re.Match[str]) -> tuple[str, str]:
    return _kind_of(tag.group(1), tag.group(2))


@functools.lru_cache(maxsize=4096)  # the same few tags recur in every draft and block
def _kind_of(tag: str, attributes: str) -> tuple[str, str]:
    found = _CLASS.search(attributes)
    classes = " ".join(sorted((found.group(1) or found.group(2) or "").split())) if found else ""
    return tag.lower(), classes


def _style_text(html: str) -> str:
    return "".join(m.group(0) for m in _STYLE_BLOCK.finditer(html))


def _style_bytes(html: str) -> int:
    return sum(len(m.group(0).encode()) for m in _STYLE_BLOCK.finditer(html))


def largest_fitting(total: int, fits: Callable[[int], bool], start: int = 25) -> int:
    """The largest count in [MIN_PAPERS, total] that ``fits`` (MIN_PAPERS when none does).

    ``fits`` must be monotonic. The search gallops from ``start`` (steps of 1, 2, 4, …
    up or down) and then bisects, so a good guess costs two or three drafts, and a
    1,000-paper day never renders all of it first.
    """
    if total <= MIN_PAPERS:
        return total
    count = max(MIN_PAPERS, min(total, start))
    step = 1
    if fits(count):
        low = count  # fits
        high = total + 1  # the first count known not to fit
        while low < total:
            count = min(total, low + step)
            if not fits(count):
                high = count
                break
            low, step = count, step * 2
    else:
        high = count
        low = MIN_PAPERS - 1  # nothing known to fit yet
        while high > MIN_PAPERS:
            count = max(MIN_PAPERS, high - step)
            if fits(count):
                low = count
                break
            high, step = count, step * 2
        if low < MIN_PAPERS:
            return MIN_PAPERS
    while high - low > 1:  # low fits, high does not
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low
