"""The targeted data check a complaint triggers (针对性数据核查): what the lake and the latest
scoring run say about the institutions and persons it names, over a date range.

The figures are the ones a handler reads before deciding whether to visit: settlements
and fee lines billed by (or for) each target, the run's leads on them by rule with the
amount at risk, and a short summary in Chinese and English. The check is stored with a
fingerprint of what it read and found, so a later check that saw the same data is
recognisably the same, and its leads are linked to the complaint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.complaints.register import (
    Complaint,
    ComplaintError,
    get,
    insert_leads,
    required_text,
    start_check,
)
from hrss_fraud.engine.runs import Run, RunError, open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.model.numbers import money, money_expr

LOOK_BACK_DAYS = 365
"""The range when the lake holds no settlement at all: the year before receipt."""
TOP_ITEMS = 3
LEAD_COLUMNS = ("finding_id", "rule_id", "fixmedins_code", "psn_no", "amount_at_risk", "run_id")

_ACTIVITY_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "code": pl.String(),
    "name": pl.String(),
    "n_settlements": pl.Int64(),
    "n_counterparts": pl.Int64(),
    "medfee_sumamt": pl.Float64(),
    "fund_pay_sumamt": pl.Float64(),
    "n_lines": pl.Int64(),
    "line_amount": pl.Float64(),
    "top_items": pl.String(),
}
_BY_RULE_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "rule_name": pl.String(),
    "n_findings": pl.Int64(),
    "amount_at_risk": pl.Float64(),
}


@dataclass(frozen=True)
class CheckResult:
    """One targeted check: per-target activity (``n_counterparts`` is persons seen at an
    institution, or institutions a person visited), leads by rule, the leads themselves,
    the summaries and the fingerprint; ``check_id`` once stored."""

    number: str
    date_from: date
    date_to: date
    run_id: str | None
    activity: pl.DataFrame
    by_rule: pl.DataFrame
    leads: pl.DataFrame
    summary_zh: str
    summary_en: str
    fingerprint: str
    check_id: int | None = None
    warnings_zh: tuple[str, ...] = ()
    warnings_en: tuple[str, ...] = ()


_NAMES: dict[str, pl.DataType] = {"code": pl.String(), "name": pl.String()}


def _frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list, schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    return pl.DataFrame(con.execute(sql, params).fetchall(), schema=schema, orient="row")


def _activity(
    con: duckdb.DuckDBPyConnection, kind: str, codes: list[str], start: date, end: date
) -> pl.DataFrame:
    """Settlements and fee lines of the targets of one kind, one row per target."""
    key, other = (
        ("fixmedins_code", "psn_no") if kind == "institution" else ("psn_no", "fixmedins_code")
    )
    params = [codes, start, end + timedelta(days=1)]
    setl = _frame(
        con,
        f"""SELECT {key} AS code, count(*) AS n_settlements,
                   count(DISTINCT {other}) AS n_counterparts,
                   coalesce(sum(medfee_sumamt), 0) AS medfee_sumamt,
                   coalesce(sum(fund_pay_sumamt), 0) AS fund_pay_sumamt
            FROM settlement
            WHERE list_contains(?, {key}) AND setl_time >= ? AND setl_time < ?
            GROUP BY 1""",
        params,
        {"code": pl.String(), "n_settlements": pl.Int64(), "n_counterparts": pl.Int64()}
        | {"medfee_sumamt": pl.Float64(), "fund_pay_sumamt": pl.Float64()},
    )
    items = _frame(
        con,
        f"""SELECT {key} AS code, coalesce(medins_list_name, med_list_codg) AS item,
                   count(*) AS n, coalesce(sum(det_item_fee_sumamt), 0) AS amount
            FROM fee_detail
            WHERE list_contains(?, {key}) AND fee_ocur_time >= ? AND fee_ocur_time < ?
            GROUP BY 1, 2""",
        params,
        {"code": pl.String(), "item": pl.String(), "n": pl.Int64(), "amount": pl.Float64()},
    )
    names = pl.DataFrame({"code": codes, "name": [None] * len(codes)}, schema=_NAMES)
    if kind == "institution":
        names = _frame(
            con,
            "SELECT fixmedins_code AS code, any_value(fixmedins_name) AS name FROM institution "
            "WHERE list_contains(?, fixmedins_code) GROUP BY 1",
            [codes],
            _NAMES,
        )
    top = (
        items.sort(["amount", "item"], descending=[True, False])
        .group_by("code", maintain_order=True)
        .agg(
            n_lines=pl.col("n").sum(),
            line_amount=pl.col("amount").sum(),
            top_items=pl.format("{} {}", "item", money_expr("amount"))
            .head(TOP_ITEMS)
            .str.join("; "),
        )
    )
    out = (
        pl.DataFrame({"code": codes})
        .join(names, on="code", how="left")
        .join(setl, on="code", how="left")
        .join(top, on="code", how="left")
        .with_columns(pl.lit(kind).alias("kind"))
    )
    return out.select(
        pl.col(c).cast(t).fill_null(0) if t in (pl.Int64(), pl.Float64()) else pl.col(c).cast(t)
        for c, t in _ACTIVITY_SCHEMA.items()
    )


def _span(
    con: duckdb.DuckDBPyConnection, institutions: list[str], persons: list[str]
) -> tuple[date, date] | None:
    """The first and last settlement day the lake holds for the targets (all of them when
    both lists are empty), or None when it holds none."""
    where, params = [], []
    for column, codes in (("fixmedins_code", institutions), ("psn_no", persons)):
        if codes:
            where.append(f"list_contains(?, {column})")
            params.append(codes)
    sql = "SELECT CAST(min(setl_time) AS DATE), CAST(max(setl_time) AS DATE) FROM settlement"
    if where:
        sql += " WHERE " + " OR ".join(where)
    first, last = con.execute(sql, params).fetchone() or (None, None)
    return None if first is None else (first, last)


def data_span(
    workspace: Path, institutions: Iterable[str] = (), persons: Iterable[str] = ()
) -> tuple[date, date] | None:
    """The first and last day of the settlements the workspace's lake holds for these
    institutions and persons (for all, when none is given); None when it holds none."""
    lake = Workspace.of(workspace).lake
    if not lake.batches():
        return None
    con = lake.connect()
    try:
        return _span(con, list(institutions), list(persons))
    finally:
        con.close()


def default_period(workspace: Path, c: Complaint) -> tuple[date, date]:
    """The range a check of ``c`` reads unless told otherwise: the span of the data the
    lake holds for its targets; else (targets the lake holds nothing on) the span of all
    its data; else (an empty lake) the :data:`LOOK_BACK_DAYS` up to receipt."""
    span = data_span(workspace, c.institutions, c.persons) or data_span(workspace)
    if span is None:
        return c.received_on - timedelta(days=LOOK_BACK_DAYS), c.received_on
    return span


def _warnings(
    con: duckdb.DuckDBPyConnection, act: pl.DataFrame, start: date, end: date
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One warning per target without a settlement in the range, saying where its data
    lies, so a check that finds nothing never reads as a plain zero."""
    zh, en = [], []
    for r in act.filter(pl.col("n_settlements") == 0).iter_rows(named=True):
        inst = r["kind"] == "institution"
        who_zh = "该机构" if inst else "该参保人"
        who_en = "institution" if inst else "person"
        target = f"{r['code']}" + (f"（{r['name']}）" if r["name"] else "")
        target_en = f"{r['code']}" + (f" ({r['name']})" if r["name"] else "")
        span = _span(con, [r["code"]] if inst else [], [] if inst else [r["code"]])
        if span is None:
            where_zh = f"数据湖中无{who_zh}的任何结算数据，请核对编号"
            where_en = "the lake holds no settlement of it at all: check the code"
        else:
            where_zh = f"数据湖中{who_zh}的结算数据为{span[0]}至{span[1]}，请调整核查期间"
            where_en = f"the lake holds its settlements from {span[0]} to {span[1]}"
        zh.append(f"核查期间{start}至{end}内{who_zh}{target}无结算数据（{where_zh}）。")
        en.append(f"No settlements of {who_en} {target_en} from {start} to {end} ({where_en}).")
    return tuple(zh), tuple(en)


