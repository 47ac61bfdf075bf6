"""Themes: group the day's papers and name the groups.

Entry point: :func:`find_themes`. Every paper ends in exactly one theme; groups smaller
than ``themes.min_theme_size`` and papers without usable words are gathered in one theme
labelled "Other papers" with ``remainder=True``, listed last. The method and its measured
quality and speed are in ``docs/themes.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from digest.config import ThemesConfig
from digest.models import Paper, Theme

if TYPE_CHECKING:
    import numpy as np

    from digest.themes.cluster import Projector

# scikit-learn takes about a second to import (scipy.stats); it is imported when themes are
# built, so that commands which never build them (--help, serve, subscribers) start fast
REMAINDER_ID = "other"
REMAINDER_LABEL = "Other papers"


@dataclass(frozen=True)
class ThemeResult:
    themes: tuple[Theme, ...]
    assignment: dict[str, str]  # paper id -> theme id
    projector: Projector | None = field(default=None, compare=False, repr=False)
    group_ids: tuple[str, ...] = ()  # theme id of the projector's group 0, 1, …
    # the documents find_themes read (the day's, the background's, those it was given), for
    # assign: trending places the same papers (its window holds the background)
    documents: Documents = field(default_factory=dict, compare=False, repr=False)

    def assign(self, papers: Sequence[Paper]) -> list[str | None]:
        """Theme id of each of ``papers`` (papers of other days), for theme momentum.

        A paper of today keeps its theme; another goes to the theme whose centre is nearest,
        or to None when it shares no word with today's papers.
        """
        from digest.themes.cluster import NO_GROUP

        out: list[str | None] = [self.assignment.get(p.id) for p in papers]
        unknown = [i for i, theme in enumerate(out) if theme is None]
        if unknown and self.projector is not None and self.group_ids:
            nearest = self.projector.nearest([self._document(papers[i]) for i in unknown])
            for i, g in zip(unknown, nearest, strict=True):
                out[i] = self.group_ids[g] if g != NO_GROUP else None
        return out

    def _document(self, paper: Paper) -> str:
        return known_document(self.documents, paper)


# a paper's document (its cleaned text) by its id, with the title and abstract it was made from
Documents = Mapping[str, tuple[str, str, str]]


def known_document(documents: Documents, paper: Paper) -> str:
    """The document of ``paper`` in ``documents`` if made from its present title and
    abstract, else ``document(paper)``: a day reads its window's papers twice (background
    IDF, theme momentum), and cleaning them is 10 ms a thousand."""
    made = documents.get(paper.id)
    if made is not None and made[0] == paper.title and made[1] == paper.abstract:
        return made[2]
    return document(paper)


def document(paper: Paper) -> str:
    """The cleaned text clustering reads: title, then abstract."""
    from digest.themes.text import clean_text

    return f"{clean_text(paper.title)}.\n{clean_text(paper.abstract)}"


def find_themes(
    papers: Sequence[Paper],
    config: ThemesConfig,
    background: Sequence[Paper] = (),
    documents: Documents | None = None,
) -> ThemeResult:
    """Group ``papers`` into labelled themes. ``background`` papers only inform the IDF;
    ``documents`` may hold theirs already made (see :func:`known_document`)."""
    if not papers:
        return ThemeResult((), {})
    # sorted by id so that the order a source lists papers in cannot change the themes
    ordered = sorted(papers, key=lambda p: p.id)
    # the matrices are small: BLAS threads cost more in hand-offs than they save (a QR of
    # 3,000 x 30 took 0.18 s with two threads on a busy 2-core machine, 2 ms with one).
    # Clustering's imports come first: scipy brings its own OpenBLAS, which the SVD uses,
    # and only libraries loaded by then are limited
    from threadpoolctl import threadpool_limits

    import digest.themes.cluster  # noqa: F401

    with threadpool_limits(limits=1, user_api="blas"):
        return _find_themes(ordered, config, background, documents or {})


def _find_themes(
    ordered: list[Paper], config: ThemesConfig, background: Sequence[Paper], known: Documents
) -> ThemeResult:
    import numpy as np

    from digest.themes.cluster import NO_GROUP, group_documents
    from digest.themes.labels import describe
    from digest.themes.text import clean_text

    today = {p.id for p in ordered}
    extra = _background_papers(background, today, config.background_max_papers)
    clean_titles = [clean_text(p.title) for p in ordered]
    clean_abstracts = [clean_text(p.abstract) for p in ordered]
    docs = [f"{t}.\n{a}" for t, a in zip(clean_titles, clean_abstracts, strict=True)]  # document()
    extra_docs = [known_document(known, p) for p in extra]
    result = group_documents(docs, config, extra_docs)
    groups = result.groups
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    described = describe(
        [p.title for p in ordered], clean_titles, clean_abstracts, groups.tolist(), n_groups, docs
    )
    themes: list[Theme] = []
    group_ids = tuple(f"t{g + 1}" for g in range(n_groups))
    for g, (label, terms) in enumerate(described):
        members = np.flatnonzero(groups == g)
        themes.append(
            Theme(
                id=group_ids[g],
                label=label,
                terms=terms,
                paper_ids=tuple(ordered[i].id for i in members),
                representative=ordered[_closest_to_centre(result.vectors, members)].id,
            )
        )
    rest = np.flatnonzero(groups == NO_GROUP)
    if len(rest):
        themes.append(
            Theme(
                id=REMAINDER_ID,
                label=REMAINDER_LABEL,
                terms=(),
                paper_ids=tuple(ordered[i].id for i in rest),
                representative=None,
                remainder=True,
            )
        )
    assignment = {pid: t.id for t in themes for pid in t.paper_ids}
    made = {
        **known,
        **{p.id: (p.title, p.abstract, doc) for p, doc in zip(extra, extra_docs, strict=True)},
        **{p.id: (p.title, p.abstract, doc) for p, doc in zip(ordered, docs, strict=True)},
    }
    return ThemeResult(tuple(themes), assignment, result.projector, group_ids, made)


def _background_papers(background: Sequence[Paper], today: set[str], limit: int) -> list[Paper]:
    """The most recent ``limit`` background papers not listed today (the pipeline gives them
    oldest first); capped so a long background cannot make every day slow."""
    seen: set[str] = set(today)
    out: list[Paper] = []
    for p in reversed(background):
        if len(out) >= limit:
            break
        if p.id not in seen:
            seen.add(p.id)
            out.append(p)
    return out


def _closest_to_centre(vectors: np.ndarray, members: np.ndarray) -> int:
    block = vectors[members]
    centre = block.mean(axis=0)
    return int(members[int((block @ centre).argmax())])
