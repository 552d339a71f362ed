"""Data-quality views of the lake, per batch and per institution: completeness of key
fields, lines quarantined by reason, and late uploads; descriptive codes outside their list
(kept, flagged); columns set aside. The dashboard shows them; they are tables you can
query, not log lines.

- ``quarantine_held``: the rows still held — the quarantine without its released rows and
  their release records (:mod:`hrss_fraud.ingest.release`). Count this, not ``quarantine``,
  to know what is held: nothing released is counted twice.
- ``dq_code``: per table, field, institution and value, the latest rows whose descriptive
  code is outside its list (a department by its parent: ``A03.05`` is in the list when
  ``A03`` is), with the count.
- ``dq_set_aside``: per table, batch and column, the rows that carry a set-aside column (a
  column of the upload the data model does not use, kept in ``_set_aside``).
- ``dq_batch``, ``dq_institution``: as before, their quarantine counts from
  ``quarantine_held``.
"""

from __future__ import annotations

import duckdb

from hrss_fraud.ingest.release import held_sql
from hrss_fraud.ingest.validate import SET_ASIDE, descriptive
from hrss_fraud.lake.views import ident, literal
from hrss_fraud.model import codes as C
from hrss_fraud.model.schema import TABLES

#: An upload more than this many days after its settlement counts as late (a local choice).
LATE_DAYS = 7

_EMPTY_QUARANTINE = (
    "SELECT NULL::BIGINT AS _batch_seq, NULL::VARCHAR AS fixmedins_code, "
    'NULL::VARCHAR AS "table", NULL::VARCHAR AS reason WHERE false'
)


def _quarantine_source(con: duckdb.DuckDBPyConnection) -> str:
    cols = {r[0] for r in con.execute("DESCRIBE quarantine").fetchall()}
    if {"reason", "fixmedins_code", "table"} <= cols:
        return 'SELECT _batch_seq, fixmedins_code, "table", reason FROM quarantine_held'
    return _EMPTY_QUARANTINE


#: Tables with descriptive code lists that ``dq_code`` looks at.
_CODED = ("settlement", "fee_detail", "person", "institution", "practitioner")


def _code_sql() -> str:
    parts = []
    for name in _CODED:
        t = TABLES[name]
        inst = "fixmedins_code" if "fixmedins_code" in t else "NULL::VARCHAR"
        for f in t.fields:
            if f.codes is None or not descriptive(name, f.name):
                continue
            col = ident(f.name)
            value = C.dept_parent_sql(col) if f.name in C.DEPT_FIELDS else col
            listed = ", ".join(literal(v) for v in f.codes.values())
            parts.append(
                f'SELECT {literal(name)} AS "table", {literal(f.name)} AS field, '
                f"{inst} AS fixmedins_code, {col} AS value, count(*) AS n "
                f"FROM {ident(name)} WHERE {col} IS NOT NULL AND {value} NOT IN ({listed}) "
                "GROUP BY ALL"
            )
    return " UNION ALL ".join(parts)


def _set_aside_sql(con: duckdb.DuckDBPyConnection) -> str:
    parts = []
    for name in TABLES:
        cols = {r[0] for r in con.execute(f"DESCRIBE {ident(name + '_all')}").fetchall()}
        if SET_ASIDE in cols:
            parts.append(
                f'SELECT {literal(name)} AS "table", _batch_seq, k AS "column", '
                f"count(*) AS n FROM (SELECT _batch_seq, unnest(json_keys({SET_ASIDE})) AS k "
                f"FROM {ident(name + '_all')} WHERE {SET_ASIDE} IS NOT NULL) GROUP BY ALL"
            )
    empty = (
        'SELECT NULL::VARCHAR AS "table", NULL::BIGINT AS _batch_seq, '
        'NULL::VARCHAR AS "column", NULL::BIGINT AS n WHERE false'
    )
    return " UNION ALL ".join(parts) if parts else empty


