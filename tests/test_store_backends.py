"""Both backends behind one store: migrations, the database setting, `digest db`, faults."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import cli_exit
import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.config import load_config
from digest.errors import ConfigError, DigestError
from digest.models import Listing, Paper
from digest.store import COMPONENTS, Store, admin, db
from digest.store.http_cache import HttpCacheEntry

D1 = dt.date(2025, 3, 11)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``digest ARGS`` through the console entry point: (exit status, stdout + stderr)."""
    code = cli_exit.cli(*args)
    out = capsys.readouterr()
    return code, out.out + out.err


def _second_target(db_target: Path | str, request: pytest.FixtureRequest) -> Path | str:
    if isinstance(db_target, Path):
        return db_target.with_name("other.sqlite")
    return str(request.getfixturevalue("pg_server").new_database())


def _fill(store: Store) -> None:
    papers = tuple(
        Paper(id=f"2503.0000{i}", title=f"Paper {i}", abstract="A.", authors=("Ada", "Zoë"))
        for i in range(1, 4)
    )
    store.save_listing(Listing(D1, "arxiv", "jsonl", papers, "ok", None))
    store.add_subscriber("ada@example.org", "confirmed")
    store.add_subscriber("Alan@Example.org", "pending")
    with store.day_run(D1, "test") as run:
        run.fail("error", "stopped on purpose")
    store.http_cache_put(HttpCacheEntry("https://example.org/feed", b"\x00\x01 body", etag="x"))


def test_a_fresh_and_an_upgraded_database_reach_the_same_schema(
    db_target: Path | str, request: pytest.FixtureRequest
) -> None:
    with Store.open(db_target) as fresh:
        want = admin.schema(fresh)
    old = _second_target(db_target, request)
    # a database of the first release: each component at its first migration only
    with _first_versions(old) as store:
        assert admin.versions(store) == {name: 1 for name, _ in COMPONENTS}
    with Store.open(old) as upgraded:
        assert admin.schema(upgraded) == want
        assert admin.versions(upgraded) == {name: len(m) for name, m in COMPONENTS}


def _first_versions(target: Path | str) -> Store:
    from digest.store.backends import get_backend

    backend = get_backend(target)
    conn = backend.connect(target)
    for name, migrations in COMPONENTS:
        db.migrate(conn, name, migrations[:1])
    return Store(conn, target, backend)


def test_every_method_works_the_same_on_both_backends(db_target: Path | str) -> None:
    with Store.open(db_target) as store:
        _fill(store)
        assert store.subscriber("ALAN@example.org").status == "pending"  # type: ignore[union-attr]
        assert store.add_subscriber("alan@example.org", "confirmed")[1] is False  # same address
        assert [r.status for r in store.runs_for(D1)] == ["error"]
        assert store.http_cache_get("https://example.org/feed").body == b"\x00\x01 body"  # type: ignore[union-attr]
        assert [d.paper.authors for d in store.day_papers(D1)][0] == ("Ada", "Zoë")
        assert store.backend_name == ("sqlite" if isinstance(db_target, Path) else "postgresql")


def test_a_password_in_the_config_file_is_refused_naming_key_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "digest.toml"
    cfg.write_text('database = "postgresql://digest:hunter2@db.example:5432/digest"\n')
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    message = str(err.value)
    assert "\n" not in message and "hunter2" not in message
    assert str(cfg) in message and "'database' must not hold a password" in message
    code, output = run(capsys, "db", "check", "--config", str(cfg))
    assert code == 2 and output.count("\n") == 1 and "must not hold a password" in output


def test_an_unknown_database_scheme_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "digest.toml"
    cfg.write_text('database = "mysql://digest@db.example/digest"\n')
    with pytest.raises(ConfigError, match=r"digest.toml: 'database': .*unknown scheme 'mysql'"):
        load_config(cfg)


def test_digest_database_url_selects_postgresql(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "digest.toml"
    cfg.write_text(f'database = "{tmp_path / "ignored.sqlite"}"\n')
    monkeypatch.setenv("DIGEST_DATABASE_URL", pg_url)
    assert load_config(cfg).database_path == pg_url
    code, output = run(capsys, "db", "migrate", "--config", str(cfg))
    assert code == 0, output
    assert f"{pg_url}: schema up to date (" in output and "digests 2, for_you 1" in output
    assert not (tmp_path / "ignored.sqlite").exists()


def _examples(command: str) -> list[str]:
    text = CliRunner().invoke(cli, ["db", command, "--help"], terminal_width=200).output
    block = text.split("Example:", 1)[1]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("digest ")]


