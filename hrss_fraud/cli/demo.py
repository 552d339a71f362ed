"""``hrss-fraud demo``: a sample county end to end, then the dashboard."""

from __future__ import annotations

from datetime import date

import click
import polars as pl

from hrss_fraud.cases import open_store
from hrss_fraud.cases.store import CaseStore
from hrss_fraud.cases.workflow import decide
from hrss_fraud.cli.common import current_workspace
from hrss_fraud.cli.notices import decided_leads
from hrss_fraud.cli.serve import echo_demo_accounts, serve_demo
from hrss_fraud.cli.synth import synth
from hrss_fraud.complaints.check import run_check
from hrss_fraud.complaints.register import register as register_complaint
from hrss_fraud.engine.runs import open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.ingest.pipeline import ingest as run_ingest
from hrss_fraud.ingest.quality import add_quality_views
from hrss_fraud.inspection import registry
from hrss_fraud.inspection.rounds import group_members, load_round, plan_round, rounds
from hrss_fraud.model.numbers import money
from hrss_fraud.notices import NoticeContent, create, issue, register_entry, rule_items
from hrss_fraud.notices.content import DEFAULT_RECTIFY_DAYS, DEFAULT_REQUIREMENTS, DEFAULT_UNIT
from hrss_fraud.notices.draft import catalogue_of
from hrss_fraud.outputs.leads import SEVERITY_RANK
from hrss_fraud.registers import labour_cases as lc
from hrss_fraud.registers.labour_procedure import STEPS
from hrss_fraud.registers.synth import synth_bureau
from hrss_fraud.scoring.score import score as run_score


@click.command()
@click.option(
    "--preset",
    type=click.Choice(["tiny", "small", "county-year"]),
    default="small",
    show_default=True,
)
@click.option("--serve/--no-serve", "then_serve", default=True, help="Then serve the dashboard.")
@click.pass_context
def demo(ctx: click.Context, preset: str, then_serve: bool) -> None:
    """Generate a sample county, ingest and score it, report on it, set up a working office
    (accounts, inspection round, an issued violation notice, an open complaint), then serve
    the dashboard."""
    ws = current_workspace(ctx)
    county = ws / "synth"
    ctx.invoke(
        synth,
        preset=preset,
        persons=None,
        months=None,
        start=None,
        seed=42,
        fraud_rate=None,
        scheme_rate=(),
        out=None,
        no_malformed=False,
        list_schemes=False,
        quiet=False,
    )
    lake = ws.lake
    employers = [county / "enrolment"] if (county / "enrolment").is_dir() else []  # 参保稽核
    result = run_ingest(lake, [county / "reference", county / "uploads", *employers])
    s = result.summary()
    click.echo(
        f"ingest: {s['committed']} files committed, {s['duplicate']} duplicate, "
        f"{s['rejected']} rejected; {s['accepted']} rows accepted, "
        f"{s['quarantined']} quarantined"
    )
    con = lake.connect()
    add_quality_views(con)
    fee, amount = con.execute(
        "SELECT count(*), sum(det_item_fee_sumamt) FROM fee_detail"
    ).fetchone()
    click.echo(f"lake {lake.root}: {fee} fee lines, {money(amount)}")
    worst = con.execute(
        "SELECT fixmedins_name, round(missing_dise_codg, 2) FROM dq_institution "
        "WHERE settlements > 0 ORDER BY missing_dise_codg DESC LIMIT 3"
    ).fetchall()
    click.echo("most diagnoses missing (数据质量): " + "; ".join(f"{n} {v:.0%}" for n, v in worst))
    _demo_score(ws)
    _demo_bureau(ws)
    echo_demo_accounts(ws)  # now: the reviewer's 初审 below needs the accounts
    _demo_office(ws)
    _demo_notice(ws)
    _demo_complaint(ws)
    _demo_labour(ws)
    click.echo((county / "profile.md").read_text(encoding="utf-8"))
    if then_serve:
        serve_demo(ctx, accounts_shown=True)


