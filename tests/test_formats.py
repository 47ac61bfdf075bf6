"""Listing formats: each supported format read into the Listing/Paper model.

The fixtures in tests/fixtures/listings/ are real excerpts; each has a
``<name>.expected.json`` beside it listing what a reader must get out of it
(checked by hand against the source file when the fixture was added).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from digest.errors import InputError
from digest.formats import date_from_name, parse_bytes, read_listing
from digest.formats.base import month_day_date, split_authors
from digest.models import EMPTY, ERROR, OK, clean_space
from digest.sources.file import read_path

LISTINGS = Path(__file__).parent / "fixtures" / "listings"
SEED_COUNTS = {"000": 93, "001": 85, "002": 88, "003": 56, "004": 228}
SEED_DATES = {"000": (3, 13), "001": (3, 14), "002": (3, 12), "003": (3, 11), "004": None}


def _fixture_cases() -> list[tuple[Path, Path]]:
    cases = []
    for expected in sorted(LISTINGS.glob("*.expected.json")):
        stem = expected.name.removesuffix(".expected.json")
        [listing] = [
            p for p in LISTINGS.iterdir() if p.name.split(".")[0] == stem and p != expected
        ]
        cases.append((listing, expected))
    return cases


@pytest.mark.parametrize(("path", "expected_path"), _fixture_cases(), ids=lambda p: p.name)
def test_fixture_reads_as_expected(path: Path, expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    given = expected["given_date"]
    listing = read_listing(path, dt.date.fromisoformat(given) if given else None)
    assert listing.date == dt.date.fromisoformat(expected["date"])
    source_date = expected["source_date"]
    assert listing.source_date == (dt.date.fromisoformat(source_date) if source_date else None)
    assert (listing.kind, listing.status) == (expected["kind"], expected["status"])
    assert len(listing.papers) == expected["count"] == len(expected["papers"])
    for paper, want in zip(listing.papers, expected["papers"], strict=True):
        assert paper.id == want["id"]
        assert paper.title == want["title"]
        assert paper.abstract.startswith(want["abstract_start"])
        assert paper.abstract.endswith(want["abstract_end"])
        assert list(paper.authors) == want["authors"]
        assert list(paper.categories) == want["categories"]
        assert paper.url == want["url"]
        optional = paper.optional_fields()
        for key in ("upvotes", "comments", "code_url", "keywords", "announce_type"):
            assert optional.get(key) == want.get(key), key
        if "ai_summary" in want:
            assert optional["ai_summary"].startswith(want["ai_summary"])


@pytest.mark.parametrize("number", sorted(SEED_COUNTS))
def test_shared_seed_files_hold_the_documented_paper_counts(shared: Path, number: str) -> None:
    [path] = shared.glob(f"seeds/{number}_*.txt")
    listing = read_listing(path, dt.date(2025, 3, 13))
    assert len(listing.papers) == SEED_COUNTS[number]
    assert all(p.title and p.abstract for p in listing.papers)
    # every title is a line of the file and every abstract too: nothing glued or split
    lines = {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
    for p in listing.papers:
        assert p.abstract in lines
        assert p.title in lines or "Subscribe" + p.title in lines
    month_day = SEED_DATES[number]
    if month_day:
        assert listing.source_date == dt.date(2025, *month_day)
    else:
        assert listing.source_date is None


def test_run_together_layout_is_split_at_subscribe(fixtures: Path) -> None:
    listing = read_listing(LISTINGS / "trending_run_together.txt", dt.date(2025, 3, 13))
    assert listing.papers[0].title.startswith("Towards a Universal Vibration Analysis Dataset")
    assert not any("Subscribe" in p.title for p in listing.papers)


def test_titles_shared_between_days_get_the_same_id(shared: Path) -> None:
    by_file = [
        {p.id: p.title for p in read_listing(path, dt.date(2025, 3, 13)).papers}
        for path in sorted(shared.glob("seeds/*.txt"))
    ]
    seen: dict[str, int] = {}
    for ids in by_file:
        for pid in ids:
            seen[pid] = seen.get(pid, 0) + 1
    # the README: 66 titles appear in more than one file
    assert sum(1 for n in seen.values() if n > 1) == 66


def test_year_comes_from_the_given_date_else_latest_not_in_future() -> None:
    assert month_day_date(3, 13, dt.date(2025, 3, 13)) == dt.date(2025, 3, 13)
    assert month_day_date(3, 13, dt.date(2025, 3, 14)) == dt.date(2025, 3, 13)
    assert month_day_date(12, 31, dt.date(2026, 1, 2)) == dt.date(2025, 12, 31)
    assert month_day_date(1, 2, dt.date(2025, 12, 31)) == dt.date(2026, 1, 2)
    today = dt.date.today()
    latest = month_day_date(today.month, today.day, None)
    assert latest == today
    tomorrow = today + dt.timedelta(days=1)
    if (tomorrow.month, tomorrow.day) != (2, 29):
        assert month_day_date(tomorrow.month, tomorrow.day, None).year == tomorrow.year - 1
    assert month_day_date(2, 29, None).day == 29


def test_text_listing_without_given_date_takes_the_latest_past_year() -> None:
    listing = read_listing(LISTINGS / "trending_blank_lines.txt")
    assert listing.date == listing.source_date == month_day_date(3, 13, None)
    assert listing.date <= dt.date.today()


def test_date_precedence_given_then_file_name_then_content(tmp_path: Path) -> None:
    body = (LISTINGS / "hf_daily_3items.json").read_bytes()
    named = tmp_path / "2026-09-05.json"
    named.write_bytes(body)
    assert read_listing(named).date == dt.date(2026, 9, 5)
    assert read_listing(named).source_date == dt.date(2026, 9, 4)
    assert read_listing(named, dt.date(2026, 9, 7)).date == dt.date(2026, 9, 7)
    unnamed = tmp_path / "papers.json"
    unnamed.write_bytes(body)
    assert read_listing(unnamed).date == dt.date(2026, 9, 4)


def test_format_is_detected_from_content_not_name(tmp_path: Path) -> None:
    for fixture, kind in (
        ("arxiv_rss2_4items.xml", "arxiv_rss"),
        ("hf_daily_3items.json", "hf_daily"),
        ("2025-03-18.jsonl.gz", "jsonl"),
        ("trending_blank_lines.txt", "trending_text"),
    ):
        misnamed = tmp_path / "2025-03-18.dat"
        misnamed.write_bytes((LISTINGS / fixture).read_bytes())
        assert read_listing(misnamed).kind == kind


def test_gzip_is_transparent_for_every_format(tmp_path: Path) -> None:
    for fixture in ("arxiv_atom_7items.xml", "hf_daily_3items.json", "trending_blank_lines.txt"):
        plain = read_listing(LISTINGS / fixture, dt.date(2025, 3, 13))
        packed = tmp_path / f"{fixture}.gz"
        packed.write_bytes(gzip.compress((LISTINGS / fixture).read_bytes()))
        assert read_listing(packed, dt.date(2025, 3, 13)).papers == plain.papers


def test_hf_empty_day_is_an_empty_listing() -> None:
    listing = parse_bytes(b"[]", name="reply", day=dt.date(2026, 9, 6), source="hf")
    assert (listing.status, listing.papers, listing.date) == (EMPTY, (), dt.date(2026, 9, 6))


def test_hf_titles_have_whitespace_normalized() -> None:
    item = {
        "paper": {
            "id": "2609.00001",
            "title": "A\n  wrapped   title",
            "summary": "S.",
            "upvotes": 2,
        },
        "title": "A\n  wrapped   title",
        "numComments": 0,
    }
    listing = parse_bytes(
        json.dumps([item]).encode(), name="r", day=dt.date(2026, 9, 6), source="hf"
    )
    [paper] = listing.papers
    assert paper.title == "A wrapped title"
    assert (paper.upvotes, paper.comments, paper.code_url, paper.keywords) == (2, 0, None, ())
    assert paper.url == "https://huggingface.co/papers/2609.00001"


def test_announce_types_choose_which_arxiv_items_are_kept() -> None:
    path = LISTINGS / "arxiv_rss2_4items.xml"
    assert len(read_listing(path, announce_types=None).papers) == 4
    assert len(read_listing(path).papers) == 3  # default: new and cross
    kept = read_listing(path, announce_types=("replace",)).papers
    assert [p.announce_type for p in kept] == ["replace"]
    assert kept[0].id == "2009.13987"  # version dropped from oai:arXiv.org:2009.13987v3


def test_arxiv_abstract_loses_its_prefix() -> None:
    for fixture in ("arxiv_rss2_4items.xml", "arxiv_atom_7items.xml"):
        for p in read_listing(LISTINGS / fixture, announce_types=None).papers:
            assert not p.abstract.startswith("arXiv:")
            assert "Announce Type" not in p.abstract


EMPTY_RSS = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>
<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>
<description>cs.LG updates</description>
<pubDate>Sat, 27 Sep 2026 00:00:00 -0400</pubDate>
</channel></rss>"""


