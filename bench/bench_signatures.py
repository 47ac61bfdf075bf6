"""CPU seconds of the topic signatures of every day of a backfill (``digest.topics.signatures``).

Reads each ``YYYY-MM-DD/digest.json`` of an output tree (one made by
``bench/bench_backfill.py --no-search --output DIR``: 228 real days). Before each day's
signatures its papers are tokenized, as ``find_themes`` leaves them in a backfill's worker
(the tokens come from the process's cache there); only ``signatures`` is timed, with
``time.process_time``. Best of ``--repeat`` passes; prints the load average and a hash of
the signatures (same signatures, same hash).

    .venv/bin/python bench/bench_backfill.py --no-search --output /tmp/days
    .venv/bin/python bench/bench_signatures.py /tmp/days [--repeat 2]
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from digest.themes import document
from digest.themes.text import distinct_tokens
from digest.topics import signatures

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere
from bench_render_days import backfill_days  # noqa: E402


def main() -> int:
    days = backfill_days(__doc__.splitlines()[0], repeat=2)
    if days is None:
        return 0
    digests, repeat = days
    signatures(digests[0])  # reads the background model: not what is timed
    best = float("inf")
    digest_hash = ""
    for _ in range(repeat):
        seconds = 0.0
        outputs = hashlib.sha256()
        for d in digests:
            for p in d.papers:  # the day's tokens, as find_themes leaves them
                distinct_tokens(document(p.paper))
            start = time.process_time()
            themes = signatures(d)
            seconds += time.process_time() - start
            for t in themes:
                outputs.update(repr((t.theme_id, sorted(t.signature.items()))).encode("utf-8"))
        best = min(best, seconds)
        digest_hash = outputs.hexdigest()[:16]
    print(f"{len(digests)} days: signatures {best:.2f} s CPU (best of {repeat})")
    print(f"signatures sha256 {digest_hash}; load average {os.getloadavg()[0]:.1f} (1 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