def _demo_score(ws: Workspace) -> None:
    """Score the demo lake and show what an auditor would open first."""
    run = run_score(ws)
    f = run.findings()
    m = run.manifest
    click.echo(
        f"score: run {run.run_id}: {f.height:,} findings (疑点), {money(m['amount_at_risk'])} at "
        f"risk, {len(m['rules'])} rules, {len(m['failed_rules'])} failed"
    )
    top = (
        f.group_by("rule_name")
        .agg(n=pl.len(), amount=pl.col("amount_at_risk").sum())
        .sort("amount", descending=True)
        .head(8)
    )
    for r in top.iter_rows(named=True):
        click.echo(f"  {r['rule_name']}: {r['n']:,} 条, {money(r['amount'])}")
    lead = f.sort("amount_at_risk", "finding_id", descending=[True, False]).row(0, named=True)
    click.echo(f"  例 / e.g. [{lead['severity_zh']}] {lead['rule_name']}: {lead['evidence']}")


def _demo_bureau(ws: Workspace) -> None:
    """Fill the bureau's other supervision registers (监管事项) with a synthetic year of
    plans, inspections, rectifications and sanctions — once: a demo run again keeps them."""
    with open_store(ws) as store:
        if store.query("SELECT count(*) FROM register_entity")[0][0]:
            click.echo("registers (监管事项): already filled, kept")
            return
        s = synth_bureau(store, ws, by="demo")
    click.echo(
        f"registers (监管事项): {s.entities} entities, {s.plans} plans, {s.inspections} "
        f"inspections, {s.rectifications} rectifications, {s.sanctions} sanctions, "
        f"{s.documents} documents"
    )


DEMO_INSPECTORS = {
    "JC01": "张伟",
    "JC02": "李娜",
    "JC03": "王芳",
    "JC04": "刘洋",
    "JC05": "陈静",
    "JC06": "杨帆",
}
DEMO_GROUPS = {
    "G1": ("第一检查组", ("JC01", "JC02", "JC03")),
    "G2": ("第二检查组", ("JC04", "JC05", "JC06")),
}
DEMO_ROUND = "演示：第一轮双随机检查"
SUPERVISOR = "demo"
"""The demo's supervisor (审核负责人): plans the round, decides 复审, issues the notice."""
REVIEWER = "reviewer"
"""The demo's reviewer (审核员), who records the 初审 (an account of serve's DEMO_ACCOUNTS)."""


def _demo_office(ws: Workspace) -> None:
    """Set up the inspection office as the dashboard's rounds page expects it: zones synced
    from the lake, six inspectors in two groups, one conflict of interest, and one round
    drawn (top 3 by risk, 2 at random, a fixed seed) — once: a demo run again keeps them.
    Done by the ``demo`` supervisor, with the functions the dashboard and the command line
    call."""
    by = SUPERVISOR
    with open_store(ws) as store:
        if store.query("SELECT count(*) FROM inspection_round")[0][0]:
            click.echo("inspection office (检查轮次): already set up, kept")
            return
        zones = registry.sync_zones(store, ws.lake, by=by)
        known = set(registry.inspectors(store)["inspector_code"].to_list())
        for code, name in DEMO_INSPECTORS.items():
            if code not in known:
                registry.add_inspector(store, code, name, by=by)
        formed = set(registry.groups(store)["group_code"].to_list())
        for code, (name, members) in DEMO_GROUPS.items():
            if code not in formed:
                registry.add_group(store, code, name, members, by=by)
        places = registry.institutions(store)
        if registry.conflicts(store).is_empty() and not places.is_empty():
            registry.add_conflict(
                store, "JC01", places.item(0, "fixmedins_code"), "配偶在该机构任职", by=by
            )
        top = min(3, _institutions_with_findings(ws))
        rnd = plan_round(
            store,
            ws,
            name=DEMO_ROUND,
            top=top,
            n_random=min(2, max(places.height - top, 0)),
            by=by,
            seed=20250101,
        )
    click.echo(
        f"inspection office (检查轮次): {zones.zones} zones, {len(DEMO_INSPECTORS)} inspectors "
        f"in {len(DEMO_GROUPS)} groups, 1 conflict; round {rnd.round_id} {rnd.name}: "
        f"{rnd.targets.height} institutions"
    )


def _institutions_with_findings(ws: Workspace) -> int:
    """How many institutions the latest run found anything at."""
    return open_run(ws).findings()["fixmedins_code"].n_unique()


