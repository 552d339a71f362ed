"""The canonical data model: every table, field, dtype and label that all stages share.

Field names are the NHSA platform's (``fixmedins_code``, not ``hospital_id``): they are what
every local IT team already knows. Each table states its grain and natural key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from hrss_fraud.model import codes as C

#: Money to the fen. Decimal, so totals in the lake equal the sources to the fen.
AMOUNT = pl.Decimal(16, 2)
PRICE = pl.Decimal(16, 4)
QUANTITY = pl.Decimal(16, 4)
TEXT = pl.String()
TIME = pl.Datetime("us")
DATE = pl.Date()


@dataclass(frozen=True)
class Field:
    """One column of a canonical table."""

    name: str
    dtype: pl.DataType
    zh: str
    en: str
    required: bool = False
    codes: C.CodeList | None = None
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table with its grain (what one row is) and natural key."""

    name: str
    zh: str
    grain: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    doc: str = ""
    _index: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({f.name: f for f in self.fields})

    def __getitem__(self, name: str) -> Field:
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def polars_schema(self) -> pl.Schema:
        return pl.Schema({f.name: f.dtype for f in self.fields})

    def zh_headers(self) -> dict[str, str]:
        return {f.name: f.zh for f in self.fields}

    def en_headers(self) -> dict[str, str]:
        return {f.name: f.en for f in self.fields}


def _f(name: str, dtype: pl.DataType, zh: str, en: str, **kw: object) -> Field:
    return Field(name, dtype, zh, en, **kw)  # type: ignore[arg-type]


def _req(name: str, dtype: pl.DataType, zh: str, en: str, **kw: object) -> Field:
    return Field(name, dtype, zh, en, required=True, **kw)  # type: ignore[arg-type]


SETTLEMENT = Table(
    "settlement",
    "结算",
    grain="one row per settlement (setl_d joined with its visit mdtrt_d); an inpatient "
    "visit may have several (mid-stay and final)",
    key=("fixmedins_code", "setl_id"),
    fields=(
        _req("setl_id", TEXT, "结算ID", "settlement id"),
        _req("mdtrt_id", TEXT, "就诊ID", "visit id"),
        _req("psn_no", TEXT, "人员编号", "person number"),
        _req("fixmedins_code", TEXT, "定点医药机构编号", "institution code"),
        _req("med_type", TEXT, "医疗类别", "care type", codes=C.MED_TYPE),
        _req("insutype", TEXT, "险种类型", "insurance type", codes=C.INSUTYPE),
        _req("begntime", TIME, "开始时间", "begin time (admission)"),
        _f("endtime", TIME, "结束时间", "end time (discharge)"),
        _req("setl_time", TIME, "结算时间", "settlement time"),
        _f("dise_codg", TEXT, "主诊断编码", "main diagnosis code (ICD-10)"),
        _f("dise_name", TEXT, "主诊断名称", "main diagnosis name"),
        _f("oprn_oprt_code", TEXT, "主手术操作编码", "main procedure code"),
        _f("adm_dept_codg", TEXT, "科室编码", "department code", codes=C.DEPT),
        _f("chfpdr_code", TEXT, "主诊医师编码", "attending doctor code"),
        _f(
            "ipt_days",
            pl.Int32,
            "住院天数",
            "length of stay (days)",
            doc="usually empty in real uploads: compute from begntime and endtime",
        ),
        _req("medfee_sumamt", AMOUNT, "医疗费总额", "total medical cost"),
        _f("fulamt_ownpay_amt", AMOUNT, "全自费金额", "fully self-paid amount"),
        _f("overlmt_selfpay", AMOUNT, "超限价自费", "self-paid over price cap"),
        _f("preselfpay_amt", AMOUNT, "先行自付", "co-pay before coverage"),
        _req("inscp_amt", AMOUNT, "符合政策范围金额", "amount within policy scope"),
        _req("fund_pay_sumamt", AMOUNT, "基金支付总额", "total fund payment"),
        _f("hifp_pay", AMOUNT, "统筹基金支出", "pooled fund payment"),
        _f("acct_pay", AMOUNT, "个人账户支出", "personal account payment"),
        _f("psn_cash_pay", AMOUNT, "个人现金支出", "cash paid by the person"),
        _req(
            "refd_setl_flag", TEXT, "退费结算标志", "refund settlement flag", codes=C.REFD_SETL_FLAG
        ),
        _req("vali_flag", TEXT, "有效标志", "valid flag", codes=C.VALI_FLAG),
        _f(
            "crte_time",
            TIME,
            "上传时间",
            "upload time",
            doc="when the record reached the platform; late uploads are a rule",
        ),
    ),
)

