"""The papers store: deduplication, appearances, idempotent saves, schema versions, atomicity."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import time_machine

from digest.errors import DigestError
from digest.formats import read_listing
from digest.models import EMPTY, ERROR, NOT_MODIFIED, OK, Listing, Paper, paper_key
from digest.store import Store

D1, D2, D3 = dt.date(2025, 3, 11), dt.date(2025, 3, 12), dt.date(2025, 3, 13)


def arxiv(aid: str, title: str, **kw: object) -> Paper:
    return Paper(id=aid, title=title, abstract=f"Abstract of {title}.", **kw)  # type: ignore[arg-type]


def titled(title: str, **kw: object) -> Paper:
    return Paper(id=paper_key(None, title), title=title, **kw)  # type: ignore[arg-type]


def listing(
    day: dt.date, source: str, *papers: Paper, status: str = OK, error: str | None = None
) -> Listing:
    return Listing(day, source, "test", tuple(papers), status, error)


def dump(store: Store) -> list[str]:
    """Every row of every table (PostgreSQL: each table's rows, sorted)."""
    if store.backend.name == "sqlite":
        return list(store.conn.iterdump())
    tables = store.conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() ORDER BY 1"
    )
    return [
        f"{t}: {sorted(repr(tuple(r)) for r in store.conn.execute(f'SELECT * FROM {t}'))}"
        for (t,) in tables.fetchall()
    ]


@pytest.fixture
def store(db_target: Path | str):
    """A store on each backend (SQLite, PostgreSQL: see conftest.db_target)."""
    with Store.open(db_target) as s:
        yield s


def test_one_paper_across_sources_and_days_keeps_every_appearance(store: Store) -> None:
    store.save_listing(listing(D1, "arxiv", arxiv("2503.00001", "Deep Nets")))
    store.save_listing(listing(D2, "hf", arxiv("2503.00001", "Deep Nets", upvotes=5)))
    store.save_listing(
        listing(D2, "arxiv", arxiv("2503.00002", "Other"), arxiv("2503.00001", "Deep Nets"))
    )
    assert store.count_papers() == 2
    [day1] = store.day_papers(D1)
    assert (day1.seen_days, day1.sources) == (1, ("arxiv",))
    by_id = {d.paper.id: d for d in store.day_papers(D2)}
    deep = by_id["2503.00001"]
    assert deep.sources == ("arxiv", "hf")
    assert deep.seen_days == 2
    assert deep.position == 0  # best position of the day (first in hf)
    assert deep.paper.upvotes == 5


def test_title_keyed_paper_is_merged_into_its_arxiv_id(store: Store) -> None:
    store.save_listing(listing(D1, "trending", titled("Deep Nets: A Study"), titled("Unrelated")))
    result = store.save_listing(listing(D2, "arxiv", arxiv("2503.00001", "deep nets -- a study")))
    assert result.new_papers == 0  # known already, by title
    assert store.count_papers() == 2
    [first] = [d for d in store.day_papers(D1) if d.paper.title == "Deep Nets: A Study"]
    assert first.paper.id == "2503.00001"  # the history moved onto the arXiv id
    [second] = store.day_papers(D2)
    assert second.seen_days == 2
    # a title-only listing afterwards lands on the arXiv id too
    store.save_listing(listing(D3, "trending", titled("DEEP NETS: a study")))
    [third] = store.day_papers(D3)
    assert (third.paper.id, third.seen_days) == ("2503.00001", 3)
    assert store.count_papers() == 2


def test_a_merged_title_keyed_paper_leaves_no_stored_tokens(store: Store) -> None:
    old = titled("Deep Nets: A Study")
    store.save_listing(listing(D1, "trending", old))
    store.save_paper_tokens([(old.id, "key", "deep net studi")])
    store.save_listing(listing(D2, "arxiv", arxiv("2503.00001", "deep nets -- a study")))
    assert store.paper_tokens([old.id]) == {}


def test_title_keyed_and_arxiv_versions_merge_when_both_are_stored(store: Store) -> None:
    store.save_listing(listing(D1, "trending", titled("Same Title")))
    store.save_listing(listing(D1, "other", arxiv("2503.00009", "Unrelated")))
    # the arXiv row exists already under its id when the title match is found
    store.save_listing(listing(D2, "arxiv", arxiv("2503.00001", "Same Title")))
    store.save_listing(listing(D3, "trending", titled("Same Title")))
    ids = {d.paper.id for day in (D1, D2, D3) for d in store.day_papers(day)}
    assert ids == {"2503.00001", "2503.00009"}


