"""The case store's SQL, written once for SQLite, as PostgreSQL runs it.

The migrations and every module's queries stay SQLite SQL; a PostgreSQL connection
(:mod:`hrss_fraud.cases.pg`) translates each statement here on its way out, once per
distinct text (cached). Plain statements go through sqlglot (``sqlite`` → ``postgres``:
``?`` → ``%s``, ``group_concat`` → ``string_agg``, ``IS NOT`` → ``IS DISTINCT FROM``, …)
plus what sqlglot leaves SQLite-shaped:

- ``json_object(...)`` becomes text built by ``hrss_json_value``, which writes values as
  SQLite's ``json_object`` does, so a chain link's JSON and hash are the same bytes on
  both databases;
- ``INTEGER PRIMARY KEY AUTOINCREMENT`` becomes a plain ``BIGINT`` key that a
  ``BEFORE INSERT`` trigger numbers from the ``sqlite_sequence`` table, as SQLite does
  (transactional: a rolled-back insert hands its number back, which ``cases verify``
  relies on), and an ``INSERT`` into such a table returns its key (``lastrowid``);
- ``CREATE TRIGGER … BEGIN … END`` becomes a PL/pgSQL function and a row trigger, its
  ``WHEN`` an ``IF`` inside (PostgreSQL's ``WHEN`` takes no subquery) and
  ``RAISE(ABORT, msg)`` an exception of class 23000 (an integrity error, as in SQLite);
- ``date(text, modifier…)`` becomes ``hrss_sqlite_date``, text in and out as in SQLite
  (a day past the month's end rolls over; bad input gives NULL);
- ``LIKE`` becomes ``ILIKE`` (SQLite's ``LIKE`` ignores ASCII case) and ``rowid``
  becomes ``ctid`` (insertion order of an append-only table);
- a ``%`` in a string literal is doubled, since psycopg reads ``%`` as a placeholder.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

import sqlglot
from sqlglot import exp

_TRIGGER = re.compile(
    r"^CREATE\s+TRIGGER\s+(?P<name>\w+)\s+(?P<timing>BEFORE|AFTER)\s+"
    r"(?P<event>INSERT|DELETE|UPDATE(?:\s+OF\s+[\w\s,]+?)?)\s+ON\s+(?P<table>\w+)\s*"
    r"(?:WHEN\s+(?P<when>.*?)\s*)?BEGIN\s+(?P<body>.*)\s+END\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_RAISE = re.compile(r"^SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*('(?:[^']|'')*')\s*\)$", re.I | re.S)
_AUTOINCREMENT = re.compile(
    r"CREATE\s+TABLE\s+(\w+)\s*\(\s*(\w+)\s+INTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT", re.I
)
_COMMENT = re.compile(r"--[^\n]*")
_DROP_TRIGGER = re.compile(r"^DROP\s+TRIGGER\s+(IF\s+EXISTS\s+)?(\w+)\s*;?$", re.I)

# pg_trigger.tgtype bits (PostgreSQL's include/catalog/pg_trigger.h)
_ROW, _BEFORE, _INSERT, _DELETE, _UPDATE = 1, 2, 4, 8, 16
_EVENT_BITS = {"INSERT": _INSERT, "DELETE": _DELETE, "UPDATE": _UPDATE}


class TranslationError(ValueError):
    """A statement the PostgreSQL translation cannot take; the message quotes it."""


@dataclass(frozen=True)
class Trigger:
    """One SQLite trigger, parsed: enough to write it for PostgreSQL and to describe the
    trigger PostgreSQL then holds (:func:`trigger_signature`)."""

    name: str
    timing: str
    event: str
    table: str
    when: str | None
    body: str

    @property
    def tgtype(self) -> int:
        bits = _ROW | (_BEFORE if self.timing == "BEFORE" else 0)
        return bits | _EVENT_BITS[self.event.split()[0]]

    def function_body(self) -> str:
        """The PL/pgSQL of the trigger's function: the SQLite body, under its WHEN."""
        steps = [_body_statement(s) for s in _split(self.body)]
        result = "NULL" if self.timing == "AFTER" else "OLD" if self.event == "DELETE" else "NEW"
        inner = "\n".join(steps)
        if self.when:
            inner = f"IF {_expression(self.when)} THEN\n{inner}\nEND IF;"
        return f"\nBEGIN\n{inner}\nRETURN {result};\nEND\n"


def parse_trigger(sql: str) -> Trigger | None:
    """The trigger a ``CREATE TRIGGER`` statement makes, or None for any other statement."""
    m = _TRIGGER.match(_COMMENT.sub("", sql).strip())
    if not m:
        return None
    event = " ".join(m["event"].upper().split())
    return Trigger(m["name"], m["timing"].upper(), event, m["table"], m["when"], m["body"])


