"""Public disclosure (一公开) of random inspection results, and the annual counts.

The disclosure holds, per inspection, what a bureau publishes: the register, the entity
(an organisation: its name and 统一社会信用代码), the date, how it was chosen, the items
checked, the result and the handling. Every text in it comes from the register file or a
fixed vocabulary — never the inspectors' free text (findings, summaries, follow-up notes),
which may name people — and it carries no person's name: not the legal representative,
not the inspectors. Only random inspections are published by default (双随机一公开);
targeted ones on request.

The annual counts (年度报告: the agencies' annual review, the year-end results to the city
bureau) are counted from the records each time, never kept apart.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.registers.definitions import HANDLING_KINDS, SANCTION_KINDS, Register
from hrss_fraud.registers.plans import SOURCES

PUBLIC_COLUMNS = {
    "register_name": ("监管事项", "register"),
    "entity_name": ("检查对象", "entity"),
    "entity_code": ("统一社会信用代码", "entity code"),
    "inspected_on": ("检查日期", "inspection date"),
    "method": ("检查方式", "how chosen"),
    "items_checked": ("检查事项", "items checked"),
    "result": ("检查结果", "result"),
    "handling": ("处理情况", "handling"),
}
"""The published columns → Chinese header, English header. Nothing else is exported."""


class DisclosureError(ValueError):
    """A disclosure that cannot be made."""


def _handling(reg: Register, result: str, status: str | None, sanction: str | None) -> str:
    if result == "pass":
        return "无需处理"
    if sanction:
        return reg.sanction(sanction).text
    return {
        None: "责令限期整改",
        "open": "责令限期整改（整改中）",
        "closed": "已责令整改，整改完成",
        "escalated": "已作出处理决定",
    }[status]


def disclosure(
    store: CaseStore,
    registers: Mapping[str, Register],
    *,
    year: int,
    include_targeted: bool = False,
    lang: str = "zh",
) -> pl.DataFrame:
    """The year's inspections as published (:data:`PUBLIC_COLUMNS`, headers in ``lang``)."""
    sources = ("random", "complaint") if include_targeted else ("random",)
    rows = store.query(
        f"""SELECT i.inspection_id, i.register, e.name, e.entity_code, i.inspected_on,
                   i.source, i.result, r.status, s.handling_code
            FROM register_inspection i JOIN register_entity e USING (entity_id)
            LEFT JOIN register_rectification r USING (inspection_id)
            LEFT JOIN register_sanction s USING (rectification_id)
            WHERE substr(i.inspected_on, 1, 4) = ?
              AND i.source IN ({", ".join("?" for _ in sources)})
            ORDER BY i.register, i.inspected_on, e.entity_code""",
        (str(year), *sources),
    )
    items: dict[int, list[tuple[str, str]]] = {}
    for iid, code, result in store.query(
        "SELECT inspection_id, item_code, result FROM register_inspection_item ORDER BY item_code"
    ):
        items.setdefault(iid, []).append((code, result))
    out = []
    for iid, register, name, code, on, source, result, status, sanction in rows:
        reg = registers.get(register)
        if reg is None:
            msg = f"inspection {iid} is of register {register}, which no register file describes"
            raise DisclosureError(msg)
        checked = [reg.item(c) for c, r in items.get(iid, []) if r != "na"]
        failed = [reg.item(c).text for c, r in items.get(iid, []) if r == "fail"]
        out.append(
            {
                "register_name": reg.name,
                "entity_name": name,
                "entity_code": code,
                "inspected_on": on,
                "method": SOURCES[source][0],
                "items_checked": "；".join(i.text for i in checked),
                "result": "未发现问题" if result == "pass" else "发现问题：" + "；".join(failed),
                "handling": _handling(reg, result, status, sanction),
            }
        )
    df = pl.DataFrame(out, schema={c: pl.String for c in PUBLIC_COLUMNS}, orient="row")
    names = {c: (zh if lang == "zh" else en) for c, (zh, en) in PUBLIC_COLUMNS.items()}
    return df.rename(names)


EXPORT_FORMATS = (".csv", ".xlsx")


def export_bytes(df: pl.DataFrame, suffix: str) -> bytes:
    """``df`` as a file's bytes: CSV (UTF-8 with BOM, which Excel opens) or XLSX."""
    suffix = suffix.lower()
    if suffix not in EXPORT_FORMATS:
        msg = f"导出文件应为 .csv 或 .xlsx ({suffix or 'no suffix'}: the export is .csv or .xlsx)"
        raise DisclosureError(msg)
    if suffix == ".csv":
        return b"\xef\xbb\xbf" + df.write_csv().encode("utf-8")
    buffer = io.BytesIO()
    df.write_excel(buffer, worksheet="公开", autofit=True)
    return buffer.getvalue()


