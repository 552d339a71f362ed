"""One risk ranking of institutions, doctors or persons from a run's findings: whom an
inspection round visits (``hrss-fraud export inspection-list``), which doctors to talk
to, which insured persons to call in (``hrss-fraud export risk-ranking``).

An entity's risk score is the share of its in-scope spending (``inscp_amt`` of its valid
claims in the lake) that the findings put at risk, each finding weighted by its severity
(definite 1, high 0.7, suspicious 0.4) and each claim line counted once however many
findings flag it: a small clinic billing ¥50,000 of suspect lines out of ¥100,000 ranks
above a county hospital with ¥200,000 out of ¥20 million. Rule hits and detector leads
count alike, since both are findings with lines. Once reviewers have decided enough leads
for the review model to be on (:mod:`hrss_fraud.cases.reviews`), each finding weighs its
calibrated chance of being confirmed instead of the severity's fixed weight.

Lines are attributed to the entity they belong to, not to the finding's headline entity:
to the institution that billed them, to the doctor who billed them (``bilg_dr_codg``; a
settlement-level line to the settlement's ``chfpdr_code``) and to the person they were
billed for. Doctors answer only for line- and settlement-level leads and their own
doctor-level leads; persons only for person-level leads and the rules tagged
``person_conduct`` in the catalogue (claims after death, overlapping supply, claims
during a stay) — an upcoded bed day is not the patient's doing. For doctors and persons
the spending is floored at the median of their kind, so a patient with one ¥10 claim
flagged in full does not top the list. The reasons are the rules and detectors that weigh
most, with their counts and amounts; every figure is a sum over the claim lines behind
the findings. The findings are the run's leads: data-quality findings are a report of
their own (:mod:`hrss_fraud.outputs.quality`) and weigh on no ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from hrss_fraud.cases.reviews import ReviewModelStatus, lead_weights
from hrss_fraud.engine.grouping import person_rule_ids, severity_weight
from hrss_fraud.engine.runs import Run
from hrss_fraud.lake import Lake
from hrss_fraud.model.numbers import money_expr

COLUMNS = (
    "rank",
    "fixmedins_code",
    "fixmedins_name",
    "risk_score",
    "amount_at_risk",
    "n_findings",
    "reasons",
)
"""DESIGN.md's inspection-list interface, in its order."""

_LINE = ("fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn")
LINE_COLUMNS = ("finding_id", *_LINE, "psn_no", "amount_at_risk")
"""What a ranking reads of the run's lines (plus ``doctor`` for the doctor ranking)."""


@dataclass(frozen=True)
class Level:
    """How one kind of entity is ranked."""

    key: str
    name: str
    finding_entities: tuple[str, ...] | None
    """Finding entity types that count against it (None: all); see the module doc."""
    person_conduct: bool
    """Also count the rules tagged ``person_conduct`` in the catalogue."""
    floor_spending: bool
    spending_sql: str


LEVELS: dict[str, Level] = {
    "institution": Level(
        "fixmedins_code",
        "fixmedins_name",
        None,
        False,
        False,
        """SELECT s.fixmedins_code, max(i.fixmedins_name) AS fixmedins_name,
                  sum(CAST(s.inscp_amt AS DOUBLE)) AS inscp, count(*) AS n_settlements
           FROM settlement s LEFT JOIN institution i USING (fixmedins_code)
           WHERE coalesce(s.vali_flag, '1') = '1' AND coalesce(s.refd_setl_flag, '0') = '0'
           GROUP BY s.fixmedins_code""",
    ),
    "doctor": Level(
        "bilg_dr_codg",
        "dr_name",
        ("fee_line", "settlement", "doctor"),
        False,
        True,
        """SELECT f.bilg_dr_codg, max(p.dr_name) AS dr_name,
                  max(f.fixmedins_code) AS fixmedins_code,
                  sum(CAST(f.inscp_amt AS DOUBLE)) AS inscp,
                  count(DISTINCT f.setl_id) AS n_settlements
           FROM fee_detail f
           LEFT JOIN (SELECT dr_codg, max(dr_name) AS dr_name FROM practitioner GROUP BY 1) p
                  ON p.dr_codg = f.bilg_dr_codg
           WHERE f.bilg_dr_codg IS NOT NULL AND coalesce(f.vali_flag, '1') = '1'
           GROUP BY f.bilg_dr_codg""",
    ),
    "person": Level(
        "psn_no",
        "psn_name",
        ("person",),
        True,
        True,
        """SELECT s.psn_no, max(p.psn_name) AS psn_name,
                  sum(CAST(s.inscp_amt AS DOUBLE)) AS inscp, count(*) AS n_settlements
           FROM settlement s
           LEFT JOIN (SELECT psn_no, max(psn_name) AS psn_name FROM person GROUP BY 1) p
                  USING (psn_no)
           WHERE coalesce(s.vali_flag, '1') = '1' AND coalesce(s.refd_setl_flag, '0') = '0'
           GROUP BY s.psn_no""",
    ),
}