FEE_DETAIL = Table(
    "fee_detail",
    "费用明细",
    grain="one row per billed line (fee_list_d); a refund is its own negative row that "
    "points to the original through init_feedetl_sn",
    key=("fixmedins_code", "mdtrt_id", "feedetl_sn"),
    fields=(
        _req(
            "feedetl_sn",
            TEXT,
            "费用明细流水号",
            "fee line serial",
            doc="unique only within one visit",
        ),
        _f("setl_id", TEXT, "结算ID", "settlement id"),
        _req("mdtrt_id", TEXT, "就诊ID", "visit id"),
        _req("psn_no", TEXT, "人员编号", "person number"),
        _req("fixmedins_code", TEXT, "定点医药机构编号", "institution code"),
        _req("fee_ocur_time", TIME, "费用发生时间", "time the fee occurred"),
        _req("med_list_codg", TEXT, "医疗目录编码", "national catalogue code"),
        _f("medins_list_codg", TEXT, "医药机构目录编码", "institution catalogue code"),
        _f("medins_list_name", TEXT, "医药机构目录名称", "institution catalogue name"),
        _f("list_type", TEXT, "目录类别", "catalogue type", codes=C.LIST_TYPE),
        _f("med_chrgitm_type", TEXT, "收费项目类别", "charge item type", codes=C.MED_CHRGITM_TYPE),
        _f("chrgitm_lv", TEXT, "收费项目等级", "charge item class", codes=C.CHRGITM_LV),
        _req("cnt", QUANTITY, "数量", "quantity"),
        _req("pric", PRICE, "单价", "unit price"),
        _req("det_item_fee_sumamt", AMOUNT, "明细项目费用总额", "line amount"),
        _f("inscp_amt", AMOUNT, "符合范围金额", "amount within policy scope"),
        _f("fulamt_ownpay_amt", AMOUNT, "全自费金额", "fully self-paid amount"),
        _f("overlmt_selfpay", AMOUNT, "超限价自费", "self-paid over price cap"),
        _f("pric_uplmt_amt", PRICE, "限价", "price cap"),
        _f("bilg_dept_codg", TEXT, "开单科室编码", "ordering department", codes=C.DEPT),
        _f("bilg_dr_codg", TEXT, "开单医师编码", "ordering doctor"),
        _f("prd_days", QUANTITY, "周期天数", "days' supply"),
        _f("used_frqu_dscr", TEXT, "使用频次", "frequency"),
        _f("sin_dos_dscr", TEXT, "单次剂量", "single dose"),
        _f("rxno", TEXT, "处方号", "prescription number"),
        _f("rx_circ_flag", TEXT, "外购处方标志", "external prescription flag", codes=C.FLAG),
        _f("dscg_tkdrug_flag", TEXT, "出院带药标志", "discharge medication flag", codes=C.FLAG),
        _f("init_feedetl_sn", TEXT, "原费用流水号", "original line of a refund"),
        _req("vali_flag", TEXT, "有效标志", "valid flag", codes=C.VALI_FLAG),
        _f("crte_time", TIME, "上传时间", "upload time"),
    ),
)

