"""Subscribers in the store, their CSV import/export and the ``digest subscribers`` commands."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_exit import cli as _cli
from hypothesis import given
from hypothesis import strategies as st

from digest.deliver.csvio import parse_subscribers, write_subscribers
from digest.errors import InputError
from digest.store import Store
from digest.store.subscribers import normalize_email


@pytest.fixture
def store(db_target: Path | str) -> Iterator[Store]:
    """A store on each backend (SQLite, PostgreSQL: see conftest.db_target)."""
    with Store.open(db_target) as s:
        yield s


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Ada@Example.ORG ", "Ada@example.org"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("reader@Bücher.example", "reader@xn--bcher-kva.example"),
    ],
)
def test_addresses_are_normalized(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "plain",
        "a@b",
        "a@@b.org",
        "a b@c.org",
        "x@example.org\nBcc: y@example.org",
        "ü@x.org",
    ],
)
def test_malformed_addresses_are_one_line_input_errors(bad: str) -> None:
    with pytest.raises(InputError) as err:
        normalize_email(bad)
    assert "\n" not in str(err.value)


@given(st.text(max_size=80))
def test_normalize_never_returns_something_unsafe(text: str) -> None:
    try:
        address = normalize_email(text)
    except InputError:
        return
    assert address.isascii() and "\r" not in address and "\n" not in address
    assert address.count("@") == 1
    assert normalize_email(address) == address  # idempotent


@given(
    st.lists(
        st.sampled_from(["a@x.org", "bad", "b@x.org", "", "c@x.org,unknown", "A@X.ORG"]),
        max_size=12,
    )
)
def test_csv_parse_keeps_good_rows_and_reports_every_other(lines: list[str]) -> None:
    parsed = parse_subscribers("\n".join(lines), "pending")
    non_blank = [line for line in lines if line.strip()]
    assert len(parsed.rows) + len(parsed.problems) == len(non_blank)
    assert len({e.lower() for e, _ in parsed.rows}) == len(parsed.rows)


def test_status_lifecycle_and_timestamps(store: Store) -> None:
    sub, created = store.add_subscriber("ada@example.org")
    assert created and sub.status == "pending" and sub.confirmed_at is None
    sub, created = store.add_subscriber("ADA@example.org", "confirmed")  # same address, any case
    assert not created and sub.status == "confirmed" and sub.confirmed_at
    again, _ = store.add_subscriber("ada@example.org", "pending")
    assert again.status == "confirmed"  # a repeated sign-up never undoes a confirmation
    gone = store.set_subscriber_status("ada@example.org", "unsubscribed")
    assert gone is not None and gone.status == "unsubscribed" and gone.unsubscribed_at
    assert store.count_subscribers() == 1
    assert store.remove_subscriber("ada@example.org")
    assert not store.remove_subscriber("ada@example.org")
    assert store.subscriber("ada@example.org") is None


def test_import_never_changes_existing_subscribers(store: Store) -> None:
    store.add_subscriber("left@example.org", "unsubscribed")
    added, present = store.import_subscribers(
        [("left@example.org", "confirmed"), ("new@example.org", "confirmed")]
    )
    assert (added, present) == (1, 1)
    left = store.subscriber("left@example.org")
    assert left is not None and left.status == "unsubscribed"


def test_subscribers_are_listed_in_batches_in_id_order(store: Store) -> None:
    store.import_subscribers((f"r{i}@example.org", "confirmed") for i in range(25))
    emails = [s.email for s in store.subscribers("confirmed", batch=7)]
    assert emails == [f"r{i}@example.org" for i in range(25)]


def test_rate_limit_counts_within_the_window(store: Store) -> None:
    hits = [store.hit_rate_limit("client:1", 3, 60, now=1000.0 + i) for i in range(5)]
    assert hits == [False, False, False, True, True]
    assert store.hit_rate_limit("client:2", 3, 60, now=1005.0) is False  # other keys unaffected
    assert store.hit_rate_limit("client:1", 3, 60, now=1061.5) is False  # the first ones expired


def test_cli_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli("subscribers", "add", "ada@example.org", "--confirmed") == 0
    assert _cli("subscribers", "add", "bob@example.org") == 0
    assert _cli("subscribers", "list", "--status", "confirmed") == 0
    out = capsys.readouterr()
    assert "added ada@example.org: confirmed" in out.out
    assert [line.split("\t")[0] for line in out.out.splitlines() if "\t" in line] == [
        "ada@example.org"
    ]
    assert _cli("subscribers", "add", "not an address") == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("digest: error: 'not an address' is not a valid email address")
        and err.count("\n") == 1
    )
    assert _cli("subscribers", "remove", "bob@example.org") == 0
    assert _cli("subscribers", "remove", "bob@example.org") == 1
    assert "bob@example.org is not a subscriber" in capsys.readouterr().err


def test_cli_import_reports_junk_rows_and_imports_the_good(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "Name,Email,Status\n"
        "Ada,ada@example.org,confirmed\n"
        "Junk,not-an-email,\n"
        "Bob,bob@example.org,\n"
        "Weird,weird@example.org,vip\n"
        ",,\n"
        "Short\n"
        "Ada again,ADA@example.org,\n"
        'Cat,"cat@example.org",unsubscribed\n',
        encoding="utf-8",
    )
    assert _cli("subscribers", "import", str(people)) == 1
    out = capsys.readouterr()
    assert "imported 3 new subscribers, 0 already present, 4 rows skipped" in out.out
    problems = out.err.splitlines()
    assert [p.split("people.csv:")[1].split(":")[0] for p in problems] == ["3", "5", "7", "8"]
    assert "not a valid email address" in problems[0] and "unknown status 'vip'" in problems[1]
    assert "appears earlier" in problems[3]
    assert _cli("subscribers", "export") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(r["email"], r["status"]) for r in rows} == {
        ("ada@example.org", "confirmed"),
        ("bob@example.org", "pending"),
        ("cat@example.org", "unsubscribed"),
    }


def test_import_without_header_and_confirmed_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("ada@example.org\nbob@example.org;extra\n\ncat@example.org,whatever\n")
    assert _cli("subscribers", "import", str(plain), "--confirmed") == 1
    assert "imported 2 new subscribers" in capsys.readouterr().out
    with Store.open(tmp_path / "var" / "output.sqlite") as store:
        assert [s.email for s in store.subscribers("confirmed")] == [
            "ada@example.org",
            "cat@example.org",
        ]


def test_import_of_unreadable_files_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli("subscribers", "import", str(tmp_path / "missing.csv")) == 1
    assert "missing.csv: file not found" in capsys.readouterr().err
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\xe9@example.org\n".encode("latin-1"))
    assert _cli("subscribers", "import", str(latin)) == 1
    assert "not UTF-8" in capsys.readouterr().err


def test_export_round_trips_through_import(store: Store, tmp_path: Path) -> None:
    store.import_subscribers([("a@example.org", "confirmed"), ("b@example.org", "bouncing")])
    out = io.StringIO()
    assert write_subscribers(out, store.subscribers()) == 2
    parsed = parse_subscribers(out.getvalue(), "pending")
    assert parsed.problems == ()
    assert parsed.rows == (("a@example.org", "confirmed"), ("b@example.org", "bouncing"))
