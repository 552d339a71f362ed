"""The case store on PostgreSQL (a province; psycopg 3): a connection that takes the
store's SQLite SQL and behaves as the store's ``sqlite3`` connection does.

Statements are translated by :mod:`hrss_fraud.cases.dialect`. What the store relies on
from SQLite is kept, not approximated:

- one writer at a time: ``BEGIN IMMEDIATE`` takes a transaction-scoped advisory lock
  that every writer takes, waiting at most the busy timeout (``lock_timeout``), so the
  serials, chain links and counters numbered by ``max(...) + 1`` stay gapless;
- a read snapshot: ``BEGIN`` is ``REPEATABLE READ``;
- errors of the DB-API classes the callers catch (``sqlite3.IntegrityError``, …), the
  PostgreSQL error attached as the cause; a lock not granted in time reads
  "database is locked", as :func:`hrss_fraud.cases.busy.is_busy` expects;
- values as SQLite returns them: booleans as 0/1, integral sums as ``int``;
- the catalogue the store reads (``sqlite_master``, ``sqlite_sequence``) and the
  chain's hash function, created once per database by :func:`bootstrap`.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus

from hrss_fraud.cases import dialect

WRITE_LOCK = 0x48525353  # "HRSS": the advisory lock every writer of the store takes

_BOOTSTRAP = r"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'nocase') THEN
    CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS sqlite_sequence (name TEXT PRIMARY KEY, seq BIGINT NOT NULL);

CREATE OR REPLACE VIEW sqlite_master AS
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'i' THEN 'index' ELSE 'table' END AS type,
       c.relname::text AS name, coalesce(t.relname, c.relname)::text AS tbl_name,
       NULL::text AS sql
FROM pg_class c
LEFT JOIN pg_index x ON x.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = x.indrelid
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'i')
UNION ALL
SELECT 'trigger', g.tgname::text, c.relname::text,
       'CREATE TRIGGER ' || g.tgname || ' ON ' || c.relname || ' TYPE ' || g.tgtype
       || ' ENABLED ' || g.tgenabled::text || ' ' || p.prosrc
FROM pg_trigger g
JOIN pg_class c ON c.oid = g.tgrelid
JOIN pg_proc p ON p.oid = g.tgfoid
WHERE NOT g.tgisinternal AND c.relnamespace = current_schema()::regnamespace;

-- the chain's link hash (cases/chain.py link_hash): SHA-256 of the four parts joined by 0x1f
CREATE OR REPLACE FUNCTION hrss_chain_hash(prev text, tbl text, id text, js text)
RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT encode(sha256(convert_to(
    coalesce(prev, '') || chr(31) || tbl || chr(31) || id || chr(31) || js, 'UTF8')), 'hex')
$f$;

-- a REAL as SQLite's json_object writes it: printf('%!.15g')
CREATE OR REPLACE FUNCTION hrss_sqlite_real(x double precision)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE m text[]; e int; frac text; s text;
BEGIN
  IF x = 0 THEN RETURN '0.0'; END IF;
  m := regexp_match(to_char(x, '9.99999999999999EEEE'), '(-?)(\d)\.(\d+)e([-+]\d+)');
  e := m[4]::int;
  IF e < -4 OR e >= 15 THEN
    frac := rtrim(m[3], '0');
    RETURN m[1] || m[2] || '.' || CASE WHEN frac = '' THEN '0' ELSE frac END || 'e'
        || CASE WHEN e < 0 THEN '-' ELSE '+' END
        || CASE WHEN abs(e) < 10 THEN '0' ELSE '' END || abs(e)::text;
  END IF;
  s := x::numeric::text;
  IF position('.' IN s) > 0 THEN
    s := rtrim(rtrim(s, '0'), '.');
  END IF;
  RETURN CASE WHEN position('.' IN s) > 0 THEN s ELSE s || '.0' END;
END
$f$;

-- SQLite's date(text, modifier...): 'YYYY-MM-DD' text, NULL for what it cannot read; with
-- modifiers ('+N days|months|years') a day past the month's end rolls over as in SQLite
CREATE OR REPLACE FUNCTION hrss_sqlite_date(x text, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE plpgsql STABLE AS $f$
DECLARE m text[]; y int; mo int; dd int; d date; k text; n int; u text;
BEGIN
  IF lower(trim(x)) = 'now' THEN  -- SQLite's 'now' is UTC
    x := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD');
  END IF;
  m := regexp_match(x,
    '^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?\s*$');
  IF m IS NULL OR m[2]::int NOT BETWEEN 1 AND 12 OR m[3]::int NOT BETWEEN 1 AND 31 THEN
    RETURN NULL;
  END IF;
  IF cardinality(mods) = 0 THEN  -- SQLite gives the day back as written: 02-30 stays
    RETURN m[1] || '-' || m[2] || '-' || m[3];
  END IF;
  y := m[1]::int; mo := m[2]::int; dd := m[3]::int;
  FOREACH k IN ARRAY mods LOOP
    m := regexp_match(k, '^\s*([-+]?\d+)\s+(days?|months?|years?)\s*$', 'i');
    IF m IS NULL THEN RETURN NULL; END IF;
    n := m[1]::int; u := lower(rtrim(m[2], 'sS'));
    IF u = 'day' THEN  -- on the calendar day the fields name (02-30 is 03-01)
      d := make_date(y, mo, 1) + (dd - 1) + n;
      y := extract(year FROM d); mo := extract(month FROM d); dd := extract(day FROM d);
    ELSE  -- SQLite moves the month fields and lets the day roll over at the end
      n := CASE u WHEN 'month' THEN n ELSE 12 * n END + 12 * y + mo - 1;
      y := n / 12; mo := n % 12 + 1;
    END IF;
  END LOOP;
  RETURN to_char(make_date(y, mo, 1) + (dd - 1), 'YYYY-MM-DD');
END
$f$;

CREATE OR REPLACE FUNCTION hrss_json_value(v text) RETURNS text LANGUAGE sql IMMUTABLE
AS $f$ SELECT coalesce(to_json(v)::text, 'null') $f$;
CREATE OR REPLACE FUNCTION hrss_json_value(v bigint) RETURNS text LANGUAGE sql IMMUTABLE
AS $f$ SELECT coalesce(v::text, 'null') $f$;
CREATE OR REPLACE FUNCTION hrss_json_value(v integer) RETURNS text LANGUAGE sql IMMUTABLE
AS $f$ SELECT coalesce(v::text, 'null') $f$;
CREATE OR REPLACE FUNCTION hrss_json_value(v boolean) RETURNS text LANGUAGE sql IMMUTABLE
AS $f$ SELECT CASE WHEN v THEN '1' WHEN NOT v THEN '0' ELSE 'null' END $f$;
CREATE OR REPLACE FUNCTION hrss_json_value(v numeric) RETURNS text LANGUAGE sql IMMUTABLE
AS $f$ SELECT CASE WHEN v IS NULL THEN 'null' WHEN scale(v) = 0 THEN v::text
                   ELSE hrss_sqlite_real(v::double precision) END $f$;
CREATE OR REPLACE FUNCTION hrss_json_value(v double precision) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$ SELECT coalesce(hrss_sqlite_real(v), 'null') $f$;
"""


