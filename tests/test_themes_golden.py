"""Golden digest.json of a seed day: two days of the trending page through the whole pipeline.

The fixtures are the first 45 papers of the Mar 13 and Mar 14 seed pages (14 titles recur,
so seen_days and theme momentum are exercised). Regenerate after an intended change with
``make golden`` (DIGEST_UPDATE_GOLDEN=1) and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import UPDATE_GOLDEN

from digest import pipeline
from digest.config import Config

GOLDEN = Path(__file__).parent / "golden" / "digest-seed-2026-03-14.json"


def test_seed_day_digest_matches_golden(fixtures: Path, tmp_path: Path) -> None:
    config = Config().with_overrides(output_dir=str(tmp_path / "out"))
    seeds = fixtures / "seeds"
    pipeline.run(config, dt.date(2026, 3, 13), [seeds / "seed-mar13-excerpt.txt"], site=False)
    result = pipeline.run(
        config, dt.date(2026, 3, 14), [seeds / "seed-mar14-excerpt.txt"], site=False
    )
    produced = json.loads((result.output_dir / "2026-03-14" / "digest.json").read_text())
    produced["generated_at"] = "normalized"
    for source in produced["sources"]:
        source["name"] = Path(source["name"]).name
    if UPDATE_GOLDEN:
        GOLDEN.write_text(json.dumps(produced, ensure_ascii=False, indent=2) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert produced["themes"] == expected["themes"]
    assert produced["trending"] == expected["trending"]
    assert produced == expected


def test_seed_day_themes_are_a_partition_with_recurring_papers(fixtures: Path) -> None:
    import jsonschema

    expected = json.loads(GOLDEN.read_text())
    schema = json.loads((Path(__file__).parent.parent / "docs" / "digest.schema.json").read_text())
    jsonschema.validate(expected, schema)
    ids = [p["id"] for p in expected["papers"]]
    in_themes = [pid for t in expected["themes"] for pid in t["paper_ids"]]
    assert sorted(in_themes) == sorted(ids)
    assert any(p["seen_days"] == 2 for p in expected["papers"])
    assert len(expected["trending"]) == 25
