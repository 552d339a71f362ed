"""The check service's tests: the tiny county's lake (built once), a workspace over a copy
of it, and a settlement of the lake (the checker's replay) as the platform's 3101/3102
message and as the plain form, to compare the service's answer with the checker's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from helpers.accounts import add_accounts
from helpers.shared import built_once, copy_workspace
from hrss_fraud.lake import Lake
from hrss_fraud.precheck.checker import Checker
from hrss_fraud.precheck.replay import replay_visit
from hrss_fraud.precheck.visit import CheckHit, Visit

ADMIN = "keyadmin"


def tiny_lake(tmp_path_factory: pytest.TempPathFactory, tiny_county: Path) -> Path:
    """A workspace holding the tiny county ingested (no runs), built once per test run."""

    def build(ws: Path) -> None:
        from hrss_fraud.ingest.pipeline import ingest

        lake = Lake(ws / "lake")
        ingest(lake, [tiny_county / "reference", *sorted((tiny_county / "uploads").iterdir())])
        lake.connect().close()  # its superseded-rows index, written now, not by the readers

    return built_once(tmp_path_factory, "check_service_lake", build)


def service_workspace(source: Path, dest: Path) -> Path:
    """A workspace of its own over a copy of ``source``'s lake, with an admin account."""
    ws = copy_workspace(source, dest, ("lake",))
    add_accounts(ws, {ADMIN: "admin"})
    return ws


def hit_visit(checker: Checker, n: int) -> tuple[Visit, list[CheckHit]]:
    """The first of the lake's first ``n`` settlements (by person, then time) the checker
    finds hits on, as a hospital would send it before settlement (no ``setl_id``), and
    those hits."""
    for code, setl_id in checker.snapshot.visit.head(n).select("fixmedins_code", "setl_id").rows():
        visit = replace(replay_visit(checker.snapshot, code, setl_id), setl_id=None)
        hits = checker.check(visit)
        if hits:
            return visit, hits
    pytest.fail(f"no visit with hits among the lake's first {n} settlements")


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def platform_message(visit: Visit, infno: str = "3101") -> dict[str, Any]:
    """The visit as a hospital's system sends it: the platform envelope and ``input.data``
    with the patient, the visit, its diagnoses, operations and its lines as orders."""
    orders = [
        {
            "rx_id": r["feedetl_sn"],
            "rxno": _text(r["rxno"]),
            "hilist_code": r["med_list_codg"],
            "hilist_name": _text(r["medins_list_name"]),
            "hosplist_code": _text(r["medins_list_codg"]),
            "hilist_type": _text(r["list_type"]),
            "chrg_type": _text(r["med_chrgitm_type"]),
            "cnt": str(r["cnt"]),
            "pric": str(r["pric"]),
            "sumamt": str(r["det_item_fee_sumamt"]),
            "drord_begn_date": _time(r["fee_ocur_time"]),
            "drord_dept_codg": _text(r["bilg_dept_codg"]),
            "drord_dr_codg": _text(r["bilg_dr_codg"]),
        }
        for r in visit.lines.iter_rows(named=True)
    ]
    encounter = {
        "mdtrt_id": visit.mdtrt_id,
        "medins_id": visit.fixmedins_code,
        "adm_date": _time(visit.begntime),
        "dscg_date": _time(visit.endtime) if visit.endtime else "",
        "dscg_main_dise_codg": _text(visit.dise_codg),
        "med_type": visit.med_type,
        "insutype": _text(visit.insutype),
        "adm_dept_codg": _text(visit.adm_dept_codg),
        "fsi_diagnose_dtos": [
            {"dise_codg": code, "maindise_flag": "1" if code == visit.dise_codg else "0",
             "dias_srt_no": i}
            for i, code in enumerate(visit.diagnoses, 1)
        ],
        "fsi_operation_dtos": [{"oprn_code": code} for code in visit.oprn_oprt_code],
        "fsi_order_dtos": orders,
    }  # fmt: skip
    patient = {
        "patn_id": visit.psn_no,
        "patn_name": "",
        "gend": _text(visit.gend),
        "brdy": visit.brdy.isoformat() if visit.brdy else "",
        "curr_mdtrt_id": visit.mdtrt_id,
        "fsi_encounter_dtos": [encounter],
    }
    return {
        "infno": infno,
        "fixmedins_code": visit.fixmedins_code,
        "opter": "test",
        "inf_time": "2026-03-01 10:00:00",
        "input": {"data": {"trig_scen": "5", "rule_ids": [], "patient_dtos": [patient]}},
    }


PLAIN_LINE = (
    "feedetl_sn", "med_list_codg", "medins_list_codg", "medins_list_name", "list_type",
    "med_chrgitm_type", "cnt", "pric", "det_item_fee_sumamt", "fee_ocur_time",
    "bilg_dept_codg", "bilg_dr_codg",
)  # fmt: skip


def plain_message(visit: Visit, scene: str) -> dict[str, Any]:
    """The visit as ``POST /check`` takes it, in the uploads' field names."""
    return {
        "fixmedins_code": visit.fixmedins_code,
        "scene": scene,
        "visit": {
            "psn_no": visit.psn_no,
            "mdtrt_id": visit.mdtrt_id,
            "med_type": visit.med_type,
            "begntime": visit.begntime.isoformat(),
            "endtime": visit.endtime.isoformat() if visit.endtime else None,
            "insutype": visit.insutype,
            "dise_codg": visit.dise_codg,
            "diagnoses": list(visit.diagnoses),
            "oprn_oprt_code": list(visit.oprn_oprt_code),
            "gend": visit.gend,
            "brdy": visit.brdy.isoformat() if visit.brdy else None,
            "adm_dept_codg": visit.adm_dept_codg,
            "lines": [
                {k: (None if row[k] is None else str(row[k])) for k in PLAIN_LINE}
                for row in visit.lines.iter_rows(named=True)
            ],
        },
    }
