"""``hrss-fraud cases``: record reviewers' decisions on leads, list them, verify the case
store's hash chain, and train the model that learns from them.

A decision's reviewer (``--by``, or the file's 审核人 column) must be an enabled account
whose role may decide at that step, and a second review (复审) someone other than whoever
recorded the first (:mod:`hrss_fraud.cases.operators`, :mod:`hrss_fraud.cases.workflow`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click
import polars as pl

from hrss_fraud.cases import Decision, DecisionError, SchemaError, open_store, store_path
from hrss_fraud.cases.chain import verify
from hrss_fraud.cases.operators import OperatorError, resolve_operator, step_permission
from hrss_fraud.cases.reviews import train_review_model
from hrss_fraud.cases.store import CaseStore, store_exists
from hrss_fraud.cases.vocab import DECISIONS, STEPS, help_list, normalise
from hrss_fraud.cases.workflow import second_reviewer_problems
from hrss_fraud.cli.common import current_workspace, fail, run_findings, unknown_findings
from hrss_fraud.detectors.frequency_model import ModelError
from hrss_fraud.engine.runs import RunError
from hrss_fraud.ingest.errors import UploadError
from hrss_fraud.ingest.readers import LINE, materialize, open_upload
from hrss_fraud.outputs.export import write_export

IMPORT_ALIASES = {
    "疑点编号": "finding_id",
    "疑点ID": "finding_id",
    "审核环节": "step",
    "审核结论": "decision",
    "理由": "reason",
    "审核理由": "reason",
    "审核人": "by",
}
"""Chinese headers a reviewer's spreadsheet may carry, and the field each one means."""
LIST_COLUMNS = (
    "finding_id",
    "step_zh",
    "decision_zh",
    "decided_by",
    "decided_at",
    "rule_id",
    "fixmedins_code",
    "amount_at_risk",
    "reason",
)


@click.group("cases")
def cases() -> None:
    """案件库：疑点审核结论与审计日志。Review decisions on leads, and the audit log."""


@cases.command("decide")
@click.argument("finding_id")
@click.option(
    "--step", required=True, help=f"审核环节 Review step: {help_list(STEPS)} (code or Chinese)."
)
@click.option(
    "--decision",
    required=True,
    help=f"审核结论 Decision: {help_list(DECISIONS)} (code or Chinese).",
)
@click.option("--reason", required=True, help="理由（必填） Why: required, never empty.")
@click.option(
    "--by",
    "by",
    required=True,
    help="审核人 Who decides: an enabled account that may decide the step.",
)
@click.option("--run", "run_id", help="疑点所在批次 Run holding the lead (default: latest).")
@click.pass_context
def decide(
    ctx: click.Context,
    finding_id: str,
    step: str,
    decision: str,
    reason: str,
    by: str,
    run_id: str | None,
) -> None:
    """记录一条审核结论。Record one decision on one lead (FINDING_ID from a findings export)."""
    ws = current_workspace(ctx)
    run, findings = run_findings(ws, run_id)
    if problem := unknown_findings([finding_id], findings, run):
        fail(problem)
    lead = findings.filter(pl.col("finding_id") == finding_id).row(0, named=True)
    try:
        d = Decision(finding_id, step, decision, reason, by).validated()
        with open_store(ws) as store:
            (d,) = _reviewed(store, [(None, d)])
            decision_id = store.record_decision(
                finding_id, step=d.step, decision=d.decision, reason=d.reason, by=d.by, lead=lead
            )
    except (DecisionError, SchemaError) as e:
        fail(str(e))
    click.echo(f"decision {decision_id} recorded for {finding_id} → {ws / 'cases.sqlite'}")


