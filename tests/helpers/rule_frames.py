"""Hand-made claims for rule tests: a few settlements and fee lines, every other field
filled with a plain default, run through the real preparation (netting, joins)."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from hrss_fraud.engine.catalogue import Catalogue, load_catalogue
from hrss_fraud.engine.prepare import build_from_views
from hrss_fraud.knowledge import Knowledge, load_knowledge
from hrss_fraud.model.schema import TABLES

INST = "H13012300001"
PERSON = "130123000000000001"

_DEFAULTS: dict[str, dict[str, Any]] = {
    "institution": {
        "fixmedins_code": INST,
        "fixmedins_name": "测试县人民医院",
        "fixmedins_type": "1",
        "medins_type": "A1",
        "hosp_lv": "2",
        "admdvs": "130123",
        "admdvs_name": "测试镇",
    },
    "person": {
        "psn_no": PERSON,
        "psn_name": "张三",
        "certno": "130123198001010011",
        "gend": "1",
        "brdy": date(1980, 1, 1),
        "insutype": "310",
        "psn_type": "11",
    },
    "settlement": {
        "fixmedins_code": INST,
        "psn_no": PERSON,
        "med_type": "11",
        "insutype": "310",
        "begntime": datetime(2025, 3, 1, 9),
        "endtime": datetime(2025, 3, 1, 10),
        "setl_time": datetime(2025, 3, 1, 10, 5),
        "dise_codg": "J06.9",
        "dise_name": "急性上呼吸道感染",
        "adm_dept_codg": "A03",
        "chfpdr_code": "D001",
        "medfee_sumamt": 0.0,
        "inscp_amt": 0.0,
        "refd_setl_flag": "0",
        "vali_flag": "1",
        "crte_time": datetime(2025, 3, 1, 11),
    },
    "fee_detail": {
        "fixmedins_code": INST,
        "psn_no": PERSON,
        "fee_ocur_time": datetime(2025, 3, 1, 9, 30),
        "list_type": "201",
        "cnt": 1.0,
        "pric": 10.0,
        "det_item_fee_sumamt": 10.0,
        "inscp_amt": 10.0,
        "fulamt_ownpay_amt": 0.0,
        "overlmt_selfpay": 0.0,
        "bilg_dept_codg": "A03",
        "bilg_dr_codg": "D001",
        "vali_flag": "1",
        "crte_time": datetime(2025, 3, 1, 11),
    },
}


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows of ``table`` with defaults for what they leave out, typed by the schema."""
    fields = TABLES[table].fields
    full = [{**_DEFAULTS.get(table, {}), **r} for r in rows]
    data = {f.name: [r.get(f.name) for r in full] for f in fields}
    return pl.DataFrame(data, schema={f.name: f.dtype for f in fields})


@functools.cache
def shipped_knowledge() -> Knowledge:
    """The shipped knowledge base, read once per process (it is immutable): each hand-made
    fee line looks its item up in it, and reading the files afresh for every line made a
    rule test of a few hundred lines take many seconds."""
    return load_knowledge()


@functools.cache
def shipped_catalogue() -> Catalogue:
    """The shipped rule catalogue, parsed once per process (it is immutable) rather than at
    every one of the few hundred rule runs the tests make."""
    return load_catalogue()


def fee(
    mdtrt_id: str,
    sn: int,
    item: str,
    *,
    cnt: float = 1,
    pric: float | None = None,
    kb: Knowledge | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """A fee line of catalogue item ``item`` priced at its reference price unless given."""
    cat = (kb or shipped_knowledge()).catalogue.filter(pl.col("med_list_codg") == item)
    if pric is None:
        pric = float(cat["pric"][0])
    amount = round(cnt * pric, 2)
    list_type = cat["list_type"][0] if cat.height else "201"
    return {
        "mdtrt_id": mdtrt_id,
        "setl_id": "ST" + mdtrt_id[2:] + "0",
        "feedetl_sn": str(sn),
        "med_list_codg": item,
        "list_type": list_type,
        "cnt": cnt,
        "pric": pric,
        "det_item_fee_sumamt": amount,
        "inscp_amt": amount,
        **kw,
    }


def visit(mdtrt_id: str, **kw: Any) -> dict[str, Any]:
    return {"mdtrt_id": mdtrt_id, "setl_id": "ST" + mdtrt_id[2:] + "0", **kw}


def scoring_db(
    settlements: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    persons: list[dict[str, Any]] | None = None,
    institutions: list[dict[str, Any]] | None = None,
    kb: Knowledge | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory scoring database built from hand-made rows by the real preparation."""
    con = duckdb.connect()
    frames = {
        "settlement": frame("settlement", settlements),
        "fee_detail": frame("fee_detail", lines),
        "person": frame("person", persons or [{}]),
        "institution": frame("institution", institutions or [{}]),
    }
    for name, df in frames.items():
        con.register(f"_{name}", df)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")
    build_from_views(con, kb or shipped_knowledge())
    return con


def run_rule(
    con: duckdb.DuckDBPyConnection, rule_id: str, **params: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Findings and finding lines of one catalogue rule, with parameters overridden, after
    the shipped white lists."""
    from hrss_fraud.engine.execute import run_rules
    from hrss_fraud.engine.params import Change
    from hrss_fraud.engine.whitelist import load_whitelist

    cat = shipped_catalogue()
    log = [Change(rule_id, k, float(v), "test", "2026-01-01", "test") for k, v in params.items()]
    result = run_rules(con, cat, [cat.rules[rule_id]], log, load_whitelist(cat), "test-run")
    if result.failed:
        raise AssertionError(result.failed[0].error + "\n" + str(result.failed[0].trace))
    return result.findings, result.lines
