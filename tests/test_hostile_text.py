"""Hostile text in a listing (control characters, noncharacters, bidi overrides) never
reaches the store or the feeds: every text field is cleaned to the XML 1.0 character set
at ingest, so feed.xml and papers.xml stay well-formed whatever a source sends."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import pipeline
from digest.cli import cli
from digest.config import Config
from digest.errors import InputError
from digest.formats import parse_bytes
from digest.models import SourceStatus, clean_space
from digest.render import render_site
from digest.store import Store

DAY = dt.date(2025, 3, 13)
# what may not be in any stored text: XML 1.0's forbidden characters and the bidi controls
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]"
)
HOSTILE_TITLE = (
    "Attention\x00 is all\x1b[31m you \ufffeneed\uffff \u202egnp.exe\u202c \u2066x\u2069"
)


def _assert_well_formed(xml_text: str, name: str) -> None:
    ET.fromstring(xml_text.encode("utf-8"))  # expat: a forbidden character is an error
    parsed = feedparser.parse(xml_text)
    assert not parsed.bozo, (name, parsed.get("bozo_exception"))
    assert not FORBIDDEN.search(xml_text), name


def _row(n: int, title: str, **extra: object) -> dict:
    return {
        "id": f"2503.{10000 + n}",
        "title": title,
        "summary": f"Abstract {n} about\x07 transformers\x00 and attention \u202e here.",
        "authors": ["Ada\x00 Lovelace", "\u202eAlan Turing"],
        "categories": ["cs.LG\x1b"],
        "abs": f"https://arxiv.org/abs/2503.{10000 + n}\x00",
        **extra,
    }


def test_hostile_characters_in_a_listing_leave_both_feeds_well_formed(tmp_path: Path) -> None:
    rows = [_row(0, HOSTILE_TITLE, ai_summary="Sum\x0bmary\ufffe.", keywords=["k\x01ey"])]
    rows += [_row(n, f"Paper {n} on attention\x1b and transformers") for n in range(1, 6)]
    listing = tmp_path / "2025-03-13.jsonl"
    listing.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "site"
    config = tmp_path / "digest.toml"
    config.write_text(f'output_dir = "{out}"\ndatabase = "{tmp_path / "d.sqlite"}"\n')
    result = CliRunner().invoke(
        cli, ["run", "--config", str(config), "--input", str(listing), "--date", "2025-03-13"]
    )
    assert result.exit_code == 0, result.output
    for name in ("feed.xml", "papers.xml"):
        _assert_well_formed((out / name).read_text(encoding="utf-8"), name)
    papers = json.loads((out / "2025-03-13" / "digest.json").read_text(encoding="utf-8"))
    assert not FORBIDDEN.search(json.dumps(papers, ensure_ascii=False))
    titles = [p["title"] for p in papers["papers"]]
    assert "Attention is all[31m you need gnp.exe x" in titles


def test_clean_space_drops_every_forbidden_character_and_keeps_the_rest() -> None:
    assert clean_space(HOSTILE_TITLE) == "Attention is all[31m you need gnp.exe x"
    assert clean_space("a \x00 b\x0bc") == "a b c"  # no double space where a control was
    assert clean_space("Sch\u00f6n \U0001f600 \u05e9\u05dc\u05d5\u05dd") == (
        "Sch\u00f6n \U0001f600 \u05e9\u05dc\u05d5\u05dd"
    )


ANY_TEXT = st.text(st.characters(codec=None), max_size=40)
ROW = st.fixed_dictionaries(
    {
        "title": ANY_TEXT.map(lambda t: "T " + t),
        "summary": ANY_TEXT,
        "authors": st.lists(ANY_TEXT, max_size=3),
        "categories": st.lists(ANY_TEXT, max_size=2),
        "keywords": st.lists(ANY_TEXT, max_size=2),
        "ai_summary": ANY_TEXT,
        "abs": ANY_TEXT,
    }
)


def _encode(rows: list[dict], layout: str) -> bytes:
    if layout == "jsonl":  # ensure_ascii: even lone surrogates travel as \\ud800 escapes
        return "".join(json.dumps(r) + "\n" for r in rows).encode()
    if layout == "json":
        return json.dumps(
            [{"paper": {**r, "id": f"2503.{i:05d}"}} for i, r in enumerate(rows)]
        ).encode()
    blocks = "".join(f"{r['title']}\n\n{r['summary'] or 'x'}\n\n" for r in rows)
    page = f"Get trending papers in your email inbox!\n\nMar 13\n\n{blocks}"
    return page.encode("utf-8", errors="surrogatepass")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=4), st.sampled_from(["jsonl", "json", "text"]))
def test_any_listing_text_yields_well_formed_feeds(rows: list[dict], layout: str) -> None:
    raw = _encode(rows, layout)
    with contextlib.suppress(InputError):  # unreadable input is refused; that is fine too
        listing = parse_bytes(raw, name="p", day=DAY, source="s")
        for paper in listing.papers:
            for value in (paper.title, paper.abstract, paper.url, paper.code_url or ""):
                assert not FORBIDDEN.search(value)
            for value in (*paper.authors, *paper.categories, *paper.keywords):
                assert not FORBIDDEN.search(value)
            assert not FORBIDDEN.search(paper.ai_summary or "")
        config = Config()
        with Store.open(":memory:") as store:
            pipeline.store_listings(store, [listing], DAY)
            status = SourceStatus("s", "file", "ok", len(listing.papers), None)
            digest = pipeline.build_digest(store, config, DAY, [status])
        site = render_site([digest], config)
        _assert_well_formed(site.feed_xml, "feed.xml")
        _assert_well_formed(site.papers_xml, "papers.xml")