def test_title_and_arxiv_versions_in_one_listing_are_one_paper(store: Store) -> None:
    result = store.save_listing(
        listing(D1, "mixed", titled("Same Title"), arxiv("2503.00001", "Same Title"))
    )
    assert (result.papers, result.duplicates) == (1, 1)
    assert [d.paper.id for d in store.day_papers(D1)] == ["2503.00001"]


def test_re_ingesting_changes_nothing(store: Store, tmp_path: Path) -> None:
    first = listing(D1, "a", arxiv("2503.00001", "One", keywords=("k1",)), titled("Two"))
    second = listing(D1, "b", arxiv("2503.00001", "One", keywords=("k2",)))
    store.save_listing(first)
    store.save_listing(second)
    before = dump(store)
    again = store.save_listing(first)
    assert again.unchanged
    store.save_listing(second)
    assert dump(store) == before


def test_re_ingesting_real_files_changes_nothing(store: Store, fixtures: Path) -> None:
    paths = sorted((fixtures / "listings").glob("*.*"))
    paths = [p for p in paths if not p.name.endswith(".expected.json")]
    for path in paths:
        store.save_listing(read_listing(path, D3))
    before = dump(store)
    for path in paths:
        assert store.save_listing(read_listing(path, D3)).unchanged
    assert dump(store) == before


def test_a_changed_listing_replaces_the_appearances_of_that_day_and_source(store: Store) -> None:
    store.save_listing(listing(D1, "a", arxiv("2503.00001", "One"), arxiv("2503.00002", "Two")))
    store.save_listing(listing(D1, "a", arxiv("2503.00002", "Two")))
    assert [(d.paper.id, d.position) for d in store.day_papers(D1)] == [("2503.00002", 0)]
    assert store.count_papers() == 2  # papers stay; only the appearance went


def test_failed_empty_or_not_modified_listing_never_erases_a_good_one(store: Store) -> None:
    store.save_listing(listing(D1, "a", arxiv("2503.00001", "One")))
    before = dump(store)
    assert store.save_listing(listing(D1, "a", status=ERROR, error="HTTP 500")).unchanged
    assert store.save_listing(listing(D1, "a", status=EMPTY)).unchanged
    assert store.save_listing(listing(D1, "a", status=NOT_MODIFIED)).unchanged
    assert dump(store) == before
    assert store.listings_for(D1)[0]["status"] == OK


def test_a_failed_listing_is_recorded_when_nothing_was_stored(store: Store) -> None:
    store.save_listing(listing(D1, "a", status=ERROR, error="HTTP 500"))
    [row] = store.listings_for(D1)
    assert (row["status"], row["error"], row["papers"]) == (ERROR, "HTTP 500", 0)
    store.save_listing(listing(D1, "a", arxiv("2503.00001", "One")))
    assert store.listings_for(D1)[0]["status"] == OK


def test_a_failure_in_the_middle_of_a_save_leaves_the_database_unchanged(store: Store) -> None:
    store.save_listing(listing(D1, "a", arxiv("2503.00001", "One")))
    before = dump(store)
    # the papers are written before the appearances; an upvote count neither engine can
    # hold makes the appearances insert fail after the papers went in (SQLite: OverflowError)
    bad = listing(D1, "a", arxiv("2503.00002", "Two"), arxiv("2503.00003", "Three", upvotes=2**70))
    with pytest.raises((OverflowError, *store.backend.errors())):
        store.save_listing(bad)
    assert dump(store) == before
    store.save_listing(listing(D2, "a", arxiv("2503.00004", "Four")))  # still usable
    assert store.count_papers() == 2


def test_save_result_counts(store: Store) -> None:
    r1 = store.save_listing(
        listing(D1, "a", arxiv("2503.00001", "One"), arxiv("2503.00002", "Two"))
    )
    r2 = store.save_listing(
        listing(
            D2,
            "a",
            arxiv("2503.00002", "Two"),
            arxiv("2503.00003", "Three"),
            arxiv("2503.00003", "Three"),
        )
    )
    assert (r1.papers, r1.new_papers, r1.duplicates) == (2, 2, 0)
    assert (r2.papers, r2.new_papers, r2.duplicates) == (2, 1, 1)


def test_fields_are_merged_not_lost(store: Store) -> None:
    store.save_listing(
        listing(D1, "arxiv", arxiv("2503.00001", "One", categories=("cs.LG",), authors=("A",)))
    )
    store.save_listing(
        listing(
            D2,
            "hf",
            Paper("2503.00001", "One", code_url="https://github.com/x/y", keywords=("kw",)),
        )
    )
    [paper] = [d.paper for d in store.day_papers(D2)]
    assert paper.abstract == "Abstract of One."  # the shorter (empty) abstract did not win
    assert (paper.categories, paper.authors) == (("cs.LG",), ("A",))
    assert (paper.code_url, paper.keywords) == ("https://github.com/x/y", ("kw",))


