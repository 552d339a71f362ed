"""The overview page's figures as polars frames: fund spending, leads by month, care type,
zone and rule family, the last run's status, and what changed since the previous run.
Leads only: the run keeps its data-quality findings apart (counted beside the leads by
:func:`apart_counts`, never in an amount at risk or a count by rule).

Every figure is traceable: spending rows carry the SQL condition over ``settlement`` that
sums to them, lead rows carry the ``finding_ids`` behind them (``LeadFilter(finding_ids=…)``
opens exactly those in the queue). Amounts are summed in whole fen, so the groups of a
breakdown add up to the run's total to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow.parquet as pq

from hrss_fraud.outputs.labels import (
    family_labels,
    med_type_labels,
    unattributed,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hrss_fraud.outputs.runs_view import RunView

BREAKDOWNS = ("month", "care_type", "zone", "family", "rule")
"""What :func:`leads_by` can group by."""

_KEYS = {
    "month": "month",
    "care_type": "med_type",
    "zone": "zone",
    "family": "family",
    "rule": "rule_id",
}
"""Each breakdown's column in :func:`_findings`."""

_VALID = "coalesce(vali_flag, '1') = '1' AND coalesce(refd_setl_flag, '0') = '0'"
"""The settlements that count as spending: valid and not refunds, as the risk ranking
counts them."""


def _yuan(cents: pl.Expr) -> pl.Expr:
    return (cents / 100).round(2)


def _fen(amount: str) -> pl.Expr:
    return (pl.col(amount) * 100).round().cast(pl.Int64)


def fund_spending(view: RunView, *, lang: str = "zh") -> pl.DataFrame:
    """Per settlement month and care type (``med_type``): ``n_settlements``, ``inscp_amt``
    (in policy scope) and ``fund_pay_sumamt`` (paid by the fund), with the ``condition``
    that selects those settlements. Computed once per run: it scans every settlement."""

    def compute() -> pl.DataFrame:
        con = view.lake_cursor()
        try:
            return con.sql(
                f"""SELECT strftime(setl_time, '%Y-%m') AS month, med_type,
                           count(*) AS n_settlements,
                           CAST(sum(inscp_amt) AS DOUBLE) AS inscp_amt,
                           CAST(sum(fund_pay_sumamt) AS DOUBLE) AS fund_pay_sumamt
                    FROM settlement WHERE {_VALID}
                    GROUP BY ALL ORDER BY month, med_type"""
            ).pl()
        finally:
            con.close()

    spending = view.memo("fund_spending", lambda: view.from_mart("fund_spending", compute))
    names = med_type_labels(lang)
    return spending.with_columns(
        med_type_name=pl.col("med_type").replace_strict(names, default=pl.col("med_type")),
        condition=pl.format(
            "strftime(setl_time, '%Y-%m') = '{}' AND med_type = '{}' AND " + _VALID,
            "month",
            "med_type",
        ),
    ).select(
        "month",
        "med_type",
        "med_type_name",
        "n_settlements",
        "inscp_amt",
        "fund_pay_sumamt",
        "condition",
    )


def _findings(view: RunView) -> pl.DataFrame:
    """The columns every breakdown needs, with each lead's care type and zone."""

    def compute() -> pl.DataFrame:
        f = pl.scan_parquet(view.findings_path).select(
            "finding_id",
            "rule_id",
            "fixmedins_code",
            "setl_id",
            "period_start",
            "amount_at_risk",
        )
        con = view.lake_cursor()
        try:
            care = con.sql(
                "SELECT fixmedins_code, setl_id, any_value(med_type) AS med_type "
                "FROM settlement GROUP BY ALL"
            ).pl()
        finally:
            con.close()
        zones = view.institutions.select("fixmedins_code", "zone")
        families = pl.DataFrame(
            list(view.rule_families().items()), schema=["rule_id", "family"], orient="row"
        )
        return (
            f.join(care.lazy(), on=["fixmedins_code", "setl_id"], how="left")
            .join(zones.lazy(), on="fixmedins_code", how="left")
            .join(families.lazy(), on="rule_id", how="left")
            .with_columns(
                month=pl.col("period_start").dt.strftime("%Y-%m"), fen=_fen("amount_at_risk")
            )
            .sort("finding_id")  # so each group's finding_ids come out sorted
            .collect()
        )

    return view.memo("overview_findings", compute)


def leads_by(view: RunView, by: str, *, lang: str = "zh") -> pl.DataFrame:
    """Leads of the run per ``by`` (one of :data:`BREAKDOWNS`; month is the month the
    lead's period starts): ``key``, ``label``, ``n_findings``, ``amount_at_risk`` and the
    ``finding_ids`` behind them. A lead without a value (no settlement: no care type) falls
    in a group with a null key, so the groups always add up to the whole run."""
    if by not in _KEYS:
        msg = f"cannot break leads down by {by!r}; expected one of {', '.join(BREAKDOWNS)}"
        raise ValueError(msg)
    return view.memo(f"leads_by:{by}:{lang}", lambda: _leads_by(view, by, _KEYS[by], lang))


