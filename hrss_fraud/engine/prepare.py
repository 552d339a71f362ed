"""The scoring database: what every rule reads, built once per run.

Reading the lake's latest versions and netting refunds is the expensive part, so it is done
once into ``visit`` (one row per valid settlement, with the person, the institution and the
main diagnosis's knowledge) and ``line`` (one row per net fee line, with its visit and the
item's knowledge). Rules then read these two tables and the ``kb_*`` knowledge tables
(``kb_treatment_class`` among them):

- ``visit``: ``visit_key`` (``fixmedins_code|setl_id``), settlement fields,
  ``setting`` (op / ip / ph), ``gend``, ``brdy``, ``age_days``
  (at ``begntime``), ``die_date``, ``hosp_lv``, ``fixmedins_type``, ``medins_type``,
  ``admdvs``, ``fixmedins_name``, ``dise_group``, ``chronic``, ``dise_catalog``,
  ``pregnancy``, ``stay_days`` (calendar days from admission to discharge),
  ``treatment_class`` (dialysis, chemo, maternity …: what the settlement treats, from the
  knowledge base's treatment classes, :mod:`hrss_fraud.knowledge.treatment`; NULL when
  none applies).
- ``line``: ``line_key`` (``fixmedins_code|mdtrt_id|feedetl_sn``), fee fields with
  ``cnt``/amounts net of refunds (a fully refunded line and the
  refund rows are gone), the visit's fields above, and the catalogue's knowledge columns
  (``item_group``, ``drug_class``, caps, restrictions; the catalogue name as
  ``med_list_name``, its reference price as ``ref_pric`` and its charge item type as
  ``item_chrgitm_type``, the uploaded one for an item the catalogue does not know).
  ``line`` is a view: the lines are stored once in ``line_base`` (fee and visit fields);
  the key and the catalogue's columns (a few hundred items) are added as they are read.

The employers' enrolment tables the ``enrolment`` checks read are prepared by
:mod:`hrss_fraud.engine.enrolment` (empty when the lake has none).

A :class:`Scope` restricts both tables for an incremental run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.engine import enrolment
from hrss_fraud.knowledge import Knowledge
from hrss_fraud.knowledge.treatment import class_sql, line_flags_sql
from hrss_fraud.lake import Lake
from hrss_fraud.lake.latest import latest_sql
from hrss_fraud.lake.superseded import ensure_index, unsuperseded_sql
from hrss_fraud.lake.views import create_views
from hrss_fraud.model.codes import INPATIENT_MED_TYPES, PHARMACY_MED_TYPES
from hrss_fraud.model.schema import TABLES

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

_LINE_VISIT_COLUMNS = (
    *("med_type", "setting", "insutype", "begntime", "endtime", "dise_codg", "oprn_oprt_code"),
    *("adm_dept_codg", "gend", "brdy", "die_date", "age_days", "hosp_lv", "fixmedins_type"),
    *("medins_type", "dise_group", "dise_catalog", "pregnancy", "stay_days"),
)
_LINEAGE = ("_batch_seq", "_row")


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
    for name in ("catalogue", "knowledge_pair", "diagnosis", "procedure", "treatment_class"):
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


def _latest_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    keys_where: str | None = None,
    superseded: Path | None = None,
) -> str:
    """The relation to read ``table``'s latest versions from (of the keys with a version
    matching ``keys_where``, when given: an incremental run's few visits).

    With the lake's superseded-rows index (``superseded``), the stored rows it does not
    list: an anti-join with a few rows, no ranking at all. Without it, the lake's
    ``table`` view ranks every stored version by its natural key in a window that carries
    every column, which is several times slower on millions of rows than ranking the
    lineage columns alone: so only the lineage of the latest versions is ranked, and those
    rows are read from ``{table}_all``. Hand-made relations without lineage are read as
    they are. The rules pick among rows by key (ties too), not by the order rows come in:
    both give the same findings (tests/rules/test_findings_identical.py)."""
    names = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
        ).fetchall()
    }
    if f"{table}_all" not in names or not set(_LINEAGE) <= set(con.sql(f"FROM {table}").columns):
        return table
    if superseded is not None:
        return f"({unsuperseded_sql(table, superseded)})"
    lineage = ", ".join(_LINEAGE)
    latest = latest_sql(TABLES[table], lineage, keys_where)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _latest_{table} AS {latest}")
    return f"(SELECT * FROM {table}_all SEMI JOIN _latest_{table} USING ({lineage}))"


@contextmanager
def _join_order_as_written(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Joins planned in the order the query writes them (each right side is built)."""
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = '{before}'")


