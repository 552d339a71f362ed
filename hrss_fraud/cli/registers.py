"""``hrss-fraud registers``: the supervision registers (监管事项) — list them, import their
entities, draw random plans (双随机), record inspections, order and follow up
rectification, close or sanction, issue the documents, publish the results (一公开).

Whoever changes something (``--by``, default the login name) must be an enabled account
that may plan inspections (``manage_inspections``, as for inspection rounds and notices).
Every refusal is one line on standard error and leaves the store as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click

from hrss_fraud.cases import SchemaError, open_store
from hrss_fraud.cases.operators import login_name
from hrss_fraud.cases.store import CaseStore
from hrss_fraud.cli.common import current_workspace, day, fail, on_option, operator, split_list
from hrss_fraud.inspection.rounds import parse_complaints
from hrss_fraud.registers.definitions import (
    ENGINES,
    SEVERITIES,
    DefinitionError,
    Register,
    load_registers,
)
from hrss_fraud.registers.disclosure import (
    COUNT_COLUMNS,
    DisclosureError,
    annual_counts,
    disclosure,
    record_disclosure,
    write_export,
)
from hrss_fraud.registers.documents import DEFAULT_UNIT, DOCUMENT_OBJECT, DocumentError, issue
from hrss_fraud.registers.entities import (
    EntityError,
    add_conflict,
    entities,
    history,
    import_entities,
)
from hrss_fraud.registers.inspections import (
    Evidence,
    InspectionError,
    ItemResult,
    record_inspection,
    result_code,
)
from hrss_fraud.registers.objects import UnknownObject, register_of
from hrss_fraud.registers.plans import (
    SOURCES,
    PlanError,
    draw_plan,
    due_targets,
    load_plan,
    reproduce,
)
from hrss_fraud.registers.rectification import (
    STATUSES,
    RectificationError,
    close,
    follow_up,
    order,
    rectifications,
    sanction,
)
from hrss_fraud.registers.synth import synth_bureau

MANAGE = "manage_inspections"
"""The permission every write of this group needs."""

_by = click.option(
    "--by",
    "by",
    default=login_name,
    show_default="login name",
    help="操作人 Who does it: an enabled account that may plan inspections.",
)
_on = on_option
_register = click.option(
    "--register", "register", required=True, help="监管事项代码 Register code (`registers list`)."
)


ERRORS: tuple[type[BaseException], ...] = (
    SchemaError,
    DefinitionError,
    EntityError,
    PlanError,
    InspectionError,
    RectificationError,
    DocumentError,
    DisclosureError,
)
"""What this group's commands report as their one-line failure."""


@contextmanager
def _store(ctx: click.Context) -> Iterator[CaseStore]:
    """The workspace's case store; any refusal becomes the one-line failure."""
    try:
        with open_store(current_workspace(ctx)) as store:
            yield store
    except ERRORS as e:
        fail(str(e))


def _registers(ctx: click.Context) -> dict[str, Register]:
    try:
        return load_registers(current_workspace(ctx))
    except (DefinitionError, FileNotFoundError) as e:
        fail(str(e))


def _reg(ctx: click.Context, code: str) -> Register:
    regs = _registers(ctx)
    if code not in regs:
        known = ", ".join(f"{c} ({r.name})" for c, r in regs.items())
        fail(f"no register {code!r}; registers: {known}")
    return regs[code]


def _reg_of(ctx: click.Context, store: CaseStore, what: str, object_id: int) -> Register:
    """The register an inspection, order or sanction belongs to."""
    try:
        return _reg(ctx, register_of(store, what, object_id))
    except UnknownObject as e:
        fail(str(e))


@click.group("registers")
def registers() -> None:
    """监管事项（双随机一公开）。Supervision registers: entities, random plans, inspections."""


@registers.command("list")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """列出监管事项。List the registers and who runs their inspections."""
    regs = _registers(ctx)
    if as_json:
        out = [
            {
                "code": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "engine": r.engine,
                "check_items": len(r.check_items),
                "file": Path(r.source).name,
            }
            for r in regs.values()
        ]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for r in regs.values():
        zh, en = ENGINES[r.engine]
        click.echo(
            f"{r.code}\t{r.name} ({r.name_en})\t{len(r.check_items)} 项检查 items\t{zh} / {en}"
        )