NOTICE_LEADS = 3
"""Leads confirmed for the demo's notice: its institution's most severe, one per rule, so
the notice shows as many items."""
ONSITE_FACTS = "现场调阅相关病历、医嘱、收费明细及票据，核实数据筛查发现的问题属实。"
COMPLAINT_TEXT = (
    "来电反映：该定点医药机构为参保人多记、虚记诊疗项目费用，参保人本人未接受相关诊疗，请求核查。"
)


def _demo_notice(ws: Workspace) -> None:
    """Issue one violation notice (现场监督检查违约通知单) as the office would after
    visiting the round's first institution with leads: its most severe leads confirmed at
    初审 by the reviewer and at 复审 by the supervisor, the items drafted from them as the
    dashboard drafts them, the agreement number from the register, the round's group as
    inspectors — once: a demo run again keeps it."""
    with open_store(ws) as store:
        if store.query("SELECT count(*) FROM notice")[0][0]:
            click.echo("violation notice (违约通知单): already issued, kept")
            return
        listed = rounds(store)
        if listed.is_empty():
            click.echo("violation notice (违约通知单): no inspection round, none drafted")
            return
        rnd = load_round(store, listed.item(0, "round_id"))
        leads = _worst_undecided(store, ws, rnd.targets["fixmedins_code"].to_list())
        if leads.is_empty():
            click.echo(
                "violation notice (违约通知单): no undecided lead in the round, none drafted"
            )
            return
        code = leads.item(0, "fixmedins_code")
        target = rnd.targets.filter(pl.col("fixmedins_code") == code).row(0, named=True)
        ids, snapshot = (
            leads["finding_id"].to_list(),
            {r["finding_id"]: r for r in leads.to_dicts()},
        )
        for step, by in (("first_review", REVIEWER), ("second_review", SUPERVISOR)):
            reason = "病历及收费明细核实，违规属实" if step == "first_review" else "同意初审意见"
            decide(
                store, ids, step=step, decision="confirmed", reason=reason, by=by, leads=snapshot
            )
        items = rule_items(decided_leads(store, ws, ids), catalogue_of(ws))
        today = date.today()
        name, agreement = register_entry(ws.lake, code, today)
        members = group_members(store, [target["group_code"]])[target["group_code"]]
        content = NoticeContent(
            fixmedins_code=code,
            fixmedins_name=name or target["fixmedins_name"] or "",
            agreement_no=agreement,
            inspection_date=today.isoformat(),
            inspectors=tuple(m.split(" ", 1)[-1] for m in members),
            onsite_facts=ONSITE_FACTS,
            items=items,
            requirements=DEFAULT_REQUIREMENTS,
            rectify_days=DEFAULT_RECTIFY_DAYS,
            issuing_unit=DEFAULT_UNIT,
            round_ref=rnd.name,
            findings=tuple(ids),
        )
        issued = issue(store, create(store, content, by=SUPERVISOR), ws, by=SUPERVISOR)
    click.echo(
        f"violation notice (违约通知单): {issued.number} issued to {code} {content.fixmedins_name}"
        f" (协议 {agreement or '—'}), {len(items)} item(s), {money(content.total_involved)}; "
        f"{len(ids)} leads confirmed (初审 {REVIEWER}, 复审 {SUPERVISOR})"
    )


def _worst_undecided(store: CaseStore, ws: Workspace, codes: list[str]) -> pl.DataFrame:
    """The most severe lead (then the largest) of each rule at the first institution of
    ``codes`` the latest run has undecided leads on, for :data:`NOTICE_LEADS` rules."""
    decided = [f for (f,) in store.query("SELECT DISTINCT finding_id FROM review_decision")]
    found = (
        open_run(ws)
        .findings()
        .filter(pl.col("fixmedins_code").is_in(codes), ~pl.col("finding_id").is_in(decided))
    )
    if found.is_empty():
        return found
    with_leads = set(found["fixmedins_code"])
    first = next(c for c in codes if c in with_leads)
    return (
        found.filter(pl.col("fixmedins_code") == first)
        .with_columns(rank=pl.col("severity").replace_strict(SEVERITY_RANK, default=0))
        .sort(["rank", "amount_at_risk", "finding_id"], descending=[True, True, False])
        .unique("rule_id", keep="first", maintain_order=True)
        .head(NOTICE_LEADS)
        .drop("rank")
    )


