"""Tests for the sample knowledge base, the generator's usage recipe and their loader."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl
import pytest

from hrss_fraud.knowledge import (
    RECIPE_GROUP_DEPT,
    RECIPE_GROUP_MIN_HOSP_LV,
    USAGE,
    Knowledge,
    default_knowledge_dir,
    default_recipe_dir,
    load_knowledge,
    load_usage,
)
from hrss_fraud.model import schema as S

if TYPE_CHECKING:
    from pathlib import Path

AGE_65_DAYS = 65 * 365
#: A period cap the generator can respect by spacing visits (dialysis: 3 per 7 days).
MAX_RECIPE_PERIOD_DAYS = 30
ADMITTED_GROUPS = [
    "COPD",
    "CHD",
    "STROKE",
    "PNEU",
    "APPEND",
    "CHOLE",
    "FRACT",
    "DELIV",
    "CATAR",
    "CANCER",
    "CHEMO",
    "DIALYSIS",
    "KNEE_OA",
    "LUMBAR",
    "GASTR",
    "DM",
    "HTN",
]
SURGICAL_GROUPS = ["APPEND", "CHOLE", "FRACT", "DELIV", "CATAR", "BPH", "KNEE_OA"]
CHRONIC_GROUPS = ["HTN", "DM", "COPD", "CHD", "STROKE"]
ALL_GROUPS = [
    "HTN",
    "DM",
    "COPD",
    "CHD",
    "STROKE",
    "URTI",
    "BRONCH",
    "PNEU",
    "GASTR",
    "LUMBAR",
    "KNEE_OA",
    "APPEND",
    "CHOLE",
    "FRACT",
    "DELIV",
    "CATAR",
    "CANCER",
    "CHEMO",
    "CKD",
    "DIALYSIS",
    "GYN",
    "BPH",
    "NEONATE",
    "PED_DIARR",
    "DERM",
    "TCM_PAIN",
    "GENERAL",
]
#: A med_type each setting is certainly billed under (ip also as maternity for DELIV).
SETTING_MED_TYPES = {"op": {"11"}, "ip": {"21"}, "ph": {"41"}}
PER_DAY_IP_ROLES = {"drug", "treat"}
PACK_ROLES = {("op", "drug"), ("ph", "drug"), ("ip", "discharge_drug")}


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="module")
def usage(kb: Knowledge) -> pl.DataFrame:
    return load_usage(catalogue=kb.catalogue)


@pytest.fixture(scope="module")
def items(kb: Knowledge) -> dict[str, dict[str, object]]:
    return {r["med_list_codg"]: r for r in kb.catalogue.iter_rows(named=True)}


# ------------------------------------------------------------------ the sample tables load


def test_sample_tables_load_with_schema_dtypes(kb: Knowledge) -> None:
    for table in (S.CATALOGUE, S.KNOWLEDGE_PAIR, S.DIAGNOSIS, S.PROCEDURE):
        frame = getattr(kb, table.name)
        assert frame.schema == table.polars_schema()
        assert frame.height > 0


def test_sample_headers_are_the_schema_field_names_in_order() -> None:
    for table in (S.CATALOGUE, S.KNOWLEDGE_PAIR, S.DIAGNOSIS, S.PROCEDURE):
        with (default_knowledge_dir() / f"{table.name}.csv").open(encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == table.names


def test_codes_keep_leading_zeros(kb: Knowledge) -> None:
    services = kb.catalogue.filter(pl.col("list_type") == "201")["med_list_codg"]
    assert services.str.starts_with("00").all()
    assert (services.str.len_chars() == 15).all()


def test_usage_loads_with_its_dtypes(usage: pl.DataFrame) -> None:
    assert usage.schema == USAGE.polars_schema()


def test_every_pair_and_usage_code_is_in_the_catalogue(kb: Knowledge, usage: pl.DataFrame) -> None:
    known = set(kb.catalogue["med_list_codg"])
    assert set(kb.knowledge_pair["item_a"]) <= known
    assert set(kb.knowledge_pair["item_b"]) <= known
    assert set(usage["med_list_codg"]) <= known


# ------------------------------------------------------------------ catalogue coverage

TEMPLATES: dict[str, pl.Expr] = {
    "sex male": pl.col("lmt_gend") == "1",
    "sex female": pl.col("lmt_gend") == "2",
    "newborn only": pl.col("lmt_age_max_days") <= 28,
    "child only": pl.col("lmt_age_max_days").is_between(29, 6570),
    "minimum age": pl.col("lmt_age_min_days").is_not_null(),
    "forbidden for children": pl.col("forbid_age_max_days").is_not_null(),
    "caution elderly": pl.col("caution_elderly") == "1",
    "caution pregnancy": pl.col("caution_pregnancy") == "1",
    "maternity insurance only": pl.col("lmt_insutype").str.contains("510"),
    "work injury only": pl.col("lmt_insutype").str.contains("610"),
    "institution level": pl.col("lmt_hosp_lv").is_not_null(),
    "department": pl.col("lmt_dept").is_not_null(),
    "care setting": pl.col("lmt_med_type").is_not_null(),
    "indications": pl.col("indications").is_not_null(),
    "contraindications": pl.col("contraindications").is_not_null(),
    "disease catalogue": pl.col("lmt_dise_catalog").is_not_null(),
    "herb never payable": pl.col("herb_nopay") == "all",
    "herb not payable alone": pl.col("herb_nopay") == "single",
    "price cap": pl.col("pric_uplmt_lv1").is_not_null(),
    "cap per line": pl.col("max_cnt_line").is_not_null(),
    "cap per day": pl.col("max_cnt_day").is_not_null(),
    "cap per visit": pl.col("max_cnt_visit").is_not_null(),
    "cap per period": pl.col("max_cnt_period").is_not_null() & pl.col("period_days").is_not_null(),
    "days' supply": pl.col("max_days_supply").is_not_null() & pl.col("days_per_unit").is_not_null(),
    "course length": pl.col("max_course_days").is_not_null(),
    "reimbursed total": pl.col("max_amt_total").is_not_null(),
    "second line": pl.col("first_line_class").is_not_null(),
    "antibiotic tier 1": pl.col("antibiotic_tier") == "1",
    "antibiotic tier 2": pl.col("antibiotic_tier") == "2",
    "antibiotic tier 3": pl.col("antibiotic_tier") == "3",
    "surgery discount": pl.col("oprn_discount") == "second_50",
    "CT items": pl.col("item_group") == "CT",
    "MRI items": pl.col("item_group") == "MRI",
}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_rule_template_has_at_least_two_items(kb: Knowledge, template: str) -> None:
    assert kb.catalogue.filter(TEMPLATES[template]).height >= 2


def test_every_service_and_consumable_has_ordered_price_caps(kb: Knowledge) -> None:
    priced = kb.catalogue.filter(pl.col("list_type").is_in(["201", "301"]))
    bad = priced.filter(
        pl.col("pric_uplmt_lv1").is_null()
        | (pl.col("pric") > pl.col("pric_uplmt_lv1"))
        | (pl.col("pric_uplmt_lv1") > pl.col("pric_uplmt_lv2"))
        | (pl.col("pric_uplmt_lv2") > pl.col("pric_uplmt_lv3"))
    )
    assert bad["med_list_name"].to_list() == []


def test_herbal_pieces_are_typed_as_herbs(kb: Knowledge) -> None:
    herbs = kb.catalogue.filter(pl.col("list_type") == "102")
    assert (herbs["med_chrgitm_type"] == "10").all()
    assert herbs.filter(pl.col("herb_nopay").is_not_null())["chrgitm_lv"].eq("03").all()


@pytest.mark.parametrize(
    "pair_type", ["duplicate", "unbundle", "interaction", "herb", "companion", "drug_service"]
)
def test_every_pair_type_has_at_least_three_rows(kb: Knowledge, pair_type: str) -> None:
    assert kb.knowledge_pair.filter(pl.col("pair_type") == pair_type).height >= 3


def test_herb_pairs_cover_the_eighteen_incompatibilities(
    kb: Knowledge, items: dict[str, dict[str, object]]
) -> None:
    herb = kb.knowledge_pair.filter(pl.col("pair_type") == "herb")
    names = {
        (items[a]["med_list_name"], items[b]["med_list_name"])
        for a, b in herb.select("item_a", "item_b").iter_rows()
    }
    assert {
        ("甘草", "甘遂"),
        ("甘草", "海藻"),
        ("制川乌", "法半夏"),
        ("附子(黑顺片)", "白及"),
        ("藜芦", "人参"),
        ("藜芦", "细辛"),
        ("藜芦", "白芍"),
        ("丁香", "郁金"),
    } <= names


def test_diagnosis_groups_are_the_agreed_ones(kb: Knowledge) -> None:
    assert set(kb.diagnosis["dise_group"]) == set(ALL_GROUPS)


def test_procedure_sex_matches_known_cases(kb: Knowledge) -> None:
    sex = dict(kb.procedure.select("oprn_oprt_code", "lmt_gend").iter_rows())
    assert sex["74.1"] == "2"
    assert sex["60.2"] == "1"
    assert sex["47.09"] is None


# ------------------------------------------------------------------ recipe coverage


def _rows(usage: pl.DataFrame, group: str, setting: str, role: str) -> int:
    return usage.filter(
        (pl.col("dise_group") == group) & (pl.col("setting") == setting) & (pl.col("role") == role)
    ).height


def test_usage_groups_exist_in_diagnosis(kb: Knowledge, usage: pl.DataFrame) -> None:
    assert set(usage["dise_group"]) - {"*"} <= set(kb.diagnosis["dise_group"])


@pytest.mark.parametrize("group", ALL_GROUPS)
def test_every_group_has_outpatient_drugs(usage: pl.DataFrame, group: str) -> None:
    assert _rows(usage, group, "op", "drug") >= 2


@pytest.mark.parametrize("group", ADMITTED_GROUPS)
def test_admitted_groups_have_inpatient_drugs(usage: pl.DataFrame, group: str) -> None:
    assert _rows(usage, group, "ip", "drug") >= 2


@pytest.mark.parametrize("group", SURGICAL_GROUPS)
def test_surgical_groups_have_surgery_anaesthesia_and_consumables(
    usage: pl.DataFrame, group: str
) -> None:
    for role in ("surgery", "anaesthesia", "consumable"):
        assert _rows(usage, group, "ip", role) >= 1, role


@pytest.mark.parametrize("group", CHRONIC_GROUPS)
def test_chronic_groups_buy_drugs_at_pharmacies(usage: pl.DataFrame, group: str) -> None:
    assert _rows(usage, group, "ph", "drug") >= 2


# ------------------------------------------------------------------ the recipe is legitimate


def _choice(row: dict[str, object], item: dict[str, object], index: int) -> tuple[object, ...]:
    """The exclusive choice a recipe row belongs to (see docs/knowledge.md, weights)."""
    if row["role"] in ("surgery", "anaesthesia"):
        return (row["role"],)
    if row["role"] in ("drug", "discharge_drug") and item["drug_class"]:
        return (row["role"], item["drug_class"])
    return ("row", index)


def _pools(
    usage: pl.DataFrame, items: dict[str, dict[str, object]], groups: list[str]
) -> dict[tuple[str, str], list[tuple[dict[str, object], tuple[object, ...]]]]:
    """Every row a visit of (group, setting) may bill, with its exclusive choice."""
    rows = list(usage.iter_rows(named=True))
    pools: dict[tuple[str, str], list[tuple[dict[str, object], tuple[object, ...]]]] = {}
    for group in groups:
        for setting in ("op", "ip", "ph"):
            pools[group, setting] = [
                (row, _choice(row, items[row["med_list_codg"]], i))
                for i, row in enumerate(rows)
                if row["dise_group"] in (group, "*") and row["setting"] == setting
            ]
    return pools


def _prefixes(value: object) -> list[str]:
    return [p.strip() for p in str(value).split(";")] if value else []


def _row_problems(
    row: dict[str, object], item: dict[str, object], dx: list[dict[str, object]]
) -> list[str]:
    """The restrictions of ``item`` a typical patient of the row's group would break."""
    problems: list[str] = []
    group, setting, role = row["dise_group"], row["setting"], row["role"]
    cnt_max = Decimal(str(row["cnt_max"]))
    if item["lmt_gend"] and any(d["lmt_gend"] != item["lmt_gend"] for d in dx):
        problems.append("sex")
    if item["lmt_age_max_days"] is not None and any(
        d["lmt_age_max_days"] is None or d["lmt_age_max_days"] > item["lmt_age_max_days"]
        for d in dx
    ):
        problems.append("maximum age")
    for limit in (item["lmt_age_min_days"], item["forbid_age_max_days"]):
        if limit is not None and any((d["lmt_age_min_days"] or 0) < limit for d in dx):
            problems.append("minimum age")
    if item["caution_elderly"] == "1" and any(
        d["lmt_age_max_days"] is None or d["lmt_age_max_days"] >= AGE_65_DAYS for d in dx
    ):
        problems.append("elderly")
    if item["caution_pregnancy"] == "1" and any(d["pregnancy"] == "1" for d in dx):
        problems.append("pregnancy")
    for column in ("lmt_insutype", "herb_nopay", "first_line_class"):
        if item[column]:
            problems.append(column)
    if item["lmt_hosp_lv"] not in (None, "1") and item[
        "lmt_hosp_lv"
    ] > RECIPE_GROUP_MIN_HOSP_LV.get(group, "1"):
        problems.append("institution level")
    if item["lmt_dept"] and RECIPE_GROUP_DEPT.get(group) not in _prefixes(item["lmt_dept"]):
        problems.append("department")
    needed = SETTING_MED_TYPES[setting] | (
        {"52"} if setting == "ip" and group in ("DELIV", "*") else set()
    )
    if item["lmt_med_type"] and not needed <= set(_prefixes(item["lmt_med_type"])):
        problems.append("care setting")
    if item["indications"] and not all(
        any(d["dise_codg"].startswith(p) for p in _prefixes(item["indications"])) for d in dx
    ):
        problems.append("indications")
    if item["contraindications"] and any(
        d["dise_codg"].startswith(p) for p in _prefixes(item["contraindications"]) for d in dx
    ):
        problems.append("contraindications")
    if item["lmt_dise_catalog"] and any(d["catalog"] != item["lmt_dise_catalog"] for d in dx):
        problems.append("disease catalogue")
    for column in ("max_cnt_line", "max_cnt_day", "max_cnt_visit"):
        if item[column] is not None and cnt_max > item[column]:
            problems.append(column)
    supply = item["max_days_supply"]
    days = cnt_max * (item["days_per_unit"] or 0)
    if (setting, role) in PACK_ROLES and supply is not None and days > supply:
        problems.append("days' supply")
    per_day = setting == "ip" and role in PER_DAY_IP_ROLES
    if item["max_cnt_period"] is not None and (
        per_day or cnt_max > item["max_cnt_period"] or item["period_days"] > MAX_RECIPE_PERIOD_DAYS
    ):
        problems.append("period cap")
    if item["max_course_days"] is not None and per_day:
        problems.append("course length")
    if item["max_amt_total"] is not None and cnt_max * item["pric"] > item["max_amt_total"]:
        problems.append("reimbursed total")
    return problems