PERSON = Table(
    "person",
    "参保人员",
    grain="one row per insured person",
    key=("psn_no",),
    fields=(
        _req("psn_no", TEXT, "人员编号", "person number"),
        _f("psn_name", TEXT, "姓名", "name"),
        _f("certno", TEXT, "证件号码", "ID number"),
        _req("gend", TEXT, "性别", "sex", codes=C.GEND),
        _req("brdy", DATE, "出生日期", "date of birth"),
        _req("insutype", TEXT, "险种类型", "insurance type", codes=C.INSUTYPE),
        _f("psn_type", TEXT, "人员类别", "person category"),
        _f("emp_no", TEXT, "单位编号", "employer number"),
        _f("emp_name", TEXT, "单位名称", "employer name"),
        _f("insu_admdvs", TEXT, "参保区划", "insurance area"),
        _f("tel", TEXT, "联系电话", "telephone"),
        _f("addr", TEXT, "地址", "address"),
        _f("die_date", DATE, "死亡日期", "date of death"),
    ),
)

INSTITUTION = Table(
    "institution",
    "定点医药机构",
    grain="one row per designated institution (hospital, clinic or pharmacy)",
    key=("fixmedins_code",),
    fields=(
        _req("fixmedins_code", TEXT, "定点医药机构编号", "institution code"),
        _req("fixmedins_name", TEXT, "定点医药机构名称", "institution name"),
        _req(
            "fixmedins_type", TEXT, "定点医药机构类型", "institution type", codes=C.FIXMEDINS_TYPE
        ),
        _f("medins_type", TEXT, "医疗机构类别", "kind of institution", codes=C.MEDINS_TYPE),
        _f("hosp_lv", TEXT, "医院等级", "hospital level", codes=C.HOSP_LV),
        _req("admdvs", TEXT, "区划(乡镇)", "area (township; the inspection zone)"),
        _f("admdvs_name", TEXT, "乡镇名称", "township name"),
        _f("addr", TEXT, "地址", "address"),
        _f("agrmt_no", TEXT, "协议编号", "service agreement number"),
        _f("agrmt_begn_date", DATE, "协议开始日期", "agreement start"),
        _f("agrmt_end_date", DATE, "协议结束日期", "agreement end"),
    ),
)

PRACTITIONER = Table(
    "practitioner",
    "医师",
    grain="one row per doctor at an institution",
    key=("dr_codg",),
    fields=(
        _req("dr_codg", TEXT, "医师编码", "doctor code"),
        _f("dr_name", TEXT, "医师姓名", "doctor name"),
        _req("fixmedins_code", TEXT, "定点医药机构编号", "institution code"),
        _f("dept_codg", TEXT, "科室编码", "department code", codes=C.DEPT),
    ),
)