def test_db_help_examples_work_as_printed(
    tmp_path: Path, pg_server, capsys: pytest.CaptureFixture[str]
) -> None:
    """migrate and check as printed; copy as printed, its PostgreSQL URL pointed at the
    test server (the example names localhost:5432)."""
    (example,) = _examples("migrate")
    assert example == "digest db migrate --database sqlite:var/digest.sqlite"
    code, output = run(capsys, *shlex.split(example)[1:])
    assert code == 0 and "var/digest.sqlite: schema up to date" in output
    with Store.open(tmp_path / "var" / "digest.sqlite") as store:
        _fill(store)
    (example,) = _examples("check")
    code, output = run(capsys, *shlex.split(example)[1:])
    assert code == 0, output
    assert "  papers: 3 rows" in output and "ok: schema up to date" in output
    (example,) = _examples("copy")
    target = pg_server.new_database()
    printed = re.search(r"postgresql://\S+", example).group(0)  # type: ignore[union-attr]
    code, output = run(capsys, *shlex.split(example.replace(printed, target))[1:])
    assert code == 0, output
    assert "  papers: 3 rows" in output and "every table's count matches" in output
    with Store.open(tmp_path / "var" / "digest.sqlite") as src, Store.open(target) as dst:
        assert admin.counts(src) == admin.counts(dst)
        assert dst.day_papers(D1) == src.day_papers(D1)
        assert [s.email for s in dst.subscribers()] == [s.email for s in src.subscribers()]
        # the id sequence follows the copied rows: a new subscriber gets a fresh id
        new, created = dst.add_subscriber("grace@example.org", "confirmed")
        assert created and new.id == max(s.id for s in src.subscribers()) + 1
    # a second copy into the now non-empty database is refused, naming what is there
    code, output = run(capsys, *shlex.split(example.replace(printed, target))[1:])
    assert code == 1 and "the target database is not empty (" in output


def test_db_check_reports_an_old_schema_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.sqlite"
    _first_versions(path).close()
    code, output = run(capsys, "db", "check", "--database", str(path))
    assert code == 1
    assert "component papers: schema version 1, this digest has" in output
    assert "(run: digest db migrate)" in output


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DigestError) as err:
        Store.open("postgresql://digest@127.0.0.1:1/digest")
    assert "\n" not in str(err.value)
    assert "cannot connect to PostgreSQL" in str(err.value)


def test_a_server_restart_is_a_clear_error_and_the_next_open_works(pg_server, pg_url) -> None:
    if pg_server.data is None:
        pytest.skip("DIGEST_TEST_PG_URL: an outside server is not restarted")
    store = Store.open(pg_url)
    _fill(store)
    pg_server.restart()
    with pytest.raises(DigestError) as err:
        store.count_papers()
    assert "\n" not in str(err.value)
    assert "the PostgreSQL connection failed" in str(err.value)
    assert "retries at the next tick" in str(err.value)
    store.close()
    with Store.open(pg_url) as again:
        assert again.count_papers() == 3


def test_a_writer_kept_waiting_past_lock_timeout_is_one_line(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.store.backends import postgresql

    monkeypatch.setattr(postgresql, "LOCK_TIMEOUT", "1s")  # as SQLite's busy timeout, shorter
    with Store.open(pg_url) as holder, Store.open(pg_url) as waiter:
        with db.transaction(holder.conn):
            holder.conn.execute("DELETE FROM rate_events")  # holds the writer lock
            with pytest.raises(DigestError) as err:
                waiter.add_subscriber("ada@example.org", "confirmed")
        assert "\n" not in str(err.value)
        assert "another writer held the database for 1s" in str(err.value)
        assert waiter.add_subscriber("ada@example.org", "confirmed")[1]  # free again


def test_the_delivery_log_is_written_a_batch_per_call_on_both_backends(
    db_target: Path | str,
) -> None:
    from digest.store.subscribers import Delivery

    with Store.open(db_target) as store:
        ada, _ = store.add_subscriber("ada@example.org", "confirmed")
        bob, _ = store.add_subscriber("bob@example.org", "confirmed")
        gone, _ = store.add_subscriber("gone@example.org", "unsubscribed")
        assert store.confirmed_among([ada.id, bob.id, gone.id, 999]) == {ada.id, bob.id}
        assert store.confirmed_among([]) == set()
        round_ = store.send_round(D1)

        def logged() -> dict[int, str | None]:
            return {r.id: r.logged for r in store.recipients(D1, round_)}

        store.log_deliveries(D1, round_, [Delivery(ada.id, "sending", "<a@x>")])
        store.log_deliveries(D1, round_, [Delivery(bob.id, "deferred", "<b@x>", "451 later")])
        assert logged() == {ada.id: "sending", bob.id: "deferred"}
        # ada refused for good (she bounces at one hard failure), bob marked for a retry
        store.log_deliveries(
            D1,
            round_,
            [
                Delivery(ada.id, "failed", "<a@x>", "550 no such user"),
                Delivery(bob.id, "sending", "<b@x>"),
            ],
            max_hard_failures=1,
        )
        assert logged() == {bob.id: "sending"}
        refused = store.subscriber("ada@example.org")
        assert refused is not None and refused.status == "bouncing"
        assert (refused.hard_failures, refused.last_error) == (1, "550 no such user")
        store.set_subscriber_status("ada@example.org", "confirmed")  # resets the count
        store.log_deliveries(D1, round_, [Delivery(bob.id, "sent", "<b@x>")])
        assert logged() == {}
        assert store.delivery_counts(D1, round_) == {"failed": 1, "sent": 1}
        store.log_deliveries(D1, round_, [])  # nothing to write: no transaction
        # a SENT resets the hard-failure count a FAILED added (max 0: never bouncing)
        again = store.send_round(D1, new=True)
        store.log_deliveries(D1, again, [Delivery(ada.id, "failed", "<a2@x>", "552 full")])
        store.log_deliveries(D1, again, [Delivery(ada.id, "sent", "<a2@x>")])
        reset = store.subscriber("ada@example.org")
        assert reset is not None and (reset.status, reset.hard_failures) == ("confirmed", 0)
        assert reset.last_error is None
