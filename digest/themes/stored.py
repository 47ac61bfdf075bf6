"""The clustering tokens of a day's trailing window, read from the store, not made again.

A day reads its window's papers twice: the background IDF (the distinct tokens of up to
``themes.background_max_papers`` papers of the last ``themes.background_days``) and theme
momentum (trending places ``trending.window_days`` of papers on the day's themes). A
process keeps the tokens of the documents it met (:data:`digest.context.CONTEXT`), so a
backfill tokenizes each paper once; a fresh process (the daily run) would tokenize its
whole window (~2,000 papers). Each day saves its papers' tokens
(``digest.store.paper_tokens``), and the papers of the window whose tokens this process
lacks are read from there; a paper whose row is missing (a store from before the table, a
day another process has not finished) or no longer matches its text is tokenized and its
row filled in. Measured in docs/themes.md ("Stored tokens").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from digest.context import CONTEXT
from digest.models import Paper
from digest.store.protocol import StoreProtocol
from digest.themes import Documents, ThemeResult, document, known_document
from digest.themes.background import probe_digest
from digest.themes.text import tokens


def text_key(paper: Paper, version: bytes) -> str:
    """Names the text a paper's tokens were made from: its title and abstract, and the
    tokenizer's ``version`` (:func:`digest.themes.background.probe_digest`)."""
    digest = hashlib.blake2b(paper.title.encode(), digest_size=16, key=version)
    digest.update(b"\0")
    digest.update(paper.abstract.encode())
    return digest.hexdigest()


def window_documents(store: StoreProtocol, papers: Iterable[Paper]) -> Documents:
    """The documents of ``papers`` by id, with the title and abstract they are of, for
    ``find_themes(documents=...)``; their tokens are known to this process afterwards: read
    from the store, or made (and saved) where it has none for the paper's present text."""
    latest = {p.id: p for p in papers}
    docs = {pid: document(paper) for pid, paper in latest.items()}
    lacking = [pid for pid, doc in docs.items() if not CONTEXT.has_doc(doc)]
    if lacking:
        version = probe_digest().encode()
        saved = store.paper_tokens(lacking)
        made: list[tuple[str, str, str]] = []
        for pid in lacking:
            key = text_key(latest[pid], version)
            row = saved.get(pid)
            if row is not None and row[0] == key:
                CONTEXT.tokens_of_doc(docs[pid], _stored(row[1]))
            else:
                made.append((pid, key, " ".join(tokens(docs[pid]))))
        store.save_paper_tokens(made)
    return {pid: (p.title, p.abstract, docs[pid]) for pid, p in latest.items()}


def _stored(text: str) -> Callable[[str], tuple[str, ...]]:
    return lambda _: tuple(text.split())


def save_day_tokens(store: StoreProtocol, papers: Sequence[Paper], result: ThemeResult) -> None:
    """Save the tokens of the day's ``papers``, from the documents ``find_themes`` made."""
    version = probe_digest().encode()
    rows = []
    for paper in papers:
        toks = tokens(known_document(result.documents, paper))
        rows.append((paper.id, text_key(paper, version), " ".join(toks)))
    store.save_paper_tokens(rows)