def trigger_signature(name: str, table: str, tgtype: int, enabled: str, body: str) -> str:
    """How the ``sqlite_master`` view of a PostgreSQL store shows a trigger: what
    ``cases verify`` compares with the migration's trigger through :func:`expected_trigger`."""
    return f"CREATE TRIGGER {name} ON {table} TYPE {tgtype} ENABLED {enabled} {body}"


def expected_trigger(sql: str) -> str | None:
    """The ``sqlite_master`` text a migration's ``CREATE TRIGGER`` gives on PostgreSQL."""
    t = parse_trigger(sql)
    if t is None:
        return None
    return trigger_signature(t.name, t.table, t.tgtype, "O", t.function_body())


@functools.cache
def autoincrement_keys() -> dict[str, str]:
    """Table → key of every ``AUTOINCREMENT`` table the migrations create."""
    folder = resources.files("hrss_fraud.cases").joinpath("migrations")
    found: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            text = _COMMENT.sub("", entry.read_text(encoding="utf-8"))
            found.update({t.lower(): k for t, k in _AUTOINCREMENT.findall(text)})
    return found


@dataclass(frozen=True)
class Translated:
    """What one SQLite statement becomes: the statements (a trigger or an AUTOINCREMENT
    table takes more than one), whether they are DDL (run without parameters, so their
    ``%`` stay single) and whether the last returns the new row's key (``lastrowid``)."""

    statements: tuple[str, ...]
    ddl: bool = False
    returns_key: bool = False


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> Translated:
    """The PostgreSQL form of one SQLite statement (see the module's docstring)."""
    trigger = parse_trigger(sql)
    if trigger is not None:
        return Translated(_trigger_ddl(trigger), ddl=True)
    drop = _DROP_TRIGGER.match(_COMMENT.sub("", sql).strip())
    if drop:
        return Translated((_drop_trigger(drop[2], bool(drop[1])),), ddl=True)
    tree = _parse(sql)
    ddl = isinstance(tree, exp.Create | exp.Alter | exp.Drop)
    keyed = _autoincrement(tree)
    _rewrite(tree, escape_percent=not ddl)
    out = tree.sql(dialect="postgres", comments=False)
    if keyed:
        return Translated((out, *_rowid_trigger(*keyed)), ddl=True)
    if isinstance(tree, exp.Insert) and not tree.args.get("returning"):
        table = tree.find(exp.Table)
        key = autoincrement_keys().get(table.name.lower()) if table else None
        if key:
            return Translated((f"{out} RETURNING {key}",), returns_key=True)
    return Translated((out,), ddl=ddl)