BOOTSTRAP_SHA256 = hashlib.sha256(_BOOTSTRAP.encode()).hexdigest()
_CHAIN_FN = "hrss_chain_hash(text,text,text,text)"


def bootstrap(con: psycopg.Connection) -> None:
    """Create what the translated SQL calls and reads (idempotent), and mark the database
    with this text's SHA-256 so newer code replaces the functions; the caller holds the
    write lock."""
    con.execute(_BOOTSTRAP)
    con.execute(f"COMMENT ON FUNCTION {_CHAIN_FN} IS '{BOOTSTRAP_SHA256}'")


def _bootstrapped(con: psycopg.Connection) -> bool:
    sql = f"SELECT obj_description(to_regprocedure('{_CHAIN_FN}'), 'pg_proc')"
    row = con.execute(sql).fetchone()
    return row is not None and row[0] == BOOTSTRAP_SHA256


class StoreUnavailable(sqlite3.OperationalError):
    """The PostgreSQL case store could not be reached; the message names it (no password)."""


class _Unknown(Dumper):
    """A number sent as untyped text, so PostgreSQL types it from where it stands, as
    SQLite's loose typing would (``text_col = ?`` with an int must not fail)."""

    oid = 0

    def dump(self, obj: Any) -> bytes:
        return str(int(obj) if isinstance(obj, bool) else obj).encode()


class _BoolAsInt(Loader):
    def load(self, data: Any) -> int:
        return 1 if bytes(data) == b"t" else 0


