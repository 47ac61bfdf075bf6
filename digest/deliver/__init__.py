"""Delivery: the day's digest by email to confirmed subscribers, exactly once.

Entry point: :func:`send_digest` (``digest send`` and ``digest run --send``).
``message`` compiles the shared, encoded email once per digest and stamps it
per subscriber; ``smtp`` sends over one paced, retried connection; ``send``
keeps the delivery log that makes a rerun send only what is missing;
``tokens`` signs the confirm and unsubscribe links that ``digest.serve`` checks.
"""

from __future__ import annotations

from digest.deliver.send import SendReport, deliver, send_digest

__all__ = ["SendReport", "deliver", "send_digest"]