def test_no_usage_row_breaks_its_items_restrictions(
    kb: Knowledge, usage: pl.DataFrame, items: dict[str, dict[str, object]]
) -> None:
    dx_by_group: dict[str, list[dict[str, object]]] = defaultdict(list)
    for d in kb.diagnosis.iter_rows(named=True):
        dx_by_group[d["dise_group"]].append(d)
        dx_by_group["*"].append(d)
    broken = [
        f"{row['dise_group']}/{row['setting']}/{row['role']} "
        f"{items[row['med_list_codg']]['med_list_name']}: {problem}"
        for row in usage.iter_rows(named=True)
        for problem in _row_problems(
            row, items[row["med_list_codg"]], dx_by_group[row["dise_group"]]
        )
    ]
    assert broken == []


def test_recipe_choices_have_valid_weights(
    usage: pl.DataFrame, items: dict[str, dict[str, object]]
) -> None:
    for (group, setting), pool in _pools(usage, items, ALL_GROUPS).items():
        totals: dict[tuple[object, ...], float] = defaultdict(float)
        for row, choice in pool:
            totals[choice] += row["weight"]
        for choice, total in totals.items():
            if choice[0] in ("surgery", "anaesthesia"):
                assert total == pytest.approx(1.0), (group, setting, choice)
            else:
                assert total <= 1.0 + 1e-9, (group, setting, choice)


