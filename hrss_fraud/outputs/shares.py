"""How much of an institution's or a person's claiming a rule or detector flags: the share
and amount of high-cost visits per institution and per person, the share of an
institution's patients with abnormal visit frequency (``hrss-fraud export rule-shares``).

Per institution: the settlements whose lines a rule's findings name as violating, over
the institution's valid settlements in the rule's care settings; the distinct persons
those findings name, over the institution's distinct patients in those settings; and the
amount at risk, each claim line counted once. Per person: the same over the person's own
settlements. Every figure is a count or sum over the run's finding lines.
"""

from __future__ import annotations

import polars as pl

from hrss_fraud.engine.runs import Run
from hrss_fraud.lake import Lake
from hrss_fraud.model.codes import INPATIENT_MED_TYPES, PHARMACY_MED_TYPES

_LINE = ("fixmedins_code", "setl_id", "mdtrt_id", "feedetl_sn")
_IP = ", ".join(f"'{m}'" for m in INPATIENT_MED_TYPES)
_PH = ", ".join(f"'{m}'" for m in PHARMACY_MED_TYPES)
_SETTINGS = {  # as the scoring database's visit.setting
    "ip": f"med_type IN ({_IP})",
    "ph": f"med_type IN ({_PH})",
    "op": f"coalesce(med_type, '') NOT IN ({_IP}, {_PH})",
}


def _settings_filter(run: Run, rule_id: str) -> str:
    """The care settings the rule looks at, from the catalogue the run was scored with."""
    rule = run.catalogue().rules.get(rule_id)
    if rule is None:
        msg = f"unknown rule {rule_id!r}: see `hrss-fraud rules list`"
        raise ValueError(msg)
    settings = rule.args.get("settings") or list(_SETTINGS)
    return " OR ".join(f"({_SETTINGS[s]})" for s in settings if s in _SETTINGS) or "true"


def rule_shares(run: Run, lake: Lake, rule_id: str, by: str = "institution") -> pl.DataFrame:
    """Per institution (``by="institution"``) or person (``"person"``): ``settlements``
    and ``flagged_settlements`` with their ``settlement_share``, ``persons`` and
    ``flagged_persons`` with their ``person_share`` (institutions only), and
    ``amount_at_risk``; sorted by the share, largest first."""
    if by not in ("institution", "person"):
        msg = f"rule shares are by institution or person, not {by!r}"
        raise ValueError(msg)
    key = "fixmedins_code" if by == "institution" else "psn_no"
    where = _settings_filter(run, rule_id)
    base = (
        lake.connect()
        .sql(f"""
        SELECT {key}, count(*) AS settlements, count(DISTINCT psn_no) AS persons
        FROM settlement
        WHERE coalesce(vali_flag, '1') = '1' AND coalesce(refd_setl_flag, '0') = '0'
          AND ({where}) AND {key} IS NOT NULL
        GROUP BY {key}
    """)
        .pl()
    )
    ids = run.findings().filter(pl.col("rule_id") == rule_id).select("finding_id")
    lines = run.lines().join(ids, on="finding_id", how="semi")
    violating = lines.filter(pl.col("role") == "violating")
    flagged = violating.group_by(key).agg(
        flagged_settlements=pl.struct("fixmedins_code", "setl_id").n_unique()
    )
    people = lines.group_by(key).agg(flagged_persons=pl.col("psn_no").drop_nulls().n_unique())
    money = (
        violating.group_by(*dict.fromkeys((key, *_LINE)))
        .agg(pl.col("amount_at_risk").max())
        .group_by(key)
        .agg(amount_at_risk=pl.col("amount_at_risk").sum().round(2))
    )
    out = (
        base.join(flagged, on=key, how="left")
        .join(people, on=key, how="left")
        .join(money, on=key, how="left")
        .with_columns(
            pl.col("flagged_settlements", "flagged_persons").fill_null(0),
            pl.col("amount_at_risk").fill_null(0.0),
        )
        .with_columns(
            settlement_share=(pl.col("flagged_settlements") / pl.col("settlements")).round(4),
            person_share=(pl.col("flagged_persons") / pl.col("persons")).round(4),
        )
    )
    cols = [key, "settlements", "flagged_settlements", "settlement_share"]
    if by == "institution":
        cols += ["persons", "flagged_persons", "person_share"]
    return (
        out.select(*cols, "amount_at_risk")
        .filter(pl.col("flagged_settlements") + pl.col("amount_at_risk") > 0)
        .sort(["settlement_share", "amount_at_risk", key], descending=[True, True, False])
    )