def _leads(run: Run | None, c: Complaint, start: date, end: date) -> pl.DataFrame:
    """The run's findings on the targets whose period touches the range."""
    if run is None:
        schema = {k: pl.String() for k in LEAD_COLUMNS} | {"amount_at_risk": pl.Float64()}
        return pl.DataFrame(schema=schema | {"rule_name": pl.String()})
    f = run.findings()
    on_target = pl.col("fixmedins_code").is_in(list(c.institutions)) | pl.col("psn_no").is_in(
        list(c.persons)
    )
    in_range = (pl.col("period_start").is_null() | (pl.col("period_start") <= end)) & (
        pl.col("period_end").is_null() | (pl.col("period_end") >= start)
    )
    return (
        f.filter(on_target & in_range)
        .select(*LEAD_COLUMNS, "rule_name")
        .sort(["amount_at_risk", "finding_id"], descending=[True, False])
    )


def _by_rule(leads: pl.DataFrame) -> pl.DataFrame:
    return (
        leads.group_by("rule_id", "rule_name")
        .agg(n_findings=pl.len().cast(pl.Int64), amount_at_risk=pl.col("amount_at_risk").sum())
        .sort(["amount_at_risk", "rule_id"], descending=[True, False])
        .select(pl.col(c).cast(t) for c, t in _BY_RULE_SCHEMA.items())
    )