MACROS = (
    # ¥ amounts and readable values for evidence texts; yuan() prints as
    # hrss_fraud.model.numbers.money does: to the fen half up on the number as written
    # (through DECIMAL), thousands separated, the sign before the ¥
    "yuan(x) AS CASE WHEN round(x::DECIMAL(38, 6), 2) < 0 THEN '-' ELSE '' END || '¥' || "
    "format('{:,.2f}', abs(round(x::DECIMAL(38, 6), 2)))",
    "gend_zh(g) AS CASE g WHEN '1' THEN '男' WHEN '2' THEN '女' ELSE '未知' END",
    "gend_en(g) AS CASE g WHEN '1' THEN 'male' WHEN '2' THEN 'female' ELSE 'unknown' END",
    "age_zh(d) AS CASE WHEN d IS NULL THEN '未知' WHEN d < 365 THEN CAST(d AS VARCHAR) || '天'"
    " ELSE CAST(d // 365 AS VARCHAR) || '岁' END",
    "age_en(d) AS CASE WHEN d IS NULL THEN 'unknown' WHEN d < 365 THEN CAST(d AS VARCHAR) || "
    "' days' ELSE CAST(d // 365 AS VARCHAR) || ' years' END",
    "day_of(t) AS CAST(t AS DATE)",
    # a line that is no claim (an employer's filing, a contribution month): its claim keys
    # empty, as columns with ``unnest(no_claim_keys())`` in a rule's SELECT
    "no_claim_keys() AS {'fixmedins_code': NULL::VARCHAR, 'setl_id': NULL::VARCHAR,"
    " 'mdtrt_id': NULL::VARCHAR, 'feedetl_sn': NULL::VARCHAR}",
    # the same or a closely related condition (分解住院, 非计划再入院): the same ICD-10
    # category (first three characters), or the same diagnosis group where the knowledge
    # has one; a missing diagnosis cannot show the conditions differ
    "same_condition(a, group_a, b, group_b) AS nullif(a, '') IS NULL OR nullif(b, '') IS NULL"
    " OR left(a, 3) = left(b, 3) OR (group_a IS NOT NULL AND group_a = group_b)",
    # a referral up (转诊): admitted at a higher-level hospital on the day of discharge from
    # another (levels 1-3; an unrated institution is no step up)
    "transfer_up(from_inst, from_lv, discharged, to_inst, to_lv, admitted) AS"
    " to_inst <> from_inst AND CAST(admitted AS DATE) = CAST(discharged AS DATE)"
    " AND from_lv IN ('1', '2', '3') AND to_lv IN ('1', '2', '3') AND to_lv > from_lv",
)


