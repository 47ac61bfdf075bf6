"""Personal digests through their public entry points: ``digest recommend``, ``digest
subscribers profile``, the store's profiles and the ranking API (issue 11)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_exit import cli as _cli

from digest.personal.profile import Profile, profile_to_toml
from digest.personal.rank import Day, fit_model, rank_for_profile, rank_many
from digest.personal.seeds import read_seed_file
from digest.store import Store

ROOT = Path(__file__).resolve().parent.parent
DAY = "2025-09-09"


@pytest.fixture
def setup(tmp_path: Path, fixtures: Path) -> Path:
    """A config with its own store, the day's listing and a robotics seed library."""
    (tmp_path / "c.toml").write_text(
        f'output_dir = "{tmp_path / "out"}"\ndatabase = "{tmp_path / "db.sqlite"}"\n'
    )
    shutil.copy(fixtures / "personal" / f"{DAY}.jsonl", tmp_path / f"{DAY}.jsonl")
    shutil.copy(fixtures / "personal" / "seeds-robotics.jsonl", tmp_path / "seeds.jsonl")
    return tmp_path


class Run:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = code, stdout, stderr


def _recommend(tmp: Path, capsys: pytest.CaptureFixture[str], profile: str, *extra: str) -> Run:
    """``digest recommend`` in this process (the console entry point, as a user calls it)."""
    (tmp / "p.toml").write_text(profile)
    args = ["recommend", "--config", str(tmp / "c.toml"), "--profile", str(tmp / "p.toml")]
    args += ["--date", DAY, "--input", str(tmp / f"{DAY}.jsonl"), *extra]
    capsys.readouterr()
    code = _cli(*args)
    out = capsys.readouterr()
    return Run(code, out.out, out.err)


def _robotics(tmp: Path) -> set[str]:
    rows = [json.loads(x) for x in (tmp / f"{DAY}.jsonl").read_text().splitlines()]
    return {r["id"] for r in rows if "cs.RO" in r["categories"]}