def test_text_is_stored_verbatim(store: Store) -> None:
    title = "<script>alert(1)</script> $CO_2$ \\textit{x} 😀 café"
    store.save_listing(listing(D1, "a", arxiv("2503.00001", title, authors=("Zoë", "李"))))
    [paper] = [d.paper for d in store.day_papers(D1)]
    assert (paper.title, paper.authors) == (title, ("Zoë", "李"))


def test_reopening_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with Store.open(path) as store:
        store.save_listing(listing(D1, "a", arxiv("2503.00001", "One")))
        before = dump(store)
    with Store.open(path) as store:
        assert dump(store) == before
        versions = dict(store.conn.execute("SELECT component, version FROM schema_versions"))
        from digest.store import COMPONENTS

        assert versions == {name: len(migrations) for name, migrations in COMPONENTS}


def test_a_database_newer_than_the_code_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_versions SET version = version + 1 WHERE component = 'papers'")
    conn.commit()
    conn.close()
    with pytest.raises(DigestError, match="newer than this digest.*upgrade digest"):
        Store.open(path)


def test_a_database_from_before_the_checksum_column_is_migrated(tmp_path: Path) -> None:
    from digest.store import db, papers

    path = tmp_path / "db.sqlite"
    conn = db.connect(path)
    db.migrate(conn, "papers", papers.MIGRATIONS[:1])
    conn.execute(
        "INSERT INTO listings(date, source, kind, status, error, papers, saved_at) "
        "VALUES ('2025-03-11', 'a', 'jsonl', 'ok', NULL, 0, 'then')"
    )
    conn.close()
    with Store.open(path) as store:
        assert store.listings_for(D1)[0]["source"] == "a"
        store.save_listing(listing(D1, "a", arxiv("2503.00001", "One")))
        assert store.save_listing(listing(D1, "a", arxiv("2503.00001", "One"))).unchanged


def test_an_equal_listing_is_unchanged_however_its_strings_are_shared(store: Store) -> None:
    # one string object used twice, as a parser may hand it over, against equal copies:
    # a fingerprint of the values, not of how Python laid them out (marshal's was not)
    text = "".join(["Robots ", "grasp"])
    shared = Paper(id="2503.00001", title=text, abstract=text, authors=(text,))
    copies = Paper(
        id="2503.00001",
        title="".join(["Robots ", "grasp"]),
        abstract="".join(["Robots", " grasp"]),
        authors=("".join(["Robot", "s grasp"]),),
    )
    store.save_listing(listing(D1, "a", shared))
    assert store.save_listing(listing(D1, "a", copies)).unchanged


# the clock stands still: the re-save stamps the listing again, and on a loaded machine it
# could fall in the next second (a flake, not a difference of rows)
@time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=False)
def test_a_store_with_the_old_marshal_checksums_saves_each_listing_once_more(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    one = listing(D1, "a", arxiv("2503.00001", "One", keywords=("k",)), titled("Two"))
    with Store.open(path) as store:
        store.save_listing(one)
        before = dump(store)
    # as a store written by a release that fingerprinted listings with sha1(marshal(...))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE listings SET checksum = ?", ("9" * 40,))
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert not store.save_listing(one).unchanged  # written once more, the same rows
        assert dump(store) == before
        assert store.save_listing(one).unchanged  # and never again
        assert store.save_listing(one).unchanged


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DigestError, match="db.sqlite: file is not a database: check database"):
        Store.open(path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DigestError, match="cannot (open|create)"):
        Store.open(blocker / "sub" / "db.sqlite")


def test_real_daily_dumps_dedup_to_the_distinct_arxiv_ids(store: Store, shared: Path) -> None:
    paths = sorted((shared / "data" / "arxiv-daily").glob("*.jsonl.gz"))[:5]
    ids: set[str] = set()
    rows = 0
    for path in paths:
        parsed = read_listing(path)
        rows += len(parsed.papers)
        ids.update(p.id for p in parsed.papers)
        store.save_listing(parsed)
    assert store.count_papers() == len(ids) < rows
    assert store.listing_dates() == [dt.date.fromisoformat(p.name[:10]) for p in paths]