def _demo_complaint(ws: Workspace) -> None:
    """Register one complaint (举报) as the office would take it by telephone — against the
    institution and the patient with the most at risk in the latest run — and run its
    targeted data check, so the complaints page has one open with results — once."""
    with open_store(ws) as store:
        if store.query("SELECT count(*) FROM complaint")[0][0]:
            click.echo("complaint (举报投诉): already registered, kept")
            return
        pairs = (
            open_run(ws)
            .findings()
            .filter(pl.col("psn_no").is_not_null(), pl.col("fixmedins_code").is_not_null())
            .group_by("fixmedins_code", "psn_no")
            .agg(amount=pl.col("amount_at_risk").sum())
            .sort(["amount", "fixmedins_code", "psn_no"], descending=[True, False, False])
        )
        if pairs.is_empty():
            click.echo("complaint (举报投诉): no lead names a patient, none registered")
            return
        code, person = pairs.item(0, "fixmedins_code"), pairs.item(0, "psn_no")
        number = register_complaint(
            store,
            received_on=date.today(),
            source="phone",
            content=COMPLAINT_TEXT,
            by=SUPERVISOR,
            institutions=[code],
            persons=[person],
        )
        check = run_check(store, ws, number, by=SUPERVISOR)
    settlements = int(check.activity["n_settlements"].sum())
    click.echo(
        f"complaint (举报投诉): {number} against {code} and one of its patients, checked "
        f"{check.date_from} to {check.date_to}: {settlements:,} settlements, "
        f"{check.leads.height:,} leads"
    )


LABOUR_KINDS = {"10": "enterprise", "70": "individual", "60": "private_non_enterprise",
                "30": "state_organ", "50": "institution", "55": "institution"}  # fmt: skip
"""The enrolment files' 单位类型 (emp_type) → a labour case's kind of employer."""
LABOUR_EMPLOYERS = (
    ("91130123MA0DEMO01X", "县宏达建筑劳务有限公司", "enterprise"),
    ("92130123MA0DEMO02Y", "县城关镇张记餐馆", "individual"),
    ("91130123MA0DEMO03K", "县鑫源服装加工厂", "enterprise"),
)
"""Employers of the demo's labour cases when the lake holds no enrolment employers."""


def _labour_employers(ws: Workspace) -> tuple[list[tuple[str, str, str]], str]:
    """Three employers for the demo's labour cases: the lake's enrolment employers (an
    enterprise, an individual business, an enterprise, by number) if it has them, else
    :data:`LABOUR_EMPLOYERS`; and where they came from."""
    con = ws.lake.connect()
    try:
        rows = con.execute(
            "SELECT emp_no, emp_name, emp_type FROM employer WHERE emp_type IN ('10', '70') "
            "ORDER BY emp_no"
        ).fetchall()
    finally:
        con.close()
    individual = [r for r in rows if r[2] == "70"][:1]
    enterprises = [r for r in rows if r[2] == "10"][:2]
    if not individual or len(enterprises) < 2:
        return list(LABOUR_EMPLOYERS), "fixed names"
    picked = [enterprises[0], individual[0], enterprises[1]]
    return [(code, name, LABOUR_KINDS[kind]) for code, name, kind in picked], "lake employers"


LABOUR_AMOUNTS = {"back_wages": "86,400.00", "contributions": "12,960.50"}


def _demo_labour(ws: Workspace) -> None:
    """Three labour-inspection cases (劳动保障监察) at different steps, taken through the
    library's actions by the demo's reviewer (承办人) and supervisor (负责人) on days of 2026:
    one closed with the amounts ordered paid, one whose party asked for a hearing (its time
    to conclude runs into 2027, provisional until the calendar holds 2027), one just
    registered — once: a demo run again keeps them."""
    with open_store(ws) as store:
        if store.query("SELECT count(*) FROM labour_case")[0][0]:
            click.echo("labour cases (劳动保障监察): already registered, kept")
            return
        employers, origin = _labour_employers(ws)
        _labour_closed(store, ws, employers[0])
        _labour_heard(store, ws, employers[1])
        _labour_case(
            store, ws, employers[2], date(2026, 12, 4), "report_review", ["social_insurance"],
            "书面审查发现该单位申报的参保人数少于工资表人数。",
        )  # fmt: skip
        listed = store.query("SELECT case_no, step, path FROM labour_case ORDER BY case_id")
    click.echo(
        f"labour cases (劳动保障监察): {len(listed)} cases ({origin}): "
        + "; ".join(
            f"{no} {STEPS[step][0]}" + ("，已申请听证" if path == "hearing" else "")
            for no, step, path in listed
        )
    )