def write_export(df: pl.DataFrame, out: Path) -> Path:
    """``df`` as :func:`export_bytes` by ``out``'s suffix, written to a temporary file and
    renamed: a reader sees the old file or the whole new one."""
    out = Path(out)
    data = export_bytes(df, out.suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        Path(tmp).write_bytes(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def record_disclosure(
    store: CaseStore, *, year: int, rows: int, file: str, targeted: bool, by: str
) -> None:
    """The audit row of a disclosure export (``register.disclose``), whoever made it: the
    command line's file or the dashboard's download."""
    detail = {"year": year, "rows": rows, "file": file, "targeted": targeted}
    with store.transaction() as con:
        write_audit(con, timestamp(), by, "register.disclose", "register", "all", detail)


COUNT_COLUMNS = {
    "register": ("监管事项代码", "register"),
    "register_name": ("监管事项", "register name"),
    "report_to": ("报送单位", "reported to"),
    "entities": ("监管对象数", "entities"),
    "expiring": ("许可证60日内到期", "licences expiring"),
    "plans": ("抽查计划数", "plans"),
    "random": ("随机抽查次数", "random inspections"),
    "targeted": ("投诉核查次数", "targeted inspections"),
    "passed": ("未发现问题", "passed"),
    "failed": ("发现问题", "failed"),
    "ordered": ("责令整改", "rectifications ordered"),
    "closed": ("整改办结", "rectifications closed"),
    "open": ("整改中", "rectifications open"),
    "past_deadline": ("逾期未整改", "past the deadline"),
    **{f"sanction_{k}": HANDLING_KINDS[k] for k in SANCTION_KINDS},
}


def annual_counts(
    store: CaseStore,
    registers: Mapping[str, Register],
    *,
    year: int,
    today: date | None = None,
) -> pl.DataFrame:
    """One row per register run by this engine: the year's counts (:data:`COUNT_COLUMNS`);
    expiring and past-deadline as of ``today`` (default: the year's last day or today,
    whichever is earlier)."""
    day = today or min(date(year, 12, 31), date.today())
    y = str(year)
    out = []
    for code, reg in registers.items():
        if not reg.runs_here:
            continue

        def one(sql: str, params: tuple = (), code: str = code) -> int:
            return int(store.query(sql, (code, *params))[0][0] or 0)

        insp = "FROM register_inspection WHERE register = ? AND substr(inspected_on, 1, 4) = ?"
        rect = (
            "FROM register_rectification r JOIN register_inspection i USING (inspection_id) "
            "WHERE i.register = ? AND substr(r.ordered_on, 1, 4) = ?"
        )
        row: dict[str, object] = {
            "register": code,
            "register_name": reg.name,
            "report_to": reg.report_to,
            "entities": one("SELECT count(*) FROM register_entity WHERE register = ?"),
            "expiring": one(
                "SELECT count(*) FROM register_entity WHERE register = ? AND valid_to "
                "BETWEEN ? AND date(?, '+' || ? || ' days')",
                (day.isoformat(), day.isoformat(), reg.expiry_warning_days),
            ),
            "plans": one(
                "SELECT count(*) FROM register_plan WHERE register = ? AND status <> 'cancelled' "
                "AND substr(planned_on, 1, 4) = ?",
                (y,),
            ),
            "random": one(f"SELECT count(*) {insp} AND source = 'random'", (y,)),
            "targeted": one(f"SELECT count(*) {insp} AND source = 'complaint'", (y,)),
            "passed": one(f"SELECT count(*) {insp} AND result = 'pass'", (y,)),
            "failed": one(f"SELECT count(*) {insp} AND result = 'fail'", (y,)),
            "ordered": one(f"SELECT count(*) {rect}", (y,)),
            "closed": one(f"SELECT count(*) {rect} AND r.status = 'closed'", (y,)),
            "open": one(f"SELECT count(*) {rect} AND r.status = 'open'", (y,)),
            "past_deadline": one(
                f"SELECT count(*) {rect} AND r.status = 'open' AND r.due_date < ? AND NOT EXISTS "
                "(SELECT 1 FROM register_rectification_event v WHERE v.rectification_id = "
                "r.rectification_id AND v.kind = 'follow_up' AND v.outcome = 'passed')",
                (y, day.isoformat()),
            ),
        }
        for kind in SANCTION_KINDS:
            row[f"sanction_{kind}"] = one(
                "SELECT count(*) FROM register_sanction s JOIN register_rectification r "
                "USING (rectification_id) JOIN register_inspection i USING (inspection_id) "
                "WHERE i.register = ? AND substr(s.decided_on, 1, 4) = ? AND s.kind = ?",
                (y, kind),
            )
        out.append(row)
    schema = {
        c: (pl.String if c in ("register", "register_name", "report_to") else pl.Int64)
        for c in COUNT_COLUMNS
    }
    return pl.DataFrame(out, schema=schema, orient="row")