def _fingerprint(payload: dict) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _summaries(
    c: Complaint,
    start: date,
    end: date,
    run_id: str | None,
    act: pl.DataFrame,
    by_rule: pl.DataFrame,
) -> tuple[str, str]:
    inst = act.filter(pl.col("kind") == "institution")
    psn = act.filter(pl.col("kind") == "person")
    # Settlements of a linked person at a linked institution are counted once per side;
    # the summary states each side's figures rather than a sum that would double them.
    parts_zh, parts_en = [], []
    for label_zh, label_en, part in (("机构", "institution", inst), ("参保人", "person", psn)):
        if part.height:
            n, amount = int(part["n_settlements"].sum()), float(part["medfee_sumamt"].sum())
            fund, lines = float(part["fund_pay_sumamt"].sum()), int(part["n_lines"].sum())
            parts_zh.append(
                f"{part.height}个{label_zh}结算{n:,}笔、医疗费{money(amount)}（基金支付"
                f"{money(fund)}）、明细{lines:,}条"
            )
            plural = "s" if part.height > 1 else ""
            parts_en.append(
                f"{part.height} {label_en}{plural}: {n:,} settlements, {money(amount)} billed "
                f"({money(fund)} from the fund), {lines:,} fee lines"
            )
    head_zh = f"{start}至{end}，" + "；".join(parts_zh) + "。"
    head_en = f"{start} to {end}: " + "; ".join(parts_en) + "."
    if run_id is None:
        return head_zh + "尚无评分批次，未查疑点。", head_en + " No scoring run yet: no leads."
    n, amount = int(by_rule["n_findings"].sum()), float(by_rule["amount_at_risk"].sum())
    if n == 0:
        return (
            head_zh + f"评分批次{run_id}中无相关疑点。",
            head_en + f" Run {run_id} holds no leads on them.",
        )
    top = by_rule.head(3).iter_rows(named=True)
    rules = [(r["rule_name"], r["rule_id"], r["n_findings"], r["amount_at_risk"]) for r in top]
    zh = "、".join(f"{name}{k}条（{money(a)}）" for name, _, k, a in rules)
    en = ", ".join(f"{rid} {k} ({money(a)})" for _, rid, k, a in rules)
    more_zh = f"等{by_rule.height}条规则" if by_rule.height > 3 else ""
    more_en = f" and {by_rule.height - 3} more rules" if by_rule.height > 3 else ""
    return (
        head_zh + f"评分批次{run_id}疑点{n:,}条，疑点金额{money(amount)}，主要为{zh}{more_zh}。",
        head_en + f" Run {run_id}: {n:,} leads, {money(amount)} at risk, mostly {en}{more_en}.",
    )


def targeted_check(
    workspace: Path,
    c: Complaint,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    run_id: str | None = None,
) -> CheckResult:
    """Read the lake and the run (default: latest; none is fine) for the complaint's targets
    over ``date_from``–``date_to`` (each defaults to its end of :func:`default_period`),
    with a warning for each target without a settlement in the range. Writes nothing:
    :func:`run_check` stores the result."""
    if not (c.institutions or c.persons):
        msg = f"complaint {c.number} names no institution or person: link them first"
        raise ComplaintError(msg)
    if date_from is None or date_to is None:
        first, last = default_period(workspace, c)
        date_from, date_to = date_from or first, date_to or last
    start, end = date_from, date_to
    if start > end:
        msg = f"date range {start} to {end} is empty: the start comes after the end"
        raise ComplaintError(msg)
    try:
        run: Run | None = open_run(workspace, run_id)
    except RunError:
        if run_id is not None:
            raise
        run = None
    lake = Workspace.of(workspace).lake
    con = lake.connect()
    try:
        act = pl.concat(
            [
                _activity(con, kind, list(codes), start, end)
                for kind, codes in (("institution", c.institutions), ("person", c.persons))
                if codes
            ]
        )
        warnings_zh, warnings_en = _warnings(con, act, start, end)
    finally:
        con.close()
    leads = _leads(run, c, start, end)
    by_rule = _by_rule(leads)
    found_run = None if run is None else run.run_id
    zh, en = _summaries(c, start, end, found_run, act, by_rule)
    zh, en = "".join(warnings_zh) + zh, " ".join((*warnings_en, en))
    payload = {
        "complaint": c.number,
        "range": [start, end],
        "targets": [list(c.institutions), list(c.persons)],
        "run_id": found_run,
        "batches": [b.batch_id for b in lake.batches()],
        "activity": act.with_columns(pl.col(pl.Float64).round(2)).rows(),
        "finding_ids": sorted(leads["finding_id"].to_list()),
    }
    return CheckResult(
        number=c.number,
        date_from=start,
        date_to=end,
        run_id=found_run,
        activity=act,
        by_rule=by_rule,
        leads=leads,
        summary_zh=zh,
        summary_en=en,
        fingerprint=_fingerprint(payload),
        warnings_zh=warnings_zh,
        warnings_en=warnings_en,
    )


