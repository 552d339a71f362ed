"""``hrss-fraud notice``: draft, issue and track on-site violation notices.

Whoever records a step (``--by``, default the login name) must be an enabled account
that may issue notices (``manage_inspections``, as in the dashboard).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import polars as pl

from hrss_fraud.cases import CaseStore, SchemaError, open_store
from hrss_fraud.cases.operators import login_name
from hrss_fraud.cli.common import current_workspace, day, fail, on_option, operator, split_list
from hrss_fraud.engine.runs import RunError, open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.model.numbers import money
from hrss_fraud.notices import store as notices_store
from hrss_fraud.notices.content import (
    DEFAULT_BASIS,
    DEFAULT_RECTIFY_DAYS,
    DEFAULT_REQUIREMENTS,
    DEFAULT_UNIT,
    ContentError,
    Handling,
    Item,
    NoticeContent,
    measure_code,
)
from hrss_fraud.notices.draft import Lead, catalogue_of, register_entry, rule_items
from hrss_fraud.notices.render import RenderError, layout
from hrss_fraud.notices.store import (
    STATUSES,
    NoticeError,
    create,
    get,
    issue,
    notices,
    overdue,
    verify,
)

MANAGE = "manage_inspections"
"""The permission every write of this group needs."""

_by = click.option(
    "--by",
    "by",
    default=login_name,
    show_default="login name",
    help="经办人 Who records it: an enabled account that may issue notices.",
)
_on = on_option


ERRORS: tuple[type[BaseException], ...] = (NoticeError, ContentError, RenderError, SchemaError)
"""What this group's commands report as their one-line failure."""


def _read_spec(path: Path) -> dict[str, Any]:
    """A notice described in a JSON or TOML file (fields of NoticeContent, ``items`` with
    their ``handling``)."""
    try:
        text = path.read_text(encoding="utf-8")
        spec = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if not isinstance(spec, dict):
        fail(f"{path}: expected an object of notice fields")
    return spec


def _items(raw: list[dict[str, Any]]) -> tuple[Item, ...]:
    """The items a notice file lists, each with its ``handling``."""
    items = []
    for n, i in enumerate(raw, start=1):
        try:
            handling = tuple(
                Handling(
                    measure_code(str(h["measure"])),
                    None if h.get("amount") is None else float(h["amount"]),
                    str(h.get("detail") or ""),
                )
                for h in i.get("handling", [])
            )
            items.append(
                Item(
                    rule=str(i["rule"]),
                    facts=str(i["facts"]),
                    legal_basis=str(i.get("legal_basis") or DEFAULT_BASIS),
                    amount_involved=float(i.get("amount_involved", 0)),
                    handling=handling,
                )
            )
        except (KeyError, TypeError, ValueError) as e:
            fail(f"item {n}: {e.__class__.__name__} {e}")
    return tuple(items)


def decided_leads(store: CaseStore, ws: Workspace, ids: list[str]) -> list[Lead]:
    """The leads ``ids`` as their latest decisions saw them (rule, amount at risk), with
    their evidence text from the latest run (none when no run can be read), ready for
    :func:`hrss_fraud.notices.rule_items`."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.query(
        f"SELECT finding_id, rule_id, amount_at_risk FROM current_decision "
        f"WHERE finding_id IN ({marks}) ORDER BY finding_id",
        tuple(ids),
    )
    try:
        findings = open_run(ws).findings().filter(pl.col("finding_id").is_in(ids))
    except (RunError, OSError):
        findings = pl.DataFrame(schema={"finding_id": pl.String, "evidence": pl.String})
    evidence = dict(zip(findings["finding_id"], findings["evidence"].fill_null(""), strict=True))
    return [Lead(f, r, a or 0.0, evidence.get(f, "")) for f, r, a in rows]


def _handling(given: dict[str, Any]) -> tuple[Handling, ...]:
    """The measures the options decide (追回, 拒付, 违约金, 暂停结算, 约谈)."""
    handling = [
        Handling(m, float(given[m])) for m in ("recover", "refuse", "penalty") if m in given
    ]
    if "suspend" in given:
        handling.append(Handling("suspend", None, given["suspend"]))
    if given.get("interview"):
        handling.append(Handling("interview"))
    return tuple(handling)


def _typed_item(given: dict[str, Any], spec: dict[str, Any], leads: list[Lead]) -> Item:
    """The one item ``--rule`` types (rule ids in it are named at issue): the leads' total
    unless ``--amount``, the on-site facts unless ``--item-facts``."""
    amount = given.get("amount")
    if amount is None:
        amount = round(sum(lead.amount for lead in leads), 2)
    return Item(
        rule=given["rule"],
        facts=given.get("item_facts") or str(spec.get("onsite_facts") or ""),
        legal_basis=given.get("legal_basis") or DEFAULT_BASIS,
        amount_involved=float(amount),
        handling=_handling(given),
    )


ITEM_OPTIONS = {"item_facts": "facts", "legal_basis": "legal_basis", "amount": "amount_involved"}
"""Options that change a drafted item → the item's field."""


