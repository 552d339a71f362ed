"""Everything the "open a lead" panel shows: the rule and the parameter values that fired,
the reasoning, the claim lines behind it, and the person's and the institution's context.

A lead is only a lead until a person has reviewed it (DOMAIN.md §3): the panel must show
the lines and the reasoning, so the lines come with what the lake holds about them (item,
quantity, price, amounts; the settlement for a settlement-level row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from hrss_fraud.cases.store import DECISION_SCHEMA
from hrss_fraud.engine.params import unit_text
from hrss_fraud.lake.views import literal
from hrss_fraud.model.numbers import money_expr
from hrss_fraud.outputs.labels import (
    family_labels,
    line_role_labels,
    med_type_labels,
    severity_labels,
)
from hrss_fraud.outputs.leads import LeadFilter, count, finding, lead_frames, totals
from hrss_fraud.outputs.legal_basis import basis_text
from hrss_fraud.outputs.ranking import risk_ranking

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

CONTEXT_LEADS = 50
"""How many of the person's or institution's other leads the panel lists (riskiest first);
the counts and amounts cover them all."""

_LINES_SQL = """
WITH fee AS (
    SELECT f.* FROM fee_detail_all f
    SEMI JOIN lead_lines l ON f.fixmedins_code = l.fixmedins_code
         AND f.mdtrt_id = l.mdtrt_id AND f.feedetl_sn = l.feedetl_sn
    QUALIFY row_number() OVER (PARTITION BY f.fixmedins_code, f.mdtrt_id, f.feedetl_sn
                               ORDER BY f._batch_seq DESC, f._row DESC) = 1
), setl AS (
    SELECT s.* FROM settlement_all s
    SEMI JOIN lead_lines l ON s.fixmedins_code = l.fixmedins_code AND s.setl_id = l.setl_id
    QUALIFY row_number() OVER (PARTITION BY s.fixmedins_code, s.setl_id
                               ORDER BY s._batch_seq DESC, s._row DESC) = 1
)
SELECT {finding_id}l.role, l.fixmedins_code, l.psn_no, l.setl_id, l.mdtrt_id, l.feedetl_sn,
       l.line_time, l.amount_at_risk,
       fee.med_list_codg, fee.medins_list_name,
       CAST(fee.cnt AS DOUBLE) AS cnt, CAST(fee.pric AS DOUBLE) AS pric,
       CAST(fee.det_item_fee_sumamt AS DOUBLE) AS det_item_fee_sumamt,
       CAST(fee.inscp_amt AS DOUBLE) AS line_inscp_amt, fee.bilg_dr_codg,
       CASE WHEN fee.fixmedins_code IS NOT NULL THEN coalesce(fee.vali_flag, '1') = '1' END
           AS line_valid,
       setl.med_type, setl.dise_codg, setl.dise_name, setl.begntime, setl.endtime,
       CAST(setl.medfee_sumamt AS DOUBLE) AS medfee_sumamt,
       CAST(setl.inscp_amt AS DOUBLE) AS setl_inscp_amt
FROM lead_lines l
LEFT JOIN fee ON fee.fixmedins_code = l.fixmedins_code AND fee.mdtrt_id = l.mdtrt_id
     AND fee.feedetl_sn = l.feedetl_sn
LEFT JOIN setl ON setl.fixmedins_code = l.fixmedins_code AND setl.setl_id = l.setl_id
ORDER BY {by}l.role = 'involved', l.line_time, l.fixmedins_code, l.mdtrt_id, l.feedetl_sn
"""

LINES_ORDER = "role = 'involved', line_time, fixmedins_code, mdtrt_id, feedetl_sn"
"""The order of a lead's lines: violating first, then by time and line."""


def lines_sql(*, all_leads: bool = False) -> str:
    """The lines of ``lead_lines`` with the lake's item and settlement context; with
    ``all_leads``, also their ``finding_id``, first in the order (the ``lead_lines`` mart)."""
    if all_leads:
        return _LINES_SQL.format(finding_id="l.finding_id, ", by="l.finding_id, ")
    return _LINES_SQL.format(finding_id="", by="")


