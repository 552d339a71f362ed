"""A thread's DuckDB for checks: the knowledge tables and macros loaded once, and per check
the ``visit``, ``line_base`` and ``line`` relations the rules read, shaped as the batch's
(:mod:`hrss_fraud.engine.prepare`), holding the person's history and the checked visit.

The history rows are the batch's own prepared rows (:mod:`.history`). The checked visit,
not in the lake yet, is prepared here the way ``build_from_views`` prepares one
settlement: the same settlement columns, ``setting`` from the same care-type lists, the
person's sex, birth and death, the institution's level and type, the main diagnosis's
knowledge, ``stay_days`` and the treatment class from the same
:mod:`hrss_fraud.knowledge.treatment` SQL; its lines get the same visit columns
(``_LINE_VISIT_COLUMNS``) and are read through the batch's own ``line`` view. A test holds
these rows equal to the batch's for the tiny county's visits.
"""

from __future__ import annotations

import duckdb
import polars as pl

from hrss_fraud.engine.prepare import (
    _LINE_VISIT_COLUMNS,
    _sql_list,
    add_macros,
    load_knowledge_tables,
)
from hrss_fraud.knowledge import Knowledge
from hrss_fraud.knowledge.treatment import class_sql, line_flags_sql
from hrss_fraud.model.codes import INPATIENT_MED_TYPES, PHARMACY_MED_TYPES
from hrss_fraud.precheck.history import Snapshot
from hrss_fraud.precheck.visit import Visit

_COMPUTED = (
    *("visit_key", "setting", "gend", "brdy", "die_date", "age_days", "hosp_lv"),
    *("fixmedins_type", "medins_type", "admdvs", "fixmedins_name", "dise_group", "chronic"),
    *("dise_catalog", "pregnancy", "stay_days", "treatment_class"),
)
"""The prepared visit's columns that are not the settlement's own fields."""


def _current_visit_sql(classes: pl.DataFrame) -> str:
    """The checked settlement (``cur_setl``, one row) prepared as the batch's ``visit``."""
    flags = line_flags_sql(
        classes,
        "(SELECT f.fixmedins_code, f.setl_id, f.med_list_codg, c.item_group "
        "FROM cur_fee f LEFT JOIN kb_catalogue c ON c.med_list_codg = f.med_list_codg)",
    )
    flags_join = f"LEFT JOIN ({flags}) t USING (fixmedins_code, setl_id)" if flags else ""
    return f"""
        WITH cur AS (
            SELECT s.fixmedins_code || '|' || s.setl_id AS visit_key,
                   s.* EXCLUDE (req_gend, req_brdy),
                   CASE WHEN s.med_type IN {_sql_list(INPATIENT_MED_TYPES)} THEN 'ip'
                        WHEN s.med_type IN {_sql_list(PHARMACY_MED_TYPES)} THEN 'ph'
                        ELSE 'op' END AS setting,
                   coalesce(s.req_gend, p.gend) AS gend, coalesce(s.req_brdy, p.brdy) AS brdy,
                   p.die_date,
                   date_diff('day', coalesce(s.req_brdy, p.brdy), CAST(s.begntime AS DATE))
                       AS age_days,
                   i.hosp_lv, i.fixmedins_type, i.medins_type, i.admdvs, i.fixmedins_name,
                   d.dise_group, d.chronic, d.catalog AS dise_catalog, d.pregnancy,
                   date_diff('day', CAST(s.begntime AS DATE), CAST(s.endtime AS DATE))
                       AS stay_days
            FROM cur_setl s
            LEFT JOIN person p ON p.psn_no = s.psn_no
            LEFT JOIN institution i ON i.fixmedins_code = s.fixmedins_code
            LEFT JOIN kb_diagnosis d ON d.dise_codg = s.dise_codg
        )
        SELECT v.*, {class_sql(classes)} AS treatment_class FROM cur v {flags_join}
    """


