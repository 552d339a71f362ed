"""Data-quality views of the lake, per batch and per institution: completeness of key
fields, lines quarantined by reason, and late uploads. The dashboard shows them; they are
tables you can query, not log lines."""

from __future__ import annotations

import duckdb

#: An upload more than this many days after its settlement counts as late (a local choice).
LATE_DAYS = 7

_EMPTY_QUARANTINE = (
    "SELECT NULL::BIGINT AS _batch_seq, NULL::VARCHAR AS fixmedins_code, "
    'NULL::VARCHAR AS "table", NULL::VARCHAR AS reason WHERE false'
)


def _quarantine_source(con: duckdb.DuckDBPyConnection) -> str:
    cols = {r[0] for r in con.execute("DESCRIBE quarantine").fetchall()}
    if {"reason", "fixmedins_code", "table"} <= cols:
        return 'SELECT _batch_seq, fixmedins_code, "table", reason FROM quarantine'
    return _EMPTY_QUARANTINE


def add_quality_views(con: duckdb.DuckDBPyConnection, *, late_days: int = LATE_DAYS) -> None:
    """Create ``dq_batch`` and ``dq_institution`` on a lake connection."""
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