def add_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Scalar helpers rule SQL may use: ``yuan``, ``gend_zh``/``gend_en``, ``age_zh``/
    ``age_en`` (from days), ``day_of``, ``no_claim_keys`` (the four claim keys empty, to
    ``unnest`` into a line's columns), ``same_condition`` (two diagnoses of one problem),
    ``transfer_up`` (a referral up to a higher-level hospital)."""
    for m in MACROS:
        con.execute(f"CREATE OR REPLACE MACRO {m}")


def build(
    con: duckdb.DuckDBPyConnection, lake: Lake, kb: Knowledge, scope: Scope | None = None
) -> dict[str, int]:
    """Create ``visit``, ``line`` and ``kb_*`` in ``con`` from the lake; return row counts.

    Every latest version (claims, persons, institutions, enrolment) is read through the
    lake's superseded-rows index (written now if missing: ~10 s once on a county year,
    then ~1 s per day's batch), not by ranking every stored version."""
    batches = lake.batches()
    create_views(con, lake.root, batches)
    index = ensure_index(con, lake.root.resolve(), batches)  # made by the views: its path
    return build_from_views(con, kb, scope, superseded=index)


def build_from_views(
    con: duckdb.DuckDBPyConnection,
    kb: Knowledge,
    scope: Scope | None = None,
    *,
    superseded: Path | None = None,
) -> dict[str, int]:
    """The same from whatever ``settlement``, ``fee_detail``, ``person`` and ``institution``
    relations ``con`` holds (the lake's views, or hand-made frames in tests); with
    ``superseded``, the lake's superseded-rows index of the batches the views are over."""
    add_macros(con)
    load_knowledge_tables(con, kb)
    where = _scope_filter(con, scope)
    settlement = _latest_rows(con, "settlement", superseded=superseded)
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
        FROM {settlement} s
        LEFT JOIN person p ON p.psn_no = s.psn_no
        LEFT JOIN institution i ON i.fixmedins_code = s.fixmedins_code
        LEFT JOIN kb_diagnosis d ON d.dise_codg = s.dise_codg
        WHERE coalesce(s.vali_flag, '1') = '1' AND coalesce(s.refd_setl_flag, '0') = '0'
          AND {where}
    """)
    # an incremental run needs the lines of its visits only: rank just their versions
    fee = _latest_rows(
        con,
        "fee_detail",
        None
        if scope is None
        else "(fixmedins_code, setl_id) IN (SELECT (fixmedins_code, setl_id) FROM visit)",
        superseded,
    )
    # Refund rows (init_feedetl_sn names the line they refund), summed per refunded line.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _refund AS
        SELECT fixmedins_code, mdtrt_id, init_feedetl_sn AS feedetl_sn,
               sum(cnt) AS cnt, sum(det_item_fee_sumamt) AS det, sum(inscp_amt) AS inscp,
               sum(fulamt_ownpay_amt) AS ful, sum(overlmt_selfpay) AS overlmt
        FROM {fee}
        WHERE coalesce(vali_flag, '1') = '1' AND init_feedetl_sn IS NOT NULL
          AND (fixmedins_code, setl_id) IN (SELECT (fixmedins_code, setl_id) FROM visit)
        GROUP BY ALL
    """)
    amounts = ("cnt", "det_item_fee_sumamt", "inscp_amt", "fulamt_ownpay_amt", "overlmt_selfpay")
    fee_cols = ", ".join(f"f.{c}" for c in _FEE_COLUMNS.split(", ") if c not in amounts)
    # Joined in the order written: the optimizer, misjudging the semi-join's size, would
    # otherwise build its hash table on the millions of wide fee rows instead of the visits.
    with _join_order_as_written(con):
        con.execute(f"""
            CREATE OR REPLACE TABLE line_base AS
            SELECT {fee_cols},
                   f.cnt + coalesce(r.cnt, 0) AS cnt,
                   f.det_item_fee_sumamt + coalesce(r.det, 0) AS det_item_fee_sumamt,
                   f.inscp_amt + coalesce(r.inscp, 0) AS inscp_amt,
                   f.fulamt_ownpay_amt + coalesce(r.ful, 0) AS fulamt_ownpay_amt,
                   f.overlmt_selfpay + coalesce(r.overlmt, 0) AS overlmt_selfpay,
                   {", ".join(f"v.{c}" for c in _LINE_VISIT_COLUMNS)}
            FROM {fee} f
            LEFT JOIN _refund r USING (fixmedins_code, mdtrt_id, feedetl_sn)
            JOIN visit v ON v.fixmedins_code = f.fixmedins_code AND v.setl_id = f.setl_id
            WHERE coalesce(f.vali_flag, '1') = '1' AND f.init_feedetl_sn IS NULL
              AND f.cnt + coalesce(r.cnt, 0) > 0
        """)
    con.execute("DROP TABLE _refund")
    for t in ("fee_detail", "settlement"):
        con.execute(f"DROP TABLE IF EXISTS _latest_{t}")
    # The catalogue's knowledge is joined when read (a few hundred items), not stored on
    # every line; the key likewise.
    catalogue = ", ".join(
        f"c.{c}"
        for c in pl.Series(con.sql("SELECT * FROM kb_catalogue LIMIT 0").columns)
        if c not in _CATALOGUE_SHARED
    )
    con.execute(f"""
        CREATE OR REPLACE VIEW line AS
        SELECT b.fixmedins_code || '|' || b.mdtrt_id || '|' || b.feedetl_sn AS line_key,
               b.*, c.med_list_name, c.pric AS ref_pric,
               coalesce(c.med_chrgitm_type, b.med_chrgitm_type) AS item_chrgitm_type,
               {catalogue}
        FROM line_base b
        LEFT JOIN kb_catalogue c ON c.med_list_codg = b.med_list_codg
    """)
    add_treatment_class(con, kb.treatment_class)
    return {
        "visit": con.execute("SELECT count(*) FROM visit").fetchall()[0][0],
        "line": con.execute("SELECT count(*) FROM line_base").fetchall()[0][0],
        **enrolment.prepare(con),
    }


def add_treatment_class(con: duckdb.DuckDBPyConnection, classes: pl.DataFrame) -> None:
    """Give every ``visit`` its ``treatment_class`` (``line`` must exist: some classes are
    recognised by what was billed). Rules compare like with like, or leave planned care to
    a check of its own schedule, by this column."""
    flags = line_flags_sql(classes, "line")
    if flags is None:
        con.execute(
            f"CREATE OR REPLACE TABLE visit AS SELECT v.*, {class_sql(classes)} "
            "AS treatment_class FROM visit v"
        )
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE _treatment_lines AS {flags}")
    con.execute(f"""
        CREATE OR REPLACE TABLE visit AS
        SELECT v.*, {class_sql(classes)} AS treatment_class
        FROM visit v LEFT JOIN _treatment_lines t USING (fixmedins_code, setl_id)
    """)
    con.execute("DROP TABLE _treatment_lines")


def open_scoring_db(path: Path | None, memory_limit: str = "6GB") -> duckdb.DuckDBPyConnection:
    """A DuckDB database for one run: on disk (``path``) for big lakes, in memory otherwise."""
    con = duckdb.connect(str(path) if path else ":memory:")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if path:
        con.execute(f"SET temp_directory = '{path.parent / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    return con
