"""``hrss-fraud score``: prepare the scoring database, run the rules, publish the run.

A full run scores the whole lake. An incremental run (``--incremental``) scores only what
the batches committed since the latest run can change (:mod:`hrss_fraud.scoring.increment`)
and carries the rest over; it falls back to a full run when there is no previous run, or
when the catalogue, the knowledge base or a parameter changed since, and does nothing when
no batch is new.

Rules of ``cadence = "monthly"`` (each finding rests on whole months of every
institution's claims: peer profiles, drifts, rings) would make every night's reach every
institution's month or year. An incremental run carries their findings over as last
computed while the new claims stay within the month they were computed in
(``monthly_as_of`` in the manifest: the lake's latest claim month then). The first run
that sees a later month's claims, or claims dated in an earlier month (a late upload into
a closed month), runs them too, its reach taken from every batch since they last ran
(``monthly_last_seq``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from hrss_fraud.cases.reviews import lead_weights
from hrss_fraud.detectors import models
from hrss_fraud.detectors.frequency_model import ModelError
from hrss_fraud.engine import grouping, line_parts, runs
from hrss_fraud.engine.catalogue import Catalogue, CatalogueError, Rule, load_catalogue
from hrss_fraud.engine.enrolment import data_gaps
from hrss_fraud.engine.execute import RuleOutcome, run_rules
from hrss_fraud.engine.kernels import KERNELS
from hrss_fraud.engine.needs import Inactive, inactive_rules, lake_inactive
from hrss_fraud.engine.params import changes, effective
from hrss_fraud.engine.prepare import Scope, build, open_scoring_db
from hrss_fraud.engine.whitelist import load_whitelist
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.knowledge import load_knowledge
from hrss_fraud.resources import policy_path
from hrss_fraud.scoring import increment


def select_rules(catalogue: Catalogue, rule_ids: list[str] | None) -> list[Rule]:
    if not rule_ids:
        return list(catalogue.rules.values())
    unknown = [r for r in rule_ids if r not in catalogue.rules]
    if unknown:
        msg = f"unknown rule(s): {', '.join(unknown)}; see `hrss-fraud rules list`"
        raise CatalogueError(msg)
    return [catalogue.rules[r] for r in rule_ids]


@dataclass(frozen=True)
class Policy:
    """Everything a run's results depend on besides the claims, and its fingerprint."""

    catalogue: Catalogue
    knowledge_dir: Path
    rules: list[Rule]
    versions: dict[str, Any]

    @classmethod
    def load(cls, workspace: Path, rule_ids: list[str] | None) -> Policy:
        catalogue = load_catalogue(workspace=workspace, kernels=KERNELS)
        knowledge_dir = policy_path("analytics", "knowledge", workspace)
        rules = select_rules(catalogue, rule_ids)
        log = changes(catalogue, workspace)
        root = catalogue.root
        versions = {
            "knowledge": runs.fingerprint(list(knowledge_dir.glob("*.csv"))),
            "catalogue": runs.fingerprint(
                [*root.glob("catalogue/*.toml"), *root.glob("sql/*.sql"), *root.glob("*.csv")]
            ),
            "whitelist": runs.fingerprint(list((Path(workspace) / "rules").glob("*.csv"))),
            "models": _models_fingerprint(workspace, rules),
            "rules": {r.id: effective(r, log).values for r in rules},
        }
        return cls(catalogue, knowledge_dir, rules, versions)


def _models_fingerprint(workspace: Path, rules: list[Rule]) -> str:
    names = models.needed(r.kernel for r in rules)
    return runs.fingerprint(
        [
            models.model_path(workspace, n)
            for n in sorted(names)
            if models.model_path(workspace, n).is_file()
        ]
    )


def _plan(workspace: Path, policy: Policy, incremental: bool) -> tuple[runs.Run | None, str]:
    """The previous run to build on (or None for a full run) and why."""
    if not incremental:
        return None, "full run requested"
    untrained = models.missing(workspace, models.needed(r.kernel for r in policy.rules))
    if untrained:
        return None, f"no saved model {', '.join(untrained)}: full run, training it first"
    try:
        previous = runs.open_run(workspace)
    except runs.RunError:
        return None, "no previous run: full run"
    if previous.manifest.get("policy") != policy.versions:
        return None, "rules, parameters or knowledge changed since the last run: full run"
    return previous, f"incremental on run {previous.run_id}"