class _Numeric(Loader):
    """``sum``/``avg`` give numeric: an integral one as ``int`` (SQLite's integer sum),
    else ``float``."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


class Cursor:
    """The rows of one statement, read as from a ``sqlite3.Cursor``."""

    def __init__(self, rows: list[tuple], description: Any, rowcount: int, lastrowid: int | None):
        self._rows = rows
        self._pos = 0
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> tuple | None:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchall(self) -> list[tuple]:
        rest, self._pos = self._rows[self._pos :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[tuple]:
        while (row := self.fetchone()) is not None:
            yield row


class Connection:
    """A PostgreSQL case store behind the methods the store's modules call on a
    ``sqlite3.Connection`` (``execute``, ``executemany``, ``in_transaction``, ``close``)."""

    dialect = "postgresql"

    def __init__(self, con: psycopg.Connection, busy_timeout: float) -> None:
        self._con = con
        self._timeout_ms = max(1, int(busy_timeout * 1000))

    @property
    def in_transaction(self) -> bool:
        return self._con.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self._con.close()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        word = sql.strip().rstrip(";").upper()
        if word in ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"):
            return self._write_begin()
        if word in ("BEGIN", "BEGIN DEFERRED"):
            return self._run("BEGIN ISOLATION LEVEL REPEATABLE READ", None)
        if word in ("COMMIT", "ROLLBACK", "END"):
            return self._run("COMMIT" if word == "END" else word, None)
        if word.startswith("PRAGMA"):
            msg = f"PRAGMA is SQLite's; the case store on PostgreSQL has none: {sql[:80]!r}"
            raise sqlite3.NotSupportedError(msg)
        try:
            done = dialect.translate(sql)
        except dialect.TranslationError as e:
            raise sqlite3.ProgrammingError(str(e)) from e
        values = None if done.ddl else params if isinstance(params, dict) else tuple(params)
        for part in done.statements[:-1]:
            self._run(part, values)
        return self._run(done.statements[-1], values, returns_key=done.returns_key)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        count, last = 0, None
        for params in seq:
            cur = self.execute(sql, params)
            count += max(cur.rowcount, 0)
            last = cur.lastrowid
        return Cursor([], None, count, last)

    def _write_begin(self) -> Cursor:
        self._run("BEGIN ISOLATION LEVEL READ COMMITTED", None)
        try:
            self._run(f"SET LOCAL lock_timeout = {self._timeout_ms}", None)
            self._run(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})", None)
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return Cursor([], None, -1, None)

    def _run(self, sql: str, params: tuple | dict | None, *, returns_key: bool = False) -> Cursor:
        try:
            cur = self._con.execute(sql, params)
            rows = cur.fetchall() if cur.description is not None else []
        except psycopg.Error as e:
            raise _as_sqlite(e) from e
        if returns_key:  # the RETURNING the translation added: the key, as lastrowid
            return Cursor([], None, cur.rowcount, int(rows[-1][0]) if rows else None)
        return Cursor(rows, cur.description, cur.rowcount, None)


_CLASSES: tuple[tuple[type[psycopg.Error], type[sqlite3.Error]], ...] = (
    (pg_errors.LockNotAvailable, sqlite3.OperationalError),
    (pg_errors.IntegrityError, sqlite3.IntegrityError),
    (pg_errors.ProgrammingError, sqlite3.OperationalError),
    (pg_errors.DataError, sqlite3.IntegrityError),
    (pg_errors.OperationalError, sqlite3.OperationalError),
    (pg_errors.NotSupportedError, sqlite3.NotSupportedError),
    (pg_errors.InternalError, sqlite3.InternalError),
)


def _as_sqlite(e: psycopg.Error) -> sqlite3.Error:
    """The DB-API error of the class SQLite raises in the same case."""
    text = (e.diag.message_primary or str(e)).strip()
    if isinstance(e, pg_errors.LockNotAvailable | pg_errors.DeadlockDetected):
        return sqlite3.OperationalError(f"database is locked (PostgreSQL: {text})")
    for pg_class, cls in _CLASSES:
        if isinstance(e, pg_class):
            return cls(text)
    return sqlite3.DatabaseError(text)


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable PostgreSQL URL)"
    return " ".join(f"{k}={'***' if k == 'password' else v}" for k, v in parts.items())


def connect(url: str, *, busy_timeout: float) -> Connection:
    """A connection to the PostgreSQL case store at ``url`` (libpq URL or key=value
    string), in autocommit mode (transactions are explicit, as on SQLite), with the
    catalogue and functions of :func:`bootstrap` in place."""
    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(busy_timeout)))
    except psycopg.Error as e:
        msg = f"cannot connect to the PostgreSQL case store {redacted(url)}: {str(e).strip()}"
        raise StoreUnavailable(msg) from e
    for cls in (int, float, bool):
        con.adapters.register_dumper(cls, _Unknown)
    con.adapters.register_loader("bool", _BoolAsInt)
    con.adapters.register_loader("numeric", _Numeric)
    wrapped = Connection(con, busy_timeout)
    if not _bootstrapped(con):
        wrapped.execute("BEGIN IMMEDIATE")
        try:
            if not _bootstrapped(con):  # another process may have done it meanwhile
                bootstrap(con)
        except BaseException:
            con.execute("ROLLBACK")
            con.close()
            raise
        con.execute("COMMIT")
    return wrapped
