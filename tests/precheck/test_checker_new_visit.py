"""A visit the lake has never seen, as a hospital sends it before settlement: a person
without history, no settlement id, lines without their catalogue kind."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl

from hrss_fraud.precheck.checker import Checker
from hrss_fraud.precheck.visit import Visit


def _visit(items: pl.DataFrame, gend: str) -> Visit:
    amounts = [float(p) for p in items["pric"]]
    lines = pl.DataFrame(
        {
            "feedetl_sn": [str(i + 1) for i in range(items.height)],
            "med_list_codg": items["med_list_codg"].to_list(),
            "cnt": [1] * items.height,
            "pric": amounts,
            "det_item_fee_sumamt": amounts,
        }
    )
    return Visit(
        fixmedins_code="H-NEW",
        psn_no="P-NEW",
        mdtrt_id="M-NEW",
        med_type="11",
        begntime=datetime(2025, 6, 1, 9),
        endtime=None,
        insutype="390",
        dise_codg=None,
        diagnoses=(),
        oprn_oprt_code=(),
        gend=gend,
        brdy=date(1980, 1, 1),
        adm_dept_codg=None,
        lines=lines,
    )


def test_an_item_for_the_other_sex_is_a_hit_on_its_line_with_its_whole_amount(
    scored_tiny_county: Path,
) -> None:
    checker = Checker(scored_tiny_county, ["item_sex"])
    cat = checker.knowledge.catalogue
    female_only = cat.filter((pl.col("lmt_gend") == "2") & (pl.col("pric") > 0)).head(2)
    assert female_only.height == 2, "the knowledge base has no item for women alone"
    hits = checker.check(_visit(female_only, gend="1"))
    assert [h.rule_id for h in hits] == ["item_sex", "item_sex"]
    assert sorted(h.violating for h in hits) == [("1",), ("2",)]
    # no in-scope amount before settlement: the line's whole amount is at risk
    assert sorted(h.amount for h in hits) == sorted(float(p) for p in female_only["pric"])
    assert all("限女性使用" in h.content and h.involved == () for h in hits)
    assert checker.check(_visit(female_only, gend="2")) == []


def test_a_cross_county_rule_is_not_checked_on_one_countys_lake(scored_tiny_county: Path) -> None:
    checker = Checker(scored_tiny_county, ["item_sex"])
    zh, en = checker.skipped["prov_same_day_counties"]
    assert "须有至少 2 个县" in zh and "the lake holds 1" in en
    assert "prov_same_day_counties" not in Checker(scored_tiny_county).rules