def _latest_month(con: Any) -> str | None:
    """The month (``YYYY-MM``) of the lake's latest settlement (``con`` holds its views)."""
    sql = "SELECT strftime(max(begntime), '%Y-%m') FROM settlement_all"
    return con.execute(sql).fetchall()[0][0]


def _monthly_due(manifest: dict[str, Any], new_from: date, latest: str | None) -> str | None:
    """Why this incremental run must re-score the monthly rules, or None when their
    previous findings stand."""
    as_of = manifest.get("monthly_as_of")
    if as_of is None:
        return "the lake had no claims when they ran"
    if latest is not None and latest > as_of:
        return f"month {as_of} closed since they ran"
    if new_from.strftime("%Y-%m") < as_of:
        return f"new claims dated {new_from} fall in a closed month"
    return None


def _incremental_scope(
    con: Any, previous: runs.Run, rules: list[Rule], latest: str | None
) -> tuple[Scope | None, list[Rule], str]:
    """The reach of an incremental run, the rules it runs and why: the nightly rules over
    the batches since the previous run, and the monthly ones too (over the batches since
    they last ran) when they are due. ``con`` holds the lake's views."""
    last_seq = previous.manifest["lake"]["last_seq"]
    nightly = [r for r in rules if r.cadence == "nightly"]
    scope = increment.new_claims_scope(con, last_seq, nightly)
    if scope is None or len(nightly) == len(rules):
        return scope, rules if scope is None else nightly, ""
    m = previous.manifest
    if "monthly_last_seq" not in m:
        return None, rules, "; the monthly rules were not scored by it: all rules, whole lake"
    due = _monthly_due(m, scope.new_from, latest)
    if due is None:
        return scope, nightly, f"; monthly rules stand as of {m['monthly_as_of']}"
    scope = increment.new_claims_scope(con, m["monthly_last_seq"], rules)
    return scope, rules, f"; monthly rules re-scored: {due}"


def _carried_outcomes(previous: runs.Run | None, carried: list[str]) -> list[dict[str, Any]]:
    """The outcomes of the rules carried over, as the run that scored them recorded them."""
    if previous is None or not carried:
        return []
    outcomes = [o for o in previous.manifest.get("rules", []) if o["rule_id"] in carried]
    return [{**o, "carried_from": o.get("carried_from", previous.run_id)} for o in outcomes]


def _inactive_outcomes(
    inactive: dict[str, Inactive], policy: Policy, workspace: Path
) -> list[RuleOutcome]:
    """The outcomes of the rules skipped for want of knowledge, with the reason."""
    log = changes(policy.catalogue, workspace)
    out = []
    for r in policy.rules:
        if r.id in inactive:
            eff = effective(r, log)
            o = RuleOutcome(r.id, eff.version, eff.values, status="inactive")
            o.reason, o.reason_en = inactive[r.id].reason_zh, inactive[r.id].reason_en
            out.append(o)
    return out


def _prepare_models(
    con: Any, workspace: Path, policy: Policy, rules: list[Rule], *, full: bool
) -> list[str]:
    """Load the saved models ``rules`` need into the scoring database; a full run trains
    (on the whole lake it has just loaded) and saves those not yet saved. Returns the names
    trained. A model made by other code is refused with the reason."""
    needed = models.needed(r.kernel for r in rules)
    untrained = models.missing(workspace, needed) if full else []
    try:
        models.train_into(con, workspace, untrained)
        models.load_into(con, workspace, needed - set(untrained))
    except ModelError as e:
        raise runs.RunError(str(e)) from None
    if untrained:
        policy.versions["models"] = _models_fingerprint(workspace, policy.rules)
    return untrained