FINDING_COLUMNS = (
    "finding_id",
    "rule_id",
    "rule_name",
    "rule_name_en",
    "entity_type",
    "entity_id",
    "severity",
)
"""What a ranking reads of the run's findings."""


def _counted_findings(
    run: Run, level: Level, weights: pl.DataFrame | None, findings: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The findings (``findings``, else the run's) that count against this kind of
    entity, with their weight."""
    f = run.findings().select(*FINDING_COLUMNS) if findings is None else findings
    if level.finding_entities is not None:
        keep = pl.col("entity_type").is_in(list(level.finding_entities))
        if level.person_conduct:
            keep = keep | pl.col("rule_id").is_in(person_rule_ids(run.catalogue().rules))
        f = f.filter(keep)
    f = f.with_columns(weight=severity_weight())
    if weights is not None:
        f = f.join(weights.select("finding_id", "p_confirmed"), on="finding_id", how="left")
        f = f.with_columns(weight=pl.col("p_confirmed").fill_null(pl.col("weight")))
    return f.select("finding_id", "rule_id", "rule_name", "rule_name_en", "entity_id", "weight")


def _attributed_lines(
    run: Run,
    con: duckdb.DuckDBPyConnection,
    level: Level,
    findings: pl.DataFrame,
    lines: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The counted findings' lines, each with the entity it belongs to in ``key``
    (``lines``: the run's lines with each line's ``doctor`` already looked up; else read
    here, and the doctors looked up in the lake)."""
    if lines is not None:
        lines = lines.join(findings, on="finding_id", how="inner")
    else:
        lines = run.lines().select(*LINE_COLUMNS).join(findings, on="finding_id", how="inner")
        if level.key == "bilg_dr_codg":
            doctors = _line_doctors(con, lines).unique(list(_LINE))
            lines = lines.join(doctors, on=list(_LINE), how="left", nulls_equal=True)
    if level.key != "bilg_dr_codg":
        return lines.with_columns(key=pl.col(level.key))
    # a doctor-level lead's settlement rows belong to the doctor it names
    own = pl.col("rule_id").is_in(
        [r.id for r in run.catalogue().rules.values() if r.entity == "doctor"]
    )
    return lines.with_columns(
        key=pl.when(own & pl.col("entity_id").is_not_null())
        .then(pl.col("entity_id"))
        .otherwise(pl.col("doctor"))
    )


def _line_doctors(con: duckdb.DuckDBPyConnection, lines: pl.DataFrame) -> pl.DataFrame:
    """``_LINE`` and ``doctor``: the billing doctor of each fee line, the attending doctor
    of each settlement row, from the lake."""
    con.register("ranked_lines", lines.select(*_LINE).unique())
    doctors = con.sql("""
        SELECT r.fixmedins_code, r.setl_id, r.mdtrt_id, r.feedetl_sn,
               coalesce(f.bilg_dr_codg, s.chfpdr_code) AS doctor
        FROM ranked_lines r
        LEFT JOIN fee_detail f ON r.feedetl_sn IS NOT NULL
             AND f.fixmedins_code = r.fixmedins_code AND f.mdtrt_id = r.mdtrt_id
             AND f.feedetl_sn = r.feedetl_sn
        LEFT JOIN settlement s ON r.feedetl_sn IS NULL
             AND s.fixmedins_code = r.fixmedins_code AND s.setl_id = r.setl_id
    """).pl()
    con.unregister("ranked_lines")
    return doctors


def _reasons(lines: pl.DataFrame, lang: str) -> pl.DataFrame:
    name = "rule_name_en" if lang == "en" else "rule_name"
    per_rule = (
        lines.group_by("key", "rule_id", pl.col(name).alias("name"))
        .agg(
            n=pl.col("finding_id").n_unique(),
            amount=pl.col("amount_at_risk").sum(),
            weighted=(pl.col("amount_at_risk") * pl.col("weight")).sum(),
        )
        .sort(["weighted", "n", "rule_id"], descending=[True, True, False])
    )
    money = money_expr("amount")
    if lang == "en":
        reason, sep = pl.format("{} ({} findings, {})", "name", "n", money), "; "
    else:
        reason, sep = pl.format("{}（{}条，{}）", "name", "n", money), "；"
    # formatted once over every (entity, rule) row: inside the aggregation it ran per entity
    per_rule = per_rule.with_columns(reason=reason)
    return per_rule.group_by("key", maintain_order=True).agg(
        reasons=pl.col("reason").head(3).str.join(sep)
    )


def _amounts(lines: pl.DataFrame) -> pl.DataFrame:
    """Per entity, each claim line counted once: a line that several findings flag counts
    at its largest (weighted) amount. Null keys group together (a settlement row has no
    ``feedetl_sn``)."""
    per_line = lines.group_by("key", *_LINE).agg(
        amount=pl.col("amount_at_risk").max(),
        weighted=(pl.col("amount_at_risk") * pl.col("weight")).max(),
    )
    return per_line.group_by("key").agg(
        amount_at_risk=pl.col("amount").sum().round(2),
        weighted_at_risk=pl.col("weighted").sum(),
    )


def risk_ranking(
    run: Run,
    lake: Lake,
    level: str = "institution",
    lang: str = "zh",
    weights: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every ``level`` entity with claims in the lake, riskiest first: ``rank``, its key
    and name, ``risk_score``, ``amount_at_risk``, ``n_findings``, ``reasons``, and what the
    score is made of (``inscp``, ``weighted_at_risk``, ``n_settlements``). ``weights``
    (``finding_id``, ``p_confirmed``, from :func:`review_weights`) replace the severity
    weights of the findings they name."""
    return risk_rankings(run, lake, level, (lang,), weights)[lang]


def risk_rankings(
    run: Run,
    lake: Lake,
    level: str,
    langs: tuple[str, ...] = ("zh", "en"),
    weights: pl.DataFrame | None = None,
    lines: pl.DataFrame | None = None,
    findings: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """:func:`risk_ranking` in each of ``langs``, from one read of the run's lines (only
    the reasons' wording differs between languages). ``lines`` are the run's lines
    (:data:`LINE_COLUMNS` and each line's ``doctor``) when the caller has them already:
    the dashboard marts read them once for the three rankings, off the ``lead_lines``
    mart that has joined every line with the lake; ``findings`` likewise the run's
    findings' :data:`FINDING_COLUMNS`."""
    if level not in LEVELS:
        msg = f"unknown ranking level {level!r}; expected one of {', '.join(LEVELS)}"
        raise ValueError(msg)
    lv = LEVELS[level]
    con = lake.connect()
    counted = _counted_findings(run, lv, weights, findings)
    lines = _attributed_lines(run, con, lv, counted, lines)
    lines = lines.filter(pl.col("key").is_not_null())
    per = (
        lines.group_by("key")
        .agg(n_findings=pl.col("finding_id").n_unique())
        .join(_amounts(lines), on="key", how="left")
    )
    for lang in langs:
        per = per.join(
            _reasons(lines, lang).rename({"reasons": f"reasons_{lang}"}), on="key", how="left"
        )
    per = per.rename({"key": lv.key})
    del lines
    spending = con.sql(lv.spending_sql).pl()
    floor = spending["inscp"].median() if lv.floor_spending and spending.height else 0.0
    ranked = (
        spending.join(per, on=lv.key, how="left")
        .with_columns(
            pl.col("n_findings").fill_null(0),
            pl.col("amount_at_risk").fill_null(0.0),
            pl.col("weighted_at_risk").fill_null(0.0),
            base=pl.max_horizontal(pl.col("inscp").fill_null(0.0), pl.lit(floor or 0.0)),
        )
        .with_columns(
            risk_score=pl.when(pl.col("base") > 0)
            .then(pl.col("weighted_at_risk") / pl.col("base"))
            .otherwise(0.0)
            .round(4)
        )
        .sort(["risk_score", "amount_at_risk", lv.key], descending=[True, True, False])
        .with_row_index("rank", offset=1)
    )
    head = (lv.key, lv.name, "fixmedins_code") if level == "doctor" else (lv.key, lv.name)
    tail = ("risk_score", "amount_at_risk", "n_findings")
    out = {}
    for lang in langs:
        none = "no findings" if lang == "en" else "无疑点"
        reasons = pl.col(f"reasons_{lang}").fill_null(none).alias("reasons")
        out[lang] = ranked.select(
            "rank", *head, *tail, reasons, "inscp", "weighted_at_risk", "n_settlements"
        )
    return out


def review_weights(run: Run, workspace: Path) -> tuple[pl.DataFrame | None, ReviewModelStatus]:
    """The review model's chance of confirmation per finding of ``run``, or None and the
    reason when the model is off (too few decisions, stale, none trained)."""
    return lead_weights(run.findings(), workspace)


def institution_ranking(
    run: Run, lake: Lake, lang: str = "zh", weights: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Every institution with claims in the lake, riskiest first, in :data:`COLUMNS` (plus
    ``inscp``, ``weighted_at_risk`` and ``n_settlements`` that the score is made of)."""
    return risk_ranking(run, lake, "institution", lang, weights)
