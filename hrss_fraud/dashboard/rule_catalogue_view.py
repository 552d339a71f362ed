"""The rule catalogue page (规则目录): each rule with its parameters (default, bounds, value
in force), its leads in the latest run and how reviewers judged them, and the one way to
change a parameter from the dashboard.

A change goes through :func:`hrss_fraud.engine.params.set_param`, exactly as
``hrss-fraud rules set`` does (bounds checked, who and why in the workspace's parameter
log, the rule's version raised), and is then written to the audit log. The next scoring
run picks it up; the run shown keeps the values it was scored with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.cases import audit
from hrss_fraud.engine.catalogue import Catalogue, CatalogueError, load_catalogue
from hrss_fraud.engine.params import Change, changes, effective, set_param
from hrss_fraud.outputs.labels import family_labels, severity_labels

if TYPE_CHECKING:
    from pathlib import Path

    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User
    from hrss_fraud.outputs.runs_view import RunView

CHANGE_PERMISSION = "change_parameters"


class ParameterChangeError(ValueError):
    """A parameter change the dashboard refuses; the message is fit for the page."""


def current_catalogue(workspace: Path) -> Catalogue:
    """The catalogue a scoring run would use now (the workspace's own rules over the
    shipped ones), as the CLI loads it."""
    return load_catalogue(workspace=workspace)


def _run_counts(view: RunView | None) -> pl.DataFrame:
    schema = {"rule_id": pl.String, "n_findings": pl.UInt32, "fen": pl.Int64}
    if view is None:
        return pl.DataFrame(schema=schema)
    # every rule's findings: a data-quality rule's are no leads, but they are its findings
    files = (view.findings_path, view.quality_findings_path)
    found = [pl.scan_parquet(p).select("rule_id", "amount_at_risk") for p in files]
    return (
        pl.concat(found)
        .group_by("rule_id")
        .agg(
            n_findings=pl.len(),
            fen=(pl.col("amount_at_risk") * 100).round().cast(pl.Int64).sum(),
        )
        .collect()
        .cast(schema)  # type: ignore[arg-type]
    )


def _reviews(view: RunView | None, case_store: CaseStore | None) -> pl.DataFrame:
    """Per rule, the leads whose latest decision is final: confirmed or dismissed, with the
    ``finding_ids`` of each. A decision names its rule (the lead as the reviewer saw
    it); one without falls back on the run's lead."""
    schema = {
        "rule_id": pl.String,
        "n_confirmed": pl.UInt32,
        "n_dismissed": pl.UInt32,
        "confirmed_ids": pl.List(pl.String),
        "dismissed_ids": pl.List(pl.String),
    }
    if case_store is None:
        return pl.DataFrame(schema=schema)
    decided = case_store.current_decisions().filter(pl.col("label").is_not_null())
    if view is not None:
        run_rules = pl.scan_parquet(view.findings_path).select("finding_id", "rule_id").collect()
        decided = decided.join(
            run_rules.rename({"rule_id": "run_rule_id"}), on="finding_id", how="left"
        ).with_columns(rule_id=pl.coalesce("rule_id", "run_rule_id"))
    return (
        decided.drop_nulls("rule_id")
        .group_by("rule_id")
        .agg(
            n_confirmed=(pl.col("label") == 1).sum().cast(pl.UInt32),
            n_dismissed=(pl.col("label") == 0).sum().cast(pl.UInt32),
            confirmed_ids=pl.col("finding_id").filter(pl.col("label") == 1).sort(),
            dismissed_ids=pl.col("finding_id").filter(pl.col("label") == 0).sort(),
        )
        .cast(schema)  # type: ignore[arg-type]
    )