def _reviewed(store: CaseStore, items: list[tuple[int | None, Decision]]) -> list[Decision]:
    """The validated decisions with each reviewer as the stored account, after checking
    that each may decide its step and that no one records a second review of a lead
    whose first they recorded; :class:`DecisionError` naming every refusal (by the file's
    line, when ``items`` give one)."""
    out, problems = [], []
    known: dict[tuple[str, str], str] = {}  # (name, permission) → stored name: one query each
    for line, d in items:
        where = "--by" if line is None else f"line {line}: by"
        key = (d.by.strip().casefold(), step_permission(d.step))
        if key not in known:
            try:
                known[key] = resolve_operator(store, d.by, permission=key[1], option=where).username
            except OperatorError as e:
                problems.append(str(e))
                continue
        out.append(replace(d, by=known[key]))
    if not problems:
        problems = second_reviewer_problems(store, out)
    if problems:
        more = f" | … and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise DecisionError(" | ".join(problems[:5]) + more)
    return out


def _read_decisions(path: Path, step: str | None, by: str | None) -> pl.DataFrame:
    """The file's rows as text, with ``_line`` and the five decision fields."""
    try:
        with open_upload(path) as raw:
            df = materialize(raw)
    except UploadError as e:
        fail(str(e))
    df = df.rename({c: IMPORT_ALIASES.get(c.strip(), c.strip()) for c in df.columns})
    defaults = {"step": step, "by": by}
    for name, value in defaults.items():
        if value is not None and name not in df.columns:
            df = df.with_columns(pl.lit(value).alias(name))
    need = ("finding_id", "step", "decision", "reason", "by")
    if missing := [c for c in need if c not in df.columns]:
        hint = (
            " (or give --step / --by for the whole file)" if {"step", "by"} & set(missing) else ""
        )
        fail(f"{path}: missing column(s) {', '.join(missing)}{hint}; columns are {df.columns}")
    return df.select(LINE, *need)


@cases.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--step", help="文件无“审核环节”列时使用 Step for every row, if the file has none.")
@click.option("--by", "by", help="文件无“审核人”列时使用 Reviewer for every row, if none.")
@click.option(
    "--actor", help="导入人 Who imports, an enabled account (default: the reviewer, when only one)."
)
@click.option("--run", "run_id", help="疑点所在批次 Run holding the leads (default: latest).")
@click.pass_context
def import_decisions(
    ctx: click.Context,
    file: Path,
    step: str | None,
    by: str | None,
    actor: str | None,
    run_id: str | None,
) -> None:
    """批量导入审核结论（全部成功或全部不写入）。Record many decisions from a CSV, Excel or
    Parquet file with columns finding_id, step, decision, reason, by — all or none. Each
    reviewer must be an account that may decide the row's step."""
    ws = current_workspace(ctx)
    rows = _read_decisions(file, step, by)
    if rows.is_empty():
        fail(f"{file}: no decisions in the file")
    run, findings = run_findings(ws, run_id)
    if problem := unknown_findings(rows["finding_id"].drop_nulls().to_list(), findings, run):
        fail(f"{file}: {problem}")
    leads = {r["finding_id"]: r for r in findings.iter_rows(named=True)}
    decisions, problems = [], []
    for r in rows.iter_rows(named=True):
        lead = leads.get(r["finding_id"] or "", {})
        d = Decision(
            r["finding_id"] or "",
            r["step"] or "",
            r["decision"] or "",
            r["reason"] or "",
            r["by"] or "",
            **{k: v for k, v in lead.items() if k != "finding_id"},
        )
        try:
            decisions.append((r["_line"], d.validated()))
        except DecisionError as e:
            problems.append(f"line {r['_line']}: {e}")
    if problems:
        more = f" | … and {len(problems) - 5} more" if len(problems) > 5 else ""
        fail(
            f"{file}: {len(problems)} invalid row(s), nothing recorded: "
            + " | ".join(problems[:5])
            + more
        )
    try:
        with open_store(ws) as store:
            checked = _reviewed(store, decisions)
            if actor is not None:
                actor = resolve_operator(store, actor, option="--actor").username
            ids = store.record_decisions(checked, actor=actor, source=str(file))
    except (DecisionError, OperatorError, SchemaError) as e:
        fail(f"{file}: {e}")
    click.echo(f"{len(ids)} decisions recorded from {file} → {ws / 'cases.sqlite'}")