CATALOGUE = Table(
    "catalogue",
    "医保目录与知识库",
    grain="one row per national catalogue item, with the single-item restrictions the "
    "rules check; pairs and diagnoses live in their own knowledge tables",
    key=("med_list_codg",),
    fields=(
        _req("med_list_codg", TEXT, "医疗目录编码", "national catalogue code"),
        _req("med_list_name", TEXT, "名称", "name"),
        _req("list_type", TEXT, "目录类别", "catalogue type", codes=C.LIST_TYPE),
        _req(
            "med_chrgitm_type", TEXT, "收费项目类别", "charge item type", codes=C.MED_CHRGITM_TYPE
        ),
        _req("chrgitm_lv", TEXT, "收费项目等级", "charge item class", codes=C.CHRGITM_LV),
        _f(
            "item_group",
            TEXT,
            "项目分组",
            "item group",
            doc="bed, nursing, CT, MRI, lab, chemo, radiotherapy, dialysis, ...",
        ),
        _f("drug_class", TEXT, "药理分类", "pharmacological class"),
        _f("unit", TEXT, "计价单位", "unit"),
        _req("pric", PRICE, "标准单价", "reference price"),
        _f("pric_uplmt_lv1", PRICE, "一级限价", "price cap, level 1"),
        _f("pric_uplmt_lv2", PRICE, "二级限价", "price cap, level 2"),
        _f("pric_uplmt_lv3", PRICE, "三级限价", "price cap, level 3"),
        _f("days_per_unit", QUANTITY, "每单位天数", "usual days' supply per unit"),
        _f("max_cnt_line", QUANTITY, "单次限量", "quantity cap per line"),
        _f("max_cnt_day", QUANTITY, "每日限量", "quantity cap per day"),
        _f("max_cnt_visit", QUANTITY, "每次就诊限量", "quantity cap per visit"),
        _f("max_cnt_period", QUANTITY, "周期限量", "quantity cap per period"),
        _f("period_days", pl.Int32(), "周期天数", "period length (days)"),
        _f("max_days_supply", pl.Int32(), "最大支付天数", "maximum days' supply"),
        _f("max_course_days", pl.Int32(), "限支付疗程(天)", "maximum course (days)"),
        _f("max_amt_total", AMOUNT, "限定报销总额", "cap on reimbursed total"),
        _f("lmt_gend", TEXT, "限性别", "sex restriction", codes=C.GEND),
        _f("lmt_age_min_days", pl.Int32(), "限最小年龄(天)", "minimum age (days)"),
        _f("lmt_age_max_days", pl.Int32(), "限最大年龄(天)", "maximum age (days)"),
        _f("forbid_age_max_days", pl.Int32(), "禁用年龄上限(天)", "forbidden below age (days)"),
        _f("caution_elderly", TEXT, "老年人慎用", "caution for the elderly", codes=C.FLAG),
        _f("caution_pregnancy", TEXT, "妊娠哺乳禁用", "forbidden in pregnancy", codes=C.FLAG),
        _f("lmt_insutype", TEXT, "限险种", "insurance types allowed (;)"),
        _f("lmt_hosp_lv", TEXT, "限医院最低等级", "minimum institution level", codes=C.HOSP_LV),
        _f("lmt_dept", TEXT, "限科室", "departments allowed (;)"),
        _f("lmt_med_type", TEXT, "限就医方式", "care types allowed (;)"),
        _f("indications", TEXT, "限适应症(ICD-10前缀)", "indications (ICD-10 prefixes ;)"),
        _f("contraindications", TEXT, "禁忌症(ICD-10前缀)", "contraindications (ICD-10 ;)"),
        _f("lmt_dise_catalog", TEXT, "限病种目录", "disease catalogue allowed"),
        _f(
            "herb_nopay",
            TEXT,
            "饮片不予支付",
            "herbal piece not payable",
            doc="'all': single or compound; 'single': only when prescribed alone",
        ),
        _f("first_line_class", TEXT, "一线药物类别", "first-line class required before"),
        _f(
            "antibiotic_tier",
            TEXT,
            "抗菌药物级别",
            "antibiotic tier",
            doc="1 非限制, 2 限制, 3 特殊使用",
        ),
        _f(
            "oprn_discount",
            TEXT,
            "手术折价规则",
            "surgery discount rule",
            doc="'second_50': a second surgery in the same session is billed at 50 %",
        ),
    ),
)

KNOWLEDGE_PAIR = Table(
    "knowledge_pair",
    "项目配对知识",
    grain="one row per ordered pair of items with a relation the rules check",
    key=("pair_type", "item_a", "item_b"),
    fields=(
        _req(
            "pair_type",
            TEXT,
            "配对类型",
            "relation",
            doc="duplicate 重复收费, unbundle 分解收费, interaction 药品相互作用, "
            "herb 十八反十九畏, companion 需伴随项目, drug_service 药品与项目不符",
        ),
        _req("item_a", TEXT, "项目A编码", "item A"),
        _req(
            "item_b",
            TEXT,
            "项目B编码",
            "item B",
            doc="for duplicate/unbundle: the item that should not have been billed",
        ),
        _f("scope", TEXT, "时间范围", "scope", doc="visit (none), day (同时)"),
        _f("note", TEXT, "说明", "note"),
    ),
)