def run_check(
    store: CaseStore,
    workspace: Path,
    number: str,
    *,
    by: str,
    date_from: date | None = None,
    date_to: date | None = None,
    run_id: str | None = None,
) -> CheckResult:
    """Check an open complaint and store the result in one transaction: the check row with
    its fingerprint and figures, its leads linked to the complaint, the complaint moved to
    checking, and the audit row."""
    by = required_text(by, "by (核查人)")
    c = get(store, number)
    if c.status == "handled":
        msg = f"complaint {c.number} is handled and final: no further checks"
        raise ComplaintError(msg)
    result = targeted_check(workspace, c, date_from=date_from, date_to=date_to, run_id=run_id)
    detail = {
        "activity": result.activity.to_dicts(),
        "by_rule": result.by_rule.to_dicts(),
        "warnings_zh": list(result.warnings_zh),
        "warnings_en": list(result.warnings_en),
    }
    at = timestamp()
    with store.transaction() as con:
        c = get(store, number)  # again under the write lock: it may have closed meanwhile
        if c.status == "handled":
            msg = f"complaint {c.number} was handled while the check ran: not stored"
            raise ComplaintError(msg)
        cur = con.execute(
            """INSERT INTO complaint_check (complaint_id, checked_by, checked_at, date_from,
                   date_to, run_id, fingerprint, summary_zh, summary_en, detail)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                c.complaint_id,
                by,
                at,
                result.date_from.isoformat(),
                result.date_to.isoformat(),
                result.run_id,
                result.fingerprint,
                result.summary_zh,
                result.summary_en,
                json.dumps(detail, ensure_ascii=False, default=str),
            ),
        )
        check_id = int(cur.lastrowid or 0)
        linked = insert_leads(con, c.complaint_id, result.leads.to_dicts(), check_id, by, at)
        start_check(con, c, at)
        audit = {
            "check_id": check_id,
            "fingerprint": result.fingerprint,
            "run_id": result.run_id,
            "leads": result.leads.height,
            "newly_linked": len(linked),
        }
        write_audit(con, at, by, "complaint.check", "complaint", c.number, audit)
    return CheckResult(**{**result.__dict__, "check_id": check_id})


CHECK_SCHEMA: dict[str, pl.DataType] = {
    "check_id": pl.Int64(),
    "checked_by": pl.String(),
    "checked_at": pl.String(),
    "date_from": pl.String(),
    "date_to": pl.String(),
    "run_id": pl.String(),
    "fingerprint": pl.String(),
    "summary_zh": pl.String(),
    "summary_en": pl.String(),
    "detail": pl.String(),
}
LEAD_SCHEMA: dict[str, pl.DataType] = {
    "finding_id": pl.String(),
    "check_id": pl.Int64(),
    "rule_id": pl.String(),
    "fixmedins_code": pl.String(),
    "psn_no": pl.String(),
    "amount_at_risk": pl.Float64(),
    "run_id": pl.String(),
    "linked_by": pl.String(),
    "linked_at": pl.String(),
}


def _of_complaint(
    store: CaseStore, number: str, table: str, schema: dict[str, pl.DataType], order: str
) -> pl.DataFrame:
    c = get(store, number)
    cols = ", ".join(schema)
    sql = f"SELECT {cols} FROM {table} WHERE complaint_id = ? ORDER BY {order}"
    return pl.DataFrame(store.query(sql, (c.complaint_id,)), schema=schema, orient="row")


def checks(store: CaseStore, number: str) -> pl.DataFrame:
    """The complaint's stored checks, newest first."""
    return _of_complaint(store, number, "complaint_check", CHECK_SCHEMA, "check_id DESC")


def linked_leads(store: CaseStore, number: str) -> pl.DataFrame:
    """The leads linked to the complaint, largest amount at risk first."""
    order = "amount_at_risk DESC, finding_id"
    return _of_complaint(store, number, "complaint_lead", LEAD_SCHEMA, order)
