"""Judge a scoring run against a generated county's truth (DOMAIN.md §7).

Truth stays apart from the detectors: only this module reads ``truth/``. A finding is
*true* when one of its violating lines is an injected line, or (for a settlement-,
person- or doctor-level finding) when its settlement, person or doctor is an injected
entity, or when an injected line is among its involved lines (the other side of the
conflict the finding shows: a refill flagged as early because a card-swiped purchase came
before it leads the auditor to that purchase). Data-quality rules are judged against the
injected noise (missing diagnoses, late uploads) as well. Monitoring indicators (the ZB
class) are judged at institution level only, apart from the rest. Recall is per scheme:
the share of a scheme's injected entities that some finding's violating lines reach.

    python -m hrss_fraud.evaluation.judge --workspace WS --truth COUNTY/truth [--rules a,b]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sklearn.metrics import roc_auc_score

from hrss_fraud.engine.runs import Run, open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.lake import Lake
from hrss_fraud.outputs import ranking as rankings  # a module: tests replace its functions

_KEY = pl.concat_str("fixmedins_code", "mdtrt_id", "feedetl_sn", separator="|")
_SETL = pl.concat_str("fixmedins_code", "setl_id", separator="|")


@dataclass(frozen=True)
class Truth:
    lines: pl.DataFrame
    entities: pl.DataFrame
    schemes: pl.DataFrame
    noise: pl.DataFrame
    lookalikes: pl.DataFrame
    fraud_institutions: pl.DataFrame

    @classmethod
    def read(cls, folder: Path) -> Truth:
        r = {n: pl.read_parquet(folder / f"{n}.parquet") for n in cls.__dataclass_fields__}
        return cls(**r)


def _violating(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.filter(pl.col("role") == "violating")


def judge(
    findings: pl.DataFrame, lines: pl.DataFrame, truth: Truth, dq_rules: set[str]
) -> pl.DataFrame:
    """Each finding with ``true`` (it touches the truth) and ``lookalike`` (a false one on a
    legitimate look-alike)."""
    t_lines = set(truth.lines.select(_KEY.alias("k"))["k"].to_list())
    t_setl = set(truth.lines.select(_SETL.alias("k"))["k"].to_list())
    ent = truth.entities
    t_setl |= set(
        ent.filter(pl.col("entity_type") == "settlement")
        .select(pl.concat_str("fixmedins_code", "entity_id", separator="|").alias("k"))["k"]
        .to_list()
    )
    t_persons = set(ent.filter(pl.col("entity_type") == "person")["entity_id"].to_list())
    t_persons |= set(truth.lines["psn_no"].drop_nulls().to_list())
    t_doctors = set(ent.filter(pl.col("entity_type") == "doctor")["entity_id"].to_list())
    noise_setl = set(truth.noise.select(_SETL.alias("k"))["k"].to_list())
    look = set(truth.lookalikes["mdtrt_id"].to_list())

    v = _violating(lines).with_columns(k=_KEY, s=_SETL)
    rule_of = findings.select("finding_id", "rule_id", "entity_type", "entity_id")
    v = v.join(rule_of, on="finding_id", how="left")
    hit = (
        pl.col("k").is_in(list(t_lines))
        | (pl.col("feedetl_sn").is_null() & pl.col("s").is_in(list(t_setl)))
        | ((pl.col("entity_type") == "settlement") & pl.col("s").is_in(list(t_setl)))
        | ((pl.col("entity_type") == "person") & pl.col("psn_no").is_in(list(t_persons)))
        | ((pl.col("entity_type") == "doctor") & pl.col("entity_id").is_in(list(t_doctors)))
        | (pl.col("rule_id").is_in(list(dq_rules)) & pl.col("s").is_in(list(noise_setl)))
    )
    per = v.group_by("finding_id").agg(true=hit.any())
    involved = (
        lines.filter(pl.col("role") == "involved")
        .with_columns(k=_KEY, s=_SETL)
        .filter(
            pl.col("k").is_in(list(t_lines))
            | (pl.col("feedetl_sn").is_null() & pl.col("s").is_in(list(t_setl)))
        )
        .select("finding_id")
        .unique()
        .with_columns(inv=pl.lit(True))
    )
    per = (
        per.join(involved, on="finding_id", how="full", coalesce=True)
        .with_columns(true=pl.col("true").fill_null(False) | pl.col("inv").fill_null(False))
        .drop("inv")
    )
    touched_look = lines.filter(pl.col("mdtrt_id").is_in(list(look))).select("finding_id").unique()
    return (
        findings.join(per, on="finding_id", how="left")
        .with_columns(pl.col("true").fill_null(False))
        .with_columns(
            lookalike=~pl.col("true")
            & pl.col("finding_id").is_in(touched_look["finding_id"].to_list())
        )
    )


def recall(findings: pl.DataFrame, lines: pl.DataFrame, truth: Truth) -> pl.DataFrame:
    """Per scheme: injected entities, those found, and the rules that found them."""
    v = _violating(lines).join(
        findings.select("finding_id", "rule_id", "entity_type", "entity_id"),
        on="finding_id",
        how="left",
    )
    by_line = v.select(k=_KEY, rule_id="rule_id")
    by_setl = v.select(k="setl_id", rule_id="rule_id")
    by_person = v.select(k="psn_no", rule_id="rule_id")
    by_institution = v.filter(pl.col("entity_type") == "institution").select(
        k="entity_id", rule_id="rule_id"
    )
    by_doctor = v.filter(pl.col("entity_type") == "doctor").select(k="entity_id", rule_id="rule_id")
    found = pl.concat(
        [
            by_line.with_columns(t=pl.lit("fee_line")),
            by_setl.with_columns(t=pl.lit("settlement")),
            by_person.with_columns(t=pl.lit("person")),
            by_doctor.with_columns(t=pl.lit("doctor")),
            by_institution.with_columns(t=pl.lit("institution")),
        ]
    ).unique()
    ent = truth.entities.join(
        truth.schemes.select("scheme", "family"), on="scheme", how="left", suffix="_s"
    )
    matched = ent.join(found, left_on=["entity_type", "entity_id"], right_on=["t", "k"], how="left")
    return (
        matched.group_by("scheme", "family", "entity_type")
        .agg(
            injected=pl.col("entity_id").n_unique(),
            found=pl.col("entity_id").filter(pl.col("rule_id").is_not_null()).n_unique(),
            rules=pl.col("rule_id").drop_nulls().unique().sort().str.join(","),
        )
        .with_columns(recall=(pl.col("found") / pl.col("injected")).round(3))
        .join(institution_recall(v, truth), on="scheme", how="left")
        .sort("family", "scheme")
    )


def institution_recall(violating: pl.DataFrame, truth: Truth) -> pl.DataFrame:
    """Per scheme: its institutions, and those an institution-level lead names with the
    scheme's own injected lines among its violating lines (a lead that names the right
    institution for another reason does not count)."""
    inst_leads = violating.filter(pl.col("entity_type") == "institution").select(
        k=_KEY, fixmedins_code="fixmedins_code"
    )
    reached = (
        truth.lines.select("scheme", "fixmedins_code", k=_KEY)
        .join(inst_leads, on=["k", "fixmedins_code"])
        .select("scheme", "fixmedins_code")
        .unique()
    )
    carriers = (
        truth.schemes.select("scheme", fixmedins_code=pl.col("institutions").str.split(";"))
        .explode("fixmedins_code")
        .filter(pl.col("fixmedins_code").is_not_null() & (pl.col("fixmedins_code") != ""))
        .unique()
    )
    hit = reached.with_columns(hit=pl.lit(True))
    return (
        carriers.join(hit, on=["scheme", "fixmedins_code"], how="left")
        .group_by("scheme")
        .agg(
            institutions=pl.len(),
            institutions_found=pl.col("hit").fill_null(False).sum(),
        )
        .with_columns(
            institution_recall=(pl.col("institutions_found") / pl.col("institutions")).round(3)
        )
    )


def lookalike_rates(judged: pl.DataFrame, lines: pl.DataFrame, truth: Truth) -> pl.DataFrame:
    """Per kind of legitimate look-alike: its encounters, those a false lead touches (any of
    the lead's lines, violating or involved, on the encounter), the share, and the rules of
    those leads. A lead that touches the truth is not a false alarm on the look-alike, even
    when it also shows one of its encounters."""
    look = truth.lookalikes.select("lookalike", "mdtrt_id").unique()
    false = judged.filter(~pl.col("true")).select("finding_id", "rule_id")
    touched = (
        lines.select("finding_id", "mdtrt_id")
        .join(false, on="finding_id")
        .join(look, on="mdtrt_id")
        .select("lookalike", "mdtrt_id", "rule_id")
        .unique()
    )
    flagged = touched.group_by("lookalike").agg(
        flagged=pl.col("mdtrt_id").n_unique(),
        rules=pl.col("rule_id").unique().sort().str.join(","),
    )
    return (
        look.group_by("lookalike")
        .agg(encounters=pl.len())
        .join(flagged, on="lookalike", how="left")
        .with_columns(pl.col("flagged").fill_null(0).cast(pl.Int64), pl.col("rules").fill_null(""))
        .with_columns(rate=(pl.col("flagged") / pl.col("encounters")).round(4))
        .select("lookalike", pl.col("encounters").cast(pl.Int64), "flagged", "rate", "rules")
        .sort("lookalike")
    )


CASE_TOPS = (50, 200)
"""The case-list depths whose precision ``evaluate`` reports (issue 16)."""


def case_metrics(
    cases: pl.DataFrame | None,
    judged: pl.DataFrame,
    lines: pl.DataFrame,
    truth: Truth,
    tops: tuple[int, ...] = CASE_TOPS,
) -> dict[str, object]:
    """The case list against the truth: ``cases``; for each depth ``n`` in ``tops``, the
    precision of the first ``n`` cases by rank (``precision_top_<n>_cases``: a case is
    true when at least half its amount at risk lies on findings that touch the truth — an
    auditor who opens it finds the violation, not a pile of legitimate claims beside one);
    and ``injected_share_top_<max>_cases``: the share of the injected amount at risk whose
    lines are among the violating lines of those cases' findings. ``judged`` holds every
    lead with ``true`` and ``case_id``; ``cases`` is None for a run without cases."""
    top = max(tops)
    out: dict[str, object] = {"cases": None if cases is None else cases.height}
    keys = [f"precision_top_{n}_cases" for n in tops] + [f"injected_share_top_{top}_cases"]
    if cases is None or cases.is_empty() or "case_id" not in judged.columns:
        return out | dict.fromkeys(keys)
    amount = pl.col("amount_at_risk").fill_null(0).clip(lower_bound=0)
    per_case = judged.group_by("case_id").agg(
        n=pl.len(),
        n_true=pl.col("true").sum(),
        amount=amount.sum(),
        amount_true=amount.filter(pl.col("true")).sum(),
    )
    verdict = (
        pl.when(pl.col("amount") > 0)
        .then(pl.col("amount_true") >= pl.col("amount") / 2)
        .otherwise(pl.col("n_true") >= pl.col("n") / 2)
    )
    ranked = (
        cases.select("case_id", "case_rank")
        .join(per_case.with_columns(case_true=verdict), on="case_id", how="left")
        .with_columns(pl.col("case_true").fill_null(False))
        .sort("case_rank")
    )
    for n in tops:
        head = ranked.head(n)
        out[f"precision_top_{n}_cases"] = (
            round(float(head["case_true"].mean()), 4) if head.height else None
        )
    chosen = judged.join(ranked.head(top).select("case_id"), on="case_id", how="semi")
    covered = (
        _violating(lines)
        .join(chosen.select("finding_id"), on="finding_id", how="semi")
        .select(k=_KEY)
        .unique()
    )
    injected = truth.lines.select(k=_KEY, amount=pl.col("amount_at_risk").cast(pl.Float64))
    total = float(injected["amount"].sum() or 0)
    hit = float(injected.join(covered, on="k", how="semi")["amount"].sum() or 0)
    out[f"injected_share_top_{top}_cases"] = round(hit / total, 4) if total > 0 else None
    return out


def _run_cases(run: Run) -> pl.DataFrame | None:
    """The run's cases, or None for a run scored before findings were grouped."""
    cases = getattr(run, "cases", None)
    if cases is None:
        return None
    try:
        return cases()
    except FileNotFoundError:
        return None


def _quality(run: Run, truth: Truth, dq: set[str]) -> dict[str, object]:
    """The data-quality findings (the run's own report of them, or those still among the
    findings of a run scored before they were kept apart), judged against the injected
    noise and the truth: ``quality_findings`` and ``quality_precision``."""
    if hasattr(run, "quality_findings"):
        findings, lines = run.quality_findings(), run.quality_lines()
    else:
        findings = run.findings().filter(pl.col("rule_id").is_in(list(dq)))
        lines = run.lines().join(findings.select("finding_id"), on="finding_id", how="semi")
    judged = judge(findings, lines, truth, dq)
    return {
        "quality_findings": judged.height,
        "quality_precision": round(judged["true"].mean(), 4) if judged.height else None,
    }


def evaluate(run: Run, truth: Truth, rule_ids: list[str] | None = None) -> dict[str, object]:
    catalogue = run.catalogue()  # the rules the run was scored with
    findings, lines = run.findings(), run.lines()
    if rule_ids:
        findings = findings.filter(pl.col("rule_id").is_in(rule_ids))
        lines = lines.filter(pl.col("finding_id").is_in(findings["finding_id"].to_list()))
    monitoring = {r.id for r in catalogue.rules.values() if r.monitoring}
    dq = {r.id for r in catalogue.rules.values() if r.family == "data_quality"}
    # data-quality findings are a report of their own, not leads (issue 16): counted apart
    dq_in_queue = findings.filter(pl.col("rule_id").is_in(list(dq))).height
    leads = findings.filter(~pl.col("rule_id").is_in(list(monitoring | dq)))
    judged = judge(leads, lines, truth, dq)
    per_rule = (
        judged.group_by("rule_id")
        .agg(
            findings=pl.len(),
            true=pl.col("true").sum(),
            lookalike_hits=pl.col("lookalike").sum(),
        )
        .with_columns(precision=(pl.col("true") / pl.col("findings")).round(4))
        .sort("rule_id")
    )
    fraud = set(truth.fraud_institutions["fixmedins_code"].to_list())
    mon = findings.filter(pl.col("rule_id").is_in(list(monitoring)))
    # an indicator's lead is right when it names a fraudulent institution (judged apart)
    all_judged = pl.concat(
        [judged, mon.with_columns(true=pl.col("fixmedins_code").is_in(list(fraud)))],
        how="diagonal_relaxed",
    )
    cases = case_metrics(_run_cases(run), all_judged, lines, truth)
    quality = _quality(run, truth, dq)
    rec_scheme = recall(findings, lines, truth)
    rule_min = rec_scheme.filter(pl.col("family") == "rule")["recall"].min()
    rec = rec_scheme  # indicators may find an institution's drift
    rule_rec = rec.filter(pl.col("family") == "rule")
    fraud_only = judged
    return {
        "findings": judged.height,
        "precision": round(judged["true"].mean(), 4) if judged.height else None,
        "precision_fraud_rules": round(fraud_only["true"].mean(), 4) if fraud_only.height else None,
        "lookalike_hits": int(judged["lookalike"].sum()),
        "lookalikes": lookalike_rates(judged, lines, truth).to_dicts(),
        "recall_rule_scheme_min": rule_min,
        "dq_in_queue": dq_in_queue,
        **quality,
        **cases,
        "recall_rule_schemes": (
            round(rule_rec["found"].sum() / rule_rec["injected"].sum(), 4)
            if rule_rec.height
            else None
        ),
        "monitoring": {
            "flags": mon.height,
            "institutions": mon["fixmedins_code"].n_unique(),
            "fraud_institutions_flagged": len(set(mon["fixmedins_code"].to_list()) & fraud),
        },
        "per_rule": per_rule.to_dicts(),
        "per_scheme": rec.to_dicts(),
    }


def ranking_metrics(run: Run, lake: Lake, truth: Truth, share: float = 0.1) -> dict[str, object]:
    """The inspection list against the fraudulent institutions, and the false alarms among
    clean persons and institutions (DOMAIN.md §7).

    ``precision_at_k``: the share of fraudulent institutions among the top ``share`` of the
    ranking (the institutions a round can visit); ``roc_auc`` of the risk score;
    ``fp_rate_clean_persons``: clean persons (in no scheme) named by a person-level lead,
    over all clean persons; ``fp_rate_clean_institutions``: clean institutions in the top
    ``share``, over all clean institutions."""
    ranking = rankings.institution_ranking(run, lake)
    fraud = truth.fraud_institutions["fixmedins_code"].implode()
    y = ranking["fixmedins_code"].is_in(fraud).to_numpy()
    k = max(1, round(share * ranking.height))
    guilty = set(truth.entities.filter(pl.col("entity_type") == "person")["entity_id"])
    guilty |= set(truth.lines["psn_no"].drop_nulls())
    persons = lake.connect().sql("SELECT DISTINCT psn_no FROM person").pl()["psn_no"]
    clean = set(persons) - guilty
    named = set(run.findings().filter(pl.col("entity_type") == "person")["entity_id"].drop_nulls())
    n_clean_inst = int((~y).sum())
    return {
        "institutions": ranking.height,
        "fraudulent_institutions": int(y.sum()),
        "k": k,
        "precision_at_k": round(float(y[:k].mean()), 4),
        "roc_auc": round(float(roc_auc_score(y, ranking["risk_score"].to_numpy())), 4)
        if 0 < y.sum() < len(y)
        else None,
        "fp_rate_clean_persons": round(len(named & clean) / max(len(clean), 1), 5),
        "fp_rate_clean_institutions": round(int((~y[:k]).sum()) / max(n_clean_inst, 1), 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workspace", required=True, type=Path)
    ap.add_argument("--truth", required=True, type=Path)
    ap.add_argument("--run", default=None)
    ap.add_argument("--rules", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    ids = a.rules.split(",") if a.rules else None
    run, truth = open_run(a.workspace, a.run), Truth.read(a.truth)
    result = evaluate(run, truth, ids)
    result["ranking"] = ranking_metrics(run, Workspace.of(a.workspace).lake, truth)
    if a.json:
        print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
        return 0
    pl.Config.set_tbl_rows(200)
    pl.Config.set_tbl_width_chars(200)
    pl.Config.set_fmt_str_lengths(80)
    print(pl.DataFrame(result["per_rule"]))
    print(pl.DataFrame(result["per_scheme"]))
    for k in (
        "findings",
        "precision",
        "precision_fraud_rules",
        "lookalike_hits",
        "recall_rule_schemes",
        "monitoring",
        "ranking",
    ):
        print(f"{k}: {result[k]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
