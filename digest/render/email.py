"""The HTML email: the most trending papers that fit the size budget, CSS inlined.

Gmail clips a message whose HTML passes 102 KB, hiding the footer with the unsubscribe
link, so the inlined email stays under ``render.max_email_bytes``. A day that fits whole is
rendered and inlined once. A bigger one is sized by real drafts (the template with the
top N papers, inlined and measured): a draft of 25 papers, then a secant step or two
towards the budget, then a gallop and bisection (:func:`largest_fitting`) to the largest
N that fits. Inlining costs about a millisecond per draft (css-inline, see
:mod:`digest.render.inline`), so measuring beats estimating: a 1,000-paper day takes a
handful of drafts and never renders all of its papers into one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from digest.config import Config
from digest.render.inline import inline_css
from digest.render.templating import render
from digest.render.view import DayView, limit, papers_by_rank

log = logging.getLogger("digest.render")

SMALL_DAY = 60  # papers; a day up to this size is tried whole first
FIRST_DRAFT = 25  # papers in the first draft of a bigger day
MIN_PAPERS = 1  # even a tiny budget shows the top paper


def render_email(
    view: DayView,
    config: Config,
    unsubscribe_url: str,
) -> tuple[str, DayView]:
    """The inlined email of ``view`` within ``render.max_email_bytes``, and the view it shows."""
    budget = config.render.max_email_bytes
    ranked = papers_by_rank(view)
    total = len(ranked)
    drafts: dict[int, str] = {}  # papers shown -> inlined email, for this email only

    def shown(count: int) -> DayView:
        return view if count >= total else limit(view, {p.id for p in ranked[:count]})

    def size(count: int) -> int:
        if count not in drafts:
            html = render(config, "email.html", day=shown(count), unsubscribe_url=unsubscribe_url)
            drafts[count] = inline_css(html)
        return len(drafts[count].encode("utf-8"))

    first = total if total <= SMALL_DAY else FIRST_DRAFT
    if size(first) <= budget and first == total:
        return drafts[total], view
    count = largest_fitting(total, lambda n: size(n) <= budget, _guess(first, size, budget, total))
    log.debug("email %s: %d of %d papers in %d drafts", view.date, count, total, len(drafts))
    size(count)  # drafted already, unless not even the top paper fits (it is shown anyway)
    return drafts[count], shown(count)


def _guess(low: int, size: Callable[[int], int], budget: int, total: int) -> int:
    """Where the search starts: the email grows almost linearly with its papers (a theme
    heading makes the first papers of a theme cost a little more), so the line through the
    first draft and the origin, then a secant or two, land within a paper or two."""
    size_low = size(low)
    guess = max(MIN_PAPERS, min(total, low * budget // max(1, size_low)))
    for _ in range(2):
        if guess == low:
            break
        size_guess = size(guess)
        if size_guess == size_low:
            break
        step = (budget - size_guess) * (guess - low) / (size_guess - size_low)
        low, size_low, guess = guess, size_guess, max(MIN_PAPERS, min(total, guess + int(step)))
    return guess


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
