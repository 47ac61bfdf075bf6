"""CPU seconds of rendering every day of a backfill again, piece by piece.

Reads each ``YYYY-MM-DD/digest.json`` of an output tree (one made by
``bench/bench_backfill.py --no-search --output DIR``: 228 real days) and renders it
with ``render_day`` (the view, the email with its drafts sized to the budget and CSS
inlined, the text part, the web page, ``digest.md``), timing with ``time.process_time``.
Best of ``--repeat`` passes; prints the load average and a hash of the outputs (unchanged
output, same hash). ``render_day`` is timed whole, then the view,
the email and ``digest.md`` again one by one (the text part and the page are the rest).

    .venv/bin/python bench/bench_backfill.py --no-search --output /tmp/days
    .venv/bin/python bench/bench_render_days.py /tmp/days [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digest import render
from digest.config import Config
from digest.models import Digest
from digest.render.email import render_email
from digest.render.markdown import render_markdown
from digest.render.view import build_view


def timed(seconds: dict[str, float], label: str, func: Callable[..., Any], *a: Any) -> Any:
    """``func(*a)``, its CPU seconds added to ``seconds[label]``."""
    start = time.process_time()
    out = func(*a)
    seconds[label] = seconds.get(label, 0.0) + time.process_time() - start
    return out


def backfill_days(description: str, repeat: int) -> tuple[list[Digest], int] | None:
    """The digests of the output tree named on the command line, and ``--repeat``
    (default ``repeat``); None, after saying how to make one, when there is none."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", type=Path, nargs="?", help="an output tree of digest.json days")
    parser.add_argument("--repeat", type=int, default=repeat, help="passes (the best is printed)")
    args = parser.parse_args()
    texts = sorted(args.folder.glob("*/digest.json")) if args.folder else []
    if not texts:
        print("skipped: give an output tree (bench/bench_backfill.py --no-search --output DIR)")
        return None
    digests = [Digest.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in texts]
    return digests, max(1, args.repeat)


def main() -> int:
    days = backfill_days(__doc__.splitlines()[0], repeat=3)
    if days is None:
        return 0
    digests, repeat = days
    config = Config()
    render.render_day(digests[0], config)  # compiles the templates: not what is timed
    best: tuple[float, dict[str, float]] | None = None
    digest_hash = ""
    for _ in range(repeat):
        seconds: dict[str, float] = {}
        outputs = hashlib.sha256()

        start = time.process_time()
        for d in digests:
            day = timed(seconds, "render_day", render.render_day, d, config)
            for text in (day.email_html, day.email_txt, day.page_html, day.markdown):
                outputs.update(text.encode("utf-8"))
        total = time.process_time() - start
        for d in digests:  # the pieces again, one by one (render_day's text and page: the rest)
            view = timed(seconds, "of which view", build_view, d, config)
            timed(
                seconds,
                "of which email",
                render_email,
                view,
                config,
                render.UNSUBSCRIBE_PLACEHOLDER,
            )
            timed(seconds, "of which digest.md", render_markdown, d, config, view)
        for d in digests:
            timed(seconds, "archive entry (not in render_day)", render.ArchiveEntry.of, d, config)
        digest_hash = outputs.hexdigest()[:16]
        if best is None or total < best[0]:
            best = (total, seconds)
    assert best is not None
    pieces = ", ".join(f"{k} {v:.2f} s" for k, v in best[1].items())
    print(f"{len(digests)} days: {best[0]:.2f} s CPU (best of {repeat}); {pieces}")
    print(f"outputs sha256 {digest_hash}; load average {os.getloadavg()[0]:.1f} (1 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
