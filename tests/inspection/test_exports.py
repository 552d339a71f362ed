"""Each group's workbook read back: sheets, headers, print set-up, amounts that reconcile."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from hrss_fraud.cases import open_store
from hrss_fraud.engine.runs import open_run
from hrss_fraud.inspection.exports import (
    LINE_COLUMNS,
    MAX_LINES_PER_FINDING,
    SUMMARY_COLUMNS,
    ExportError,
    evidence_to_collect,
    export_round,
)
from hrss_fraud.inspection.rounds import plan_round


@pytest.fixture(scope="module")
def exported(
    scored_county: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Path]:
    """One round of the county, exported in Chinese and in English."""
    from helpers.inspection_staff import staff

    from hrss_fraud.lake import Lake

    ws = tmp_path_factory.mktemp("export_ws")
    for name in ("lake", "runs"):
        (ws / name).symlink_to(scored_county / name, target_is_directory=True)
    out = tmp_path_factory.mktemp("export")
    with open_store(ws) as store:
        staff(store, Lake(ws / "lake"))
        rnd = plan_round(store, ws, name="2025年第一轮 & 复查", top=4, n_random=2, by="t", seed=9)
        export_round(store, ws, rnd.round_id, out / "zh")
        export_round(store, ws, rnd.round_id, out / "en", lang="en")
    return ws, out / "zh", out / "en"


def test_one_workbook_per_group_and_nothing_else(exported: tuple[Path, Path, Path]) -> None:
    _, zh, en = exported
    names = sorted(p.name for p in zh.iterdir())
    assert names == [f"001_2025年第一轮_&_复查_G{g}.xlsx" for g in range(3)]
    assert sorted(p.name for p in en.iterdir()) == names  # no temporary files left


def test_sheets_headers_and_print_setup(exported: tuple[Path, Path, Path]) -> None:
    _, zh, _ = exported
    for path in sorted(zh.iterdir()):
        wb = openpyxl.load_workbook(path)
        summary = wb["汇总"]
        header = [c.value for c in summary[2]]
        assert header == [zh_ for _, zh_, _ in SUMMARY_COLUMNS]
        codes = [r[1] for r in summary.iter_rows(min_row=3, values_only=True)]
        assert wb.sheetnames[1:] == [f"{i:02d}_{c}" for i, c in enumerate(codes, start=1)]
        assert summary.freeze_panes == "A3"
        assert summary.print_title_rows == "$2:$2"
        for sheet in wb.worksheets[1:]:
            assert [c.value for c in sheet[5]] == [zh_ for _, zh_, _ in LINE_COLUMNS]
            assert sheet.freeze_panes == "A6"
            assert sheet.print_title_rows == "$5:$5"
            assert str(sheet["A4"].value).startswith("现场需收集的证据: 医保结算清单及费用明细")
        for sheet in wb.worksheets:
            setup = sheet.page_setup
            assert (setup.orientation, setup.paperSize) == ("landscape", 9)
            assert sheet.sheet_properties.pageSetUpPr.fitToPage
            assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
            assert sheet.oddHeader.center.text == "2025年第一轮 && 复查  检查组 " + path.stem[-2:]
            assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"


def test_amounts_reconcile_with_the_runs_findings(exported: tuple[Path, Path, Path]) -> None:
    ws, zh, _ = exported
    lines = open_run(ws).lines()
    for path in zh.iterdir():
        wb = openpyxl.load_workbook(path)
        rows = list(wb["汇总"].iter_rows(min_row=3, values_only=True))
        for i, row in enumerate(rows, start=1):
            code, amount, n_findings = row[1], row[7], row[8]
            mine = lines.filter(pl.col("fixmedins_code") == code)
            once = mine.group_by("setl_id", "mdtrt_id", "feedetl_sn").agg(
                pl.col("amount_at_risk").max()
            )
            assert amount == pytest.approx(once["amount_at_risk"].sum(), abs=0.01)
            assert n_findings == mine["finding_id"].n_unique()
            sheet = wb.worksheets[i]
            table = pl.DataFrame(
                list(sheet.iter_rows(min_row=6, values_only=True)),
                schema=[k for k, _, _ in LINE_COLUMNS],
                orient="row",
                infer_schema_length=None,
            )
            if mine.is_empty():
                assert table["finding_id"][0] == "本轮运行无该机构疑点明细"
                continue
            per_finding = mine.group_by("finding_id").len()["len"]
            shown = per_finding.clip(upper_bound=MAX_LINES_PER_FINDING) + (
                per_finding > MAX_LINES_PER_FINDING
            )
            assert table.height == shown.sum()
            folded = table.filter(pl.col("role").str.starts_with("其余"))
            assert folded.height == (per_finding > MAX_LINES_PER_FINDING).sum()
            assert table["amount_at_risk"].sum() == pytest.approx(
                mine["amount_at_risk"].sum(), abs=0.01
            )
            assert sheet["D3"].value == amount


def test_english_lists(exported: tuple[Path, Path, Path]) -> None:
    _, _, en = exported
    wb = openpyxl.load_workbook(sorted(en.iterdir())[0])
    assert wb.sheetnames[0] == "Summary"
    assert [c.value for c in wb["Summary"][2]] == [e for _, _, e in SUMMARY_COLUMNS]
    sheet = wb.worksheets[1]
    assert [c.value for c in sheet[5]] == [e for _, _, e in LINE_COLUMNS]
    assert sheet.oddFooter.center.text == "Page &P of &N"
    assert str(sheet["A4"].value).startswith("Evidence to collect on site: settlement lists")


def test_evidence_follows_the_behaviour_classes() -> None:
    assert evidence_to_collect(["刷卡套现"]) == [
        "医保结算清单及费用明细",
        "药品耗材进销存台账",
        "监控视频",
    ]
    assert evidence_to_collect(["超量开药", "分解住院"], "en") == [
        "settlement lists and fee details",
        "original prescriptions",
        "medical records and progress notes",
        "stock ledgers of drugs and consumables",
    ]
    assert evidence_to_collect([]) == ["医保结算清单及费用明细"]


def test_a_failed_export_writes_nothing(exported: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ws, _, _ = exported
    with open_store(ws) as store, pytest.raises(ExportError, match="lang must be zh or en"):
        export_round(store, ws, 1, tmp_path / "out", lang="fr")
    assert not (tmp_path / "out").exists()