def test_papers_by_day_shows_a_later_listing_s_longer_abstract_and_that_day_s_counts(
    store: Store,
) -> None:
    """A paper read for one window shows a later listing's change in the next window read."""
    store.save_listing(listing(D1, "arxiv", arxiv("2503.00001", "A"), arxiv("2503.00002", "B")))
    first = store.papers_by_day(D1, D1)[D1]
    assert [p.abstract for p in first] == ["Abstract of A.", "Abstract of B."]
    longer = Paper(
        id="2503.00001", title="A", abstract="Abstract of A, now much longer.", upvotes=7
    )
    store.save_listing(listing(D2, "hf", longer))
    window = store.papers_by_day(D1, D2)
    assert [p.abstract for p in window[D1]] == ["Abstract of A, now much longer.", "Abstract of B."]
    assert [(p.id, p.upvotes) for p in window[D1]] == [("2503.00001", None), ("2503.00002", None)]
    assert [(p.id, p.upvotes) for p in window[D2]] == [("2503.00001", 7)]
    assert window[D1][1] == first[1]  # unchanged


def test_each_day_reads_paper_fields_as_of_that_day_even_when_later_days_are_stored(
    store: Store,
) -> None:
    """A backfill stores every day before producing them: a later listing's longer abstract or
    new code link must not show in an earlier day's papers or in its trailing window."""
    short = arxiv("2503.00001", "A")
    longer = Paper(
        id="2503.00001",
        title="A",
        abstract="Abstract of A, now much longer.",
        code_url="https://github.com/a/a",
    )
    store.save_listing(listing(D1, "arxiv", short, arxiv("2503.00002", "B")))
    store.save_listing(listing(D2, "arxiv", arxiv("2503.00003", "C")))
    store.save_listing(listing(D3, "arxiv", longer))
    [day1, _] = store.day_papers(D1)
    assert (day1.paper.abstract, day1.paper.code_url) == ("Abstract of A.", None)
    window = store.papers_by_day(D1, D2)  # the window of D3: D3's listing is seen
    assert window[D1][0].abstract == "Abstract of A, now much longer."
    window = store.papers_by_day(D1, D1)  # the window of D2: it is not
    assert (window[D1][0].abstract, window[D1][0].code_url) == ("Abstract of A.", None)
    assert store.papers_by_day(D1, D1, as_of=D3)[D1][0].code_url == "https://github.com/a/a"
    [day3] = store.day_papers(D3)
    assert (day3.paper.abstract, day3.paper.code_url) == (longer.abstract, longer.code_url)


def test_a_listing_saved_out_of_date_order_changes_the_paper_for_every_day(store: Store) -> None:
    store.save_listing(listing(D3, "arxiv", arxiv("2503.00001", "A")))
    longer = Paper(id="2503.00001", title="A", abstract="Abstract of A, now much longer.")
    store.save_listing(listing(D1, "arxiv", longer))  # the past, saved late: merged as before
    assert [d.paper.abstract for d in store.day_papers(D3)] == [longer.abstract]
    assert [d.paper.abstract for d in store.day_papers(D1)] == [longer.abstract]


def test_a_paper_changed_by_another_process_is_read_again(
    store: Store, db_target: Path | str
) -> None:
    """Decoded papers are kept per process; a change made through another connection shows."""
    store.save_listing(listing(D1, "arxiv", arxiv("2503.00001", "A")))
    assert store.papers_by_day(D1, D1)[D1][0].keywords == ()
    with Store.open(db_target) as other:
        other.save_listing(listing(D1, "hf", Paper("2503.00001", "A", keywords=("kw",))))
    assert store.papers_by_day(D1, D1)[D1][0].keywords == ("kw",)
    assert [d.paper.keywords for d in store.day_papers(D1)] == [("kw",)]


def test_a_database_from_before_paper_revisions_is_migrated(tmp_path: Path) -> None:
    from digest.store import db, papers

    path = tmp_path / "db.sqlite"
    conn = db.connect(path)
    db.migrate(conn, "papers", papers.MIGRATIONS[:2])
    conn.execute(
        "INSERT INTO papers(id, title, title_key, abstract, first_seen) "
        "VALUES ('2503.00001', 'A', 'a', 'Old.', '2025-03-11')"
    )
    conn.execute(
        "INSERT INTO appearances(paper_id, date, source, position) "
        "VALUES ('2503.00001', '2025-03-11', 'a', 0)"
    )
    conn.execute(
        "INSERT INTO listings(date, source, kind, status, papers, saved_at) "
        "VALUES ('2025-03-11', 'a', 'jsonl', 'ok', 1, 'then')"
    )
    conn.close()
    with Store.open(path) as store:
        assert [d.paper.abstract for d in store.day_papers(D1)] == ["Old."]
        store.save_listing(listing(D2, "b", Paper("2503.00001", "A", abstract="Old, longer.")))
        assert [d.paper.abstract for d in store.day_papers(D1)] == ["Old."]
        assert [d.paper.abstract for d in store.day_papers(D2)] == ["Old, longer."]
