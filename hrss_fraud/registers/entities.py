"""Supervised entities (监管对象): agencies, schools, institutions, appraisal centres.

Imported from the bureau's spreadsheets (CSV in UTF-8 or GBK, or XLSX, read by the ingest
readers as text), with Chinese headers matched after the ingest's normalisation (full-width
characters, spaces, case) against a list of the headers offices use. Every row is checked
before anything is written: one bad row refuses the file, naming every bad row by its
line. An entity is keyed by its register and its code (统一社会信用代码); a row that
changes a stored entity writes a new version to ``register_entity_history`` with the
fields that changed, so its history is kept; an empty cell keeps the stored value (a file
may update only what it holds). One audit row per import, with the file's SHA-256.

A licence whose last valid day falls within the register's ``expiry_warning_days`` (60)
of today is flagged as expiring; one already past, as expired.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.ingest.errors import UploadError
from hrss_fraud.ingest.layouts import normalise
from hrss_fraud.ingest.readers import file_sha256, materialize, open_upload
from hrss_fraud.registers.definitions import Register

FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "entity_code": (
        "统一社会信用代码",
        "entity code",
        ("社会信用代码", "信用代码", "机构代码", "机构编码", "单位代码", "组织机构代码"),
    ),
    "name": ("机构名称", "name", ("单位名称", "名称", "学校名称", "机构全称", "鉴定所名称")),
    "licence_no": (
        "许可证编号",
        "licence number",
        ("许可证号", "许可证号码", "办学许可证号", "证书编号", "批准文号", "许可证"),
    ),
    "scope": ("许可范围", "scope", ("经营范围", "业务范围", "办学范围", "鉴定范围", "服务范围")),
    "valid_from": ("有效期起", "valid from", ("有效期自", "发证日期", "有效期开始", "起始日期")),
    "valid_to": ("有效期至", "valid to", ("有效期止", "有效期截止", "截止日期", "有效期到")),
    "address": ("地址", "address", ("住所", "办公地址", "办学地址", "经营地址", "机构地址")),
    "zone": ("所属乡镇", "zone", ("乡镇", "所在乡镇", "区域", "所属区域", "检查区域")),
    "legal_rep": ("法定代表人", "legal representative", ("负责人", "法人代表", "校长")),
}
"""Field → Chinese label, English label, other headers offices write for it."""
REGISTER_HEADERS = ("监管事项", "事项", "register")
REQUIRED = ("entity_code", "name", "zone")
DATES = ("valid_from", "valid_to")
_BRACKETS = re.compile(r"[(\[][^()\[\]]*[)\]]")
_DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)
_MAX_SHOWN = 10
_MARKS = ", ".join("?" for _ in FIELDS)

ENTITY_SCHEMA: dict[str, pl.DataType] = {
    "entity_id": pl.Int64(),
    "register": pl.String(),
    "entity_code": pl.String(),
    "name": pl.String(),
    "licence_no": pl.String(),
    "scope": pl.String(),
    "valid_from": pl.String(),
    "valid_to": pl.String(),
    "address": pl.String(),
    "zone": pl.String(),
    "legal_rep": pl.String(),
    "version": pl.Int64(),
    "updated_at": pl.String(),
}


class EntityError(ValueError):
    """An import or change that cannot be made; nothing was written."""


@dataclass(frozen=True)
class ImportResult:
    register: str
    rows: int
    added: int
    changed: int
    unchanged: int
    set_aside: tuple[str, ...]
    """Columns no field took (kept out, named so the operator can add an alias)."""
    sha256: str


def _header_key(text: str) -> str:
    key = normalise(text)
    while True:
        stripped = _BRACKETS.sub("", key)
        if stripped == key:
            return key
        key = stripped


_VOCAB = {_header_key(h): f for f, (zh, en, others) in FIELDS.items() for h in (f, zh, en, *others)}
_REGISTER_KEYS = {_header_key(h) for h in REGISTER_HEADERS}


def map_headers(header: list[str]) -> tuple[dict[str, str], str | None, list[str]]:
    """Column → field, the register column (if any), and the columns set aside."""
    mapping: dict[str, str] = {}
    register_col = None
    aside = []
    for col in header:
        if col.startswith("_"):
            continue  # the reader's own columns (_line)
        key = _header_key(col)
        field = _VOCAB.get(key)
        if key in _REGISTER_KEYS and register_col is None:
            register_col = col
        elif field and field not in mapping.values():
            mapping[col] = field
        else:
            aside.append(col)
    return mapping, register_col, aside


def parse_date(text: str | None) -> str | None:
    """A date as the bureau's files write it (2026-03-01, 2026/3/1, 2026年3月1日, 20260301,
    an Excel day number) → ``YYYY-MM-DD``; None for empty; ValueError if unreadable."""
    value = (text or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", value):
        return (_EXCEL_EPOCH + timedelta(days=int(float(value)))).isoformat()
    for form in _DATE_FORMS:
        m = form.match(value)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    msg = f"{value!r} is not a date (YYYY-MM-DD, YYYY/M/D, YYYY年M月D日)"
    raise ValueError(msg)


def _clean(value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _rows(
    frame: pl.DataFrame, mapping: dict[str, str], register_col: str | None, reg: Register
) -> list[tuple[int, dict[str, str | None]]]:
    """(line, fields) of every row, or :class:`EntityError` naming every bad row."""
    out, problems, seen = [], [], {}
    for raw in frame.iter_rows(named=True):
        line = int(raw.get("_line") or 0)
        if all(_clean(raw.get(c)) is None for c in mapping):
            continue  # a blank row
        row = {f: _clean(raw.get(c)) for c, f in mapping.items()}
        why = []
        if register_col is not None:
            given = _clean(raw.get(register_col))
            if given not in (None, reg.code, reg.name):
                why.append(f"监管事项 {given!r} is not {reg.code} ({reg.name})")
        why += [f"{FIELDS[f][0]} ({f}) is empty" for f in REQUIRED if not row.get(f)]
        for f in DATES:
            try:
                row[f] = parse_date(row.get(f))
            except ValueError as e:
                why.append(f"{FIELDS[f][0]}: {e}")
        if row.get("valid_from") and row.get("valid_to") and row["valid_to"] < row["valid_from"]:
            why.append(f"有效期至 {row['valid_to']} is before 有效期起 {row['valid_from']}")
        code = row.get("entity_code")
        if code and code in seen:
            why.append(f"code {code} is also on line {seen[code]}")
        elif code:
            seen[code] = line
        if why:
            problems.append(f"line {line}: " + "; ".join(why))
        else:
            out.append((line, row))
    if problems:
        shown = problems[:_MAX_SHOWN]
        more = f" | … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        msg = f"{len(problems)} bad rows, nothing imported: " + " | ".join(shown) + more
        raise EntityError(msg)
    if not out:
        msg = "the file has no entity rows"
        raise EntityError(msg)
    return out


def read_file(path: Path, reg: Register) -> tuple[list[dict[str, str | None]], list[str], str]:
    """The file's entity rows (checked), the columns set aside, and the file's SHA-256."""
    if not reg.runs_here:
        where = reg.entities or "another module"
        msg = (
            f"register {reg.code} ({reg.name}) keeps its entities in {where}: use "
            f"{', '.join(reg.commands) or 'that module'}"
        )
        raise EntityError(msg)
    try:
        with open_upload(Path(path)) as raw:
            frame = materialize(raw)
            header = raw.header
            sha = raw.sha256 or file_sha256(Path(path))
    except UploadError as e:
        raise EntityError(str(e)) from e
    mapping, register_col, aside = map_headers(header)
    missing = [f for f in REQUIRED if f not in mapping.values()]
    if missing:
        wanted = ", ".join(f"{FIELDS[f][0]} ({f})" for f in missing)
        msg = f"{Path(path).name}: no column for {wanted}; its columns: {', '.join(header)}"
        raise EntityError(msg)
    rows = _rows(frame, mapping, register_col, reg)
    return [r for _, r in rows], aside, sha


def import_entities(store: CaseStore, path: Path, reg: Register, *, by: str) -> ImportResult:
    """Add or update the file's entities of ``reg`` in one transaction (see the module)."""
    rows, aside, sha = read_file(path, reg)
    at = timestamp()
    added = changed = 0
    source = Path(path).name
    with store.transaction() as con:
        for row in rows:
            found = con.execute(
                f"SELECT entity_id, version, {', '.join(FIELDS)} FROM register_entity "
                "WHERE register = ? AND entity_code = ?",
                (reg.code, row["entity_code"]),
            ).fetchone()
            if found is None:
                fields = {f: row.get(f) for f in FIELDS}
                cur = con.execute(
                    f"INSERT INTO register_entity (register, {', '.join(FIELDS)}, version, "
                    f"updated_at, updated_by) VALUES (?, {_MARKS}, 1, ?, ?)",
                    (reg.code, *fields.values(), at, by),
                )
                entity_id, version, diff = int(cur.lastrowid or 0), 1, list(FIELDS)
                added += 1
            else:
                entity_id, old_version = found[0], found[1]
                old = dict(zip(FIELDS, found[2:], strict=True))
                fields = {f: row.get(f) or old[f] for f in FIELDS}
                diff = [f for f in FIELDS if fields[f] != old[f]]
                if not diff:
                    continue
                version = old_version + 1
                con.execute(
                    f"UPDATE register_entity SET {', '.join(f'{f} = ?' for f in FIELDS)}, "
                    "version = ?, updated_at = ?, updated_by = ? WHERE entity_id = ?",
                    (*fields.values(), version, at, by, entity_id),
                )
                changed += 1
            con.execute(
                "INSERT INTO register_entity_history (entity_id, version, fields, changed, "
                "source, source_sha256, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entity_id,
                    version,
                    json.dumps(fields, ensure_ascii=False, sort_keys=True),
                    json.dumps(diff),
                    source,
                    sha,
                    at,
                    by,
                ),
            )
        result = ImportResult(
            reg.code, len(rows), added, changed, len(rows) - added - changed, tuple(aside), sha
        )
        detail = {
            "file": source,
            "sha256": sha,
            "rows": result.rows,
            "added": added,
            "changed": changed,
            "set_aside": list(aside),
        }
        write_audit(con, at, by, "register.entities.import", "register", reg.code, detail)
    return result


