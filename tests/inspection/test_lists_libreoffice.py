"""A group's exported list opened in LibreOffice Calc, as the inspectors would print it:
the summary sheet's Chinese headers, institutions and reasons all show, none cut off.

LibreOffice is a system package (`make system-deps`, which `make test` runs first), so a
machine without it fails here rather than skipping."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pypdf

from hrss_fraud.cases import open_store
from hrss_fraud.inspection.exports import SUMMARY_COLUMNS, export_round
from hrss_fraud.inspection.rounds import plan_round
from hrss_fraud.notices.render_check import libreoffice_pdf


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_libreoffice_prints_the_summary_sheet_in_full(staffed: Path, tmp_path: Path) -> None:
    with open_store(staffed) as store:
        rnd = plan_round(store, staffed, name="2026年第一轮", top=2, n_random=1, by="t", seed=5)
        books = export_round(
            store, staffed, rnd.round_id, tmp_path / "lists", max_lines_per_finding=1
        )
    book = max(books, key=lambda b: len(openpyxl.load_workbook(b).sheetnames))
    (pdf,) = libreoffice_pdf([book], tmp_path / "lo")
    summary = openpyxl.load_workbook(book)["汇总"]
    rows = list(summary.iter_rows(min_row=3, values_only=True))
    assert rows
    # the summary prints first; wrapped cells must not be cut at the default row height
    text = _squash(pypdf.PdfReader(pdf).pages[0].extract_text())
    for _, header, _ in SUMMARY_COLUMNS:
        assert header in text, header
    names = [zh for _, zh, _ in SUMMARY_COLUMNS]
    for row in rows:
        values = dict(zip(names, row, strict=True))
        for column in ("机构名称", "乡镇（检查区域）", "选取理由", "现场取证"):
            assert _squash(str(values[column])) in text, (column, values[column])
