"""The rule page's what-if (试算): a rule's figures with other parameter values, beside
the latest run's, before anyone saves a change (:mod:`hrss_fraud.engine.whatif`, as
``hrss-fraud rules try`` runs it).

For every role that sees the rule figures: it shows counts and amounts only (findings,
amount at risk, institutions, new leads and leads that drop out), never a person or a
lead, and it saves nothing, so it is not audited; a saved change is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

import hrss_fraud.detectors  # noqa: F401 - registers the detectors' kernels
from hrss_fraud.dashboard import i18n
from hrss_fraud.dashboard.rule_catalogue_view import current_catalogue, param_label, unit
from hrss_fraud.detectors import models
from hrss_fraud.engine import whatif
from hrss_fraud.model.numbers import yuan

PERMISSION = "view_leads"
"""Who may try a value: whoever sees the rule figures the try is set beside."""

ERRORS = {
    "unknown_rule": "whatif.error_unknown_rule",
    "unknown_param": "whatif.error_unknown_param",
    "not_a_number": "whatif.error_not_a_number",
    "out_of_range": "whatif.error_out_of_range",
    "inactive": "whatif.error_inactive",
    "no_model": "whatif.error_no_model",
    "failed": "whatif.error_failed",
    "setup": "whatif.error_setup",
}
"""Why a try is refused → the screen text that says so (the command line's own forms,
``name=value`` given twice or without ``=``, cannot come from the page)."""


def try_values(workspace: Path, rule_id: str, values: dict[str, Any]) -> whatif.Outcome:
    """The what-if of ``values`` as typed (name → text; a blank one: the value in force)."""
    typed = {k: v for k, v in values.items() if v is not None and str(v).strip() != ""}
    return whatif.try_rule(workspace, rule_id, typed, models=models)


def say(err: whatif.WhatIfError, lang: str, workspace: Path | None = None) -> str:
    """The refusal in ``lang`` with the parameter named by its label (the centre's own
    wording if it has any)."""
    fields = dict(err.fields)
    rule = current_catalogue(workspace).rules.get(str(fields.get("rule"))) if workspace else None
    p = next((p for p in rule.params if p.name == fields.get("param")), None) if rule else None
    if p is not None:
        fields["param"], fields["unit"] = param_label(p, lang), unit(p, lang)
    fields.setdefault("unit", "")
    fields["reason"] = fields.get("reason_en" if lang == "en" else "reason_zh", "")
    if rule is not None:
        fields["rule"] = rule.name_en if lang == "en" else rule.name_zh
    if err.key not in ERRORS:
        return err.text(lang)
    return i18n.text(ERRORS[err.key], lang, workspace, **fields)


def _signed(n: float, money: bool) -> str:
    sign = "+" if n > 0 else "-" if n < 0 else "±"
    return f"{sign}{yuan(abs(n))}" if money else f"{sign}{abs(int(n)):,}"


def figures_table(out: whatif.Outcome, lang: str, workspace: Path | None = None) -> pl.DataFrame:
    """``measure``, ``current`` (the latest run), ``tried``, ``difference``: findings,
    amount at risk and institutions, as the page shows them."""

    tried, now = out.tried, out.current
    rows = []
    for key, attr, money in (
        ("whatif.findings", "findings", False),
        ("whatif.amount", "amount_at_risk", True),
        ("whatif.institutions", "institutions", False),
    ):
        a = getattr(tried, attr)
        b = getattr(now, attr) if now is not None else None
        rows.append(
            {
                "measure": i18n.text(key, lang, workspace),
                "current": "" if b is None else (yuan(b) if money else f"{b:,}"),
                "tried": yuan(a) if money else f"{a:,}",
                "difference": "" if b is None else _signed(a - b, money),
            }
        )
    return pl.DataFrame(
        rows, schema=dict.fromkeys(("measure", "current", "tried", "difference"), pl.String)
    )


def notes(out: whatif.Outcome, lang: str, workspace: Path | None = None) -> list[str]:
    """What the figures are: the values tried, the new leads and those that drop out, and
    how the try was made."""

    def t(key: str, **fields: Any) -> str:
        return i18n.text(key, lang, workspace, **fields)

    rule = current_catalogue(workspace).rules[out.rule_id] if workspace else None
    shown = []
    for name, value in out.params.items():
        p = next(p for p in rule.params if p.name == name) if rule else None
        label = param_label(p, lang) if p else name
        was = out.in_force[name]
        shown.append(f"{label} {was:g} → {value:g}" if value != was else f"{label} {value:g}")
    lines = [t("whatif.tried_values", values=("; " if lang == "en" else "；").join(shown))]
    d = out.difference
    if d is None:
        lines.append(t("whatif.no_run_figures"))
    else:
        lines.append(
            t(
                "whatif.new_and_dropped",
                new=f"{d.new_leads:,}",
                new_amount=yuan(d.new_amount),
                dropped=f"{d.dropped_leads:,}",
                dropped_amount=yuan(d.dropped_amount),
            )
        )
    if out.run_status not in (None, "ok"):
        lines.append(t("whatif.run_not_ok"))
    if out.run_behind_lake:
        lines.append(t("whatif.run_behind_lake"))
    if out.prepared:
        lines.append(t("whatif.prepared_now", seconds=f"{out.prepare_seconds:.0f}"))
    lines.append(t("whatif.took", seconds=f"{out.seconds:.1f}"))
    return lines