def _drafted_items(given: dict[str, Any], leads: list[Lead], ws: Workspace) -> tuple[Item, ...]:
    """The items the dashboard drafts from ``leads`` (one per rule: its Chinese name,
    framework code and legal basis), with the item options given applied; those change
    one item, so they are refused when the leads span several rules."""
    items = rule_items(leads, catalogue_of(ws))
    changes: dict[str, Any] = {
        field: float(given[o]) if o == "amount" else given[o]
        for o, field in ITEM_OPTIONS.items()
        if o in given
    }
    if handling := _handling(given):
        changes["handling"] = handling
    if not changes:
        return items
    if len(items) != 1:
        fail(
            f"the leads span {len(items)} rules ({'、'.join(i.rule for i in items)}): "
            "--item-facts, --basis, --amount and the handling options change one item; "
            "type one with --rule, or list the items in a --from file"
        )
    return (replace(items[0], **changes),)


def _fill_from_register(ws: Workspace, spec: dict[str, Any]) -> None:
    """The institution's name and agreement number (协议编号) from the lake's register,
    where ``spec`` has none, as the dashboard's form fills them (the agreement in force
    on the inspection date)."""
    code = str(spec.get("fixmedins_code") or "").strip()
    if not code or (spec.get("fixmedins_name") and spec.get("agreement_no")):
        return
    try:
        on: date | None = date.fromisoformat(str(spec.get("inspection_date") or ""))
    except ValueError:
        on = None  # the content's check names the bad date
    name, agreement = register_entry(ws.lake, code, on)
    spec["fixmedins_name"] = spec.get("fixmedins_name") or name
    spec["agreement_no"] = spec.get("agreement_no") or agreement


@click.group("notice")
def notice() -> None:
    """现场监督检查违约通知单：起草、编号下达、跟踪整改。On-site violation notices."""