def test_feed_without_items_is_an_empty_listing_dated_by_the_channel() -> None:
    listing = parse_bytes(EMPTY_RSS, name="feed", day=None, source="arxiv", hint="feed")
    assert listing.status == EMPTY
    assert listing.source_date == listing.date == dt.date(2026, 9, 27)


def test_arxiv_channel_date_is_read_in_us_eastern() -> None:
    late = EMPTY_RSS.replace(b"Sat, 27 Sep 2026 00:00:00 -0400", b"Sun, 28 Sep 2026 02:00:00 +0000")
    listing = parse_bytes(late, name="feed", day=None, source="arxiv")
    assert listing.source_date == dt.date(2026, 9, 27)  # 22:00 on the 27th in New York


GENERIC_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Lab papers</title><id>urn:lab</id><updated>2025-05-02T10:00:00Z</updated>
  <entry><title>A paper on arXiv</title><id>urn:1</id>
    <link href="https://arxiv.org/abs/2505.01234v3"/>
    <summary type="html">&lt;p&gt;We &lt;b&gt;show&lt;/b&gt; things.&lt;/p&gt;</summary>
    <author><name>Ada Lovelace</name></author><author><name>Alan Turing</name></author>
  </entry>
  <entry><title>A blog post</title><id>urn:2</id>
    <link href="https://lab.example.org/posts/2"/><summary>Plain text.</summary>
  </entry>
