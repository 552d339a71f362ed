"""A filtered lead set as an Excel workbook, built on the server (the grid only ever holds a
page): Chinese headers by default, a frozen header row, amounts as numbers with two
decimals, and a second sheet that records the run and the filter, so the file says where
its rows came from. Read with the case store, each lead also says whether it is flagged for
review (提请审核), by whom, when and why (:mod:`hrss_fraud.cases.flags`).

The workbook is built in memory; :func:`export_leads` writes it under a temporary name and
renames it into place, so a reader never finds half a file.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import xlsxwriter

from hrss_fraud.cases import flags
from hrss_fraud.lake.fsutil import write_bytes_atomic
from hrss_fraud.model.times import minute, minute_expr
from hrss_fraud.outputs.labels import column_label, yes_no
from hrss_fraud.outputs.leads import LeadFilter, SortModel, describe, lead_frame

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

EXPORT_COLUMNS: dict[str, int] = {
    "finding_id": 22,
    "rule_id": 24,
    "rule_name": 30,
    "severity_label": 12,
    "fixmedins_code": 16,
    "fixmedins_name": 26,
    "zone": 12,
    "zone_name": 12,
    "psn_no": 20,
    "period_start": 12,
    "period_end": 12,
    "amount_at_risk": 14,
    "status_label": 12,
    "step_label": 12,
    "evidence": 90,
    "case_id": 20,
    "case_rank": 10,
}
"""The exported columns, in order, with their width in characters."""

FLAG_COLUMNS: dict[str, int] = {"flagged": 10, "flagged_by": 14, "flagged_at": 18, "flag_note": 60}
"""The review flags' columns (提请审核), after the lead's own when the export reads the
case store: whether the lead is flagged, by whom, when (local time, to the minute) and why."""
FLAG_LABELS: dict[str, tuple[str, str]] = {
    "flagged": ("提请审核", "flagged for review"),
    "flagged_by": ("提请人", "flagged by"),
    "flagged_at": ("提请时间", "flagged at"),
    "flag_note": ("提请说明", "flag note"),
}

MAX_ROWS = 1_048_575
"""Excel's rows per sheet, less the header."""

_DATES = ("period_start", "period_end")


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name in each language, its rows, and the columns to
    write (in order, each with its width in characters; headers from ``labels`` or the
    shared column labels). Columns in ``numbers`` are written as numbers (``money`` with
    two decimals), dates as dates, the rest as text."""

    name: tuple[str, str]
    frame: pl.DataFrame
    columns: dict[str, int]
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()
    money: tuple[str, ...] = ("amount_at_risk",)


def workbook(
    sheets: list[Sheet], *, lang: str = "zh", about: dict[str, Any] | None = None
) -> bytes:
    """The bytes of an .xlsx file with ``sheets`` (a frozen header row and an autofilter
    each) and ``about`` (run, filter, …) on a last sheet."""
    for sheet in sheets:
        if sheet.frame.height > MAX_ROWS:
            msg = (
                f"{sheet.frame.height:,} rows do not fit one Excel sheet ({MAX_ROWS:,}); "
                "narrow the filter"
            )
            raise ValueError(msg)
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats = {
        "money": book.add_format({"num_format": "#,##0.00"}),
        "number": book.add_format({"num_format": "#,##0.####"}),
        "day": book.add_format({"num_format": "yyyy-mm-dd"}),
    }
    for sheet in sheets:
        _write(book.add_worksheet(_pick(sheet.name, lang)), sheet, lang, header, formats)
    info = book.add_worksheet("说明" if lang != "en" else "about")
    info.set_column(0, 0, 16)
    info.set_column(1, 1, 80)
    for i, (key, value) in enumerate((about or {}).items()):
        info.write_string(i, 0, about_label(key, lang), header)
        info.write_string(i, 1, about_value(key, value, lang))
    book.close()
    return buf.getvalue()


ABOUT: dict[str, tuple[str, str]] = {
    "run_id": ("评分批次", "run"),
    "filter": ("筛选条件", "filter"),
    "rows": ("行数", "rows"),
    "lang": ("语言", "language"),
    "exported_at": ("导出时间", "exported at"),
    "institution": ("定点医药机构", "institution"),
    "findings": ("问题数", "findings"),
    "findings_written": ("写出的问题数", "findings written"),
    "employers": ("用人单位数", "employers"),
    "rule_ids": ("规则", "rules"),
    "severities": ("严重程度", "severities"),
    "fixmedins_codes": ("定点医药机构编号", "institution codes"),
    "zones": ("区划(乡镇)", "zones"),
    "statuses": ("审核状态", "review statuses"),
    "finding_ids": ("疑点编号", "lead ids"),
    "case_ids": ("案件编号", "case ids"),
    "amount_min": ("金额下限(元)", "amount from (yuan)"),
    "amount_max": ("金额上限(元)", "amount to (yuan)"),
    "date_from": ("开始日期", "from"),
    "date_to": ("结束日期", "to"),
    "text": ("关键词", "text"),
}
"""The export's 说明 sheet: what each line says (the export, then the lead filter's fields),
so a reader of the file sees no field names."""
LANGUAGE_NAMES = {"zh": ("中文", "Chinese"), "en": ("英文", "English")}


def about_label(key: str, lang: str) -> str:
    """A line of the 说明 sheet by its label (a column's label, else the key as given)."""
    return _pick(ABOUT[key], lang) if key in ABOUT else column_label(key, lang)


def about_value(key: str, value: Any, lang: str) -> str:
    """A line's value as a reader reads it: times local to the minute, the language by its
    name, a filter as its labelled constraints (``规则：a、b；金额下限(元)：100``), ``*`` (all)
    as 全部."""
    if isinstance(value, datetime):
        return minute(value)
    if key == "lang" and value in LANGUAGE_NAMES:
        return _pick(LANGUAGE_NAMES[value], lang)
    if isinstance(value, dict):
        if not value:
            return "全部" if lang != "en" else "all"
        colon, sep, comma = ("：", "；", "、") if lang != "en" else (": ", "; ", ", ")
        return sep.join(
            about_label(k, lang)
            + colon
            + (comma.join(map(str, v)) if isinstance(v, list | tuple) else str(v))
            for k, v in value.items()
        )
    if value == "*":
        return "全部" if lang != "en" else "all"
    return str(value)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _write(sheet: Any, spec: Sheet, lang: str, header: Any, formats: dict[str, Any]) -> None:
    columns = list(spec.columns)
    for j, col in enumerate(columns):
        label = _pick(spec.labels[col], lang) if col in spec.labels else column_label(col, lang)
        sheet.write_string(0, j, label, header)
        sheet.set_column(j, j, spec.columns[col])
    for i, row in enumerate(spec.frame.select(columns).iter_rows(), start=1):
        for j, (col, value) in enumerate(zip(columns, row, strict=True)):
            if value is None:
                continue
            if col in spec.money:
                sheet.write_number(i, j, float(value), formats["money"])
            elif col in spec.numbers:
                sheet.write_number(i, j, float(value), formats["number"])
            elif col in _DATES:
                when = value if isinstance(value, date) else date.fromisoformat(str(value))
                sheet.write_datetime(
                    i, j, datetime(when.year, when.month, when.day), formats["day"]
                )
            else:
                sheet.write_string(i, j, str(value))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(spec.frame.height, 1), len(columns) - 1)