@notice.command("create")
@click.option(
    "--from",
    "spec_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON/TOML 文件 A file of notice fields and items; options override it.",
)
@click.option("--institution", help="定点医药机构编号 fixmedins_code.")
@click.option("--name", "fixmedins_name", help="机构名称 Institution name.")
@click.option("--agreement", "agreement_no", help="医疗服务协议编号 Agreement number.")
@click.option("--findings", help="已确认疑点编号 Confirmed finding ids, comma-separated.")
@click.option("--facts", "onsite_facts", help="现场检查情况 What the inspection found on site.")
@click.option("--inspection-date", help="检查日期 YYYY-MM-DD.")
@click.option("--inspectors", help="检查人员 Inspectors' names, comma-separated (≥ 2).")
@click.option("--representative", help="机构在场人员 The institution's representative.")
@click.option("--round", "round_ref", help="检查批次 Inspection round reference.")
@click.option("--target", "target_ref", help="检查对象 Target reference within the round.")
@click.option(
    "--rule",
    help="违约事项 Type one item naming the breach (default: one item per rule of the leads).",
)
@click.option("--item-facts", help="违约事实 Facts of the breach (default: --facts).")
@click.option("--basis", "legal_basis", help="违反条款 Clause broken.")
@click.option("--amount", type=float, help="涉及金额 Amount involved (default: leads' total).")
@click.option("--recover", type=float, help="追回金额 Amount to recover.")
@click.option("--refuse", type=float, help="拒付金额 Amount refused.")
@click.option("--penalty", type=float, help="违约金 Breach penalty.")
@click.option("--suspend", help="暂停结算 Suspension, e.g. 3个月.")
@click.option("--interview", is_flag=True, help="约谈 Interview the institution.")
@click.option("--requirements", help="整改要求 Rectification required.")
@click.option("--rectify-days", type=int, help=f"整改期限 Days (default {DEFAULT_RECTIFY_DAYS}).")
@click.option("--unit", "issuing_unit", help=f"下达单位 Issuing unit (default {DEFAULT_UNIT}).")
@click.option("--allow-unconfirmed", is_flag=True, help="不要求已确认疑点 On-site facts only.")
@_by
@click.pass_context
def create_cmd(
    ctx: click.Context, spec_file: Path | None, allow_unconfirmed: bool, by: str, **options: Any
) -> None:
    """起草通知单（草稿，未编号）。Draft a notice; `notice issue` numbers and renders it.

    Its items are drafted from the leads (``--findings``) as the dashboard drafts them:
    one per rule, named as the catalogue names it, with its framework code and legal
    basis; ``--rule`` types one item instead, and a ``--from`` file may list them. The
    institution's name and agreement number come from the lake's register unless given."""
    ws = current_workspace(ctx)
    spec = _read_spec(spec_file) if spec_file else {}
    given = {k: v for k, v in options.items() if v not in (None, False)}
    spec.update({k: v for k, v in given.items() if k in NoticeContent.__dataclass_fields__})
    if "institution" in given:
        spec["fixmedins_code"] = given["institution"]
    _fill_from_register(ws, spec)
    findings = (
        split_list(given["findings"]) if "findings" in given else list(spec.get("findings", []))
    )
    inspectors = spec.get("inspectors", [])
    if isinstance(inspectors, str):
        inspectors = split_list(inspectors)
    try:
        with open_store(ws) as store:
            actor = operator(store, by, MANAGE)
            leads = decided_leads(store, ws, findings)
            if "items" in spec and not {"rule", "amount", "recover", "refuse", "penalty"} & set(
                given
            ):
                items = _items(spec["items"])
            elif "rule" in given or not leads:
                items = (_typed_item(given, spec, leads),)
            else:
                items = _drafted_items(given, leads, ws)
            content = NoticeContent(
                fixmedins_code=str(spec.get("fixmedins_code") or ""),
                fixmedins_name=str(spec.get("fixmedins_name") or ""),
                agreement_no=str(spec.get("agreement_no") or ""),
                inspection_date=str(spec.get("inspection_date") or ""),
                inspectors=tuple(inspectors),
                onsite_facts=str(spec.get("onsite_facts") or ""),
                items=items,
                requirements=str(spec.get("requirements") or DEFAULT_REQUIREMENTS),
                rectify_days=int(spec.get("rectify_days") or DEFAULT_RECTIFY_DAYS),
                issuing_unit=str(spec.get("issuing_unit") or DEFAULT_UNIT),
                statement_days=int(spec.get("statement_days") or 10),
                representative=str(spec.get("representative") or ""),
                round_ref=str(spec.get("round_ref") or ""),
                target_ref=str(spec.get("target_ref") or ""),
                findings=tuple(findings),
            )
            notice_id = create(store, content, by=actor, require_confirmed=not allow_unconfirmed)
    except ERRORS as e:
        fail(str(e))
    institution = f"{content.fixmedins_code} {content.fixmedins_name}".strip()
    click.echo(
        f"draft #{notice_id} (草稿): {institution}, {len(content.items)} item(s), "
        f"{money(content.total_involved)}; issue it with: hrss-fraud notice issue {notice_id}"
    )


