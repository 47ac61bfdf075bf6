"""Run the ``digest`` CLI in-process, as a user's shell would, and give its exit code."""

from __future__ import annotations

from digest.cli import main


def cli(*args: str) -> int:
    """``digest ARGS...``'s exit code: click ends every command with SystemExit."""
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