def grouped_leads(view: RunView, by: str) -> pl.DataFrame:
    """``key, n_findings, fen, finding_ids`` per ``by`` group, before labels: what the
    ``leads_by_<by>`` mart keeps."""
    key = _KEYS[by]

    def compute() -> pl.DataFrame:
        return (
            _findings(view)
            .group_by(pl.col(key).alias("key"))
            .agg(n_findings=pl.len(), fen=pl.col("fen").sum(), finding_ids=pl.col("finding_id"))
            .sort("key", nulls_last=True)
        )

    return view.from_mart(f"leads_by_{by}", compute)


def rule_names(view: RunView) -> pl.DataFrame:
    """``rule_id, rule_name, rule_name_en`` of every rule with leads in the run."""

    def compute() -> pl.DataFrame:
        names = pl.scan_parquet(view.findings_path).select("rule_id", "rule_name", "rule_name_en")
        return names.unique("rule_id", keep="first").sort("rule_id").collect()

    return view.memo("rule_names", lambda: view.from_mart("rule_names", compute))


def rule_titles(
    view: RunView, previous: RunView | None, rule_ids: Iterable[str], *, lang: str = "zh"
) -> dict[str, str]:
    """The name in ``lang`` of each of ``rule_ids``: as the runs' leads name it (the
    latest run's over the previous one's), else as the run's catalogue does (loaded only
    for a rule without leads, e.g. one that failed), else the id itself."""
    column = "rule_name_en" if lang == "en" else "rule_name"
    names: dict[str, str] = {}
    for v in (previous, view):
        if v is not None:
            names.update(dict(rule_names(v).select("rule_id", column).rows()))
    wanted = set(rule_ids)
    if wanted - names.keys():
        rules = view.catalogue.rules
        names.update(
            {
                r: rules[r].name_en if lang == "en" else rules[r].name_zh
                for r in wanted
                if r in rules
            }
        )
    return {r: names.get(r) or r for r in wanted}


def _leads_by(view: RunView, by: str, key: str, lang: str) -> pl.DataFrame:
    grouped = grouped_leads(view, by)
    names: dict[str, str]
    if by == "care_type":
        names = med_type_labels(lang)
    elif by == "family":
        names = family_labels(lang)
    elif by == "zone":
        zones = view.institutions.drop_nulls("zone").unique("zone", keep="first")
        names = dict(zip(zones["zone"], zones["zone_name"].fill_null(zones["zone"]), strict=True))
    elif by == "rule":
        rules = rule_names(view).select("rule_id", "rule_name_en" if lang == "en" else "rule_name")
        names = dict(rules.rows())
    else:
        names = {}
    return grouped.select(
        "key",
        label=pl.when(pl.col("key").is_null())
        .then(pl.lit(unattributed(lang)))
        .otherwise(pl.col("key").replace_strict(names, default=pl.col("key"))),
        n_findings="n_findings",
        amount_at_risk=_yuan(pl.col("fen")),
        finding_ids="finding_ids",
    )


def lead_totals(view: RunView) -> dict[str, Any]:
    """The run's number of leads and amount at risk, summed in fen like every breakdown."""

    def compute() -> pl.DataFrame:
        f = _findings(view)
        return pl.DataFrame({"n_findings": [f.height], "fen": [int(f["fen"].sum())]})

    row = view.memo("lead_totals", lambda: view.from_mart("lead_totals", compute)).row(0)
    return {"n_findings": int(row[0]), "amount_at_risk": round(int(row[1]) / 100, 2)}


def apart_counts(view: RunView) -> dict[str, int]:
    """How many cases the run's leads form and how many data-quality findings it keeps
    apart (shown on their own page, never in a lead figure), from the files' footers."""
    return {
        "n_cases": pq.read_metadata(view.cases_path).num_rows,
        "n_quality_findings": pq.read_metadata(view.quality_findings_path).num_rows,
    }


def run_status(view: RunView) -> dict[str, Any]:
    """What the status box says about the run: mode and why, when it started and
    finished, how long it took, how many findings, which rules failed (with why) and which
    did not run for want of knowledge (with what is missing: not a failure)."""
    m = view.manifest
    started, finished = m.get("started_at"), m.get("finished_at")
    seconds = None
    if started and finished:
        delta = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
        seconds = delta.total_seconds()
    rules = m.get("rules", [])
    failed = [
        {"rule_id": r.get("rule_id"), "error": r.get("error")}
        for r in rules
        if r.get("status") not in (None, "ok", "inactive")
    ]
    inactive = [
        {"rule_id": r.get("rule_id"), "reason": r.get("reason"), "reason_en": r.get("reason_en")}
        for r in rules
        if r.get("status") == "inactive"
    ]
    listed = {r["rule_id"] for r in failed}
    failed += [{"rule_id": r, "error": None} for r in m.get("failed_rules", []) if r not in listed]
    return {
        "run_id": view.run_id,
        "mode": m.get("mode"),
        "why": m.get("why"),
        "started_at": started,
        "finished_at": finished,
        "seconds": seconds,
        "findings": m.get("findings"),
        "amount_at_risk": m.get("amount_at_risk"),
        "n_rules": len(rules),
        "failed_rules": failed,
        "inactive_rules": inactive,
        "previous_run": m.get("previous_run"),
    }