DIAGNOSIS = Table(
    "diagnosis",
    "诊断知识",
    grain="one row per ICD-10 code used in the county",
    key=("dise_codg",),
    fields=(
        _req("dise_codg", TEXT, "诊断编码", "ICD-10 code"),
        _req("dise_name", TEXT, "诊断名称", "diagnosis name"),
        _f("dise_group", TEXT, "诊断分组", "diagnosis group (peer groups)"),
        _f("lmt_gend", TEXT, "限性别", "sex restriction", codes=C.GEND),
        _f("lmt_age_min_days", pl.Int32(), "最小年龄(天)", "minimum age (days)"),
        _f("lmt_age_max_days", pl.Int32(), "最大年龄(天)", "maximum age (days)"),
        _f("chronic", TEXT, "慢特病", "chronic or special disease", codes=C.FLAG),
        _f("catalog", TEXT, "病种目录", "disease catalogue"),
        _f("pregnancy", TEXT, "妊娠相关", "pregnancy related", codes=C.FLAG),
    ),
)

PROCEDURE = Table(
    "procedure",
    "手术操作知识",
    grain="one row per procedure code (ICD-9-CM-3)",
    key=("oprn_oprt_code",),
    fields=(
        _req("oprn_oprt_code", TEXT, "手术操作编码", "procedure code"),
        _req("oprn_oprt_name", TEXT, "手术操作名称", "procedure name"),
        _f("lmt_gend", TEXT, "限性别", "sex restriction", codes=C.GEND),
        _f("dise_prefixes", TEXT, "相符诊断(ICD-10前缀)", "consistent diagnoses (;)"),
    ),
)

#: The employers' enrolment and contribution filings (参保稽核): what the checks of the
#: ``enrolment`` rule family read. Employers report them to the centre; a lake without them
#: still scores (the checks then find nothing).
EMPLOYER = Table(
    "employer",
    "参保单位",
    grain="one row per insured employer",
    key=("emp_no",),
    fields=(
        _req("emp_no", TEXT, "单位编号", "employer number"),
        _req("emp_name", TEXT, "单位名称", "employer name"),
        _f("emp_type", TEXT, "单位类型", "kind of employer", codes=C.EMP_TYPE),
        _req("admdvs", TEXT, "区划(乡镇)", "area (township; the inspection zone)"),
        _f("admdvs_name", TEXT, "乡镇名称", "township name"),
        _f("indu_type", TEXT, "行业类别", "industry"),
    ),
)

EMP_CONTRIBUTION = Table(
    "emp_contribution",
    "职工缴费申报",
    grain="one row per employee, employer, insurance type and month of contribution (费款所属期)",
    key=("emp_no", "psn_no", "insutype", "cashym"),
    fields=(
        _req("emp_no", TEXT, "单位编号", "employer number"),
        _req("psn_no", TEXT, "人员编号", "person number"),
        _f("psn_name", TEXT, "姓名", "name"),
        _f("certno", TEXT, "证件号码", "ID number"),
        _req("insutype", TEXT, "险种类型", "insurance type", codes=C.INSUTYPE),
        _f("psn_type", TEXT, "人员类别", "person category"),
        _req(
            "cashym",
            TEXT,
            "费款所属期",
            "month of contribution",
            doc="YYYYMM, the month the contribution is for",
        ),
        _req("psn_clctstd", AMOUNT, "人员缴费基数", "declared monthly contribution base"),
        _f("wag", AMOUNT, "工资", "declared monthly wage"),
        _f("emp_clct_amt", AMOUNT, "单位缴费金额", "employer's contribution"),
        _f("psn_clct_amt", AMOUNT, "个人缴费金额", "employee's contribution"),
    ),
)

