"""The printable lists an inspection group takes on site: one Excel workbook per group of a
round (检查清单).

A summary sheet lists the group's institutions (zone, how and why each was chosen, the
amount at risk); then one sheet per institution with its suspicious settlements and lines
from the round's run (rule, evidence, amounts) and the evidence to collect on site,
derived from the rules' behaviour classes (:data:`EVIDENCE`). The sheets are set up to
print: A4 landscape, fit to the page width, header row repeated on every page and frozen
on screen, the round's name in the page header and page numbers in the footer. Each
workbook is written under a temporary name and renamed, and a round's workbooks appear
together or not at all.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from hrss_fraud.cases.store import CaseStore
from hrss_fraud.engine.runs import RunError, open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.inspection.refusal import Refusal
from hrss_fraud.inspection.rounds import SOURCES, Round, group_members, load_round

EVIDENCE: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("药", "处方", "配伍", "饮片"), "处方底方", "original prescriptions"),
    (
        ("住院", "入院", "病历", "诊断", "手术", "适应症", "指征", "禁忌", "疗程"),
        "住院病历及病程记录",
        "medical records and progress notes",
    ),
    (
        ("多记", "虚记", "耗材", "串换", "超量", "套现", "开药", "购药"),
        "药品耗材进销存台账",
        "stock ledgers of drugs and consumables",
    ),
    (
        ("套现", "团伙", "就诊次数", "频繁", "接诊量", "死亡后"),
        "监控视频",
        "surveillance video",
    ),
    (
        ("就诊次数", "频繁", "团伙", "死亡后", "虚构", "偏离同类人群"),
        "参保人询问笔录",
        "interviews with insured persons",
    ),
    (
        ("收费", "超标准", "限价", "重复", "频次", "天数"),
        "收费票据与价格公示",
        "receipts and posted prices",
    ),
    (("医师", "接诊"), "医师排班与考勤记录", "doctors' rosters and attendance"),
    (
        ("检查", "检验", "治疗", "服务项目"),
        "检查检验报告及治疗记录",
        "test reports and treatment records",
    ),
    (
        ("机构费用结构", "统计指标", "次均费用"),
        "财务报表与科室收入明细",
        "financial statements and department income",
    ),
)
"""Behaviour-class keywords → the evidence to collect on site (Chinese, English)."""
BASELINE_EVIDENCE = ("医保结算清单及费用明细", "settlement lists and fee details")

SUMMARY_COLUMNS = (
    ("seq", "序号", "No."),
    ("fixmedins_code", "机构编号", "Institution code"),
    ("fixmedins_name", "机构名称", "Institution"),
    ("zone_name", "乡镇（检查区域）", "Zone (township)"),
    ("group", "检查组", "Group"),
    ("source_label", "选取方式", "How chosen"),
    ("risk_rank", "风险排名", "Risk rank"),
    ("amount_at_risk", "疑点金额（元）", "Amount at risk (¥)"),
    ("n_findings", "疑点数", "Findings"),
    ("reasons", "选取理由", "Reasons"),
    ("evidence_to_collect", "现场取证", "Evidence to collect"),
)
LINE_COLUMNS = (
    ("finding_id", "疑点编号", "Finding"),
    ("rule", "规则", "Rule"),
    ("severity", "严重程度", "Severity"),
    ("behaviour", "违规行为", "Behaviour"),
    ("setl_id", "结算ID", "Settlement"),
    ("mdtrt_id", "就诊ID", "Visit"),
    ("feedetl_sn", "费用明细流水号", "Fee line"),
    ("psn_no", "人员编号", "Person"),
    ("line_time", "发生时间", "Time"),
    ("item", "项目名称", "Item"),
    ("cnt", "数量", "Quantity"),
    ("pric", "单价", "Unit price"),
    ("role", "明细角色", "Line role"),
    ("amount_at_risk", "疑点金额（元）", "Amount at risk (¥)"),
    ("evidence", "疑点说明", "Evidence"),
)
MAX_LINES_PER_FINDING = 20
"""Lines printed per finding; the rest of its lines are one row with their total."""
_HEADER_ROW = 4
"""The institution sheets' table header: below the title, reasons, amount and evidence."""
_ROLE = {"violating": ("违规", "violating"), "involved": ("关联", "involved")}
_SEVERITY_EN = {"definite": "definite", "high": "highly suspicious", "suspicious": "suspicious"}
_TEXT = {
    "summary": ("汇总", "Summary"),
    "members": ("组员", "Members"),
    "amount": ("疑点金额（每条明细只计一次）", "Amount at risk (each line counted once)"),
    "findings": ("疑点数", "findings"),
    "reasons": ("选取理由", "Reasons"),
    "collect": ("现场需收集的证据", "Evidence to collect on site"),
    "zone": ("乡镇", "zone"),
    "group": ("检查组", "group"),
    "page": ("第 &P 页，共 &N 页", "Page &P of &N"),
    "printed": ("打印日期", "Printed"),
    "none": ("本轮运行无该机构疑点明细", "no suspicious lines for this institution in the run"),
}


