"""Themes: group the day's papers. (Placeholder until the themes issue lands: one group.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from digest.config import ThemesConfig
from digest.models import Paper, Theme


@dataclass(frozen=True)
class ThemeResult:
    themes: tuple[Theme, ...]
    assignment: dict[str, str]  # paper id -> theme id

    def assign(self, papers: Sequence[Paper]) -> list[str | None]:
        """Theme id of each of ``papers`` (papers of other days), for theme momentum."""
        return [self.assignment.get(p.id) for p in papers]


def find_themes(
    papers: Sequence[Paper], config: ThemesConfig, background: Sequence[Paper] = ()
) -> ThemeResult:
    if not papers:
        return ThemeResult((), {})
    theme = Theme(id="t0", label="All papers", terms=(), paper_ids=tuple(p.id for p in papers),
                  representative=papers[0].id)
    return ThemeResult((theme,), {p.id: "t0" for p in papers})
