"""Seed libraries and profiles: formats, broken entries, caps, validation (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.models import Paper
from digest.personal import seeds as seeds_mod
from digest.personal.profile import (
    Profile,
    ProfileError,
    load_profile,
    profile_from_toml,
    profile_to_toml,
)
from digest.personal.seeds import SeedError, read_seed_file, seeds_from_ids

BIB = """\
@article{good1,
  title    = {Mechanism Design for {Online} Auctions},
  author   = {Lovelace, Ada and Babbage, Charles},
  abstract = {We study truthful auctions.},
  eprint   = {2401.12345},
}

@article{broken,
  title = {Broken {entry,
  author = {X}

@misc{good2, title = {Robot Grasping in Clutter}, url = {https://arxiv.org/abs/2402.00001v2}}

@article{notitle, author = {Y}}
"""


def test_bibtex_good_entries_are_used_and_bad_ones_reported_as_file_line(tmp_path: Path) -> None:
    f = tmp_path / "lib.bib"
    f.write_text(BIB)
    lib = read_seed_file(f)
    assert [p.id for p in lib.papers] == ["2401.12345", "2402.00001"]
    assert lib.papers[0].title == "Mechanism Design for Online Auctions"
    assert lib.papers[0].abstract == "We study truthful auctions."
    assert lib.papers[0].authors == ("Lovelace, Ada", "Babbage, Charles")
    assert any(p.startswith(f"{f}:8: unreadable BibTeX entry") for p in lib.problems)
    assert f"{f}:14: entry 'notitle' has no title or arXiv id" in lib.problems
    assert "Unexpected block start" in lib.problems[0]


def test_ris_records_one_at_a_time(tmp_path: Path) -> None:
    f = tmp_path / "lib.ris"
    f.write_text(
        "TY  - JOUR\nTI  - Learning to Walk\nAB  - Legged robots.\nDO  - 10.48550/arXiv.2403.00002\n"
        "ER  - \n\nTY  - JOUR\nTI  - No id here\nAU  - Doe, J\nER  - \n"
    )
    lib = read_seed_file(f)
    assert [p.title for p in lib.papers] == ["Learning to Walk", "No id here"]
    assert lib.papers[0].id == "2403.00002"
    assert lib.papers[0].abstract == "Legged robots."
    assert lib.problems == ()


def test_csl_json(tmp_path: Path) -> None:
    f = tmp_path / "lib.json"
    items = [
        {
            "id": "x1",
            "type": "article",
            "title": "Neural Radiance Fields",
            "abstract": "View synthesis.",
            "author": [{"family": "Mildenhall", "given": "Ben"}],
            "URL": "http://arxiv.org/abs/2003.08934v2",
        },
        {"id": "x2", "type": "article", "author": []},
    ]
    f.write_text(json.dumps(items))
    lib = read_seed_file(f)
    assert [(p.id, p.authors) for p in lib.papers] == [("2003.08934", ("Ben Mildenhall",))]
    assert lib.problems == (f"{f}: item 2: has no title or arXiv id",)


def test_listing_and_id_list_files(tmp_path: Path, fixtures: Path) -> None:
    lib = read_seed_file(fixtures / "personal" / "seeds-robotics.jsonl")
    assert len(lib.papers) == 20 and all(p.abstract and p.categories for p in lib.papers)
    ids = tmp_path / "ids.txt"
    ids.write_text("2401.12345\narXiv:2402.00001v3\n")
    known = {"2401.12345": Paper(id="2401.12345", title="Known", abstract="A.")}
    lib = read_seed_file(ids, lambda wanted: {i: known[i] for i in wanted if i in known})
    assert [p.title for p in lib.papers] == ["Known"]
    assert lib.problems == (
        f"{ids}: unknown arXiv id 2402.00001 (not in the store: ingest a listing that has it)",
    )


def test_seed_ids_unknown_or_malformed_are_reported_not_fatal() -> None:
    lib = seeds_from_ids(["2401.12345", "not an id"], lambda ids: {})
    assert lib.papers == ()
    assert "seed_ids: 'not an id' is not an arXiv id" in lib.problems
    assert any("unknown arXiv id 2401.12345" in p for p in lib.problems)


def test_empty_seed_file_says_so(tmp_path: Path) -> None:
    f = tmp_path / "empty.bib"
    f.write_text("")
    assert read_seed_file(f).problems == (f"{f}: no seed papers in it",)


def test_huge_seed_file_is_refused_with_its_size(tmp_path: Path) -> None:
    f = tmp_path / "huge.bib"
    with f.open("wb") as out:
        out.truncate(seeds_mod.MAX_SEED_BYTES + 1)
    with pytest.raises(SeedError, match=r"huge\.bib: seed file of 16\.0 MB; at most 16 MB"):
        read_seed_file(f)


def test_too_many_entries_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seeds_mod, "MAX_SEEDS", 3)
    f = tmp_path / "many.bib"
    f.write_text("".join(f"@misc{{k{i}, title={{Paper {i}}}}}\n" for i in range(5)))
    lib = read_seed_file(f)
    assert [p.title for p in lib.papers] == ["Paper 0", "Paper 1", "Paper 2"]
    assert lib.problems == (f"{f}: 5 seed papers; only the first 3 are used",)


def test_missing_seed_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="no such seed file"):
        read_seed_file(tmp_path / "nope.bib")
    odd = tmp_path / "odd.json"
    odd.write_text('{"not": "a listing"')
    with pytest.raises(SeedError, match="odd.json"):
        read_seed_file(odd)


# ------------------------------------------------------------------ profiles


def test_profile_toml_relative_seed_file_and_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text('name = "me"\nkeywords = ["a  b", "a b", "C++"]\nseed_file = "lib.bib"\n')
    p = load_profile(f)
    assert p.keywords == ("a b", "C++")
    assert p.seed_file == str(tmp_path / "lib.bib")
    assert profile_from_toml(profile_to_toml(p)) == p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nkeyword = ["a"]\n', "unknown key 'keyword'"),
        ('keywords = ["a"]\n', "'name' must be a non-empty string"),
        ('name = "x"\nkeywords = [1]\n', "'keywords' must be a list of strings"),
        ('name = "x"\nseed_file = 3\n', "'seed_file' must be a path string"),
        ('name = "x"\nkeywords = [\n', "not valid TOML"),
    ],
)
def test_profile_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(f)
    assert str(err.value).startswith(f"{f}: ")
    assert message in str(err.value)


_item = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: " ".join(s.split()) == s and s
)


@given(st.lists(_item, max_size=5, unique=True), st.lists(_item, max_size=5, unique=True))
def test_profile_toml_round_trip_property(keywords: list[str], exclude: list[str]) -> None:
    p = Profile(name="n", keywords=tuple(keywords), exclude=tuple(exclude))
    assert profile_from_toml(profile_to_toml(p)) == p


def test_feedback_moves_a_paper_between_liked_and_disliked() -> None:
    p = Profile(name="n").with_feedback("1", 1).with_feedback("2", -1).with_feedback("1", -1)
    assert p.liked_ids == () and p.disliked_ids == ("2", "1")
    assert p.revision() != Profile(name="n").revision()


@settings(deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip()))
def test_any_keyword_is_plain_text_never_a_pattern(keyword: str) -> None:
    from digest.personal.match import DayTexts

    keyword = " ".join(keyword.split())
    papers = [
        Paper(id="1", title=f"On {keyword} and more", abstract="Text."),
        Paper(id="2", title="Unrelated", abstract="Nothing here."),
    ]
    found = DayTexts.of(papers).matches([keyword])
    # written as is after a space, a keyword is found there, whatever characters it holds
    assert found[0] == [keyword]
    assert len(found) == 2


@settings(deadline=None)
@given(
    st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=5),
    st.text(min_size=1, max_size=12).filter(lambda s: s.strip()),
)
def test_a_day_matches_a_keyword_as_each_paper_alone_does(titles: list[str], keyword: str) -> None:
    # the day is searched as one string: a match across two papers' texts must not count
    from digest.personal.match import DayTexts

    papers = [Paper(id=str(i), title=t, abstract=keyword[: i % 3]) for i, t in enumerate(titles)]
    day = DayTexts.of(papers).papers_matching(keyword)
    alone = {i for i, p in enumerate(papers) if DayTexts.of([p]).papers_matching(keyword)}
    assert day == alone
