"""Property tests for the ``biorxiv`` kind's parser (through the registry, as ``digest run``
calls it): generated replies round-trip; junk only ever raises InputError."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.errors import InputError
from digest.models import clean_space
from digest.sources import registry
from digest.sources.registry import Page, Parse, SourceConfig

DAY = dt.date(2026, 8, 1)
URL = "http://127.0.0.1/details/biorxiv/2026-08-01/2026-08-01/0/json"
KIND = registry.get("biorxiv")
SOURCE = SourceConfig(name="b", kind="biorxiv")
NAME = st.text(
    alphabet=st.characters(categories=("Lu", "Ll"), include_characters=" .-'é\t\n"),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() and ";" not in s)
RECORD = st.fixed_dictionaries(
    {
        "doi": st.integers(100000, 999999).map(lambda n: f"10.1101/2026.08.01.{n}"),
        "title": st.text(min_size=1, max_size=60).filter(lambda s: clean_space(s)),
        "authors": st.lists(NAME, min_size=1, max_size=5),
        "version": st.integers(1, 9).map(str),
        "category": st.sampled_from(["neuroscience", "cell biology", "bioinformatics"]),
        "abstract": st.text(max_size=200),
        "server": st.sampled_from(["bioRxiv", "medrxiv"]),
    }
)


def parse(raw: bytes) -> Page:
    assert KIND.parse is not None
    return KIND.parse(raw, Parse(URL, DAY, SOURCE, None))


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
# titles differ (the parser keeps two preprints of one title; the test finds papers by title)
@given(
    st.lists(RECORD, max_size=8, unique_by=lambda r: clean_space(r["title"])), st.integers(0, 500)
)
def test_a_generated_reply_round_trips(records: list[dict], cursor: int) -> None:
    total = cursor + len(records) + 5
    collection = [dict(r, authors="; ".join(r["authors"])) for r in records]
    reply = {
        "messages": [
            {"status": "ok", "cursor": cursor, "count": len(records), "total": str(total)}
        ],
        "collection": collection,
    }
    page = parse(json.dumps(reply).encode())
    latest: dict[str, dict] = {}
    for r in records:  # one paper a preprint: its latest version
        if r["doi"] not in latest or int(r["version"]) > int(latest[r["doi"]]["version"]):
            latest[r["doi"]] = r
    by_title = {p.title: p for p in page.listing.papers}
    for r in latest.values():
        paper = by_title[clean_space(r["title"])]
        assert paper.categories == (r["category"],)
        assert paper.url.endswith(f"{r['doi']}v{r['version']}")
    for p in page.listing.papers:
        assert all(a == clean_space(a) and a for a in p.authors)
    if records:
        assert page.next_url == URL.replace("/0/json", f"/{cursor + len(records)}/json")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"messages": JSON, "collection": JSON}).map(
            lambda v: json.dumps(v).encode()
        ),
    )
)
def test_junk_only_ever_raises_input_error(raw: bytes) -> None:
    try:
        page = parse(raw)
    except InputError as exc:
        assert "\n" not in str(exc) and URL in str(exc)
    else:
        assert isinstance(page, Page)