def entities(
    store: CaseStore,
    reg: Register | None = None,
    *,
    today: date | None = None,
    warning_days: int | None = None,
) -> pl.DataFrame:
    """The entities (of one register, if given) with ``days_left`` on the licence and the
    flags ``expiring`` (within ``warning_days``, default the register's, of ``today``) and
    ``expired``."""
    day = today or date.today()
    where, params = ("WHERE register = ?", (reg.code,)) if reg else ("", ())
    cols = ", ".join(ENTITY_SCHEMA)
    rows = store.query(
        f"SELECT {cols} FROM register_entity {where} ORDER BY register, entity_code", params
    )
    df = pl.DataFrame(rows, schema=ENTITY_SCHEMA, orient="row")
    window = warning_days if warning_days is not None else (reg.expiry_warning_days if reg else 60)
    days_left = (pl.col("valid_to").str.to_date("%Y-%m-%d") - pl.lit(day)).dt.total_days()
    return df.with_columns(days_left=days_left).with_columns(
        expiring=pl.col("days_left").is_between(0, window).fill_null(False),
        expired=(pl.col("days_left") < 0).fill_null(False),
    )


def history(store: CaseStore, register: str, entity_code: str) -> list[dict[str, object]]:
    """Every version of one entity, oldest first: fields, what changed, from which file."""
    rows = store.query(
        """SELECT h.version, h.fields, h.changed, h.source, h.source_sha256, h.at, h.actor
           FROM register_entity_history h JOIN register_entity e USING (entity_id)
           WHERE e.register = ? AND e.entity_code = ? ORDER BY h.version""",
        (register, entity_code),
    )
    if not rows:
        msg = f"no entity {entity_code} in register {register}"
        raise EntityError(msg)
    return [
        {
            "version": v,
            "fields": json.loads(f),
            "changed": json.loads(c),
            "source": s,
            "source_sha256": sha,
            "at": at,
            "actor": actor,
        }
        for v, f, c, s, sha, at, actor in rows
    ]