@registers.command("show")
@click.argument("code")
@click.pass_context
def show_cmd(ctx: click.Context, code: str) -> None:
    """显示一个监管事项。Show one register: object, items, procedure, handling."""
    r = _reg(ctx, code)
    click.echo(f"{r.name} ({r.name_en}) — {Path(r.source).name}")
    click.echo(f"监管对象 Object: {r.object}")
    click.echo(f"检查内容 Content: {'；'.join(r.content)}")
    click.echo(f"检查方式 Methods: {'、'.join(r.methods)}")
    click.echo(f"监管措施 Measures: {'、'.join(r.measures)}")
    click.echo("检查事项 Check items:")
    for i in r.check_items:
        click.echo(f"  {i.code} [{SEVERITIES[i.severity][0]}] {i.text}（{i.basis}）")
    click.echo("工作流程 Procedure:")
    for s in r.procedure:
        days = f"，{s.days}日内" if s.days else ""
        click.echo(f"  {s.step}: {s.text}（{s.actor}{days}）")
    click.echo("处理方式 Handling: " + "；".join(f"{h.code} {h.text}" for h in r.handling))
    if not r.runs_here:
        click.echo(f"由 {', '.join(r.commands)} 办理 (run by those commands)")


# --- entities ---------------------------------------------------------------------------


@registers.group("entities")
def entities_group() -> None:
    """监管对象。Supervised entities: import, list, history."""


@entities_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_register
@_by
@click.pass_context
def entities_import(ctx: click.Context, file: Path, register: str, by: str) -> None:
    """从 CSV/XLSX 导入监管对象（中文表头）。Import entities; a bad row refuses the file."""
    reg = _reg(ctx, register)
    with _store(ctx) as store:
        done = import_entities(store, file, reg, by=operator(store, by, MANAGE))
    click.echo(
        f"{reg.name}: {done.rows} rows — {done.added} new, {done.changed} changed, "
        f"{done.unchanged} unchanged"
    )
    if done.set_aside:
        click.echo(f"未使用的列 columns set aside: {', '.join(done.set_aside)}")


@entities_group.command("list")
@_register
@click.option(
    "--expiring", is_flag=True, help="只列许可证即将到期或已过期的。Expiring or expired only."
)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="As of this day.")
@click.pass_context
def entities_list(
    ctx: click.Context, register: str, expiring: bool, today: datetime | None
) -> None:
    """列出监管对象及许可证到期提示。List entities with their licence's days left."""
    reg = _reg(ctx, register)
    with _store(ctx) as store:
        df = entities(store, reg, today=day(today))
    if expiring:
        df = df.filter(df["expiring"] | df["expired"])
    for r in df.iter_rows(named=True):
        flag = "已过期 expired" if r["expired"] else ("即将到期 expiring" if r["expiring"] else "")
        click.echo(
            f"{r['entity_code']}\t{r['name']}\t{r['zone']}\t{r['licence_no'] or '—'}\t"
            f"{r['valid_to'] or '—'}\t{flag}".rstrip()
        )


@entities_group.command("history")
@_register
@click.argument("entity_code")
@click.pass_context
def entities_history(ctx: click.Context, register: str, entity_code: str) -> None:
    """监管对象变更记录。Every version of one entity."""
    with _store(ctx) as store:
        versions = history(store, _reg(ctx, register).code, entity_code)
    for v in versions:
        changed = ", ".join(v["changed"])
        click.echo(f"v{v['version']}\t{v['at']}\t{v['actor']}\t{v['source']}\t{changed}")


