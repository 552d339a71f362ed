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
from hrss_fraud.dashboard import i18n
from hrss_fraud.engine.catalogue import Catalogue, CatalogueError, Param, Rule, load_catalogue
from hrss_fraud.engine.params import UNITS_EN as UNITS_EN  # the page's units, re-exported
from hrss_fraud.engine.params import Change, changes, effective, set_param, unit_text
from hrss_fraud.model.times import minute
from hrss_fraud.outputs.labels import _pick, family_labels, severity_labels

if TYPE_CHECKING:
    from pathlib import Path

    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User
    from hrss_fraud.outputs.runs_view import RunView

CHANGE_PERMISSION = "change_parameters"

KERNELS: dict[str | None, tuple[str, str]] = {
    None: ("条件规则（SQL模板）", "SQL template"),
    "bursts": ("短时集中就医", "bursts of visits"),
    "covisit_rings": ("结伴就医团伙", "co-visit rings"),
    "high_cost": ("门诊高费用", "high outpatient cost"),
    "institution_spread": ("多机构分散就医", "spread over institutions"),
    "outlier_doctor": ("医师行为异常（HBOS）", "doctor outliers (HBOS)"),
    "outlier_institution": ("机构行为异常（HBOS）", "institution outliers (HBOS)"),
    "outlier_person": ("参保人就医异常（HBOS）", "person outliers (HBOS)"),
    "peer_profile": ("同类机构画像对比", "peer profile"),
    "period_count": ("周期内次数上限", "caps per period"),
    "profile_drift": ("机构画像突变", "profile drift"),
    "same_day_visits": ("同日多次就诊", "same-day visits"),
    "supply": ("购药超量（供药天数）", "drug supply days"),
    "visit_frequency": ("就诊频次异常（泊松模型）", "visit frequency (Poisson)"),
    "windows": ("时间窗口内次数上限", "caps per time window"),
}
"""How a rule finds its leads (its ``kernel``; ``None``: an SQL template), as the page
names it."""


def unit(p: Param, lang: str = "zh") -> str:
    """The parameter's unit in ``lang`` (an English unit not listed: as written)."""
    return unit_text(p.unit, lang) or ""


def param_label(p: Param, lang: str = "zh") -> str:
    """What the page calls the parameter: its description in ``lang``, else its name."""
    return (p.description_en if lang == "en" else p.description_zh) or p.name


def kernel_label(rule: Rule, lang: str = "zh") -> str:
    return _pick(KERNELS.get(rule.kernel, (str(rule.kernel),) * 2), lang)


def rule_name(rule: Rule, lang: str = "zh") -> str:
    return rule.name_en if lang == "en" else rule.name_zh


ERRORS = {
    "not_allowed": "rules.error_not_allowed",
    "unknown_rule": "rules.error_unknown_rule",
    "unknown_param": "rules.error_unknown_param",
    "no_value": "rules.error_no_value",
    "not_a_number": "rules.error_not_a_number",
    "out_of_range": "rules.error_out_of_range",
    "no_reason": "rules.error_no_reason",
    "log": "rules.error_log",
}
"""Why a change is refused → the screen text that says so."""


class ParameterChangeError(ValueError):
    """A parameter change the dashboard refuses: ``key`` names its message
    (:data:`ERRORS`) and ``fields`` fill it (:func:`say`); ``str()`` is the Chinese
    text with the English after it, for logs and the command line."""

    def __init__(self, key: str, **fields: Any) -> None:
        self.key, self.fields = key, fields
        super().__init__(f"{say(self, 'zh')} ({say(self, 'en')})")


def say(err: ParameterChangeError, lang: str = "zh", workspace: Path | None = None) -> str:
    """The refusal in ``lang``, the parameter named by its label, with the centre's own
    wording if it has any."""
    fields = dict(err.fields)
    if isinstance(fields.get("param"), Param):
        fields["param"] = param_label(fields["param"], lang)
        fields["unit"] = unit(err.fields["param"], lang)
    if isinstance(fields.get("role"), tuple):
        fields["role"] = _pick(fields["role"], lang)
    return i18n.text(ERRORS[err.key], lang, workspace, **fields)


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
    """One row per rule of ``catalogue``: names, family, severity and kernel (with their
    labels), ``version`` and the ``params`` in force (each by its label, with its value
    and unit in ``lang``), its leads in ``view``'s run (``n_findings``,
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
                "rule_name": rule_name(rule, lang),
                "family": rule.family,
                "family_label": families.get(rule.family, rule.family),
                "severity": rule.severity,
                "severity_label": severities.get(rule.severity, rule.severity),
                "kernel_label": kernel_label(rule, lang),
                "entity": rule.entity,
                "monitoring": rule.monitoring,
                "version": eff.version,
                "params": ("; " if lang == "en" else "；").join(
                    f"{param_label(p, lang)} {eff.values[p.name]:g} {unit(p, lang)}"
                    for p in rule.params
                ),
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
    """The rule's parameters: ``name``, ``description`` and ``unit`` in ``lang``,
    ``default``, ``min``, ``max``, ``value`` in force and ``n_changes``; :class:`KeyError`
    for an unknown rule."""
    rule = catalogue.rules[rule_id]
    eff = effective(rule, changes(catalogue, workspace))
    return pl.DataFrame(
        [
            {
                "name": p.name,
                "description": param_label(p, lang),
                "unit": unit(p, lang),
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


def rule_history(
    catalogue: Catalogue, workspace: Path, rule_id: str, *, lang: str = "zh"
) -> pl.DataFrame:
    """Every change of the rule's parameters, oldest first (who, when in local time to the
    minute, why), each parameter by its label in ``lang``."""
    rule = catalogue.rules[rule_id]
    labels = {p.name: param_label(p, lang) for p in rule.params}
    rows = [
        {
            "param": labels.get(c.param, c.param),
            "value": c.value,
            "changed_by": c.changed_by,
            "changed_at": minute(c.changed_at),
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
    """Change one parameter as ``user``: refused (:class:`ParameterChangeError`) unless
    the role may change parameters, the value is a number within the bounds and the
    reason is given. Recorded in the
    parameter log (as the CLI records it) and then in the audit log with the old value."""
    if not user.can(CHANGE_PERMISSION):
        raise ParameterChangeError("not_allowed", role=(user.role_zh, user.role))
    catalogue = current_catalogue(workspace)
    rule = catalogue.rules.get(rule_id)
    if rule is None:
        raise ParameterChangeError("unknown_rule", rule=rule_id)
    p = next((p for p in rule.params if p.name == param), None)
    if p is None:
        raise ParameterChangeError("unknown_param", rule=rule_id, param=param)
    if value is None or str(value).strip() == "":
        raise ParameterChangeError("no_value", param=p)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterChangeError("not_a_number", param=p, value=str(value)) from None
    if not p.min <= number <= p.max:
        raise ParameterChangeError("out_of_range", param=p, value=number, min=p.min, max=p.max)
    if not (reason or "").strip():
        raise ParameterChangeError("no_reason")
    old = effective(rule, changes(catalogue, workspace)).values.get(param)
    try:
        change = set_param(
            catalogue, workspace, rule_id, param, number, user.username, reason.strip()
        )
    except CatalogueError as e:  # the log itself unreadable: say so as it is
        raise ParameterChangeError("log", error=str(e)) from None
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