class ExportError(Refusal):
    """A round that cannot be exported; the message says why."""


@dataclass(frozen=True)
class _Lang:
    lang: str

    def __call__(self, key: str) -> str:
        zh, en = _TEXT[key]
        return en if self.lang == "en" else zh

    def head(self, columns: tuple[tuple[str, str, str], ...]) -> list[str]:
        return [en if self.lang == "en" else zh for _, zh, en in columns]


def evidence_to_collect(behaviours: list[str], lang: str = "zh") -> list[str]:
    """What to collect on site for these behaviour classes, baseline first, no repeats."""
    pick = 2 if lang == "en" else 1
    out = [BASELINE_EVIDENCE[pick - 1]]
    for keywords, *labels in EVIDENCE:
        if any(k in b for b in behaviours for k in keywords):
            out.append(labels[pick - 1])
    return out


def institution_lines(
    workspace: Path,
    run_id: str,
    codes: list[str],
    lang: str = "zh",
    *,
    max_lines_per_finding: int = MAX_LINES_PER_FINDING,
) -> pl.DataFrame:
    """The run's finding lines billed by these institutions, with each finding's rule,
    severity, behaviour and evidence, and the fee line's item, quantity and price; past
    ``max_lines_per_finding`` a finding's smaller lines are folded into one row."""
    try:
        run = open_run(workspace, run_id)
    except RunError as e:
        msg = f"the round's run is gone: {e}"
        raise ExportError(msg, "run_gone", run_id=run_id) from None
    en = lang == "en"
    findings = run.findings().select(
        "finding_id",
        rule=pl.col("rule_name_en" if en else "rule_name"),
        severity=(
            pl.col("severity").replace_strict(_SEVERITY_EN, default=pl.col("severity"))
            if en
            else pl.col("severity_zh")
        ),
        behaviour=pl.col("behaviour").fill_null(""),
        evidence=pl.col("evidence_en" if en else "evidence"),
    )
    lines = (
        run.lines()
        .filter(pl.col("fixmedins_code").is_in(codes))
        .join(findings, on="finding_id", how="left")
    )
    con = Workspace.of(workspace).lake.connect()
    con.register("export_lines", lines.select("fixmedins_code", "mdtrt_id", "feedetl_sn").unique())
    items = con.sql("""
        SELECT e.fixmedins_code, e.mdtrt_id, e.feedetl_sn, max(f.medins_list_name) AS item,
               max(CAST(f.cnt AS DOUBLE)) AS cnt, max(CAST(f.pric AS DOUBLE)) AS pric
        FROM export_lines e JOIN fee_detail f
          ON f.fixmedins_code = e.fixmedins_code AND f.mdtrt_id = e.mdtrt_id
         AND f.feedetl_sn = e.feedetl_sn
        GROUP BY 1, 2, 3
    """).pl()
    con.unregister("export_lines")
    keys = ["fixmedins_code", "mdtrt_id", "feedetl_sn"]
    role = {k: v[1 if en else 0] for k, v in _ROLE.items()}
    lines = (
        lines.join(items, on=keys, how="left")
        .with_columns(role=pl.col("role").replace_strict(role, default=pl.col("role")))
        .sort(
            ["fixmedins_code", "rule", "finding_id", "amount_at_risk", "line_time", "feedetl_sn"],
            descending=[False, False, False, True, False, False],
            nulls_last=True,
        )
        .with_columns(n=pl.int_range(pl.len()).over("fixmedins_code", "finding_id"))
    )
    return _fold_rest(lines, max_lines_per_finding, en).drop("n")


