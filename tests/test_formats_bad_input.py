"""Bad input: every case gives a clear one-line InputError or a correct result, never a traceback."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from digest.errors import InputError
from digest.formats import parse_bytes, read_listing
from digest.models import normalize_title
from digest.sources.file import read_path
from digest.store import Store

LISTINGS = Path(__file__).parent / "fixtures" / "listings"
DAY = dt.date(2025, 3, 13)


def _parse(raw: bytes, name: str = "input", hint: str | None = None):
    return parse_bytes(raw, name=name, day=DAY, source="test", hint=hint)


def _one_line_error(raw: bytes, match: str, name: str = "input", hint: str | None = None) -> str:
    with pytest.raises(InputError, match=match) as info:
        _parse(raw, name, hint)
    message = str(info.value)
    assert "\n" not in message and message.startswith(name)
    return message


def test_truncated_json() -> None:
    raw = (LISTINGS / "hf_daily_3items.json").read_bytes()
    _one_line_error(raw[: len(raw) // 2], "truncated JSON")
    _one_line_error(raw[:-1], "truncated JSON")
    _one_line_error(b'[{"title": "x"}, }]', "malformed JSON at line 1")


def test_truncated_jsonl_names_the_line() -> None:
    raw = gzip.decompress((LISTINGS / "2025-03-18.jsonl.gz").read_bytes())
    message = _one_line_error(raw[: len(raw) - 300], "truncated JSON line")
    assert "input:8:" in message
    broken = raw.replace(b'"title"', b'"title" oops', 1)
    _one_line_error(broken, r"input:1: not a JSON line")


def test_truncated_and_corrupt_gzip() -> None:
    packed = (LISTINGS / "2025-03-18.jsonl.gz").read_bytes()
    _one_line_error(packed[: len(packed) // 2], "truncated gzip file")
    corrupt = packed[:20] + bytes(b ^ 0xFF for b in packed[20:60]) + packed[60:]
    _one_line_error(corrupt, "gzip")


def test_gzip_members_and_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.formats as formats

    rows = gzip.decompress((LISTINGS / "2025-03-18.jsonl.gz").read_bytes()).splitlines(True)
    half = len(rows) // 2
    two_members = gzip.compress(b"".join(rows[:half])) + gzip.compress(b"".join(rows[half:]))
    assert len(_parse(two_members).papers) == len(_parse(b"".join(rows)).papers)
    _one_line_error(two_members + b"\0\0\0", "garbage after the end")
    # a small file that unzips into more than the limit is refused, not unzipped into memory
    bomb = gzip.compress(b"\n" * 3_000_000)
    assert len(bomb) < 10_000
    monkeypatch.setattr(formats, "MAX_LISTING_BYTES", 10**6)
    _one_line_error(bomb, "over 1 MB once unzipped; the limit is max_listing_bytes")
    big = tmp_path / "2025-03-18.jsonl"
    big.write_bytes(b"\n" * (10**6 + 1))
    with pytest.raises(InputError, match="2025-03-18.jsonl: over 1 MB; the limit is"):
        read_listing(big)


def test_truncated_and_malformed_xml() -> None:
    raw = (LISTINGS / "arxiv_rss2_4items.xml").read_bytes()
    _one_line_error(raw[: len(raw) // 2], "truncated XML feed")
    _one_line_error(raw[:-20], "truncated XML feed")
    atom = (LISTINGS / "arxiv_atom_7items.xml").read_bytes()
    _one_line_error(atom[:3000], "truncated XML feed")
    _one_line_error(b"<rss version='2.0'><channel><item></rss>", "(truncated|malformed) XML feed")


def test_unknown_formats() -> None:
    _one_line_error(b"hello world\n", "unknown format")
    _one_line_error(b"Just some prose. It has sentences. Nothing else.\n" * 5, "unknown format")
    _one_line_error(b"<!DOCTYPE html><html><body>Not found</body></html>", "HTML page")
    _one_line_error(b'<?xml version="1.0"?><svg></svg>', "not an RSS or Atom feed")
    _one_line_error(b'{"a": 1}\n{"b": 2}\n', "none of them is a paper")
    _one_line_error(b"[1, 2, 3]", "none of its items is a paper")
    _one_line_error(b'{"error": "Invalid date"}', "none of them is a paper")
    _one_line_error(
        b'{"error": "Invalid date"}', "Daily Papers API replied with an error", hint="hf_daily"
    )


def test_non_utf8_bytes() -> None:
    # a stray Latin-1 byte in otherwise UTF-8 text is replaced, the listing kept
    row = {"id": "2503.00001", "title": "Caf\u00e9 networks", "summary": "S."}
    raw = json.dumps(row, ensure_ascii=False).encode("utf-8").replace("é".encode(), b"\xe9")
    [paper] = _parse(raw).papers
    assert paper.title == "Caf\ufffd networks"
    # mostly undecodable bytes are not text at all
    _one_line_error(b"{" + bytes(range(128, 256)) * 4, "not UTF-8 text")
    _one_line_error(b"\x00\x01\x02binary\xff\xfe\x00", "not UTF-8 text|unknown format")
    # UTF-16 with a BOM is decoded
    utf16 = json.dumps([row]).encode("utf-16")
    assert _parse(utf16).papers[0].title == "Caf\u00e9 networks"


HOSTILE = "<script>alert('x')</script> & <b>Bold</b> claims"
LATEX = r"$CO_2$ capture with \textit{deep} nets and $\mathcal{O}(n^2)$ attention"


@pytest.mark.parametrize("title", [HOSTILE, LATEX], ids=["html", "latex"])
def test_markup_in_titles_is_kept_as_text_in_every_format(title: str) -> None:
    jsonl = json.dumps({"id": "2503.00001", "title": title, "summary": "S."}).encode()
    hf = json.dumps([{"paper": {"id": "2503.00001", "title": title}, "title": title}]).encode()
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    rss = textwrap.dedent(
        f"""\
        <?xml version="1.0"?>
        <rss version="2.0"><channel><title>t</title><link>https://rss.arxiv.org/rss/cs.LG</link>
        <item><title>{escaped}</title><link>https://arxiv.org/abs/2503.00001</link>
        <description>arXiv:2503.00001v1 Announce Type: new
        Abstract: S.</description></item></channel></rss>"""
    ).encode()
    text = (
        "Get trending papers in your email inbox!\n\nMar 13\n\n"
        f"{title}\n\nWe study things. It works well.\n"
    ).encode()
    for raw in (jsonl, hf, rss, text):
        [paper] = _parse(raw).papers
        assert paper.title == title
    assert normalize_title(LATEX).startswith("co 2 capture with textit deep nets")


def test_same_paper_twice_in_a_listing_is_stored_once_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        {"id": "2503.00001v1", "title": "First", "summary": "S."},
        {"id": "2503.00002", "title": "Second", "summary": "S."},
        {"id": "2503.00001v2", "title": "First", "summary": "S."},
    ]
    raw = "\n".join(json.dumps(r) for r in rows).encode()
    listing = _parse(raw)
    assert len(listing.papers) == 3  # formats keep what the file says
    caplog.set_level("INFO", logger="digest")
    with Store.open(tmp_path / "db.sqlite") as store:
        result = store.save_listing(listing)
        assert (result.papers, result.duplicates, result.new_papers) == (2, 1, 2)
        assert [d.paper.id for d in store.day_papers(DAY)] == ["2503.00001", "2503.00002"]
    assert "test 2025-03-13: 1 repeated papers stored once" in caplog.text


_BIG_LISTING_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from digest.formats import read_listing
from digest.store import Store
path = Path(sys.argv[1])
t0 = time.perf_counter()
listing = read_listing(path)
with Store.open(path.parent / "big.sqlite") as store:
    result = store.save_listing(listing)
print(json.dumps({"papers": len(listing.papers), "stored": result.papers,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - t0}))
"""


