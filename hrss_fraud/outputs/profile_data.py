"""What the profile pages (institution, doctor, person) share: reading the lake into a
frame, the peer group of an institution, and a unit's leads with their review decisions.

Kept apart so the three views compute "valid settlement", "peer" and "its leads" the same
way: a figure on one page must agree with the same figure on another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from hrss_fraud.lake.views import literal
from hrss_fraud.model.codes import INPATIENT_MED_TYPES, PHARMACY_MED_TYPES
from hrss_fraud.outputs.labels import LANGS
from hrss_fraud.outputs.leads import LeadFilter, lead_frame, lead_tally

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

VALID = "coalesce(vali_flag, '1') = '1' AND coalesce(refd_setl_flag, '0') = '0'"
"""Settlements that count as care given: valid and not refunds (as the risk ranking)."""

MIN_PEERS = 3
"""A kind of institution with fewer units than this (itself included) is compared with
every institution of its level instead, as the peer-profile rules pool it."""

PROFILE_LEADS = 50
"""How many of a unit's leads a profile lists, riskiest first; its per-rule counts cover
them all, and the lead queue filtered on the unit lists the rest."""

SETTINGS: dict[str, tuple[str, str]] = {
    "op": ("门诊", "outpatient"),
    "ip": ("住院", "inpatient"),
    "ph": ("药店购药", "pharmacy"),
}
"""Care setting, as the scoring database derives it from ``med_type``."""


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


SETTING_SQL = (
    f"CASE WHEN med_type IN {_in(INPATIENT_MED_TYPES)} THEN 'ip' "
    f"WHEN med_type IN {_in(PHARMACY_MED_TYPES)} THEN 'ph' ELSE 'op' END"
)


def pick(pair: tuple[str, str], lang: str) -> str:
    """The Chinese or English half of a label pair."""
    if lang not in LANGS:
        msg = f"unknown language {lang!r}; expected one of {', '.join(LANGS)}"
        raise ValueError(msg)
    return pair[1] if lang == "en" else pair[0]


def unit_where(code: str | None, column: str = "fixmedins_code") -> str:
    """The SQL condition of one institution's rows, or of every institution's (None)."""
    return "TRUE" if code is None else f"{column} = {literal(code)}"


def lake_frame(view: RunView, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    """One query over the lake's views on a connection of its own (one per call: a DuckDB
    connection must not be shared across the web server's threads)."""
    con = view.lake_cursor()
    try:
        return con.sql(sql, params=params or None).pl()
    finally:
        con.close()


def peer_groups(view: RunView) -> pl.DataFrame:
    """``fixmedins_code, fixmedins_name, medins_type, hosp_lv, peer_group`` of every
    institution: its kind and level, or its level alone when the kind has fewer than
    :data:`MIN_PEERS` units. Computed once per run."""

    def compute() -> pl.DataFrame:
        units = lake_frame(
            view,
            """SELECT fixmedins_code, max(fixmedins_name) AS fixmedins_name,
                      coalesce(max(medins_type), '') AS medins_type,
                      coalesce(max(hosp_lv), '') AS hosp_lv
               FROM institution GROUP BY fixmedins_code ORDER BY fixmedins_code""",
        )
        size = pl.len().over("medins_type", "hosp_lv")
        return units.with_columns(
            peer_group=pl.when(size >= MIN_PEERS)
            .then(pl.format("{}|{}", "medins_type", "hosp_lv"))
            .otherwise(pl.format("*|{}", "hosp_lv"))
        )

    return view.memo("profile:peer_groups", lambda: view.from_mart("peer_groups", compute))


def by_rule(leads: pl.DataFrame) -> pl.DataFrame:
    """Leads per rule: ``n_findings``, ``amount_at_risk`` (summed in fen), how many were
    confirmed, dismissed or are still open, and the ``finding_ids`` behind each count."""
    if leads.is_empty():
        return pl.DataFrame(
            schema={
                "rule_id": pl.String,
                "rule_name": pl.String,
                "n_findings": pl.UInt32,
                "amount_at_risk": pl.Float64,
                "n_confirmed": pl.UInt32,
                "n_dismissed": pl.UInt32,
                "n_open": pl.UInt32,
                "finding_ids": pl.List(pl.String),
            }
        )
    fen = (pl.col("amount_at_risk") * 100).round().cast(pl.Int64)
    status = pl.col("status")
    return (
        leads.group_by("rule_id")
        .agg(
            rule_name=pl.col("rule_name").first(),
            n_findings=pl.len(),
            fen=fen.sum(),
            n_confirmed=(status == "confirmed").sum().cast(pl.UInt32),
            n_dismissed=(status == "dismissed").sum().cast(pl.UInt32),
            finding_ids=pl.col("finding_id").sort(),
        )
        .with_columns(
            amount_at_risk=(pl.col("fen") / 100).round(2),
            n_open=(pl.col("n_findings") - pl.col("n_confirmed") - pl.col("n_dismissed")).cast(
                pl.UInt32
            ),
        )
        .sort(["fen", "rule_id"], descending=[True, False])
        .select(
            "rule_id",
            "rule_name",
            pl.col("n_findings").cast(pl.UInt32),
            "amount_at_risk",
            "n_confirmed",
            "n_dismissed",
            "n_open",
            "finding_ids",
        )
    )


def unit_leads(
    view: RunView, flt: LeadFilter, case_store: CaseStore | None, *, lang: str = "zh"
) -> tuple[pl.DataFrame, int, pl.DataFrame]:
    """A unit's leads as its profile shows them: the :data:`PROFILE_LEADS` riskiest
    (rows read), how many there are and the per-rule counts of all of them (from the
    in-memory index alone, so a hospital's hundreds of thousands cost no row read)."""
    tally = lead_tally(view, flt, case_store, lang=lang)
    riskiest = lead_frame(view, flt, case_store=case_store, lang=lang, limit=PROFILE_LEADS)
    return riskiest, tally.height, by_rule(tally)
