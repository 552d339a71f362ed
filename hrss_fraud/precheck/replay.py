"""Settled claims of the lake as visits to check again: what the parity test and the
latency benchmark feed the checker, rebuilt from the batch's prepared rows."""

from __future__ import annotations

import polars as pl

from hrss_fraud.precheck.history import Snapshot
from hrss_fraud.precheck.visit import LINE_COLUMNS, Visit


def replay_visit(snapshot: Snapshot, fixmedins_code: str, setl_id: str) -> Visit:
    """The settlement ``setl_id`` of ``fixmedins_code`` as a :class:`Visit` with its net
    lines, its sex and birth left to the lake's person record."""
    row = snapshot.sql(
        "SELECT * FROM h_visit WHERE fixmedins_code = $1 AND setl_id = $2",
        [fixmedins_code, setl_id],
    )
    if row.height != 1:
        msg = f"settlement {fixmedins_code}|{setl_id}: {row.height} rows in the snapshot"
        raise LookupError(msg)
    v = row.row(0, named=True)
    _, lines = snapshot.rows(v["psn_no"])
    lines = lines.filter(
        (pl.col("fixmedins_code") == fixmedins_code) & (pl.col("setl_id") == setl_id)
    )
    return Visit(
        fixmedins_code=fixmedins_code,
        psn_no=v["psn_no"],
        mdtrt_id=v["mdtrt_id"],
        med_type=v["med_type"],
        begntime=v["begntime"],
        endtime=v["endtime"],
        insutype=v["insutype"],
        dise_codg=v["dise_codg"],
        diagnoses=(v["dise_codg"],) if v["dise_codg"] else (),
        oprn_oprt_code=(v["oprn_oprt_code"],) if v["oprn_oprt_code"] else (),
        gend=None,
        brdy=None,
        adm_dept_codg=v["adm_dept_codg"],
        lines=lines.select(c for c in LINE_COLUMNS if c in lines.columns),
        setl_id=setl_id,
        fund_pay_sumamt=v["fund_pay_sumamt"],
    )