def leads_workbook(
    leads: pl.DataFrame, *, lang: str = "zh", about: dict[str, Any] | None = None
) -> bytes:
    """``leads`` (the queue's rows, :func:`~hrss_fraud.outputs.leads.lead_frame`) as
    the bytes of an .xlsx file; ``about`` (run, filter, …) goes on a second sheet."""
    if leads.height > MAX_ROWS:
        msg = f"{leads.height:,} leads do not fit one Excel sheet ({MAX_ROWS:,}); narrow the filter"
        raise ValueError(msg)
    columns = {**EXPORT_COLUMNS, **{c: w for c, w in FLAG_COLUMNS.items() if c in leads.columns}}
    sheet = Sheet(("疑点", "leads"), leads, columns, FLAG_LABELS, numbers=("case_rank",))
    return workbook([sheet], lang=lang, about=about)


def with_flags(leads: pl.DataFrame, case_store: CaseStore, lang: str = "zh") -> pl.DataFrame:
    """``leads`` with their review flags (:data:`FLAG_COLUMNS`): 是/否, who flagged the lead
    (each once, first flagger first), the latest flag's time in local minutes, and the
    notes oldest first (``；`` between them); empty for a lead nobody flagged."""
    found = flags.flags(case_store)
    summary = (
        found.filter(pl.col("finding_id").is_in(leads["finding_id"].implode()))
        .group_by("finding_id", maintain_order=True)
        .agg(
            flagged_by=pl.col("flagged_by").unique(maintain_order=True).str.join("、"),
            flagged_at=minute_expr(pl.col("flagged_at").max()),
            flag_note=pl.col("note").str.join("；"),
        )
    )
    joined = leads.join(summary, on="finding_id", how="left", maintain_order="left")
    flagged = pl.col("flagged_by").is_not_null()
    mark = pl.when(flagged).then(pl.lit(yes_no(True, lang))).otherwise(pl.lit(yes_no(False, lang)))
    return joined.with_columns(flagged=mark)


def _about(view: RunView, flt: LeadFilter | None, n: int, lang: str) -> dict[str, Any]:
    return {
        "run_id": view.run_id,
        "filter": describe(flt or LeadFilter()),
        "rows": n,
        "lang": lang,
        "exported_at": datetime.now(UTC),
    }


def export_leads_bytes(
    view: RunView,
    flt: LeadFilter | None = None,
    sort: SortModel | None = None,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> bytes:
    """The leads ``flt`` keeps, sorted as in the queue, as .xlsx bytes (for
    ``dcc.send_bytes``); with ``case_store``, their review statuses and flags."""
    leads = lead_frame(view, flt, sort, case_store, lang=lang, limit=MAX_ROWS + 1)
    if case_store is not None:
        leads = with_flags(leads, case_store, lang)
    return leads_workbook(leads, lang=lang, about=_about(view, flt, leads.height, lang))


def export_leads(
    view: RunView,
    flt: LeadFilter | None = None,
    sort: SortModel | None = None,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
    out: Path | None = None,
) -> Path:
    """Write the export to ``out`` (default: a new file in the system's temporary folder)
    atomically and return its path (for ``dcc.send_file``)."""
    data = export_leads_bytes(view, flt, sort, case_store, lang=lang)
    if out is None:
        folder = Path(tempfile.mkdtemp(prefix="hrss-leads-"))
        out = folder / f"leads_{view.run_id}.xlsx"
    write_bytes_atomic(Path(out), data, label="leads export")
    return Path(out)