@notice.command("issue")
@click.argument("ref")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="文种语言 Language of the documents.",
)
@_on
@_by
@click.pass_context
def issue_cmd(ctx: click.Context, ref: str, lang: str, on: datetime | None, by: str) -> None:
    """编号并下达：生成 DOCX 与 PDF。Number a draft (REF: its id) and render it."""
    ws = current_workspace(ctx)
    try:
        with open_store(ws) as store:
            out = issue(store, ref, ws, by=operator(store, by, MANAGE), on=day(on), lang=lang)
    except ERRORS as e:
        fail(str(e))
    click.echo(f"notice {out.number} issued (已下达): {out.docx} {out.pdf}")
    click.echo(f"  sha256 docx {out.docx_sha256}\n  sha256 pdf  {out.pdf_sha256}")


def _record(ctx: click.Context, action: str, **kwargs: Any) -> None:
    ws = current_workspace(ctx)
    try:
        with open_store(ws) as store:
            kwargs["by"] = operator(store, kwargs["by"], MANAGE)
            getattr(notices_store, action)(store, **kwargs)
            n = notices_store.get(store, kwargs["ref"])
    except ERRORS as e:
        fail(str(e))

    if action == "decide_review":
        decided = n.reviews.filter(n.reviews["outcome"].is_not_null())
        late = bool(decided["late"][-1]) if decided.height else False
    else:
        late = bool(n.events["late"][-1]) if n.events.height else False
    click.echo(
        f"notice {n.number}: {action} recorded; status {n.status} ({STATUSES[n.status][0]})"
        + ("; 逾期提出 flagged late" if late else "")
    )


@notice.command("ack")
@click.argument("number")
@click.option("--person", required=True, help="签收人 Who signed for the institution.")
@_on
@_by
@click.pass_context
def ack_cmd(ctx: click.Context, number: str, person: str, on: datetime | None, by: str) -> None:
    """机构签收。The institution signed for the notice."""
    _record(ctx, "acknowledge", ref=number, person=person, on=day(on), by=by)


@notice.command("statement")
@click.argument("number")
@click.option("--text", required=True, help="陈述内容（摘要）What the institution states.")
@click.option("--person", default="", help="提出人 Who stated it.")
@click.option("--review", is_flag=True, help="申请复核 It is a review request.")
@click.option("--late", "late_ok", is_flag=True, help="逾期仍登记 Record it although late.")
@_on
@_by
@click.pass_context
def statement_cmd(
    ctx: click.Context,
    number: str,
    text: str,
    person: str,
    review: bool,
    late_ok: bool,
    on: datetime | None,
    by: str,
) -> None:
    """登记陈述或复核申请（下达之日起10日内）。A statement or review request, within 10 days."""
    _record(
        ctx,
        "statement",
        ref=number,
        text=text,
        person=person,
        review=review,
        late_ok=late_ok,
        on=day(on),
        by=by,
    )


@notice.command("review-decision")
@click.argument("number")
@click.option(
    "--outcome",
    type=click.Choice(["upheld", "amended", "revoked"]),
    required=True,
    help="复核结论：upheld 维持 / amended 变更 / revoked 撤销.",
)
@click.option("--text", required=True, help="复核决定及理由 The decision and its reasons.")
@_on
@_by
@click.pass_context
def review_decision_cmd(
    ctx: click.Context, number: str, outcome: str, text: str, on: datetime | None, by: str
) -> None:
    """登记复核决定（申请之日起15日内）。Decide the oldest pending review request."""
    _record(ctx, "decide_review", ref=number, outcome=outcome, text=text, on=day(on), by=by)


@notice.command("rectify")
@click.argument("number")
@click.option("--text", required=True, help="整改报告摘要 What the report says.")
@click.option("--person", default="", help="报送人 Who submitted it.")
@_on
@_by
@click.pass_context
def rectify_cmd(
    ctx: click.Context, number: str, text: str, person: str, on: datetime | None, by: str
) -> None:
    """登记机构报送的整改报告。The institution submitted its rectification."""
    _record(ctx, "rectify", ref=number, text=text, person=person, on=day(on), by=by)


@notice.command("close")
@click.argument("number")
@click.option("--text", required=True, help="验收情况 How the rectification was verified.")
@_on
@_by
@click.pass_context
def close_cmd(ctx: click.Context, number: str, text: str, on: datetime | None, by: str) -> None:
    """整改验收并办结。Verify the rectification and close the notice."""
    _record(ctx, "close", ref=number, text=text, on=day(on), by=by)


