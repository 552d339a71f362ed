"""Every label the dashboard's data layer shows, Chinese first and English on request, in
one place so the grid, the detail panel, the overview and the Excel export say the same."""

from __future__ import annotations

import polars as pl

from hrss_fraud.cases.vocab import DECISIONS, STEPS
from hrss_fraud.engine.catalogue import FAMILIES, SEVERITIES
from hrss_fraud.model.codes import ALL, MED_TYPE, CodeList
from hrss_fraud.model.schema import AMOUNT, TABLES

LANGS = ("zh", "en")

COLUMNS: dict[str, tuple[str, str]] = {
    "finding_id": ("疑点编号", "lead id"),
    "rule_id": ("规则编号", "rule id"),
    "rule_name": ("规则名称", "rule"),
    "severity": ("严重程度", "severity"),
    "severity_label": ("严重程度", "severity"),
    "fixmedins_code": ("定点医药机构编号", "institution code"),
    "fixmedins_name": ("定点医药机构名称", "institution"),
    "zone": ("区划(乡镇)", "zone"),
    "zone_name": ("乡镇名称", "zone name"),
    "psn_no": ("人员编号", "person number"),
    "period_start": ("开始日期", "from"),
    "period_end": ("结束日期", "to"),
    "amount_at_risk": ("疑点金额(元)", "amount at risk (yuan)"),
    "status": ("审核状态", "review status"),
    "status_label": ("审核状态", "review status"),
    "step": ("审核环节", "review step"),
    "step_label": ("审核环节", "review step"),
    "evidence": ("疑点说明", "evidence"),
    "entity_type": ("对象类型", "entity type"),
    "setl_id": ("结算ID", "settlement id"),
    "mdtrt_id": ("就诊ID", "visit id"),
    "feedetl_sn": ("费用明细流水号", "fee line serial"),
    "role": ("明细角色", "line role"),
    "line_time": ("发生时间", "time"),
    "line_valid": ("明细有效", "line valid"),
    "month": ("月份", "month"),
    "med_type": ("医疗类别", "care type"),
    "family": ("规则类别", "rule family"),
    "n_findings": ("疑点数", "leads"),
    "n_settlements": ("结算笔数", "settlements"),
    "inscp_amt": ("符合政策范围金额(元)", "in-scope amount (yuan)"),
    "fund_pay_sumamt": ("基金支付(元)", "fund paid (yuan)"),
    "case_id": ("案件编号", "case id"),
    "case_rank": ("案件排序", "case rank"),
    "case_kind": ("案件类型", "case kind"),
    "case_kind_label": ("案件类型", "case kind"),
    "title": ("案件", "case"),
    "months": ("月份", "months"),
    "rule_ids": ("规则编号", "rule ids"),
    "rules": ("涉及规则", "rules"),
    "family_label": ("规则类别", "rule family"),
    "doctor": ("医师编码", "doctor code"),
    "n_lines": ("明细条数", "lines"),
    "expected_recovery": ("预计追回(元)", "expected recovery (yuan)"),
    "n_decided": ("已审核疑点数", "leads decided"),
    "progress": ("审核进度", "review progress"),
    "progress_label": ("审核状态", "review state"),
    **{
        "n_rules": ("规则数", "rules"),
        "institution_settlements": ("机构有效结算笔数", "institution's valid settlements"),
        "share_of_settlements": ("涉及结算占比", "share of settlements"),
        "settlements": ("结算笔数", "settlements"),
        "fee_lines": ("费用明细条数", "fee lines"),
        "missing_dise_codg": ("主诊断缺失比例", "main diagnosis missing"),
        "missing_chfpdr_code": ("主诊医师缺失比例", "attending doctor missing"),
        "missing_bilg_dr_codg": ("开单医师缺失比例", "ordering doctor missing"),
        "late_settlement_share": ("结算延迟上传比例", "settlements uploaded late"),
        "late_line_share": ("明细延迟上传比例", "lines uploaded late"),
        "quarantined": ("隔离行数", "rows quarantined"),
        "quarantined_by_reason": ("隔离原因", "quarantined by reason"),
    },
}
"""Column → (Chinese, English); the last block are the data-quality figures (the lake's
``dq_institution`` and the run's data-quality findings per institution)."""

NEW_STATUS = "new"
STATUSES: dict[str, tuple[str, str]] = {
    NEW_STATUS: ("新疑点", "new"),
    **{code: (zh, en) for code, (zh, en, _label) in DECISIONS.items()},
}
"""Review status of a lead: ``new`` (no decision yet) or its latest decision's outcome."""

# Rule family → label: kept beside the catalogue (hrss_fraud.engine.catalogue.FAMILIES).

CASE_KINDS: dict[str, tuple[str, str]] = {
    "institution_month": ("机构·规则类别·月份", "institution × rule family × month"),
    "person": ("参保人就医模式", "a person's pattern"),
    "doctor": ("医师行为模式", "a doctor's pattern"),
    "employer_month": ("单位·规则类别·月份", "employer × rule family × month"),
}
"""Kind of case (``Run.cases``' ``case_kind``) → label."""

