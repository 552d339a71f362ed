"""Employers' enrolment and contribution files go through the ordinary ingest: detected by
their columns (field names or Chinese headers), typed, and a malformed row quarantined
with a reason that says what was wrong."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.lake import Lake

EMPLOYERS = (
    "emp_no,emp_name,emp_type,admdvs\n"
    "E001,永宁化工有限公司,10,130123101\n"
    "E002,县第一中学,50,130123102\n"
)
# Chinese headers, GBK, as a collection system exports them
CONTRIBUTIONS_ZH = (
    "单位编号,人员编号,姓名,险种类型,费款所属期,人员缴费基数,工资\n"
    'E001,P1,张三,310,202503,"5,200.00",5200\n'
    "E001,P2,李四,310,2025-13,4100,4100\n"
    "E002,P3,王五,310,202503,-10,3900\n"
)
EVENTS = (
    "evt_sn,emp_no,psn_no,evt_type,evt_date,docs\n"
    "V1,E001,P1,11,2025-03-01,01;02;03\n"
    "V2,E001,P2,99,2025-03-05,04\n"
)


def test_enrolment_files_load_and_bad_rows_are_quarantined(tmp_path: Path) -> None:
    up = tmp_path / "up"
    up.mkdir()
    (up / "employer.csv").write_text(EMPLOYERS, encoding="utf-8")
    (up / "contribution_202503.csv").write_bytes(CONTRIBUTIONS_ZH.encode("gbk"))
    (up / "events.csv").write_text(EVENTS, encoding="utf-8")
    lake = Lake(tmp_path / "lake")

    result = ingest(lake, [up])

    by_file = {Path(f.path).name: f for f in result.files}
    assert {f.status for f in result.files} == {"committed"}
    assert by_file["employer.csv"].table == "employer"
    contrib = by_file["contribution_202503.csv"]
    assert (contrib.table, contrib.accepted, contrib.quarantined) == ("emp_contribution", 1, 2)
    assert contrib.reasons == {"bad_value": 1, "bad_sign": 1}
    events = by_file["events.csv"]
    assert (events.table, events.accepted, events.reasons) == ("insu_event", 1, {"bad_code": 1})
    con = lake.connect()
    assert con.execute("SELECT psn_no, psn_clctstd FROM emp_contribution").fetchall() == [
        ("P1", 5200)
    ]
    rows = con.execute(
        "SELECT detail, raw FROM quarantine WHERE \"table\" = 'emp_contribution' ORDER BY _line"
    ).fetchall()
    assert rows[0][0] == "bad_value:cashym=2025-13 is not a month written YYYYMM"
    assert json.loads(rows[0][1])["费款所属期"] == "2025-13"
    assert "bad_sign:psn_clctstd=-10.00" in rows[1][0]


def test_a_file_without_a_required_column_is_rejected_saying_which(tmp_path: Path) -> None:
    path = tmp_path / "contribution.csv"
    pl.DataFrame({"emp_no": ["E001"], "psn_no": ["P1"], "cashym": ["202503"]}).write_csv(path)
    result = ingest(Lake(tmp_path / "lake"), [path], table="emp_contribution")
    (f,) = result.files
    assert f.status == "rejected"
    assert "lacking insutype, psn_clctstd" in str(f.error)


def test_a_collection_system_s_own_headers_are_understood(tmp_path: Path) -> None:
    path = tmp_path / "缴费明细.csv"
    path.write_bytes(
        "单位编号,个人编号,险种类型,缴费年月,缴费基数\nE001,P1,310,202503,4200\n".encode("gbk")
    )
    (f,) = ingest(Lake(tmp_path / "lake"), [path]).files
    assert (f.status, f.table, f.accepted) == ("committed", "emp_contribution", 1)