@registers.command("conflict")
@_register
@click.option("--inspector", required=True, help="检查人员代码 Inspector code.")
@click.option("--entity", "entity_code", required=True, help="监管对象代码 Entity code.")
@click.option("--reason", required=True, help="回避理由 Why.")
@_by
@click.pass_context
def conflict_cmd(
    ctx: click.Context, register: str, inspector: str, entity_code: str, reason: str, by: str
) -> None:
    """登记回避。Declare a conflict of interest between an inspector and an entity."""
    reg = _reg(ctx, register)
    with _store(ctx) as store:
        add_conflict(
            store, reg.code, inspector, entity_code, reason, by=operator(store, by, MANAGE)
        )
    click.echo(f"{inspector} 回避 {entity_code}")


# --- plans ------------------------------------------------------------------------------


@registers.group("plan")
def plan_group() -> None:
    """双随机抽查计划。Random inspection plans."""


@plan_group.command("draw")
@_register
@click.option("--name", required=True, help="计划名称 Plan name (unique).")
@click.option(
    "--random", "n_random", type=int, default=0, show_default=True, help="随机抽取对象数."
)
@click.option(
    "--complaint", "complaints", help="投诉核查对象 Targeted: CODE[:REF],… from complaints."
)
@click.option("--groups", help="参加的检查组 Groups taking part (default: every standing group).")
@click.option("--capacity", type=int, help="每组最多对象数 Most targets per group.")
@click.option("--seed", type=int, help="随机种子 Seed (default: drawn and stored).")
@_on
@_by
@click.pass_context
def plan_draw(
    ctx: click.Context,
    register: str,
    name: str,
    n_random: int,
    complaints: str | None,
    groups: str | None,
    capacity: int | None,
    seed: int | None,
    on: datetime | None,
    by: str,
) -> None:
    """随机抽取检查对象和检查人员。Draw entities and inspectors at random."""
    reg = _reg(ctx, register)
    with _store(ctx) as store:
        plan = draw_plan(
            store,
            reg,
            name=name,
            n_random=n_random,
            by=operator(store, by, MANAGE),
            seed=seed,
            complaints=parse_complaints(complaints, "投诉"),
            groups=split_list(groups) if groups else None,
            capacity=capacity,
            planned_on=day(on),
        )
    click.echo(f"plan {plan.plan_id} {plan.name}: seed {plan.seed}, due {plan.due_date}")
    _print_targets(plan.targets.iter_rows(named=True))


def _print_targets(rows: Iterator[dict]) -> None:
    for r in rows:
        done = f"inspection {r['inspection_id']}" if r["inspection_id"] else "待检查 due"
        ref = f" {r['source_ref']}" if r["source_ref"] else ""
        click.echo(
            f"  {r['entity_code']}\t{r['name']}\t{r['zone']}\t{SOURCES[r['source']][0]}{ref}\t"
            f"{r['group_code']}\t{done}"
        )


@plan_group.command("show")
@click.argument("plan_id", type=int)
@click.pass_context
def plan_show(ctx: click.Context, plan_id: int) -> None:
    """显示计划及其对象。Show a plan with its targets."""
    with _store(ctx) as store:
        plan = load_plan(store, plan_id)
    click.echo(
        f"plan {plan.plan_id} {plan.name} [{plan.register}] {plan.status}: planned "
        f"{plan.planned_on}, due {plan.due_date}, seed {plan.seed}, by {plan.created_by}"
    )
    _print_targets(plan.targets.iter_rows(named=True))


@plan_group.command("reproduce")
@click.argument("plan_id", type=int)
@click.pass_context
def plan_reproduce(ctx: click.Context, plan_id: int) -> None:
    """重算抽取结果以供审计。Recompute a plan's draw from its stored seed and inputs."""
    with _store(ctx) as store:
        r = reproduce(store, plan_id)
    if not r.ok:
        fail(f"plan {plan_id} does not reproduce: " + "; ".join(r.problems))
    click.echo(f"plan {plan_id}: the draw reproduces from seed {r.seed}")


