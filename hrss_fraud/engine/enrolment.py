"""What the ``enrolment`` checks read, prepared once per run in the scoring database.

The checks of employers' enrolment and contributions (family ``enrolment``) read the lake's
employer tables (``hrss_fraud.model.schema.ENROLMENT_TABLES``). A lake, or a hand-made
database, without them gets empty tables of the same shape, so those checks run, find
nothing and the run goes on. Built here:

- ``contrib``: one row per employee, employer, insurance type and month of the latest
  contribution filings, with ``ym`` (the month's first day), ``base`` (the declared base),
  the employer's name and the year's ``avg_wage`` (NULL when the year has none);
- ``enrol_death``: the earliest known date of death per person, from ``death`` and from
  the person register's ``die_date``;
- ``code_doc_type``, ``code_evt_type``: the Chinese and English names of the document and
  filing codes, for evidence texts.
"""

from __future__ import annotations

import duckdb

from hrss_fraud.lake.sqltext import ident, literal
from hrss_fraud.lake.views import duckdb_type
from hrss_fraud.model.codes import DOC_TYPE, EVT_TYPE, CodeList
from hrss_fraud.model.schema import ENROLMENT_TABLES, TABLES


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
    ).fetchall()
    return {r[0] for r in rows}


def _empty(name: str) -> str:
    cols = ", ".join(
        f"CAST(NULL AS {duckdb_type(f.dtype)}) AS {ident(f.name)}" for f in TABLES[name].fields
    )
    return f"SELECT {cols} WHERE false"


def _codes(con: duckdb.DuckDBPyConnection, name: str, codes: CodeList) -> None:
    rows = ", ".join(f"({literal(c.code)}, {literal(c.zh)}, {literal(c.en)})" for c in codes.codes)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM (VALUES {rows}) t(code, zh, en)")


def prepare(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create what the enrolment checks read (see the module docstring); returns the
    number of contribution rows and filings, 0 when the lake holds no employer data."""
    present = _relations(con)
    for name in ENROLMENT_TABLES:
        if name not in present:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS {_empty(name)}")
    person_deaths = (
        "UNION ALL SELECT psn_no, die_date FROM person WHERE die_date IS NOT NULL"
        if "person" in present
        else ""
    )
    con.execute(f"""
        CREATE OR REPLACE TABLE enrol_death AS
        SELECT psn_no, min(die_date) AS die_date
        FROM (SELECT psn_no, die_date FROM death {person_deaths})
        GROUP BY psn_no
    """)
    con.execute("""
        CREATE OR REPLACE TABLE contrib AS
        WITH c AS (
            SELECT emp_no, psn_no, psn_name, insutype, cashym,
                   make_date(CAST(left(cashym, 4) AS INTEGER),
                             CAST(right(cashym, 2) AS INTEGER), 1) AS ym,
                   CAST(psn_clctstd AS DOUBLE) AS base
            FROM emp_contribution
        )
        SELECT c.*, year(c.ym) AS year, coalesce(e.emp_name, c.emp_no) AS emp_name,
               coalesce(c.psn_name, c.psn_no) AS shown_name,
               CAST(w.avg_wage AS DOUBLE) AS avg_wage
        FROM c
        LEFT JOIN employer e ON e.emp_no = c.emp_no
        LEFT JOIN avg_wage w ON w.year = year(c.ym)
    """)
    _codes(con, "code_doc_type", DOC_TYPE)
    _codes(con, "code_evt_type", EVT_TYPE)
    return {
        "contrib": con.execute("SELECT count(*) FROM contrib").fetchall()[0][0],
        "insu_event": con.execute("SELECT count(*) FROM insu_event").fetchall()[0][0],
    }
