"""The case store's hash chain: each append-only record is linked to the one before it, so
an edited, replaced, deleted or smuggled-in record shows (migration 0007).

The links are written by SQL triggers; the hash is this module's function, registered on
every connection :func:`hrss_fraud.cases.store.connect` opens.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol

from hrss_fraud.cases import dialect
from hrss_fraud.cases.migrate import available, statements

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore

HASH_FUNCTION = "hrss_chain_hash"


def link_hash(prev_hash: str, table: str, row_id: str, row_json: str) -> str:
    """SHA-256 of one link: the previous link's hash, the table, the row's key and the
    row as JSON, separated by a byte none of them holds."""
    text = "\x1f".join((prev_hash or "", table, row_id, row_json))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def register(con: sqlite3.Connection) -> None:
    """Make :func:`link_hash` callable from SQL (the triggers) on ``con``."""
    con.create_function(HASH_FUNCTION, 4, link_hash, deterministic=True)


# --- Verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChainedTable:
    """How one table's rows join the chain: its key, the columns its link's JSON holds (in
    the order migration 0007's ``json_object`` lists them) and, for a table whose rows join
    only at some point of their life (a notice, when it leaves draft), the SQL condition
    of a row that must be linked."""

    key: str
    columns: tuple[str, ...]
    linked_when: str | None = None


CHAINED: dict[str, ChainedTable] = {
    "review_decision": ChainedTable(
        "decision_id",
        (
            "decision_id",
            "finding_id",
            "step",
            "decision",
            "reason",
            "decided_by",
            "decided_at",
            "batch_id",
            "rule_id",
            "fixmedins_code",
            "entity_type",
            "amount_at_risk",
            "run_id",
        ),
    ),
    "audit_log": ChainedTable(
        "audit_id", ("audit_id", "at", "actor", "action", "object_type", "object_id", "detail")
    ),
    "notice_event": ChainedTable(
        "event_id",
        ("event_id", "notice_id", "kind", "on_date", "at", "actor", "person", "text", "late"),
    ),
    "notice_review_decision": ChainedTable(
        "request_event_id",
        ("request_event_id", "notice_id", "outcome", "on_date", "at", "actor", "text", "late"),
    ),
    "notice": ChainedTable(
        "notice_id",
        (
            "notice_id",
            "number",
            "fixmedins_code",
            "onsite_facts",
            "issue_date",
            "statement_due",
            "rectify_due",
            "content_json",
            "content_sha256",
            "docx_sha256",
            "pdf_sha256",
        ),
        linked_when="status <> 'draft'",
    ),
}
"""The chained tables and the columns of each link, the one Python copy of migration
0007's trigger text (a test holds the two equal, and holds every column of each table
either here or in :data:`NOT_CHAINED`)."""

_DRAFT_FIELD = "a draft field: once issued, the notice's content is content_json (chained)"
NOT_CHAINED: dict[str, dict[str, str]] = {
    "notice": {
        "status": "moves after issue; every move is a chained notice_event",
        "fixmedins_name": _DRAFT_FIELD,
        "agreement_no": _DRAFT_FIELD,
        "round_ref": _DRAFT_FIELD,
        "target_ref": _DRAFT_FIELD,
        "inspection_date": _DRAFT_FIELD,
        "inspectors": _DRAFT_FIELD,
        "representative": _DRAFT_FIELD,
        "issuing_unit": _DRAFT_FIELD,
        "requirements": _DRAFT_FIELD,
        "rectify_days": _DRAFT_FIELD,
        "statement_days": _DRAFT_FIELD,
        "created_by": "the draft's author; the chained notice.create audit row names them",
        "created_at": "the draft's time; the chained notice.create audit row holds it",
        "docx_path": "where the document lies; its SHA-256 is chained and checked by `notice show`",
        "pdf_path": "where the document lies; its SHA-256 is chained and checked by `notice show`",
    },
}
"""Columns of chained tables deliberately outside the links, and why."""

CHAIN_TABLE = "chain_link"
_MAX_GAPS = 20
CHAIN_MIGRATION = 7
"""The migration that creates the chain and its triggers (0007_sessions_and_chain.sql)."""
_CHAIN_TRIGGER = re.compile(r"^(\w+_chain|\w+_no_replace|chain_link_\w+)$")


@dataclass(frozen=True)
class Problem:
    """One thing the chain shows: which table and row, what kind, and what exactly."""

    table: str
    row_id: str | None
    kind: str
    """``edited`` (a record no longer matches its link), ``unlinked`` (a record with no
    link: written around the triggers), ``deleted`` (a link whose record is gone),
    ``broken`` (a link that does not follow the one before it, or whose hash does not
    match its content), ``tail`` (records or links removed from the end, shown by the
    AUTOINCREMENT counter), ``trigger`` (a chain trigger missing or changed), ``anchor``
    (a head recorded earlier is no longer in the chain)."""
    detail: str

    def line(self) -> str:
        where = self.table if self.row_id is None else f"{self.table} {self.row_id}"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass
class ChainReport:
    """What :func:`verify` found: the head hash, rows and links per table, the problems."""

    head: str
    links: int
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "head": self.head,
            "links": self.links,
            "tables": self.tables,
            "problems": [asdict(p) for p in self.problems],
        }


def head(store: CaseStore) -> str:
    """The last link's hash ('' before the first): what to record outside the store, for
    ``cases verify --anchor`` to check later."""
    rows = store.query(f"SELECT hash FROM {CHAIN_TABLE} ORDER BY link_id DESC LIMIT 1")
    return str(rows[0][0]) if rows else ""


class _Reader(Protocol):
    def __call__(self, sql: str, params: tuple = ()) -> list[tuple]: ...


def verify(source: CaseStore | sqlite3.Connection, *, anchor: str | None = None) -> ChainReport:
    """Check the chain of a case store (a :class:`~hrss_fraud.cases.store.CaseStore` or an
    open ``sqlite3.Connection``) in one read snapshot.

    Walks ``chain_link`` in order recomputing each hash and its link to the one before;
    recomputes each chained record's JSON with the migration's column lists (in SQL, so
    numbers and text are written exactly as the triggers wrote them) and compares it with
    its link; compares the AUTOINCREMENT counters with the last record and link, which
    shows records removed from the end together with their links; and checks the chain
    triggers are the migration's. ``anchor``: a head hash recorded earlier (outside the
    store), which must still be a link — the one defence against a chain rewritten
    whole by someone who can compute the hashes too."""
    if hasattr(source, "snapshot"):
        with source.snapshot() as con:
            return _verify(_reader(con), anchor, _backend(con))
    began = not source.in_transaction
    if began:
        source.execute("BEGIN")  # one snapshot: a writer committing meanwhile shows nothing
    try:
        return _verify(_reader(source), anchor, _backend(source))
    finally:
        if began:
            source.execute("ROLLBACK")


def _backend(con: object) -> str:
    """``postgresql`` for a :class:`hrss_fraud.cases.pg.Connection`, else ``sqlite``."""
    return str(getattr(con, "dialect", "sqlite"))


def _reader(con: sqlite3.Connection) -> _Reader:
    return lambda sql, params=(): con.execute(sql, params).fetchall()


def _verify(read: _Reader, anchor: str | None, backend: str = "sqlite") -> ChainReport:
    names = {r[0] for r in read("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if CHAIN_TABLE not in names:
        problem = Problem(CHAIN_TABLE, None, "trigger", "no chain_link table (before 0007)")
        return ChainReport("", 0, problems=[problem])
    links, problems, head = _walk(read)
    all_links = {t: dict(v) for t, v in links.items()}
    report = ChainReport(head, sum(len(v) for v in links.values()), problems=problems)
    for table, spec in CHAINED.items():
        if table not in names:
            continue
        rows = _records(read, table, spec)
        linked = links.pop(table, {})
        report.tables[table] = {"rows": len(rows), "links": len(linked)}
        report.problems += _compare(table, rows, linked)
    for table, stray in sorted(links.items()):
        for row_id in stray:
            report.problems.append(Problem(table, row_id, "broken", "a link to no chained table"))
    report.problems += _counters(read, names, all_links)
    report.problems += _triggers(read, backend)
    sql = f"SELECT 1 FROM {CHAIN_TABLE} WHERE hash = ?"
    if anchor and not read(sql, (anchor.strip().lower(),)):
        detail = f"the head {anchor.strip()} recorded earlier is not in the chain: rewritten"
        report.problems.append(Problem(CHAIN_TABLE, None, "anchor", detail))
    return report


def _walk(read: _Reader) -> tuple[dict[str, dict[str, str]], list[Problem], str]:
    """Every link recomputed in order: table → row id → the JSON its link holds, the
    problems, and the head (the last link's hash)."""
    links: dict[str, dict[str, str]] = {}
    problems = []
    prev = ""
    sql = f"SELECT link_id, table_name, row_id, row_json, prev_hash, hash FROM {CHAIN_TABLE} "
    for link_id, table, row_id, row_json, prev_hash, stored in read(sql + "ORDER BY link_id"):
        if prev_hash != prev:
            detail = f"link {link_id} does not follow the link before it (one was removed or added)"
            problems.append(Problem(table, row_id, "broken", detail))
        if link_hash(prev_hash, table, row_id, row_json) != stored:
            detail = f"link {link_id}'s hash does not match its content (the link was edited)"
            problems.append(Problem(table, row_id, "broken", detail))
        links.setdefault(table, {})[row_id] = row_json
        prev = stored
    return links, problems, prev


def _records(read: _Reader, table: str, spec: ChainedTable) -> dict[str, tuple[str, bool]]:
    """Row id → (the row as its link would hold it now, whether it must be linked)."""
    pairs = ", ".join(f"'{c}', {c}" for c in spec.columns)
    must = spec.linked_when or "1"
    sql = (
        f"SELECT CAST({spec.key} AS TEXT), json_object({pairs}), {must} FROM {table} "
        f"ORDER BY {spec.key}"
    )
    return {r: (j, bool(m)) for r, j, m in read(sql)}


def _compare(
    table: str, rows: dict[str, tuple[str, bool]], linked: dict[str, str]
) -> list[Problem]:
    problems = []
    for row_id, (now, must) in rows.items():
        was = linked.get(row_id)
        if was is None:
            if must:
                detail = "in the table but not in the chain (written around the triggers)"
                problems.append(Problem(table, row_id, "unlinked", detail))
        elif not must:
            problems.append(Problem(table, row_id, "edited", "linked, but no longer issued"))
        elif now != was:
            problems.append(Problem(table, row_id, "edited", _difference(was, now)))
    for row_id in linked.keys() - rows.keys():
        detail = "in the chain but no longer in the table (deleted)"
        problems.append(Problem(table, row_id, "deleted", detail))
    return sorted(problems, key=lambda p: (_as_number(p.row_id), p.kind))


def _difference(was: str, now: str) -> str:
    """Which fields changed from the link's JSON to the row's, with both values."""
    old, new = json.loads(was), json.loads(now)
    changed = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
    shown = "; ".join(f"{k} {_short(old.get(k))} → {_short(new.get(k))}" for k in changed)
    return f"changed since it was chained: {shown}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _as_number(row_id: str | None) -> tuple[int, str]:
    text = row_id or ""
    return (int(text), "") if text.isdigit() else (0, text)


def _counters(read: _Reader, names: set[str], links: dict[str, dict[str, str]]) -> list[Problem]:
    """Records or links gone without a trace in the chain, shown by the AUTOINCREMENT
    keys: they are handed out 1, 2, 3, … (a rolled-back insert hands its number back), a
    DELETE never lowers the counter, so a counter above the highest key left says rows
    were removed from the end, and a missing number below it that no link names says a
    row was removed together with its link."""
    if "sqlite_sequence" not in names:
        return []
    keys = {t: s.key for t, s in CHAINED.items()} | {CHAIN_TABLE: "link_id"}
    problems = []
    for table, seq in read("SELECT name, seq FROM sqlite_sequence ORDER BY name"):
        if table not in keys or table not in names:
            continue
        present = {k for (k,) in read(f"SELECT {keys[table]} FROM {table}")}
        last = max(present, default=0)
        if seq > last:
            what = "links" if table == CHAIN_TABLE else "rows"
            detail = f"{what} {last + 1}…{seq} were written and are gone (removed from the end)"
            problems.append(Problem(table, str(seq), "tail", detail))
        named = {int(r) for r in links.get(table, {}) if r.isdigit()}
        for gap in sorted(set(range(1, last + 1)) - present - named)[:_MAX_GAPS]:
            detail = "missing between the rows around it, and no link names it (removed)"
            problems.append(Problem(table, str(gap), "deleted", detail))
    return problems


def _triggers(read: _Reader, backend: str = "sqlite") -> list[Problem]:
    """The chain triggers as migration 0007 creates them: a missing one lets records in
    unlinked; a changed one could link something else than the record. On PostgreSQL,
    as the translation of that migration creates them (its function's text, its table,
    events and whether it is enabled)."""
    expected = {}
    chain_migration = next(m for m in available() if m.version == CHAIN_MIGRATION)
    for stmt in statements(chain_migration.sql):
        body = _trigger_text(stmt if backend == "sqlite" else dialect.expected_trigger(stmt))
        if body and _CHAIN_TRIGGER.match(body[0]):
            expected[body[0]] = body[1]
    found = {
        n: _trigger_text(s)
        for n, s in read("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    }
    problems = []
    for name, text in sorted(expected.items()):
        table = name.removesuffix("_chain").removesuffix("_no_replace")
        if name not in found:
            problems.append(Problem(table, None, "trigger", f"trigger {name} is missing"))
        elif (found[name] or ("", ""))[1] != text:
            detail = f"trigger {name} differs from migration {CHAIN_MIGRATION:04d}"
            problems.append(Problem(table, None, "trigger", detail))
    return problems


def _trigger_text(sql: str | None) -> tuple[str, str] | None:
    """(name, text with comments and runs of white space folded) of a CREATE TRIGGER."""
    if not sql:
        return None
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    text = " ".join(" ".join(lines).split()).rstrip(";").strip()
    m = re.match(r"CREATE TRIGGER (\w+)", text)
    return (m[1], text) if m else None