def _fold_rest(lines: pl.DataFrame, keep: int, en: bool) -> pl.DataFrame:
    """Each finding's ``keep`` largest lines, then one row carrying the number and amount of
    the rest: an institution-level lead can span thousands of settlements, too many to
    print, and the amounts must still add up to the finding's."""
    rest = (
        lines.filter(pl.col("n") >= keep)
        .group_by("fixmedins_code", "finding_id", maintain_order=True)
        .agg(
            pl.col("rule", "severity", "behaviour", "evidence").first(),
            role=pl.format("其余 {} 条明细" if not en else "{} more lines", pl.len()),
            amount_at_risk=pl.col("amount_at_risk").sum(),
            n=pl.lit(keep, dtype=pl.Int64),
        )
    )
    shown = lines.filter(pl.col("n") < keep)
    both = pl.concat([shown, rest], how="diagonal_relaxed")
    return both.sort(["fixmedins_code", "rule", "finding_id", "n"], maintain_order=True)


def export_round(
    store: CaseStore,
    workspace: Path,
    round_id: int,
    out_dir: Path,
    *,
    lang: str = "zh",
    max_lines_per_finding: int = MAX_LINES_PER_FINDING,
) -> list[Path]:
    """One workbook per group of the round in ``out_dir``; return their paths."""
    if lang not in ("zh", "en"):
        msg = f"lang must be zh or en, not {lang!r}"
        raise ExportError(msg)
    rnd = load_round(store, round_id)
    if rnd.targets.is_empty():
        msg = f"round {round_id} has no targets"
        raise ExportError(msg)
    lines = institution_lines(workspace, rnd.run_id, rnd.targets["fixmedins_code"].to_list(), lang)
    groups = sorted(rnd.targets["group_code"].unique().to_list())
    members = group_members(store, groups)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".round-export-", dir=out_dir))
    try:
        names = []
        for g in groups:
            name = f"{rnd.round_id:03d}_{_safe(rnd.name)}_{_safe(g)}.xlsx"
            targets = rnd.targets.filter(pl.col("group_code") == g)
            _workbook(staging / name, rnd, g, members[g], targets, lines, _Lang(lang))
            names.append(name)
        for name in names:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / n for n in names]


def _safe(text: str) -> str:
    """A file or sheet name part: no path separators or characters Excel refuses."""
    return re.sub(r"[\\/:*?\"<>|\[\]\s]+", "_", text).strip("_") or "_"


def _escape(text: str) -> str:
    return text.replace("&", "&&")


def _row_height(values: list[object], widths: tuple[int, ...]) -> float:
    """Points for a row whose wrapped cells all show in full: a Chinese character takes
    about two units of column width. Set explicitly because LibreOffice keeps the
    default height of an .xlsx row on opening, cutting wrapped reasons to one line."""
    lines = max(
        math.ceil(sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(v)) / w)
        for v, w in zip(values, widths, strict=True)
    )
    return 15.0 * max(lines, 1)


