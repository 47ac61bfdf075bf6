"""The bundled background model: built reproducibly, shipped, loaded once, blended by the rule
of docs/themes.md (a prior worth ``prior_papers`` papers, less the store papers there are)."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from digest.config import ThemesConfig
from digest.models import Paper
from digest.themes import document, find_themes
from digest.themes.background import (
    BUNDLED_PATH,
    BackgroundModel,
    blended_idf,
    load_model,
    probe_digest,
)
from digest.themes.text import distinct_tokens, tokens

ROOT = Path(__file__).resolve().parent.parent


def _builder():  # bench/ is not a package: load the build script by its path
    spec = importlib.util.spec_from_file_location(
        "build_background", ROOT / "bench/build_background.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_model_matches_the_tokenizer_and_is_small() -> None:
    model = load_model()
    assert model is not None, "digest/themes/background.npz is missing: run `make background`"
    # counted with another tokenizer, the model would misjudge every word: rebuild it
    assert model.meta["probe"] == probe_digest(), "text.py changed: run `make background`"
    assert model.n_docs > 20_000 and len(model.index) > 5_000
    assert BUNDLED_PATH.stat().st_size < 2_000_000
    common, topical = model.rates(["model", "pneumonia"])
    assert 0 < topical < common < 1
    assert model.rates(["zzzunheardofword"])[0] == 0.0


def test_a_missing_or_damaged_model_file_leaves_the_day_and_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_model(tmp_path / "absent.npz") is None
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 not a zip")
    assert load_model(damaged) is None
    assert "unreadable background model" in caplog.text
    partial = tmp_path / "partial.npz"
    np.savez(partial, terms=np.frombuffer(b"a\nb", dtype=np.uint8))
    assert load_model(partial) is None
    terms = ["graph", "robot"]
    alone = blended_idf(terms, np.array([2, 1]), 4, (), None, prior_papers=1000)
    vectorizer = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
    vectorizer.fit(["graph robot", "graph", "x", "y"])
    expected = dict(zip(vectorizer.get_feature_names_out(), vectorizer.idf_, strict=True))
    assert alone == pytest.approx([expected["graph"], expected["robot"]])


def _model(rates: dict[str, float], n_docs: int = 10_000) -> BackgroundModel:
    terms = sorted(rates)
    df = np.array([rates[t] * n_docs for t in terms])
    return BackgroundModel({t: i for i, t in enumerate(terms)}, df, n_docs, {})


def test_on_a_cold_start_the_model_decides_what_is_common() -> None:
    model = _model({"network": 0.30, "pneumonia": 0.001})
    terms = ["network", "pneumonia", "unknownword"]
    # on the day alone all three are equally common
    idf = blended_idf(terms, np.array([5, 5, 5]), 10, (), model, prior_papers=1000)
    assert idf[0] < idf[1] < idf[2]
    # 1000 pseudo-papers at the model's rates, plus the day
    assert idf[0] == pytest.approx(np.log(1011 / (1 + 5 + 300)) + 1)


def test_the_store_replaces_the_model_as_it_fills_up() -> None:
    model = _model({"robot": 0.5})
    day_df, n_day = np.array([1]), 2
    store = [f"robot {i}." if i % 2 else f"graph {i}." for i in range(1200)]
    full = blended_idf(["robot"], day_df, n_day, store, model, prior_papers=1000)
    without = blended_idf(["robot"], day_df, n_day, store, None, prior_papers=1000)
    assert full == pytest.approx(without)  # 1,200 store papers >= the prior: the store alone
    part = store[:400]
    mixed = blended_idf(["robot"], day_df, n_day, part, model, prior_papers=1000)
    in_store = sum("robot" in distinct_tokens(doc) for doc in part)
    assert mixed[0] == pytest.approx(np.log((1 + 2 + 400 + 600) / (1 + 1 + in_store + 300)) + 1)


def test_find_themes_runs_without_the_bundled_model(fixtures: Path) -> None:
    rows = [json.loads(line) for line in (fixtures / "themes-mini.jsonl").read_text().splitlines()]
    papers = [Paper(id=r["id"], title=r["title"], abstract=r["summary"]) for r in rows]
    for config in (ThemesConfig(), ThemesConfig(bundled_background=False)):
        result = find_themes(papers, config)
        assert sorted(result.assignment) == sorted(p.id for p in papers)


def _day(folder: Path, name: str, rows: list[dict]) -> None:
    with gzip.open(folder / f"{name}.jsonl.gz", "wt", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")


def test_the_build_dedupes_holds_out_every_third_day_and_excludes_dev_papers(
    tmp_path: Path,
) -> None:
    def row(pid: str, title: str) -> dict:
        return {"id": pid, "title": title, "summary": "Robots grasp objects.", "categories": []}

    data = tmp_path / "days"
    data.mkdir()
    _day(data, "2025-01-01", [row("a", "Graph networks"), row("b", "Graph pruning")])
    _day(data, "2025-01-02", [row("a", "Graph networks"), row("c", "Speech synthesis")])
    _day(data, "2025-01-03", [row("d", "Graph held out")])  # index 2: held out
    _day(data, "2025-01-04", [row("e", "Graph of the dev set")])
    build = _builder().build
    arrays, meta = build(data, exclude={"e"}, min_df=1, lsa_dims=0, lsa_terms=0, seed=0)
    assert meta["papers"] == 3  # a (once), b, c
    terms = bytes(arrays["terms"]).decode().split("\n")
    df = dict(zip(terms, arrays["df"].tolist(), strict=True))
    graph = tokens(document(Paper(id="x", title="Graph", abstract="")))[0]
    assert df[graph] == 2  # a and b: not d (held out), not e (dev), a counted once
    robot = tokens(document(Paper(id="x", title="Robots", abstract="")))[0]
    assert df[robot] == 3
    again, _ = build(data, exclude={"e"}, min_df=1, lsa_dims=0, lsa_terms=0, seed=0)
    assert all(np.array_equal(arrays[k], again[k]) for k in arrays)  # reproducible
    pruned, _ = build(data, exclude={"e"}, min_df=2, lsa_dims=0, lsa_terms=0, seed=0)
    assert set(bytes(pruned["terms"]).decode().split("\n")) == {t for t, c in df.items() if c >= 2}
