"""The standing exports of a scoring run, refreshed by the nightly batch: the inspection
list (Parquet and Excel) and the daily summary (HTML and Excel: new leads by rule, amount
at risk, top institutions, each institution's data-quality findings, rejected files and
quarantined rows) in ``WORKSPACE/exports/<date>/``. Leads and the amount at risk are the
run's leads only; its data-quality findings are summarised apart, per institution and rule
(:mod:`hrss_fraud.outputs.quality`).

The folder is named by the run's date and holds ``export.json`` naming the run last, so
"fresh" means that file names the latest run: a rerun rebuilds nothing, and a crash
(the folder is built as a dot-folder and renamed into place) leaves the previous
exports in place and is rebuilt by the next run.
"""

from __future__ import annotations

import html
import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from hrss_fraud.engine.runs import FINDINGS, Run, open_run, runs_dir
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.ingest.release import RELEASED
from hrss_fraud.lake.fsutil import fsync_dir, replace_dir, write_bytes_atomic
from hrss_fraud.model.numbers import money, yuan
from hrss_fraud.nightly.journal import REJECTIONS, read_lines
from hrss_fraud.outputs.quality import quality_summary
from hrss_fraud.outputs.ranking import COLUMNS, institution_ranking, review_weights
from hrss_fraud.outputs.runs_view import marts_dir, read_marts_manifest

EXPORTS = "exports"
MANIFEST = "export.json"
FILES = (
    "inspection_list.parquet",
    "inspection_list.xlsx",
    "summary.html",
    "summary.xlsx",
)
TOP_INSTITUTIONS = 10
QUARANTINED_SCHEMA = {"table": pl.String, "reason": pl.String, "n_rows": pl.Int64}


def exports_dir(workspace: Path, run_id: str) -> Path:
    """``WORKSPACE/exports/YYYY-MM-DD`` for a run id ``YYYYMMDDT…`` (the night it ran)."""
    day = f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}"
    return Path(workspace) / EXPORTS / day


def exports_fresh(workspace: Path, run_id: str) -> bool:
    """True when the exports of ``run_id`` are complete in their folder."""
    folder = exports_dir(workspace, run_id)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("run_id") == run_id and all((folder / f).is_file() for f in FILES)


def previous_run(workspace: Path, run: Run) -> Run | None:
    """The complete run published before ``run`` (what "new" is measured against)."""
    ids = sorted(
        p.name
        for p in runs_dir(workspace).iterdir()
        if p.is_dir() and p.name < run.run_id and (p / "manifest.json").is_file()
    )
    return open_run(workspace, ids[-1]) if ids else None