class WorkDb:
    """One thread's database for one snapshot (never shared between threads)."""

    def __init__(self, snapshot: Snapshot, kb: Knowledge) -> None:
        self.snapshot = snapshot
        self.con = duckdb.connect()
        self.con.execute("SET threads = 1")
        add_macros(self.con)
        load_knowledge_tables(self.con, kb)
        empty_visit = pl.DataFrame(schema=snapshot.visit_schema)  # noqa: F841 - DuckDB's
        empty_line = pl.DataFrame(schema=snapshot.line_schema)  # noqa: F841
        self.con.execute("CREATE TABLE visit AS SELECT * FROM empty_visit")
        self.con.execute("CREATE TABLE line_base AS SELECT * FROM empty_line")
        self.con.execute(snapshot.line_view_sql)
        self._settlement_columns = [c for c in snapshot.visit_schema if c not in _COMPUTED]
        self._fee_columns = [c for c in snapshot.line_schema if c not in _LINE_VISIT_COLUMNS]
        self._visit_sql = _current_visit_sql(kb.treatment_class)
        # the upload names the main diagnosis; a visit before settlement is named by the
        # knowledge base (evidence texts quote it)
        self._dise_names = dict(kb.diagnosis.select("dise_codg", "dise_name").iter_rows())
        # an order sent before settlement may leave out the item's kind: the catalogue's
        self._list_types = kb.catalogue.select("med_list_codg", "list_type")
        visit_columns = ", ".join(f"v.{c}" for c in _LINE_VISIT_COLUMNS)
        self._line_sql = f"""
            INSERT INTO line_base BY NAME
            SELECT f.*, {visit_columns}
            FROM cur_fee f
            JOIN visit v ON v.fixmedins_code = f.fixmedins_code AND v.setl_id = f.setl_id
        """

    def _settlement(self, visit: Visit) -> pl.DataFrame:
        lines = visit.lines
        known = {
            "setl_id": visit.settlement,
            "mdtrt_id": visit.mdtrt_id,
            "psn_no": visit.psn_no,
            "fixmedins_code": visit.fixmedins_code,
            "med_type": visit.med_type,
            "insutype": visit.insutype,
            "begntime": visit.begntime,
            "endtime": visit.endtime,
            "dise_codg": visit.dise_codg,
            "dise_name": self._dise_names.get(visit.dise_codg or ""),
            "oprn_oprt_code": visit.oprn_oprt_code[0] if visit.oprn_oprt_code else None,
            "adm_dept_codg": visit.adm_dept_codg,
            "medfee_sumamt": lines["det_item_fee_sumamt"].sum(),
            "inscp_amt": lines["inscp_amt"].sum(),
            "fund_pay_sumamt": (
                visit.fund_pay_sumamt
                if visit.fund_pay_sumamt is not None
                else lines["inscp_amt"].sum()
            ),
        }
        schema = self.snapshot.visit_schema
        row = pl.DataFrame(
            [pl.Series(c, [known.get(c)], dtype=schema[c]) for c in self._settlement_columns]
        )
        return row.with_columns(
            req_gend=pl.lit(visit.gend, pl.String), req_brdy=pl.lit(visit.brdy, pl.Date)
        )

    def _fee(self, visit: Visit) -> pl.DataFrame:
        keys = {
            "fixmedins_code": visit.fixmedins_code,
            "mdtrt_id": visit.mdtrt_id,
            "setl_id": visit.settlement,
            "psn_no": visit.psn_no,
        }
        schema = self.snapshot.line_schema
        lines = visit.lines
        if lines["list_type"].null_count():
            lines = lines.join(
                self._list_types.rename({"list_type": "_kb_list_type"}),
                on="med_list_codg",
                how="left",
                maintain_order="left",
            ).with_columns(pl.col("list_type").fill_null(pl.col("_kb_list_type")))
        return lines.select(
            (pl.lit(keys[c]) if c in keys else pl.col(c)).cast(schema[c]).alias(c)
            for c in self._fee_columns
        )

    def load(self, visit: Visit) -> None:
        """Fill ``visit`` and ``line_base`` with the person's history (but the checked
        settlement, when the lake holds it already) and the checked visit.

        The tables are emptied and refilled, never replaced, and the frames read by
        DuckDB's replacement scan, not registered: the catalogue stays as it was, so the
        rules' prepared statements are not planned again."""
        hv, hl = self.snapshot.rows(visit.psn_no)
        column = "setl_id" if visit.setl_id else "mdtrt_id"
        key = visit.settlement if visit.setl_id else visit.mdtrt_id
        other = (pl.col("fixmedins_code") != visit.fixmedins_code) | (pl.col(column) != key)
        hv, hl = hv.filter(other), hl.filter(other)
        # read by DuckDB's replacement scan, where the batch reads its person and
        # institution views
        registers = self.snapshot.registers(visit.psn_no, visit.fixmedins_code)
        person, institution = registers  # noqa: RUF059
        cur_setl, cur_fee = self._settlement(visit), self._fee(visit)  # noqa: F841
        con = self.con
        con.execute("DELETE FROM visit")
        con.execute("DELETE FROM line_base")
        con.execute("INSERT INTO visit SELECT * FROM hv")
        con.execute(f"INSERT INTO visit BY NAME {self._visit_sql}")
        con.execute("INSERT INTO line_base SELECT * FROM hl")
        con.execute(self._line_sql)

    def close(self) -> None:
        self.con.close()
