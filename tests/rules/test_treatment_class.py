"""Treatment classes (analytics/knowledge/treatment_class.csv): loading names the file and
line of a bad row; each settlement gets the class its codes and lines say, the first
matching row winning; a class recognised by its treatment lines is not given to a code
alone (chemotherapy without any anticancer treatment)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.rule_frames import fee, scoring_db, visit

from hrss_fraud.knowledge import default_knowledge_dir, load_knowledge
from hrss_fraud.knowledge.importer import import_knowledge
from hrss_fraud.knowledge.treatment import load_treatment_classes

HAEMODIALYSIS = "003110000080000"  # 血液透析
PACLITAXEL = "XL01CDA001B002010114292"  # 紫杉醇注射液
ONDANSETRON = "XA04AAA001B002010114551"  # 昂丹司琼: supportive, not anticancer
CBC = "002501010150000"  # 血常规
EXERCISE = "003402000010000"  # 运动疗法 (rehabilitation therapy)
HEADER = (
    "treatment_class,name_zh,name_en,setting,med_type,dise_prefix,dise_flag,item_prefix,"
    "item_group,fund_paid,note\n"
)


def _classes(
    settlements: list[dict[str, object]], lines: list[dict[str, object]]
) -> dict[str, str | None]:
    con = scoring_db(settlements, lines)
    rows = con.sql("SELECT mdtrt_id, treatment_class FROM visit").fetchall()
    return dict(rows)


def test_shipped_classes_load() -> None:
    classes = load_treatment_classes()
    assert {"dialysis", "chemo", "maternity", "rehab", "chronic", "pharmacy_account"} <= set(
        classes["treatment_class"].to_list()
    )


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("dialysis,透析,dialysis,clinic,,,,,,,x\n", "column 'setting'"),
        ("dialysis,透析,dialysis,,99,,,,,,x\n", "column 'med_type'"),
        ("dialysis,透析,dialysis,,,,acute,,,,x\n", "column 'dise_flag'"),
        ("Dialysis,透析,dialysis,,,Z49,,,,,x\n", "lower-case identifier"),
        ("dialysis,透析,dialysis,,,,,,,,x\n", "has no condition"),
        ("dialysis,透析,dialysis,,,Z49,,,,,x\ndialysis,血透,dialysis,,,Z99.2,,,,,x\n", "named"),
    ],
)
def test_a_bad_row_is_named_by_file_and_line(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "treatment_class.csv"
    path.write_text(HEADER + row, encoding="utf-8")
    last = 1 + row.count("\n")
    with pytest.raises(ValueError, match=rf"treatment_class\.csv: line {last}.*{problem}"):
        load_treatment_classes(path)


def test_a_folder_with_its_own_classes_uses_them(tmp_path: Path) -> None:
    for f in default_knowledge_dir().glob("*.csv"):
        shutil.copyfile(f, tmp_path / f.name)
    (tmp_path / "treatment_class.csv").write_text(
        HEADER + "rehab,康复,rehabilitation,,,Z50;M54,,,,,local\n", encoding="utf-8"
    )
    assert load_knowledge(tmp_path).treatment_class["dise_prefix"].to_list() == ["Z50;M54"]
    (tmp_path / "treatment_class.csv").unlink()
    shipped = load_knowledge(tmp_path).treatment_class
    assert shipped.equals(load_treatment_classes())


def test_classes_from_codes_lines_and_payment() -> None:
    got = _classes(
        [
            visit("MD1", med_type="14", dise_codg="Z49.1"),
            visit("MD2", med_type="14", dise_codg="N18.5"),
            visit("MD3", med_type="14", dise_codg="N18.5"),
            visit("MD4", med_type="21", dise_codg="Z51.1"),
            visit("MD5", med_type="21", dise_codg="Z51.1"),
            visit("MD6", med_type="21", dise_codg="C34.9"),
            visit("MD7", med_type="52", dise_codg="O80.0"),
            visit("MD8", med_type="11", dise_codg="Z34.0"),
            visit("MD9", med_type="11", dise_codg="Z50.1"),
            visit("MD10", med_type="41", dise_codg=None, fund_pay_sumamt=0.0, acct_pay=10.0),
            visit("MD11", med_type="41", dise_codg=None, fund_pay_sumamt=6.0),
            visit("MD12", med_type="41", dise_codg="I10", fund_pay_sumamt=6.0),
            visit("MD13", med_type="11", dise_codg="J06.9"),
            visit("MD14", med_type="15", dise_codg="C50.9"),
            visit("MD15", med_type="11", dise_codg="I69.3"),
            visit("MD16", med_type="21", dise_codg="S72.0"),
        ],
        [
            fee("MD2", 1, HAEMODIALYSIS),
            fee("MD3", 1, CBC),
            fee("MD4", 1, PACLITAXEL),
            fee("MD5", 1, ONDANSETRON),
            fee("MD6", 1, PACLITAXEL),
            *(fee(f"MD{i}", 1, CBC) for i in (1, 7, 8, 9, 10, 11, 12, 13, 14)),
            fee("MD15", 1, EXERCISE),
            fee("MD16", 1, EXERCISE),
        ],
    )
    assert got == {
        "MD1": "dialysis",
        "MD2": "dialysis",  # CKD 5 with a haemodialysis session
        "MD3": "chronic",  # CKD 5 seen for a blood count: no dialysis
        "MD4": "chemo",
        "MD5": "chronic",  # Z51.1 with no anticancer treatment is no planned chemotherapy
        "MD6": "chemo",  # the cancer itself as main diagnosis, treated with paclitaxel
        "MD7": "maternity",
        "MD8": "maternity",
        "MD9": "rehab",
        "MD10": "pharmacy_account",
        "MD11": "pharmacy",
        "MD12": "chronic",
        "MD13": None,
        "MD14": "special_drug",
        "MD15": "rehab",  # an outpatient rehabilitation session of a stroke's course
        "MD16": None,  # a fracture stay with some exercise therapy is no rehabilitation stay
    }


def test_knowledge_load_keeps_the_classes_or_takes_the_centres(tmp_path: Path) -> None:
    src, ws = tmp_path / "src", tmp_path / "ws"
    src.mkdir()
    shutil.copyfile(default_knowledge_dir() / "diagnosis.csv", src / "diagnosis.csv")
    import_knowledge(src, ws)
    installed = ws / "analytics" / "knowledge" / "treatment_class.csv"
    assert load_treatment_classes(installed).equals(load_treatment_classes())
    (src / "treatment_class.csv").write_text(
        HEADER + "rehab,康复,rehabilitation,,,Z50,,,,,local\n", encoding="gb18030"
    )
    kb, origin = import_knowledge(src, ws)
    assert kb.treatment_class["treatment_class"].to_list() == ["rehab"]
    assert origin["treatment_class"] == str(src / "treatment_class.csv")
    bad = HEADER + "rehab,康复,rehabilitation,,,,,,,,local\n"
    (src / "treatment_class.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{src / 'treatment_class.csv'}: line 2"):
        import_knowledge(src, ws)


def test_a_visit_without_a_diagnosis_is_told_by_its_treatment_lines() -> None:
    """Where a class asks for a diagnosis and treatment lines, a visit uploaded with no
    diagnosis is told by its lines alone; a diagnosis no row names still keeps the class
    away (a chemotherapy drug for gallstones), as do lines of no class, and a pharmacy
    sale (no diagnosis is asked of it) is not told by a drug it sold."""
    got = _classes(
        [
            visit("MD1", med_type="21", dise_codg=None),
            visit("MD2", med_type="14", dise_codg=None),
            visit("MD3", med_type="21", dise_codg=None),
            visit("MD4", med_type="21", dise_codg="K80.2"),
            visit("MD5", med_type="41", dise_codg=None, fund_pay_sumamt=6.0),
        ],
        [
            fee("MD1", 1, PACLITAXEL),
            fee("MD2", 1, HAEMODIALYSIS),
            fee("MD3", 1, CBC),
            fee("MD4", 1, PACLITAXEL),
            fee("MD5", 1, PACLITAXEL),
        ],
    )
    assert got == {
        "MD1": "chemo",
        "MD2": "dialysis",
        "MD3": None,
        "MD4": None,
        "MD5": "pharmacy",
    }
