"""The overview's 按县 panel on a hand-made run over two counties: each lead carries the
counties of its lines' institutions, a lead in two counties is marked 跨县 and listed first,
the county filter keeps the leads involving the county, and a one-county run has no panel."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from helpers.small_run import publish_small, small_findings, small_lines

from hrss_fraud.dashboard import context, county_panel
from hrss_fraud.engine.runs import publish
from hrss_fraud.outputs import counties
from hrss_fraud.outputs.runs_view import RunView

RUN = "20250501T000000000Z"
INSTITUTIONS = pl.DataFrame(
    {
        "fixmedins_code": ["H1", "H2", "H3"],
        "fixmedins_name": ["永宁县人民医院", "安丰县大药房", "永宁县城关镇卫生院"],
        "zone": ["130123101", "130124102", "130123105"],
        "zone_name": ["城关镇", "东关镇", "城关镇"],
    }
)
ROWS = [
    (
        "c1",
        "prov_same_day_counties",
        "high",
        "H1",
        "P1",
        ("2025-03-05", "2025-03-05"),
        50.0,
        "跨县",
        "cross-county",
    ),
    (
        "c2",
        "drug_supply_cap",
        "definite",
        "H2",
        "P2",
        ("2025-03-01", "2025-03-01"),
        100.0,
        "超量",
        "over",
    ),
    (
        "c3",
        "drug_supply_cap",
        "definite",
        "H3",
        "P3",
        ("2025-03-02", "2025-03-02"),
        10.0,
        "超量",
        "over",
    ),
]


def t(key: str, **fields: object) -> str:
    return context.text(key, "zh", **fields)


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> RunView:
    ws = tmp_path_factory.mktemp("two_counties")
    findings = small_findings(RUN, ROWS).with_columns(
        entity_type=pl.when(pl.col("finding_id") == "c1")
        .then(pl.lit("person"))
        .otherwise(pl.col("entity_type"))
    )
    lines = small_lines(findings)
    # c1's second line: the same person at H2, in the other county, on the same day
    second = lines.filter(pl.col("finding_id") == "c1").with_columns(
        fixmedins_code=pl.lit("H2"), setl_id=pl.lit("Sc1b"), mdtrt_id=pl.lit("Mc1b")
    )
    manifest = {"run_id": RUN, "mode": "full", "rules": [], "failed_rules": []}
    run = publish(ws, RUN, findings, pl.concat([lines, second]), manifest)
    return RunView(ws, run, INSTITUTIONS)


def test_each_lead_carries_the_counties_of_its_lines(view: RunView) -> None:
    fc = counties.finding_counties(view).sort("finding_id")
    assert fc["counties"].to_list() == [["130123", "130124"], ["130124"], ["130123"]]
    assert fc["cross"].to_list() == [True, False, False]


def test_the_summary_counts_every_lead_in_each_county_it_involves(view: RunView) -> None:
    s = counties.county_summary(view)
    assert s.rows() == [
        ("130123", "永宁县", 2, 60.0, 1),
        ("130124", "安丰县", 2, 150.0, 1),
    ]
    assert counties.county_summary(view, "en")["county_name"].to_list() == [
        "Yongning County",
        "Anfeng County",
    ]


def test_a_county_keeps_its_leads_cross_county_first(view: RunView) -> None:
    rows = counties.county_leads(view, "130123")
    assert rows["finding_id"].to_list() == ["c1", "c3"]
    assert rows["county_names"].to_list() == ["永宁县、安丰县", "永宁县"]
    assert counties.county_leads(view, "130124", cross_only=True)["finding_id"].to_list() == ["c1"]
    assert counties.county_leads(view)["finding_id"].to_list() == ["c1", "c2", "c3"]


def test_the_link_names_the_person_only_for_who_may_see_identities(view: RunView) -> None:
    hidden = counties.county_leads(view, "130123")["link"][0]
    shown = counties.county_leads(view, "130123", identities=True)["link"][0]
    assert hidden == "/leads?view=leads&institution=H1"
    assert shown == "/leads?view=leads&person=P1"


def test_the_panel_marks_cross_county_leads(view: RunView) -> None:
    assert "永宁县（130123）" in str(county_panel.panel(view, t, "zh"))
    en = county_panel.panel(view, lambda key, **f: context.text(key, "en", **f), "en")
    assert "Yongning County (130123)" in str(en) and "永宁县" not in str(en)
    table = county_panel.leads_table(county_panel.rows_for(view, "130124", [], "zh", False), t)
    text = str(table)
    assert text.count("cross-county") == 1  # the one badge, on c1's row
    assert "永宁县、安丰县" in text and "安丰县大药房" in text


def test_a_one_county_run_has_no_panel(tmp_path: Path) -> None:
    one = INSTITUTIONS.with_columns(zone=pl.lit("130123101"))
    run = publish_small(tmp_path, RUN, small_findings(RUN, ROWS))
    assert county_panel.panel(RunView(tmp_path, run, one), t, "zh") is None