@dataclass(frozen=True)
class RunChanges:
    """What changed from ``previous_run_id`` to ``run_id``, by the leads' stable ids."""

    run_id: str
    previous_run_id: str | None
    new: pl.DataFrame
    """``finding_id, rule_id, amount_at_risk`` of the leads only the latest run has."""
    gone: pl.DataFrame
    """The same for the leads only the previous run had."""
    n_kept: int
    amount_latest: float
    amount_previous: float
    by_rule: pl.DataFrame
    """Per rule: ``n_new``, ``n_gone``, ``amount_latest``, ``amount_previous``, ``change``."""

    @property
    def amount_change(self) -> float:
        return round(self.amount_latest - self.amount_previous, 2)


def _ids(view: RunView | None) -> pl.DataFrame:
    if view is None:
        schema = {"finding_id": pl.String, "rule_id": pl.String, "fen": pl.Int64}
        return pl.DataFrame(schema=schema)
    return view.memo(
        "finding_fen",
        lambda: (
            pl.scan_parquet(view.findings_path)
            .select("finding_id", "rule_id", fen=_fen("amount_at_risk"))
            .collect()
        ),
    )


def changes(latest: RunView, previous: RunView | None) -> RunChanges:
    """New and gone leads and the change in amount at risk between two runs (everything
    is new when there is no previous run). Computed once per pair of runs."""
    key = f"changes:{previous.run_id if previous else ''}"
    return latest.memo(key, lambda: _stored_changes(latest, previous) or _changes(latest, previous))


CHANGE_MARTS = ("changes_new", "changes_gone", "changes_by_rule", "changes_summary")
"""The marts :func:`changes` reads when they compare the same two runs."""


def change_frames(c: RunChanges) -> dict[str, pl.DataFrame]:
    """``c`` as the :data:`CHANGE_MARTS` frames."""
    summary = pl.DataFrame(
        {
            "run_id": [c.run_id],
            "previous_run_id": [c.previous_run_id],
            "n_kept": [c.n_kept],
            "amount_latest": [c.amount_latest],
            "amount_previous": [c.amount_previous],
        },
        schema={
            "run_id": pl.String,
            "previous_run_id": pl.String,
            "n_kept": pl.Int64,
            "amount_latest": pl.Float64,
            "amount_previous": pl.Float64,
        },
    )
    frames = {"changes_new": c.new, "changes_gone": c.gone, "changes_by_rule": c.by_rule}
    return {**frames, "changes_summary": summary}


def _stored_changes(latest: RunView, previous: RunView | None) -> RunChanges | None:
    """The changes kept in ``latest``'s marts, if they compare it with ``previous``."""
    paths = [latest.mart(name) for name in CHANGE_MARTS]
    if any(p is None for p in paths):
        return None
    new, gone, by_rule, summary = (pl.read_parquet(p) for p in paths if p is not None)
    s = summary.row(0, named=True)
    if s["previous_run_id"] != (previous.run_id if previous else None):
        return None
    return RunChanges(
        run_id=latest.run_id,
        previous_run_id=s["previous_run_id"],
        new=new,
        gone=gone,
        n_kept=int(s["n_kept"]),
        amount_latest=float(s["amount_latest"]),
        amount_previous=float(s["amount_previous"]),
        by_rule=by_rule,
    )


def _changes(latest: RunView, previous: RunView | None) -> RunChanges:
    now, before = _ids(latest), _ids(previous)
    new = now.join(before, on="finding_id", how="anti")
    gone = before.join(now, on="finding_id", how="anti")

    def per_rule(df: pl.DataFrame, n: str, fen: str) -> pl.DataFrame:
        return df.group_by("rule_id").agg(pl.len().alias(n), pl.col("fen").sum().alias(fen))

    by_rule = (
        per_rule(now, "n_latest", "fen_latest")
        .join(
            per_rule(before, "n_previous", "fen_previous"), on="rule_id", how="full", coalesce=True
        )
        .join(per_rule(new, "n_new", "fen_new"), on="rule_id", how="left")
        .join(per_rule(gone, "n_gone", "fen_gone"), on="rule_id", how="left")
        .fill_null(0)
        .select(
            "rule_id",
            "n_new",
            "n_gone",
            amount_latest=_yuan(pl.col("fen_latest")),
            amount_previous=_yuan(pl.col("fen_previous")),
            change=_yuan(pl.col("fen_latest") - pl.col("fen_previous")),
        )
        .sort("rule_id")
    )

    def shown(df: pl.DataFrame) -> pl.DataFrame:
        return df.select("finding_id", "rule_id", amount_at_risk=_yuan(pl.col("fen"))).sort(
            "finding_id"
        )

    return RunChanges(
        run_id=latest.run_id,
        previous_run_id=previous.run_id if previous else None,
        new=shown(new),
        gone=shown(gone),
        n_kept=now.height - new.height,
        amount_latest=round(int(now["fen"].sum()) / 100, 2),
        amount_previous=round(int(before["fen"].sum()) / 100, 2),
        by_rule=by_rule,
    )