def test_recipe_never_bills_a_forbidden_pair(
    kb: Knowledge, usage: pl.DataFrame, items: dict[str, dict[str, object]]
) -> None:
    forbidden = kb.knowledge_pair.filter(
        pl.col("pair_type").is_in(["duplicate", "unbundle", "interaction", "herb"])
    )
    pairs = set(forbidden.select("item_a", "item_b").iter_rows())
    clashes = []
    for (group, setting), pool in _pools(usage, items, ALL_GROUPS).items():
        for row_a, choice_a in pool:
            for row_b, choice_b in pool:
                key = (row_a["med_list_codg"], row_b["med_list_codg"])
                if key in pairs and choice_a != choice_b:
                    clashes.append((group, setting, key))
    assert clashes == []


def test_recipe_items_always_have_their_companions(
    kb: Knowledge, usage: pl.DataFrame, items: dict[str, dict[str, object]]
) -> None:
    needs: dict[str, set[str]] = defaultdict(set)
    required = kb.knowledge_pair.filter(pl.col("pair_type").is_in(["companion", "drug_service"]))
    for a, b in required.select("item_a", "item_b").iter_rows():
        needs[a].add(b)
    missing = []
    for (group, setting), pool in _pools(usage, items, ALL_GROUPS).items():
        by_choice: dict[tuple[object, ...], list[dict[str, object]]] = defaultdict(list)
        for row, choice in pool:
            by_choice[choice].append(row)
        for row, _ in pool:
            partners = needs.get(row["med_list_codg"])
            if not partners:
                continue
            certain = any(
                all(r["med_list_codg"] in partners for r in rows)
                and sum(r["weight"] for r in rows) == pytest.approx(1.0)
                for rows in by_choice.values()
            )
            if not certain:
                missing.append((group, setting, items[row["med_list_codg"]]["med_list_name"]))
    assert missing == []


