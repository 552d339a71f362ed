"""``hrss-fraud labour``: labour-inspection cases (劳动保障监察) — register a case, take it
through the nine steps, show and list cases with their deadlines, issue the documents.

Whoever acts (``--by``, default the login name) must be an enabled account whose role may
take the step (承办人 steps: first review; 负责人 steps: second review); the step itself
checks it, in its transaction. Every refusal is one line on standard error and leaves the
store as it was. Dates are YYYY-MM-DD; deadlines are counted in working days.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import click

from hrss_fraud.cases import SchemaError, open_store
from hrss_fraud.cases.operators import login_name
from hrss_fraud.cases.store import CaseStore
from hrss_fraud.cli.common import current_workspace, day, fail, on_option, operator, split_list
from hrss_fraud.model.numbers import money
from hrss_fraud.notices.render import RenderError
from hrss_fraud.registers import labour_cases as lc
from hrss_fraud.registers import labour_procedure as lp
from hrss_fraud.registers.documents import DEFAULT_UNIT, DocumentError
from hrss_fraud.registers.labour_documents import KINDS, issue
from hrss_fraud.registers.labour_views import cases, get_case, step_label
from hrss_fraud.registers.workdays import CalendarError, provisional_note

ERRORS: tuple[type[BaseException], ...] = (
    SchemaError,
    lp.CaseError,
    CalendarError,
    DocumentError,
    RenderError,
)
"""What this group's commands report as their one-line failure."""

_by = click.option(
    "--by",
    "by",
    default=login_name,
    show_default="login name",
    help="操作人 Who acts: an enabled account whose role may take the step.",
)
_on = on_option


@contextmanager
def _store(ctx: click.Context) -> Iterator[CaseStore]:
    """The workspace's case store; any refusal becomes the one-line failure."""
    try:
        with open_store(current_workspace(ctx)) as store:
            yield store
    except ERRORS as e:
        fail(str(e))


def _today(on: datetime | None) -> date:
    return day(on) or date.today()


def _amounts(pairs: tuple[str, ...]) -> dict[str, str]:
    """``back_wages=12345.67`` (or ``工资（补发）=…``) pairs → kind → yuan."""
    out = {}
    for pair in pairs:
        kind, sep, value = pair.partition("=")
        if not sep or not kind.strip():
            fail(f"--amount 须写作 类别=金额，如 back_wages=12345.67，而不是 {pair!r}")
        out[kind.strip()] = value.strip()
    return out


@click.group("labour")
def labour() -> None:
    """劳动保障监察案件：登记、九步办理、文书。Labour-inspection cases: nine steps, documents."""


@labour.group("case")
def case_group() -> None:
    """劳动保障监察案件。Labour-inspection cases."""


@case_group.command("new")
@click.option("--employer-code", required=True, help="统一社会信用代码 Employer's credit code.")
@click.option("--employer-name", required=True, help="用人单位名称 Employer's name.")
@click.option(
    "--employer-kind",
    required=True,
    help="单位类型 Kind: " + ", ".join(f"{k} ({v[0]})" for k, v in lp.EMPLOYER_KINDS.items()),
)
@click.option(
    "--source",
    required=True,
    help="案件来源 Source: " + ", ".join(f"{k} ({v[0]})" for k, v in lp.SOURCES.items()),
)
@click.option("--source-ref", default="", help="来源编号 e.g. the complaint's number.")
@click.option(
    "--areas",
    required=True,
    help="监察事项，逗号分隔 Content areas, comma-separated: " + ", ".join(lp.AREAS),
)
@click.option("--summary", required=True, help="案情摘要 What the case is about.")
@_on
@_by
@click.pass_context
def new_cmd(
    ctx: click.Context,
    employer_code: str,
    employer_name: str,
    employer_kind: str,
    source: str,
    source_ref: str,
    areas: str,
    summary: str,
    on: datetime | None,
    by: str,
) -> None:
    """登记案件（第一步）。Register a case (step 1); prints its number."""
    ws = current_workspace(ctx)
    with _store(ctx) as store:
        case_id = lc.register_case(
            store,
            employer_code=employer_code,
            employer_name=employer_name,
            employer_kind=employer_kind,
            source=source,
            source_ref=source_ref,
            areas=split_list(areas),
            summary=summary,
            by=by,
            on=_today(on),
            workspace=ws,
        )
        c = get_case(store, case_id, workspace=ws)
    click.echo(f"{c['case_no']}\t{c['employer_name']}\t下一步 next: {step_label(c['next_step'])}")


