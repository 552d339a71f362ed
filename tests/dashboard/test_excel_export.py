"""The Excel export read back with openpyxl: headers, number formats, frozen header,
the filter it came from, and no half-written file left behind."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

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
    assert about["run_id"] == small_view.run_id and about["rows"] == "5"


def test_english_headers_and_the_filter_on_the_about_sheet(small_view: RunView) -> None:
    flt = LeadFilter(zones=("Z1",), amount_min=1.0)
    book = _book(export_leads_bytes(small_view, flt, lang="en"))
    sheet = book["leads"]
    assert [c.value for c in sheet[1]][:3] == ["lead id", "rule id", "rule"]
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == ["f1", "f2"]
    about = dict(book["about"].iter_rows(values_only=True))
    assert about["filter"] == "{'zones': ['Z1'], 'amount_min': 1.0}"


def test_an_export_file_is_whole_and_alone(small_view: RunView, tmp_path: Path) -> None:
    out = export_leads(
        small_view, LeadFilter(rule_ids=("drug_supply_cap",)), out=tmp_path / "x.xlsx"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.xlsx"]
    assert _book(out.read_bytes()).worksheets[0].max_row == 3
    default = export_leads(small_view)
    assert default.suffix == ".xlsx" and default.stat().st_size > 0