# ------------------------------------------------------------------ malformed input


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    return root


def _rewrite(path: Path, line: int, column: str, value: str) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("lmt_age_max_days", "28 days", "not a valid Int32"),
        ("pric", "abc", "not a valid Decimal"),
        ("med_list_name", "", "required value is empty"),
        ("list_type", "999", "not a list_type code"),
        ("lmt_med_type", "21;99", "'99'"),
        ("herb_nopay", "sometimes", "not a herb_nopay code"),
    ],
)
def test_malformed_catalogue_names_file_line_and_column(
    kb_copy: Path, column: str, value: str, problem: str
) -> None:
    path = kb_copy / "catalogue.csv"
    _rewrite(path, 5, column, value)
    with pytest.raises(ValueError, match=r"catalogue\.csv: line 5, column") as err:
        load_knowledge(kb_copy)
    assert column in str(err.value)
    assert problem in str(err.value)


def test_missing_required_header_is_reported(kb_copy: Path) -> None:
    path = kb_copy / "diagnosis.csv"
    frame = pl.read_csv(path, infer_schema=False).drop("dise_name")
    frame.write_csv(path)
    with pytest.raises(
        ValueError, match=r"diagnosis\.csv: line 1: missing column\(s\) dise_name \(诊断名称\)"
    ):
        load_knowledge(kb_copy)


