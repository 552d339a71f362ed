"""Every label the dashboard's data layer shows, Chinese first and English on request, in
one place so the grid, the detail panel, the overview and the Excel export say the same."""

from __future__ import annotations

from hrss_fraud.cases.vocab import DECISIONS, STEPS
from hrss_fraud.model.codes import MED_TYPE
from hrss_fraud.rules.catalogue import SEVERITIES

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
}
"""Column → (Chinese, English)."""

NEW_STATUS = "new"
STATUSES: dict[str, tuple[str, str]] = {
    NEW_STATUS: ("新疑点", "new"),
    **{code: (zh, en) for code, (zh, en, _label) in DECISIONS.items()},
}
"""Review status of a lead: ``new`` (no decision yet) or its latest decision's outcome."""

FAMILIES: dict[str, tuple[str, str]] = {
    "restriction": ("限定使用", "restrictions"),
    "price_quantity": ("价格与数量", "price and quantity"),
    "pairs": ("重复与组合收费", "pairs and duplicates"),
    "drugs": ("药品", "drugs"),
    "diagnosis": ("诊断", "diagnoses"),
    "behaviour": ("就医行为", "behaviour over time"),
    "data_quality": ("数据质量", "data quality"),
    "indicator": ("机构指标", "indicators"),
    "statistical": ("统计与模型", "statistics and models"),
}
"""Rule family (the catalogue file a rule is declared in) → label; an unknown family shows
its code."""

UNATTRIBUTED = ("未归属", "unattributed")
"""The group of a lead that has no value for a breakdown (e.g. no settlement: no care type)."""


def _pick(pair: tuple[str, str], lang: str) -> str:
    if lang not in LANGS:
        msg = f"unknown language {lang!r}; expected one of {', '.join(LANGS)}"
        raise ValueError(msg)
    return pair[1] if lang == "en" else pair[0]


def column_label(column: str, lang: str = "zh") -> str:
    """The header of ``column``; the column's own name when it has no label."""
    return _pick(COLUMNS[column], lang) if column in COLUMNS else column


def severity_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in SEVERITIES.items()}


def status_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in STATUSES.items()}


def step_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in STEPS.items()}


def family_labels(lang: str = "zh") -> dict[str, str]:
    return {code: _pick(pair, lang) for code, pair in FAMILIES.items()}


def med_type_labels(lang: str = "zh") -> dict[str, str]:
    return MED_TYPE.en_names() if lang == "en" else MED_TYPE.zh_names()


def unattributed(lang: str = "zh") -> str:
    return _pick(UNATTRIBUTED, lang)
