"""Real variation in uploads (issue 16): another county's files in the platform format as
they come — columns we do not use, the platform's Chinese labels and their spellings,
sub-specialty departments, descriptive codes outside their lists, the register loaded after
the claims, GBK with Chinese headers, UTF-8 with a BOM, XLSX. Every row lands in the lake
or is quarantined with a reason; nothing a county sent is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from hrss_fraud.ingest.errors import UploadError
from hrss_fraud.ingest.layouts import (
    AMBIGUOUS,
    DUPLICATE,
    OTHER_TABLE,
    SOME_TEXT,
    UNKNOWN,
    detect,
    load_layouts,
    match,
)
from hrss_fraud.ingest.pipeline import ingest
from hrss_fraud.ingest.quality import add_quality_views
from hrss_fraud.lake import Lake
from hrss_fraud.model import codes as C
from hrss_fraud.model.labels import PLATFORM_LABELS, labels
from hrss_fraud.model.schema import TABLES

LAYOUTS = load_layouts()

# --------------------------------------------------------------------------- labels

#: DOMAIN.md §2 as written there: (table, field, label). Fields the guide lists for the fee
#: detail without a label (setl_id, vali_flag …) carry the settlement's label.
DOMAIN_LABELS = [
    *(
        ("settlement", f, zh)
        for f, zh in [
            ("setl_id", "结算ID"),
            ("mdtrt_id", "就诊ID"),
            ("psn_no", "人员编号"),
            ("fixmedins_code", "定点医药机构编号"),
            ("med_type", "医疗类别"),
            ("insutype", "险种类型"),
            ("begntime", "开始时间(入院)"),
            ("endtime", "结束时间(出院)"),
            ("setl_time", "结算时间"),
            ("dise_codg", "主诊断编码"),
            ("dise_name", "主诊断名称"),
            ("oprn_oprt_code", "主手术操作编码"),
            ("adm_dept_codg", "科室编码"),
            ("chfpdr_code", "主诊医师编码"),
            ("medfee_sumamt", "医疗费总额"),
            ("fulamt_ownpay_amt", "全自费金额"),
            ("overlmt_selfpay", "超限价自费"),
            ("preselfpay_amt", "先行自付"),
            ("inscp_amt", "符合政策范围金额"),
            ("fund_pay_sumamt", "基金支付总额"),
            ("hifp_pay", "统筹基金支出"),
            ("acct_pay", "个人账户支出"),
            ("psn_cash_pay", "个人现金支出"),
            ("refd_setl_flag", "退费结算标志"),
            ("vali_flag", "有效标志"),
        ]
    ),
    *(
        ("fee_detail", f, zh)
        for f, zh in [
            ("feedetl_sn", "费用明细流水号"),
            ("setl_id", "结算ID"),
            ("mdtrt_id", "就诊ID"),
            ("psn_no", "人员编号"),
            ("fixmedins_code", "定点医药机构编号"),
            ("fee_ocur_time", "费用发生时间"),
            ("med_list_codg", "医疗目录编码"),
            ("medins_list_codg", "医药机构目录编码"),
            ("medins_list_name", "名称"),
            ("list_type", "目录类别"),
            ("med_chrgitm_type", "收费项目类别"),
            ("chrgitm_lv", "收费项目等级"),
            ("cnt", "数量"),
            ("pric", "单价"),
            ("det_item_fee_sumamt", "明细项目费用总额"),
            ("inscp_amt", "符合范围金额"),
            ("fulamt_ownpay_amt", "全自费金额"),
            ("overlmt_selfpay", "超限价自费"),
            ("pric_uplmt_amt", "限价"),
            ("bilg_dept_codg", "开单科室"),
            ("bilg_dr_codg", "开单医师"),
            ("prd_days", "周期天数"),
            ("used_frqu_dscr", "使用频次"),
            ("sin_dos_dscr", "单次剂量"),
            ("rxno", "处方号"),
            ("rx_circ_flag", "外购处方标志"),
            ("dscg_tkdrug_flag", "出院带药标志"),
            ("init_feedetl_sn", "原费用流水号"),
            ("vali_flag", "有效标志"),
        ]
    ),
    *(
        ("person", f, zh)
        for f, zh in [
            ("psn_no", "人员编号"),
            ("certno", "证件号码"),
            ("gend", "性别"),
            ("brdy", "出生日期"),
            ("insutype", "险种类型"),
            ("psn_type", "人员类别"),
            ("insu_admdvs", "参保区划"),
            ("die_date", "死亡日期"),
        ]
    ),
    ("institution", "fixmedins_code", "定点医药机构编号"),
    ("institution", "hosp_lv", "医院等级"),
    ("institution", "admdvs", "区划"),
]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(("table", "field", "label"), DOMAIN_LABELS)
def test_every_label_of_the_domain_guide_maps_to_its_field(
    layout: str, table: str, field: str, label: str
) -> None:
    assert match(label, table, LAYOUTS[layout])[0] == {field}
    wide = label.replace("(", "（").replace(")", "）")  # as Excel users type them
    assert match(wide, table, LAYOUTS[layout])[0] == {field}


def test_the_guides_one_label_for_two_fields_is_reported_not_guessed() -> None:
    """单位 labels both ``emp_no`` and ``emp_name`` in the guide: ambiguous, said so."""
    for layout in LAYOUTS.values():
        assert match("单位", "person", layout)[0] == {"emp_no", "emp_name"}
    det = detect(Path("p.csv"), ["人员编号", "性别", "出生日期", "险种类型", "单位"], LAYOUTS)
    assert det.table == "person" and "单位" not in det.mapping
    (aside,) = det.set_aside
    assert aside.why == AMBIGUOUS and set(aside.candidates) == {"emp_no", "emp_name"}
    assert "emp_name or emp_no" in aside.detail


def test_every_label_of_the_data_model_maps_to_its_field() -> None:
    """Each field's name and each of its labels (the model's, the platform's) name it in
    its own table, under every layout — the one documented exception apart."""
    assert all(f in TABLES[t] for t, fs in PLATFORM_LABELS.items() for f in fs)
    for layout in LAYOUTS.values():
        for table in TABLES.values():
            for f in table.fields:
                for text in (f.name, *labels(table.name, f.name)):
                    got = match(text, table.name, layout)[0]
                    if text == "单位":
                        continue
                    assert got == {f.name}, (layout.name, table.name, f.name, text, got)


@pytest.mark.parametrize(
    ("header", "table", "field"),
    [
        ("开单医师", "fee_detail", "bilg_dr_codg"),
        ("开单医师编码", "fee_detail", "bilg_dr_codg"),
        ("开单医师代码", "fee_detail", "bilg_dr_codg"),
        ("开单医师编号", "fee_detail", "bilg_dr_codg"),
        (" 开单 医师 代码 ", "fee_detail", "bilg_dr_codg"),
        ("开单医师（编码）", "fee_detail", "bilg_dr_codg"),
        ("开单医师ＩＤ", "fee_detail", "bilg_dr_codg"),
        ("开单科室代码", "fee_detail", "bilg_dept_codg"),
        ("单价（元）", "fee_detail", "pric"),
        ("单价[元]", "fee_detail", "pric"),
        ("ＢＩＬＧ＿ＤＲ＿ＣＯＤＧ", "fee_detail", "bilg_dr_codg"),
        ("bilg_dr_code", "fee_detail", "bilg_dr_codg"),
        ("就诊号", "fee_detail", "mdtrt_id"),
        ("处方编号", "fee_detail", "rxno"),
        ("费用发生日期", "fee_detail", "fee_ocur_time"),
        ("结算日期", "settlement", "setl_time"),
        ("开始时间（入院）", "settlement", "begntime"),
        ("科室", "settlement", "adm_dept_codg"),
        ("医疗类别代码", "settlement", "med_type"),
        ("证件号", "person", "certno"),
        ("协议编码", "institution", "agrmt_no"),
        ("区划（乡镇）", "institution", "admdvs"),
    ],
)
def test_header_variants_map_to_their_field(header: str, table: str, field: str) -> None:
    for layout in LAYOUTS.values():
        assert match(header, table, layout)[0] == {field}, layout.name


@pytest.mark.parametrize(
    ("header", "table", "candidates"),
    [
        ("主诊断", "settlement", {"dise_codg", "dise_name"}),  # code or name?
        ("人员", "settlement", {"psn_no", SOME_TEXT}),  # a bare stem never names a key
        ("医疗目录", "fee_detail", {"med_list_codg", SOME_TEXT}),
    ],
)
def test_a_header_that_could_name_two_things_is_ambiguous(
    header: str, table: str, candidates: set[str]
) -> None:
    for layout in LAYOUTS.values():
        assert match(header, table, layout)[0] == candidates


def test_tolerance_makes_no_two_fields_of_a_table_alike() -> None:
    """Within each table, no two fields share a normalised label, a label without its
    brackets, or a stem (label without its code or time suffix) — but 单位."""
    from hrss_fraud.ingest.layouts import (
        BARE_STEM_SUFFIXES,
        CODE_SUFFIXES,
        TIME_SUFFIXES,
        _loose,
        _stem,
        normalise,
    )

    for table in TABLES.values():
        seen: dict[tuple[str, str], str] = {}
        for f in table.fields:
            for text in {f.name, *labels(table.name, f.name)} - {"单位"}:
                key = _loose(normalise(text))
                forms = {("exact", key)}
                for group in (CODE_SUFFIXES, BARE_STEM_SUFFIXES, TIME_SUFFIXES):
                    stem, had = _stem(key, group)
                    if had:
                        forms.add(("stem", stem + "|" + "".join(group)))
                for form in forms:
                    other = seen.setdefault(form, f.name)
                    assert other == f.name, (table.name, form, other, f.name)


# --------------------------------------------------------------------------- a small county

SETL = {
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "med_type": "21",
    "insutype": "390",
    "begntime": "2025-05-01 08:00:00",
    "endtime": "2025-05-03 08:00:00",
    "setl_time": "2025-05-03 09:00:00",
    "adm_dept_codg": "A03.05",
    "chfpdr_code": "D1",
    "medfee_sumamt": "140",
    "inscp_amt": "140",
    "fund_pay_sumamt": "100",
    "hifp_pay": "100",
    "acct_pay": "0",
    "psn_cash_pay": "40",
    "refd_setl_flag": "0",
    "vali_flag": "1",
}
LINE = {
    "feedetl_sn": "1",
    "setl_id": "S1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "fixmedins_code": "H1",
    "fee_ocur_time": "2025-05-01 09:00:00",
    "med_list_codg": "X1",
    "medins_list_name": "头孢曲松钠注射液",
    "med_chrgitm_type": "09",
    "chrgitm_lv": "01",
    "cnt": "1",
    "pric": "140",
    "det_item_fee_sumamt": "140",
    "inscp_amt": "140",
    "bilg_dept_codg": "A03.05",
    "bilg_dr_codg": "D1",
    "init_feedetl_sn": "",
    "vali_flag": "1",
}
PERSON = {"psn_no": "P1", "gend": "1", "brdy": "1980-01-01", "insutype": "390"}
INSTITUTION = {
    "fixmedins_code": "H1",
    "fixmedins_name": "城关卫生院",
    "fixmedins_type": "1",
    "hosp_lv": "1",
    "admdvs": "130123101",
}
#: Headers of a GBK export with Chinese headers, as another county's system writes them:
#: the guide's labels (开单医师, 开单科室), a unit in full-width brackets.
FEE_ZH = {f.name: f.zh for f in TABLES["fee_detail"].fields} | {
    "bilg_dr_codg": "开单医师",
    "bilg_dept_codg": "开单科室",
    "pric": "单价（元）",
}
SETL_ZH = {f.name: f.zh for f in TABLES["settlement"].fields} | {
    "begntime": "开始时间（入院）",
    "endtime": "结束时间（出院）",
}


def settlements(n: int, inst: str = "H1", psn: str = "P1") -> list[dict[str, str]]:
    return [
        {**SETL, "setl_id": f"S{i}", "mdtrt_id": f"M{i}", "fixmedins_code": inst, "psn_no": psn}
        for i in range(1, n + 1)
    ]


def lines(n: int, inst: str = "H1", psn: str = "P1") -> list[dict[str, str]]:
    """Two lines per settlement."""
    return [
        {
            **LINE,
            "feedetl_sn": str(k),
            "setl_id": f"S{i}",
            "mdtrt_id": f"M{i}",
            "fixmedins_code": inst,
            "psn_no": psn,
        }
        for i in range(1, n + 1)
        for k in (1, 2)
    ]


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    headers: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    names = list(rows[0])
    shown = [(headers or {}).get(n, n) for n in names]
    text = ",".join(shown) + "\n" + "".join(",".join(r[n] for n in names) + "\n" for r in rows)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]], *, headers: dict[str, str]) -> Path:
    """An Excel export: amounts and quantities as numbers, IDs as text."""
    numeric = {"cnt", "pric", "det_item_fee_sumamt", "inscp_amt", "medfee_sumamt"}
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("明细")
    names = list(rows[0])
    for c, n in enumerate(names):
        ws.write_string(0, c, headers.get(n, n))
    for r, row in enumerate(rows, start=1):
        for c, n in enumerate(names):
            if row[n] == "":
                continue
            if n in numeric:
                ws.write_number(r, c, float(row[n]))
            else:
                ws.write_string(r, c, row[n])
    wb.close()
    return path


@pytest.fixture
def county(tmp_path: Path) -> tuple[Lake, Path]:
    """A lake that knows person P1 and institution H1; uploads go in the folder returned."""
    d = tmp_path / "uploads"
    d.mkdir()
    lake = Lake(tmp_path / "lake")
    result = ingest(
        lake,
        [write_csv(d / "person.csv", [PERSON]), write_csv(d / "inst.csv", [INSTITUTION])],
    )
    assert not result.rejected
    for p in d.iterdir():
        p.unlink()
    return lake, d


def held(lake: Lake) -> pl.DataFrame:
    con = lake.connect()
    add_quality_views(con)
    return con.sql("SELECT * FROM quarantine_held").pl()


def accounted(f) -> bool:
    """Every row read is accepted or quarantined, each with a reason."""
    return f.rows_read == f.accepted + f.quarantined == f.accepted + sum(f.reasons.values())


# --------------------------------------------------------------------------- columns


def test_extra_columns_are_set_aside_named_and_kept(county: tuple[Lake, Path]) -> None:
    lake, d = county
    rows = [
        {**r, "就诊类型说明": "住院", "fixmedins_name": "城关卫生院", "主诊断": "肺炎"}
        for r in settlements(2)
    ]
    result = ingest(lake, [write_csv(d / "setl.csv", rows)])
    (f,) = result.files
    assert f.status == "committed" and (f.accepted, f.quarantined) == (2, 0)
    why = {a["column"]: a["why"] for a in f.set_aside}
    assert why == {"就诊类型说明": UNKNOWN, "fixmedins_name": OTHER_TABLE, "主诊断": AMBIGUOUS}
    # named in the batch report and its sources, and in the summary (--json)
    (batch,) = [b for b in lake.batches() if b.batch_id == f.batch_id]
    assert batch.report["set_aside_columns"] == dict.fromkeys(why, 1)
    assert batch.sources[0]["set_aside"] == list(why)
    assert result.summary()["set_aside_columns"] == dict.fromkeys(why, 1)
    # kept with each row, as it arrived
    kept = lake.connect().sql("SELECT setl_id, _set_aside FROM settlement ORDER BY 1").pl()
    assert json.loads(kept["_set_aside"][0]) == {
        "就诊类型说明": "住院",
        "fixmedins_name": "城关卫生院",
        "主诊断": "肺炎",
    }
    con = lake.connect()
    add_quality_views(con)
    assert con.sql('SELECT "column", n FROM dq_set_aside ORDER BY 1').fetchall() == sorted(
        (c, 2) for c in why
    )


def test_strict_rejects_what_would_be_set_aside(county: tuple[Lake, Path]) -> None:
    lake, d = county
    path = write_csv(d / "setl.csv", [{**SETL, "就诊类型说明": "住院"}])
    (f,) = ingest(lake, [path], strict=True).files
    assert f.status == "rejected" and f.reason == "unknown_layout"
    assert "就诊类型说明" in f.error and "--strict" in f.error
    assert lake.batches()[-1].sources[0]["table"] != "settlement"  # nothing committed


def test_a_file_is_rejected_only_for_a_required_field(county: tuple[Lake, Path]) -> None:
    lake, d = county
    rows = [{k: v for k, v in r.items() if k != "psn_no"} | {"病区": "3"} for r in lines(1)]
    (f,) = ingest(lake, [write_csv(d / "fee.csv", rows)]).files
    assert f.status == "rejected" and f.reason == "unknown_layout"
    assert "psn_no" in f.error and "病区" in f.error


def test_two_columns_for_one_field(county: tuple[Lake, Path]) -> None:
    """An exact header wins over a tolerant one (the other is kept aside); two exact ones
    are ambiguous — and if the field is required, the file says which columns."""
    header = [*LINE, "开单医师代码"]
    det = detect(Path("f.csv"), header, LAYOUTS)
    assert det.mapping["bilg_dr_codg"] == "bilg_dr_codg"
    (aside,) = det.set_aside
    assert aside.column == "开单医师代码" and aside.why == DUPLICATE
    det = detect(Path("f.csv"), [*LINE, "开单医师"], LAYOUTS)
    assert "bilg_dr_codg" not in det.mapping.values()
    assert {a.column for a in det.set_aside} == {"bilg_dr_codg", "开单医师"}
    with pytest.raises(UploadError, match="人员编号") as err:
        detect(Path("f.csv"), [*LINE, "人员编号"], LAYOUTS)
    assert "psn_no" in str(err.value)


# --------------------------------------------------------------------------- code lists


def test_sub_specialty_departments_are_kept_and_their_parent_derivable(
    county: tuple[Lake, Path],
) -> None:
    lake, d = county
    result = ingest(
        lake, [write_csv(d / "setl.csv", settlements(1)), write_csv(d / "fee.csv", lines(1))]
    )
    assert [(f.accepted, f.quarantined, f.flags) for f in result.files] == [(1, 0, {}), (2, 0, {})]
    con = lake.connect()
    sql = f"SELECT adm_dept_codg, {C.dept_parent_sql('adm_dept_codg')} FROM settlement"
    assert con.execute(sql).fetchall() == [("A03.05", "A03")]
    assert C.dept_parent("A03.05") == "A03" and C.dept_parent("A03") == "A03"
    assert C.in_list("bilg_dept_codg", "A03.05") and not C.in_list("bilg_dept_codg", "Z99.01")
    add_quality_views(con)
    assert con.execute("SELECT count(*) FROM dq_code").fetchall()[0] == (0,)


def test_descriptive_code_outside_its_list_is_kept_with_a_flag(county: tuple[Lake, Path]) -> None:
    lake, d = county
    odd = {"bilg_dept_codg": "Z99", "chrgitm_lv": "09", "med_chrgitm_type": "99"}
    fee = lines(1)
    fee[0] |= odd
    fee[1] |= {"vali_flag": "7"}  # whether a line counts: still strict
    result = ingest(
        lake, [write_csv(d / "setl.csv", settlements(1)), write_csv(d / "fee.csv", fee)]
    )
    f = result.files[1]
    assert (f.accepted, f.quarantined, f.reasons) == (1, 1, {"bad_code": 1})
    assert f.flags == {f"bad_code:{k}": 1 for k in odd}
    assert result.summary()["code_flags"] == f.flags
    con = lake.connect()
    assert con.execute("SELECT bilg_dept_codg, chrgitm_lv FROM fee_detail").fetchall() == [
        ("Z99", "09")
    ]
    add_quality_views(con)
    flagged = con.execute(
        "SELECT field, value, fixmedins_code, n FROM dq_code ORDER BY 1"
    ).fetchall()
    assert flagged == [(k, v, "H1", 1) for k, v in sorted(odd.items())]


def test_a_register_row_is_never_lost_for_a_code(county: tuple[Lake, Path]) -> None:
    """Quarantining a register row would hold every claim that names it: its codes are
    descriptive."""
    lake, d = county
    person = {**PERSON, "psn_no": "P2", "gend": "M", "insutype": "399"}
    (f,) = ingest(lake, [write_csv(d / "p.csv", [person])]).files
    assert (f.accepted, f.quarantined) == (1, 0)
    assert f.flags == {"bad_code:gend": 1, "bad_code:insutype": 1}


# --------------------------------------------------------------------------- release


def test_register_loaded_after_the_claims_releases_the_held_rows(
    county: tuple[Lake, Path],
) -> None:
    """Another county's order of things: claims of H2 arrive before its register row; all
    are held as unknown_institution, the summary says so first; the register comes (with
    its agreement columns spelled its own way) and the held rows land in the lake."""
    lake, d = county
    setl = [{**r, "审核意见": "通过"} for r in settlements(3, inst="H2")]
    fee = lines(3, inst="H2")
    before = ingest(
        lake,
        [
            write_csv(d / "setl.csv", setl, headers=SETL_ZH, encoding="utf-8-sig"),
            write_csv(d / "fee.csv", fee, headers=FEE_ZH, encoding="gbk"),
        ],
    )
    assert [(f.status, f.accepted, f.quarantined) for f in before.files] == [
        ("committed", 0, 3),
        ("committed", 0, 6),
    ]
    summary = before.summary()
    (warning,) = summary["warnings"]
    assert next(iter(summary)) == "warnings"
    assert warning["top_reasons"] == [["unknown_institution", 9]] and warning["share"] == 1.0
    assert "警告" in warning["zh"] and "机构不在定点医药机构登记中" in warning["zh"]
    assert warning["en"].startswith("!! WARNING: 9 of the 9 rows read (100.0%) were quarantined")
    register = write_xlsx(
        d / "机构.xlsx",
        [
            {
                **INSTITUTION,
                "fixmedins_code": "H2",
                "agrmt_no": "XY-2025-002",
                "协议起始日期": "2025-01-01",
                "协议有效期至": "2027-12-31",
                "开户银行": "农村信用社",
            }
        ],
        headers={
            "fixmedins_code": "定点医药机构编号",
            "fixmedins_name": "定点医药机构名称",
            "fixmedins_type": "定点医药机构类型",
            "hosp_lv": "医院等级",
            "admdvs": "区划",
            "agrmt_no": "协议编码",
        },
    )
    after = ingest(lake, [register])
    (reg,) = after.files
    assert (reg.status, reg.accepted) == ("committed", 1)
    assert [a["column"] for a in reg.set_aside] == ["协议有效期至", "开户银行"]
    assert reg.tolerant == {"协议编码": "agrmt_no"}
    rel = after.released
    assert rel is not None and rel.batch_id in after.batches
    assert (rel.released, rel.still_held, rel.by_reason) == (9, 0, {"unknown_institution": 9})
    con = lake.connect()
    assert con.execute(
        "SELECT count(*), sum(det_item_fee_sumamt), min(bilg_dr_codg) FROM fee_detail "
        "WHERE fixmedins_code = 'H2'"
    ).fetchall()[0] == (6, 840, "D1")
    got = con.execute(
        "SELECT setl_id, _set_aside, _source_file FROM settlement WHERE fixmedins_code = 'H2' "
        "ORDER BY 1"
    ).fetchall()
    assert [(s, json.loads(a)) for s, a, _ in got] == [
        (f"S{i}", {"审核意见": "通过"}) for i in (1, 2, 3)
    ]
    assert {Path(src).name for *_, src in got} == {"setl.csv"}
    assert con.execute(
        "SELECT agrmt_no, agrmt_begn_date::VARCHAR FROM institution WHERE fixmedins_code = 'H2'"
    ).fetchall()[0] == ("XY-2025-002", "2025-01-01")
    # the quarantine keeps the rows and a record of each release; nothing is held any more
    q = con.sql("SELECT reason, count(*) FROM quarantine GROUP BY 1 ORDER BY 1").fetchall()
    assert q == [("released", 9), ("unknown_institution", 9)]
    assert held(lake).height == 0
    add_quality_views(con)
    assert con.execute("SELECT sum(quarantined) FROM dq_institution").fetchall()[0] == (0,)
    # again: nothing left to release, nothing counted twice
    again = ingest(lake, [], retry_quarantine=True)
    assert again.batches == [] and again.released.released == 0
    assert lake.connect().execute("SELECT count(*) FROM fee_detail").fetchall()[0] == (6,)


def test_retry_quarantine_on_the_command_line(county: tuple[Lake, Path]) -> None:
    """A person register that reached the lake another way: ``--retry-quarantine`` releases
    the claims held for it (and only those whose person is now known)."""
    lake, d = county
    ingest(
        lake,
        [
            write_csv(d / "setl.csv", settlements(2, psn="P2")),
            write_csv(d / "fee.csv", lines(2, psn="P2")),
        ],
    )
    ingest(
        lake,
        [write_csv(d / "setl3.csv", [{**SETL, "setl_id": "S9", "mdtrt_id": "M9", "psn_no": "P3"}])],
    )
    assert held(lake)["reason"].to_list() == ["unknown_person"] * 7
    person = pl.DataFrame(
        {"psn_no": ["P2"], "gend": ["2"], "brdy": [None], "insutype": ["390"]},
        schema_overrides={"brdy": pl.Date},
    ).with_columns(pl.lit("1990-02-01").str.to_date().alias("brdy"))
    with lake.writer() as w:
        w.commit(sources=[], tables={"person": person}, quarantine=None, report={})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hrss_fraud",
            "--workspace",
            str(lake.root.parent),
            "ingest",
            "--retry-quarantine",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "released from quarantine: 6 row(s) (unknown_person 6); 1 still held" in done.stdout
    assert held(lake)["reason"].to_list() == ["unknown_person"]
    assert lake.connect().execute("SELECT count(*) FROM settlement WHERE psn_no = 'P2'").fetchall()[
        0
    ] == (2,)


def test_a_held_row_uploaded_again_since_is_not_added_twice(county: tuple[Lake, Path]) -> None:
    lake, d = county
    ingest(lake, [write_csv(d / "setl.csv", settlements(1, inst="H3"))])
    ingest(lake, [write_csv(d / "inst.csv", [{**INSTITUTION, "fixmedins_code": "H9"}])])
    assert held(lake).height == 1
    # H3's register row and a corrected settlement arrive in one run: the register first,
    # then the settlement (accepted); the held older version is closed, not released over it
    fixed = [{**settlements(1, inst="H3")[0], "psn_cash_pay": "39", "acct_pay": "1"}]
    result = ingest(
        lake,
        [
            write_csv(d / "inst3.csv", [{**INSTITUTION, "fixmedins_code": "H3"}]),
            write_csv(d / "setl2.csv", fixed),
        ],
    )
    assert result.released.released == 0 and result.released.already_in_lake == 1
    con = lake.connect()
    assert con.execute("SELECT acct_pay FROM settlement WHERE fixmedins_code = 'H3'").fetchall()[
        0
    ] == (1,)
    assert held(lake).height == 0


# --------------------------------------------------------------------------- encodings


def test_gbk_bom_and_xlsx_variants_every_row_lands_or_is_held_with_a_reason(
    county: tuple[Lake, Path],
) -> None:
    lake, d = county
    fee = lines(2)
    fee[3] |= {"det_item_fee_sumamt": "150"}  # cnt × pric is 140: quarantined, with a reason
    ingest(lake, [write_csv(d / "setl.csv", settlements(2))])
    files = [
        write_csv(d / "gbk.csv", fee, headers=FEE_ZH, encoding="gbk"),
        write_csv(
            d / "gb18030.csv",
            fee,
            headers=FEE_ZH | {"bilg_dr_codg": "开单医师代码", "fee_ocur_time": "费用发生日期"},
            encoding="gb18030",
        ),
        write_csv(d / "bom.csv", fee, headers=FEE_ZH, encoding="utf-8-sig"),
        write_csv(d / "utf8.csv", fee),
        write_xlsx(d / "excel.xlsx", fee, headers=FEE_ZH),
    ]
    result = ingest(lake, files)
    for f in result.files:
        assert f.status == "committed", f.error
        assert (f.rows_read, f.accepted, f.reasons) == (4, 3, {"amount_mismatch": 1}), f.path
        assert accounted(f)
    assert {f.layout for f in result.files} == {"chinese", "platform"}
    q = lake.connect().sql("SELECT _source_file, reason, raw FROM quarantine").pl()
    assert q.height == 5 and set(q["reason"]) == {"amount_mismatch"}
    for path, raw in q.select("_source_file", "raw").iter_rows():  # kept as it arrived
        kept = json.loads(raw)
        if path.endswith(".xlsx"):
            header = [FEE_ZH.get(n, n) for n in LINE]
        else:
            enc = "gb18030" if "gb" in Path(path).name else "utf-8-sig"
            header = Path(path).read_bytes().decode(enc).splitlines()[0].split(",")
        assert list(kept) == header, path
        assert "150" in kept.values()


# --------------------------------------------------------------------------- scoring


def test_released_rows_are_scored(county: tuple[Lake, Path]) -> None:
    """After the release, ``hrss-fraud score`` runs over the lake and its findings include
    the released settlements (here: the data-quality rule on settlement lists, whose
    settlements lack a main diagnosis, in the data-quality export)."""
    lake, d = county
    ingest(
        lake,
        [
            write_csv(d / "setl.csv", settlements(2, inst="H2")),
            write_csv(d / "fee.csv", lines(2, inst="H2")),
        ],
    )
    assert held(lake).height == 6
    ingest(lake, [write_csv(d / "inst.csv", [{**INSTITUTION, "fixmedins_code": "H2"}])])
    assert held(lake).height == 0
    ws = lake.root.parent

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "hrss_fraud", "--workspace", str(ws), *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    done = run("score", "--rules", "dq_settlement_list", "--quiet")
    assert done.returncode == 0, done.stderr
    out = ws / "findings.csv"
    # a data-quality rule's findings are the data-quality report, not leads
    done = run("findings", "quality-export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    findings = pl.read_csv(out, infer_schema=False)
    hit = findings.filter(pl.col("fixmedins_code") == "H2")
    assert sorted(hit["setl_id"]) == ["S1", "S2"]