LINE_MONEY = (
    "amount_at_risk",
    "pric",
    "det_item_fee_sumamt",
    "line_inscp_amt",
    "medfee_sumamt",
    "setl_inscp_amt",
)
"""A lead's line columns in yuan."""
LINE_TIMES = ("line_time", "begntime", "endtime")
"""A lead's line columns of time: the lake's clock times, as the institution recorded
them (no zone, the county's own)."""
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}


def shown_lines(lines: pl.DataFrame, lang: str = "zh") -> pl.DataFrame:
    """A lead's lines (:attr:`LeadDetail.lines`) as a person reads them, every column
    text: the role and care type by their labels, amounts to the fen (``¥1,234.50``),
    quantities without trailing zeros, times to the minute, valid as yes or no."""
    yes, no = YES_NO["en" if lang == "en" else "zh"]
    qty = pl.col("cnt")
    whole = qty.round().cast(pl.Int64).cast(pl.String)
    return lines.with_columns(
        *(money_expr(c).alias(c) for c in LINE_MONEY),
        *(pl.col(c).dt.strftime("%Y-%m-%d %H:%M") for c in LINE_TIMES),
        cnt=pl.when(qty == qty.round()).then(whole).otherwise(qty.round(4).cast(pl.String)),
        role=pl.col("role").replace_strict(line_role_labels(lang), default=pl.col("role")),
        med_type=pl.col("med_type").replace_strict(
            med_type_labels(lang), default=pl.col("med_type")
        ),
        line_valid=pl.when(pl.col("line_valid")).then(pl.lit(yes)).otherwise(pl.lit(no)),
    )


_VISITS_SQL = """
WITH s AS (
    SELECT * FROM settlement_all WHERE {where}
    QUALIFY row_number() OVER (PARTITION BY fixmedins_code, setl_id
                               ORDER BY _batch_seq DESC, _row DESC) = 1
)
SELECT {psn_no}count(DISTINCT mdtrt_id) AS n_visits, count(*) AS n_settlements,
       count(DISTINCT fixmedins_code) AS n_institutions,
       CAST(coalesce(sum(inscp_amt), 0) AS DOUBLE) AS inscp_amt,
       min(setl_time) AS first_visit, max(setl_time) AS last_visit
FROM s WHERE coalesce(vali_flag, '1') = '1' AND coalesce(refd_setl_flag, '0') = '0'
{group}"""


def visits_sql(*, all_persons: bool = False) -> str:
    """One person's (``?``) visits and spending; with ``all_persons``, those of every
    person of the run's leads (``run_persons``), by ``psn_no`` (the ``person_visits`` mart)."""
    if all_persons:
        where = "psn_no IN (SELECT psn_no FROM run_persons)"
        return _VISITS_SQL.format(where=where, psn_no="psn_no, ", group="GROUP BY psn_no")
    return _VISITS_SQL.format(where="psn_no = ?", psn_no="", group="")


@dataclass(frozen=True)
class LeadDetail:
    """One lead as the panel shows it; frames are ready for a grid, dicts for text."""

    lead: dict[str, Any]
    """The lead's queue row (``leads.ROW_COLUMNS``) plus ``entity_type``, ``entity_id``,
    ``setl_id``, ``mdtrt_id``, ``feedetl_sn``, ``score``, ``n_lines``, ``n_violating``."""
    rule: dict[str, Any]
    """``rule_id``, names, severity and its label, behaviour, family, legal basis (as
    catalogued, and ``legal_basis_text`` in the language asked for), framework codes,
    version."""
    params: pl.DataFrame
    """The parameter values the lead was found with, beside the catalogue's default,
    bounds, unit and description (unit and description in the language asked for)."""
    evidence_zh: str
    evidence_en: str
    lines: pl.DataFrame
    """The violating lines first, then the involved ones, with the lake's item, quantity,
    price and amounts (``feedetl_sn`` null: the row stands for a whole settlement)."""
    person: dict[str, Any] | None
    """Visit counts and spending of the lead's person; None for a lead without one."""
    person_leads: pl.DataFrame
    institution: dict[str, Any]
    """Its name and zone, number of leads and amount at risk in this run, and its place in
    the risk ranking (``rank`` of ``n_ranked``, ``risk_score``, ``reasons``)."""
    institution_leads: pl.DataFrame
    history: pl.DataFrame
    """The review decisions on this lead, oldest first (empty without a case store)."""


