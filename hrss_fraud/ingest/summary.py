"""What an ingest run tells its operator: warnings first (most rows quarantined, and why,
in Chinese and English), then counts, set-aside columns, data-quality flags and releases.

``IngestResult.summary()`` puts :func:`warnings` first in the machine-readable summary
(``hrss-fraud ingest --json``); :func:`text_lines` is what the command prints.
"""

from __future__ import annotations

#: Quarantine reasons in Chinese, for the operator's summary.
REASONS_ZH = {
    "ragged_row": "行字段数少于表头",
    "too_long": "值超长",
    "control_char": "含控制字符",
    "missing_required": "缺少必填项",
    "bad_value": "值无法解析",
    "bad_code": "代码不在代码表中",
    "future_date": "日期晚于今天",
    "bad_id": "编号或证件号有误",
    "amount_mismatch": "金额不平",
    "bad_sign": "金额正负号错误",
    "amount_exceeds_total": "分项金额超过总额",
    "end_before_begin": "结束早于开始",
    "refund_without_original": "退费找不到原明细",
    "refund_exceeds_original": "退费超过原明细",
    "unknown_institution": "机构不在定点医药机构登记中",
    "unknown_person": "人员不在参保人员登记中",
    "orphan_line": "明细找不到所属结算",
}
#: What to do about a reason, when something can be done (zh, en).
HINTS = {
    "unknown_institution": (
        "请导入定点医药机构登记，导入后这些行自动放行"
        "（或运行 hrss-fraud ingest --retry-quarantine）",
        "Load the institution register: the held rows are released when it is loaded "
        "(or run hrss-fraud ingest --retry-quarantine)",
    ),
    "unknown_person": (
        "请导入参保人员登记，导入后这些行自动放行（或运行 hrss-fraud ingest --retry-quarantine）",
        "Load the person register: the held rows are released when it is loaded "
        "(or run hrss-fraud ingest --retry-quarantine)",
    ),
    "orphan_line": (
        "请上传对应的结算数据，上传后这些明细自动放行",
        "Upload the settlements: the held lines are released when they arrive",
    ),
}
#: Above this share of the rows read quarantined, the summary warns first and loudly.
ALARM_SHARE = 0.5
TOP_REASONS = 3


def warnings(summary: dict) -> list[dict]:
    """The run's warnings: most rows quarantined (share, top reasons with counts, what to
    do), each with its text in Chinese (``zh``) and English (``en``)."""
    read, held = summary.get("rows_read", 0), summary.get("quarantined", 0)
    out: list[dict] = []
    if read and held / read > ALARM_SHARE:
        top = list(summary.get("quarantined_by_reason", {}).items())[:TOP_REASONS]
        share = held / read
        zh_reasons = "；".join(f"{r}（{REASONS_ZH.get(r, r)}）{n:,} 行" for r, n in top)
        en_reasons = "; ".join(f"{r} {n:,}" for r, n in top)
        zh = f"!! 警告：读取的 {read:,} 行中 {held:,} 行（{share:.1%}）被隔离。"
        zh += f"主要原因：{zh_reasons}"
        en = (
            f"!! WARNING: {held:,} of the {read:,} rows read ({share:.1%}) were quarantined. "
            f"Top reasons: {en_reasons}"
        )
        hints = [HINTS[r] for r, _ in top if r in HINTS]
        if hints:
            zh += "。" + "；".join(h[0] for h in hints)
            en += ". " + "; ".join(h[1] for h in hints)
        out.append(
            {
                "kind": "most_rows_quarantined",
                "share": round(share, 4),
                "rows_read": read,
                "quarantined": held,
                "top_reasons": [[r, n] for r, n in top],
                "zh": zh,
                "en": en,
            }
        )
    return out


def text_lines(summary: dict, batches: list[str]) -> list[str]:
    """What ``hrss-fraud ingest`` prints: warnings first, then the counts and what was kept."""
    lines = []
    for w in summary["warnings"]:
        lines += [w["zh"], w["en"]]
    lines.append(
        f"{summary['files']} file(s): {summary['committed']} committed, "
        f"{summary['duplicate']} duplicate, {summary['rejected']} rejected; "
        f"{summary['rows_read']} rows read, {summary['accepted']} accepted, "
        f"{summary['quarantined']} quarantined; batches: {', '.join(batches) or '-'}"
    )
    if summary["quarantined_by_reason"]:
        lines.append(
            "quarantined by reason: "
            + ", ".join(f"{r} {n}" for r, n in summary["quarantined_by_reason"].items())
        )
    aside = summary["set_aside_columns"]
    if aside:
        shown = ", ".join(
            f"{c!r} ({n} file{'s' if n > 1 else ''})" for c, n in list(aside.items())[:10]
        )
        more = f", … {len(aside) - 10} more" if len(aside) > 10 else ""
        lines.append(
            f"set aside {len(aside)} column(s) the data model does not use, kept with each row "
            f"(_set_aside; which and why: --json): {shown}{more}"
        )
    if summary["code_flags"]:
        lines.append(
            "kept with a data-quality flag (descriptive code outside its list): "
            + ", ".join(f"{k} {n}" for k, n in summary["code_flags"].items())
        )
    rel = summary.get("released")
    if rel and (rel["checked"] or rel["still_held"]):
        by = ", ".join(f"{r} {n}" for r, n in rel["by_reason"].items())
        lines.append(
            f"released from quarantine: {rel['released']} row(s)"
            + (f" ({by})" if by else "")
            + (f", {rel['already_in_lake']} already in the lake" if rel["already_in_lake"] else "")
            + f"; {rel['still_held']} still held"
            + (f"; batch {rel['batch_id']}" if rel["batch_id"] else "")
        )
    return lines