PROGRESS: dict[str, tuple[str, str]] = {
    "untouched": ("未开始审核", "not started"),
    "in_progress": ("审核中", "in progress"),
    "done": ("已全部审核", "all decided"),
}
"""Review state of a case: none, some or all of its leads decided."""

LINE_ROLES: dict[str, tuple[str, str]] = {
    "violating": ("违规明细", "violating"),
    "involved": ("相关明细", "involved"),
}
"""A line's role in a finding: the line that breaks the rule, or one that shows it."""

UNATTRIBUTED = ("未归属", "unattributed")
"""The group of a lead that has no value for a breakdown (e.g. no settlement: no care type)."""


def _pick(pair: tuple[str, str], lang: str) -> str:
    if lang not in LANGS:
        msg = f"unknown language {lang!r}; expected one of {', '.join(LANGS)}"
        raise ValueError(msg)
    return pair[1] if lang == "en" else pair[0]


LINE_CONTEXT: dict[str, tuple[str, str]] = {
    "line_inscp_amt": ("明细符合范围金额(元)", "line in-scope amount (yuan)"),
    "setl_inscp_amt": ("结算符合政策范围金额(元)", "settlement in-scope amount (yuan)"),
}
"""The lake columns a lead's lines are shown with, renamed where a line and its
settlement both have one (``inscp_amt``)."""


def _model_labels() -> dict[str, tuple[str, str]]:
    """Every field of the data model with its Chinese and English label (the first table
    that has it): what a lake column is called on a page without a label of its own."""
    out: dict[str, tuple[str, str]] = {}
    for table in TABLES.values():
        for f in table.fields:
            out.setdefault(f.name, (f.zh, f.en))
    return out


MODEL_COLUMNS = _model_labels()

AMOUNT_COLUMNS = frozenset(
    {f.name for table in TABLES.values() for f in table.fields if f.dtype == AMOUNT}
    | {
        c
        for labels in (COLUMNS, LINE_CONTEXT)
        for c, (zh, _en) in labels.items()
        if zh.endswith("(元)")
    }
)
"""Columns of yuan: the data model's amounts and the labelled columns that say (元)."""


def column_label(column: str, lang: str = "zh") -> str:
    """The header of ``column``: its dashboard label, else the data model's; the column's
    own name when neither has one."""
    for labels in (COLUMNS, LINE_CONTEXT, MODEL_COLUMNS):
        if column in labels:
            return _pick(labels[column], lang)
    return column


def severity_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in SEVERITIES.items()}


def status_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in STATUSES.items()}


def step_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in STEPS.items()}


def family_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in FAMILIES.items()}


def case_kind_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in CASE_KINDS.items()}


def progress_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in PROGRESS.items()}


def line_role_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in LINE_ROLES.items()}


def med_type_labels(lang: str = "zh") -> dict[str, str]:
    return MED_TYPE.en_names() if lang == "en" else MED_TYPE.zh_names()


def unattributed(lang: str = "zh") -> str:
    return _pick(UNATTRIBUTED, lang)


YES_NO: dict[bool, tuple[str, str]] = {True: ("是", "Yes"), False: ("否", "No")}
"""A true/false column as a reader says it."""


def yes_no(value: bool | None, lang: str = "zh") -> str:
    """``是``/``否`` (``Yes``/``No``); empty for a missing value."""
    return "" if value is None else _pick(YES_NO[bool(value)], lang)


def _code_lists() -> dict[str, CodeList]:
    """Every coded field of the data model (``gend``, ``insutype``, ``lmt_gend``, …) →
    its code list: the fields' own, then the platform's lists by their field."""
    lists: dict[str, CodeList] = {}
    for table in TABLES.values():
        for f in table.fields:
            if f.codes is not None:
                lists.setdefault(f.name, f.codes)
    for name, codes in ALL.items():
        lists.setdefault(name, codes)
    return lists


CODE_LISTS = _code_lists()


def code_labels(column: str, lang: str = "zh") -> dict[str, str]:
    """Code → label of ``column``'s code list (``gend``: ``{"2": "女", …}``); empty for a
    column without one."""
    codes = CODE_LISTS.get(column)
    if codes is None:
        return {}
    return {c.code: _pick((c.zh, c.en), lang) for c in codes.codes}


def code_label(column: str, code: str | None, lang: str = "zh") -> str:
    """The label of ``code`` in ``column``'s list; a code the list lacks as it is (a
    province's own code stays readable), empty for none."""
    if code is None:
        return ""
    return code_labels(column, lang).get(str(code), str(code))


def with_labels(df: pl.DataFrame, lang: str = "zh") -> pl.DataFrame:
    """``df`` as a reader sees it: each coded column's codes replaced by their labels
    (:func:`code_label`) and each true/false column by 是/否 (Yes/No); other columns as
    they are. What a table and an export of the same frame both show."""
    out = []
    for name, dtype in df.schema.items():
        if dtype == pl.Boolean:
            pairs = {flag: yes_no(flag, lang) for flag in (True, False)}
            out.append(pl.col(name).replace_strict(pairs, return_dtype=pl.String))
        elif name in CODE_LISTS and dtype == pl.String:
            out.append(pl.col(name).replace(code_labels(name, lang)))
    return df.with_columns(out) if out else df