def _finding(view: RunView, finding_id: str) -> dict[str, Any]:
    row = finding(view, finding_id)
    if row is None:
        msg = f"lead {finding_id} is not in run {view.run_id}"
        raise LookupError(msg)
    return row


def _rule(view: RunView, finding: dict[str, Any], lang: str) -> tuple[dict[str, Any], pl.DataFrame]:
    """The rule as catalogued and the parameter values the finding carries (the run
    manifest's values for a finding that carries none)."""
    rule_id = finding["rule_id"]
    entry = next((r for r in view.manifest.get("rules", []) if r.get("rule_id") == rule_id), {})
    used = json.loads(finding.get("params") or "null") or entry.get("params") or {}
    rule = view.catalogue.rules.get(rule_id)
    family = rule.family if rule else None
    info = {
        "rule_id": rule_id,
        "name_zh": finding["rule_name"],
        "name_en": finding["rule_name_en"],
        "severity": finding["severity"],
        "severity_label": severity_labels(lang).get(finding["severity"], finding["severity"]),
        "behaviour": finding["behaviour"],
        "family": family,
        "family_label": family_labels(lang).get(family or "", family),
        "legal_basis": rule.legal_basis if rule else None,
        "legal_basis_text": basis_text(rule.legal_basis, lang) if rule else None,
        "framework_codes": [c for c in (finding.get("framework_codes") or "").split(";") if c],
        "version": finding.get("rule_version") or entry.get("version"),
    }
    declared = {p.name: p for p in rule.params} if rule else {}
    params = pl.DataFrame(
        [
            {
                "name": name,
                "value": float(value),
                "default": declared[name].default if name in declared else None,
                "min": declared[name].min if name in declared else None,
                "max": declared[name].max if name in declared else None,
                "unit": unit_text(declared[name].unit, lang) if name in declared else None,
                "description": (
                    (
                        declared[name].description_en
                        if lang == "en"
                        else declared[name].description_zh
                    )
                    if name in declared
                    else None
                ),
            }
            for name, value in sorted(used.items())
        ],
        schema={
            "name": pl.String,
            "value": pl.Float64,
            "default": pl.Float64,
            "min": pl.Float64,
            "max": pl.Float64,
            "unit": pl.String,
            "description": pl.String,
        },
    )
    return info, params


def _lines(view: RunView, con: duckdb.DuckDBPyConnection, finding_id: str) -> pl.DataFrame:
    """The lead's lines with their context: a pruned read of the ``lead_lines`` mart
    (sorted by lead), else the run's lines joined with the lake."""
    mart = view.mart("lead_lines")
    if mart is not None:  # in LINES_ORDER within a lead; polars skips the other row
        # groups by their finding_id statistics (several times faster than DuckDB here)
        return (
            pl.scan_parquet(mart)
            .filter(pl.col("finding_id") == finding_id)
            .drop("finding_id")
            .collect()
        )
    lines = con.sql(
        f"SELECT * FROM read_parquet({literal(str(view.lines_path))}) WHERE finding_id = ?",
        params=[finding_id],
    ).pl()
    con.register("lead_lines", lines)
    try:
        return con.sql(lines_sql()).pl()
    finally:
        con.unregister("lead_lines")


def _person(view: RunView, con: duckdb.DuckDBPyConnection, psn_no: str) -> dict[str, Any]:
    """The person's visits: from the ``person_visits`` mart if it has the person, else
    from the lake."""
    mart = view.mart("person_visits")
    if mart is not None:
        sql = f"SELECT * FROM read_parquet({literal(str(mart))}) WHERE psn_no = ?"
        cur = con.execute(sql, [psn_no])
        names = [c[0] for c in cur.description or []]
        found = cur.fetchall()
        if found:
            return dict(zip(names, found[0], strict=True))
        lake = view.lake_cursor()  # no valid settlement in the mart: the lake says why
        try:
            return _person_from(lake, psn_no)
        finally:
            lake.close()
    return _person_from(con, psn_no)


