"""The store's http_cache: validators and the last good body per URL, bounded in age."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from digest.store import HttpCacheEntry, Store
from digest.store.http_cache import KEEP

NOW = dt.datetime(2026, 9, 24, 9, 0, tzinfo=dt.UTC)


def test_round_trip_survives_reopening(tmp_path: Path) -> None:
    body = "Ünïcode and bytes \x00\xff".encode() * 1000
    with Store.open(tmp_path / "s.sqlite") as store:
        store.http_cache_put(HttpCacheEntry("https://a/x", body, '"e1"', "Thu, 24 Sep 2026", NOW))
    with Store.open(tmp_path / "s.sqlite") as store:
        got = store.http_cache_get("https://a/x")
        assert store.http_cache_get("https://a/other") is None
    assert got == HttpCacheEntry("https://a/x", body, '"e1"', "Thu, 24 Sep 2026", NOW)
    assert got.has_validators


def test_a_newer_reply_replaces_the_old_one(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.http_cache_put(HttpCacheEntry("u", b"old", '"1"', None, NOW))
        store.http_cache_put(HttpCacheEntry("u", b"new", None, "Fri", NOW))
        got = store.http_cache_get("u")
    assert got is not None
    assert (got.body, got.etag, got.last_modified) == (b"new", None, "Fri")


def test_entries_older_than_keep_are_pruned_on_save(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.http_cache_put(HttpCacheEntry("old", b"1", '"o"', None, NOW - KEEP - dt.timedelta(1)))
        store.http_cache_put(
            HttpCacheEntry("recent", b"2", '"r"', None, NOW - KEEP + dt.timedelta(1))
        )
        assert store.http_cache_get("old") is not None  # nothing pruned until a save
        store.http_cache_put(HttpCacheEntry("today", b"3", '"t"', None, NOW))
        assert store.http_cache_get("old") is None
        assert store.http_cache_get("recent") is not None


def test_a_damaged_body_counts_as_no_entry(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.http_cache_put(HttpCacheEntry("u", b"body", '"1"', None, NOW))
        store.conn.execute("UPDATE http_cache SET body = ? WHERE url = 'u'", (b"not zlib",))
        assert store.http_cache_get("u") is None
