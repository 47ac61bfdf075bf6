"""User-facing errors. Anything raised as ``DigestError`` becomes one line on stderr."""

from __future__ import annotations

# Exit codes, documented in README.md ("Exit codes").
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_PAPERS = 3


class DigestError(Exception):
    """An error the user can act on; the message is shown without a traceback."""

    exit_code = EXIT_ERROR


class ConfigError(DigestError):
    """A bad configuration file: the message names the file and the key."""

    exit_code = EXIT_USAGE


class InputError(DigestError):
    """A listing file that cannot be read or understood."""


class NoPapersError(DigestError):
    """The run found no papers for the date."""

    exit_code = EXIT_NO_PAPERS
