"""The Excel export read back with openpyxl: headers, number formats, frozen header,
the filter it came from, each lead's review flags (提请审核), and no half-written file left
behind."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from helpers.accounts import user

from hrss_fraud.cases import flags
from hrss_fraud.cases.store import CaseStore, open_store
from hrss_fraud.dashboard import queue_callbacks as qc
from hrss_fraud.model.times import minute
from hrss_fraud.outputs.excel_export import (
    EXPORT_COLUMNS,
    export_leads,
    export_leads_bytes,
)
from hrss_fraud.outputs.labels import column_label
from hrss_fraud.outputs.leads import LeadFilter
from hrss_fraud.outputs.runs_view import RunView


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_chinese_workbook_with_numbers_dates_and_a_frozen_header(small_view: RunView) -> None:
    book = _book(export_leads_bytes(small_view))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == [column_label(c, "zh") for c in EXPORT_COLUMNS]
    assert header[:3] == ["疑点编号", "规则编号", "规则名称"]
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 6
    col = {name: i for i, name in enumerate(EXPORT_COLUMNS)}
    first = [c for c in sheet[2]]
    assert first[col["finding_id"]].value == "f3"
    amount = first[col["amount_at_risk"]]
    assert amount.value == 2077.0 and amount.number_format == "#,##0.00"
    assert first[col["period_start"]].value == datetime(2025, 3, 5)
    assert first[col["severity_label"]].value == "明确违规"
    assert sheet.column_dimensions["O"].width > 80  # evidence
    amounts = [r[col["amount_at_risk"]].value for r in sheet.iter_rows(min_row=2)]
    assert sum(amounts) == pytest.approx(2077.0 * 2 + 100.01 + 64.0)
    about = dict(book.worksheets[1].iter_rows(values_only=True))
    assert about["评分批次"] == small_view.run_id and about["行数"] == "5"
    assert about["语言"] == "中文" and about["筛选条件"] == "全部"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", about["导出时间"])  # local, to the minute


def test_english_headers_and_the_filter_on_the_about_sheet(small_view: RunView) -> None:
    flt = LeadFilter(zones=("Z1",), amount_min=1.0)
    book = _book(export_leads_bytes(small_view, flt, lang="en"))
    sheet = book["leads"]
    assert [c.value for c in sheet[1]][:3] == ["lead id", "rule id", "rule"]
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == ["f1", "f2"]
    about = dict(book["about"].iter_rows(values_only=True))
    assert about["filter"] == "zones: Z1; amount from (yuan): 1.0"
    assert about["language"] == "English" and "run_id" not in about


def test_an_export_file_is_whole_and_alone(small_view: RunView, tmp_path: Path) -> None:
    out = export_leads(
        small_view, LeadFilter(rule_ids=("drug_supply_cap",)), out=tmp_path / "x.xlsx"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.xlsx"]
    assert _book(out.read_bytes()).worksheets[0].max_row == 3
    default = export_leads(small_view)
    assert default.suffix == ".xlsx" and default.stat().st_size > 0


AT = datetime(2026, 3, 2, 8, 15, 2, 123456, tzinfo=UTC)
FLAGGED = ("提请审核", "提请人", "提请时间", "提请说明")


def _flag(store: CaseStore, finding_id: str, note: str, by: str, at: datetime) -> None:
    flags.flag(store, finding_id, note, by=by, known={f"f{i}" for i in range(1, 6)}, now=at)


def _flags_by_lead(sheet) -> dict[str, tuple]:
    n = len(EXPORT_COLUMNS)
    return {r[0]: r[n:] for r in sheet.iter_rows(min_row=2, values_only=True)}


def test_the_review_flags_go_with_each_lead(small_view: RunView, tmp_path: Path) -> None:
    later = AT + timedelta(hours=2, minutes=1)
    with open_store(tmp_path) as store:
        _flag(store, "f2", "金额异常，请优先核查", "auditor", AT)
        _flag(store, "f2", "同一医师多次出现", "王审", later)
        _flag(store, "f4", "请核查", "auditor", AT)
        book = _book(export_leads_bytes(small_view, case_store=store))
        english = _book(export_leads_bytes(small_view, case_store=store, lang="en"))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == [column_label(c, "zh") for c in EXPORT_COLUMNS] + list(FLAGGED)
    rows = _flags_by_lead(sheet)
    assert set(rows) == {"f1", "f2", "f3", "f4", "f5"}
    when = minute(later)  # the latest flag, local time to the minute
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", when)
    assert rows["f2"] == ("是", "auditor、王审", when, "金额异常，请优先核查；同一医师多次出现")
    assert rows["f4"] == ("是", "auditor", minute(AT), "请核查")
    assert rows["f1"] == ("否", None, None, None)
    en = english["leads"]
    assert [c.value for c in en[1]][len(EXPORT_COLUMNS) :] == [
        "flagged for review",
        "flagged by",
        "flagged at",
        "flag note",
    ]
    assert _flags_by_lead(en)["f2"][0] == "Yes" and _flags_by_lead(en)["f1"][0] == "No"


def test_the_queue_page_exports_its_filtered_leads_with_their_flags(
    small_view: RunView, store: CaseStore
) -> None:
    _flag(store, "f3", "患者反映未接受该项目", "auditor", AT)
    request = {
        "filterModel": {"finding_id": {"filterType": "text", "type": "equals", "filter": "f3"}}
    }
    data = qc.export(small_view, request, store, user("auditor"), lang="zh")
    sheet = _book(data).worksheets[0]
    assert [c.value for c in sheet[1]][len(EXPORT_COLUMNS) :] == list(FLAGGED)
    assert _flags_by_lead(sheet) == {"f3": ("是", "auditor", minute(AT), "患者反映未接受该项目")}