@notice.command("list")
@click.option("--overdue", "only_overdue", is_flag=True, help="只列整改逾期 Overdue only.")
@click.option("--status", help="状态 draft, issued, acknowledged, rectified, closed, revoked.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="以此日计算 As of.")
@click.pass_context
def list_cmd(
    ctx: click.Context, only_overdue: bool, status: str | None, today: datetime | None
) -> None:
    """通知单及其期限。Notices with their deadlines; overdue ones marked."""
    try:
        with open_store(current_workspace(ctx)) as store:
            df = (overdue if only_overdue else notices)(store, today=day(today))
    except ERRORS as e:
        fail(str(e))
    if status:
        df = df.filter(df["status"] == status)
    if df.is_empty():
        click.echo("no notices (无)")
        return
    for r in df.iter_rows(named=True):
        ref = r["number"] or f"#{r['notice_id']}"
        marks = []
        if r["overdue"]:
            marks.append(f"整改逾期 OVERDUE {r['days_overdue']}d")
        if r["statement_open"]:
            marks.append(f"陈述期至 {r['statement_due']}")
        if r["late_statements"]:
            marks.append(f"{r['late_statements']} late statement(s)")
        if r["reviews_pending"]:
            late = "，已逾期 OVERDUE" if r["review_overdue"] else ""
            marks.append(f"待复核决定 review due {r['review_due']}{late}")
        click.echo(
            f"{ref}\t{r['status_zh']}\t{r['fixmedins_code']} {r['fixmedins_name'] or ''}\t"
            f"{money(r['amount_involved'])}\t下达 {r['issue_date'] or '—'}\t"
            f"整改期限 {r['rectify_due'] or '—'}" + (f"\t{'; '.join(marks)}" if marks else "")
        )


@notice.command("show")
@click.argument("ref")
@click.pass_context
def show_cmd(ctx: click.Context, ref: str) -> None:
    """通知单内容、状态、事件与文件校验。A notice's content, events and file check."""
    ws = current_workspace(ctx)
    try:
        with open_store(ws) as store:
            n = get(store, ref)
            problems = verify(store, ref, ws) if n.number else []
    except ERRORS as e:
        fail(str(e))
    c = n.content
    lay = layout(c, c.lang)
    click.echo(f"{lay.title}  {n.number or f'#{n.notice_id} (草稿 draft)'}")
    click.echo(f"状态 status: {n.status} {STATUSES[n.status][0]}")
    for label, value in lay.fields:
        click.echo(f"  {label}{value}")
    if c.issue_date:
        click.echo(f"  下达 {c.issue_date} · 陈述期限 {c.statement_due} · 整改期限 {c.rectify_due}")
    for row, item in zip(lay.table_rows, c.items, strict=True):  # the amount with its ¥
        click.echo(f"  [{row[0]}] {row[1]} | {row[2]} | {money(item.amount_involved)} | {row[4]}")
    click.echo(f"  {lay.total}")
    if c.findings:
        click.echo(f"  疑点 findings: {', '.join(c.findings)}")
    for e in n.events.iter_rows(named=True):
        who = f" {e['person']}" if e["person"] else ""
        text = f": {e['text']}" if e["text"] else ""
        late = " (逾期 late)" if e["late"] else ""
        click.echo(f"  {e['on_date']} {e['kind']}{who}{text}{late} — {e['actor']}")
    for r in n.reviews.iter_rows(named=True):
        if r["outcome"] is None:
            click.echo(f"  复核 review of {r['requested_on']}: 待决定 due {r['decision_due']}")
        else:
            late = " (逾期 late)" if r["late"] else ""
            click.echo(
                f"  复核 review of {r['requested_on']}: {r['outcome_zh']} {r['outcome']} "
                f"{r['decided_on']}{late}: {r['text']} — {r['decided_by']}"
            )
    if n.number:
        click.echo(f"  files: {n.docx_path} {n.pdf_path}")
        click.echo("  校验 check: " + ("; ".join(problems) if problems else "files match (一致)"))