ACTIONS: dict[str, Callable[..., int]] = {
    "preliminary": lambda s, c, o, w: lc.preliminary_check(
        s, c, findings=o["text"], open_case=not o["not_opened"], by=o["by"], on=o["on"],
        workspace=w,
    ),
    "file": lambda s, c, o, w: lc.file_case(s, c, by=o["by"], on=o["on"], workspace=w),
    "extend": lambda s, c, o, w: lc.extend(
        s, c, reason=o["text"], by=o["by"], on=o["on"], workspace=w
    ),
    "investigate": lambda s, c, o, w: lc.investigate(
        s, c, facts=o["text"], by=o["by"], on=o["on"], workspace=w
    ),
    "notify": lambda s, c, o, w: lc.notify(
        s, c, kind=o["kind"], proposal=o["text"], amounts=o["amounts"], by=o["by"],
        on=o["on"], workspace=w,
    ),
    "statement": lambda s, c, o, w: lc.statement(
        s, c, text=o["text"], by=o["by"], on=o["on"], workspace=w
    ),
    "hearing-request": lambda s, c, o, w: lc.request_hearing(
        s, c, text=o["text"] or "", by=o["by"], on=o["on"], workspace=w
    ),
    "hearing": lambda s, c, o, w: lc.hold_hearing(
        s, c, record=o["text"], by=o["by"], on=o["on"], workspace=w
    ),
    "review": lambda s, c, o, w: lc.review(
        s, c, conclusion=o["text"], by=o["by"], on=o["on"], workspace=w
    ),
    "decide": lambda s, c, o, w: lc.decide(
        s, c, decision=o["text"], amounts=o["amounts"], by=o["by"], on=o["on"], workspace=w
    ),
    "payment": lambda s, c, o, w: lc.record_payment(
        s, c, kind=next(iter(o["amounts"])), amount=next(iter(o["amounts"].values())),
        reference=o["text"] or "", by=o["by"], on=o["on"], workspace=w,
    ),
    "execute": lambda s, c, o, w: lc.conclude_execution(
        s, c, how=o["how"], text=o["text"], by=o["by"], on=o["on"], workspace=w
    ),
    "close": lambda s, c, o, w: lc.close_case(
        s, c, summary=o["text"], by=o["by"], on=o["on"], workspace=w
    ),
}  # fmt: skip
"""Step command → the library's action (case store, case, options, workspace)."""


@case_group.command("step")
@click.argument("case")
@click.argument("action", type=click.Choice(list(ACTIONS)))
@click.option("--text", default=None, help="办理情况 What was found, said or decided.")
@click.option("--not-opened", is_flag=True, help="初步核查：不予立案 Preliminary: no case.")
@click.option(
    "--kind",
    type=click.Choice(["advance", "hearing"]),
    default="advance",
    show_default=True,
    help="告知书 notify: 事先告知书 (advance) or 听证告知书 (hearing).",
)
@click.option(
    "--amount",
    "amounts",
    multiple=True,
    help="金额 KIND=YUAN (back_wages, contributions, compensation, fine); repeatable.",
)
@click.option(
    "--how",
    type=click.Choice(["complied", "court"]),
    default="complied",
    show_default=True,
    help="execute: 已履行 (complied) or 申请法院强制执行 (court).",
)
@_on
@_by
@click.pass_context
def step_cmd(
    ctx: click.Context,
    case: str,
    action: str,
    text: str | None,
    not_opened: bool,
    kind: str,
    amounts: tuple[str, ...],
    how: str,
    on: datetime | None,
    by: str,
) -> None:
    """办理一步。Take a step of a case (CASE: its number, e.g. LJ-2026-0001, or id).

    Steps in order: preliminary, file, investigate, notify, then statement /
    hearing-request / hearing inside the window, review, decide, payment, execute, close;
    extend may come any time between file and decide."""
    ws = current_workspace(ctx)
    opts = {
        "text": text,
        "not_opened": not_opened,
        "kind": kind,
        "amounts": _amounts(amounts),
        "how": how,
        "by": by,
        "on": _today(on),
    }
    if action == "payment" and len(opts["amounts"]) != 1:
        fail("payment 须给出一个 --amount 类别=金额 (a payment is one --amount KIND=YUAN)")
    with _store(ctx) as store:
        ACTIONS[action](store, case, opts, ws)
        c = get_case(store, case, workspace=ws)
    due = f"\t期限 due {c['due']}{_provisional(c['due_provisional'])}" if c["due"] else ""
    click.echo(
        f"{c['case_no']}\t{step_label(c['step'])}\t下一步 next: {step_label(c['next_step'])}{due}"
    )


def _provisional(years: Iterable[int]) -> str:
    """A deadline's provisional mark, in both languages (``""`` when none)."""
    years = list(years)
    if not years:
        return ""
    return f"（{provisional_note(years)} {provisional_note(years, 'en')}）"


