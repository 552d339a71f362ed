"""A throw-away PostgreSQL server for the case-store tests on PostgreSQL: initdb into a
temporary folder, started on a free 127.0.0.1 port with its socket in that folder, and
removed when the session ends.

PostgreSQL refuses to run as root; the tests run as root in CI, so the server then runs
as the ``postgres`` system user (which Debian's ``postgresql`` package creates) and the
folder is handed to it. Without the binaries, or as root without that user, the tests on
PostgreSQL are skipped with the reason (:func:`unavailable`).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

TEMPLATE = "hrss_template"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: ``pg_config --bindir``, Debian's versioned folder
    (newest first) or the PATH."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        found = Path(out.stdout.strip())
        if out.returncode == 0 and (found / "initdb").exists():
            return found
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if versions:
        return Path(versions[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_as() -> list[str] | None:
    """The prefix that runs a server command: none for an ordinary user, ``runuser -u
    postgres --`` for root; None when root has no ``postgres`` user to run it."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    runuser = shutil.which("runuser")
    return [runuser, "-u", "postgres", "--"] if runuser else None


def unavailable() -> str | None:
    """Why no server can be started here, or None."""
    if bindir() is None:
        return "no PostgreSQL server binaries (initdb): `make system-deps` installs postgresql"
    if _run_as() is None:
        return "running as root without a `postgres` user (or runuser) to run PostgreSQL as"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server: its folder, port and a counter for fresh database names."""

    root: Path
    port: int
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def fresh_database(self, template: str = TEMPLATE) -> str:
        """A new empty-of-data database copied from ``template``; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with self.admin() as con:
            con.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        with self.admin() as con:
            con.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        prefix, bins = _run_as() or [], bindir()
        subprocess.run(
            [*prefix, str(bins / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
             "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Server:
    """Initialise and start a server; returns once it accepts connections (pg_ctl -w
    polls for that, then one connection confirms it)."""
    bins, prefix = bindir(), _run_as()
    assert bins is not None and prefix is not None, unavailable()
    root = Path(tempfile.mkdtemp(prefix="hrss-pg-"))
    if prefix:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, cwd=root)
        if done.returncode != 0:
            log = (root / "log").read_text() if (root / "log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            msg = f"{args[0]} failed ({done.returncode}): {done.stderr.strip()} {log}"
            raise RuntimeError(msg)

    run(str(bins / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
        "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    run(str(bins / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
        "-w", "-t", "120", "start")  # fmt: skip
    server = Server(root, port)
    with server.admin() as con:
        con.execute("SELECT 1")
    return server
