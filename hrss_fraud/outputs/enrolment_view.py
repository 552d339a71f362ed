"""What the 参保稽核 page and its audit-visit list read: the latest run's hits of the
``enrolment`` rule family by employer, ranked by the contribution at stake, and for one
employer its filings, its contribution months and its hits with the rows behind each.

A hit names its employer in its entity (``E…`` or ``E…|…``), except two rules: a person
enrolled at two employers is one hit whose violating lines are the months of the employer
not kept (the rule keeps the highest base of a month and charges the others, so each line
is paired with the contribution row it was computed from, :data:`_PAIRS_SQL`), and a
claim paid during an
interruption is the settlement's hit, belonging to the employer whose filing ended the
cover (the latest interruption, cancellation or transfer before it, as the rule reads).
Every amount shown is a sum of the lines of :meth:`EnrolmentView.rows`, and each line is
shown with the filing row it came from. :class:`EnrolmentView` reads the run and the lake
once for all of a page's or an export's questions.

The hits' evidence names persons by number only, as the claim rules' does; their names are
in the rows, masked for a role that may not see identities as in every table
(:mod:`hrss_fraud.cases.masking`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.cases.masking import mask_frame
from hrss_fraud.engine import enrolment
from hrss_fraud.engine.runs import Run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.model.codes import DOC_TYPE, EVT_ENDING
from hrss_fraud.outputs.labels import code_labels, line_role_labels, severity_labels

FAMILY = "enrolment"
TWO_EMPLOYERS = "enrol_two_employers"
CLAIM_INTERRUPTED = "enrol_claim_interrupted"
RANKING_COLUMNS = (
    "emp_no",
    "emp_name",
    "emp_type",
    "zone",
    "zone_name",
    "n_hits",
    "rules",
    "amount_at_risk",
)
"""One row per employer with hits, most contribution at stake first."""
_MASKED = {"psn_name": "name", "certno": "id_number"}


def enrolment_findings(run: Run) -> pl.DataFrame:
    """The run's findings of the ``enrolment`` family."""
    ids = [r.id for r in run.catalogue().rules.values() if r.family == FAMILY]
    return run.findings().filter(pl.col("rule_id").is_in(ids))


def _connect(workspace: Path) -> duckdb.DuckDBPyConnection:
    """The lake with the employer tables (empty ones where the lake has none)."""
    con = Workspace.of(workspace).lake.connect()
    enrolment.prepare(con)
    return con


_PAIRS_SQL = f"""
CREATE OR REPLACE TEMP TABLE enrol_pairs AS
WITH l AS (
    SELECT finding_id, psn_no, line_time, role, amount_at_risk,
           row_number() OVER (PARTITION BY finding_id, psn_no, line_time
                              ORDER BY role = 'violating', amount_at_risk DESC) AS k
    FROM enrol_lines WHERE rule_id = '{TWO_EMPLOYERS}'
),
c AS (
    SELECT psn_no, cashym, emp_no, psn_name, CAST(psn_clctstd AS DOUBLE) AS base,
           row_number() OVER (PARTITION BY psn_no, cashym
                              ORDER BY psn_clctstd DESC, emp_no) AS k
    FROM emp_contribution WHERE psn_no IN (SELECT psn_no FROM l)
)
SELECT l.*, c.emp_no, c.psn_name, c.base
FROM l JOIN c ON c.psn_no = l.psn_no AND c.cashym = strftime(l.line_time, '%Y%m') AND c.k = l.k
"""
"""Each line of a hit of a person at two employers with the contribution row it stands
for: in each month the rule keeps the highest base (ties: the lower employer number) as
the involved line and charges the others, so the lines in that order (involved first,
then by amount) pair one to one with the month's rows by base, then employer."""


