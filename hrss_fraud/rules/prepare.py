"""The scoring database: what every rule reads, built once per run.

Reading the lake's latest versions and netting refunds is the expensive part, so it is done
once into ``visit`` (one row per valid settlement, with the person, the institution and the
main diagnosis's knowledge) and ``line`` (one row per net fee line, with its visit and the
item's knowledge). Rules then read these two tables and the ``kb_*`` knowledge tables:

- ``visit``: ``visit_key`` (``fixmedins_code|setl_id``), settlement fields,
  ``setting`` (op / ip / ph), ``gend``, ``brdy``, ``age_days``
  (at ``begntime``), ``die_date``, ``hosp_lv``, ``fixmedins_type``, ``medins_type``,
  ``admdvs``, ``fixmedins_name``, ``dise_group``, ``chronic``, ``dise_catalog``,
  ``pregnancy``, ``stay_days`` (calendar days from admission to discharge).
- ``line``: ``line_key`` (``fixmedins_code|mdtrt_id|feedetl_sn``), fee fields with
  ``cnt``/amounts net of refunds (a fully refunded line and the
  refund rows are gone), the visit's fields above, and the catalogue's knowledge columns
  (``item_group``, ``drug_class``, caps, restrictions; the catalogue name as
  ``med_list_name`` and its reference price as ``ref_pric``).

A :class:`Scope` restricts both tables for an incremental run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.knowledge import Knowledge
from hrss_fraud.lake import Lake
from hrss_fraud.model.codes import INPATIENT_MED_TYPES, PHARMACY_MED_TYPES

_FEE_COLUMNS = (
    "fixmedins_code, mdtrt_id, setl_id, feedetl_sn, psn_no, fee_ocur_time, med_list_codg, "
    "medins_list_codg, medins_list_name, list_type, med_chrgitm_type, chrgitm_lv, cnt, pric, "
    "det_item_fee_sumamt, inscp_amt, fulamt_ownpay_amt, overlmt_selfpay, pric_uplmt_amt, "
    "bilg_dept_codg, bilg_dr_codg, prd_days, used_frqu_dscr, sin_dos_dscr, rxno, rx_circ_flag, "
    "dscg_tkdrug_flag, crte_time"
)
_CATALOGUE_SHARED = (
    "med_list_codg",
    "list_type",
    "med_chrgitm_type",
    "chrgitm_lv",
    "pric",
    "med_list_name",
)


@dataclass(frozen=True)
class Scope:
    """An incremental run's reach: the persons with new claims, with their history back to
    ``window_start``, and every claim from ``months_from`` (the first day of the earliest
    month an institution-level rule must recompute, peers included)."""

    persons: pl.DataFrame  # psn_no
    window_start: date
    new_from: date
    months_from: date


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def load_knowledge_tables(con: duckdb.DuckDBPyConnection, kb: Knowledge) -> None:
    for name in ("catalogue", "knowledge_pair", "diagnosis", "procedure"):
        frame = getattr(kb, name)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f"CREATE OR REPLACE TABLE kb_{name} AS SELECT * FROM frame")


def _scope_filter(con: duckdb.DuckDBPyConnection, scope: Scope | None) -> str:
    if scope is None:
        return "true"
    persons = scope.persons  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("CREATE OR REPLACE TABLE scope_person AS SELECT DISTINCT psn_no FROM persons")
    return (
        f"((s.psn_no IN (SELECT psn_no FROM scope_person) "
        f"AND s.begntime >= DATE '{scope.window_start.isoformat()}') "
        f"OR s.begntime >= DATE '{scope.months_from.isoformat()}')"
    )


MACROS = (
    # ¥ amounts and readable values for evidence texts
    "yuan(x) AS printf('¥%.2f', x)",
    "gend_zh(g) AS CASE g WHEN '1' THEN '男' WHEN '2' THEN '女' ELSE '未知' END",
    "gend_en(g) AS CASE g WHEN '1' THEN 'male' WHEN '2' THEN 'female' ELSE 'unknown' END",
    "age_zh(d) AS CASE WHEN d IS NULL THEN '未知' WHEN d < 365 THEN CAST(d AS VARCHAR) || '天'"
    " ELSE CAST(d // 365 AS VARCHAR) || '岁' END",
    "age_en(d) AS CASE WHEN d IS NULL THEN 'unknown' WHEN d < 365 THEN CAST(d AS VARCHAR) || "
    "' days' ELSE CAST(d // 365 AS VARCHAR) || ' years' END",
    "day_of(t) AS CAST(t AS DATE)",
)


def add_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Scalar helpers rule SQL may use: ``yuan``, ``gend_zh``/``gend_en``, ``age_zh``/
    ``age_en`` (from days), ``day_of``."""
    for m in MACROS:
        con.execute(f"CREATE OR REPLACE MACRO {m}")


def build(
    con: duckdb.DuckDBPyConnection, lake: Lake, kb: Knowledge, scope: Scope | None = None
) -> dict[str, int]:
    """Create ``visit``, ``line`` and ``kb_*`` in ``con`` from the lake; return row counts."""
    lake.connect(con)
    return build_from_views(con, kb, scope)