def _labour_case(
    store: CaseStore,
    ws: Workspace,
    employer: tuple[str, str, str],
    on: date,
    source: str,
    areas: list[str],
    summary: str,
) -> int:
    code, name, kind = employer
    return lc.register_case(
        store, employer_code=code, employer_name=name, employer_kind=kind, source=source,
        areas=areas, summary=summary, by=REVIEWER, on=on, workspace=ws,
    )  # fmt: skip


def _labour_investigated(
    store: CaseStore,
    ws: Workspace,
    case: int,
    days: tuple[date, date, date],
    findings: str,
    facts: str,
) -> None:
    """Checked by the reviewer, filed by the supervisor, investigated by the reviewer."""
    checked, filed, investigated = days
    lc.preliminary_check(store, case, findings=findings, open_case=True, by=REVIEWER,
                         on=checked, workspace=ws)  # fmt: skip
    lc.file_case(store, case, by=SUPERVISOR, on=filed, workspace=ws)
    lc.investigate(store, case, facts=facts, by=REVIEWER, on=investigated, workspace=ws)


def _labour_closed(store: CaseStore, ws: Workspace, employer: tuple[str, str, str]) -> None:
    """Unpaid wages and contributions from a complaint, through all nine steps: paid, closed."""
    h, head, kw = REVIEWER, SUPERVISOR, {"workspace": ws}
    case = _labour_case(
        store, ws, employer, date(2026, 6, 1), "complaint", ["wages", "social_insurance"],
        "职工12人投诉该单位拖欠2026年3月至5月工资，且未为其缴纳社会保险费。",
    )  # fmt: skip
    _labour_investigated(store, ws, case, (date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 10)),
                         "工资表、考勤记录显示欠薪属实。",
                         "查明拖欠12名职工工资86,400元，未缴社会保险费12,960.50元。")  # fmt: skip
    order = "责令支付拖欠工资、补缴社会保险费"
    lc.notify(store, case, kind="advance", proposal=order, amounts=LABOUR_AMOUNTS, by=h,
              on=date(2026, 6, 24), **kw)  # fmt: skip
    lc.statement(store, case, text="对欠薪事实无异议，请求分期支付。", by=h,
                 on=date(2026, 6, 26), **kw)  # fmt: skip
    lc.review(store, case, conclusion="事实清楚，证据确凿，同意拟定处理意见。", by=head,
              on=date(2026, 7, 1), **kw)  # fmt: skip
    lc.decide(store, case, decision=order, amounts=LABOUR_AMOUNTS, by=head,
              on=date(2026, 7, 6), **kw)  # fmt: skip
    for kind, amount in LABOUR_AMOUNTS.items():
        lc.record_payment(store, case, kind=kind, amount=amount, by=h, on=date(2026, 7, 20),
                          reference="银行回单", **kw)  # fmt: skip
    lc.conclude_execution(store, case, how="complied", text="已全部履行", by=head,
                          on=date(2026, 7, 21), **kw)  # fmt: skip
    lc.close_case(store, case, summary="处理决定已履行完毕，结案归档。", by=head,
                  on=date(2026, 7, 24), **kw)  # fmt: skip


def _labour_heard(store: CaseStore, ws: Workspace, employer: tuple[str, str, str]) -> None:
    """Overtime and no written contracts found on patrol: a fine proposed, a hearing asked."""
    summary = "日常巡视检查发现该单位安排职工超时加班，且未与部分职工订立书面劳动合同。"
    case = _labour_case(store, ws, employer, date(2026, 11, 2), "patrol", ["hours", "contracts"],
                        summary)  # fmt: skip
    days = (date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 10))
    _labour_investigated(store, ws, case, days, "排班表显示每日工作12小时。",
                         "查明3名职工未订立书面劳动合同，连续两月每日工作12小时。")  # fmt: skip
    lc.notify(store, case, kind="hearing", proposal="责令改正，并处罚款", amounts={"fine": "20000"},
              by=REVIEWER, on=date(2026, 11, 20), workspace=ws)  # fmt: skip
    lc.request_hearing(store, case, text="当事人书面申请听证", by=REVIEWER,
                       on=date(2026, 11, 23), workspace=ws)  # fmt: skip