@case_group.command("show")
@click.argument("case")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="As of (default today).")
@click.pass_context
def show_cmd(ctx: click.Context, case: str, as_json: bool, today: datetime | None) -> None:
    """显示案件：各步骤、金额、文书、期限。Show a case: steps, amounts, documents, deadlines."""
    with _store(ctx) as store:
        c = get_case(store, case, today=_today(today), workspace=current_workspace(ctx))
    if as_json:
        click.echo(json.dumps(c, ensure_ascii=False, indent=2))
        return
    kind = lp.EMPLOYER_KINDS[c["employer_kind"]][0]
    click.echo(f"{c['case_no']}  {c['employer_name']}（{c['employer_code']}，{kind}）")
    click.echo(f"来源 Source: {lp.SOURCES[c['source']][0]}  {c['source_ref'] or ''}".rstrip())
    click.echo("监察事项 Areas: " + "、".join(lp.AREAS[a][0] for a in c["areas"]))
    overdue = "（已逾期 overdue）" if c["overdue"] else ""
    click.echo(
        f"当前 Step: {step_label(c['step'])}  下一步 Next: {step_label(c['next_step'])}  "
        f"期限 Due: {c['due'] or '—'}{overdue}{_provisional(c['due_provisional'])}"
    )
    for column, label in (("conclude_by", "办案期限"), ("reply_due", "陈述申辩期限"),
                          ("pay_by", "履行期限")):  # fmt: skip
        if c[column]:
            click.echo(f"  {label}: {c[column]}{_provisional(c['provisional'].get(column, ()))}")
    for e in c["events"]:
        late = "（逾期）" if e["late"] else ""
        click.echo(f"  {e['on_date']}  {e['action']}{late}  {e['actor']}  {e['text'] or ''}")
    for a in c["amounts"]:
        ordered, paid, left = (
            money(lp.fen_to_yuan(a[k])) for k in ("ordered_fen", "paid_fen", "outstanding_fen")
        )
        click.echo(f"  {a['label']}: 责令 {ordered}  已缴 {paid}  未缴 {left}")
    for d in c["documents"]:
        click.echo(f"  {d['number']}  {KINDS[d['kind']][1]}  {d['status']}  {d['docx_path'] or ''}")


@case_group.command("list")
@click.option(
    "--employer", default=None, help="只列此单位（统一社会信用代码）One employer's history."
)
@click.option("--overdue", is_flag=True, help="只列逾期 Only overdue cases.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="As of (default today).")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def list_cmd(
    ctx: click.Context, employer: str | None, overdue: bool, today: datetime | None, as_json: bool
) -> None:
    """列出案件及待办步骤、期限。List cases with the step each waits for and its deadline."""
    with _store(ctx) as store:
        df = cases(
            store, today=_today(today), employer_code=employer, workspace=current_workspace(ctx)
        )
    if overdue:
        df = df.filter("overdue")
    if as_json:
        click.echo(json.dumps(df.to_dicts(), ensure_ascii=False, indent=2))
        return
    for r in df.iter_rows(named=True):
        mark = "\t逾期 overdue" if r["overdue"] else ""
        click.echo(
            f"{r['case_no']}\t{r['employer_name']}\t{step_label(r['next_step'])}\t"
            f"{r['due'] or '—'}{_provisional(r['provisional'])}\t"
            f"未缴 {money(lp.fen_to_yuan(r['outstanding_fen']))}{mark}"
        )


@case_group.command("docs")
@click.argument("case")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.option(
    "--appear-on", type=click.DateTime(formats=["%Y-%m-%d"]), help="询问日期 Day to come."
)
@click.option("--appear-at", default="", help="询问时间 e.g. 上午9时.")
@click.option("--place", default="", help="询问地点 Where to come.")
@click.option("--material", "materials", multiple=True, help="须提供的材料 (repeatable).")
@click.option(
    "--unit", default=None, help="出具单位 Issuing unit (default 县人力资源和社会保障局)."
)
@_on
@_by
@click.pass_context
def docs_cmd(
    ctx: click.Context,
    case: str,
    kind: str,
    appear_on: datetime | None,
    appear_at: str,
    place: str,
    materials: tuple[str, ...],
    unit: str | None,
    on: datetime | None,
    by: str,
) -> None:
    """出具文书（DOCX 与 PDF）。Issue a case's document: numbered, hashed, DOCX and PDF.

    KIND: inquiry_notice (调查询问通知书, needs --appear-on, --place, --material),
    advance_notice or hearing_notice (the one served), decision, closing_record."""
    ws = current_workspace(ctx)
    with _store(ctx) as store:
        extra: dict[str, Any] = {}
        if kind == "inquiry_notice":
            extra = {
                "appear_on": day(appear_on),
                "appear_at": appear_at,
                "place": place,
                "materials": list(materials),
            }
        done = issue(
            store,
            ws,
            case,
            kind,
            by=operator(store, by, lp.HANDLER),
            on=day(on),
            unit=unit or DEFAULT_UNIT,
            **extra,
        )
    click.echo(f"{done.number}\t{done.docx_path}\t{done.pdf_path}")
    click.echo(f"SHA-256 docx {done.docx_sha256}  pdf {done.pdf_sha256}")
