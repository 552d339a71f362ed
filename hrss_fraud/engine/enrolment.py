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

A year whose filings have no average wage cannot be compared with the floor; the checks
that need it skip that year and :func:`data_gaps` says so (the run's manifest records it).
"""

from __future__ import annotations

import duckdb

from hrss_fraud.lake.sqltext import ident, literal
from hrss_fraud.lake.views import duckdb_type
from hrss_fraud.model.codes import DOC_TYPE, EVT_TYPE, CodeList
from hrss_fraud.model.schema import ENROLMENT_TABLES, TABLES

FLOOR_RULES = ("enrol_base_below_floor", "enrol_all_at_floor")
"""The checks that compare a declared base with the floor, a share of the year's average
monthly wage (``avg_wage``)."""


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
            SELECT emp_no, psn_no, insutype, cashym,
                   make_date(CAST(left(cashym, 4) AS INTEGER),
                             CAST(right(cashym, 2) AS INTEGER), 1) AS ym,
                   CAST(psn_clctstd AS DOUBLE) AS base
            FROM emp_contribution
        )
        SELECT c.*, year(c.ym) AS year, coalesce(e.emp_name, c.emp_no) AS emp_name,
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


def data_gaps(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """What the prepared ``contrib`` lacks for the floor checks: one entry per year with
    contribution filings but no average monthly wage, whose bases :data:`FLOOR_RULES` could
    not judge (``table, year, rows, rules, reason_zh, reason_en``), oldest first."""
    rows = con.execute(
        "SELECT year, count(*) FROM contrib WHERE avg_wage IS NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [
        {
            "table": "avg_wage",
            "year": year,
            "rows": n,
            "rules": list(FLOOR_RULES),
            "reason_zh": f"缺少{year}年职工月平均工资（avg_wage），该年{n}条缴费申报"
            "未能判断缴费基数是否低于下限",
            "reason_en": f"no average monthly wage (avg_wage) for {year}: its {n} contribution "
            "filings could not be judged against the floor",
        }
        for year, n in rows
    ]
