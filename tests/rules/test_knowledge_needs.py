"""Rules the knowledge base cannot drive are inactive, with the missing piece named: in
``rules list``, in ``score`` (skipped, the reason in the manifest), never zero findings
passed off as a result (hrss_fraud/engine/needs.py)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from hrss_fraud.cli import main
from hrss_fraud.engine.catalogue import CatalogueError, load_catalogue
from hrss_fraud.engine.needs import inactive_rules
from hrss_fraud.engine.runs import open_run
from hrss_fraud.knowledge import Knowledge, load_knowledge

#: Inactive on the sample knowledge base itself: no service or consumable in it carries a
#: contraindication.
SAMPLE_INACTIVE = {"dx_service_contraindication"}


def _without(kb: Knowledge, **columns: pl.Expr) -> Knowledge:
    return replace(kb, catalogue=kb.catalogue.with_columns(**columns))


def test_the_sample_knowledge_drives_every_rule_but_one() -> None:
    off = inactive_rules(list(load_catalogue().rules.values()), load_knowledge())
    assert set(off) == SAMPLE_INACTIVE
    reason = off["dx_service_contraindication"]
    assert reason.missing == ("catalogue.contraindications",)
    assert reason.reason_zh == (
        "未启用：缺少知识库 医保目录与知识库 catalogue.contraindications（禁忌症(ICD-10前缀)）："
        "没有满足 list_type IN ['201', '301'] 的条目"
    )


def test_an_empty_column_makes_its_rules_inactive_and_says_so() -> None:
    kb = load_knowledge()
    empty = _without(kb, lmt_gend=pl.lit(None, pl.String))
    off = inactive_rules(list(load_catalogue().rules.values()), empty)
    assert set(off) == SAMPLE_INACTIVE | {"item_sex"}
    assert off["item_sex"].reason_zh.startswith(
        "未启用：缺少知识库 医保目录与知识库 catalogue.lmt_gend（限性别）"
    )
    assert off["item_sex"].reason_en.startswith(
        "inactive: knowledge missing: catalogue.lmt_gend (sex restriction)"
    )
    # a column the file left out says so
    absent = replace(empty, absent={"catalogue": ("lmt_gend",)})
    off = inactive_rules([load_catalogue().rules["item_sex"]], absent)
    assert off["item_sex"].reason_zh.endswith("：文件中无此列")
    assert off["item_sex"].reason_en.endswith(": no such column in the file")


def test_a_need_holds_with_one_qualifying_entry() -> None:
    """Caps on services only leave the drug price rule inactive; one capped drug is enough."""
    kb = load_knowledge()
    drug = pl.col("list_type").is_in(["101", "102", "103", "104"])
    no_drug_caps = _without(
        kb, pric_uplmt_lv1=pl.when(drug).then(None).otherwise(pl.col("pric_uplmt_lv1"))
    )
    rules = [load_catalogue().rules[r] for r in ("drug_price_over_cap", "price_over_cap")]
    off = inactive_rules(rules, no_drug_caps)
    assert set(off) == {"drug_price_over_cap"}
    assert "药品的限价或医保支付标准" in off["drug_price_over_cap"].reason_zh
    one = (pl.col("med_list_codg") == "XC08CAA001A001010110037") | ~drug
    one_cap = _without(
        kb, pric_uplmt_lv1=pl.when(one).then(pl.col("pric_uplmt_lv1")).otherwise(None)
    )
    assert inactive_rules(rules, one_cap) == {}


def test_pair_rules_need_pairs_of_their_type() -> None:
    kb = load_knowledge()
    no_herbs = replace(kb, knowledge_pair=kb.knowledge_pair.filter(pl.col("pair_type") != "herb"))
    pairs = [r for r in load_catalogue().rules.values() if r.id.startswith("pair_")]
    off = inactive_rules(pairs, no_herbs)
    assert set(off) == {"pair_herb"}
    assert "配对类型 herb（十八反十九畏）" in off["pair_herb"].reason_zh


@pytest.mark.parametrize(
    ("need", "problem"),
    [
        ('column = "catalogue.no_such"', "has no column no_such"),
        ('column = ["catalogue.lmt_gend", "diagnosis.lmt_gend"]', "one knowledge table"),
        ('column = "lmt_gend"', "'table.column'"),
        ('column = "lake.cnt"', "one knowledge table"),
        ('column = "catalogue.lmt_gend"\nwhere = "x IN {{nope}}"', "no such parameter"),
    ],
)
def test_a_malformed_need_is_refused_with_the_rule_named(
    tmp_path: Path, need: str, problem: str
) -> None:
    root = tmp_path / "rules"
    shutil.copytree(Path(__file__).parents[2] / "analytics" / "rules", root)
    (root / "catalogue" / "zz_test.toml").write_text(
        '[[rule]]\nid = "needy"\nname_zh = "测试"\nname_en = "Test"\nseverity = "suspicious"\n'
        'behaviour = "测试"\nfamily = "test"\nlegal_basis = "无"\nentity = "fee_line"\n'
        f'sql = "item_sex.sql"\n\n[[rule.needs]]\n{need}\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match=r"zz_test\.toml rule needy") as err:
        load_catalogue(root)
    assert problem in str(err.value)


def test_a_need_whose_condition_does_not_run_names_its_rule(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(Path(__file__).parents[2] / "analytics" / "rules", root)
    (root / "catalogue" / "zz_test.toml").write_text(
        '[[rule]]\nid = "needy"\nname_zh = "测试"\nname_en = "Test"\nseverity = "suspicious"\n'
        'behaviour = "测试"\nfamily = "test"\nlegal_basis = "无"\nentity = "fee_line"\n'
        'sql = "item_sex.sql"\n\n[[rule.needs]]\ncolumn = "catalogue.lmt_gend"\n'
        "where = \"lmt_gendd = '1'\"\n",
        encoding="utf-8",
    )
    rule = load_catalogue(root).rules["needy"]
    with pytest.raises(CatalogueError, match=r"zz_test\.toml rule needy: a need's where"):
        inactive_rules([rule], load_knowledge())


@pytest.fixture
def no_sex_ws(full_ws: Path, tmp_path: Path) -> Path:
    """The scored tiny county with a knowledge base whose catalogue has no sex restriction."""
    ws = tmp_path / "ws"
    shutil.copytree(full_ws / "lake", ws / "lake")
    shutil.copytree(full_ws / "models", ws / "models")
    knowledge = ws / "analytics" / "knowledge"
    shutil.copytree(Path(__file__).parents[2] / "analytics" / "knowledge", knowledge)
    cat = pl.read_csv(knowledge / "catalogue.csv", infer_schema=False)
    cat.with_columns(lmt_gend=pl.lit(None, pl.String)).write_csv(knowledge / "catalogue.csv")
    return ws


def test_rules_list_shows_an_inactive_rule_with_what_it_lacks(no_sex_ws: Path) -> None:
    out = CliRunner().invoke(main, ["--workspace", str(no_sex_ws), "rules", "list"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("item_sex "))
    assert (
        lines[at + 1].strip().startswith("未启用：缺少知识库 医保目录与知识库 catalogue.lmt_gend")
    )
    assert "2 条未启用（缺少知识库）" in out.output
    en = CliRunner().invoke(main, ["--workspace", str(no_sex_ws), "rules", "list", "--lang", "en"])
    assert "inactive: knowledge missing: catalogue.lmt_gend (sex restriction)" in en.output
    js = CliRunner().invoke(main, ["--workspace", str(no_sex_ws), "rules", "list", "--json"])
    rows = {r["id"]: r for r in json.loads(js.output)["rules"]}
    assert rows["item_sex"]["status"] == "inactive"
    assert rows["item_sex"]["missing"] == ["catalogue.lmt_gend"]
    assert rows["item_sex"]["needs"] == [
        "catalogue.lmt_gend WHERE list_type IN ['101', '102', '103', '104', '201', '301']"
    ]
    assert rows["duplicate_line"]["status"] == "active" and rows["duplicate_line"]["needs"] == []


def test_score_skips_an_inactive_rule_and_records_why(no_sex_ws: Path) -> None:
    out = CliRunner().invoke(
        main, ["--workspace", str(no_sex_ws), "score", "--quiet", "--rules", "item_sex,item_dept"]
    )
    assert out.exit_code == 0, out.output
    assert "0 failed, 1 inactive" in out.output
    assert "rule item_sex 未启用：缺少知识库" in out.output
    run = open_run(no_sex_ws)
    assert run.manifest["inactive_rules"] == ["item_sex"] and run.manifest["failed_rules"] == []
    outcome = {r["rule_id"]: r for r in run.manifest["rules"]}
    assert outcome["item_sex"]["status"] == "inactive"
    assert outcome["item_sex"]["reason_en"].startswith("inactive: knowledge missing: catalogue")
    assert outcome["item_sex"]["n_findings"] == 0 and outcome["item_dept"]["status"] == "ok"
    assert set(run.findings()["rule_id"]) == {"item_dept"}
