"""A throwaway PostgreSQL cluster for the tests and the benches.

``DIGEST_TEST_PG_URL`` set: that server is used (each test gets a schema of its own).
Otherwise a cluster is made with ``initdb`` in a temporary folder, on a free local port
with its unix socket in that folder, and stopped and removed at the end. As root, the
server runs as a non-root user (``postgres`` when it exists, else ``nobody``): PostgreSQL
refuses to run as root. :func:`start` raises :class:`Unavailable` with the reason when it
cannot, so the caller can skip visibly (or fail under ``CI=true``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


class Unavailable(Exception):
    pass


@dataclass
class Cluster:
    url: str  # postgresql://user@127.0.0.1:port/postgres
    data: Path | None  # None: an outside server (DIGEST_TEST_PG_URL)
    run_as: list[str]
    bindir: Path | None

    def stop(self) -> None:
        if self.data is None or self.bindir is None:
            return
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.data.parent, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start the server (fault drills: the database restarted mid-run)."""
        assert self.data is not None and self.bindir is not None
        ctl = [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data)]
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
        subprocess.run(
            [*ctl, "-w", "-l", str(self.data.parent / "log"), "start"],
            capture_output=True,
            timeout=60,
            check=True,
        )

    def new_database(self) -> str:
        """A fresh, empty database on this server; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        return self.url.rsplit("/", 1)[0] + "/" + name


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: PATH, then Debian's /usr/lib/postgresql/N/bin (newest)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> tuple[list[str], str]:
    """(command prefix, user name) to run the server as a non-root user."""
    if os.geteuid() != 0:
        return [], pwd.getpwuid(os.geteuid()).pw_name
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        if shutil.which("runuser") is None:
            raise Unavailable("running as root and runuser is missing (initdb refuses root)")
        return ["runuser", "-u", user, "--"], user
    raise Unavailable("running as root and no postgres or nobody user to run initdb as")


def start() -> Cluster:
    url = os.environ.get("DIGEST_TEST_PG_URL", "").strip()
    if url:
        return Cluster(url, None, [], None)
    bins = bindir()
    if bins is None:
        raise Unavailable(
            "no PostgreSQL binaries (initdb, pg_ctl): install Debian's postgresql "
            "(.ci/run does) or set DIGEST_TEST_PG_URL"
        )
    run_as, user = _run_as()
    top = Path(tempfile.mkdtemp(prefix="digest-pg-"))
    data = top / "data"
    if os.geteuid() == 0:
        info = pwd.getpwnam(user)
        os.chown(top, info.pw_uid, info.pw_gid)
    init = subprocess.run(
        [
            *run_as,
            str(bins / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        shutil.rmtree(top, ignore_errors=True)
        raise Unavailable(f"initdb failed: {(init.stderr or init.stdout).strip()[-300:]}")
    port = _free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{top}'\nmax_connections = 200\n"
            "shared_buffers = 128MB\n"
        )
    started = subprocess.run(
        [*run_as, str(bins / "pg_ctl"), "-D", str(data), "-w", "-l", str(top / "log"), "start"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if started.returncode != 0:
        log = (top / "log").read_text(errors="replace")[-300:] if (top / "log").exists() else ""
        shutil.rmtree(top, ignore_errors=True)
        raise Unavailable(f"pg_ctl start failed: {started.stderr.strip()[-200:]} {log}")
    return Cluster(f"postgresql://{user}@127.0.0.1:{port}/postgres", data, run_as, bins)
