"""The data-quality report on the scored tiny county: per institution and rule as the run
layer's summary says, the institutions' totals adding up, the drill-down to findings and
lines, the export, the institution profile's block; and no data-quality finding in any
lead figure."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from hrss_fraud.outputs import quality_view as qv
from hrss_fraud.outputs.institution_view import institution_profile
from hrss_fraud.outputs.labels import med_type_labels
from hrss_fraud.outputs.leads import LeadFilter, count, lead_index
from hrss_fraud.outputs.overview import apart_counts, lead_totals, leads_by
from hrss_fraud.outputs.quality import quality_summary
from hrss_fraud.outputs.runs_view import RunView


@pytest.fixture(scope="module")
def quality(county_view: RunView) -> pl.DataFrame:
    return county_view.run.quality_findings()


@pytest.fixture(scope="module")
def worst(county_view: RunView) -> dict:
    """The institution with the most data-quality findings."""
    return qv.institutions(county_view).row(0, named=True)


def test_by_rule_is_the_run_layers_summary(county_view: RunView) -> None:
    for lang in ("zh", "en"):
        expected = quality_summary(county_view.run, county_view.lake, lang)
        assert_frame_equal(qv.by_rule(county_view, lang=lang), expected)


def test_institutions_add_up_to_the_run(county_view: RunView, quality: pl.DataFrame) -> None:
    units = qv.institutions(county_view)
    assert tuple(units.columns) == qv.INSTITUTION_COLUMNS
    assert units["n_findings"].sum() == quality.height > 0
    assert units["fixmedins_code"].is_unique().all()
    lake = qv.lake_quality(county_view)
    assert set(lake["fixmedins_code"]) <= set(units["fixmedins_code"])  # every one the lake has
    assert units["n_findings"].to_list() == sorted(units["n_findings"].to_list(), reverse=True)


def test_settlements_touched_count_each_settlement_once(county_view: RunView, worst: dict) -> None:
    code = worst["fixmedins_code"]
    lines = county_view.run.quality_lines()
    mine = county_view.run.quality_findings().filter(pl.col("fixmedins_code") == code)
    distinct = lines.join(mine.select("finding_id"), on="finding_id")["setl_id"].drop_nulls()
    assert worst["n_settlements"] == distinct.n_unique()
    rules = qv.by_rule(county_view).filter(pl.col("fixmedins_code") == code)
    assert worst["n_settlements"] <= rules["n_settlements"].sum()
    assert worst["share_of_settlements"] == pytest.approx(
        worst["n_settlements"] / worst["institution_settlements"], abs=1e-4
    )


def test_drill_down_to_findings_and_lines(county_view: RunView, worst: dict) -> None:
    code = worst["fixmedins_code"]
    unit = qv.institution(county_view, code)
    rule = unit["rules"].row(0, named=True)
    found, n = qv.findings(county_view, code, rule["rule_id"], limit=3)
    assert n == rule["n_findings"] and found.height == min(3, n)
    assert tuple(found.columns) == qv.FINDING_COLUMNS
    assert set(found["rule_id"]) == {rule["rule_id"]} and set(found["fixmedins_code"]) == {code}
    everything, total = qv.findings(county_view, code, limit=None)
    assert total == everything.height == worst["n_findings"]
    lines = qv.lines(county_view, found["finding_id"][0])
    assert lines.height >= 1 and "setl_id" in lines.columns
    assert qv.lines(county_view, "not-a-finding").height == 0
    with pytest.raises(LookupError, match="not in the lake"):
        qv.institution(county_view, "NOPE")


def test_no_data_quality_finding_is_a_lead(county_view: RunView, quality: pl.DataFrame) -> None:
    index = lead_index(county_view)
    assert index.positions(quality["finding_id"]).max() == -1
    assert count(county_view, LeadFilter(finding_ids=tuple(quality["finding_id"]))) == 0
    families = leads_by(county_view, "family")["key"].to_list()
    assert "data_quality" not in families
    leads = county_view.run.findings()
    assert lead_totals(county_view)["n_findings"] == leads.height
    assert apart_counts(county_view)["n_quality_findings"] == quality.height
    quality_rules = set(quality["rule_id"])
    assert quality_rules and not quality_rules & set(leads_by(county_view, "rule")["key"])


def test_the_export_has_the_report_and_every_finding(
    county_view: RunView, worst: dict, quality: pl.DataFrame
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(qv.export_bytes(county_view)), read_only=True)
    assert book.sheetnames == ["机构汇总", "按规则", "数据质量问题", "说明"]
    units = list(book["机构汇总"].iter_rows(values_only=True))
    assert units[0][:3] == ("定点医药机构编号", "定点医药机构名称", "问题数")
    assert units[1][0] == worst["fixmedins_code"] and units[1][2] == worst["n_findings"]
    assert book["数据质量问题"].max_row == quality.height + 1
    one = openpyxl.load_workbook(
        io.BytesIO(qv.export_bytes(county_view, code=worst["fixmedins_code"], lang="en")),
        read_only=True,
    )
    assert one.sheetnames == ["institutions", "by rule", "findings", "about"]
    assert one["findings"].max_row == worst["n_findings"] + 1


def test_the_institution_profile_shows_its_data_quality_findings(
    county_view: RunView, worst: dict
) -> None:
    profile = institution_profile(county_view, worst["fixmedins_code"])
    assert profile.quality_findings["n_findings"].sum() == worst["n_findings"]
    assert profile.quality is not None and "quarantined" in profile.quality
    assert not set(profile.leads["finding_id"]) & set(
        qv.findings(county_view, worst["fixmedins_code"], limit=None)[0]["finding_id"]
    )


def test_lines_show_care_types_and_times_in_words(county_view: RunView, worst: dict) -> None:
    found, _ = qv.findings(county_view, worst["fixmedins_code"], limit=20)
    lines = pl.concat([qv.lines(county_view, f) for f in found["finding_id"]], how="diagonal")
    care = set(lines["med_type"].drop_nulls())
    assert care and care <= set(med_type_labels("zh").values())
    assert lines["line_time"].drop_nulls().str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d$").all()
    english = qv.lines(county_view, found["finding_id"][0], lang="en")
    assert set(english["med_type"].drop_nulls()) <= set(med_type_labels("en").values())


def test_quarantine_reasons_in_words() -> None:
    assert qv.reasons_text("bad_code:3; too_long:1") == "代码不在代码表中 3；值超长 1"
    assert qv.reasons_text("bad_code:3; too_long:1", "en") == "bad code 3; too long 1"
    assert qv.reasons_text(None) is None
