"""A hand-made lake of three peer hospitals and a run of three leads on it, small enough
that every figure of the profile pages is worked out by hand in the tests.

H1 (A1, level 2): four outpatient visits, ¥100, ¥100, ¥200, ¥200 in scope, half drugs half
lab tests; P1 and P2 twice each; the third at 20:00 (night); a refunded drug line netting
off on V1; an invalid ¥999 settlement that must not count. Doctor D001 bills V1–V3 (two on
3 March, one on 4 March), D002 V4. H2: two ¥50 visits of P3 by D101 on 3 March. H3: two
¥100 visits of P4 and P5 by D201 on 3 and 4 March.

Leads: f1 on V1's drug line (H1, P1, ¥5), f2 on V4 as a whole settlement (H1, P2, ¥40), f3
on P3 (H2, ¥10).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from helpers.rule_frames import frame
from helpers.small_run import small_findings, small_lines
from hrss_fraud.engine.runs import Run, publish
from hrss_fraud.lake import Lake

RUN_ID = "20250402T000000000Z"
INSTITUTIONS = [
    {"fixmedins_code": c, "fixmedins_name": n, "admdvs": "Z1", "admdvs_name": "城关镇"}
    for c, n in (("H1", "一院"), ("H2", "二院"), ("H3", "三院"))
]
PERSONS = [
    {"psn_no": "P1", "psn_name": "张三丰", "certno": "130123198001010011", "tel": "13812345678"},
    {"psn_no": "P2", "psn_name": "李四", "certno": "130123198001010022"},
    {"psn_no": "P3"},
    {"psn_no": "P4"},
    {"psn_no": "P5"},
]
PRACTITIONERS = [
    {"dr_codg": "D001", "dr_name": "王医生", "fixmedins_code": "H1", "dept_codg": "A03"},
    {"dr_codg": "D002", "dr_name": "赵医生", "fixmedins_code": "H1", "dept_codg": "A03"},
]


def _visit(n: int, inst: str, psn: str, when: datetime, amount: float, dr: str, **kw: Any) -> dict:
    return {
        "setl_id": f"S{n}",
        "mdtrt_id": f"V{n}",
        "fixmedins_code": inst,
        "psn_no": psn,
        "begntime": when,
        "endtime": when,
        "setl_time": when,
        "crte_time": when,
        "chfpdr_code": dr,
        "medfee_sumamt": float(amount),
        "inscp_amt": float(amount),
        "fund_pay_sumamt": float(amount),
        **kw,
    }


def _line(n: int, sn: int, inst: str, psn: str, item: str, amount: float, dr: str, **kw: Any):
    drug = item.startswith("X")
    return {
        "setl_id": f"S{n}",
        "mdtrt_id": f"V{n}",
        "feedetl_sn": str(sn),
        "fixmedins_code": inst,
        "psn_no": psn,
        "med_list_codg": item,
        "medins_list_name": "阿莫西林" if drug else "血常规",
        "list_type": "101" if drug else "201",
        "med_chrgitm_type": "09" if drug else "04",
        "pric": float(abs(amount)),
        "det_item_fee_sumamt": float(amount),
        "inscp_amt": float(amount),
        "bilg_dr_codg": dr,
        **kw,
    }


def _claims() -> tuple[list[dict], list[dict]]:
    day3, day4, day5 = (datetime(2025, 3, d, 9) for d in (3, 4, 5))
    visits = [
        _visit(1, "H1", "P1", day3, 100, "D001"),
        _visit(2, "H1", "P2", day3.replace(minute=30), 100, "D001"),
        _visit(3, "H1", "P1", day4.replace(hour=20), 200, "D001"),
        _visit(4, "H1", "P2", day5, 200, "D002"),
        _visit(9, "H1", "P1", day5, 999, "D001", vali_flag="0"),
        _visit(5, "H2", "P3", day3, 50, "D101"),
        _visit(6, "H2", "P3", day3.replace(hour=10), 50, "D101"),
        _visit(7, "H3", "P4", day3, 100, "D201"),
        _visit(8, "H3", "P5", day4, 100, "D201"),
    ]
    lines = []
    for v in visits[:4]:
        n, half = int(v["setl_id"][1:]), v["inscp_amt"] / 2
        dr = v["chfpdr_code"]
        lines += [_line(n, 1, "H1", v["psn_no"], "X01", half, dr)]
        lines += [_line(n, 2, "H1", v["psn_no"], "L01", half, dr)]
    lines += [
        _line(1, 3, "H1", "P1", "X01", 20, "D001"),
        _line(1, 4, "H1", "P1", "X01", -20, "D001", cnt=-1.0, init_feedetl_sn="3"),
    ]
    for v in visits[5:]:
        n = int(v["setl_id"][1:])
        lines += [_line(n, 1, v["fixmedins_code"], v["psn_no"], "L01", v["inscp_amt"], "D1")]
    for line in lines[-4:]:
        line["bilg_dr_codg"] = "D101" if line["fixmedins_code"] == "H2" else "D201"
    return visits, lines


def write_lake(ws: Path) -> None:
    visits, lines = _claims()
    tables = {
        "institution": frame("institution", INSTITUTIONS),
        "person": frame("person", PERSONS),
        "practitioner": frame("practitioner", PRACTITIONERS),
        "settlement": frame("settlement", visits),
        "fee_detail": frame("fee_detail", lines),
    }
    with Lake(ws / "lake").writer() as w:
        w.commit(sources=[], tables=tables, quarantine=None, report={})


LEADS = [
    # finding_id, rule_id, institution, psn_no, (setl, visit, fee line), amount
    ("f1", "drug_supply_cap", "H1", "P1", ("S1", "V1", "1"), 5.0),
    ("f2", "split_admission", "H1", "P2", ("S4", "V4", None), 40.0),
    ("f3", "abnormal_visit_frequency", "H2", "P3", ("S5", "V5", None), 10.0),
]


def publish_run(ws: Path) -> Run:
    rows = [
        (fid, rule, "high", inst, psn, ("2025-03-03", "2025-03-05"), amount, "证据", "evidence")
        for fid, rule, inst, psn, _line_key, amount in LEADS
    ]
    findings = small_findings(RUN_ID, rows)
    keys = pl.DataFrame(
        [(fid, s, m, sn) for fid, _r, _i, _p, (s, m, sn), _a in LEADS],
        schema=["finding_id", "k_setl", "k_mdtrt", "k_sn"],
        orient="row",
    )
    findings = (
        findings.join(keys, on="finding_id")
        .with_columns(setl_id="k_setl", mdtrt_id="k_mdtrt", feedetl_sn="k_sn")
        .drop("k_setl", "k_mdtrt", "k_sn")
    )
    manifest = {"run_id": RUN_ID, "mode": "full", "rules": [], "failed_rules": []}
    return publish(ws, RUN_ID, findings, small_lines(findings), manifest)