def test_recommend_json_contract_ranks_the_seed_topic_first(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = _recommend(
        setup, capsys, 'name = "robots"\nseed_file = "seeds.jsonl"\n', "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    assert items and all(set(x) == {"id", "title", "score", "reasons"} for x in items)
    scores = [x["score"] for x in items]
    assert scores == sorted(scores, reverse=True)
    assert len(items) <= 25
    hits = sum(x["id"] in _robotics(setup) for x in items[:10])
    assert hits >= 3  # 18 of the 118 papers are cs.RO: a random top 10 holds ~1.5
    assert any(r.startswith("like: ") for r in items[0]["reasons"])


def test_recommend_keywords_reasons_top_and_text_format(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = 'name = "k"\nkeywords = ["robot", "C++", "(a|b", "$\\\\alpha$-stable"]\n'
    proc = _recommend(setup, capsys, profile, "--format", "json", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    assert len(items) == 3
    assert all("matches: robot" in x["reasons"] for x in items)  # LaTeX matched as written
    text = _recommend(setup, capsys, profile, "--top", "2")
    assert text.returncode == 0 and " 1. " in text.stdout and "matches: robot" in text.stdout


def test_recommend_excludes_are_hard(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = _recommend(
        setup,
        capsys,
        'name = "k"\nkeywords = ["robot"]\nexclude = ["humanoid"]\n',
        "--format",
        "json",
    )
    items = json.loads(proc.stdout)
    assert items and not any("humanoid" in x["title"].lower() for x in items)


def test_a_profile_that_matches_nothing_gives_an_empty_list(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = _recommend(
        setup, capsys, 'name = "z"\nkeywords = ["zebrafish husbandry"]\n', "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
    text = _recommend(setup, capsys, 'name = "z"\nkeywords = ["zebrafish husbandry"]\n')
    assert "nothing for z on 2025-09-09" in text.stdout


def test_broken_seed_entries_are_warnings_and_the_good_ones_rank(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (setup / "lib.bib").write_text(
        "@article{a, title={Legged Robot Locomotion}, abstract={Quadruped robots walk.}}\n"
        "@article{b, title={Broken\n\n"
        "@article{c, title={Robot Manipulation}, eprint={2599.99999}}\n"
    )
    proc = _recommend(setup, capsys, 'name = "b"\nseed_file = "lib.bib"\n', "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert f"digest: warning: {setup / 'lib.bib'}:2: unreadable BibTeX entry" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)


def test_bad_profiles_are_one_line_errors(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = _recommend(setup, capsys, 'name = "e"\nexclude = ["x"]\n')
    assert proc.returncode != 0 and "nothing to rank by" in proc.stderr
    proc = _recommend(setup, capsys, 'name = "e"\nseed_file = "missing.bib"\n')
    assert proc.returncode == 1 and "missing.bib: no such seed file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = _recommend(setup, capsys, 'name = "e"\ncolour = "red"\n')
    assert proc.returncode == 2 and "p.toml: unknown key 'colour'" in proc.stderr


@pytest.mark.slow
def test_model_is_refitted_only_when_the_profile_changes(setup: Path, fixtures: Path) -> None:
    from digest.formats import read_listing
    from digest.personal.service import recommend

    day = dt.date.fromisoformat(DAY)
    papers = list(read_listing(setup / f"{DAY}.jsonl").papers)
    profile = Profile(name="r", seed_file=str(setup / "seeds.jsonl"))
    with Store.open(setup / "db.sqlite") as store:
        first = recommend(store, profile, day, papers)
        again = recommend(store, profile, day, papers)
        changed = recommend(
            store, Profile(name="r", seed_file=profile.seed_file, keywords=("grasp",)), day, papers
        )
        versions = dict(
            store.conn.execute("SELECT component, version FROM schema_versions").fetchall()
        )
    assert (first.refitted, again.refitted, changed.refitted) == (True, False, True)
    assert first.recommendations == again.recommendations
    assert versions["profiles"] == 1


def test_rank_many_is_the_stacked_product(fixtures: Path) -> None:
    import scipy.sparse as sp

    from digest.formats import read_listing

    papers = list(read_listing(fixtures / "personal" / f"{DAY}.jsonl").papers)
    seeds = list(read_seed_file(fixtures / "personal" / "seeds-robotics.jsonl").papers)
    models = [fit_model("a", seeds[:10], papers), fit_model("b", seeds[10:], papers)]
    from digest.personal.rank import day_matrix

    x = day_matrix(papers)
    w = sp.vstack([m.weights for m in models]).tocsr()
    scores = rank_many(w, np.array([m.intercept for m in models]), x)
    assert scores.shape == (2, len(papers))
    one = (models[1].weights @ x.T).toarray().ravel() + models[1].intercept
    assert np.allclose(scores[1], one, atol=1e-5)
    ranked = rank_for_profile(Profile(name="a"), models[0], Day.of(papers), top=5)
    assert len(ranked) == 5


@pytest.mark.slow
def test_subscriber_profile_set_show_import(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(setup / "c.toml")
    assert (
        _cli("subscribers", "profile", "ada@example.org", "--keywords", "x", "--config", cfg) == 1
    )
    assert _cli("subscribers", "add", "ada@example.org", "--confirmed", "--config", cfg) == 0
    assert (
        _cli(
            "subscribers",
            "profile",
            "ada@example.org",
            "--keywords",
            "mechanism design, auctions",
            "--categories",
            "cs.GT",
            "--seed-file",
            str(setup / "seeds.jsonl"),
            "--config",
            cfg,
        )
        == 0
    )
    with Store.open(setup / "db.sqlite") as store:
        stored = store.subscriber_profile("ada@example.org")
        assert stored is not None
        assert len(store.profile_seeds(stored.id)) == 20
    exported = setup / "ada.toml"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "digest",
            "subscribers",
            "profile",
            "ada@example.org",
            "--show",
            "--config",
            cfg,
        ],
        capture_output=True,
        text=True,
        cwd=setup,
    )
    assert out.returncode == 0, out.stderr
    assert 'keywords = [\n    "mechanism design",\n    "auctions",\n]' in out.stdout
    exported.write_text(out.stdout.replace("auctions", "matching markets"))
    assert (
        _cli(
            "subscribers", "profile", "ada@example.org", "--import", str(exported), "--config", cfg
        )
        == 0
    )
    with Store.open(setup / "db.sqlite") as store:
        stored = store.subscriber_profile("ada@example.org")
        assert stored is not None and "matching markets" in stored.toml
        # the seeds uploaded before stay: the import names no seed file
        assert len(store.profile_seeds(stored.id)) == 20


def test_feedback_rows_latest_vote_wins(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        store.add_subscriber("ada@example.org", "confirmed")
        day = dt.date(2025, 9, 9)
        store.record_feedback("ada@example.org", "2509.00001", 1, day)
        store.record_feedback("ada@example.org", "2509.00001", -1, day)
        store.record_feedback("ada@example.org", "2509.00002", 1, day)
        assert sorted(store.feedback("ada@example.org")) == [
            ("2509.00001", -1, day),
            ("2509.00002", 1, day),
        ]


@pytest.mark.slow
def test_help_example_works_as_printed(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    help_text = subprocess.run(
        [sys.executable, "-m", "digest", "recommend", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    line = next(x for x in help_text.splitlines() if x.strip().startswith("digest recommend"))
    args = line.split()[2:] + ["--format", "json"]
    assert args[:4] == ["--profile", "examples/personal/profile.toml", "--date", "2025-03-13"]
    proc = subprocess.run(
        [sys.executable, "-m", "digest", "recommend", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    reasons = [r for x in items for r in x["reasons"]]
    assert any(r.startswith("matches: diffusion") for r in reasons)
    assert any(r.startswith("like: ") for r in reasons)


def test_profile_toml_of_a_stored_profile_round_trips() -> None:
    p = Profile(name="x", keywords=("a",), categories=("cs.RO",))
    assert "categories" in profile_to_toml(p)


def test_rank_profiles_in_chunks_equals_one_at_a_time(fixtures: Path) -> None:
    from digest.formats import read_listing
    from digest.personal.batch import rank_profiles

    papers = list(read_listing(fixtures / "personal" / f"{DAY}.jsonl").papers)
    seeds = list(read_seed_file(fixtures / "personal" / "seeds-robotics.jsonl").papers)
    day = Day.of(papers)
    pairs = [
        (Profile(name="a"), fit_model("a", seeds[:10], papers)),
        (Profile(name="k", keywords=("language model",)), fit_model("k", [], papers)),
        (Profile(name="b", exclude=("robot",)), fit_model("b", seeds[10:], papers)),
    ]
    together = list(rank_profiles(pairs, day, top=5, chunk=2))
    alone = [rank_for_profile(p, m, day, top=5) for p, m in pairs]
    assert together == alone
    assert all(len(r) == 5 for r in together)
    assert not any("robot" in x.title.lower() for x in together[2])


def test_terms_reasons_are_words_of_the_paper_not_stems(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    proc = _recommend(
        setup, capsys, 'name = "robots"\nseed_file = "seeds.jsonl"\n', "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in map(json.loads, (setup / f"{DAY}.jsonl").read_text().splitlines())}
    terms = 0
    for item in json.loads(proc.stdout):
        row = rows[item["id"]]
        words = set(re.findall(r"[^\W\d_]+", f"{row['title']} {row['summary']}".lower()))
        for reason in item["reasons"]:
            if reason.startswith("terms: "):
                for term in reason.removeprefix("terms: ").split(", "):
                    terms += 1
                    assert term in words, (term, item["id"])
    assert terms  # the seeds' model names terms
