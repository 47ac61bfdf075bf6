"""Issue 11's bad input through the commands a user runs: seed files that are empty or too
big, unknown arXiv ids, keywords with regex metacharacters or LaTeX (``digest subscribers
profile``, ``digest recommend``). The pages' tokens are tests/test_foryou_pages.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_exit import cli

from digest.personal import seeds as seeds_mod
from digest.store import Store

DAY = "2025-09-09"
ADA = "ada@example.org"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli(*args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "c.toml"
    path.write_text(f'output_dir = "{tmp_path / "out"}"\ndatabase = "{tmp_path / "db.sqlite"}"\n')
    return str(path)


def _huge(path: Path) -> Path:
    with path.open("wb") as out:
        out.truncate(seeds_mod.MAX_SEED_BYTES + 1)
    return path


def _stored_toml(config: str) -> str | None:
    db = Path(config).parent / "db.sqlite"
    with Store.open(db) as store:
        stored = store.subscriber_profile(ADA)
        return stored.toml if stored else None


def test_subscriber_seed_problems_are_one_line_each_and_a_huge_file_saves_nothing(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(capsys, "subscribers", "add", ADA, "--confirmed", "--config", config)[0] == 0
    profile = ("subscribers", "profile", ADA, "--config", config)
    assert _cli(capsys, *profile, "--keywords", "robot")[0] == 0
    before = _stored_toml(config)
    assert before is not None and "robot" in before

    huge = _huge(tmp_path / "huge.bib")
    code, _out, err = _cli(capsys, *profile, "--keywords", "auctions", "--seed-file", str(huge))
    assert code == 1
    assert err.strip().splitlines() == [
        f"digest: error: {huge}: seed file of 16.0 MB; at most 16 MB (export a smaller collection)"
    ]
    assert _stored_toml(config) == before  # nothing of that command was kept

    empty = tmp_path / "empty.bib"
    empty.write_text("")
    code, _out, err = _cli(capsys, *profile, "--seed-file", str(empty))
    assert code == 0
    assert err.strip().splitlines() == [
        f"digest: warning: {empty}: no seed papers in it",
        f"profile of {ADA} saved (0 seed papers)",
    ]

    code, _out, err = _cli(capsys, *profile, "--seed-ids", "2599.99999, not-an-id")
    assert code == 0
    assert sorted(err.strip().splitlines()) == [
        "digest: warning: seed_ids: 'not-an-id' is not an arXiv id",
        "digest: warning: seed_ids: unknown arXiv id 2599.99999 "
        "(not in the store: ingest a listing that has it)",
        f"profile of {ADA} saved (0 seed papers)",
    ]


def _listing(tmp_path: Path) -> Path:
    papers = [
        ("2509.00001", "Fast C++ kernels for sparse tensors", "We write C++ code for tensors."),
        ("2509.00002", "Heavy tails of $\\alpha$-stable processes", "On $\\alpha$-stable laws."),
        ("2509.00003", "Stable diffusion with alpha blending", "A stable alpha method."),
        ("2509.00004", "Plain C code for kernels", "C and a bit of regex a.b and ab."),
        ("2509.00005", "Graph neural networks", "Message passing over graphs."),
    ]
    path = tmp_path / f"{DAY}.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": i, "title": t, "summary": s, "authors": ["A B"], "categories": []})
            + "\n"
            for i, t, s in papers
        )
    )
    return path


def _recommend(
    capsys: pytest.CaptureFixture[str], config: str, tmp_path: Path, profile: str
) -> tuple[int, str, str]:
    (tmp_path / "p.toml").write_text(profile)
    return _cli(
        capsys,
        "recommend",
        "--config",
        config,
        "--profile",
        str(tmp_path / "p.toml"),
        "--date",
        DAY,
        "--input",
        str(_listing(tmp_path)),
        "--format",
        "json",
    )


def test_keywords_with_regex_metacharacters_or_latex_match_only_as_written(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # as patterns "C++" and "a.*(b" would not even compile; "$\alpha$-stable" cleaned would
    # be "stable" and meet the third paper
    profile = 'name = "k"\nkeywords = ["C++", "$\\\\alpha$-stable", "a.*(b"]\n'
    code, out, err = _recommend(capsys, config, tmp_path, profile)
    assert code == 0, err
    got = {item["id"]: item["reasons"] for item in json.loads(out)}
    assert got == {
        "2509.00001": ["matches: C++"],
        "2509.00002": ["matches: $\\alpha$-stable"],
    }


def test_recommend_warns_of_unknown_seed_ids_and_refuses_a_huge_seed_file(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _recommend(
        capsys, config, tmp_path, 'name = "u"\nkeywords = ["graph"]\nseed_ids = ["2599.99999"]\n'
    )
    assert code == 0
    assert [item["id"] for item in json.loads(out)] == ["2509.00005"]
    assert "unknown arXiv id 2599.99999" in err and "Traceback" not in err
    _huge(tmp_path / "huge.bib")
    code, out, err = _recommend(
        capsys, config, tmp_path, 'name = "h"\nkeywords = ["graph"]\nseed_file = "huge.bib"\n'
    )
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        f"digest: error: {tmp_path / 'huge.bib'}: seed file of 16.0 MB; at most 16 MB "
        "(export a smaller collection)"
    ]