@cases.command("list")
@click.option("--history", "finding_id", help="该疑点的全部审核记录 Every decision on one lead.")
@click.option("--decision", help=f"只列出此结论 Only this decision: {help_list(DECISIONS)}.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="FILE.csv / .parquet")
@click.pass_context
def list_decisions(
    ctx: click.Context, finding_id: str | None, decision: str | None, limit: int, out: Path | None
) -> None:
    """列出各疑点的当前审核结论。Each lead's current decision (latest first), or one lead's
    history; --out writes them all to a file."""
    try:
        with open_store(current_workspace(ctx)) as store:
            df = store.history(finding_id) if finding_id else store.current_decisions()
    except SchemaError as e:
        fail(str(e))
    if decision:
        try:
            df = df.filter(pl.col("decision") == normalise(decision, DECISIONS, "decision"))
        except ValueError as e:
            fail(str(e))
    df = df.sort("decision_id", descending=not finding_id)
    if out is not None:
        try:
            write_export(df, out, label="decisions")
        except ValueError as e:
            fail(str(e))
        click.echo(f"{df.height} decisions → {out}")
        return
    cols = [c for c in LIST_COLUMNS if c in df.columns] or list(df.columns)
    with pl.Config(
        tbl_rows=limit,
        tbl_cols=-1,
        tbl_width_chars=160,
        fmt_str_lengths=40,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
    ):
        shown = df.select(cols).head(limit)
        if "decided_at" in cols:
            shown = shown.with_columns(pl.col("decided_at").dt.strftime("%Y-%m-%d %H:%M:%SZ"))
        click.echo(shown)
    if not finding_id:
        counts = df.group_by("decision_zh").len().sort("len", descending=True).iter_rows()
        click.echo("；".join(f"{d} {n}" for d, n in counts) or "尚无审核结论 no decisions yet")


@cases.command("verify")
@click.option("--json", "as_json", is_flag=True, help="JSON 输出 Machine-readable report.")
@click.option(
    "--anchor",
    metavar="HASH",
    help="先前记录的链头 A head printed earlier (kept elsewhere): it must still be in the chain.",
)
@click.pass_context
def verify_cmd(ctx: click.Context, as_json: bool, anchor: str | None) -> None:
    """核验案件库哈希链。Verify the hash chain over decisions, the audit log, notice events,
    notice review decisions and issued notices: exit 0 with the head hash when intact,
    1 with one line per problem otherwise."""
    ws = current_workspace(ctx)
    if not store_exists(ws):
        fail(f"no case store at {store_path(ws)}")
    try:
        with open_store(ws) as store:
            report = verify(store, anchor=anchor)
    except SchemaError as e:
        fail(str(e))
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    elif report.ok:
        counts = ", ".join(f"{t} {c['links']}" for t, c in report.tables.items())
        click.echo(f"案件库哈希链完整 chain intact: head {report.head or '(empty)'}")
        click.echo(f"{report.links} links: {counts}")
    else:
        for problem in report.problems:
            click.echo(problem.line())
        n = len(report.problems)
        click.echo(f"hrss-fraud: error: 案件库哈希链不完整 {n} problem(s) in the chain", err=True)
    if not report.ok:
        ctx.exit(1)


@cases.command("train-model")
@click.option("--run", "run_id", help="特征取自此批次 Run whose findings give the features.")
@click.option("--min-labels", type=click.IntRange(min=2), default=200, show_default=True)
@click.option("--min-per-class", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def train_model(
    ctx: click.Context, run_id: str | None, min_labels: int, min_per_class: int, lang: str
) -> None:
    """训练审核学习模型（审核结论不足时不启用）。Learn from the reviewers' confirmed and
    dismissed leads which leads they confirm; off below the minimum of labels."""
    try:
        status = train_review_model(
            current_workspace(ctx),
            run_id=run_id,
            min_labels=min_labels,
            min_per_class=min_per_class,
        )
    except (ModelError, RunError, SchemaError, ValueError) as e:
        fail(str(e))
    click.echo(status.message(lang))
    if status.enabled and status.metrics:
        m = status.metrics
        click.echo(
            f"cv: ROC-AUC {m['roc_auc']}, average precision {m['average_precision']}, "
            f"Brier {m['brier']} ({m['cv_folds']} folds) → {status.model_path}"
        )
