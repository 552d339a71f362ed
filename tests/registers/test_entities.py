"""Entities imported from the bureau's files: Chinese headers, GBK or XLSX, history kept,
bad rows refused whole, licences expiring within 60 days flagged."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import xlsxwriter
from helpers.register_fixtures import entity_rows, write_csv

from hrss_fraud.cases import CaseStore
from hrss_fraud.registers.definitions import get_register
from hrss_fraud.registers.entities import (
    EntityError,
    entities,
    history,
    import_entities,
    parse_date,
)

REG = get_register("hr_agency")


def test_gbk_csv_with_chinese_headers(store: CaseStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", entity_rows(3), encoding="gbk")
    done = import_entities(store, path, REG, by="tester")
    assert (done.added, done.changed, done.unchanged) == (3, 0, 0)
    assert done.set_aside == ("备注",)
    df = entities(store, REG, today=date(2026, 1, 1))
    row = df.filter(entity_code="91130123MA000001X").row(0, named=True)
    assert row["name"] == "测试人力资源服务有限公司1"
    assert row["valid_to"] == "2027-12-31" and row["zone"] == "河西乡"
    assert row["legal_rep"] == "李秀英" and row["version"] == 1
    (audit,) = store.query("SELECT detail FROM audit_log WHERE action = 'register.entities.import'")
    assert done.sha256 in audit[0]


def test_xlsx_with_dates_as_excel_writes_them(store: CaseStore, tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "yyyy/m/d"})
    sheet.write_row(0, 0, ("社会信用代码", "单位名称", "许可证号", "有效期止", "乡镇"))
    sheet.write_row(1, 0, ("91130123MA0ABCDE1X", "某某人力资源公司", "冀人服证字〔2025〕9号"))
    sheet.write_datetime(1, 3, date(2026, 4, 30), dates)  # a real date cell
    sheet.write(1, 4, "城关镇")
    book.close()
    import_entities(store, path, REG, by="tester")
    (valid_to,) = store.query("SELECT valid_to FROM register_entity")[0]
    assert valid_to == "2026-04-30"


def test_a_change_writes_a_new_version_and_keeps_the_old(store: CaseStore, tmp_path: Path) -> None:
    rows = entity_rows(2)
    import_entities(store, write_csv(tmp_path / "a.csv", rows), REG, by="tester")
    moved = [(*rows[0][:6], "城关镇人民路1号", *rows[0][7:]), rows[1]]
    done = import_entities(store, write_csv(tmp_path / "b.csv", moved), REG, by="tester")
    assert (done.added, done.changed, done.unchanged) == (0, 1, 1)
    versions = history(store, "hr_agency", rows[0][0])
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["changed"] == ["address"]
    assert versions[0]["fields"]["address"] == "城关镇建设路0号"
    assert versions[1]["fields"]["address"] == "城关镇人民路1号"
    assert [v["source"] for v in versions] == ["a.csv", "b.csv"]


def test_bad_rows_refuse_the_whole_file(store: CaseStore, tmp_path: Path) -> None:
    rows = entity_rows(4)
    rows[1] = (*rows[1][:4], "2025-01-01", "2024-12-31", *rows[1][6:])
    rows[2] = (rows[2][0], "", *rows[2][2:])
    rows[3] = (rows[0][0], *rows[3][1:])
    with pytest.raises(EntityError) as e:
        import_entities(store, write_csv(tmp_path / "e.csv", rows), REG, by="tester")
    text = str(e.value)
    assert text.startswith("3 bad rows, nothing imported")
    assert "line 3: 有效期至 2024-12-31 is before 有效期起 2025-01-01" in text
    assert "line 4: 机构名称 (name) is empty" in text
    assert "line 5: code 91130123MA000000X is also on line 2" in text
    assert store.query("SELECT count(*) FROM register_entity")[0][0] == 0


def test_a_file_without_a_required_column_is_refused(store: CaseStore, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("统一社会信用代码,机构名称\n9113,某公司\n", encoding="utf-8")
    with pytest.raises(EntityError, match=r"no column for 所属乡镇 \(zone\)"):
        import_entities(store, path, REG, by="tester")


def test_licences_expiring_within_60_days_are_flagged(store: CaseStore, tmp_path: Path) -> None:
    today = date(2026, 6, 1)
    ends = [today - timedelta(days=1), today, today + timedelta(days=60), today + timedelta(61)]
    rows = [(*r[:5], end.isoformat(), *r[6:]) for r, end in zip(entity_rows(4), ends, strict=True)]
    import_entities(store, write_csv(tmp_path / "e.csv", rows), REG, by="tester")
    df = entities(store, REG, today=today).sort("valid_to")
    assert df["expired"].to_list() == [True, False, False, False]
    assert df["expiring"].to_list() == [False, True, True, False]
    assert df["days_left"].to_list() == [-1, 0, 60, 61]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-03-01", "2026-03-01"),
        ("2026/3/1", "2026-03-01"),
        ("2026年3月1日", "2026-03-01"),
        ("20260301", "2026-03-01"),
        ("46082", "2026-03-01"),
        ("2026-03-01 00:00:00", "2026-03-01"),
        ("", None),
    ],
)
def test_dates_as_offices_write_them(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_two_designated_entities_live_in_the_rounds(store: CaseStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", entity_rows(1))
    with pytest.raises(EntityError, match="inspection_institution"):
        import_entities(store, path, get_register("two_designated"), by="tester")