def build_from_views(
    con: duckdb.DuckDBPyConnection, kb: Knowledge, scope: Scope | None = None
) -> dict[str, int]:
    """The same from whatever ``settlement``, ``fee_detail``, ``person`` and ``institution``
    relations ``con`` holds (the lake's views, or hand-made frames in tests)."""
    add_macros(con)
    load_knowledge_tables(con, kb)
    where = _scope_filter(con, scope)
    con.execute(f"""
        CREATE OR REPLACE TABLE visit AS
        SELECT s.fixmedins_code || '|' || s.setl_id AS visit_key, s.setl_id, s.mdtrt_id,
               s.psn_no, s.fixmedins_code, s.med_type, s.insutype,
               s.begntime, s.endtime, s.setl_time, s.dise_codg, s.dise_name, s.oprn_oprt_code,
               s.adm_dept_codg, s.chfpdr_code, s.ipt_days, s.medfee_sumamt, s.inscp_amt,
               s.fund_pay_sumamt, s.hifp_pay, s.acct_pay, s.psn_cash_pay, s.crte_time,
               CASE WHEN s.med_type IN {_sql_list(INPATIENT_MED_TYPES)} THEN 'ip'
                    WHEN s.med_type IN {_sql_list(PHARMACY_MED_TYPES)} THEN 'ph'
                    ELSE 'op' END AS setting,
               p.gend, p.brdy, p.die_date,
               date_diff('day', p.brdy, CAST(s.begntime AS DATE)) AS age_days,
               i.hosp_lv, i.fixmedins_type, i.medins_type, i.admdvs, i.fixmedins_name,
               d.dise_group, d.chronic, d.catalog AS dise_catalog, d.pregnancy,
               date_diff('day', CAST(s.begntime AS DATE), CAST(s.endtime AS DATE)) AS stay_days
        FROM settlement s
        LEFT JOIN person p ON p.psn_no = s.psn_no
        LEFT JOIN institution i ON i.fixmedins_code = s.fixmedins_code
        LEFT JOIN kb_diagnosis d ON d.dise_codg = s.dise_codg
        WHERE coalesce(s.vali_flag, '1') = '1' AND coalesce(s.refd_setl_flag, '0') = '0'
          AND {where}
    """)
    catalogue = ", ".join(
        f"c.{c}"
        for c in pl.Series(con.sql("SELECT * FROM kb_catalogue LIMIT 0").columns)
        if c not in _CATALOGUE_SHARED
    )
    con.execute(f"""
        CREATE OR REPLACE TABLE line AS
        WITH f AS (
            SELECT {_FEE_COLUMNS}, init_feedetl_sn FROM fee_detail
            WHERE coalesce(vali_flag, '1') = '1'
              AND (fixmedins_code, setl_id) IN (SELECT (fixmedins_code, setl_id) FROM visit)
        ),
        refund AS (
            SELECT fixmedins_code, mdtrt_id, init_feedetl_sn AS feedetl_sn,
                   sum(cnt) AS cnt, sum(det_item_fee_sumamt) AS det, sum(inscp_amt) AS inscp,
                   sum(fulamt_ownpay_amt) AS ful, sum(overlmt_selfpay) AS overlmt
            FROM f WHERE init_feedetl_sn IS NOT NULL GROUP BY ALL
        )
        SELECT f.fixmedins_code || '|' || f.mdtrt_id || '|' || f.feedetl_sn AS line_key,
               f.* EXCLUDE (init_feedetl_sn, cnt, det_item_fee_sumamt, inscp_amt,
                            fulamt_ownpay_amt, overlmt_selfpay),
               f.cnt + coalesce(r.cnt, 0) AS cnt,
               f.det_item_fee_sumamt + coalesce(r.det, 0) AS det_item_fee_sumamt,
               f.inscp_amt + coalesce(r.inscp, 0) AS inscp_amt,
               f.fulamt_ownpay_amt + coalesce(r.ful, 0) AS fulamt_ownpay_amt,
               f.overlmt_selfpay + coalesce(r.overlmt, 0) AS overlmt_selfpay,
               v.med_type, v.setting, v.insutype, v.begntime, v.endtime, v.dise_codg,
               v.oprn_oprt_code, v.adm_dept_codg, v.gend, v.brdy, v.die_date, v.age_days,
               v.hosp_lv, v.fixmedins_type, v.medins_type, v.dise_group, v.dise_catalog,
               v.pregnancy, v.stay_days,
               c.med_list_name, c.pric AS ref_pric, {catalogue}
        FROM f
        LEFT JOIN refund r USING (fixmedins_code, mdtrt_id, feedetl_sn)
        JOIN visit v ON v.fixmedins_code = f.fixmedins_code AND v.setl_id = f.setl_id
        LEFT JOIN kb_catalogue c ON c.med_list_codg = f.med_list_codg
        WHERE f.init_feedetl_sn IS NULL AND f.cnt + coalesce(r.cnt, 0) > 0
    """)
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("visit", "line")}


def open_scoring_db(path: Path | None, memory_limit: str = "6GB") -> duckdb.DuckDBPyConnection:
    """A DuckDB database for one run: on disk (``path``) for big lakes, in memory otherwise."""
    con = duckdb.connect(str(path) if path else ":memory:")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if path:
        con.execute(f"SET temp_directory = '{path.parent / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    return con
