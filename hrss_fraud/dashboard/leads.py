"""The lead queue: one page of a run's findings, filtered, sorted and joined with their
review status, in the shape dash-ag-grid's infinite row model asks for.

The grid sends ``startRow``, ``endRow``, ``sortModel`` and ``filterModel``; the callback
answers ``{"rowData": rows, "rowCount": n}`` with :func:`page`. Each call opens its own
in-memory DuckDB connection that reads the run's Parquet (a connection must not be shared
across threads), so a million findings page in a fraction of a second without loading
them into the web process.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, TypedDict

import duckdb
import polars as pl

from hrss_fraud.dashboard.labels import (
    LANGS,
    STATUSES,
    severity_labels,
    status_labels,
    step_labels,
)
from hrss_fraud.lake.views import literal
from hrss_fraud.rules.catalogue import SEVERITIES

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.dashboard.runs_view import RunView

ROW_COLUMNS = (
    "finding_id",
    "rule_id",
    "rule_name",
    "severity",
    "severity_label",
    "fixmedins_code",
    "fixmedins_name",
    "zone",
    "zone_name",
    "psn_no",
    "period_start",
    "period_end",
    "amount_at_risk",
    "status",
    "status_label",
    "step",
    "step_label",
    "evidence",
)
"""The columns of a lead row, in display order; ``rule_name`` and ``evidence`` in the
requested language, ``period_*`` as ISO dates so a row is plain JSON for the grid."""

SEVERITY_RANK = {"definite": 3, "high": 2, "suspicious": 1}
"""Sorting by severity means by this rank: descending puts definite violations first."""


class FilterError(ValueError):
    """A sort or filter the lead queue cannot apply; the message names the column and type."""


class SortItem(TypedDict):
    colId: str
    sort: str


SortModel = list[SortItem]
"""ag-grid's ``sortModel``: ``[{"colId": "amount_at_risk", "sort": "desc"}, …]``, first
key first."""

DEFAULT_SORT: SortModel = [
    {"colId": "amount_at_risk", "sort": "desc"},
    {"colId": "severity", "sort": "desc"},
]


@dataclass(frozen=True)
class LeadFilter:
    """What the auditor narrowed the queue to. ``None`` is no constraint; a tuple keeps the
    leads whose value is in it (an empty tuple keeps none, as an empty set filter does).

    ``date_from``/``date_to`` keep leads whose period overlaps the range (a lead "in March"
    is any lead with part of its period in March); ``text`` is a case-insensitive
    substring of the evidence in either language."""

    rule_ids: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    fixmedins_codes: tuple[str, ...] | None = None
    zones: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    finding_ids: tuple[str, ...] | None = None
    psn_no: str | None = None
    amount_min: float | None = None
    amount_max: float | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None

    def narrowed(self, other: LeadFilter) -> LeadFilter:
        """Both filters at once (AND): sets intersect, bounds tighten."""
        out: dict[str, Any] = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if a is None or b is None:
                out[f.name] = b if a is None else a
            elif isinstance(a, tuple):
                out[f.name] = tuple(v for v in a if v in b)
            elif f.name in ("amount_min", "date_from"):
                out[f.name] = max(a, b)
            elif f.name in ("amount_max", "date_to"):
                out[f.name] = min(a, b)
            elif a != b:
                msg = f"cannot combine {f.name}={a!r} and {f.name}={b!r} in one filter"
                raise FilterError(msg)
            else:
                out[f.name] = a
        return LeadFilter(**out)


def _where(flt: LeadFilter) -> tuple[str, list[Any]]:
    """The SQL condition over the joined lead row and its parameters."""
    conds, params = ["true"], []
    for attr, col in (
        ("rule_ids", "f.rule_id"),
        ("severities", "f.severity"),
        ("fixmedins_codes", "f.fixmedins_code"),
        ("zones", "i.zone"),
        ("statuses", "coalesce(d.decision, 'new')"),
        ("finding_ids", "f.finding_id"),
    ):
        values = getattr(flt, attr)
        if values is not None:
            conds.append(f"list_contains(?::VARCHAR[], {col})")
            params.append(list(values))
    for value, cond in (
        (flt.psn_no, "f.psn_no = ?"),
        (flt.amount_min, "f.amount_at_risk >= ?"),
        (flt.amount_max, "f.amount_at_risk <= ?"),
        (flt.date_from, "f.period_end >= ?"),
        (flt.date_to, "f.period_start <= ?"),
    ):
        if value is not None:
            conds.append(cond)
            params.append(value)
    if flt.text:
        conds.append("(contains(lower(f.evidence), ?) OR contains(lower(f.evidence_en), ?))")
        params += [flt.text.lower()] * 2
    return " AND ".join(conds), params


def _case(expr: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in mapping.items())
    return f"CASE {expr} {whens} ELSE {expr} END"


def _select(lang: str) -> str:
    if lang not in LANGS:
        msg = f"unknown language {lang!r}; expected one of {', '.join(LANGS)}"
        raise ValueError(msg)
    en = "_en" if lang == "en" else ""
    status = "coalesce(d.decision, 'new')"
    return f"""
        f.finding_id, f.rule_id, f.rule_name{en} AS rule_name, f.severity,
        {_case("f.severity", severity_labels(lang))} AS severity_label,
        f.fixmedins_code, i.fixmedins_name, i.zone, i.zone_name, f.psn_no,
        strftime(f.period_start, '%Y-%m-%d') AS period_start,
        strftime(f.period_end, '%Y-%m-%d') AS period_end,
        f.amount_at_risk, {status} AS status,
        {_case(status, status_labels(lang))} AS status_label,
        d.step, {_case("d.step", step_labels(lang))} AS step_label,
        f.evidence{en} AS evidence"""


_SORTABLE = {
    "finding_id": "f.finding_id",
    "rule_id": "f.rule_id",
    "rule_name": "rule_name",
    "severity": "severity_rank",
    "severity_label": "severity_rank",
    "fixmedins_code": "f.fixmedins_code",
    "fixmedins_name": "i.fixmedins_name",
    "zone": "i.zone",
    "zone_name": "i.zone_name",
    "psn_no": "f.psn_no",
    "period_start": "f.period_start",
    "period_end": "f.period_end",
    "amount_at_risk": "f.amount_at_risk",
    "status": "status",
    "status_label": "status_label",
    "step": "d.step",
    "step_label": "step_label",
    "evidence": "evidence",
}


def _order(sort: SortModel | None) -> str:
    """ORDER BY for ``sort``, then risk (:data:`DEFAULT_SORT`) among ties, then
    ``finding_id``: a total order, so pages never overlap or skip a row."""
    keys = []
    chosen = {_SORTABLE.get(str(item.get("colId"))) for item in sort or ()}
    defaults = [d for d in DEFAULT_SORT if _SORTABLE[d["colId"]] not in chosen]
    for item in [*(sort or ()), *defaults]:
        col, direction = item.get("colId"), str(item.get("sort") or "asc").lower()
        if col not in _SORTABLE:
            msg = f"cannot sort leads by {col!r}; sortable: {', '.join(_SORTABLE)}"
            raise FilterError(msg)
        if direction not in ("asc", "desc"):
            msg = f"sort direction {direction!r} of {col!r} is neither asc nor desc"
            raise FilterError(msg)
        keys.append(f"{_SORTABLE[col]} {direction.upper()} NULLS LAST")
    return ", ".join([*keys, "f.finding_id ASC"])


def review_status(case_store: CaseStore | None) -> pl.DataFrame:
    """``finding_id, decision, step`` of every decided lead (its latest decision); none
    without a case store, so every lead is ``new``."""
    if case_store is None:
        return pl.DataFrame(
            schema={"finding_id": pl.String, "decision": pl.String, "step": pl.String}
        )
    return case_store.current_decisions().select("finding_id", "decision", "step")


def _connect(view: RunView, case_store: CaseStore | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("institutions", view.institutions)
    con.register("decisions", review_status(case_store))
    return con


def _from(view: RunView) -> str:
    ranks = _case("severity", {k: str(v) for k, v in SEVERITY_RANK.items()})
    return f"""(SELECT *, CAST({ranks} AS INTEGER) AS severity_rank
                FROM read_parquet({literal(str(view.findings_path))})) AS f
        LEFT JOIN institutions AS i ON i.fixmedins_code = f.fixmedins_code
        LEFT JOIN decisions AS d ON d.finding_id = f.finding_id"""


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [c[0] for c in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def count(view: RunView, flt: LeadFilter | None = None, case_store: CaseStore | None = None) -> int:
    """How many leads ``flt`` keeps."""
    where, params = _where(flt or LeadFilter())
    con = _connect(view, case_store)
    try:
        return _count(con, view, where, params)
    finally:
        con.close()


def _count(con: duckdb.DuckDBPyConnection, view: RunView, where: str, params: list[Any]) -> int:
    sql = f"SELECT count(*) FROM {_from(view)} WHERE {where}"
    return int(con.execute(sql, params).fetchall()[0][0])


def page(
    view: RunView,
    flt: LeadFilter | None,
    sort: SortModel | None,
    start_row: int,
    end_row: int,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> tuple[list[dict[str, Any]], int]:
    """Rows ``start_row`` (inclusive) to ``end_row`` (exclusive) of the filtered, sorted
    queue, as :data:`ROW_COLUMNS` dicts, and how many rows the whole queue has."""
    if start_row < 0 or end_row < start_row:
        msg = f"rows {start_row}..{end_row}: need 0 <= startRow <= endRow"
        raise FilterError(msg)
    where, params = _where(flt or LeadFilter())
    order = _order(sort)
    con = _connect(view, case_store)
    try:
        total = _count(con, view, where, params)
        cur = con.execute(
            f"SELECT {_select(lang)} FROM {_from(view)} WHERE {where} ORDER BY {order} "
            f"LIMIT {int(end_row - start_row)} OFFSET {int(start_row)}",
            params,
        )
        return _rows(cur), total
    finally:
        con.close()


def lead_frame(
    view: RunView,
    flt: LeadFilter | None = None,
    sort: SortModel | None = None,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
    limit: int | None = None,
) -> pl.DataFrame:
    """Every lead ``flt`` keeps (up to ``limit``), sorted, in :data:`ROW_COLUMNS`: what an
    export or an overview breakdown works on."""
    where, params = _where(flt or LeadFilter())
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    con = _connect(view, case_store)
    try:
        sql = f"SELECT {_select(lang)} FROM {_from(view)} WHERE {where} ORDER BY {_order(sort)}"
        return con.sql(sql + tail, params=params).pl()
    finally:
        con.close()


# --- ag-grid's filterModel -------------------------------------------------------------

FILTER_OPTIONS: dict[str, tuple[str, ...]] = {
    "rule_id": ("equals",),
    "severity": ("equals",),
    "severity_label": ("equals",),
    "fixmedins_code": ("equals",),
    "zone": ("equals",),
    "status": ("equals",),
    "status_label": ("equals",),
    "finding_id": ("equals",),
    "psn_no": ("equals",),
    "evidence": ("contains",),
    "amount_at_risk": (
        "equals",
        "greaterThan",
        "greaterThanOrEqual",
        "lessThan",
        "lessThanOrEqual",
        "inRange",
    ),
    "period_start": ("equals", "greaterThan", "lessThan", "inRange"),
    "period_end": ("equals", "greaterThan", "lessThan", "inRange"),
}
"""The ``filterParams.filterOptions`` each filterable column supports: give them to the
grid's column definitions so an auditor cannot pick one the queue would refuse. Set
filters (``filterType: "set"``) work on every column with ``equals``. Number ranges are
inclusive (set ``filterParams.inRangeInclusive``); date filters on either period column
keep leads whose period overlaps the range."""

_SET_FIELDS = {
    "rule_id": "rule_ids",
    "severity": "severities",
    "severity_label": "severities",
    "fixmedins_code": "fixmedins_codes",
    "zone": "zones",
    "status": "statuses",
    "status_label": "statuses",
    "finding_id": "finding_ids",
}
_CENT = Decimal("0.01")


def _code(column: str, value: str) -> str:
    """A severity or status given as its code or its label in either language → its code."""
    if column.startswith("severity"):
        vocab = SEVERITIES
    elif column.startswith("status"):
        vocab = STATUSES
    else:
        return value
    for code, names in vocab.items():
        if value == code or value in names:
            return code
    msg = f"{column}: {value!r} is not one of {', '.join(vocab)}"
    raise FilterError(msg)


def _day(value: object, column: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        msg = f"{column}: {value!r} is not a date (YYYY-MM-DD)"
        raise FilterError(msg) from None


def _cents(value: object, column: str, rounding: str) -> float:
    try:
        return float(Decimal(str(value)).quantize(_CENT, rounding=rounding))
    except ArithmeticError:
        msg = f"{column}: {value!r} is not a number"
        raise FilterError(msg) from None


def _number(column: str, kind: str, cond: dict[str, Any]) -> LeadFilter:
    """Amounts are in fen (two decimals), so a strict bound is the next cent inclusive."""
    x = cond.get("filter")
    if kind == "equals":
        return LeadFilter(
            amount_min=_cents(x, column, ROUND_CEILING), amount_max=_cents(x, column, ROUND_FLOOR)
        )
    if kind == "greaterThanOrEqual":
        return LeadFilter(amount_min=_cents(x, column, ROUND_CEILING))
    if kind == "greaterThan":
        return LeadFilter(
            amount_min=_cents(Decimal(str(x)) + Decimal("0.001"), column, ROUND_CEILING)
        )
    if kind == "lessThanOrEqual":
        return LeadFilter(amount_max=_cents(x, column, ROUND_FLOOR))
    if kind == "lessThan":
        return LeadFilter(
            amount_max=_cents(Decimal(str(x)) - Decimal("0.001"), column, ROUND_FLOOR)
        )
    lo, hi = sorted((Decimal(str(x)), Decimal(str(cond.get("filterTo")))))
    return LeadFilter(
        amount_min=_cents(lo, column, ROUND_CEILING), amount_max=_cents(hi, column, ROUND_FLOOR)
    )


def _date(column: str, kind: str, cond: dict[str, Any]) -> LeadFilter:
    start = _day(cond.get("dateFrom"), column)
    if kind == "equals":
        return LeadFilter(date_from=start, date_to=start)
    if kind == "greaterThan":
        return LeadFilter(date_from=start + timedelta(days=1))
    if kind == "lessThan":
        return LeadFilter(date_to=start - timedelta(days=1))
    end = _day(cond.get("dateTo"), column)
    return LeadFilter(date_from=min(start, end), date_to=max(start, end))


def _condition(column: str, cond: dict[str, Any]) -> LeadFilter:
    """One ag-grid condition on one column as a filter."""
    kind = cond.get("filterType")
    if kind == "set":
        if column not in _SET_FIELDS:
            msg = f"cannot filter leads by a set of {column!r} values"
            raise FilterError(msg)
        values = tuple(_code(column, str(v)) for v in cond.get("values") or ())
        return LeadFilter(**{_SET_FIELDS[column]: values})
    op = cond.get("type")
    if op not in FILTER_OPTIONS.get(column, ()):
        allowed = ", ".join(FILTER_OPTIONS.get(column, ())) or "none"
        msg = f"cannot filter leads by {column!r} with {op!r}; allowed: {allowed}"
        raise FilterError(msg)
    if kind == "number":
        return _number(column, str(op), cond)
    if kind == "date":
        return _date(column, str(op), cond)
    text = str(cond.get("filter") or "").strip()
    if column == "evidence":
        return LeadFilter(text=text or None)
    if column == "psn_no":
        return LeadFilter(psn_no=text)
    return LeadFilter(**{_SET_FIELDS[column]: (_code(column, text),)})


def _either(column: str, parts: list[LeadFilter]) -> LeadFilter:
    """OR of conditions: only values of one set-like column, which unite."""
    field_name = _SET_FIELDS.get(column)
    if field_name is None:
        msg = f"cannot OR conditions on {column!r}; use AND or a range"
        raise FilterError(msg)
    values: list[str] = []
    for p in parts:
        values += [v for v in getattr(p, field_name) or () if v not in values]
    return LeadFilter(**{field_name: tuple(values)})


def filter_from_ag_grid(filter_model: dict[str, Any] | None) -> LeadFilter:
    """ag-grid's ``filterModel`` (text, number, date and set filters, single or combined
    with ``operator``/``conditions``) as a :class:`LeadFilter`; :class:`FilterError` for a
    column or filter type the queue does not support (see :data:`FILTER_OPTIONS`)."""
    out = LeadFilter()
    for column, model in (filter_model or {}).items():
        conditions = model.get("conditions")
        if conditions is None and "condition1" in model:  # ag-grid before v29
            conditions = [model["condition1"], model["condition2"]]
        if conditions is None:
            part = _condition(column, model)
        else:
            kind = model.get("filterType")
            parts = [_condition(column, {"filterType": kind, **c}) for c in conditions]
            if str(model.get("operator", "AND")).upper() == "OR":
                part = _either(column, parts)
            else:
                part = LeadFilter()
                for p in parts:
                    part = part.narrowed(p)
        out = out.narrowed(part)
    return out


def describe(flt: LeadFilter) -> dict[str, Any]:
    """The filter's constraints as plain JSON-able values: what an export or a figure
    records so anyone can reproduce its rows."""
    out: dict[str, Any] = {}
    for f in fields(flt):
        value = getattr(flt, f.name)
        if value is None:
            continue
        out[f.name] = (
            list(value)
            if isinstance(value, tuple)
            else (value.isoformat() if isinstance(value, date) else value)
        )
    return out