def rule_table(
    catalogue: Catalogue,
    workspace: Path,
    view: RunView | None,
    case_store: CaseStore | None = None,
    *,
    lang: str = "zh",
) -> pl.DataFrame:
    """One row per rule of ``catalogue``: names, family, severity, ``version`` and the
    ``params`` in force (``name=value``), its leads in ``view``'s run (``n_findings``,
    ``amount_at_risk``), and its reviewed leads in the case store (``n_confirmed``,
    ``n_dismissed``, ``confirmed_share`` = confirmed / decided, null before any final
    decision, with the ``confirmed_ids`` and ``dismissed_ids`` behind them)."""
    log = changes(catalogue, workspace)
    families, severities = family_labels(lang), severity_labels(lang)
    rows = []
    for rule in catalogue.rules.values():
        eff = effective(rule, log)
        rows.append(
            {
                "rule_id": rule.id,
                "rule_name": rule.name_en if lang == "en" else rule.name_zh,
                "family": rule.family,
                "family_label": families.get(rule.family, rule.family),
                "severity": rule.severity,
                "severity_label": severities.get(rule.severity, rule.severity),
                "entity": rule.entity,
                "monitoring": rule.monitoring,
                "version": eff.version,
                "params": ", ".join(f"{k}={v:g}" for k, v in eff.values.items()),
            }
        )
    table = pl.DataFrame(rows)
    return (
        table.join(_run_counts(view), on="rule_id", how="left")
        .join(_reviews(view, case_store), on="rule_id", how="left")
        .with_columns(
            pl.col("n_findings", "n_confirmed", "n_dismissed").fill_null(0),
            amount_at_risk=(pl.col("fen").fill_null(0) / 100).round(2),
            confirmed_ids=pl.col("confirmed_ids").fill_null([]),
            dismissed_ids=pl.col("dismissed_ids").fill_null([]),
        )
        .with_columns(
            confirmed_share=pl.when((pl.col("n_confirmed") + pl.col("n_dismissed")) > 0).then(
                pl.col("n_confirmed") / (pl.col("n_confirmed") + pl.col("n_dismissed"))
            )
        )
        .drop("fen")
        .sort("rule_id")
    )


def rule_params(
    catalogue: Catalogue, workspace: Path, rule_id: str, *, lang: str = "zh"
) -> pl.DataFrame:
    """The rule's parameters: ``name``, ``description``, ``unit``, ``default``, ``min``,
    ``max``, ``value`` in force and ``n_changes``; :class:`KeyError` for an unknown rule."""
    rule = catalogue.rules[rule_id]
    eff = effective(rule, changes(catalogue, workspace))
    return pl.DataFrame(
        [
            {
                "name": p.name,
                "description": p.description_en if lang == "en" else p.description_zh,
                "unit": p.unit,
                "default": float(p.default),
                "min": float(p.min),
                "max": float(p.max),
                "value": float(eff.values[p.name]),
                "n_changes": sum(1 for c in eff.changes if c.param == p.name),
            }
            for p in rule.params
        ],
        schema={
            "name": pl.String,
            "description": pl.String,
            "unit": pl.String,
            "default": pl.Float64,
            "min": pl.Float64,
            "max": pl.Float64,
            "value": pl.Float64,
            "n_changes": pl.Int64,
        },
    )


def rule_history(catalogue: Catalogue, workspace: Path, rule_id: str) -> pl.DataFrame:
    """Every change of the rule's parameters, oldest first (who, when, why)."""
    rows = [
        {
            "param": c.param,
            "value": c.value,
            "changed_by": c.changed_by,
            "changed_at": c.changed_at,
            "reason": c.reason,
        }
        for c in changes(catalogue, workspace)
        if c.rule_id == rule_id
    ]
    return pl.DataFrame(
        rows,
        schema={
            "param": pl.String,
            "value": pl.Float64,
            "changed_by": pl.String,
            "changed_at": pl.String,
            "reason": pl.String,
        },
    )


def change_parameter(
    case_store: CaseStore,
    workspace: Path,
    user: User,
    rule_id: str,
    param: str,
    value: Any,
    reason: str,
) -> Change:
    """Change one parameter as ``user``: refused unless the role may change parameters,
    the reason is given, the value is a number within the bounds. Recorded in the
    parameter log (as the CLI records it) and then in the audit log with the old value."""
    if not user.can(CHANGE_PERMISSION):
        msg = f"{user.role_zh}无“修改规则参数”权限 ({user.role} may not change rule parameters)"
        raise ParameterChangeError(msg)
    if not (reason or "").strip():
        msg = "请填写修改理由 (a reason is required)"
        raise ParameterChangeError(msg)
    try:
        number = float(value)
    except (TypeError, ValueError):
        msg = f"参数值须为数字 (value {value!r} is not a number)"
        raise ParameterChangeError(msg) from None
    catalogue = current_catalogue(workspace)
    rule = catalogue.rules.get(rule_id)
    if rule is None:
        msg = f"没有规则 {rule_id!r} (unknown rule)"
        raise ParameterChangeError(msg)
    old = effective(rule, changes(catalogue, workspace)).values.get(param)
    try:
        change = set_param(
            catalogue, workspace, rule_id, param, number, user.username, reason.strip()
        )
    except CatalogueError as e:
        raise ParameterChangeError(str(e)) from None
    version = effective(rule, changes(catalogue, workspace)).version
    audit.record(
        case_store,
        user.username,
        "parameter.change",
        "rule",
        rule_id,
        {
            "param": param,
            "old": old,
            "new": number,
            "reason": change.reason,
            "version": version,
            "changed_at": change.changed_at,
        },
    )
    return change
