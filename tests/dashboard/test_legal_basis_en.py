"""A rule's legal basis and its parameters' units in English (issue 18): the shipped
catalogue's are all known, clauses are read from their Chinese numerals, and the lead
panel's content carries them in the language asked for."""

from __future__ import annotations

import re

import polars as pl
import pytest

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.params import UNITS_EN, unit_text
from hrss_fraud.outputs.lead_detail import lead_detail
from hrss_fraud.outputs.legal_basis import basis_en, basis_text, chinese_number, untranslated
from hrss_fraud.outputs.runs_view import RunView

CATALOGUE = load_catalogue()
HAN = re.compile(r"[\u3400-\u9fff]")
REGULATIONS = (
    "Regulations on the Supervision and Administration of the Use of Medical Security Funds"
)


def test_every_basis_of_the_shipped_catalogue_reads_without_chinese() -> None:
    bases = {r.legal_basis for r in CATALOGUE.rules.values() if r.legal_basis}
    assert len(bases) > 50
    missing = {b: untranslated(b) for b in bases if untranslated(b)}
    assert missing == {}
    assert [b for b in bases if not basis_en(b).isascii()] == []  # nor full-width signs


def test_every_unit_of_the_shipped_catalogue_has_its_english_word() -> None:
    units = {p.unit for r in CATALOGUE.rules.values() for p in r.params if p.unit}
    assert {"比例", "个", "人次", "天", "分位", "倍稳健标准差"} <= units
    assert units - UNITS_EN.keys() == set()
    assert all(not HAN.search(unit_text(u, "en") or "") for u in units)
    assert unit_text("天", "zh") == "天" and unit_text("天", "en") == "days"
    assert unit_text("光年", "en") == "光年"  # a centre's own unit: as written
    assert unit_text(None, "en") is None


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("一", 1), ("十", 10), ("十五", 15), ("二十", 20), ("三十八", 38), ("一百零二", 102)],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_number(numeral) == value


def test_clauses_become_articles_paragraphs_and_items() -> None:
    assert basis_en("《医疗保障基金使用监督管理条例》第十五条") == f"{REGULATIONS}, Article 15"
    assert basis_en("条例第十五条第二款第三项") == f"{REGULATIONS}, Article 15, paragraph 2, item 3"
    assert basis_en("条例第十五条、第三十八条（重复收费）") == (
        f"{REGULATIONS}, Article 15, Article 38 (duplicate charging)"
    )
    assert basis_en("《社会保险法》第八十六条；《社会保险费征缴暂行条例》第十条") == (
        "Social Insurance Law, Article 86; Interim Regulations on the Collection and Payment "
        "of Social Insurance Premiums, Article 10"
    )
    assert basis_en("《处方管理办法》（卫生部令第53号）第六条") == (
        "Measures for the Administration of Prescriptions (Ministry of Health Order No. 53), "
        "Article 6"
    )


def test_an_unknown_title_stays_chinese_where_it_can_be_seen() -> None:
    assert basis_en("《某市医保办法》第三条") == "《某市医保办法》, Article 3"
    assert untranslated("《某市医保办法》第三条") == list("某市医保办法")
    assert basis_text("条例第十四条", "zh") == "条例第十四条"
    assert basis_text(None, "en") is None


def test_the_lead_panel_content_in_english_has_english_basis_and_units(
    county_view: RunView,
) -> None:
    findings = county_view.run.findings()
    f = (
        findings.filter(pl.col("rule_id") == "drug_supply_cap")
        .sort("finding_id")
        .row(0, named=True)
    )
    rule = CATALOGUE.rules["drug_supply_cap"]
    en = lead_detail(county_view, f["finding_id"], lang="en")
    assert en.rule["legal_basis"] == rule.legal_basis  # the Chinese, for the hover
    assert en.rule["legal_basis_text"] == basis_en(rule.legal_basis)
    assert not HAN.search(en.rule["legal_basis_text"])
    units = [u for u in en.params["unit"].to_list() if u]
    assert units and not any(HAN.search(u) for u in units)
    zh = lead_detail(county_view, f["finding_id"], lang="zh")
    assert zh.rule["legal_basis_text"] == rule.legal_basis
    assert zh.params["unit"].to_list() == [
        p.unit for p in sorted(rule.params, key=lambda p: p.name)
    ]
