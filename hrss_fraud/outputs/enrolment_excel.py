"""The audit-visit list of the enrolment audit (参保稽核走访清单) as an Excel workbook: the
employers to visit, most contribution at stake first; each one's hits with their
evidence; and every row behind each hit, so the visitor can check them against the
employer's books. Chinese headers by default, amounts as numbers to the fen, names masked
for a role that may not see them; built by :func:`~hrss_fraud.outputs.excel_export.workbook`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from hrss_fraud.engine.runs import Run
from hrss_fraud.outputs.enrolment_view import EnrolmentView
from hrss_fraud.outputs.excel_export import Sheet, workbook

LABELS: dict[str, tuple[str, str]] = {
    "rank": ("序号", "rank"),
    "emp_no": ("单位编号", "employer number"),
    "emp_name": ("单位名称", "employer"),
    "emp_type": ("单位类型", "kind of employer"),
    "zone_name": ("乡镇", "township"),
    "n_hits": ("疑点数", "hits"),
    "rules": ("命中规则", "checks hit"),
    "amount_at_risk": ("涉及费款（元）", "contribution at stake (yuan)"),
    "finding_id": ("疑点编号", "hit"),
    "rule_name": ("规则", "check"),
    "severity": ("严重程度", "severity"),
    "period_start": ("起始", "from"),
    "period_end": ("截止", "to"),
    "evidence": ("疑点说明", "evidence"),
    "line_no": ("明细序号", "line"),
    "role": ("明细类型", "kind of line"),
    "line_date": ("日期", "date"),
    "row_emp_no": ("申报单位", "filed by"),
    "psn_no": ("人员编号", "person number"),
    "psn_name": ("姓名", "name"),
    "cashym": ("费款所属期", "month of contribution"),
    "n_people": ("申报人数", "people declared"),
    "psn_clctstd": ("缴费基数（元）", "declared base (yuan)"),
    "evt_sn": ("申报流水号", "filing serial"),
    "evt_type": ("参保业务类型", "kind of filing"),
    "docs": ("已交申报材料", "documents filed"),
    "setl_id": ("结算编号", "settlement"),
    "fixmedins_code": ("定点机构编号", "institution"),
}
"""Header of each column in each language."""
EMPLOYERS = {
    "rank": 6, "emp_no": 18, "emp_name": 28, "emp_type": 14, "zone_name": 12, "n_hits": 8,
    "rules": 50, "amount_at_risk": 16,
}  # fmt: skip
HITS = {
    "emp_no": 18, "emp_name": 28, "finding_id": 22, "rule_name": 30, "severity": 10,
    "period_start": 12, "period_end": 12, "amount_at_risk": 16, "evidence": 100,
}  # fmt: skip
ROWS = {
    "emp_no": 18, "finding_id": 22, "line_no": 8, "role": 10, "line_date": 12,
    "row_emp_no": 18, "psn_no": 20, "psn_name": 10, "cashym": 10, "n_people": 8,
    "psn_clctstd": 14, "evt_sn": 12, "evt_type": 10, "docs": 30, "setl_id": 18,
    "fixmedins_code": 14, "amount_at_risk": 16,
}  # fmt: skip
MONEY = ("amount_at_risk", "psn_clctstd")


def _fen(df: pl.DataFrame) -> pl.DataFrame:
    """Amounts rounded to the fen, as the sheet shows them."""
    return df.with_columns(pl.col(c).round(2) for c in MONEY if c in df.columns)


def visit_sheets(
    workspace: Path, run: Run, *, lang: str = "zh", role: str | None = None
) -> list[Sheet]:
    """The three sheets: employers ranked, their hits, the rows behind each hit."""
    with EnrolmentView(workspace, run) as view:
        ranking = view.ranking(lang=lang).with_row_index("rank", offset=1)
        hits = view.hits(lang=lang)
        rows = view.rows(lang=lang, role=role).rename(
            {"emp_no": "row_emp_no", "hit_emp_no": "emp_no"}
        )
    names = ranking.select("emp_no", "emp_name")
    order = ranking.select("emp_no", "rank")
    return [
        Sheet(
            ("参保单位", "employers"), _fen(ranking), EMPLOYERS, LABELS, ("rank", "n_hits"), MONEY
        ),
        Sheet(
            ("疑点", "hits"),
            _fen(hits.join(names, on="emp_no", how="left")),
            HITS,
            LABELS,
            (),
            MONEY,
        ),
        Sheet(
            ("疑点明细", "rows behind the hits"),
            _fen(rows.join(order, on="emp_no", how="left").sort("rank", "finding_id", "line_no")),
            ROWS,
            LABELS,
            ("line_no", "n_people"),
            MONEY,
        ),
    ]


def visit_list_bytes(
    workspace: Path, run: Run, *, lang: str = "zh", role: str | None = None
) -> bytes:
    """The audit-visit list as .xlsx bytes, the run it was read from on its last sheet."""
    sheets = visit_sheets(workspace, run, lang=lang, role=role)
    about = {
        "run_id": run.run_id,
        "employers": sheets[0].frame.height,
        "lang": lang,
        "exported_at": datetime.now(UTC),
    }
    return workbook(sheets, lang=lang, about=about)
