"""The enrolment audit-visit list read back with openpyxl: Chinese headers on its three
sheets, amounts as numbers to the fen in the order of the ranking, names masked unless the
role may see them; and the same file from `hrss-fraud export enrolment-visits`."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from helpers.enrolment_county import enrolment_county
from helpers.group_cli import group_calls

from hrss_fraud.cli.export import export_group
from hrss_fraud.engine.runs import Run, open_run
from hrss_fraud.outputs.enrolment_excel import visit_list_bytes
from hrss_fraud.outputs.enrolment_view import EnrolmentView

ok, refused = group_calls(export_group)


@pytest.fixture(scope="module")
def ws(tiny_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return enrolment_county(tiny_county, tmp_path_factory)


@pytest.fixture(scope="module")
def run(ws: Path) -> Run:
    return open_run(ws)


@pytest.fixture(scope="module")
def book(ws: Path, run: Run) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(visit_list_bytes(ws, run)))


def _header(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def test_three_sheets_with_chinese_headers(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["参保单位", "疑点", "疑点明细", "说明"]
    assert _header(book["参保单位"]) == [
        "序号", "单位编号", "单位名称", "单位类型", "乡镇", "疑点数", "命中规则", "涉及费款（元）",
    ]  # fmt: skip
    assert _header(book["疑点"]) == [
        "单位编号", "单位名称", "疑点编号", "规则", "严重程度", "起始", "截止", "涉及费款（元）",
        "疑点说明",
    ]  # fmt: skip
    assert _header(book["疑点明细"])[:6] == [
        "单位编号", "疑点编号", "明细序号", "明细类型", "日期", "申报单位",
    ]  # fmt: skip
    assert book["参保单位"].freeze_panes == "A2"


def test_amounts_are_numbers_to_the_fen_in_ranking_order(
    book: openpyxl.Workbook, ws: Path, run: Run
) -> None:
    with EnrolmentView(ws, run) as view:
        ranking = view.ranking()
    sheet = book["参保单位"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == ranking.height
    assert [r[1] for r in rows] == ranking["emp_no"].to_list()
    assert [r[7] for r in rows] == [round(a, 2) for a in ranking["amount_at_risk"]]
    assert sheet.cell(row=2, column=8).number_format == "#,##0.00"
    lines = book["疑点明细"]
    money = _header(lines).index("涉及费款（元）") + 1
    values = [lines.cell(row=i, column=money).value for i in range(2, lines.max_row + 1)]
    assert all(isinstance(v, float | int) and round(v, 2) == v for v in values)


def test_names_are_masked_unless_the_role_may_see_them(
    book: openpyxl.Workbook, ws: Path, run: Run
) -> None:
    column = _header(book["疑点明细"]).index("姓名")
    names = [
        r[column] for r in book["疑点明细"].iter_rows(min_row=2, values_only=True) if r[column]
    ]
    assert names and all("*" in n for n in names)
    shown = openpyxl.load_workbook(io.BytesIO(visit_list_bytes(ws, run, role="supervisor")))
    seen = [
        r[column] for r in shown["疑点明细"].iter_rows(min_row=2, values_only=True) if r[column]
    ]
    assert seen and not any("*" in n for n in seen)


def test_the_command_writes_the_list_and_refuses_another_format(
    ws: Path, tmp_path: Path, book: openpyxl.Workbook
) -> None:
    out = tmp_path / "visits.xlsx"
    said = ok(ws, "enrolment-visits", "--out", str(out))
    assert said.strip().endswith(f"→ {out}")
    written = openpyxl.load_workbook(out)
    assert written.sheetnames == book.sheetnames
    assert written["参保单位"].max_row == book["参保单位"].max_row
    line = refused(ws, "enrolment-visits", "--out", str(tmp_path / "visits.csv"))
    assert "name it FILE.xlsx" in line and not (tmp_path / "visits.csv").exists()
