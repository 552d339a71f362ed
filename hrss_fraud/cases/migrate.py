"""Bring a case-store database up to this code's schema, one numbered SQL file at a time.

The migrations are the package's ``migrations/NNNN_name.sql`` files, numbered from 1
without gaps. ``schema_version`` records each one applied with its SHA-256, so a file
edited after release is caught instead of leaving databases that differ silently. All
pending migrations apply inside one transaction that holds the write lock, so two
processes opening a new store at once cannot both migrate it, and a failing migration
leaves the database as it was. A database migrated by newer code is refused: this code
would not know what its tables mean.

The same files migrate a case store on PostgreSQL: its connection
(:mod:`hrss_fraud.cases.pg`) translates each statement (:mod:`hrss_fraud.cases.dialect`),
so a migration is written once, in SQLite SQL.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


class SchemaError(RuntimeError):
    """A database this code cannot use: newer, or migrated by different migration files."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def available() -> list[Migration]:
    """The package's migrations in order; a gap or a stray file is a packaging error."""
    folder = resources.files("hrss_fraud.cases").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m[1]), m[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda x: x.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        msg = f"case-store migrations must be numbered 1, 2, … without gaps; found {numbers}"
        raise SchemaError(msg)
    return found


def latest_version() -> int:
    return len(available())


def statements(sql: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit the transaction);
    SQLite's own completeness test keeps trigger bodies and quoted semicolons whole."""
    out, buf = [], ""
    for piece in sql.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    rest = buf[:-1].strip()  # the split added a ';' after the last piece
    if rest and not _is_empty(rest):
        msg = f"incomplete SQL statement at the end of a migration: {rest[:80]!r}"
        raise SchemaError(msg)
    return [s for s in out if not _is_empty(s)]


def _is_empty(stmt: str) -> bool:
    body = "\n".join(ln for ln in stmt.splitlines() if not ln.strip().startswith("--"))
    return body.strip() in ("", ";")


def _applied(con: sqlite3.Connection) -> dict[int, tuple[str, str]] | None:
    exists = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return None
    rows = con.execute("SELECT version, name, sha256 FROM schema_version").fetchall()
    return {v: (n, s) for v, n, s in rows}


def _check(applied: dict[int, tuple[str, str]], migrations: list[Migration], where: str) -> None:
    known = {m.version: m for m in migrations}
    newer = sorted(v for v in applied if v not in known)
    if newer:
        msg = (
            f"{where}: the case store has schema version {max(applied)}, newer than this "
            f"code's {len(migrations)}; upgrade hrss_fraud before opening it"
        )
        raise SchemaError(msg)
    for v, (name, sha) in sorted(applied.items()):
        if sha != known[v].sha256:
            msg = (
                f"{where}: migration {v:04d}_{name} was applied from a different file than "
                "this code ships; do not edit released migrations, add a new one"
            )
            raise SchemaError(msg)


def migrate(con: sqlite3.Connection, where: str = "case store") -> list[int]:
    """Apply every pending migration; return the versions applied (empty if none).

    ``con`` must be in autocommit mode (``isolation_level=None``): the transaction here is
    explicit, so the DDL and the version rows commit together or not at all."""
    migrations = available()
    applied = _applied(con)
    if applied is not None:
        _check(applied, migrations, where)
        if len(applied) == len(migrations):
            return []  # the common case: no write lock taken
    con.execute("BEGIN IMMEDIATE")
    try:
        con.execute(_VERSION_TABLE)
        applied = _applied(con) or {}
        _check(applied, migrations, where)  # another process may have migrated meanwhile
        done = []
        for m in migrations:
            if m.version in applied:
                continue
            for stmt in statements(m.sql):
                con.execute(stmt)
            con.execute(
                "INSERT INTO schema_version (version, name, sha256, applied_at) VALUES (?,?,?,?)",
                (m.version, m.name, m.sha256, datetime.now(UTC).isoformat()),
            )
            done.append(m.version)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return done
