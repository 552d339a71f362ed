"""A run's findings kept apart and grouped: data-quality findings split off as a report of
their own, the leads grouped into cases an audit team works through (issue 16).

Data-quality findings (rules of the catalogue family ``data_quality``: a missing
diagnosis, an unknown department code) say how an institution fills in its claims, not
that it claimed what it should not; they never enter the lead queue, the amount at risk or
the rankings (:func:`split`).

A *case* is what an auditor opens, not one rule hit (:func:`group`):

- a **person's** pattern: every lead on a person (``entity_type`` person) and every lead of
  a rule tagged ``person_conduct`` (claims after death, overlapping supply …) — one case
  per ``psn_no``, whatever the institution;
- a **doctor's** pattern: the doctor-level leads of one doctor code within its institution;
- an **employer's** month: the employer-level leads of the ``enrolment`` family (an
  employer's filings, headcount, bases), one case per employer (the lead's entity,
  ``emp_no`` or ``emp_no|…``) × rule family × month of ``period_start``, named by the
  employer where a case names its institution (``fixmedins_name``; the register's name,
  else the number: never empty);
- everything else (fee lines, settlements, institution indicators): one case per
  institution × rule family × month of ``period_start``.

A person's enrolment leads (a base below the floor, at two employers, after death …) are a
person's case of their own (family ``enrolment``), apart from the case of the same person's
claims, whose id and amounts they leave as they are; with no institution it is named by
the employer of its largest lead.

A case's ``amount_at_risk`` is the sum over its *distinct* claim lines (a fee line keyed by
``fixmedins_code, mdtrt_id, feedetl_sn``; a settlement row, whose ``feedetl_sn`` is null,
by ``fixmedins_code, setl_id``) of the largest amount any of its findings puts on the line,
so a line two rules flag counts once. An ``enrolment`` line without claim keys is a month's
contribution: keyed by its person and month (``psn_no``, month of ``line_time``), so a case
sums the contribution at stake of its distinct months, a month two checks flag counted
once at the larger. ``expected_recovery`` is the same sum with each
line's amount weighted by its finding's chance of being confirmed: the severity's weight
(:data:`SEVERITY_WEIGHT`) or, when the review model is on, its calibrated probability.
Cases rank by expected recovery, then amount, then id; ``case_rank`` 1 is the case to open
first. ``case_id`` is a digest of the grouping key, so a case keeps its id from one nightly
run to the next and an auditor's notes keep their meaning.

Everything is a polars expression over the whole run; Python touches only the distinct
grouping keys (to digest them), never the findings one by one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import NamedTuple

import polars as pl

from hrss_fraud.engine.catalogue import FAMILIES, Rule
from hrss_fraud.model.numbers import money_expr

DATA_QUALITY = "data_quality"
"""The catalogue family whose findings are the data-quality report, not leads."""
PERSON_CONDUCT = "person_conduct"
"""The catalogue tag of rules whose settlement-level leads are the patient's doing."""
SEVERITY_WEIGHT = {"definite": 1.0, "high": 0.7, "suspicious": 0.4}
"""A lead's chance of being confirmed by its severity, while the review model is off."""
ENROLMENT = "enrolment"
"""The catalogue family of the employers' enrolment and contribution checks."""
CASE_KINDS = ("institution_month", "person", "doctor", "employer_month")
CASE_COLUMNS_OF_FINDINGS = ("case_id", "case_rank")
"""What :func:`group` adds to each lead (DESIGN.md, "Interfaces")."""

CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.String(),
    "case_rank": pl.Int64(),
    "case_kind": pl.String(),
    "fixmedins_code": pl.String(),
    "fixmedins_name": pl.String(),
    "psn_no": pl.String(),
    "doctor": pl.String(),
    "family": pl.String(),
    "month": pl.String(),
    "rule_ids": pl.List(pl.String()),
    "n_findings": pl.Int64(),
    "n_lines": pl.Int64(),
    "amount_at_risk": pl.Float64(),
    "expected_recovery": pl.Float64(),
    "severity": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "title_zh": pl.String(),
    "title_en": pl.String(),
    "evidence_zh": pl.String(),
    "evidence_en": pl.String(),
}
"""One row per case, in rank order."""