</feed>"""


def test_any_other_atom_feed_works() -> None:
    listing = parse_bytes(GENERIC_ATOM, name="lab", day=None, source="lab")
    assert listing.kind == "feed"
    assert listing.date == dt.date(2025, 5, 2)
    first, second = listing.papers
    assert first.id == "2505.01234" and first.url == "https://arxiv.org/abs/2505.01234v3"
    assert first.abstract == "We show things."
    assert first.authors == ("Ada Lovelace", "Alan Turing")
    assert second.id.startswith("title:") and second.url == "https://lab.example.org/posts/2"


def test_authors_split_on_commas_and_and() -> None:
    assert split_authors("A. One, B. Two and C. Three") == ("A. One", "B. Two", "C. Three")
    assert split_authors("A. One, B. Two, and C. Three") == ("A. One", "B. Two", "C. Three")
    assert split_authors("Solo Author") == ("Solo Author",)
    assert split_authors([{"name": " Spaced  Name "}, {"name": ""}]) == ("Spaced Name",)


def test_listing_without_any_date_asks_for_one() -> None:
    raw = (LISTINGS / "trending_run_together.txt").read_bytes()
    with pytest.raises(InputError, match="no date in this listing; pass --date"):
        parse_bytes(raw, name="004.txt", day=None, source="t")
    jsonl = b'{"id": "2503.00001", "title": "T", "summary": "S."}\n'
    with pytest.raises(InputError, match="pass --date"):
        parse_bytes(jsonl, name="dump.jsonl", day=None, source="t")


def test_date_from_name() -> None:
    assert date_from_name(Path("2025-03-13.jsonl.gz")) == dt.date(2025, 3, 13)
    assert date_from_name(Path("2025-03-13.txt~")) is None
    assert date_from_name(Path("2025-02-30.txt")) is None
    assert date_from_name(Path("notes.txt")) is None


def test_folder_input_reads_the_file_named_for_the_day(tmp_path: Path) -> None:
    (tmp_path / "2025-03-13.txt").write_bytes((LISTINGS / "trending_blank_lines.txt").read_bytes())
    (tmp_path / "2025-03-18.jsonl.gz").write_bytes((LISTINGS / "2025-03-18.jsonl.gz").read_bytes())
    (tmp_path / "README.md").write_text("not a listing")
    day13 = read_path(tmp_path, dt.date(2025, 3, 13), "folder")
    assert (day13.status, len(day13.papers), day13.source) == (OK, 6, "folder")
    assert len(read_path(tmp_path, dt.date(2025, 3, 18), None).papers) == 8
    missing = read_path(tmp_path, dt.date(2025, 3, 14), None)
    assert missing.status == EMPTY and "no listing named 2025-03-14.*" in (missing.error or "")
    (tmp_path / "2025-03-13.json").write_text("[]")
    both = read_path(tmp_path, dt.date(2025, 3, 13), None)
    assert both.status == ERROR and "several listings for 2025-03-13" in (both.error or "")


def test_clean_space_collapses_every_kind_of_whitespace() -> None:
    assert clean_space(" a\n\tb\u00a0 c\r\n") == "a b c"
    assert clean_space("line one\nline two") == "line one line two"
    assert clean_space(None) == ""


def test_read_listings_keeps_order_and_reports_bad_files_in_place(tmp_path: Path) -> None:
    from digest.formats import read_listings

    good = sorted(
        p for p in LISTINGS.iterdir() if p.name.startswith("arxiv_") and p.suffix == ".xml"
    )
    missing = tmp_path / "2025-03-13.json"
    paths = [good[0], missing, good[1]]
    results = list(read_listings(paths, read_ahead=1))
    assert [p for p, _ in results] == paths
    assert isinstance(results[1][1], InputError) and "no such file" in str(results[1][1])
    assert [len(x.papers) for _, x in (results[0], results[2])] == [
        len(read_listing(good[0]).papers),
        len(read_listing(good[1]).papers),
    ]
