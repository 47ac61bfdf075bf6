"""digest.json follows docs/digest.schema.json, and Digest round-trips through it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from digest.config import Config
from digest.models import Digest, Paper, RankedPaper, SourceStatus, Theme
from digest.pipeline import run

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "digest.schema.json").read_text())


def _validate(data: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        data
    )


def _listing(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "2025-06-02.jsonl"
    rows = [
        {
            "id": f"2506.{i:05d}v1",
            "title": f"Graph networks for task {i}",
            "summary": f"We study graphs {i}.",
            "authors": ["Ada Lovelace"],
            "categories": ["cs.LG"],
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_run_output_validates(tmp_path: Path) -> None:
    cfg = Config(output_dir=str(tmp_path / "out"))
    result = run(cfg, dt.date(2025, 6, 2), [_listing(tmp_path, 12)])
    data = json.loads((tmp_path / "out" / "2025-06-02" / "digest.json").read_text())
    _validate(data)
    assert len(data["papers"]) == 12
    assert data["sources"][0]["status"] == "ok"
    assert set(data["trending"]) <= {p["id"] for p in data["papers"]}
    assert Digest.from_json(data).to_json() == data
    assert result.exit_code == 0


def test_empty_day_still_writes_a_valid_digest(tmp_path: Path) -> None:
    empty = tmp_path / "2025-06-02.jsonl"
    empty.write_text("")
    cfg = Config(output_dir=str(tmp_path / "out"))
    result = run(cfg, dt.date(2025, 6, 2), [empty])
    data = json.loads((tmp_path / "out" / "2025-06-02" / "digest.json").read_text())
    _validate(data)
    assert data["papers"] == [] and data["trending"] == []
    assert result.exit_code == 3


def test_schema_rejects_a_paper_without_an_id() -> None:
    paper = Paper(id="2501.00001", title="T", upvotes=3, ai_summary="S")
    digest = Digest(
        date=dt.date(2025, 1, 1),
        generated_at=dt.datetime(2025, 1, 1, 7, 30, tzinfo=dt.UTC),
        sources=(SourceStatus("hf", "hf_daily", "ok", 1),),
        papers=(RankedPaper(paper, ("hf",), "t0", 1.0, True),),
        themes=(Theme("t0", "Tiny theme", ("tiny",), ("2501.00001",)),),
        trending=("2501.00001",),
    )
    data = digest.to_json()
    _validate(data)
    assert data["papers"][0]["upvotes"] == 3 and data["papers"][0]["ai_summary"] == "S"
    del data["papers"][0]["id"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(data)


def _small_digest(title: str = 'Café $x$ "quoted"') -> Digest:
    paper = Paper(id="2501.00001", title=title, authors=("Zoë", "李"), keywords=("k",))
    return Digest(
        date=dt.date(2025, 1, 1),
        generated_at=dt.datetime(2025, 1, 1, 7, 30, tzinfo=dt.UTC),
        sources=(SourceStatus("hf", "hf_daily", "ok", 1),),
        papers=(RankedPaper(paper, ("hf",), "t0", 0.123456789, True),),
        themes=(Theme("t0", "Tiny theme", ("tiny",), ("2501.00001",), momentum=1.23456),),
        trending=("2501.00001",),
    )


def test_json_text_is_the_indented_json_once_made_and_new_for_a_changed_digest() -> None:
    import dataclasses

    digest = _small_digest()
    text = digest.to_json_text()
    assert text == json.dumps(digest.to_json(), ensure_ascii=False, indent=2) + "\n"
    assert digest.to_json_text() is text  # made once: the store and the writer share it
    other = dataclasses.replace(digest, trending=())
    assert json.loads(other.to_json_text())["trending"] == []


def test_stored_digest_is_the_json_text_and_reads_back_equal(tmp_path: Path) -> None:
    from digest.store import Store

    digest = _small_digest()
    with Store.open(tmp_path / "db.sqlite") as store:
        store.save_digest(digest)
        [body] = store.conn.execute("SELECT body FROM digests").fetchone()
        assert body == digest.to_json_text()
        again = store.digest_for(digest.date)
    assert again is not None and again.to_json() == digest.to_json()