def test_missing_optional_columns_are_read_empty_and_named(kb_copy: Path) -> None:
    """A centre's own catalogue has the platform's columns, not our internal groupings: the
    file loads, the columns are empty, and the knowledge base says which were left out (the
    rules that need them are then listed inactive)."""
    path = kb_copy / "catalogue.csv"
    pl.read_csv(path, infer_schema=False).drop("item_group", "drug_class").write_csv(path)
    path = kb_copy / "diagnosis.csv"
    pl.read_csv(path, infer_schema=False).drop("chronic").write_csv(path)
    kb = load_knowledge(kb_copy)
    assert kb.absent == {"catalogue": ("item_group", "drug_class"), "diagnosis": ("chronic",)}
    assert kb.catalogue["item_group"].null_count() == kb.catalogue.height
    assert kb.catalogue.columns == load_knowledge().catalogue.columns
    assert load_knowledge().absent == {}


def test_pair_with_unknown_item_is_reported(kb_copy: Path) -> None:
    _rewrite(kb_copy / "knowledge_pair.csv", 3, "item_b", "NOPE")
    with pytest.raises(ValueError, match=r"knowledge_pair\.csv: line 3, column 'item_b'"):
        load_knowledge(kb_copy)


def test_duplicate_key_is_reported(kb_copy: Path) -> None:
    path = kb_copy / "procedure.csv"
    with path.open(encoding="utf-8") as fh:
        lines = fh.readlines()
    path.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"procedure\.csv: line {len(lines) + 1}: duplicate key"):
        load_knowledge(kb_copy)