FINDING_INPUT = (
    "finding_id",
    "rule_id",
    "rule_name",
    "rule_name_en",
    "severity",
    "entity_type",
    "entity_id",
    "fixmedins_code",
    "psn_no",
    "period_start",
    "period_end",
    "amount_at_risk",
)
"""The finding columns grouping reads."""
LINE_INPUT = ("finding_id", "fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn", "amount_at_risk")
"""The line columns grouping reads."""
LINE_MONTH_INPUT: dict[str, pl.DataType] = {"psn_no": pl.String(), "line_time": pl.Datetime("us")}
"""The line columns that key an ``enrolment`` line (null where a hand-made frame lacks them)."""
TOP_RULES = 3
"""Rules a case's evidence names; more are counted, not named."""


class Split(NamedTuple):
    """A run's findings and lines, leads apart from data-quality findings."""

    leads: pl.DataFrame
    lead_lines: pl.DataFrame
    quality: pl.DataFrame
    quality_lines: pl.DataFrame


def quality_rule_ids(rules: Mapping[str, Rule]) -> list[str]:
    """The rules whose findings are data quality, not leads."""
    return sorted(r.id for r in rules.values() if r.family == DATA_QUALITY)


def person_rule_ids(rules: Mapping[str, Rule]) -> list[str]:
    """The rules tagged ``person_conduct``: their leads are the person's case."""
    return sorted(r.id for r in rules.values() if PERSON_CONDUCT in r.tags)


def split(findings: pl.DataFrame, lines: pl.DataFrame, rules: Mapping[str, Rule]) -> Split:
    """The leads and their lines apart from the data-quality findings and theirs."""
    is_quality = pl.col("rule_id").is_in(quality_rule_ids(rules))
    quality = findings.filter(is_quality)
    ids = quality.select("finding_id")
    return Split(
        findings.filter(~is_quality),
        lines.join(ids, on="finding_id", how="anti"),
        quality,
        lines.join(ids, on="finding_id", how="semi"),
    )


def case_ids(keys: pl.Series) -> pl.Series:
    """``C`` and the first 16 hex digits of each grouping key's SHA-1: the same key gives
    the same id in every run (64 bits: no collision among a county's cases)."""
    return pl.Series(
        keys.name,
        ["C" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:16] for k in keys.to_list()],
        dtype=pl.String,
    )


def severity_weight() -> pl.Expr:
    """Each finding's chance of confirmation by its severity (unknown: the lowest)."""
    low = min(SEVERITY_WEIGHT.values())
    return pl.col("severity").replace_strict(SEVERITY_WEIGHT, default=low, return_dtype=pl.Float64)


def _assign(findings: pl.DataFrame, rules: Mapping[str, Rule]) -> pl.DataFrame:
    """Each finding's case: its kind, the fields that name the case, and its key."""
    families = {rid: r.family for rid, r in rules.items()}
    enrol = pl.col("rule_id").is_in([r for r, fam in families.items() if fam == ENROLMENT])
    employer = (pl.col("entity_type") == "employer") & pl.col("entity_id").is_not_null()
    person = (
        (pl.col("entity_type") == "person") | pl.col("rule_id").is_in(person_rule_ids(rules))
    ) & pl.col("psn_no").is_not_null()
    doctor = (pl.col("entity_type") == "doctor") & pl.col("entity_id").is_not_null()
    kind = (
        pl.when(employer)
        .then(pl.lit("employer_month"))
        .when(person)
        .then(pl.lit("person"))
        .when(doctor)
        .then(pl.lit("doctor"))
        .otherwise(pl.lit("institution_month"))
    )
    inst = pl.col("fixmedins_code").fill_null("")
    is_month = pl.col("case_kind").is_in(["institution_month", "employer_month"])
    # an enrolment lead names its employer first in its entity (``E…``, ``E…|psn_no``)
    named_employer = enrol & (employer | pl.col("entity_id").str.contains("|", literal=True))
    f = findings.select(FINDING_INPUT).with_columns(case_kind=kind, enrol=enrol)
    f = f.with_columns(
        family=pl.when(is_month | pl.col("enrol")).then(
            pl.col("rule_id").replace_strict(families, default="", return_dtype=pl.String)
        ),
        month=pl.when(is_month).then(pl.col("period_start").dt.strftime("%Y-%m")),
        emp_no=pl.when(named_employer).then(pl.col("entity_id").str.split("|").list.first()),
        # a doctor's natural key is ``fixmedins_code|dr_codg``: the case names the code
        doctor=pl.when(pl.col("case_kind") == "doctor").then(
            pl.col("entity_id").str.strip_prefix(pl.concat_str(inst, pl.lit("|")))
        ),
    )
    key = (
        pl.when((pl.col("case_kind") == "person") & pl.col("enrol"))
        .then(pl.concat_str(pl.lit("person"), pl.col("psn_no"), pl.lit(ENROLMENT), separator="|"))
        .when(pl.col("case_kind") == "person")
        .then(pl.concat_str(pl.lit("person"), pl.col("psn_no"), separator="|"))
        .when(pl.col("case_kind") == "doctor")
        .then(pl.concat_str(pl.lit("doctor"), inst, pl.col("doctor"), separator="|"))
        .when(pl.col("case_kind") == "employer_month")
        .then(
            pl.concat_str(
                pl.lit("employer_month"),
                pl.col("emp_no"),
                pl.col("family"),
                pl.col("month").fill_null(""),
                separator="|",
            )
        )
        .otherwise(
            pl.concat_str(
                pl.lit("institution_month"),
                inst,
                pl.col("family"),
                pl.col("month").fill_null(""),
                separator="|",
            )
        )
    )
    f = f.with_columns(case_key=key)
    ids = f.select(pl.col("case_key").unique())
    ids = ids.with_columns(case_id=case_ids(ids["case_key"]))
    return f.join(ids, on="case_key", how="left").drop("case_key")