@pytest.mark.slow
def test_a_50_mb_listing_is_read_and_stored_within_bounded_memory(tmp_path: Path) -> None:
    abstract = "We study a problem and report results on several benchmarks. " * 30
    path = tmp_path / "2025-03-13.jsonl"
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        while out.tell() < 50_000_000:
            row = {
                "id": f"2503.{rows:05d}",
                "title": f"Paper number {rows} on scaling",
                "summary": abstract,
                "authors": ["A. Author", "B. Author"],
                "categories": ["cs.LG"],
            }
            out.write(json.dumps(row) + "\n")
            rows += 1
    assert path.stat().st_size >= 50_000_000
    done = subprocess.run(
        [sys.executable, "-c", _BIG_LISTING_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["papers"] == report["stored"] == rows
    # the file is 50 MB; reading and storing it must not hold many copies of it
    assert report["peak_mb"] < 400, report


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "2025-03-13.txt"
    path.write_bytes((LISTINGS / "trending_blank_lines.txt").read_bytes())
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            read_listing(path)
    finally:
        path.chmod(0o644)


def test_paths_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_listing(tmp_path / "missing.jsonl")
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    with pytest.raises(InputError, match="cannot read: Not a directory"):
        read_listing(not_a_folder / "2025-03-13.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_listing(tmp_path)
    failed = read_path(tmp_path / "missing.jsonl", DAY, None)
    assert failed.status == "error" and "no such file" in (failed.error or "")


@pytest.mark.slow
def test_cli_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "2025-03-13.json"
    bad.write_text('[{"title": "cut')
    done = subprocess.run(
        [sys.executable, "-m", "digest", "ingest", "--date", "2025-03-13", "--input", str(bad)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    assert "truncated JSON" in done.stderr


def test_jsonl_errors_name_the_right_line_across_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    from digest.formats import jsondata

    monkeypatch.setattr(jsondata, "JSONL_SEGMENT_CHARS", 200)
    lines = [
        json.dumps({"id": f"2503.{i:05d}", "title": f"T {i}", "summary": "S."}) for i in range(40)
    ]
    lines[5] = ""  # blank lines are allowed
    lines[30] = lines[30][:-3] + "x}"
    with pytest.raises(InputError, match=r"^input:31: not a JSON line"):
        _parse("\n".join(lines).encode())
    lines[30] = "   "
    assert len(_parse("\r\n".join(lines).encode()).papers) == 38
