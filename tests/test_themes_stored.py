"""Stored window tokens (digest.themes.stored, digest.store.paper_tokens): a fresh process
reads them and makes the same digest; missing rows are filled; a paper whose text changed
(a day ingested again, reproduced or not) is tokenized again, never read stale. On SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from digest import pipeline
from digest.config import Config
from digest.context import CONTEXT
from digest.store import Store

DAYS = [dt.date(2025, 3, 17), dt.date(2025, 3, 18), dt.date(2025, 3, 19)]
NOW = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
CONFIG = Config()
CHANGED = "2507.99999"  # not an id of the fixture: the paper whose abstract changes


def _rows(fixtures: Path) -> list[dict]:
    return [json.loads(line) for line in (fixtures / "themes-mini.jsonl").read_text().splitlines()]


def _listings(folder: Path, fixtures: Path, abstract: str) -> list[Path]:
    """The fixture's 80 papers over three days, plus paper CHANGED on the second day."""
    rows = _rows(fixtures)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, day in enumerate(DAYS):
        part = rows[i::3]
        if i == 1:
            part = [*part, {"id": CHANGED, "title": "Grasping with suction", "summary": abstract}]
        path = folder / f"{day.isoformat()}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in part))
        files.append(path)
    return files


def _ingest(store: Store, files: list[Path], days: list[int]) -> None:
    for i in days:
        pipeline.ingest(CONFIG, DAYS[i], [files[i]], store)


def _digest(store: Store, day: dt.date) -> str:
    return pipeline.build_digest(store, CONFIG, day, [], NOW).to_json_text()


OLD = "Suction grippers grasp industrial parts of varied shapes."
NEW = "Suction grippers grasp zebrafish embryos gently in laboratory tanks."


@pytest.fixture(autouse=True)
def _fresh_context() -> None:
    CONTEXT.reset()


def test_a_fresh_process_reads_the_stored_tokens_and_makes_the_same_digest(
    db_target: Path | str, fixtures: Path, tmp_path: Path
) -> None:
    files = _listings(tmp_path / "in", fixtures, OLD)
    with Store.open(db_target) as store:
        _ingest(store, files, [0, 1, 2])
        for day in DAYS[:2]:
            _digest(store, day)  # each day saves its papers' tokens
        warm = _digest(store, DAYS[2])
        earlier = [
            p.id for papers in store.papers_by_day(DAYS[0], DAYS[1]).values() for p in papers
        ]
        assert set(store.paper_tokens(earlier)) == set(earlier)
        CONTEXT.reset()  # as a new process: the window's tokens come from the store
        assert _digest(store, DAYS[2]) == warm


def test_a_store_without_the_rows_tokenizes_and_fills_them(
    db_target: Path | str, fixtures: Path, tmp_path: Path
) -> None:
    files = _listings(tmp_path / "in", fixtures, OLD)
    with Store.open(db_target) as store:
        _ingest(store, files, [0, 1, 2])
        with_rows = [_digest(store, day) for day in DAYS]
        window = [p.id for papers in store.papers_by_day(DAYS[0], DAYS[1]).values() for p in papers]
        store.conn.execute("DELETE FROM paper_tokens")  # a store from before the table
        assert store.paper_tokens(window) == {}
        CONTEXT.reset()
        assert _digest(store, DAYS[2]) == with_rows[2]
        assert set(store.paper_tokens(window)) == set(window)  # filled in


@pytest.mark.parametrize("reproduce", [True, False], ids=["reproduced", "ingested-only"])
def test_a_paper_whose_text_changed_is_never_read_stale(
    db_target: Path | str, fixtures: Path, tmp_path: Path, reproduce: bool
) -> None:
    before = _listings(tmp_path / "before", fixtures, OLD)
    after = _listings(tmp_path / "after", fixtures, NEW)
    with Store.open(db_target) as store:
        _ingest(store, before, [0, 1, 2])
        for day in DAYS:
            _digest(store, day)
        assert "zebrafish" not in store.paper_tokens([CHANGED])[CHANGED][1]
        _ingest(store, after, [1])  # the second day again, the abstract changed
        CONTEXT.reset()
        if reproduce:
            _digest(store, DAYS[1])
        redone = _digest(store, DAYS[2])
        assert "zebrafish" in store.paper_tokens([CHANGED])[CHANGED][1].split()
    # the same as a store that only ever saw the new abstract
    CONTEXT.reset()
    with Store.open(tmp_path / "reference.sqlite") as reference:
        _ingest(reference, after, [0, 1, 2])
        assert _digest(reference, DAYS[2]) == redone