def _line_totals(assigned: pl.DataFrame, lines: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per case its distinct lines, amount at risk and expected recovery (each line at its
    largest amount, and largest weighted amount, over the case's findings)."""
    fee_line = pl.col("feedetl_sn").is_not_null()
    contribution = pl.col("enrol") & pl.all_horizontal(
        pl.col(c).is_null() for c in ("fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn")
    )
    present = lines.collect_schema().names()  # a frame, or a scan of a run's line partitions
    month_columns = [
        pl.col(c) if c in present else pl.lit(None, dtype=t).alias(c)
        for c, t in LINE_MONTH_INPUT.items()
    ]
    per_line = (
        lines.lazy()
        .select(*LINE_INPUT, *month_columns)
        .join(assigned.lazy().select("finding_id", "case_id", "weight", "enrol"), on="finding_id")
        .group_by(
            "case_id",
            "fixmedins_code",
            pl.when(fee_line).then(pl.col("mdtrt_id")).alias("mdtrt_key"),
            "feedetl_sn",
            pl.when(~fee_line).then(pl.col("setl_id")).alias("setl_key"),
            # an enrolment line is a person's month of contribution (null for claims)
            pl.when(contribution).then(pl.col("psn_no")).alias("psn_key"),
            pl.when(contribution).then(pl.col("line_time").dt.strftime("%Y-%m")).alias("ym_key"),
        )
        .agg(
            amount=_exact(pl.col("amount_at_risk").max()),
            expected=_exact((pl.col("amount_at_risk") * pl.col("weight")).max()),
        )
    )
    return (
        per_line.group_by("case_id")
        .agg(
            n_lines=pl.len().cast(pl.Int64),
            amount_at_risk=_yuan(pl.col("amount").sum()),
            expected_recovery=_yuan(pl.col("expected").sum()),
        )
        .collect()
    )


_UNITS = 10_000
"""Sums are taken in ten-thousandths of a yuan, as integers: exact in any order, so a case's
figures do not change with the order threads add its lines in."""


def _exact(yuan: pl.Expr) -> pl.Expr:
    return (yuan * _UNITS).round().cast(pl.Int64)


def _yuan(units: pl.Expr) -> pl.Expr:
    return (units / _UNITS).round(2)


def money(column: str) -> pl.Expr:
    """``column`` (yuan, null as 0) as ``¥12,345.60`` (:func:`hrss_fraud.model.numbers.money`)."""
    return money_expr(pl.col(column).fill_null(0.0))


def _evidence(assigned: pl.DataFrame) -> pl.DataFrame:
    """Per case, its rules with their counts and amounts, largest first, in both
    languages: ``rules_zh``, ``rules_en`` (the first :data:`TOP_RULES`, then how many
    more)."""
    per_rule = (
        assigned.group_by("case_id", "rule_id")
        .agg(
            pl.col("rule_name").first(),
            pl.col("rule_name_en").first(),
            n=pl.len(),
            amount=_yuan(_exact(pl.col("amount_at_risk")).sum()),
        )
        .sort(["case_id", "amount", "n", "rule_id"], descending=[False, True, True, False])
    )
    zh = pl.format(
        "{}（{}条，{}）", pl.col("rule_name").fill_null(pl.col("rule_id")), "n", money("amount")
    )
    en = pl.format(
        "{} ({} findings, {})",
        pl.col("rule_name_en").fill_null(pl.col("rule_id")),
        "n",
        money("amount"),
    )
    # formatted once over all rows: formatting inside the aggregation ran once per case
    per_rule = per_rule.with_columns(zh=zh, en=en)
    out = per_rule.group_by("case_id", maintain_order=True).agg(
        rules_zh=pl.col("zh").head(TOP_RULES).str.join("；"),
        rules_en=pl.col("en").head(TOP_RULES).str.join("; "),
        n_rules=pl.len().cast(pl.Int64),
    )
    more = pl.col("n_rules") - TOP_RULES
    return out.with_columns(
        rules_zh=pl.when(more > 0)
        .then(pl.format("{}；另{}条规则", "rules_zh", more))
        .otherwise("rules_zh"),
        rules_en=pl.when(more > 0)
        .then(pl.format("{}; {} more rules", "rules_en", more))
        .otherwise("rules_en"),
    ).drop("n_rules")


def _titles(cases: pl.DataFrame) -> pl.DataFrame:
    """``title_zh/en`` (what the case is about) and ``evidence_zh/en`` (one line: counts,
    amounts, the rules)."""
    inst = pl.col("fixmedins_name").fill_null(pl.col("fixmedins_code")).fill_null("")
    fam_zh = pl.col("family").replace_strict(
        {k: v[0] for k, v in FAMILIES.items()}, default=pl.col("family"), return_dtype=pl.String
    )
    fam_en = pl.col("family").replace_strict(
        {k: v[1] for k, v in FAMILIES.items()}, default=pl.col("family"), return_dtype=pl.String
    )
    month = pl.col("month").fill_null("")
    kind = pl.col("case_kind")
    enrolment_person = (kind == "person") & (pl.col("family") == ENROLMENT)
    title_zh = (
        pl.when(enrolment_person)
        .then(pl.format("参保人 {} 的参保缴费", "psn_no"))
        .when(kind == "person")
        .then(pl.format("参保人 {} 的就医行为", "psn_no"))
        .when(kind == "doctor")
        .then(pl.format("医师 {}（{}）", "doctor", inst))
        .otherwise(pl.format("{} · {} · {}", inst, fam_zh, month))
    )
    title_en = (
        pl.when(enrolment_person)
        .then(pl.format("Insured person {}: enrolment and contributions", "psn_no"))
        .when(kind == "person")
        .then(pl.format("Insured person {}: pattern of claims", "psn_no"))
        .when(kind == "doctor")
        .then(pl.format("Doctor {} ({})", "doctor", inst))
        .otherwise(pl.format("{} · {} · {}", inst, fam_en, month))
    )
    evidence_zh = pl.format(
        "{}条疑点、{}条明细，疑点金额{}，预计追回{}：{}",
        "n_findings",
        "n_lines",
        money("amount_at_risk"),
        money("expected_recovery"),
        "rules_zh",
    )
    evidence_en = pl.format(
        "{} findings on {} lines, {} at risk, {} expected recovery: {}",
        "n_findings",
        "n_lines",
        money("amount_at_risk"),
        money("expected_recovery"),
        "rules_en",
    )
    return cases.with_columns(
        title_zh=title_zh, title_en=title_en, evidence_zh=evidence_zh, evidence_en=evidence_en
    )


def group(
    findings: pl.DataFrame,
    lines: pl.DataFrame | pl.LazyFrame,
    rules: Mapping[str, Rule],
    *,
    weights: pl.DataFrame | None = None,
    names: pl.DataFrame | None = None,
    employers: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The leads with their ``case_id`` and ``case_rank``, and the cases (:data:`CASE_SCHEMA`,
    rank order).

    ``findings`` and ``lines`` are leads (:func:`split` first); ``weights``
    (``finding_id, p_confirmed``: the review model's, when it is on) replace the severity
    weights of the findings they name; ``names`` (``fixmedins_code, fixmedins_name``) name
    the institutions, ``employers`` (``emp_no, emp_name``) the employers of the enrolment
    cases without one."""
    findings = findings.drop(CASE_COLUMNS_OF_FINDINGS, strict=False)
    assigned = _assign(findings, rules).with_columns(weight=severity_weight())
    if weights is not None:
        p = weights.select("finding_id", pl.col("p_confirmed").cast(pl.Float64))
        assigned = assigned.join(p, on="finding_id", how="left").with_columns(
            weight=pl.col("p_confirmed").fill_null(pl.col("weight"))
        )
    top = ["amount_at_risk", "finding_id"]
    cases = assigned.group_by("case_id").agg(
        pl.col("case_kind").first(),
        # a person's case may span institutions: it is filed under the one of its largest lead
        pl.col("fixmedins_code").sort_by(top, descending=[True, False]).first(),
        pl.col("psn_no").filter(pl.col("case_kind") == "person").first(),
        pl.col("doctor").first(),
        pl.col("emp_no").sort_by(top, descending=[True, False]).drop_nulls().first(),
        pl.col("family").first(),
        pl.col("month").first(),
        rule_ids=pl.col("rule_id").unique().sort(),
        n_findings=pl.len().cast(pl.Int64),
        top_weight=pl.col("severity")
        .replace_strict(SEVERITY_WEIGHT, default=0.0, return_dtype=pl.Float64)
        .max(),
        period_start=pl.col("period_start").min().cast(pl.Date),
        period_end=pl.col("period_end").max().cast(pl.Date),
    )
    by_weight = {w: s for s, w in SEVERITY_WEIGHT.items()}
    cases = cases.with_columns(
        severity=pl.col("top_weight").replace_strict(
            by_weight, default=None, return_dtype=pl.String
        )
    ).drop("top_weight")
    cases = cases.join(_line_totals(assigned, lines), on="case_id", how="left").with_columns(
        pl.col("n_lines").fill_null(0),
        pl.col("amount_at_risk").fill_null(0.0),
        pl.col("expected_recovery").fill_null(0.0),
    )
    if names is not None:
        names = names.select("fixmedins_code", pl.col("fixmedins_name").cast(pl.String))
        cases = cases.join(names.unique("fixmedins_code"), on="fixmedins_code", how="left")
    else:
        cases = cases.with_columns(fixmedins_name=pl.lit(None, dtype=pl.String))
    cases = _name_employers(cases, employers)
    cases = (
        cases.sort(
            ["expected_recovery", "amount_at_risk", "case_id"], descending=[True, True, False]
        )
        .with_row_index("case_rank", offset=1)
        .with_columns(pl.col("case_rank").cast(pl.Int64))
    )
    cases = _titles(cases.join(_evidence(assigned), on="case_id", how="left"))
    cases = cases.select(list(CASE_SCHEMA)).cast(CASE_SCHEMA).sort("case_rank")
    membership = assigned.select("finding_id", "case_id").join(
        cases.select("case_id", "case_rank"), on="case_id"
    )
    return findings.join(membership, on="finding_id", how="left"), cases


def _name_employers(cases: pl.DataFrame, employers: pl.DataFrame | None) -> pl.DataFrame:
    """A case with no institution but an employer named by the employer (its register name,
    else its number), where a case names its institution."""
    if employers is not None:
        names = employers.select(
            pl.col("emp_no").cast(pl.String), pl.col("emp_name").cast(pl.String)
        )
        cases = cases.join(names.unique("emp_no"), on="emp_no", how="left")
    else:
        cases = cases.with_columns(emp_name=pl.lit(None, dtype=pl.String))
    by_employer = pl.col("fixmedins_code").is_null() & pl.col("emp_no").is_not_null()
    return cases.with_columns(
        fixmedins_name=pl.when(by_employer)
        .then(pl.coalesce("emp_name", "emp_no"))
        .otherwise("fixmedins_name")
    ).drop("emp_name")


def empty_cases() -> pl.DataFrame:
    """No cases, in :data:`CASE_SCHEMA`."""
    return pl.DataFrame(schema=CASE_SCHEMA)
