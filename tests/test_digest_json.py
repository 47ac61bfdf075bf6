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
