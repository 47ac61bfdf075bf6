"""Counted nouns for messages: "1 paper", "2 papers". Light (no imports), so the CLI can use it
without loading the renderer."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, in the plural (``many``, default ``word`` + "s") unless 1."""
    return f"{count} {word if count == 1 else many or word + 's'}"