def test_non_utf8_file_is_reported(kb_copy: Path) -> None:
    path = kb_copy / "diagnosis.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(ValueError, match=r"diagnosis\.csv: not UTF-8"):
        load_knowledge(kb_copy)


def test_malformed_usage_names_file_and_line(tmp_path: Path) -> None:
    shutil.copy(default_recipe_dir() / "usage.csv", tmp_path / "usage.csv")
    _rewrite(tmp_path / "usage.csv", 4, "weight", "1.5")
    with pytest.raises(ValueError, match=r"usage\.csv: line 4: column 'weight'"):
        load_usage(tmp_path)


def test_usage_with_unknown_item_is_reported(tmp_path: Path, kb: Knowledge) -> None:
    shutil.copy(default_recipe_dir() / "usage.csv", tmp_path / "usage.csv")
    _rewrite(tmp_path / "usage.csv", 2, "med_list_codg", "NOPE")
    with pytest.raises(ValueError, match=r"usage\.csv: line 2, column 'med_list_codg'"):
        load_usage(tmp_path, catalogue=kb.catalogue)


def test_chinese_headers_load_like_field_names(kb_copy: Path, kb: Knowledge) -> None:
    for table in (S.CATALOGUE, S.KNOWLEDGE_PAIR, S.DIAGNOSIS, S.PROCEDURE):
        path = kb_copy / f"{table.name}.csv"
        frame = pl.read_csv(path, infer_schema=False)
        frame.rename(table.zh_headers()).write_csv(path)
    loaded = load_knowledge(kb_copy)
    for table in (S.CATALOGUE, S.KNOWLEDGE_PAIR, S.DIAGNOSIS, S.PROCEDURE):
        assert getattr(loaded, table.name).equals(getattr(kb, table.name))