def _parse(sql: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.ParseError as e:
        msg = f"cannot translate this SQLite statement for PostgreSQL ({e}): {sql[:200]!r}"
        raise TranslationError(msg) from e
    if tree is None:
        raise TranslationError(f"no SQL statement in {sql[:200]!r}")
    return tree


def _autoincrement(tree: exp.Expression) -> tuple[str, str] | None:
    """For ``CREATE TABLE`` with an AUTOINCREMENT key: drop sqlglot's identity column (the
    ``sqlite_sequence`` trigger numbers it instead) and return (table, key)."""
    if not isinstance(tree, exp.Create) or tree.kind != "TABLE":
        return None
    keyed = None
    for col in tree.find_all(exp.ColumnDef):
        for c in list(col.constraints):
            kind = c.args.get("kind")
            if isinstance(
                kind, exp.GeneratedAsIdentityColumnConstraint | exp.AutoIncrementColumnConstraint
            ):
                c.pop()
                keyed = (tree.this.this.name, col.name)
    return keyed


def _rewrite(tree: exp.Expression, *, escape_percent: bool) -> None:
    unnamed = 0
    for node in list(tree.walk()):
        if (
            isinstance(node, exp.Subquery)
            and not node.alias
            and isinstance(node.parent, exp.From | exp.Join)
        ):  # PostgreSQL 15 wants a name on every subquery in FROM
            unnamed += 1
            node.set("alias", exp.TableAlias(this=exp.to_identifier(f"_sub{unnamed}")))
        elif isinstance(node, exp.Like):
            node.replace(exp.ILike(this=node.this, expression=node.expression))
        elif isinstance(node, exp.Column) and node.name.lower() == "rowid":
            node.set("this", exp.to_identifier("ctid"))
        elif isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT:
            node.set("this", exp.DataType.Type.BIGINT)
        elif isinstance(node, exp.Ordered) and node.find_ancestor(exp.OnConflict, exp.Create):
            node.set("nulls_first", bool(node.args.get("desc")))  # PostgreSQL's default there
    for node in [n for n in tree.walk() if _is_date_call(n)]:  # after: these move their arguments
        args = [node.this] if isinstance(node, exp.Date) else list(node.expressions)
        node.replace(exp.func("hrss_sqlite_date", *args))
    for node in list(tree.find_all(exp.JSONObject)):
        node.replace(_json_text(node))
    if escape_percent:
        for lit in tree.find_all(exp.Literal):
            if lit.is_string and "%" in lit.this:
                lit.set("this", lit.this.replace("%", "%%"))


def _is_date_call(node: exp.Expression) -> bool:
    """SQLite's ``date(text, modifier…)``: text in, text out, as ``hrss_sqlite_date``."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() == "date"
    return isinstance(node, exp.Date) and not node.args.get("zone") and len(node.args) <= 2


def _json_text(node: exp.JSONObject) -> exp.Expression:
    """``json_object(k, v, …)`` as text, keys written here, values by ``hrss_json_value``."""
    parts: list[exp.Expression] = []
    for i, kv in enumerate(node.expressions):
        key = kv.this
        if not (isinstance(key, exp.Literal) and key.is_string):
            raise TranslationError(f"json_object keys must be string literals: {node.sql()}")
        prefix = ("{" if i == 0 else ",") + json.dumps(key.this, ensure_ascii=False) + ":"
        parts += [exp.Literal.string(prefix), exp.func("hrss_json_value", kv.expression)]
    parts.append(exp.Literal.string("}" if parts else "{}"))
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=False)
    return exp.Paren(this=out)


def _split(body: str) -> list[str]:
    """A trigger body's statements (none holds a ';' but between statements and in
    quoted text, which the quote count tells apart)."""
    out, buf = [], ""
    for piece in body.split(";"):
        buf += piece
        if buf.count("'") % 2 == 0:
            if buf.strip():
                out.append(buf.strip())
            buf = ""
        else:
            buf += ";"
    if buf.strip():
        raise TranslationError(f"unbalanced quotes in trigger body: {body[:200]!r}")
    return out


def _body_statement(stmt: str) -> str:
    m = _RAISE.match(stmt)
    if m:
        return f"RAISE EXCEPTION USING MESSAGE = {m[1]}, ERRCODE = '23000';"
    tree = _parse(stmt)
    _rewrite(tree, escape_percent=False)
    return tree.sql(dialect="postgres", comments=False) + ";"


def _expression(sql: str) -> str:
    tree = _parse(f"SELECT {sql}")
    _rewrite(tree, escape_percent=False)
    return tree.expressions[0].sql(dialect="postgres", comments=False)


def _trigger_ddl(t: Trigger) -> tuple[str, ...]:
    timing = "BEFORE" if t.timing == "BEFORE" else "AFTER"
    return (
        f"CREATE OR REPLACE FUNCTION {t.name}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $hrss${t.function_body()}$hrss$",
        f"CREATE TRIGGER {t.name} {timing} {t.event} ON {t.table} "
        f"FOR EACH ROW EXECUTE FUNCTION {t.name}()",
    )


def _drop_trigger(name: str, if_exists: bool) -> str:
    """SQLite names a trigger alone (names are unique in the schema); PostgreSQL wants its
    table too, looked up here."""
    missing = "" if if_exists else f"RAISE EXCEPTION 'no such trigger: {name}';"
    return f"""DO $hrss$ DECLARE t regclass; BEGIN
SELECT tgrelid::regclass INTO t FROM pg_trigger WHERE tgname = '{name}' AND NOT tgisinternal;
IF t IS NULL THEN {missing} RETURN; END IF;
EXECUTE format('DROP TRIGGER %I ON %s', '{name}', t);
END $hrss$"""


def _rowid_trigger(table: str, key: str) -> tuple[str, str]:
    """SQLite's AUTOINCREMENT: the next key is one above the larger of the table's counter
    and its largest key; an explicit key moves the counter up. The counter row is locked
    until commit, as SQLite's one writer holds the file."""
    fn = f"hrss_rowid_{table}"
    body = f"""
DECLARE n bigint;
BEGIN
INSERT INTO sqlite_sequence (name, seq) VALUES ('{table}', 0) ON CONFLICT (name) DO NOTHING;
IF NEW.{key} IS NULL THEN
  UPDATE sqlite_sequence
     SET seq = greatest(seq, (SELECT coalesce(max({key}), 0) FROM {table})) + 1
   WHERE name = '{table}' RETURNING seq INTO n;
  NEW.{key} := n;
ELSE
  UPDATE sqlite_sequence SET seq = greatest(seq, NEW.{key}) WHERE name = '{table}';
END IF;
RETURN NEW;
END
"""
    return (
        f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $hrss${body}$hrss$",
        # fires first: PostgreSQL runs a table's triggers in name order, digits first
        f'CREATE TRIGGER "0_rowid" BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {fn}()',
    )
