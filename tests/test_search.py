"""Archive search: Pagefind's index built at publish time, one bundle per month of day pages
rebuilt only when its pages change, and a real browser finding a paper in any of them.

The browser tests type a query into the archive page in headless Debian chromium (driven by
Playwright, which uses that chromium: it downloads no browser) and follow the result, once
from ``digest serve`` and once from a plain static file server with the site in a subfolder.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from smtp_fixture_server import DAY, SECRET, free_port, produce_digest, write_config

from digest import pipeline, search
from digest.config import Config, load_config
from digest.render.screenshots import find_chromium

TITLES = [
    "Zeolite catalysts screened by graph networks",
    "Graph networks for protein folding",
    "Sparse attention for long documents",
]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


OLD_DAY = dt.date(2025, 4, 15)  # two months before DAY: another bundle
OLD_TITLES = ["Basalt weathering measured by drones", "Coral reef acoustics at night"]


def _site(root: Path) -> Config:
    config = load_config(write_config(root, None))
    _produce_day(root, config, OLD_DAY, OLD_TITLES)
    produce_digest(root, config, TITLES)
    return config


def _produce_day(root: Path, config: Config, day: dt.date, titles: list[str]) -> None:
    """``digest run`` of ``day`` with these papers (ids of their own: another day's
    listing)."""
    listing = root / f"{day}.jsonl"
    listing.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"{day:%y%m}.{i + 1:05d}v1",
                    "title": title,
                    "summary": f"We measure {title.lower()}, case {i}.",
                    "authors": ["Mary Anning"],
                }
            )
            + "\n"
            for i, title in enumerate(titles)
        )
    )
    pipeline.run(config, day, [listing])


def _bundle_files(out: Path, bundle: str) -> dict[str, int]:
    """``{file: mtime_ns}`` of a bundle's files."""
    folder = out / "pagefind" / bundle
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _digest(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


# ------------------------------------------------------------------ the index


def test_publishing_builds_the_search_index_through_the_writer(tmp_path: Path) -> None:
    assert search.pagefind_binary() is not None, "pagefind[bin] is a dependency"
    config = _site(tmp_path)
    out = config.output_path
    manifest = json.loads((out / "pagefind" / "bundles.json").read_text("utf-8"))
    # the topic pages' bundle first (the primary), then the months, newest first
    # the newest week of the newest month in pieces (June 2: days 1 and 2 make one)
    assert manifest["bundles"] == ["site/", "2025-06-days01-02/", "2025-04/"]
    for bundle in manifest["bundles"]:
        assert (out / "pagefind" / bundle / "pagefind-entry.json").is_file()
        assert (out / "pagefind" / bundle / "pagefind-ui.js").is_file()
        assert (out / "pagefind" / bundle / "pagefind-entry.json").stat().st_mode & 0o777 == 0o644
    pages = json.loads((out / "pagefind" / "2025-04" / "digest-pages.json").read_text("utf-8"))
    assert list(pages["pages"]) == [f"{OLD_DAY}/index.html"]
    assert (out / "search.js").is_file()
    assert not list(out.rglob(".*.tmp"))
    page = (out / DAY.isoformat() / "index.html").read_text("utf-8")
    assert "data-pagefind-body" in page and 'src="../search.js"' in page
    archive = (out / "index.html").read_text("utf-8")
    assert 'src="search.js"' in archive and 'id="search"' in archive


def test_a_new_index_replaces_the_old_files(tmp_path: Path) -> None:
    config = _site(tmp_path)
    out = config.output_path
    stale = out / "pagefind" / "2025-06-days01-02" / "index" / "en_0000000.pf_index"
    stale.write_bytes(b"old")
    flat = out / "pagefind" / "pagefind-entry.json"  # the single index of former versions
    flat.write_text("{}")
    gone_month = out / "pagefind" / "2024-01" / "pagefind-entry.json"  # its days are gone
    gone_month.parent.mkdir()
    gone_month.write_text("{}")
    produce_digest(tmp_path, config, [*TITLES, "Quantum annealing for scheduling"])
    assert not stale.exists() and not flat.exists() and not gone_month.exists()
    assert (out / "pagefind" / "2025-06-days01-02" / "pagefind-entry.json").is_file()


def test_a_publish_rebuilds_only_the_months_whose_pages_changed(tmp_path: Path) -> None:
    config = _site(tmp_path)
    out = config.output_path
    april, june = _bundle_files(out, "2025-04"), _bundle_files(out, "2025-06-days01-02")
    # the daily run of a June day again: its piece of June is built again, April left alone
    produce_digest(tmp_path, config, [*TITLES, "Quantum annealing for scheduling"])
    assert _bundle_files(out, "2025-04") == april
    entry = "pagefind-entry.json"
    assert _bundle_files(out, "2025-06-days01-02")[entry] > june[entry]
    # a run of an old day again, with other papers: its month is built again
    _produce_day(tmp_path, config, OLD_DAY, [*OLD_TITLES, "Glacier melt seen from orbit"])
    assert _bundle_files(out, "2025-04")[entry] > april[entry]
    pages = json.loads((out / "pagefind" / "2025-04" / "digest-pages.json").read_text("utf-8"))
    assert pages["pages"][f"{OLD_DAY}/index.html"][1] == (
        (out / OLD_DAY.isoformat() / "index.html").stat().st_mtime_ns
    )
    # and a publish with no page changed builds nothing
    index = search.build_index(out)
    assert index is not None
    assert index.built == () and set(index.kept) == {"site", "2025-04", "2025-06-days01-02"}


def test_a_month_in_parts_becomes_one_bundle_when_the_next_month_starts(tmp_path: Path) -> None:
    config = _site(tmp_path)
    out = config.output_path
    april = _bundle_files(out, "2025-04")
    _produce_day(tmp_path, config, dt.date(2025, 6, 12), ["Lichen growth on city walls"])
    manifest = json.loads((out / "pagefind" / "bundles.json").read_text("utf-8"))
    # June 12 is the 5th day of the second week: 8-11 (no page: no bundle) and 12; the
    # first week is finished, and its pieces give way to one bundle
    assert manifest["bundles"] == ["site/", "2025-06-day12/", "2025-06-part1/", "2025-04/"]
    assert not (out / "pagefind" / "2025-06-days01-02").exists()
    _produce_day(tmp_path, config, dt.date(2025, 7, 1), ["Moss spores in the jet stream"])
    manifest = json.loads((out / "pagefind" / "bundles.json").read_text("utf-8"))
    assert manifest["bundles"] == ["site/", "2025-07-day01/", "2025-06/", "2025-04/"]
    pages = json.loads((out / "pagefind" / "2025-06" / "digest-pages.json").read_text("utf-8"))
    assert list(pages["pages"]) == ["2025-06-02/index.html", "2025-06-12/index.html"]
    assert not (out / "pagefind" / "2025-06-part1").exists()
    assert not (out / "pagefind" / "2025-06-day12").exists()
    assert _bundle_files(out, "2025-04") == april


def _day_pages(site: Path, days: range, month: str = "2025-06") -> None:
    for day in days:
        page = site / f"{month}-{day:02d}" / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(
            f'<!doctype html><html lang="en"><head><title>June {day}</title></head><body>'
            f"<main data-pagefind-body><p>Papers of June {day}: zeolite {day}.</p></main>"
            "</body></html>\n"
        )


def test_a_week_is_indexed_in_pieces_as_the_binary_digits_of_its_days(tmp_path: Path) -> None:
    """Each day adds a one-day piece, or merges it with the pieces before it as binary
    addition carries: a day re-indexes 1, 2, 1, 4, 1, 2, 1 pages over a week (not 1 to 7),
    the browser merges at most 3 pieces for the newest week, and a finished week is built
    once as one bundle when the next week starts."""
    site = tmp_path / "out"
    _day_pages(site, range(1, 8))  # the first week
    _publish_index(site)
    indexed: list[tuple[str, int]] = []
    for newest in range(8, 15):
        _day_pages(site, range(newest, newest + 1))
        index = _publish_index(site)
        built = [b for b in index.built if b != "2025-06-part1"]
        assert len(built) == 1, index.built
        pages = json.loads((site / "pagefind" / built[0] / search.PAGES).read_text("utf-8"))
        indexed.append((built[0], len(pages["pages"])))
        manifest = json.loads((site / "pagefind" / "bundles.json").read_text("utf-8"))
        assert len(manifest["bundles"]) - 1 == bin(newest - 7).count("1") <= 3
    assert indexed == [
        ("2025-06-day08", 1),
        ("2025-06-days08-09", 2),
        ("2025-06-day10", 1),
        ("2025-06-days08-11", 4),
        ("2025-06-day12", 1),
        ("2025-06-days12-13", 2),
        ("2025-06-day14", 1),
    ]
    manifest = json.loads((site / "pagefind" / "bundles.json").read_text("utf-8"))
    assert manifest["bundles"] == [
        "2025-06-day14/",
        "2025-06-days12-13/",
        "2025-06-days08-11/",
        "2025-06-part1/",
    ]
    _day_pages(site, range(15, 16))  # a day of the third week: the second is one bundle
    index = _publish_index(site)
    assert sorted(index.built) == ["2025-06-day15", "2025-06-part2"]
    assert "2025-06-part1" in index.kept


def _publish_index(site: Path) -> search.SearchIndex:
    """What a publish does with the index: write its batches in order, prune the rest."""
    index = search.build_index(site)
    assert index is not None
    for batch in index.batches:
        for rel, data in batch.items():
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            (site / rel).write_bytes(data)
    for path in (site / search.FOLDER).rglob("*"):
        if path.is_file() and path.relative_to(site).as_posix() not in index.keep:
            path.unlink()
    return index


def test_a_page_written_again_unchanged_rebuilds_nothing(tmp_path: Path) -> None:
    config = _site(tmp_path)
    out = config.output_path
    page = out / OLD_DAY.isoformat() / "index.html"
    page.write_bytes(page.read_bytes())  # a new mtime, the same content
    index = search.build_index(out)
    assert index is not None and "2025-04" not in index.built
    page.write_bytes(page.read_bytes().replace(b"Basalt", b"Granite"))
    index = search.build_index(out)
    assert index is not None and index.built == ("2025-04",)


def _topic_page(out: Path) -> Path:
    """An indexed topic page of the site."""
    pages = sorted((out / "topics").glob("*/index.html"))
    return next(p for p in pages if b"data-pagefind-body" in p.read_bytes())


def _indexed(out: Path, bundle: str) -> dict[str, str]:
    """What Pagefind's built bundle holds for each page: ``{url: title + text}``, read from
    its fragment files (gzip, a ``pagefind_dcd`` mark, then the page's JSON record)."""
    found = {}
    for fragment in (out / "pagefind" / bundle / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(fragment.read_bytes())
        record = json.loads(data[len(b"pagefind_dcd") :])
        found[record["url"]] = f"{record['meta'].get('title', '')}\n{record['content']}"
    assert found, f"no pages in the {bundle} bundle"
    return found


def test_a_topic_page_is_indexed_by_its_label_not_its_papers(tmp_path: Path) -> None:
    """A paper is found once, on its day page; a topic page is found by its name."""
    config = _site(tmp_path)
    out = config.output_path
    page = _topic_page(out)
    html = page.read_text()
    label = re.search(r"<h1>(.*?)</h1>", html)
    assert label is not None
    url = "/" + page.parent.relative_to(out).as_posix() + "/"
    text = _indexed(out, "site")[url]
    assert label.group(1) in text
    titles = [t for t in TITLES if t in html]
    assert titles and not any(t in text for t in titles)
    day_text = "\n".join(_indexed(out, b.name)[f"/{DAY}/"] for b in _day_bundles(out))
    assert all(t in day_text for t in titles)


def test_a_day_page_indexes_each_abstract_sentence_once(tmp_path: Path) -> None:
    """The summary shown above an abstract is its opening: the index reads those sentences
    once, from the whole abstract (a word counted twice would rank its paper too high),
    and reads a source's own AI summary, which the abstract does not hold."""
    config = load_config(write_config(tmp_path, None))
    opening = "Basalt weathers fastest under acid rain. Drones measured it."
    rest = "The survey covered ten quarries over two years of seasons."
    listing = tmp_path / "listing.jsonl"
    papers = [
        {"id": "2506.00001v1", "title": "Basalt weathering", "summary": f"{opening} {rest}"},
        {
            "id": "2506.00002v1",
            "title": "Coral reef acoustics",
            "summary": "Reefs are loud at night. Shrimp snap. Fish call.",
            "ai_summary": "Night recordings reveal snapping shrimp choruses.",
        },
    ]
    listing.write_text(
        "".join(json.dumps({**p, "authors": ["Mary Anning"]}) + "\n" for p in papers)
    )
    pipeline.run(config, DAY, [listing])
    out = config.output_path
    html = (out / str(DAY) / "index.html").read_text()
    assert html.count("Drones measured it.") == 2  # the summary and the abstract, as shown
    text = "\n".join(_indexed(out, b.name)[f"/{DAY}/"] for b in _day_bundles(out))
    assert text.count("Drones measured it.") == 1
    assert rest in text
    assert text.count("snapping shrimp choruses") == 1  # the AI summary is its own text
    assert text.count("Shrimp snap.") == 1


def test_a_paper_listed_again_is_found_by_its_abstract_on_its_first_day_only(
    tmp_path: Path,
) -> None:
    """A weekend's arXiv listing repeats Friday's: the later day page is found by the
    paper's title, and its abstract answers from the first day's page alone."""
    config = load_config(write_config(tmp_path, None))
    friday = DAY - dt.timedelta(days=1)
    abstract = "Basalt weathers fastest under acid rain. Drones measured it. Ten quarries."
    summary = "A snapping shrimp chorus at night."
    paper = {"title": "Basalt weathering by drones", "summary": abstract, "ai_summary": summary}
    for day in (friday, DAY):
        listing = tmp_path / f"{day}.jsonl"
        listing.write_text(json.dumps({**paper, "id": "2506.00001v1", "authors": ["M. Anning"]}))
        pipeline.run(config, day, [listing])
    out = config.output_path
    pages: dict[str, str] = {}
    for bundle in (out / "pagefind").iterdir():
        if bundle.is_dir() and bundle.name != "site":
            pages.update(_indexed(out, bundle.name))
    first, again = pages[f"/{friday}/"], pages[f"/{DAY}/"]
    assert paper["title"] in first and paper["title"] in again
    assert "Drones measured it." in first and summary in first
    assert "Drones measured it." not in again and summary not in again
    assert "Drones measured it." in (out / str(DAY) / "index.html").read_text()  # still shown


def _day_bundles(out: Path) -> list[Path]:
    """The bundles holding the day page of ``DAY``."""
    found = [
        b
        for b in (out / "pagefind").iterdir()
        if b.is_dir() and b.name != "site" and f"/{DAY}/" in _indexed(out, b.name)
    ]
    assert found, "no bundle holds the day page"
    return found


@pytest.mark.slow
def test_topic_pages_of_an_older_markup_are_rendered_again_inactive_ones_too(
    tmp_path: Path,
) -> None:
    """An inactive topic's page is otherwise left as it was: one indexed whole by an older
    version (its paper lists too) would keep answering for its papers."""
    from test_topics import _config, _run_days

    from digest.store import Store

    _run_days(tmp_path, 7, gone="robots", back=6, active_days=2)
    config = _config(tmp_path, active_days=2)
    out = config.output_path
    inactive = next(
        p for p in (out / "topics").glob("*/index.html") if "Inactive: not seen" in p.read_text()
    )
    fresh = inactive.read_text()
    old = fresh.replace("<main data-pagefind-ignore>", "<main data-pagefind-body>")
    inactive.write_text(old)
    with Store.open(config.database_path) as store:
        pipeline.publish_site(store, config, out)
        assert inactive.read_text() == old  # an inactive topic's page is left alone
        index = out / "topics" / "index.html"
        index.write_text(re.sub(r'<meta name="digest-topic-pages"[^>]*>\n', "", index.read_text()))
        pipeline.publish_site(store, config, out)
    assert inactive.read_text() == fresh
    assert '<meta name="digest-topic-pages" content="2">' in index.read_text()


@pytest.mark.slow
def test_a_weekly_page_is_indexed_without_its_top_papers(tmp_path: Path) -> None:
    """The week's heading, rising topics and days are its own; its top papers are found on
    their day pages."""
    from test_topics import _config, _run_days

    from digest import weekly
    from digest.store import Store

    _run_days(tmp_path, 2)
    config = _config(tmp_path)
    with Store.open(config.database_path) as store:
        week = weekly.build_week(store, config, "2025-W12")
        weekly.publish_week(store, config, week, config.output_path)
        pipeline.publish_site(store, config, config.output_path)
    html = (config.output_path / "weekly" / "2025-W12" / "index.html").read_text()
    text = _indexed(config.output_path, "site")["/weekly/2025-W12/"]
    for own in ("Week 2025-W12", "Topics that rose", "Day by day"):
        assert own in text, own
    for listed in ("Top papers of the week", "A. Author"):  # the top papers and authors
        assert listed in html and listed not in text, listed


def test_search_switched_off_builds_no_index_and_drops_the_old_one(tmp_path: Path) -> None:
    config = _site(tmp_path)
    assert (config.output_path / "pagefind" / "bundles.json").is_file()
    path = tmp_path / "digest.toml"  # written by _site; it has no [render] section
    path.write_text(path.read_text("utf-8") + "[render]\nsearch = false\n")
    config = load_config(path)
    produce_digest(tmp_path, config, [*TITLES, "Quantum annealing for scheduling"])
    assert not [p for p in (config.output_path / "pagefind").rglob("*") if p.is_file()]
    assert (config.output_path / "search.js").is_file()  # it shows no box without bundles
    assert (config.output_path / "index.html").is_file()


@pytest.mark.slow
def test_without_the_binary_the_archive_publishes_with_one_warning(tmp_path: Path) -> None:
    listing = tmp_path / f"{DAY}.jsonl"
    listing.write_text('{"id": "2506.00001", "title": "A paper", "summary": "About graphs."}\n')
    proc = _digest(
        "run", "--date", DAY.isoformat(), "--input", str(listing), "--output", "out",
        cwd=tmp_path, PAGEFIND_BINARY_PATH=str(tmp_path / "no-pagefind"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "search" in line]
    assert len(warnings) == 1, proc.stderr
    assert "pagefind binary is missing" in warnings[0]
    assert "Traceback" not in proc.stderr
    out = tmp_path / "out"
    assert (out / "index.html").is_file() and (out / "feed.atom").is_file()
    assert (out / DAY.isoformat() / "index.html").is_file()
    assert not (out / "pagefind").exists()


@pytest.mark.slow
def test_a_failing_binary_is_one_warning_too(tmp_path: Path) -> None:
    broken = tmp_path / "pagefind"
    broken.write_text("#!/bin/sh\necho 'Error: no site found' >&2\nexit 1\n")
    broken.chmod(0o755)
    listing = tmp_path / f"{DAY}.jsonl"
    listing.write_text('{"id": "2506.00001", "title": "A paper", "summary": "About graphs."}\n')
    proc = _digest(
        "run", "--date", DAY.isoformat(), "--input", str(listing), "--output", "out",
        cwd=tmp_path, PAGEFIND_BINARY_PATH=str(broken),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "search" in line]
    assert len(warnings) == 1 and "no site found" in warnings[0], proc.stderr
    assert (tmp_path / "out" / "index.html").is_file()


def test_a_failing_binary_keeps_the_former_bundles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A publish whose Pagefind fails leaves the former bundles in place, stale but
    searchable, with one warning; the next publish with a working binary builds the
    bundle whose pages changed meanwhile."""
    from digest.store import Store

    config = _site(tmp_path)
    out = config.output_path
    before = {b: _bundle_files(out, b) for b in ("site", "2025-04", "2025-06-days01-02")}
    page = out / OLD_DAY.isoformat() / "index.html"
    page.write_bytes(page.read_bytes().replace(b"Basalt", b"Granite"))
    broken = tmp_path / "pagefind"
    broken.write_text("#!/bin/sh\necho 'Error: out of disk' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(broken))
    with Store.open(config.database_path) as store:
        pipeline.publish_site(store, config, out)
    warnings = [r.getMessage() for r in caplog.records if r.name == "digest.search"]
    assert len(warnings) == 1 and "archive search incomplete" in warnings[0], warnings
    assert "out of disk" in warnings[0]
    assert {b: _bundle_files(out, b) for b in before} == before
    manifest = json.loads((out / "pagefind" / "bundles.json").read_text("utf-8"))
    assert manifest["bundles"] == ["site/", "2025-06-days01-02/", "2025-04/"]
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    index = search.build_index(out)  # the month that changed meanwhile, and it only
    assert index is not None and index.built == ("2025-04",), index


# ------------------------------------------------------------------ in the browser


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    """Any static host: plain files, no CSP, no knowledge of the site."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def _wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError("the server exited") from None
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


@pytest.fixture
def browser() -> Iterator[object]:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        # Playwright gives the browser a new, temporary --user-data-dir
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _search(
    browser: object, archive_url: str, query: str, expect: str = "Zeolite catalysts"
) -> tuple[list[str], list[str]]:
    """Type ``query`` into the archive's search box and open the first result, a page that
    shows ``expect``; the results' URLs and the page's errors (CSP violations and script
    errors included)."""
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    # a missing resource is reported by its URL below; the console only says "404"
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")  # browsers ask; we have none
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(archive_url)
    field = page.wait_for_selector(".pagefind-ui__search-input", timeout=20_000)
    field.click()
    page.keyboard.type(query, delay=20)
    try:
        link = page.wait_for_selector(".pagefind-ui__result-link", timeout=20_000)
    except Exception as exc:
        raise AssertionError(f"no search result; page errors: {errors}") from exc
    page.wait_for_timeout(500)  # every result in place, not only the first
    hrefs = [
        a.evaluate("a => a.href") for a in page.query_selector_all(".pagefind-ui__result-link")
    ]
    link.click()
    page.wait_for_load_state()
    assert expect in page.content()  # the day's page or its topic's
    page.close()
    return hrefs, errors


@pytest.mark.browser
@pytest.mark.slow
def test_search_finds_a_paper_from_digest_serve(tmp_path: Path, browser: object) -> None:
    config = _site(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--config", str(config.path),
         "--port", str(port)],
        env={**os.environ, "DIGEST_SECRET": SECRET},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, server)
        hrefs, errors = _search(browser, f"http://127.0.0.1:{port}/", "zeolite")
        # a paper of an older month: its bundle is merged into the search
        old, old_errors = _search(browser, f"http://127.0.0.1:{port}/", "basalt", "Basalt")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert f"http://127.0.0.1:{port}/{DAY.isoformat()}/" in hrefs, hrefs
    assert f"http://127.0.0.1:{port}/{OLD_DAY.isoformat()}/" in old, old
    # a paper is found once, on its day page: the topic pages that list it are not results
    assert (config.output_path / "topics").is_dir()
    assert [h for h in hrefs + old if "/topics/" in h] == [], (hrefs, old)
    assert not errors and not old_errors


@pytest.mark.browser
@pytest.mark.slow
def test_search_works_from_a_static_host_in_a_subfolder(tmp_path: Path, browser: object) -> None:
    _site(tmp_path)  # the site is tmp_path/output, served as /output/
    handler = functools.partial(_QuietFiles, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        port = httpd.server_address[1]
        archive = f"http://127.0.0.1:{port}/output/index.html"
        hrefs, errors = _search(browser, archive, "zeolite")
        old, old_errors = _search(browser, archive, "basalt", "Basalt")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert f"http://127.0.0.1:{port}/output/{DAY.isoformat()}/" in hrefs, hrefs
    assert f"http://127.0.0.1:{port}/output/{OLD_DAY.isoformat()}/" in old, old
    assert not errors and not old_errors


@pytest.mark.browser
@pytest.mark.slow
def test_search_finds_topic_and_weekly_pages(tmp_path: Path, browser: object) -> None:
    """Topic and weekly pages are indexed too (issue 14): a topic's label finds its page and
    the week's, and the topic's result opens the topic page."""
    from test_topics import _config, _run_days

    from digest import pipeline, weekly
    from digest.store import Store

    _run_days(tmp_path, 2)
    config = _config(tmp_path)
    with Store.open(config.database_path) as store:
        weekly.publish_week(
            store, config, weekly.build_week(store, config, "2025-W12"), tmp_path / "out"
        )
        pipeline.publish_site(store, config, tmp_path / "out")  # the next publish indexes it
    handler = functools.partial(_QuietFiles, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        port = httpd.server_address[1]
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(f"http://127.0.0.1:{port}/out/index.html")
        field = page.wait_for_selector(".pagefind-ui__search-input", timeout=20_000)
        field.click()
        page.keyboard.type("protein folding", delay=20)
        page.wait_for_selector(".pagefind-ui__result-link", timeout=20_000)
        page.wait_for_timeout(500)  # every result in place, not only the first
        links = page.query_selector_all(".pagefind-ui__result-link")
        hrefs = [link.evaluate("a => a.href") for link in links]
        base = f"http://127.0.0.1:{port}/out/"
        assert f"{base}topics/protein-folding/" in hrefs, hrefs
        assert f"{base}weekly/2025-W12/" in hrefs, hrefs
        links[hrefs.index(f"{base}topics/protein-folding/")].click()
        page.wait_for_load_state()
        assert "<h1>Protein folding</h1>" in page.content()
        page.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
