"""The what-if's prepared scoring database, kept from one try to the next.

A score prepares its database in its own work folder and deletes it when the run is
published (:func:`hrss_fraud.scoring.score.score`), so nothing of it is left to reuse. The
what-if keeps one of its own, ``WORKSPACE/whatif/prepared.duckdb`` (personal data: a
private folder, never backed up), stamped inside the file with what it was built from:
the lake's manifest, the knowledge base, the code that prepares it and the DuckDB
version. A try reuses it while the stamp matches what is there now.

A try never writes to it: the file is attached read only to an in-memory database that
takes whatever a rule writes (a kernel's helper tables, the saved models), so tries run
side by side and never race a preparation. A try that finds none current prepares one
under a lock (a second try waits, then reuses it), beside the old one, and renames it
into place: a try still reading the old file keeps its copy until it closes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

from hrss_fraud.engine import enrolment, prepare, runs
from hrss_fraud.knowledge import load_knowledge, treatment
from hrss_fraud.lake import Lake, latest, views
from hrss_fraud.lake.fsutil import fsync_dir, private_dirs
from hrss_fraud.lake.manifest import MANIFEST
from hrss_fraud.resources import policy_path

FOLDER = "whatif"
DB = "prepared.duckdb"
STAMP_TABLE = "_whatif_stamp"
_BUILDERS = (prepare, enrolment, treatment, latest, views)
"""The modules whose code makes the prepared tables: a change to any makes a new one."""


class PrepareError(RuntimeError):
    """No prepared database can be made (an empty lake); the message says what to do."""


def folder(workspace: Path) -> Path:
    return Path(workspace) / FOLDER


def stamp(workspace: Path) -> dict[str, str]:
    """What a prepared database of ``workspace`` made now would be built from."""
    lake = Path(workspace) / "lake" / MANIFEST
    if not lake.is_file():
        msg = f"the lake {lake.parent} is empty; ingest uploads first (`hrss-fraud ingest`)"
        raise PrepareError(msg)
    knowledge = policy_path("analytics", "knowledge", workspace)
    return {
        "lake": hashlib.sha256(lake.read_bytes()).hexdigest()[:16],
        "knowledge": runs.fingerprint(list(knowledge.glob("*.csv"))),
        "code": _code(),
        "duckdb": duckdb.__version__,
    }


@cache
def _code() -> str:
    """The preparing code's fingerprint as this process loaded it (read once: the files
    may change under a running process, its code does not)."""
    return runs.fingerprint([Path(str(m.__file__)) for m in _BUILDERS])


def stamp_of(path: Path) -> dict[str, str] | None:
    """The stamp a prepared database carries; None when there is none or it is unreadable
    (a file left half-written, an older format)."""
    if not path.is_file():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return json.loads(con.execute(f"SELECT body FROM {STAMP_TABLE}").fetchall()[0][0])
    except (duckdb.Error, IndexError, ValueError):
        return None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # waits while another try prepares
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(
    workspace: Path,
    *,
    memory_limit: str = "6GB",
    on_prepare: Callable[[], None] | None = None,
) -> tuple[Path, bool]:
    """A current prepared database of ``workspace`` and whether it was prepared now
    (``on_prepare`` is called before a preparation starts: it takes as long as a score's)."""
    where = folder(workspace)
    private_dirs(where)
    path = where / DB
    if stamp_of(path) == stamp(workspace):
        return path, False
    with _locked(where / "prepare.lock"):
        wanted = stamp(workspace)  # the lake may have moved while this try waited
        if stamp_of(path) == wanted:
            return path, False
        if on_prepare is not None:
            on_prepare()
        for left in where.glob(f".{DB}.*.tmp*"):  # a crashed preparation's (under the lock)
            left.unlink(missing_ok=True)
        tmp = where / f".{DB}.{os.getpid()}.tmp"
        kb = load_knowledge(policy_path("analytics", "knowledge", workspace))
        con = prepare.open_scoring_db(tmp, memory_limit)
        try:
            prepare.build(con, Lake(Path(workspace) / "lake"), kb)
            con.execute(f"CREATE TABLE {STAMP_TABLE} AS SELECT ? AS body", [json.dumps(wanted)])
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
        fsync_dir(where)
    return path, True


def open_prepared(path: Path, memory_limit: str = "6GB") -> duckdb.DuckDBPyConnection:
    """An in-memory database that reads ``path``'s tables, views and macros by their own
    names and keeps what a rule creates to itself; set up as a score's database is."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    spill = path.parent / "spill"
    con.execute(f"SET temp_directory = '{_quoted(spill)}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"ATTACH '{_quoted(path)}' AS prepared (READ_ONLY)")
    con.execute("SET search_path = 'memory.main,prepared.main'")
    return con


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