def summary_tables(workspace: Path, run: Run, ranking: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The daily summary's tables, by sheet name (pure reads: the run, the lake, the
    nightly's rejection log)."""
    used = ["finding_id", "rule_id", "rule_name", "amount_at_risk"]
    findings = (
        pl.read_parquet(run.root / FINDINGS, columns=used)
        if run.grouped
        else run.findings().select(used)  # an old run's file holds data-quality findings too
    )
    before = previous_run(workspace, run)
    old_ids = (
        pl.read_parquet(before.root / FINDINGS, columns=["finding_id"])["finding_id"]
        if before is not None
        else []
    )
    new = findings.filter(
        ~pl.col("finding_id").is_in(pl.Series(old_ids, dtype=pl.String).implode())
    )
    by_rule = (
        new.group_by("rule_id", "rule_name")
        .agg(new_leads=pl.len(), amount_at_risk=pl.col("amount_at_risk").sum().round(2))
        .sort(["amount_at_risk", "rule_id"], descending=[True, False])
    )
    headline = pl.DataFrame(
        {
            "item": [
                "run_id",
                "previous_run",
                "mode",
                "leads",
                "new_leads",
                "amount_at_risk",
                "new_amount_at_risk",
                "quality_findings",
            ],
            "value": [
                run.run_id,
                before.run_id if before is not None else "",
                str(run.manifest.get("mode", "")),
                str(findings.height),
                str(new.height),
                money(float(findings["amount_at_risk"].sum())),
                money(float(new["amount_at_risk"].sum())),
                str(
                    run.manifest["quality_findings"]
                    if "quality_findings" in run.manifest
                    else run.quality_findings().height
                ),
            ],
        }
    )
    top = ranking.head(TOP_INSTITUTIONS).select(
        "rank", "fixmedins_code", "fixmedins_name", "risk_score", "amount_at_risk", "n_findings"
    )
    since_seq = before.manifest["lake"]["last_seq"] if before is not None else 0
    last_seq = int(run.manifest["lake"]["last_seq"])
    lake = Workspace.of(workspace).lake
    con = lake.connect()
    try:
        columns = {r[0] for r in con.execute("DESCRIBE quarantine").fetchall()}
        quarantined = (
            con.sql(
                'SELECT "table", reason, count(*) AS n_rows FROM quarantine '
                f"WHERE _batch_seq > {int(since_seq)} AND _batch_seq <= {last_seq} "
                f"AND reason <> '{RELEASED}' "  # a release record is no quarantined row
                "GROUP BY ALL ORDER BY n_rows DESC, 1, 2"
            ).pl()
            if "reason" in columns  # an empty lake's quarantine view has lineage only
            else pl.DataFrame(schema=QUARANTINED_SCHEMA)
        )
    finally:
        con.close()
    since = before.manifest.get("started_at", "") if before is not None else ""
    rejected = [
        {"file": r.get("file", ""), "reason": r.get("reason", ""), "error": r.get("error", "")}
        for r in read_lines(Path(workspace) / REJECTIONS)
        if r.get("ts", "") > since
    ]
    rejections = pl.DataFrame(
        rejected, schema={"file": pl.String, "reason": pl.String, "error": pl.String}
    )
    return {
        "summary": headline,
        "new_leads_by_rule": by_rule,
        "top_institutions": top,
        "data_quality": quality_summary(run, lake),
        "quarantined_rows": quarantined,
        "rejected_files": rejections,
    }


TITLES = {
    "summary": "概况 Summary",
    "new_leads_by_rule": "新增疑点(按规则) New leads by rule",
    "top_institutions": "风险最高的机构 Top institutions",
    "data_quality": "数据质量(按机构与规则) Data quality by institution and rule",
    "quarantined_rows": "隔离行(按原因) Quarantined rows by reason",
    "rejected_files": "拒收文件 Rejected files",
}


def summary_html(tables: dict[str, pl.DataFrame], run_id: str) -> str:
    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>每日监管简报 Daily summary {html.escape(run_id)}</title>",
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px}td.n{text-align:right}</style>",
        f"</head><body><h1>每日监管简报 Daily summary — run {html.escape(run_id)}</h1>",
    ]
    for name, df in tables.items():
        parts.append(f"<h2>{html.escape(TITLES[name])}</h2>")
        if df.is_empty():
            parts.append("<p>无 None</p>")
            continue
        head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
        parts.append(f"<table><tr>{head}</tr>")
        numeric = [dt.is_numeric() for dt in df.dtypes]
        amounts = ["amount" in c for c in df.columns]  # yuan; other floats are scores, shares
        for row in df.iter_rows():
            cells = "".join(
                f"<td class='n'>{yuan(v) if amount else f'{v:,.2f}'}</td>"
                if num and isinstance(v, float)
                else f"<td{' class=n' if num else ''}>{html.escape(str(v))}</td>"
                for v, num, amount in zip(row, numeric, amounts, strict=True)
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _workbook(path: Path, sheets: dict[str, pl.DataFrame]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    for name, df in sheets.items():
        if df.is_empty():
            wb.add_worksheet(name[:31]).write(0, 0, "无 None")
        else:
            df.write_excel(wb, name[:31], autofit=True, freeze_panes=(1, 0))
    wb.close()


def _marts_ranking(workspace: Path, run_id: str) -> pl.DataFrame | None:
    """The run's institution ranking as its dashboard marts hold it (the same function,
    without review weights), or None without marts: the ranking re-reads every lead line."""
    files = read_marts_manifest(workspace, run_id) or {}
    file = files.get("ranking_institution_zh")
    return pl.read_parquet(marts_dir(workspace, run_id) / file) if file else None


def build_exports(workspace: Path, run: Run, *, between: Callable[[], None] | None = None) -> Path:
    """Write the exports of ``run`` and publish their folder atomically; ``between`` is
    called after the first file (the crash drills' mid-stage point)."""

    final = exports_dir(workspace, run.run_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(".*.tmp"):  # left by a killed run (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    tmp = final.parent / f".{final.name}.{os.getpid()}.tmp"
    tmp.mkdir()
    try:
        weights, _status = review_weights(run, workspace)
        ranking = _marts_ranking(workspace, run.run_id) if weights is None else None
        if ranking is None:
            ranking = institution_ranking(run, Workspace.of(workspace).lake, "zh", weights)
        inspection = ranking.select(COLUMNS)
        inspection.write_parquet(tmp / "inspection_list.parquet")
        if between is not None:
            between()
        _workbook(tmp / "inspection_list.xlsx", {"inspection_list": inspection})
        tables = summary_tables(workspace, run, ranking)
        (tmp / "summary.html").write_text(summary_html(tables, run.run_id), encoding="utf-8")
        _workbook(tmp / "summary.xlsx", tables)
        manifest: dict[str, Any] = {
            "run_id": run.run_id,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": list(FILES),
            "institutions": inspection.height,
        }
        write_bytes_atomic(
            tmp / MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"), label="exports manifest"
        )
        fsync_dir(tmp)
        replace_dir(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