def _person_from(con: duckdb.DuckDBPyConnection, psn_no: str) -> dict[str, Any]:
    cur = con.execute(visits_sql(), [psn_no])
    names = [c[0] for c in cur.description or []]
    return {"psn_no": psn_no, **dict(zip(names, cur.fetchall()[0], strict=True))}


def ranking(view: RunView, level: str, lang: str) -> pl.DataFrame:
    """The run's risk ranking of ``level`` (its mart, else computed once per run and
    language: it reads every line of the run)."""
    return view.memo(
        f"ranking:{level}:{lang}",
        lambda: view.from_mart(
            f"ranking_{level}_{lang}", lambda: risk_ranking(view.files_run, view.lake, level, lang)
        ),
    )


def _institution(view: RunView, code: str, lang: str) -> dict[str, Any]:
    """Its leads in this run and its place in the run's risk ranking (computed once per run
    and language: it reads every line of the run)."""
    ranked_all = ranking(view, "institution", lang)
    n, amount = totals(view, LeadFilter(fixmedins_codes=(code,)))
    known = view.institutions.filter(pl.col("fixmedins_code") == code).to_dicts()
    ranked = ranked_all.filter(pl.col("fixmedins_code") == code).to_dicts()
    place = ranked[0] if ranked else {}
    return {
        "fixmedins_code": code,
        "fixmedins_name": known[0]["fixmedins_name"] if known else None,
        "zone": known[0]["zone"] if known else None,
        "zone_name": known[0]["zone_name"] if known else None,
        "n_findings": int(n),
        "amount_at_risk": float(amount),
        "rank": place.get("rank"),
        "n_ranked": ranked_all.height,
        "risk_score": place.get("risk_score"),
        "reasons": place.get("reasons"),
    }


def lead_detail(
    view: RunView,
    finding_id: str,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> LeadDetail:
    """The panel's content for one lead of ``view``'s run; :class:`LookupError` if the run
    has no such lead."""
    finding = _finding(view, finding_id)
    rule, params = _rule(view, finding, lang)
    psn_no, code = finding["psn_no"], finding["fixmedins_code"]
    own = LeadFilter(finding_ids=(finding_id,))
    theirs = LeadFilter(psn_no=psn_no) if psn_no else LeadFilter(finding_ids=())
    mine, by_person, by_institution = lead_frames(
        view,
        [
            (own, None),
            (theirs, CONTEXT_LEADS + 1),
            (LeadFilter(fixmedins_codes=(code,)), CONTEXT_LEADS + 1),
        ],
        case_store,
        lang=lang,
    )
    row = mine.to_dicts()[0]
    for key in ("entity_type", "entity_id", "setl_id", "mdtrt_id", "feedetl_sn", "score"):
        row[key] = finding[key]
    row["n_lines"], row["n_violating"] = finding["n_lines"], finding["n_violating"]

    def others(leads: pl.DataFrame) -> pl.DataFrame:
        return leads.filter(pl.col("finding_id") != finding_id).head(CONTEXT_LEADS)

    # with the marts, no lake views are needed (setting them up costs tens of ms)
    marts = view.mart("lead_lines") is not None and view.mart("person_visits") is not None
    con = view.cursor() if marts else view.lake_cursor()
    try:
        lines = _lines(view, con, finding_id)
        person = _person(view, con, psn_no) if psn_no else None
    finally:
        con.close()
    if person is not None:
        person["n_findings"] = count(view, LeadFilter(psn_no=psn_no))
    history = (
        case_store.history(finding_id)
        if case_store is not None
        else pl.DataFrame(schema=DECISION_SCHEMA)
    )
    return LeadDetail(
        lead=row,
        rule=rule,
        params=params,
        evidence_zh=finding["evidence"],
        evidence_en=finding["evidence_en"],
        lines=lines,
        person=person,
        person_leads=others(by_person),
        institution=_institution(view, code, lang),
        institution_leads=others(by_institution),
        history=history,
    )
