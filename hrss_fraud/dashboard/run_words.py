"""A scoring run in words: its mode and why it was scored so, as the overview's status
box tells them (the manifest's ``mode`` and ``why``, which scoring writes in English for
its log, never shown raw on a Chinese screen)."""

from __future__ import annotations

from hrss_fraud.dashboard import context
from hrss_fraud.outputs import runs_view

WHY = {
    "full_requested": "overview.why_full_requested",
    "no_model": "overview.why_no_model",
    "no_previous": "overview.why_no_previous",
    "policy_changed": "overview.why_policy_changed",
    "incremental_on": "overview.why_incremental_on",
    "monthly_not_scored": "overview.why_monthly_not_scored",
    "monthly_stand": "overview.why_monthly_stand",
    "monthly_no_claims": "overview.why_monthly_no_claims",
    "monthly_closed": "overview.why_monthly_closed",
    "monthly_late": "overview.why_monthly_late",
}
"""Each reason scoring writes (:data:`runs_view.REASONS`) → its screen text."""


def mode_and_why(mode: str | None, why: str | None, lang: str = "zh") -> str:
    """``全量评分：按要求对全部数据评分``: the run's mode and its reasons in ``lang``; a
    reason this version does not know is shown as written in English only."""
    reasons = [
        context.text(WHY[r.key], lang, **r.fields) if r.key else r.text
        for r in runs_view.run_reasons(why)
        if r.key or lang == "en"
    ]
    label = runs_view.run_mode_label(mode, lang)
    if not reasons:
        return label
    return context.text("overview.mode_why", lang, mode=label, why="；".join(reasons))