def _workbook(
    path: Path,
    rnd: Round,
    group: str,
    members: list[str],
    targets: pl.DataFrame,
    lines: pl.DataFrame,
    t: _Lang,
) -> None:
    en = t.lang == "en"
    wb = xlsxwriter.Workbook(str(path))
    fmt = {
        "head": wb.add_format(
            {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "cell": wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
        "money": wb.add_format({"border": 1, "num_format": "#,##0.00", "valign": "top"}),
        "num": wb.add_format({"border": 1, "num_format": "0.####", "valign": "top"}),
        "time": wb.add_format({"border": 1, "num_format": "yyyy-mm-dd hh:mm", "valign": "top"}),
        "title": wb.add_format({"bold": True, "font_size": 13}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "money_plain": wb.add_format({"bold": True, "num_format": "#,##0.00"}),
    }
    header = f"&C{_escape(rnd.name)}  {t('group')} {_escape(group)}"
    footer = f"&L{t('printed')} {date.today().isoformat()}&C{t('page')}"

    def page_setup(ws: Worksheet, header_row: int) -> None:
        ws.set_paper(9)  # A4
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header_row)
        ws.freeze_panes(header_row + 1, 0)
        ws.set_header(header)
        ws.set_footer(footer)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)

    summary = wb.add_worksheet(t("summary"))
    page_setup(summary, 1)
    summary.write(
        0,
        0,
        f"{rnd.name} — {t('group')} {group}（{t('members')}: {', '.join(members)}）",
        fmt["title"],
    )
    widths = (5, 15, 24, 16, 8, 10, 8, 14, 8, 50, 36)
    for col, w in enumerate(widths):
        summary.set_column(col, col, w)
    labels = t.head(SUMMARY_COLUMNS)
    summary.set_row(1, _row_height(labels, widths))
    for col, label in enumerate(labels):
        summary.write(1, col, label, fmt["head"])
    for i, r in enumerate(targets.iter_rows(named=True), start=1):
        code = r["fixmedins_code"]
        own = lines.filter(pl.col("fixmedins_code") == code)
        collect = evidence_to_collect(own["behaviour"].unique().sort().to_list(), t.lang)
        values = {
            "seq": i,
            "fixmedins_code": code,
            "fixmedins_name": r["fixmedins_name"],
            "zone_name": r["zone_name"] or r["admdvs"],
            "group": group,
            "source_label": SOURCES[r["source"]][1 if en else 0]
            + (f" {r['source_ref']}" if r["source_ref"] else ""),
            "risk_rank": r["risk_rank"],
            "amount_at_risk": r["amount_at_risk"],
            "n_findings": r["n_findings"],
            "reasons": r["reasons_en"] if en else r["reasons"],
            "evidence_to_collect": ("; " if en else "；").join(collect),
        }
        summary.set_row(i + 1, _row_height([values[k] for k, _, _ in SUMMARY_COLUMNS], widths))
        for col, (key, _, _) in enumerate(SUMMARY_COLUMNS):
            style = fmt["money"] if key == "amount_at_risk" else fmt["cell"]
            summary.write(i + 1, col, values[key], style)
        _institution_sheet(wb, page_setup, fmt, t, i, values, own)
    wb.close()


def _institution_sheet(
    wb: xlsxwriter.Workbook,
    page_setup: Callable[[Worksheet, int], None],
    fmt: dict[str, Format],
    t: _Lang,
    seq: int,
    values: dict[str, object],
    lines: pl.DataFrame,
) -> None:
    code = str(values["fixmedins_code"])
    ws = wb.add_worksheet(_safe(f"{seq:02d}_{code}")[:31])
    page_setup(ws, _HEADER_ROW)
    last = len(LINE_COLUMNS) - 1
    ws.merge_range(
        0,
        0,
        0,
        last,
        f"{values['fixmedins_name']}（{code}）  {t('zone')}: {values['zone_name']}  "
        f"{t('group')}: {values['group']}  {values['source_label']}",
        fmt["title"],
    )
    ws.set_row(1, 45)
    ws.merge_range(1, 0, 1, last, f"{t('reasons')}: {values['reasons']}", fmt["wrap"])
    ws.write(2, 0, t("amount"))
    ws.write(2, 3, values["amount_at_risk"], fmt["money_plain"])
    ws.write(2, 5, f"{values['n_findings']} {t('findings')}")
    ws.merge_range(3, 0, 3, last, f"{t('collect')}: {values['evidence_to_collect']}", fmt["wrap"])
    ws.set_row(3, 30)
    for col, label in enumerate(t.head(LINE_COLUMNS)):
        ws.write(_HEADER_ROW, col, label, fmt["head"])
    widths = (12, 22, 9, 14, 14, 14, 8, 14, 15, 16, 7, 9, 7, 11, 50)
    for col, w in enumerate(widths):
        ws.set_column(col, col, w)
    if lines.is_empty():
        ws.write(_HEADER_ROW + 1, 0, t("none"))
        return
    styles = {"amount_at_risk": "money", "cnt": "num", "pric": "money", "line_time": "time"}
    for i, r in enumerate(lines.iter_rows(named=True), start=_HEADER_ROW + 1):
        for col, (key, _, _) in enumerate(LINE_COLUMNS):
            value = r[key]
            style = fmt[styles.get(key, "cell")]
            if value is None:
                ws.write_blank(i, col, None, style)
            elif key == "line_time":
                ws.write_datetime(i, col, value, style)
            else:
                ws.write(i, col, value, style)