def entity_id(store: CaseStore, register: str, entity_code: str) -> int:
    rows = store.query(
        "SELECT entity_id FROM register_entity WHERE register = ? AND entity_code = ?",
        (register, entity_code.strip()),
    )
    if not rows:
        msg = f"no entity {entity_code} in register {register}: import it first"
        raise EntityError(msg)
    return int(rows[0][0])


def add_conflict(
    store: CaseStore, register: str, inspector_code: str, entity_code: str, reason: str, *, by: str
) -> None:
    """Declare that an inspector may not inspect an entity (回避), and why."""
    if not (reason or "").strip():
        msg = "a conflict needs a reason (回避理由)"
        raise EntityError(msg)
    eid = entity_id(store, register, entity_code)
    at = timestamp()
    with store.transaction() as con:
        if not con.execute(
            "SELECT 1 FROM inspector WHERE inspector_code = ?", (inspector_code,)
        ).fetchone():
            msg = f"no inspector {inspector_code}: add one with `hrss-fraud rounds inspectors add`"
            raise EntityError(msg)
        if con.execute(
            "SELECT 1 FROM register_conflict WHERE inspector_code = ? AND entity_id = ?",
            (inspector_code, eid),
        ).fetchone():
            msg = f"inspector {inspector_code} is already conflicted with {entity_code}"
            raise EntityError(msg)
        con.execute(
            "INSERT INTO register_conflict (inspector_code, entity_id, reason, declared_by, "
            "declared_at) VALUES (?, ?, ?, ?, ?)",
            (inspector_code, eid, reason.strip(), by, at),
        )
        detail = {"register": register, "entity_code": entity_code, "reason": reason.strip()}
        write_audit(con, at, by, "register.conflict.add", "inspector", inspector_code, detail)
