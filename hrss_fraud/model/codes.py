"""The platform's code lists (NHSA 医保信息业务编码), with Chinese and English names.

Provinces extend these lists; a per-province mapping onto these canonical codes lives in
the ingest layouts, so everything after ingest sees only the codes below.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class CodeList:
    """One code list: the field it belongs to and its allowed values."""

    field: str
    zh: str
    codes: tuple[Code, ...]

    def values(self) -> list[str]:
        return [c.code for c in self.codes]

    def zh_names(self) -> dict[str, str]:
        return {c.code: c.zh for c in self.codes}

    def en_names(self) -> dict[str, str]:
        return {c.code: c.en for c in self.codes}

    def __contains__(self, code: object) -> bool:
        return any(c.code == code for c in self.codes)


def _codes(*rows: tuple[str, str, str]) -> tuple[Code, ...]:
    return tuple(Code(*row) for row in rows)


MED_TYPE = CodeList(
    "med_type",
    "医疗类别",
    _codes(
        ("11", "普通门诊", "general outpatient"),
        ("12", "门诊挂号", "outpatient registration"),
        ("13", "急诊", "emergency"),
        ("14", "门诊慢特病", "outpatient chronic and special disease"),
        ("15", "特药", "special drugs"),
        ("16", "中医特色门诊", "TCM outpatient"),
        ("21", "普通住院", "general inpatient"),
        ("22", "外伤住院", "trauma inpatient"),
        ("23", "转外诊治住院", "referred-out inpatient"),
        ("24", "急诊转住院", "emergency to inpatient"),
        ("25", "异地住院", "inpatient elsewhere"),
        ("26", "单病种住院", "single-disease inpatient"),
        ("27", "自主就医", "self-referred care"),
        ("28", "日间手术", "day surgery"),
        ("41", "定点药店购药", "retail pharmacy purchase"),
        ("51", "生育门诊", "maternity outpatient"),
        ("52", "生育住院", "maternity inpatient"),
    ),
)

#: Care settings, derived from ``med_type``: what most rules and peer groups need.
OUTPATIENT_MED_TYPES = ("11", "12", "13", "14", "15", "16", "51")
INPATIENT_MED_TYPES = ("21", "22", "23", "24", "25", "26", "28", "52")
PHARMACY_MED_TYPES = ("41",)

INSUTYPE = CodeList(
    "insutype",
    "险种类型",
    _codes(
        ("310", "职工基本医疗保险", "employee basic medical insurance"),
        ("320", "公务员医疗补助", "civil-servant medical subsidy"),
        ("330", "大额医疗费用补助", "large-expense supplementary insurance"),
        ("340", "离休人员医疗保障", "retired-cadre medical security"),
        ("390", "城乡居民基本医疗保险", "urban-rural resident basic medical insurance"),
        ("392", "城乡居民大病医疗保险", "urban-rural resident critical-illness insurance"),
        ("410", "长期照护保险", "long-term care insurance"),
        ("510", "生育保险", "maternity insurance"),
        # A provincial extension: work-injury insurance shares the settlement platform.
        ("610", "工伤保险", "work-injury insurance"),
    ),
)

MED_CHRGITM_TYPE = CodeList(
    "med_chrgitm_type",
    "收费项目类别",
    _codes(
        ("01", "床位费", "bed"),
        ("02", "诊察费", "consultation"),
        ("03", "检查费", "examination"),
        ("04", "化验费", "laboratory test"),
        ("05", "治疗费", "treatment"),
        ("06", "手术费", "surgery"),
        ("07", "护理费", "nursing"),
        ("08", "卫生材料费", "medical consumable"),
        ("09", "西药费", "western drug"),
        ("10", "中药饮片费", "herbal pieces"),
        ("11", "中成药费", "Chinese patent medicine"),
        ("12", "一般诊疗费", "general diagnosis and treatment"),
        ("13", "挂号费", "registration"),
        ("14", "其他费", "other"),
    ),
)

LIST_TYPE = CodeList(
    "list_type",
    "目录类别",
    _codes(
        ("101", "西药中成药", "western and Chinese patent medicine"),
        ("102", "中药饮片", "herbal pieces"),
        ("103", "自制剂", "in-house preparation"),
        ("104", "民族药", "ethnic medicine"),
        ("201", "医疗服务项目", "medical service"),
        ("301", "医用耗材", "medical consumable"),
    ),
)

CHRGITM_LV = CodeList(
    "chrgitm_lv",
    "收费项目等级",
    _codes(
        ("01", "甲类", "class A"),
        ("02", "乙类", "class B"),
        ("03", "丙类", "class C (self-paid)"),
    ),
)

GEND = CodeList(
    "gend",
    "性别",
    _codes(
        ("1", "男", "male"),
        ("2", "女", "female"),
        ("0", "未知的性别", "unknown"),
        ("9", "未说明的性别", "unspecified"),
    ),
)

HOSP_LV = CodeList(
    "hosp_lv",
    "医院等级",
    _codes(
        ("1", "一级", "level 1"),
        ("2", "二级", "level 2"),
        ("3", "三级", "level 3"),
        ("9", "未定级", "unrated"),
    ),
)

FIXMEDINS_TYPE = CodeList(
    "fixmedins_type",
    "定点医药机构类型",
    _codes(
        ("1", "定点医疗机构", "designated medical institution"),
        ("2", "定点零售药店", "designated retail pharmacy"),
    ),
)

#: Kind of medical institution; a local list (the platform's ``medins_type`` varies by
#: province). Used to build peer groups.
MEDINS_TYPE = CodeList(
    "medins_type",
    "医疗机构类别",
    _codes(
        ("A1", "综合医院", "general hospital"),
        ("A2", "中医医院", "TCM hospital"),
        ("A3", "妇幼保健院", "maternal and child health hospital"),
        ("B1", "乡镇卫生院", "township health centre"),
        ("C1", "村卫生室", "village clinic"),
        ("C2", "民营诊所", "private clinic"),
        ("D1", "零售药店", "retail pharmacy"),
    ),
)

DEPT = CodeList(
    "adm_dept_codg",
    "科室",
    _codes(
        ("A02", "全科医疗科", "general practice"),
        ("A03", "内科", "internal medicine"),
        ("A04", "外科", "surgery"),
        ("A05", "妇产科", "obstetrics and gynaecology"),
        ("A07", "儿科", "paediatrics"),
        ("A10", "眼科", "ophthalmology"),
        ("A11", "耳鼻咽喉科", "ENT"),
        ("A12", "口腔科", "stomatology"),
        ("A20", "急诊医学科", "emergency medicine"),
        ("A21", "康复医学科", "rehabilitation"),
        ("A30", "医学检验科", "laboratory"),
        ("A32", "医学影像科", "medical imaging"),
        ("A50", "中医科", "traditional Chinese medicine"),
        ("A51", "肿瘤科", "oncology"),
        ("A52", "肾内科(血液透析)", "nephrology (dialysis)"),
        ("D01", "药房", "pharmacy"),
    ),
)

VALI_FLAG = CodeList(
    "vali_flag",
    "有效标志",
    _codes(("1", "有效", "valid"), ("0", "无效", "invalid")),
)

REFD_SETL_FLAG = CodeList(
    "refd_setl_flag",
    "退费结算标志",
    _codes(("0", "正常结算", "normal"), ("1", "退费结算", "refund")),
)

FLAG = CodeList("flag", "标志", _codes(("0", "否", "no"), ("1", "是", "yes")))

EMP_TYPE = CodeList(
    "emp_type",
    "单位类型",
    _codes(
        ("10", "企业", "enterprise"),
        ("30", "机关", "state organ"),
        ("50", "事业单位", "public institution"),
        ("55", "社会团体", "association"),
        ("60", "民办非企业单位", "private non-enterprise unit"),
        ("70", "个体工商户", "individual business"),
        ("90", "其他", "other"),
    ),
)

EVT_TYPE = CodeList(
    "evt_type",
    "参保业务类型",
    _codes(
        ("11", "参保", "enrol"),
        ("21", "中断", "interrupt"),
        ("31", "注销", "cancel"),
        ("41", "转移", "transfer"),
        ("51", "变更", "change"),
    ),
)
#: Filings that end a person's enrolment at an employer (benefits stop after them).
EVT_ENDING = ("21", "31", "41")

#: Documents an enrolment filing carries (``insu_event.docs``, codes separated by ``;``);
#: which ones each kind of filing requires is a rule argument (``analytics/rules``).
DOC_TYPE = CodeList(
    "docs",
    "申报材料",
    _codes(
        ("01", "身份证件", "identity document"),
        ("02", "劳动合同", "labour contract"),
        ("03", "参保登记表", "enrolment form"),
        ("04", "解除或终止劳动关系证明", "proof of the end of employment"),
        ("05", "死亡证明", "death certificate"),
        ("06", "参保缴费凭证", "certificate of contributions (transfer)"),
        ("07", "信息变更申请表", "change application form"),
        ("08", "变更事项证明材料", "proof of the change"),
    ),
)

ALL: dict[str, CodeList] = {
    cl.field: cl
    for cl in (
        MED_TYPE,
        INSUTYPE,
        MED_CHRGITM_TYPE,
        LIST_TYPE,
        CHRGITM_LV,
        GEND,
        HOSP_LV,
        FIXMEDINS_TYPE,
        MEDINS_TYPE,
        DEPT,
        VALI_FLAG,
        REFD_SETL_FLAG,
        EMP_TYPE,
        EVT_TYPE,
    )
}

#: Fields whose code list *describes* a row rather than decides whether or how it counts:
#: a value outside the list is kept and reported as a data-quality flag, never a reason to
#: quarantine the row (a department, a charge class or type, an institution's level). The
#: lists that decide how a row counts stay strict: ``vali_flag`` (whether it counts at all),
#: ``refd_setl_flag`` (the sign of a refund), and a claim's ``med_type`` and ``insutype``
#: (which care setting, fund and rules apply). In the registers (person, institution,
#: practitioner) every code list is descriptive: see ``hrss_fraud.ingest.validate``.
DESCRIPTIVE_FIELDS = frozenset(
    {
        "adm_dept_codg",
        "bilg_dept_codg",
        "dept_codg",
        "list_type",
        "med_chrgitm_type",
        "chrgitm_lv",
        "hosp_lv",
        "medins_type",
        "rx_circ_flag",
        "dscg_tkdrug_flag",
        "emp_type",
    }
)

#: Department fields: values from the national department list, with its sub-specialties.
DEPT_FIELDS = ("adm_dept_codg", "bilg_dept_codg", "dept_codg")
#: Separator of a sub-specialty: ``A03.05`` is a sub-specialty of ``A03`` (内科).
DEPT_SUB_SEP = "."


def dept_parent(code: str | None) -> str | None:
    """The department a (sub-)department code belongs to: ``A03.05`` → ``A03``; a parent
    code is its own parent. Rules that compare departments compare parents."""
    if code is None:
        return None
    return code.split(DEPT_SUB_SEP, 1)[0]


def dept_parent_sql(expr: str) -> str:
    """:func:`dept_parent` as a DuckDB expression over ``expr`` (NULL stays NULL), for rule
    SQL: ``WHERE {dept_parent_sql('f.bilg_dept_codg')} = 'A52'``."""
    return f"split_part({expr}, '{DEPT_SUB_SEP}', 1)"


def in_list(field: str, code: str | None) -> bool:
    """Whether ``code`` belongs to the code list of ``field`` (a department by its parent);
    a field without a code list accepts anything, an empty value is not judged here."""
    cl = (
        DEPT
        if field in DEPT_FIELDS
        else ALL.get(field, FLAG if field in ("rx_circ_flag", "dscg_tkdrug_flag") else None)
    )
    if cl is None or code is None:
        return True
    return (dept_parent(code) if field in DEPT_FIELDS else code) in cl