def _attributed(con: duckdb.DuckDBPyConnection, run: Run) -> pl.DataFrame:
    """``finding_id, emp_no, amount_at_risk``: each enrolment hit's share per employer
    (see the module docstring), with the hits' lines registered as ``enrol_lines``."""
    findings = enrolment_findings(run)
    lines = run.lines().join(findings.select("finding_id", "rule_id"), on="finding_id")
    con.register("enrol_findings", findings)
    con.register("enrol_lines", lines)
    con.execute(_PAIRS_SQL)
    return con.sql(
        f"""
        WITH direct AS (
            SELECT f.finding_id, e.emp_no, f.amount_at_risk
            FROM enrol_findings f
            JOIN employer e ON e.emp_no = split_part(f.entity_id, '|', 1)
            WHERE f.rule_id NOT IN ('{TWO_EMPLOYERS}', '{CLAIM_INTERRUPTED}')
        ),
        twice AS (
            SELECT p.finding_id, p.emp_no, sum(p.amount_at_risk) AS amount_at_risk
            FROM enrol_pairs p
            WHERE p.role = 'violating'
            GROUP BY ALL
        ),
        ended AS (
            SELECT l.finding_id, e.emp_no, l.amount_at_risk
            FROM enrol_lines l
            JOIN insu_event e
              ON e.psn_no = l.psn_no AND e.evt_type IN {tuple(EVT_ENDING)}
             AND e.evt_date <= CAST(l.line_time AS DATE)
            WHERE l.rule_id = '{CLAIM_INTERRUPTED}'
            QUALIFY row_number() OVER (
                PARTITION BY l.finding_id, l.setl_id ORDER BY e.evt_date DESC, e.evt_sn) = 1
        )
        SELECT finding_id, emp_no, sum(amount_at_risk) AS amount_at_risk
        FROM (SELECT * FROM direct UNION ALL SELECT * FROM twice UNION ALL SELECT * FROM ended)
        GROUP BY ALL
        """
    ).pl()


def _rule_names(run: Run, lang: str) -> dict[str, str]:
    rules = run.catalogue().rules.values()
    return {r.id: (r.name_zh if lang == "zh" else r.name_en) for r in rules}


def _zone_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Township code → name, from the institution register (the same zones the inspection
    rounds use); empty for a lake without it."""
    try:
        rows = con.execute(
            "SELECT admdvs, any_value(admdvs_name) FROM institution "
            "WHERE admdvs_name IS NOT NULL GROUP BY 1"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return dict(rows)


_ROWS_SQL = f"""
WITH l AS (
    SELECT row_number() OVER (PARTITION BY l.finding_id, t.emp_no
                              ORDER BY l.line_time, l.role DESC, l.psn_no, l.setl_id,
                                       l.amount_at_risk) AS line_no,
           l.*, t.emp_no AS target,
           CASE WHEN f.entity_type = 'employer' AND f.entity_id LIKE '%|%'
                THEN split_part(f.entity_id, '|', 2) END AS evt_key,
           row_number() OVER (PARTITION BY l.finding_id, t.emp_no, l.psn_no, l.line_time
                              ORDER BY l.role = 'violating', l.amount_at_risk DESC) AS k
    FROM enrol_targets t
    JOIN enrol_lines l USING (finding_id)
    JOIN enrol_findings f USING (finding_id)
),
matched AS (
    SELECT l.finding_id, l.target, l.line_no, c.emp_no, c.psn_no, c.psn_name,
           CAST(c.psn_clctstd AS DOUBLE) AS base
    FROM l
    JOIN emp_contribution c
      ON l.evt_key IS NULL AND l.setl_id IS NULL AND l.rule_id <> '{TWO_EMPLOYERS}'
     AND c.cashym = strftime(l.line_time, '%Y%m') AND c.emp_no = l.target
     AND (c.psn_no = l.psn_no OR l.psn_no IS NULL)
    UNION ALL
    SELECT l.finding_id, l.target, l.line_no, p.emp_no, p.psn_no, p.psn_name, p.base
    FROM l
    JOIN enrol_pairs p
      ON p.finding_id = l.finding_id AND p.psn_no = l.psn_no AND p.line_time = l.line_time
     AND p.k = l.k
),
per_line AS (
    SELECT finding_id, target, line_no, any_value(emp_no) AS emp_no,
           CASE WHEN count(DISTINCT psn_no) = 1 THEN any_value(psn_name) END AS psn_name,
           count(DISTINCT psn_no) AS n_people, sum(base) AS psn_clctstd
    FROM matched GROUP BY ALL
),
names AS (
    SELECT psn_no, any_value(psn_name) AS psn_name FROM emp_contribution GROUP BY 1
)
SELECT l.target AS hit_emp_no, l.finding_id, l.line_no, l.role,
       CAST(l.line_time AS DATE) AS line_date, coalesce(p.emp_no, l.target) AS emp_no,
       l.psn_no,
       CASE WHEN l.psn_no IS NOT NULL THEN coalesce(p.psn_name, n.psn_name) END AS psn_name,
       CASE WHEN p.line_no IS NOT NULL THEN strftime(l.line_time, '%Y%m') END AS cashym,
       p.n_people, p.psn_clctstd, ev.evt_sn, ev.evt_type, ev.docs,
       l.setl_id, l.fixmedins_code, l.amount_at_risk
