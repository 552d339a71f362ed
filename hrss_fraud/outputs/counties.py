"""Leads by county, for a run over several counties (a city's or a province's lake): the
counties each lead involves — those of the institutions of its lines, so a person seen in
three counties on one day is a lead of all three — and whether it crosses counties (跨县).
On one county's run there is nothing to show, and the screens show nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import polars as pl

from hrss_fraud.lake.views import literal
from hrss_fraud.model.counties import county_name
from hrss_fraud.outputs.leads import check_lang

if TYPE_CHECKING:
    from hrss_fraud.outputs.runs_view import RunView

LEAD_COLUMNS = (
    "finding_id",
    "rule_name",
    "entity_type",
    "fixmedins_name",
    "counties",
    "county_names",
    "cross",
    "amount_at_risk",
    "link",
)
"""A county lead row: ``counties`` the codes it involves, ``county_names`` their names
joined in the screen's language, ``cross`` true when there are two or more, ``link`` the
lead queue narrowed to its person (or institution)."""


def run_counties(view: RunView) -> list[str]:
    """The county codes of the run's institutions, in order."""
    zones = view.institutions["zone"].drop_nulls()
    return sorted({z[:6] for z in zones.to_list() if len(z) >= 6 and z[:6].isdigit()})


def finding_counties(view: RunView) -> pl.DataFrame:
    """``finding_id``, ``counties`` (sorted codes) and ``cross`` of every lead that has
    lines, computed once per run."""

    def compute() -> pl.DataFrame:
        inst = view.institutions.select(
            "fixmedins_code", county=pl.col("zone").str.slice(0, 6)
        ).drop_nulls("county")
        con = view.cursor()
        try:
            con.register("_inst", inst)
            df = con.sql(
                f"""SELECT l.finding_id, list_sort(list(DISTINCT i.county)) AS counties
                    FROM read_parquet({literal(str(view.lines_path))}) l
                    JOIN _inst i USING (fixmedins_code)
                    GROUP BY l.finding_id"""
            ).pl()
        finally:
            con.close()
        return df.with_columns(cross=pl.col("counties").list.len() >= 2)

    return view.memo("finding_counties", compute)


def county_summary(view: RunView, lang: str = "zh") -> pl.DataFrame:
    """Per county: its name, the leads involving it, their amount at risk, and how many of
    them cross counties."""
    check_lang(lang)
    fc = finding_counties(view)
    amounts = pl.read_parquet(view.findings_path, columns=["finding_id", "amount_at_risk"])
    per = (
        fc.join(amounts, on="finding_id")
        .explode("counties")
        .group_by(county="counties")
        .agg(
            n_findings=pl.len(),
            amount_at_risk=pl.col("amount_at_risk").sum().round(2),
            n_cross=pl.col("cross").sum(),
        )
    )
    counties = pl.DataFrame({"county": run_counties(view)}, schema={"county": pl.String})
    return (
        counties.join(per, on="county", how="left")
        .with_columns(
            pl.col("n_findings", "n_cross").fill_null(0),
            pl.col("amount_at_risk").fill_null(0.0),
            county_name=pl.col("county").map_elements(
                lambda c: county_name(c, lang), return_dtype=pl.String
            ),
        )
        .select("county", "county_name", "n_findings", "amount_at_risk", "n_cross")
    )


def county_leads(
    view: RunView,
    county: str | None = None,
    *,
    cross_only: bool = False,
    lang: str = "zh",
    limit: int = 100,
    identities: bool = False,
) -> pl.DataFrame:
    """The leads involving ``county`` (every county's when None), those crossing counties
    first, then by amount at risk; at most ``limit``. ``identities``: the link may name the
    person (a role that may see who they are), otherwise it names the institution."""
    check_lang(lang)
    fc = finding_counties(view)
    if county is not None:
        fc = fc.filter(pl.col("counties").list.contains(county))
    if cross_only:
        fc = fc.filter(pl.col("cross"))
    name = "rule_name_en" if lang == "en" else "rule_name"
    findings = pl.read_parquet(
        view.findings_path,
        columns=["finding_id", name, "entity_type", "fixmedins_code", "psn_no", "amount_at_risk"],
    ).rename({name: "rule_name"})
    names = {c: county_name(c, lang) for c in run_counties(view)}
    sep = ", " if lang == "en" else "、"
    rows = (
        fc.join(findings, on="finding_id")
        .join(
            view.institutions.select("fixmedins_code", "fixmedins_name"),
            on="fixmedins_code",
            how="left",
        )
        .sort(["cross", "amount_at_risk", "finding_id"], descending=[True, True, False])
        .head(limit)
    )
    return rows.with_columns(
        county_names=pl.col("counties")
        .list.eval(pl.element().replace_strict(names, default=pl.element()))
        .list.join(sep),
        link=pl.struct("psn_no", "fixmedins_code", "entity_type").map_elements(
            lambda r: _link(r, identities), return_dtype=pl.String
        ),
    ).select(LEAD_COLUMNS)


def _link(row: dict[str, str | None], identities: bool) -> str:
    """The lead queue narrowed to the lead's person, or its institution."""
    if identities and row["entity_type"] == "person" and row["psn_no"]:
        return "/leads?" + urlencode({"view": "leads", "person": row["psn_no"]})
    return "/leads?" + urlencode({"view": "leads", "institution": row["fixmedins_code"] or ""})
