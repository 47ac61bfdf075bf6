"""Backfill: dated files in, every day out, resumable, the site regenerated once."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest import backfill as backfill_mod
from digest import pipeline
from digest.backfill import backfill, plan
from digest.config import Config
from digest.errors import InputError
from digest.store import Store

TOPICS = ["graph neural networks", "protein folding", "speech recognition"]


def write_days(folder: Path, first: dt.date, count: int, per_day: int = 5) -> list[dt.date]:
    folder.mkdir(parents=True, exist_ok=True)
    days = [first + dt.timedelta(days=i) for i in range(count)]
    for n, day in enumerate(days):
        rows = [
            {"id": f"25{n:02d}.{i:05d}", "title": f"On {TOPICS[i % 3]}, part {i} ({day})",
             "summary": f"Results on {TOPICS[i % 3]}.", "authors": ["B. Author"]}
            for i in range(per_day)
        ]  # fmt: skip
        (folder / f"{day.isoformat()}.jsonl").write_text(
            "\n".join(json.dumps(r) for r in rows) + "\n"
        )
    return days


def config_for(tmp_path: Path) -> Config:
    return Config(output_dir=str(tmp_path / "out"), database=str(tmp_path / "var" / "db.sqlite"))


def test_plan_takes_only_dates_with_a_file_in_the_range(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_days(folder, dt.date(2025, 3, 17), 3)
    (folder / "notes.txt").write_text("not a listing")
    (folder / "2025-03-30.jsonl").write_text("{}\n")
    got = plan(dt.date(2025, 3, 18), dt.date(2025, 3, 29), folder)
    assert [(d, [p.name for p in ps]) for d, ps in got] == [
        (dt.date(2025, 3, 18), ["2025-03-18.jsonl"]),
        (dt.date(2025, 3, 19), ["2025-03-19.jsonl"]),
    ]
    assert len(plan(dt.date(2025, 3, 1), dt.date(2025, 3, 3), None)) == 3  # live: every date
    with pytest.raises(InputError, match="before"):
        plan(dt.date(2025, 3, 19), dt.date(2025, 3, 18), folder)
    with pytest.raises(InputError, match="no listing named"):
        plan(dt.date(2024, 1, 1), dt.date(2024, 1, 9), folder)
    with pytest.raises(InputError, match="no such file"):
        plan(dt.date(2024, 1, 1), dt.date(2024, 1, 9), tmp_path / "missing")


@pytest.mark.slow
def test_backfill_produces_every_day_and_the_site_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 4)
    config = config_for(tmp_path)
    site_calls: list[int] = []
    real_publish_site = pipeline.publish_site

    def counting_publish_site(store, config, output, jobs=1):  # type: ignore[no-untyped-def]
        site_calls.append(len(store.digest_dates()))
        return real_publish_site(store, config, output, jobs)

    monkeypatch.setattr(pipeline, "publish_site", counting_publish_site)
    report = backfill(config, days[0], days[-1], tmp_path / "in", progress=False)
    assert [o.date for o in report.produced] == days
    assert [o.papers for o in report.produced] == [5, 5, 5, 5]
    assert site_calls == [4]  # once, after the last day
    archive = (tmp_path / "out" / "index.html").read_text()
    for day in days:
        assert json.loads((tmp_path / "out" / str(day) / "digest.json").read_text())["date"] == str(
            day
        )
        assert str(day) in archive
    assert "4 days produced, 0 already done, 0 failed" in report.summary()


@pytest.mark.slow
def test_each_day_is_rendered_once_with_its_topic_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest import render

    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 4, per_day=12)
    config = config_for(tmp_path)
    assert config.topics.enabled
    rendered: list[dt.date] = []
    real_render_day = render.render_day

    def counting_render_day(digest, config, links=None):  # type: ignore[no-untyped-def]
        rendered.append(digest.date)
        return real_render_day(digest, config, links)

    monkeypatch.setattr(render, "render_day", counting_render_day)
    backfill(config, days[0], days[-1], tmp_path / "in", progress=False, jobs=1)
    assert sorted(rendered) == days
    with Store.open(config.database_path) as store:
        linked = sorted({t.date for t in store.day_themes(days[0]) if t.topic_id})
    assert linked  # so the pages below must link their topics
    for day in linked:
        assert "topics/" in (tmp_path / "out" / str(day) / "index.html").read_text()


@pytest.mark.slow
def test_a_day_done_without_its_page_is_rendered_again(tmp_path: Path) -> None:
    """A backfill killed after its workers produced a day and before it rendered it."""
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 3)
    config = config_for(tmp_path)
    backfill(config, days[0], days[-1], tmp_path / "in", progress=False, jobs=1)
    (tmp_path / "out" / str(days[1]) / "index.html").unlink()
    again = backfill(config, days[0], days[-1], tmp_path / "in", progress=False, jobs=1)
    assert again.skipped == days and again.produced == []
    assert (tmp_path / "out" / str(days[1]) / "index.html").is_file()


@pytest.mark.slow
def test_a_second_backfill_skips_finished_days_unless_forced(tmp_path: Path) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 3)
    config = config_for(tmp_path)
    backfill(config, days[0], days[1], tmp_path / "in", progress=False)
    again = backfill(config, days[0], days[2], tmp_path / "in", progress=False)
    assert again.skipped == days[:2]
    assert [o.date for o in again.produced] == [days[2]]
    forced = backfill(config, days[0], days[0], tmp_path / "in", force=True, progress=False)
    assert [o.date for o in forced.produced] == [days[0]]
    with Store.open(config.database_path) as store:
        assert [r.status for r in store.runs_for(days[0])] == ["ok", "ok"]
        assert [r.status for r in store.runs_for(days[1])] == ["ok"]


@pytest.mark.slow
def test_a_bad_file_fails_its_day_only(tmp_path: Path) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 3)
    (tmp_path / "in" / f"{days[1]}.jsonl").write_text("{not json\n")
    report = backfill(config_for(tmp_path), days[0], days[-1], tmp_path / "in", progress=False)
    assert [(o.date, o.status) for o in report.produced] == [
        (days[0], "ok"), (days[1], "error"), (days[2], "ok")
    ]  # fmt: skip
    assert f"{days[1]}.jsonl" in (report.failed[0].error or "")
    # the failed day is not done: fixing the file and running again produces it
    write_days(tmp_path / "in", days[1], 1)
    again = backfill(config_for(tmp_path), days[0], days[-1], tmp_path / "in", progress=False)
    assert [o.date for o in again.produced] == [days[1]]


@pytest.mark.slow
def test_ctrl_c_keeps_finished_days_and_the_next_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 4)
    config = config_for(tmp_path)

    def stop_on_third(outcome: backfill_mod.DayOutcome) -> None:
        if outcome.date == days[1]:
            raise KeyboardInterrupt

    first = backfill(
        config, days[0], days[-1], tmp_path / "in", progress=False, on_day=stop_on_third, jobs=1
    )
    assert first.interrupted and [o.date for o in first.produced] == days[:2]
    assert "run the same command again" in first.summary()
    assert (tmp_path / "out" / "index.html").is_file()  # the site covers what was finished
    second = backfill(config, days[0], days[-1], tmp_path / "in", progress=False)
    assert second.skipped == days[:2] and [o.date for o in second.produced] == days[2:]


@pytest.mark.slow
def test_ctrl_c_with_worker_processes_finishes_the_days_in_progress(tmp_path: Path) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 8)
    config = config_for(tmp_path)
    seen: list[dt.date] = []

    def stop_at_first(outcome: backfill_mod.DayOutcome) -> None:
        seen.append(outcome.date)
        if len(seen) == 1:
            raise KeyboardInterrupt

    first = backfill(
        config, days[0], days[-1], tmp_path / "in", progress=False, on_day=stop_at_first, jobs=2
    )
    assert first.interrupted
    produced = [o.date for o in first.produced]
    assert produced == sorted(produced) and 1 <= len(produced) < len(days)
    with Store.open(config.database_path) as store:
        # every day a worker finished is reported, none more
        assert store.completed_days(days[0], days[-1]) == set(produced)
    second = backfill(config, days[0], days[-1], tmp_path / "in", progress=False, jobs=2)
    assert second.skipped == produced
    assert sorted(produced + [o.date for o in second.produced]) == days
    with Store.open(config.database_path) as store:
        for day in days:
            assert len([r for r in store.runs_for(day) if r.completed]) == 1, day


def _normalized_tree(folder: Path) -> dict[str, str]:
    """Every output file, with the generation time (the only thing that may differ) masked."""
    out = {}
    for path in sorted(folder.rglob("*")):
        # the search index is binary, and Pagefind's own (its tests, not ours)
        if path.is_file() and path.relative_to(folder).parts[0] != "pagefind":
            text = path.read_text()
            text = re.sub(r'"generated_at": "[^"]*"', '"generated_at": ""', text)
            text = re.sub(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "Generated", text)
            text = re.sub(
                r"<(lastBuildDate|pubDate|updated|published|dateModified)>[^<]*</", "<", text
            )
            text = re.sub(r'"date_published": "[^"]*"', '"date_published": ""', text)
            out[str(path.relative_to(folder))] = text
    return out


@pytest.mark.slow
def test_worker_processes_give_the_same_digests_as_one_process(tmp_path: Path) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 6, per_day=12)
    # a paper of the first day listed again on the last, with a longer abstract: each day
    # counts only the days up to it, and shows the abstract it had then, although phase 1
    # stored every day before any was produced
    last = tmp_path / "in" / f"{days[-1]}.jsonl"
    first_row = (tmp_path / "in" / f"{days[0]}.jsonl").read_text().splitlines()[0]
    longer = {**json.loads(first_row)}
    longer["summary"] += " Now with a longer abstract."
    last.write_text(last.read_text() + json.dumps(longer) + "\n")
    reports = {}
    for jobs in (1, 2):
        config = Config(
            output_dir=str(tmp_path / f"out{jobs}"), database=str(tmp_path / f"db{jobs}.sqlite")
        )
        reports[jobs] = backfill(
            config, days[0], days[-1], tmp_path / "in", progress=False, jobs=jobs
        )
    assert [o.date for o in reports[2].produced] == days
    one, two = _normalized_tree(tmp_path / "out1"), _normalized_tree(tmp_path / "out2")
    # five files a day (digest.json and .md, email.html and .txt, index.html); the archive,
    # two feeds in three formats each, feeds.opml, search.js; and the topic pages
    site = [f for f in one if not f.startswith("topics/")]
    assert len(site) == 5 * len(days) + 1 + 2 * 3 + 1 + 1
    for out in ("out1", "out2"):  # and the search index, built once at the end
        assert (tmp_path / out / "pagefind" / "bundles.json").is_file()
    assert one == two
    repeated = json.loads(first_row)["id"]

    def paper(day: dt.date) -> dict:
        digest = json.loads(one[f"{day}/digest.json"])
        return next(p for p in digest["papers"] if p["id"] == repeated)

    assert paper(days[0])["seen_days"] == 1 and paper(days[-1])["seen_days"] == 2
    assert paper(days[0])["abstract"] == json.loads(first_row)["summary"]
    assert paper(days[-1])["abstract"] == longer["summary"]


@pytest.mark.slow
def test_cli_backfill_prints_a_summary_and_a_one_line_error(tmp_path: Path) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 17), 2)
    args = [sys.executable, "-m", "digest", "backfill", "--input", "in", "--output", "out"]
    ok = subprocess.run([*args, "--since", str(days[0]), "--until", str(days[1])],
                        cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "backfill: 2 days produced, 0 already done, 0 failed, of 2" in ok.stdout
    bad = subprocess.run([*args, "--since", "2025-03-20", "--until", "2025-03-01"],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "digest: error: --until 2025-03-01 is before --since 2025-03-20"
    ]


@pytest.mark.slow
def test_a_killed_backfill_resumes_without_redoing_or_losing_days(tmp_path: Path) -> None:
    days = write_days(tmp_path / "in", dt.date(2025, 3, 1), 40)
    db = tmp_path / "var" / "out.sqlite"  # the default: the output folder's own, beside it
    cmd = [sys.executable, "-m", "digest", "backfill", "--since", str(days[0]),
           "--until", str(days[-1]), "--input", "in", "--output", "out", "--jobs", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done_before_kill = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            with Store.open(db) as store:
                done_before_kill = len(store.completed_days(days[0], days[-1]))
            if done_before_kill >= 5:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the backfill finished before it could be killed"
    workers = _children(proc.pid)
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    # its worker processes do not outlive it (they would hold days' locks, or sit idle)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]

    resumed = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    with Store.open(db) as store:
        completed = store.completed_days(days[0], days[-1])
        assert completed == set(days)  # nothing lost
        for day in days:
            finished = [r for r in store.runs_for(day) if r.completed]
            assert len(finished) == 1, day  # nothing redone
        assert store.digest_dates() == days
    skipped = int(resumed.stdout.split(" already done")[0].rsplit(", ", 1)[1])
    assert skipped >= done_before_kill
    archive = (tmp_path / "out" / "index.html").read_text()
    assert all(str(day) in archive for day in days)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