FROM l
LEFT JOIN per_line p USING (finding_id, target, line_no)
LEFT JOIN insu_event ev ON ev.evt_sn = l.evt_key
LEFT JOIN names n ON n.psn_no = l.psn_no
ORDER BY l.target, l.finding_id, l.line_no
"""
"""The rows behind each (hit, employer) of ``enrol_targets``: see :func:`hit_rows`."""


def _documents(codes: pl.Expr, lang: str) -> pl.Expr:
    """Document codes as filed (any separator) → their names joined by 、 (; in English)."""
    names = {c.code: (c.zh if lang == "zh" else c.en) for c in DOC_TYPE.codes}
    return (
        codes.str.replace_all(r"[;,；，、\s]+", ";")
        .str.split(";")
        .list.eval(
            pl.element()
            .filter(pl.element() != "")
            .replace_strict(names, default=pl.element(), return_dtype=pl.String)
        )
        .list.join("、" if lang == "zh" else "; ")
    )


class EnrolmentView:
    """One run's enrolment hits over the workspace's lake: one connection and the hits'
    shares per employer computed once, for a page or an export that asks many questions.
    Close it (or use it as a context manager) when done."""

    def __init__(self, workspace: Path, run: Run) -> None:
        self.run = run
        self.con = _connect(workspace)
        try:
            self.shares = _attributed(self.con, run)
        except BaseException:
            self.con.close()
            raise

    def __enter__(self) -> EnrolmentView:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def ranking(self, *, lang: str = "zh") -> pl.DataFrame:
        """Employers with enrolment hits (:data:`RANKING_COLUMNS`), most at stake first:
        the kind of employer as its label, the zone (township) by name, the rules hit by
        name."""
        self.con.register("enrol_shares", self.shares)
        df = self.con.sql(
            """
            SELECT s.emp_no, any_value(e.emp_name) AS emp_name,
                   any_value(e.emp_type) AS emp_type, any_value(e.admdvs) AS zone,
                   any_value(coalesce(e.admdvs_name, e.admdvs)) AS zone_name,
                   count(DISTINCT s.finding_id) AS n_hits,
                   list(DISTINCT f.rule_id ORDER BY f.rule_id) AS rule_ids,
                   round(sum(s.amount_at_risk), 2) AS amount_at_risk
            FROM enrol_shares s
            JOIN enrol_findings f USING (finding_id)
            LEFT JOIN employer e ON e.emp_no = s.emp_no
            GROUP BY s.emp_no
            ORDER BY amount_at_risk DESC, n_hits DESC, s.emp_no
            """
        ).pl()
        names = _rule_names(self.run, lang)
        return df.with_columns(
            emp_type=pl.col("emp_type").replace_strict(
                code_labels("emp_type", lang), default=pl.col("emp_type")
            ),
            zone_name=pl.col("zone_name").replace_strict(
                _zone_names(self.con), default=pl.col("zone_name")
            ),
            rules=pl.col("rule_ids").list.eval(pl.element().replace_strict(names, default=None)),
        ).with_columns(rules=pl.col("rules").list.join("、" if lang == "zh" else "; "))[
            list(RANKING_COLUMNS)
        ]

    def hits(self, emp_no: str | None = None, *, lang: str = "zh") -> pl.DataFrame:
        """The hits of ``emp_no`` (of every employer if None): ``emp_no, finding_id,
        rule_id, rule_name, severity, period_start, period_end, amount_at_risk`` (the
        employer's share), ``evidence`` in ``lang`` (it names persons by number only, so
        it reads the same to every role); most at stake first."""
        shares = self.shares
        if emp_no is not None:
            shares = shares.filter(pl.col("emp_no") == emp_no)
        findings = enrolment_findings(self.run).drop("amount_at_risk")
        df = shares.join(findings, on="finding_id").sort(
            ["amount_at_risk", "finding_id"], descending=[True, False]
        )
        evidence = "evidence" if lang == "zh" else "evidence_en"
        return df.select(
            "emp_no",
            "finding_id",
            "rule_id",
            rule_name=pl.col("rule_id").replace_strict(
                _rule_names(self.run, lang), default=pl.col("rule_id")
            ),
            severity=pl.col("severity").replace_strict(
                severity_labels(lang), default=pl.col("severity")
            ),
            period_start="period_start",
            period_end="period_end",
            amount_at_risk=pl.col("amount_at_risk").round(2),
            evidence=evidence,
        )

    def rows(
        self,
        targets: pl.DataFrame | None = None,
        *,
        lang: str = "zh",
        role: str | None = None,
    ) -> pl.DataFrame:
        """The rows behind each hit of ``targets`` (``finding_id, emp_no``; every hit of
        every employer if None), ``hit_emp_no`` naming whose, one per line of the hit
        (``line_no``): its ``role`` and day, the contribution row it was computed from
        (``cashym``, the person, the declared base ``psn_clctstd``; for a month of a
        headcount hit, the people declared that month and their bases summed), or the
        filing (``evt_sn``, kind, documents) or settlement (``setl_id``, institution) it
        is about, and its ``amount_at_risk``. The violating lines filed by the hit's
        employer (``emp_no``) add up to the hit's amount for it (:meth:`hits`); names are
        masked for ``role``."""
        chosen = self.shares if targets is None else targets
        self.con.register("enrol_targets", chosen.select("finding_id", "emp_no"))
        df = self.con.sql(_ROWS_SQL).pl()
        return mask_frame(
            df.with_columns(
                role=pl.col("role").replace_strict(line_role_labels(lang), default=pl.col("role")),
                evt_type=pl.col("evt_type").replace_strict(
                    code_labels("evt_type", lang), default=pl.col("evt_type")
                ),
                docs=_documents(pl.col("docs"), lang),
            ),
            role,
            columns=_MASKED,
        )

    def hit_rows(
        self, finding_id: str, emp_no: str, *, lang: str = "zh", role: str | None = None
    ) -> pl.DataFrame:
        """:meth:`rows` of one hit of ``emp_no``."""
        target = pl.DataFrame({"finding_id": [finding_id], "emp_no": [emp_no]})
        return self.rows(target, lang=lang, role=role)

    def filings(self, emp_no: str, *, lang: str = "zh") -> pl.DataFrame:
        """The employer's enrolment filings, newest first: ``evt_sn, evt_date, psn_no,
        evt_type`` (label), ``evt_rea, docs`` (the documents' names)."""
        df = self.con.sql(
            "SELECT evt_sn, evt_date, psn_no, evt_type, evt_rea, docs FROM insu_event "
            "WHERE emp_no = $emp ORDER BY evt_date DESC, evt_sn",
            params={"emp": emp_no},
        ).pl()
        return df.with_columns(
            evt_type=pl.col("evt_type").replace_strict(
                code_labels("evt_type", lang), default=pl.col("evt_type")
            ),
            docs=_documents(pl.col("docs"), lang),
        )

    def months(self, emp_no: str) -> pl.DataFrame:
        """The employer's contribution months: ``cashym, n_people, base_total,
        emp_clct_amt, psn_clct_amt`` (sums of its filing rows), oldest first."""
        return self.con.sql(
            """
            SELECT cashym, count(DISTINCT psn_no) AS n_people,
                   CAST(sum(psn_clctstd) AS DOUBLE) AS base_total,
                   CAST(sum(emp_clct_amt) AS DOUBLE) AS emp_clct_amt,
                   CAST(sum(psn_clct_amt) AS DOUBLE) AS psn_clct_amt
            FROM emp_contribution WHERE emp_no = $emp GROUP BY cashym ORDER BY cashym
            """,
            params={"emp": emp_no},
        ).pl()

    def name(self, emp_no: str) -> str | None:
        """The employer's name, None for an employer the lake does not hold."""
        rows = self.con.execute(
            "SELECT emp_name FROM employer WHERE emp_no = ?", [emp_no]
        ).fetchall()
        return str(rows[0][0]) if rows else None
