"""How the evaluation's tables read for people: Chinese labels by default, English on
request, pass/fail in words, and a Markdown rendering. The tables keep their English
column names for programs (Parquet, JSON); only what people read is relabelled."""

from __future__ import annotations

from typing import Literal

import polars as pl

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

#: column or metric name → (Chinese, English)
LABELS: dict[str, tuple[str, str]] = {
    "seed": ("种子", "Seed"),
    "run_id": ("运行编号", "Run"),
    "institutions": ("机构数", "Institutions"),
    "fraudulent_institutions": ("违规机构数", "Fraudulent institutions"),
    "k": ("检查名单长度K", "List size K"),
    "precision_at_k": ("检查名单精确率@K(10%)", "Precision at K (10%)"),
    "roc_auc": ("机构排名ROC-AUC", "Ranking ROC-AUC"),
    "fp_rate_clean_persons": ("清白参保人误报率", "FP rate, clean persons"),
    "fp_rate_clean_institutions": ("清白机构误报率", "FP rate, clean institutions"),
    "beyond_schemes": ("规则遗漏方案数", "Schemes rules miss"),
    "beyond_schemes_met": ("其中召回达标", "Of which recall met"),
    "beyond_recall_min": ("规则遗漏方案最低召回率", "Lowest recall, schemes rules miss"),
    "findings": ("疑点数", "Leads"),
    "precision": ("疑点精确率", "Lead precision"),
    "recall_rule_schemes": ("规则可查方案召回率", "Recall, rule schemes"),
    "lookalike_hits": ("合规相似误报数", "Look-alike false leads"),
    "lookalike_rate_max": ("合规相似最高误报率", "Worst look-alike false-alarm rate"),
    "recall_rule_scheme_min": ("规则可查方案最低召回率", "Lowest recall, rule schemes"),
    "cases": ("案件数", "Cases"),
    "precision_top_50_cases": ("前50案件精确率", "Precision, top 50 cases"),
    "precision_top_200_cases": ("前200案件精确率", "Precision, top 200 cases"),
    "injected_share_top_200_cases": (
        "前200案件覆盖注入金额比例",
        "Injected amount in top 200 cases",
    ),
    "dq_in_queue": ("疑点队列中的数据质量问题数", "Data-quality findings among leads"),
    "quality_findings": ("数据质量问题数", "Data-quality findings"),
    "quality_precision": ("数据质量问题精确率", "Data-quality precision"),
    "met_lookalike_rate_max": ("合规相似误报达标", "Look-alike goal"),
    "met_recall_rule_scheme_min": ("方案召回达标", "Scheme recall goal"),
    "met_precision_top_200_cases": ("案件精确率达标", "Case precision goal"),
    "met_dq_in_queue": ("数据质量分离达标", "Data-quality apart goal"),
    "lookalike": ("合规相似类型", "Look-alike kind"),
    "encounters": ("就诊数", "Encounters"),
    "flagged": ("被误报就诊数", "Flagged encounters"),
    "rate": ("误报率", "Rate"),
    "rate_max": ("最高误报率", "Worst rate"),
    "rules": ("涉及规则", "Rules"),
    "failed_rules": ("失败规则", "Failed rules"),
    "inactive_rules": ("未启用规则（缺少知识库）", "Inactive rules (knowledge missing)"),
    "met_beyond_recall_min": ("召回达标", "Recall goal"),
    "met_precision_at_k": ("精确率达标", "Precision goal"),
    "met_roc_auc": ("AUC达标", "AUC goal"),
    "met_fp_rate_clean_persons": ("误报率达标", "FP goal"),
    "all_goals_met": ("全部达标", "All goals"),
    "scheme": ("方案", "Scheme"),
    "scheme_zh": ("方案名称", "Scheme name"),
    "family": ("类别", "Family"),
    "unit": ("召回单位", "Unit"),
    "injected": ("注入数", "Injected"),
    "found": ("发现数", "Found"),
    "recall": ("召回率", "Recall"),
    "institutions_found": ("发现机构数", "Institutions found"),
    "institution_recall": ("机构召回率", "Institution recall"),
    "goal": ("目标", "Goal"),
    "meets_goal": ("是否达标", "Goal met"),
    "met": ("是否达标", "Goal met"),
    "seeds": ("种子数", "Seeds"),
    "recall_mean": ("平均召回率", "Mean recall"),
    "recall_min": ("最低召回率", "Lowest recall"),
    "institution_recall_mean": ("平均机构召回率", "Mean institution recall"),
    "institution_recall_min": ("最低机构召回率", "Lowest institution recall"),
    "metric": ("指标", "Metric"),
    "mean": ("均值", "Mean"),
    "min": ("最小值", "Min"),
    "max": ("最大值", "Max"),
    "worst": ("最差值", "Worst"),
    "rank": ("排名", "Rank"),
    "fixmedins_code": ("定点医药机构编号", "Institution code"),
    "risk_score": ("风险分", "Risk score"),
    "fraudulent": ("违规机构", "Fraudulent"),
    "share": ("名单占机构比例", "Share of institutions"),
    "rule_id": ("规则", "Rule"),
    "true": ("真实命中", "True leads"),
}

#: values of the ``family`` and ``unit`` columns → (Chinese, English)
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "family": {
        "beyond": ("固定规则遗漏", "beyond fixed rules"),
        "rule": ("固定规则可查", "fixed rules"),
    },
    "unit": {
        "fee_line": ("费用明细", "fee line"),
        "settlement": ("结算", "settlement"),
        "person": ("参保人", "person"),
        "doctor": ("医师", "doctor"),
        "institution": ("机构", "institution"),
    },
}

_PASS = {"zh": ("达标", "未达标"), "en": ("pass", "fail")}
_GOAL_COLUMNS = ("meets_goal", "met", "all_goals_met")


def label(name: str, lang: Lang) -> str:
    """A column's or metric's label; an unknown name is shown as it is."""
    zh, en = LABELS.get(name, (name, name))
    return zh if lang == "zh" else en


def _check(lang: str) -> None:
    if lang not in LANGS:
        msg = f"lang {lang!r}: choose one of {', '.join(LANGS)}"
        raise ValueError(msg)


def localize(df: pl.DataFrame, lang: Lang = "zh") -> pl.DataFrame:
    """The table as people read it: pass/fail in words, metric, family and unit names
    translated, columns labelled."""
    _check(lang)
    i = 0 if lang == "zh" else 1
    yes, no = _PASS[lang]
    goal_cols = [c for c in df.columns if c in _GOAL_COLUMNS or c.startswith("met_")]
    out = df.with_columns(
        pl.col(c).replace_strict({True: yes, False: no}, default=None, return_dtype=pl.String)
        for c in goal_cols
        if df.schema[c] == pl.Boolean
    )
    if "metric" in out.columns:
        names = {m: label(m, lang) for m in out["metric"].unique().drop_nulls().to_list()}
        out = out.with_columns(pl.col("metric").replace(names))
    for col, values in VALUES.items():
        if col in out.columns:
            out = out.with_columns(pl.col(col).replace({k: v[i] for k, v in values.items()}))
    if lang == "en":
        out = out.drop("scheme_zh", strict=False)
    return out.rename({c: label(c, lang) for c in out.columns})


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(df: pl.DataFrame) -> str:
    """A pipe table (numbers to four decimals, nulls as a dash)."""
    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join([head, rule, *rows])
