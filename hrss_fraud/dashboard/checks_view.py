"""事前事中审核 The pre-settlement checks of some days, as the dashboard shows them: how many
calls the check service answered, passed, warned, blocked or refused, the doctors'
handling of the warnings (continued with a reason, changed), by institution and by rule;
and, for each warning whose visit later arrived in the lake's claims, whether the latest
batch run also flagged that visit.

The check service logs its calls in the case store (migration 0013,
:mod:`hrss_fraud.precheck.calllog`); this module only reads those tables, the lake's
settlements and persons, and the run's leads and lines. Days are the office's local days;
the store keeps UTC times, so a day is turned into its UTC bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.cases.masking import mask_frame
from hrss_fraud.cases.store import timestamp
from hrss_fraud.dashboard.audit_view import NotADate
from hrss_fraud.lake.views import literal
from hrss_fraud.model.times import minute_expr
from hrss_fraud.outputs.labels import _pick, severity_labels, unattributed, yes_no

if TYPE_CHECKING:
    import duckdb

    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.engine.catalogue import Catalogue
    from hrss_fraud.outputs.runs_view import RunView

PERMISSION = "view_leads"
CHECK_INFNOS = ("3101", "3102")
"""The calls that check a visit (the plain form is logged as one of them, by its scene)."""
HANDLING: dict[str, tuple[str, str]] = {
    "1": ("继续执行（已说明理由）", "continued with a reason"),
    "2": ("已修改", "changed"),
    "": ("未反馈", "no feedback"),
}
"""A warning's handling in force (3103 ``dspo_way``; none sent: empty)."""
VERDICTS: dict[str, tuple[str, str]] = {
    "pass": ("通过", "passed"),
    "warn": ("提醒", "warned"),
    "block": ("拦截", "blocked"),
}
SCENES: dict[str, tuple[str, str]] = {
    "3101": ("事前提醒", "before ordering"),
    "3102": ("事中审核", "at settlement"),
}
FEEDBACK_ROWS = 500
"""Most warnings listed beside their later claims (the counts cover them all)."""

COUNTS = ("checks", "passed", "warned", "blocked", "refused", "warnings")
HANDLED = ("continued", "changed", "no_feedback")

_CALLS = {
    "id": pl.String,
    "at": pl.String,
    "fixmedins_code": pl.String,
    "infno": pl.String,
    "mdtrt_id": pl.String,
    "psn_no": pl.String,
    "verdict": pl.String,
    "status": pl.Int64,
}
_HITS = {
    "warn_rslt_id": pl.String,
    "call_id": pl.String,
    "rule_id": pl.String,
    "severity": pl.String,
    "mdtrt_id": pl.String,
    "amount": pl.Float64,
}
_FEEDBACK = {
    "feedback_id": pl.Int64,
    "warn_rslt_id": pl.String,
    "dspo_way": pl.String,
    "reason": pl.String,
}


def parse_day(value: str | date | None, field: str, default: date) -> date:
    """A form's date (``YYYY-MM-DD``; empty: ``default``); :class:`NotADate` naming
    ``field`` and the text typed otherwise."""
    if value is None or value == "":
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise NotADate(field, value) from None


def utc_bounds(start: date, end: date) -> tuple[str, str]:
    """Local midnight before ``start`` and after ``end`` as the store writes times, so
    ``at >= lo AND at < hi`` is the days ``start`` to ``end`` on the office's clock."""
    if end < start:
        raise ValueError(f"日期范围有误：结束日期 {end} 早于开始日期 {start} (end before start)")
    lo = datetime.combine(start, time()).astimezone()
    hi = datetime.combine(end + timedelta(days=1), time()).astimezone()
    return timestamp(lo), timestamp(hi)


@dataclass(frozen=True)
class ChecksReport:
    """What the page shows for the days ``start`` to ``end``."""

    start: date
    end: date
    totals: dict[str, int]
    """``calls`` and each of :data:`COUNTS` and :data:`HANDLED`."""
    by_institution: pl.DataFrame
    by_rule: pl.DataFrame
    later: pl.DataFrame
    """One row per warning (at most :data:`FEEDBACK_ROWS`), those whose visit arrived in
    the lake first: the handling beside the later claim and the batch's verdict on it."""
    n_later: int
    """Warnings whose visit arrived in the lake (all of them, not only those listed)."""