def add_quality_views(con: duckdb.DuckDBPyConnection, *, late_days: int = LATE_DAYS) -> None:
    """Create ``quarantine_held``, ``dq_batch``, ``dq_institution``, ``dq_code`` and
    ``dq_set_aside`` on a lake connection."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW quarantine_held AS {held_sql(con)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW dq_code AS {_code_sql()}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW dq_set_aside AS {_set_aside_sql(con)}")
    q = _quarantine_source(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW dq_quarantine AS {q}")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW dq_batch AS
        WITH accepted AS (
            SELECT _batch_seq, 'fee_detail' AS "table", count(*) AS accepted
              FROM fee_detail_all GROUP BY ALL
            UNION ALL
            SELECT _batch_seq, 'settlement', count(*) FROM settlement_all GROUP BY ALL
        ),
        held AS (
            SELECT _batch_seq, "table", sum(n) AS quarantined,
                   string_agg(reason || ':' || n, '; ' ORDER BY n DESC) AS by_reason
              FROM (SELECT _batch_seq, "table", reason, count(*) AS n
                      FROM dq_quarantine GROUP BY ALL)
             GROUP BY ALL
        )
        SELECT b.seq AS _batch_seq, b.batch_id, b.committed_at, t."table",
               coalesce(a.accepted, 0) AS accepted, coalesce(h.quarantined, 0) AS quarantined,
               coalesce(h.quarantined, 0) / greatest(coalesce(a.accepted, 0)
                   + coalesce(h.quarantined, 0), 1) AS quarantined_share,
               h.by_reason
          FROM batches b
          CROSS JOIN (VALUES ('fee_detail'), ('settlement')) t("table")
          LEFT JOIN accepted a ON a._batch_seq = b.seq AND a."table" = t."table"
          LEFT JOIN held h ON h._batch_seq = b.seq AND h."table" = t."table"
         WHERE coalesce(a.accepted, 0) + coalesce(h.quarantined, 0) > 0
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW dq_institution AS
        WITH s AS (
            SELECT fixmedins_code, count(*) AS settlements,
                   avg((dise_codg IS NULL)::INT) AS missing_dise_codg,
                   avg((adm_dept_codg IS NULL)::INT) AS missing_adm_dept_codg,
                   avg((chfpdr_code IS NULL)::INT) AS missing_chfpdr_code,
                   avg((crte_time > setl_time + INTERVAL {int(late_days)} DAY)::INT)
                       AS late_settlement_share
              FROM settlement GROUP BY ALL
        ),
        f AS (
            SELECT fixmedins_code, count(*) AS fee_lines,
                   avg((bilg_dr_codg IS NULL)::INT) AS missing_bilg_dr_codg,
                   avg((bilg_dept_codg IS NULL)::INT) AS missing_bilg_dept_codg,
                   avg((crte_time > fee_ocur_time + INTERVAL {int(late_days)} DAY)::INT)
                       AS late_line_share
              FROM fee_detail GROUP BY ALL
        ),
        q AS (
            SELECT fixmedins_code, sum(n) AS quarantined,
                   string_agg(reason || ':' || n, '; ' ORDER BY n DESC) AS quarantined_by_reason
              FROM (SELECT fixmedins_code, reason, count(*) AS n FROM dq_quarantine
                     WHERE fixmedins_code IS NOT NULL GROUP BY ALL)
             GROUP BY ALL
        )
        SELECT i.fixmedins_code, i.fixmedins_name, i.admdvs_name,
               coalesce(s.settlements, 0) AS settlements, coalesce(f.fee_lines, 0) AS fee_lines,
               s.missing_dise_codg, s.missing_adm_dept_codg, s.missing_chfpdr_code,
               f.missing_bilg_dr_codg, f.missing_bilg_dept_codg,
               s.late_settlement_share, f.late_line_share,
               coalesce(q.quarantined, 0) AS quarantined,
               coalesce(q.quarantined, 0) / greatest(coalesce(f.fee_lines, 0)
                   + coalesce(s.settlements, 0) + coalesce(q.quarantined, 0), 1)
                   AS quarantined_share,
               q.quarantined_by_reason
          FROM institution i
          LEFT JOIN s USING (fixmedins_code)
          LEFT JOIN f USING (fixmedins_code)
          LEFT JOIN q USING (fixmedins_code)
    """)