def _data_gaps(
    con: Any, running: set[str], carried: list[str], previous: runs.Run | None
) -> list[dict[str, Any]]:
    """What the rules run now could not judge for want of data (:func:`enrolment.data_gaps`),
    and what the previous run recorded for the rules it carries over; each gap names only
    the rules of this run it concerns, none when it concerns none."""
    now = [{**g, "rules": [r for r in g["rules"] if r in running]} for g in data_gaps(con)]
    before = previous.manifest.get("data_gaps", []) if previous is not None else []
    kept = [{**g, "rules": [r for r in g["rules"] if r in carried]} for g in before]
    return [g for g in now + kept if g["rules"]]


def split_and_group(
    workspace: Path, findings: pl.DataFrame, lead_lines: pl.LazyFrame, catalogue: Catalogue
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """The run's leads (with their case columns) grouped into cases weighted by the review
    model when it is on, its data-quality findings kept apart, its cases, and what the
    manifest records of it. ``lead_lines`` is a scan of the leads' line files: grouping
    reads the few columns it needs, not the run's lines whole."""
    t0 = time.perf_counter()
    is_quality = pl.col("rule_id").is_in(grouping.quality_rule_ids(catalogue.rules))
    leads, quality = findings.filter(~is_quality), findings.filter(is_quality)
    weights, review = lead_weights(leads, workspace)
    leads, cases = grouping.group(
        leads,
        lead_lines,
        catalogue.rules,
        weights=weights,
        names=runs.institution_names(Workspace.of(workspace).lake),
        employers=runs.employer_names(Workspace.of(workspace).lake),
    )
    info = {
        "case_weights": "review_model" if weights is not None else "severity",
        "review_model": review.reason,
        "grouping_seconds": round(time.perf_counter() - t0, 2),
    }
    return leads, quality, cases, info


def score(
    workspace: Path,
    *,
    rule_ids: list[str] | None = None,
    incremental: bool = False,
    progress: bool = False,
    memory_limit: str = "6GB",
    prepare: Callable[..., dict[str, int]] = build,
    hits: Callable[..., pl.DataFrame] | None = None,
) -> runs.Run:
    """Score the lake and publish the run as the latest (or return the latest unchanged
    when an incremental run finds no new batch). Another engine (Spark:
    :mod:`hrss_fraud.spark.score`) gives its ``prepare`` (``build``'s signature) and its
    rules' ``hits`` (:func:`~hrss_fraud.engine.execute.run_rules`'s)."""
    started = datetime.now(UTC)
    lake = Workspace.of(workspace).lake
    batches = lake.batches()
    if not batches:
        msg = f"the lake {lake.root} is empty; ingest uploads first (`hrss-fraud ingest`)"
        raise runs.RunError(msg)
    policy = Policy.load(workspace, rule_ids)
    previous, mode = _plan(workspace, policy, incremental and not rule_ids)
    last_seq = max(b.seq for b in batches)
    if previous is not None and previous.manifest["lake"]["last_seq"] >= last_seq:
        if progress:
            print(f"no batch since run {previous.run_id}: nothing to score", flush=True)
        return previous
    kb = load_knowledge(policy.knowledge_dir)
    # rules the knowledge base cannot drive are skipped, with the reason in the manifest
    inactive = inactive_rules(policy.rules, kb)
    active = [r for r in policy.rules if r.id not in inactive]
    log = changes(policy.catalogue, workspace)
    wl = load_whitelist(policy.catalogue, workspace)
    run_id = runs.new_run_id(started)
    work = runs.runs_dir(workspace) / f".{run_id}.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        con = open_scoring_db(work / "score.duckdb", memory_limit)
        scope, to_run = None, active
        if previous is not None:
            lake.connect(con, index=False)
            scope, to_run, why = _incremental_scope(con, previous, active, _latest_month(con))
            mode += why
        running = {r.id for r in to_run}
        carried = [r.id for r in active if r.id not in running]
        t0 = time.perf_counter()
        counts = prepare(con, lake, kb, scope)
        # rules comparing counties are inactive, with the reason, on one county's lake
        one_county = lake_inactive(con, active)
        if one_county:
            inactive = {**inactive, **one_county}
            active = [r for r in active if r.id not in one_county]
            to_run = [r for r in to_run if r.id not in one_county]
            running -= set(one_county)
            carried = [r for r in carried if r not in one_county]
        gaps = _data_gaps(con, running, carried, previous)
        trained = _prepare_models(con, workspace, policy, active, full=scope is None)
        prepare_s = time.perf_counter() - t0
        skipped = _inactive_outcomes(inactive, policy, workspace)
        if progress:
            print(
                f"{mode}: prepared {counts['visit']:,} settlements, {counts['line']:,} lines "
                f"in {prepare_s:.1f} s",
                flush=True,
            )
            for o in skipped:
                print(f"  – {o.rule_id:<32} {o.reason}", flush=True)
            for g in gaps:
                print(f"  ! {', '.join(g['rules'])}: {g['reason_zh']}", flush=True)
        latest = _latest_month(con)
        result = run_rules(
            con,
            policy.catalogue,
            to_run,
            log,
            wl,
            run_id,
            progress,
            spill=work / "hits",
            hits=hits,
        )
        con.close()
        t0 = time.perf_counter()
        findings, parts = _store_lines(workspace, run_id, result, previous, scope, policy, carried)
        store_s = time.perf_counter() - t0
        leads, quality, cases, grouped = split_and_group(
            workspace, findings, parts.scan(line_parts.LEAD), policy.catalogue
        )
        del findings
        manifest = {
            "run_id": run_id,
            "mode": "incremental" if scope is not None else "full",
            "why": mode,
            "previous_run": previous.run_id if previous is not None else None,
            "scope": None
            if scope is None
            else {
                "new_from": scope.new_from.isoformat(),
                "window_start": scope.window_start.isoformat(),
                "months_from": scope.months_from.isoformat(),
                "persons": scope.persons.height,
            },
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "lake": {"batches": len(batches), "last_seq": last_seq},
            "scored": counts,
            "models_trained": trained,
            "prepare_seconds": round(prepare_s, 2),
            "knowledge_dir": str(policy.knowledge_dir),
            "catalogue_dir": str(policy.catalogue.root),
            "policy": policy.versions,
            "findings": leads.height,
            "amount_at_risk": round(float(leads["amount_at_risk"].sum()), 2),
            "quality_findings": quality.height,
            "cases": cases.height,
            **grouped,
            "monthly_as_of": previous.manifest["monthly_as_of"] if carried else latest,
            "monthly_last_seq": previous.manifest["monthly_last_seq"] if carried else last_seq,
            "carried_rules": carried,
            "rules": [o.to_dict() for o in result.outcomes + skipped]
            + _carried_outcomes(previous, carried),
            "failed_rules": [o.rule_id for o in result.failed],
            "inactive_rules": [o.rule_id for o in skipped],
            "data_gaps": gaps,
            "lines_seconds": round(store_s, 2),
            "line_files": {"written": parts.written, "linked": parts.linked},
            line_parts.PARTS_KEY: parts.record,
        }
        return runs.publish(
            workspace, run_id, leads, None, manifest, quality=(quality, None), cases=cases
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(runs.staging_dir(workspace, run_id), ignore_errors=True)


def _store_lines(
    workspace: Path,
    run_id: str,
    result: Any,
    previous: runs.Run | None,
    scope: Scope | None,
    policy: Policy,
    carried: list[str],
) -> tuple[pl.DataFrame, line_parts.PartsWriter]:
    """The run's findings (an increment's merged with the previous run's), its lines written
    into the unpublished run folder one file per rule: an increment links the files of the
    rules it left unchanged."""
    folder = runs.begin(workspace, run_id)
    parts = line_parts.PartsWriter(folder, run_id, result.lines.schema)
    rules = policy.catalogue.rules
    if previous is None or scope is None:
        increment.write_parts(result.findings, result.lines, rules, parts)
        parts.finish()
        return result.findings, parts
    standing = {o.rule_id for o in result.failed} | set(carried)
    current = (result.findings, result.lines)
    findings = increment.merge_into_parts(previous, current, scope, rules, run_id, standing, parts)
    parts.finish()
    return findings, parts
