"""Each paper's clustering tokens, so that later days and fresh processes read them instead of
cleaning and tokenizing their window's papers again (docs/themes.md, "Stored tokens").

Written and read by :mod:`digest.themes.stored`. A row holds the tokens of the text its
``text_key`` names (a digest of the tokenizer's version and the paper's title and abstract):
once a paper's text changes (a day ingested again, a replaced abstract) or the tokenizer
does, the row no longer matches, and the tokens are made again and replace it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from digest.store.db import transaction
from digest.store.paper_reads import CHUNK, marks

MIGRATIONS = [
    """
    CREATE TABLE paper_tokens (
        paper_id TEXT PRIMARY KEY,
        text_key TEXT NOT NULL,
        tokens TEXT NOT NULL
    ) WITHOUT ROWID
    """
]


class PaperTokensMixin:
    conn: sqlite3.Connection

    def paper_tokens(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(text key, space-separated tokens) of those of ``ids`` that have a row."""
        wanted = sorted(set(ids))
        out: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows = self.conn.execute(
                "SELECT paper_id, text_key, tokens FROM paper_tokens "
                f"WHERE paper_id IN ({marks(chunk)})",
                chunk,
            )
            for r in rows:
                out[r[0]] = (r[1], r[2])
        return out

    def save_paper_tokens(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Save (paper id, text key, space-separated tokens), replacing a paper's row."""
        batch = list(rows)
        if not batch:
            return
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO paper_tokens(paper_id, text_key, tokens) VALUES (?, ?, ?) "
                "ON CONFLICT(paper_id) DO UPDATE SET text_key = excluded.text_key, "
                "tokens = excluded.tokens",
                batch,
            )