def _frame(store: CaseStore, sql: str, params: tuple, schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(store.query(sql, params), schema=schema, orient="row")


def _read(store: CaseStore, lo: str, hi: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The days' calls, the warnings they answered, and each warning's handling in force
    (the later of two sent)."""
    calls = _frame(
        store,
        f"SELECT {', '.join(_CALLS)} FROM check_call WHERE at >= ? AND at < ?",
        (lo, hi),
        _CALLS,
    )
    hits = _frame(
        store,
        f"SELECT {', '.join('h.' + c for c in _HITS)} FROM check_hit h "
        "JOIN check_call c ON c.id = h.call_id WHERE c.at >= ? AND c.at < ?",
        (lo, hi),
        _HITS,
    )
    feedback = _frame(
        store,
        "SELECT f.feedback_id, f.warn_rslt_id, f.dspo_way, f.reason FROM check_feedback f "
        "JOIN check_hit h ON h.warn_rslt_id = f.warn_rslt_id "
        "JOIN check_call c ON c.id = h.call_id WHERE c.at >= ? AND c.at < ?",
        (lo, hi),
        _FEEDBACK,
    )
    in_force = feedback.sort("feedback_id").unique("warn_rslt_id", keep="last")
    return calls, hits, in_force.drop("feedback_id")


def _call_counts() -> list[pl.Expr]:
    checked = pl.col("infno").is_in(CHECK_INFNOS) & (pl.col("status") == 200)
    return [
        pl.len().alias("calls"),
        checked.sum().alias("checks"),
        (pl.col("verdict") == "pass").sum().alias("passed"),
        (pl.col("verdict") == "warn").sum().alias("warned"),
        (pl.col("verdict") == "block").sum().alias("blocked"),
        (pl.col("status") != 200).sum().alias("refused"),
    ]


def _hit_counts() -> list[pl.Expr]:
    way = pl.col("dspo_way")
    return [
        pl.len().alias("warnings"),
        (way == "1").sum().alias("continued"),
        (way == "2").sum().alias("changed"),
        way.is_null().sum().alias("no_feedback"),
    ]


def _visit_persons(calls: pl.DataFrame) -> pl.DataFrame:
    """``mdtrt_id, psn_no`` of each visit checked: a call names its visits and their persons
    comma-joined, in the same order."""
    pairs = calls.filter(pl.col("mdtrt_id").is_not_null()).select(
        mdtrt_id=pl.col("mdtrt_id").str.split(","),
        psn_no=pl.col("psn_no").fill_null("").str.split(","),
    )
    pairs = pairs.filter(pl.col("mdtrt_id").list.len() == pl.col("psn_no").list.len())
    return pairs.explode("mdtrt_id", "psn_no").unique("mdtrt_id", keep="last")


def _lake_rows(con: duckdb.DuckDBPyConnection, sql: str, ids: list[str]) -> pl.DataFrame:
    try:
        return con.sql(sql, params=[ids]).pl()
    finally:
        con.close()


def _claims(view: RunView, visits: list[str]) -> pl.DataFrame:
    """``mdtrt_id, setl_time`` of the checked visits the lake has settled (the latest)."""
    sql = (
        "SELECT mdtrt_id, max(setl_time) AS setl_time FROM settlement "
        "WHERE list_contains(?, mdtrt_id) GROUP BY mdtrt_id"
    )
    return _lake_rows(view.lake_cursor(), sql, visits)


def _names(view: RunView, persons: list[str], role: str | None) -> pl.DataFrame:
    """``psn_no, psn_name`` of the persons, the name masked as ``role`` may see it."""
    sql = (
        "SELECT psn_no, max(psn_name) AS psn_name FROM person "
        "WHERE list_contains(?, psn_no) GROUP BY psn_no"
    )
    return mask_frame(_lake_rows(view.lake_cursor(), sql, persons), role)


def _batch_rules(view: RunView, visits: list[str]) -> pl.DataFrame:
    """``mdtrt_id, rule_id`` of the run's leads whose lines name the visits."""
    lines, leads = literal(str(view.lines_path)), literal(str(view.findings_path))
    sql = (
        f"SELECT DISTINCT l.mdtrt_id, f.rule_id FROM read_parquet({lines}) l "
        f"JOIN read_parquet({leads}) f USING (finding_id) "
        "WHERE list_contains(?, l.mdtrt_id)"
    )
    return _lake_rows(view.cursor(), sql, visits)


def _rule_names(catalogue: Catalogue, lang: str) -> dict[str, str]:
    return {rid: (r.name_en if lang == "en" else r.name_zh) for rid, r in catalogue.rules.items()}


def checks_report(
    store: CaseStore,
    view: RunView,
    catalogue: Catalogue,
    start: date,
    end: date,
    *,
    role: str | None,
    lang: str = "zh",
) -> ChecksReport:
    """The checks of the local days ``start`` to ``end`` (inclusive), institutions by
    their names, rules by their names in ``lang``, persons' names masked for ``role``;
    the later claims and the batch's leads read from ``view`` (the latest run)."""
    lo, hi = utc_bounds(start, end)
    calls, hits, handling = _read(store, lo, hi)
    of_call = calls.select(
        pl.col("id").alias("call_id"), "fixmedins_code", "verdict", "infno", "at"
    )
    hits = hits.join(of_call, on="call_id", how="left").join(
        handling, on="warn_rslt_id", how="left"
    )
    totals = {
        **calls.select(_call_counts()).row(0, named=True),
        **hits.select(_hit_counts()).row(0, named=True),
    }
    institutions = view.institutions.select("fixmedins_code", "fixmedins_name")
    by_inst = (
        calls.group_by("fixmedins_code")
        .agg(_call_counts())
        .join(hits.group_by("fixmedins_code").agg(_hit_counts()), on="fixmedins_code", how="left")
        .join(institutions, on="fixmedins_code", how="left")
        .with_columns(
            pl.col([*HANDLED, "warnings"]).fill_null(0),
            fixmedins_name=pl.col("fixmedins_name").fill_null(
                pl.col("fixmedins_code").fill_null(unattributed(lang))
            ),
        )
        .sort(["warnings", "calls", "fixmedins_name"], descending=[True, True, False])
    )
    names = _rule_names(catalogue, lang)
    visits = hits["mdtrt_id"].unique().to_list()
    batch = _batch_rules(view, visits) if visits else pl.DataFrame(
        schema={"mdtrt_id": pl.String, "rule_id": pl.String}
    )  # fmt: skip
    flagged = batch.with_columns(batch_same=pl.lit(True))
    hits = hits.join(flagged, on=["mdtrt_id", "rule_id"], how="left").with_columns(
        batch_same=pl.col("batch_same").fill_null(False)
    )
    by_rule = (
        hits.group_by("rule_id")
        .agg(
            *_hit_counts(),
            pl.col("mdtrt_id").n_unique().alias("visits"),
            (pl.col("verdict") == "block").sum().alias("blocked"),
            pl.col("batch_same").sum().alias("batch_flagged"),
            pl.col("amount").sum().alias("amount"),
        )
        .with_columns(rule_name=pl.col("rule_id").replace_strict(names, default=pl.col("rule_id")))
        .sort(["warnings", "rule_id"], descending=[True, False])
    )
    later, n_later = _later(view, hits, calls, batch, names, role=role, lang=lang)
    return ChecksReport(start, end, totals, by_inst, by_rule, later, n_later)


def _later(
    view: RunView,
    hits: pl.DataFrame,
    calls: pl.DataFrame,
    batch: pl.DataFrame,
    names: dict[str, str],
    *,
    role: str | None,
    lang: str,
) -> tuple[pl.DataFrame, int]:
    """Each warning with its handling, the visit's later claim and the batch's leads on it."""
    visits = hits["mdtrt_id"].unique().to_list()
    claims = _claims(view, visits) if visits else pl.DataFrame(
        schema={"mdtrt_id": pl.String, "setl_time": pl.Datetime}
    )  # fmt: skip
    rows = hits.join(_visit_persons(calls), on="mdtrt_id", how="left").join(
        claims, on="mdtrt_id", how="left"
    )
    arrived = pl.col("setl_time").is_not_null()
    n_later = int(rows.select(arrived.sum()).item())
    rows = rows.sort([arrived, "at"], descending=[True, True]).head(FEEDBACK_ROWS)
    persons = [p for p in rows["psn_no"].unique().to_list() if p]
    people = _names(view, persons, role) if persons else pl.DataFrame(
        schema={"psn_no": pl.String, "psn_name": pl.String}
    )  # fmt: skip
    others = (
        batch.with_columns(name=pl.col("rule_id").replace_strict(names, default=pl.col("rule_id")))
        .group_by("mdtrt_id")
        .agg(pl.col("name").sort().str.join("、" if lang == "zh" else "; ").alias("batch_rules"))
    )
    handling = {k: _pick(v, lang) for k, v in HANDLING.items()}
    verdicts = {k: _pick(v, lang) for k, v in VERDICTS.items()}
    scenes = {k: _pick(v, lang) for k, v in SCENES.items()}
    institutions = view.institutions.select("fixmedins_code", "fixmedins_name")
    out = (
        rows.join(people, on="psn_no", how="left")
        .join(others, on="mdtrt_id", how="left")
        .join(institutions, on="fixmedins_code", how="left")
        .with_columns(
            checked_at=minute_expr("at"),
            scene=pl.col("infno").replace_strict(scenes, default=pl.col("infno")),
            rule_name=pl.col("rule_id").replace_strict(names, default=pl.col("rule_id")),
            severity_label=pl.col("severity").replace_strict(
                severity_labels(lang), default=pl.col("severity")
            ),
            verdict_label=pl.col("verdict").replace_strict(verdicts, default=pl.col("verdict")),
            handling=pl.col("dspo_way").fill_null("").replace_strict(handling, default=""),
            reason=pl.col("reason").fill_null(""),
            claimed=arrived.map_elements(lambda v: yes_no(v, lang), return_dtype=pl.String),
            settled_at=pl.col("setl_time").dt.strftime("%Y-%m-%d %H:%M"),  # the claim's own clock
            batch_same=pl.when(arrived)
            .then(
                pl.col("batch_same").map_elements(lambda v: yes_no(v, lang), return_dtype=pl.String)
            )
            .otherwise(pl.lit("")),
            batch_rules=pl.col("batch_rules").fill_null(""),
            fixmedins_name=pl.col("fixmedins_name").fill_null(pl.col("fixmedins_code")),
        )
    )
    return out, n_later