INSU_EVENT = Table(
    "insu_event",
    "参保变更申报",
    grain="one row per enrolment filing: enrol, interrupt, cancel, transfer or change",
    key=("evt_sn",),
    fields=(
        _req("evt_sn", TEXT, "申报流水号", "filing serial"),
        _req("emp_no", TEXT, "单位编号", "employer number"),
        _req("psn_no", TEXT, "人员编号", "person number"),
        _f("insutype", TEXT, "险种类型", "insurance type", codes=C.INSUTYPE),
        _req("evt_type", TEXT, "参保业务类型", "kind of filing", codes=C.EVT_TYPE),
        _req("evt_date", DATE, "生效日期", "effective date"),
        _f("evt_rea", TEXT, "变更原因", "reason"),
        _f(
            "docs",
            TEXT,
            "申报材料",
            "documents filed",
            doc="document codes (codes.DOC_TYPE) separated by ; , 、 or spaces",
        ),
    ),
)

EMP_FIN_STMT = Table(
    "emp_fin_stmt",
    "单位年度财务报表",
    grain="one row per employer and year: the payroll and headcount its statements report",
    key=("emp_no", "year"),
    fields=(
        _req("emp_no", TEXT, "单位编号", "employer number"),
        _req("year", pl.Int32(), "年度", "year"),
        _req("wag_sumamt", AMOUNT, "工资总额", "payroll total of the year"),
        _req("emp_cnt", pl.Int32(), "职工人数", "average headcount"),
    ),
)

AVG_WAGE = Table(
    "avg_wage",
    "社会平均工资",
    grain="one row per year: the average monthly wage the year's contribution base limits "
    "are a share of",
    key=("year",),
    fields=(
        _req("year", pl.Int32(), "年度", "year"),
        _req(
            "avg_wage",
            AMOUNT,
            "职工月平均工资",
            "average monthly wage",
            doc="上年度全口径城镇单位就业人员平均工资 ÷ 12, as the province publishes it",
        ),
    ),
)

RETIREE_PENSION = Table(
    "retiree_pension",
    "离退休人员养老金",
    grain="one row per retiree and year (the pension adjustment table)",
    key=("psn_no", "year"),
    fields=(
        _req("psn_no", TEXT, "人员编号", "person number"),
        _f("emp_no", TEXT, "单位编号", "employer number"),
        _req("year", pl.Int32(), "年度", "year"),
        _req("pension_amt", AMOUNT, "月养老金", "monthly pension"),
        _f("retr_date", DATE, "退休日期", "date of retirement"),
    ),
)

DEATH = Table(
    "death",
    "死亡人员",
    grain="one row per deceased person (civil affairs, funeral or hospital records)",
    key=("psn_no",),
    fields=(
        _req("psn_no", TEXT, "人员编号", "person number"),
        _f("psn_name", TEXT, "姓名", "name"),
        _f("certno", TEXT, "证件号码", "ID number"),
        _req("die_date", DATE, "死亡日期", "date of death"),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SETTLEMENT,
        FEE_DETAIL,
        PERSON,
        INSTITUTION,
        PRACTITIONER,
        CATALOGUE,
        KNOWLEDGE_PAIR,
        DIAGNOSIS,
        PROCEDURE,
        EMPLOYER,
        EMP_CONTRIBUTION,
        INSU_EVENT,
        EMP_FIN_STMT,
        AVG_WAGE,
        RETIREE_PENSION,
        DEATH,
    )
}

#: Tables institutions upload, as opposed to reference tables the centre keeps.
CLAIM_TABLES = ("settlement", "fee_detail")
#: Tables of the employers' enrolment and contributions (the ``enrolment`` checks).
ENROLMENT_TABLES = (
    "employer",
    "emp_contribution",
    "insu_event",
    "emp_fin_stmt",
    "avg_wage",
    "retiree_pension",
    "death",
)


def table(name: str) -> Table:
    """Return a canonical table by name, with a clear error for an unknown one."""
    try:
        return TABLES[name]
    except KeyError:
        msg = f"unknown table {name!r}; known tables: {', '.join(TABLES)}"
        raise KeyError(msg) from None
