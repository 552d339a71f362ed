"""The registers are data: the shipped files load, a broken file is refused naming the file
and the entry, and a made-up register works from a file alone."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from helpers.register_fixtures import entity_rows, write_csv

from hrss_fraud.cases import CaseStore
from hrss_fraud.registers.definitions import (
    DefinitionError,
    load_registers,
    registers_dir,
)
from hrss_fraud.registers.entities import import_entities
from hrss_fraud.registers.inspections import ItemResult, record_inspection
from hrss_fraud.registers.plans import draw_plan

SHIPPED = registers_dir()


def test_the_four_registers_and_two_designated_are_data_files() -> None:
    regs = load_registers()
    assert set(regs) == {
        "hr_agency",
        "technical_school",
        "private_training",
        "skill_appraisal",
        "two_designated",
    }
    assert regs["hr_agency"].name == "人力资源服务机构"
    assert regs["private_training"].item("PT-04").text == "伪造、变造、买卖、出租、出借办学许可证"
    assert [h.kind for h in regs["skill_appraisal"].handling] == [
        "rectify",
        "suspend",
        "revoke",
        "refer",
    ]
    two = regs["two_designated"]
    assert not two.runs_here and "hrss-fraud rounds plan" in two.commands
    assert all(r.runs_here for c, r in regs.items() if c != "two_designated")


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "registers"
    shutil.copytree(SHIPPED, folder)
    return folder


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('severity = "minor"', 'severity = "grave"', "hr_agency.toml.check_items[2].severity"),
        ('code = "HRA-03"', 'code = "HRA-02"', "hr_agency.toml.check_items[3].code"),
        ("rectify_days = 30", "rectify_days = 0", "hr_agency.toml.rectify_days"),
        ('kind = "revoke"', 'kind = "fine"', "hr_agency.toml.handling[3].kind"),
        (
            'actor = "检查组"\ndays = 60',
            'actor = ""\ndays = 60',
            "hr_agency.toml.procedure[2].actor",
        ),
        (
            'engine = "registers"',
            'engine = "registers"\ncolour = "red"',
            "hr_agency.toml: unknown keys",
        ),
    ],
)
def test_a_broken_file_is_refused_naming_file_and_entry(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    folder = _copy(tmp_path)
    path = folder / "hr_agency.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as e:
        load_registers(folder=folder)
    assert str(e.value).startswith(where)


def test_a_register_run_elsewhere_must_say_by_what(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "two_designated.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("commands = [", "old_commands = ["), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"two_designated\.toml: unknown keys old_commands"):
        load_registers(folder=folder)
    lines = [ln for ln in text.splitlines() if not ln.startswith("commands = [")]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"two_designated.toml.commands: a register run"):
        load_registers(folder=folder)


def test_two_files_with_one_code_are_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    shutil.copy(folder / "hr_agency.toml", folder / "zz_copy.toml")
    with pytest.raises(DefinitionError, match=r"zz_copy.toml: code 'hr_agency' is already used"):
        load_registers(folder=folder)


FIFTH = """
code = "employer_enrolment"
name = "参保单位登记"
name_en = "Enrolment of insured employers"
object = "辖区内参加社会保险的用人单位"
object_en = "Employers insured in the county"
licence = "社会保险登记证"
approved_by = "县社会保险事业管理局"
engine = "registers"
content = ["参保登记是否完整", "缴费基数是否准确"]
methods = ["书面审查", "实地核查"]
measures = ["随机抽查"]
annual_report = "参保单位年度稽核"
report_to = "市社会保险事业管理局"
rectify_days = 20
follow_up_days = 10
inspection_days = 45

[[check_items]]
code = "EE-01"
text = "职工是否全员参保登记"
text_en = "Every employee enrolled"
basis = "《中华人民共和国社会保险法》"
severity = "serious"

[[check_items]]
code = "EE-02"
text = "缴费基数是否如实申报"
text_en = "Contribution base declared truthfully"
basis = "《中华人民共和国社会保险法》"
severity = "minor"

[[procedure]]
step = "inspect"
text = "书面审查与实地核查"
text_en = "Written and on-site check"
actor = "稽核股"
days = 45

[[handling]]
code = "rectify"
text = "责令限期补缴、补登记"
text_en = "Pay and enrol within a deadline"
kind = "rectify"

[[handling]]
code = "warning"
text = "警告"
text_en = "Warning"
kind = "warning"
"""


def test_a_made_up_register_runs_an_inspection_from_its_file_alone(
    ws: Path, store: CaseStore, tmp_path: Path
) -> None:
    folder = _copy(tmp_path / "copy")
    shutil.copytree(folder, ws / "registers")
    (ws / "registers" / "employer_enrolment.toml").write_text(FIFTH, encoding="utf-8")
    regs = load_registers(ws)
    assert registers_dir(ws) == ws / "registers"
    reg = regs["employer_enrolment"]
    import_entities(store, write_csv(tmp_path / "e.csv", entity_rows(6)), reg, by="tester")
    plan = draw_plan(
        store, reg, name="2026年参保单位抽查", n_random=2, by="tester", seed=7,
        planned_on=date(2026, 3, 1),
    )  # fmt: skip
    assert plan.due_date == "2026-04-15"  # the file's 45 days
    first = plan.targets.row(0, named=True)
    group = int(first["group_code"][1:])
    iid = record_inspection(
        store,
        ws,
        reg,
        entity_code=first["entity_code"],
        plan_id=plan.plan_id,
        inspected_on=date(2026, 3, 10),
        inspectors=[f"I{2 * group}", f"I{2 * group + 1}"],
        summary="查阅参保登记与工资台账",
        results={"EE-01": ItemResult("fail", "3名职工未参保"), "EE-02": ItemResult("pass")},
        by="tester",
        today=date(2026, 3, 10),
    )
    (result,) = store.query(
        "SELECT result FROM register_inspection WHERE inspection_id = ?", (iid,)
    )[0]
    assert result == "fail"