@plan_group.command("due")
@click.option("--register", "register", help="监管事项代码 Register code (default: all).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="As of this day.")
@click.pass_context
def plan_due(ctx: click.Context, register: str | None, today: datetime | None) -> None:
    """待检查与逾期对象。Targets not yet inspected; overdue after the plan's due date."""
    with _store(ctx) as store:
        df = due_targets(store, register, today=day(today))
    for r in df.iter_rows(named=True):
        flag = "逾期 overdue" if r["overdue"] else ""
        click.echo(
            f"{r['plan_id']}\t{r['plan_name']}\t{r['entity_code']}\t{r['name']}\t"
            f"{r['group_code']}\t{r['due_date']}\t{flag}".rstrip()
        )


# --- inspections ------------------------------------------------------------------------


@registers.group("inspection")
def inspection_group() -> None:
    """检查记录。Inspection records."""


def _results(reg: Register, items: tuple[str, ...], others_pass: bool) -> dict:
    """``CODE=result[:finding]`` options → item results; the rest pass if asked."""
    out = {}
    for text in items:
        code, sep, rest = text.partition("=")
        if not sep:
            fail(f"--item {text!r}: write CODE=合格, CODE=不合格:发现的问题 or CODE=不适用")
        result, _, finding = rest.partition(":")
        try:
            out[code.strip()] = ItemResult(result_code(result), finding.strip())
        except InspectionError as e:
            fail(f"--item {text!r}: {e}")
    if others_pass:
        out |= {i.code: ItemResult("pass") for i in reg.check_items if i.code not in out}
    return out


@inspection_group.command("record")
@_register
@click.option("--entity", "entity_code", required=True, help="监管对象代码 Entity code.")
@click.option("--plan", "plan_id", type=int, help="抽查计划 Plan id (a random inspection).")
@click.option("--complaint", "complaint_ref", help="投诉编号 Complaint (a targeted inspection).")
@click.option("--inspectors", required=True, help="检查人员代码 Inspector codes, comma-separated.")
@click.option("--summary", required=True, help="检查情况 What was done and seen.")
@click.option("--item", "items", multiple=True, help="CODE=合格|不合格:发现的问题|不适用 (repeat).")
@click.option("--others-pass", is_flag=True, help="未列出的事项均为合格。Items not given passed.")
@click.option(
    "--evidence", "evidence", multiple=True, help="证据文件 FILE[::ITEM] (repeat); SHA-256 kept."
)
@_on
@_by
@click.pass_context
def inspection_record(
    ctx: click.Context,
    register: str,
    entity_code: str,
    plan_id: int | None,
    complaint_ref: str | None,
    inspectors: str,
    summary: str,
    items: tuple[str, ...],
    others_pass: bool,
    evidence: tuple[str, ...],
    on: datetime | None,
    by: str,
) -> None:
    """记录一次检查，逐项填写结果。Record one inspection, every check item's result."""
    reg = _reg(ctx, register)
    results = _results(reg, items, others_pass)
    files = []
    for text in evidence:
        path, _, item = text.partition("::")
        files.append(Evidence(Path(path), item.strip() or None))
    with _store(ctx) as store:
        iid = record_inspection(
            store,
            current_workspace(ctx),
            reg,
            entity_code=entity_code,
            plan_id=plan_id,
            complaint_ref=complaint_ref,
            inspected_on=day(on) or date.today(),
            inspectors=split_list(inspectors),
            summary=summary,
            results=results,
            evidence=files,
            by=operator(store, by, MANAGE),
        )
        (result,) = store.query(
            "SELECT result FROM register_inspection WHERE inspection_id = ?", (iid,)
        )[0]
    click.echo(f"inspection {iid}: {'发现问题 fail' if result == 'fail' else '合格 pass'}")


# --- rectification, close, sanction ----------------------------------------------------


@registers.group("rectify")
def rectify_group() -> None:
    """责令整改与跟踪复查。Rectification orders and follow-up."""


@rectify_group.command("order")
@click.argument("inspection_id", type=int)
@click.option("--requirements", required=True, help="整改要求 What must be put right.")
@_on
@_by
@click.pass_context
def rectify_order(
    ctx: click.Context, inspection_id: int, requirements: str, on: datetime | None, by: str
) -> None:
    """责令限期整改（期限见监管事项文件）。Order the rectification of a failed inspection."""
    with _store(ctx) as store:
        reg = _reg_of(ctx, store, "inspection", inspection_id)
        rid = order(
            store,
            reg,
            inspection_id,
            requirements=requirements,
            by=operator(store, by, MANAGE),
            on=day(on),
        )
        due, follow_up_due = store.query(
            "SELECT due_date, follow_up_due FROM register_rectification WHERE rectification_id = ?",
            (rid,),
        )[0]
    click.echo(f"order {rid}: rectify by {due}, follow up by {follow_up_due}")


@rectify_group.command("follow-up")
@click.argument("rectification_id", type=int)
@click.option(
    "--result",
    "outcome",
    required=True,
    type=click.Choice(["passed", "failed", "合格", "不合格"]),
    help="复查结果 Follow-up result.",
)
@click.option("--text", required=True, help="复查情况 What the follow-up found.")
@_on
@_by
@click.pass_context
def rectify_follow_up(
    ctx: click.Context, rectification_id: int, outcome: str, text: str, on: datetime | None, by: str
) -> None:
    """记录跟踪复查。Record a follow-up check."""
    passed = outcome in ("passed", "合格")
    with _store(ctx) as store:
        follow_up(
            store,
            rectification_id,
            passed=passed,
            text=text,
            by=operator(store, by, MANAGE),
            on=day(on),
        )
    click.echo(f"order {rectification_id}: follow-up {'passed' if passed else 'failed'}")


@rectify_group.command("list")
@click.option("--register", "register", help="监管事项代码 Register code (default: all).")
@click.option("--overdue", is_flag=True, help="只列逾期的。Past a deadline only.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="As of this day.")
@click.pass_context
def rectify_list(
    ctx: click.Context, register: str | None, overdue: bool, today: datetime | None
) -> None:
    """整改台账。Rectification orders with their deadlines and overdue marks."""
    with _store(ctx) as store:
        df = rectifications(store, register, today=day(today))
    if overdue:
        df = df.filter(df["past_deadline"] | df["follow_up_overdue"])
    for r in df.iter_rows(named=True):
        marks = [
            m
            for m, on in (("逾期未整改", r["past_deadline"]), ("复查逾期", r["follow_up_overdue"]))
            if on
        ]
        click.echo(
            f"{r['rectification_id']}\t{r['register']}\t{r['entity_code']}\t{r['name']}\t"
            f"{r['due_date']}\t{STATUSES[r['status']][0]}\t{' '.join(marks)}".rstrip()
        )


@registers.command("close")
@click.argument("rectification_id", type=int)
@click.option("--text", default="", help="办结说明 Note.")
@_on
@_by
@click.pass_context
def close_cmd(
    ctx: click.Context, rectification_id: int, text: str, on: datetime | None, by: str
) -> None:
    """整改复查合格后办结。Close an order after a passed follow-up."""
    with _store(ctx) as store:
        close(store, rectification_id, text=text, by=operator(store, by, MANAGE), on=day(on))
    click.echo(f"order {rectification_id}: closed")


@registers.command("sanction")
@click.argument("rectification_id", type=int)
@click.option("--handling", required=True, help="处理方式 The register's option: code or kind.")
@click.option("--decision", required=True, help="处理决定 The decision's text.")
@_on
@_by
@click.pass_context
def sanction_cmd(
    ctx: click.Context,
    rectification_id: int,
    handling: str,
    decision: str,
    on: datetime | None,
    by: str,
) -> None:
    """复查不合格的，作出处理决定（警告、暂停、吊销、移送）。Escalate to a sanction."""
    with _store(ctx) as store:
        reg = _reg_of(ctx, store, "rectification", rectification_id)
        sid = sanction(
            store,
            reg,
            rectification_id,
            handling=handling,
            decision=decision,
            by=operator(store, by, MANAGE),
            on=day(on),
        )
    click.echo(f"sanction {sid} on order {rectification_id}")


# --- documents, disclosure, report ------------------------------------------------------

_DOCUMENT_OF = {
    "record": "inspection_record",
    "notice": "rectification_notice",
    "decision": "sanction_decision",
}


@registers.command("documents")
@click.argument("kind", type=click.Choice(list(_DOCUMENT_OF)))
@click.argument("object_id", type=int)
@click.option(
    "--unit", default=None, help="出具单位 Issuing unit (default 县人力资源和社会保障局)."
)
@_on
@_by
@click.pass_context
def documents_cmd(
    ctx: click.Context, kind: str, object_id: int, unit: str | None, on: datetime | None, by: str
) -> None:
    """出具检查记录（record）、整改通知书（notice）、处理决定书（decision），DOCX 与 PDF。

    Issue the inspection record of an inspection, the rectification notice of an order,
    or the decision of a sanction: numbered, hashed, DOCX and PDF in Chinese."""
    doc_kind = _DOCUMENT_OF[kind]
    with _store(ctx) as store:
        reg = _reg_of(ctx, store, DOCUMENT_OBJECT[doc_kind], object_id)
        done = issue(
            store,
            current_workspace(ctx),
            reg,
            doc_kind,
            object_id,
            by=operator(store, by, MANAGE),
            unit=unit or DEFAULT_UNIT,
            on=day(on),
        )
    click.echo(f"{done.number}\t{done.docx_path}\t{done.pdf_path}")
    click.echo(f"SHA-256 docx {done.docx_sha256}  pdf {done.pdf_sha256}")


@registers.command("disclose")
@click.option("--year", type=int, required=True, help="年度 Year of the inspections.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--targeted", is_flag=True, help="含投诉核查。Include targeted inspections.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@_by
@click.pass_context
def disclose_cmd(
    ctx: click.Context, year: int, out: Path, targeted: bool, lang: str, by: str
) -> None:
    """导出抽查结果公开表（不含个人信息）。Export the results for publication (.csv/.xlsx)."""
    regs = _registers(ctx)
    with _store(ctx) as store:
        actor = operator(store, by, MANAGE)
        df = disclosure(store, regs, year=year, include_targeted=targeted, lang=lang)
        path = write_export(df, out)
        record_disclosure(
            store, year=year, rows=df.height, file=path.name, targeted=targeted, by=actor
        )
    click.echo(f"{df.height} inspections → {path}")


@registers.command("report")
@click.option("--year", type=int, required=True, help="年度 Year.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=".csv or .xlsx")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def report_cmd(ctx: click.Context, year: int, out: Path | None, lang: str) -> None:
    """年度统计（年审、年终报送）。The year's counts per register, from the records."""
    regs = _registers(ctx)
    with _store(ctx) as store:
        df = annual_counts(store, regs, year=year)
        df = df.rename({c: (zh if lang == "zh" else en) for c, (zh, en) in COUNT_COLUMNS.items()})
        if out is not None:
            click.echo(f"{df.height} registers → {write_export(df, out)}")
            return
    for row in df.iter_rows(named=True):
        click.echo("  ".join(f"{k} {v}" for k, v in row.items()))


@registers.command("synth")
@click.option("--seed", type=int, default=19, show_default=True, help="随机种子 Seed.")
@click.option(
    "--per-register", type=int, default=16, show_default=True, help="每个事项的监管对象数"
)
@click.option(
    "--documents",
    type=int,
    default=6,
    show_default=True,
    help="出具文书数上限 Documents issued at most (each PDF takes a second or two).",
)
@_by
@click.pass_context
def synth_cmd(ctx: click.Context, seed: int, per_register: int, documents: int, by: str) -> None:
    """生成演示用的监管事项数据：对象与一年的抽查、整改、处理。A synthetic bureau for a
    demo or training workspace (refused when the registers already hold entities)."""
    with _store(ctx) as store:
        actor = operator(store, by, MANAGE)
        if store.query("SELECT count(*) FROM register_entity")[0][0]:
            fail("监管事项已有监管对象，不生成演示数据 (the registers already hold entities)")
        s = synth_bureau(
            store,
            current_workspace(ctx),
            by=actor,
            seed=seed,
            per_register=per_register,
            max_documents=documents,
        )
    click.echo(
        f"{s.entities} entities, {s.plans} plans, {s.inspections} inspections, "
        f"{s.rectifications} rectifications, {s.sanctions} sanctions, {s.documents} documents"
    )
