"""A synthetic bureau for the demo: entities for every register this engine runs, and the
twelve months of supervision before ``today`` — quarterly random plans, inspections with
some failed items, rectification orders followed up and closed or escalated to a
sanction, a targeted inspection after a complaint, and the documents.

Everything goes through the registers' own functions (the entities through a CSV file
and :func:`~hrss_fraud.registers.entities.import_entities`), so the demo's records are
ones the code would accept from an operator, and the same seed gives the same bureau.
The last plan is recent (its inspections are still due), one target of an earlier plan
is left uninspected (overdue), and a recent order is past its deadline, so every mark
the dashboard shows has something to show.
"""

from __future__ import annotations

import csv
import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hrss_fraud.cases.store import CaseStore
from hrss_fraud.inspection import registry
from hrss_fraud.registers import documents, rectification
from hrss_fraud.registers.definitions import Register, load_registers
from hrss_fraud.registers.entities import FIELDS, add_conflict, import_entities
from hrss_fraud.registers.inspections import ItemResult, record_inspection
from hrss_fraud.registers.plans import draw_plan, load_plan

TOWNSHIPS = ("城关镇", "河西乡", "南山镇", "东关镇", "北坡乡", "柳林镇")
"""Zones used when the workspace has none from the lake (``rounds zones sync``)."""
INSPECTORS = ("周明", "吴芳", "郑伟", "孙丽", "钱坤", "冯静", "陈涛", "褚燕")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("建国", "秀英", "志强", "丽华", "德明", "桂兰", "海涛", "晓燕", "国庆", "春梅")
NAME_PARTS = {
    "hr_agency": (
        ("鑫源", "智联", "众诚", "博才", "华英", "聚贤", "恒信", "汇才"),
        "人力资源服务有限公司",
    ),
    "technical_school": (("县", "县第一", "县第二", "县现代", "县交通", "县农业"), "技工学校"),
    "private_training": (("明德", "启航", "金蓝领", "巧手", "新起点", "远航"), "职业培训学校"),
    "skill_appraisal": (
        ("县", "县职教中心", "县建工", "县电力", "县烹饪", "县汽修"),
        "职业技能鉴定所",
    ),
}
"""Name stems and endings per shipped register; another register's entities get generic names."""
FINDINGS = ("台账记录不完整", "未按规定公示", "相关材料未及时报备", "现场情况与申报不一致")
PLAN_DAYS_AGO = (355, 265, 175, 85, 20)
"""When the plans were drawn, in days before ``today``: quarterly, and a recent one."""


@dataclass(frozen=True)
class BureauSummary:
    entities: int
    plans: int
    inspections: int
    rectifications: int
    sanctions: int
    documents: int


def _zones(store: CaseStore) -> list[str]:
    found = [n for (n,) in store.query("SELECT name FROM inspection_zone ORDER BY admdvs")]
    return found[:6] or list(TOWNSHIPS)


def _staff(store: CaseStore, by: str) -> list[str]:
    """The standing groups with active members; four groups of two made first if none."""
    groups = [
        g
        for (g,) in store.query(
            """SELECT DISTINCT g.group_code FROM inspection_group g
               JOIN inspection_group_member m USING (group_code)
               JOIN inspector i USING (inspector_code)
               WHERE i.active = 1 AND g.round_name IS NULL ORDER BY g.group_code"""
        )
    ]
    if len(groups) >= 3:
        return groups
    known = {c for (c,) in store.query("SELECT inspector_code FROM inspector")}
    for n, name in enumerate(INSPECTORS, start=1):
        if f"JC{n:02d}" not in known:
            registry.add_inspector(store, f"JC{n:02d}", name, by=by)
    for g in range(4):
        code = f"JG{g + 1}"
        members = [f"JC{2 * g + 1:02d}", f"JC{2 * g + 2:02d}"]
        registry.add_group(store, code, f"监管检查第{g + 1}组", members, by=by)
    return _staff(store, by)


def _entity_file(
    reg: Register, n: int, zones: list[str], today: date, rng: random.Random, folder: Path
) -> Path:
    stems, ending = NAME_PARTS.get(reg.code, (("第一", "第二", "第三", "第四"), "单位"))
    path = folder / f"{reg.code}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([FIELDS[f][0] for f in FIELDS])
        for k in range(n):
            start = today - timedelta(days=rng.randint(200, 1400))
            # a few licences run out within the warning window, one has lapsed
            if k % 8 == 3:
                end = today + timedelta(days=rng.randint(5, reg.expiry_warning_days))
            elif k == n - 1:
                end = today - timedelta(days=rng.randint(1, 20))
            else:
                end = start + timedelta(days=365 * 5)
            zone = zones[k % len(zones)]
            w.writerow(
                [
                    f"9113{rng.randrange(10**13):013d}X",
                    f"{zone}{stems[k % len(stems)]}{ending}"
                    + (f"（{k // len(stems) + 1}）" if k >= len(stems) else ""),
                    f"{reg.licence[:2]}字〔{start.year}〕{k + 1:03d}号",
                    "、".join(reg.content)[:60],
                    start.isoformat(),
                    end.isoformat(),
                    f"{zone}人民路{rng.randint(1, 300)}号",
                    zone,
                    rng.choice(SURNAMES) + rng.choice(GIVEN),
                ]
            )
    return path


def _results(reg: Register, rng: random.Random, *, fail: bool = False) -> dict[str, ItemResult]:
    failing = set()
    if fail or rng.random() < 0.4:
        failing = {i.code for i in rng.sample(reg.check_items, k=rng.choice((1, 1, 2)))}
    return {
        i.code: ItemResult("fail", f"{i.text}：{rng.choice(FINDINGS)}")
        if i.code in failing
        else ItemResult("pass")
        for i in reg.check_items
    }


def synth_bureau(
    store: CaseStore,
    workspace: Path,
    *,
    by: str = "demo",
    today: date | None = None,
    seed: int = 19,
    per_register: int = 16,
    max_documents: int = 6,
) -> BureauSummary:
    """Make the bureau (see the module) in ``workspace``'s case store; ``by`` is recorded as
    who did everything (the demo's supervisor). Documents take a second or two each (the
    PDF embeds its CJK font): at most ``max_documents`` are issued, the last of them kept
    for a sanction decision."""
    today = today or date.today()
    rng = random.Random(seed)
    regs = [r for r in load_registers(workspace).values() if r.runs_here]
    groups = _staff(store, by)
    members = {
        g: [
            m
            for (m,) in store.query(
                "SELECT inspector_code FROM inspection_group_member WHERE group_code = ? "
                "ORDER BY inspector_code",
                (g,),
            )
        ]
        for g in groups
    }
    zones = _zones(store)
    counts = dict.fromkeys(("plans", "inspections", "rectifications", "sanctions", "docs"), 0)
    with tempfile.TemporaryDirectory() as tmp:
        for reg in regs:
            import_entities(
                store, _entity_file(reg, per_register, zones, today, rng, Path(tmp)), reg, by=by
            )
    n_entities = store.query("SELECT count(*) FROM register_entity")[0][0]
    for reg in regs:
        codes = [
            c
            for (c,) in store.query(
                "SELECT entity_code FROM register_entity WHERE register = ? ORDER BY entity_code",
                (reg.code,),
            )
        ]
        conflicted = members[groups[0]][0]
        add_conflict(store, reg.code, conflicted, codes[0], "近亲属在该单位任职", by=by)
        for n, days_ago in enumerate(PLAN_DAYS_AGO):
            planned = today - timedelta(days=days_ago)
            complaints = [(codes[1], f"TS-{planned.year}-{n + 1:04d}")] if n == 2 else []
            plan = draw_plan(
                store,
                reg,
                name=f"{planned.year}年{reg.name}双随机抽查第{n + 1}批",
                n_random=3,
                by=by,
                seed=rng.randrange(2**32),
                complaints=complaints,
                planned_on=planned,
            )
            counts["plans"] += 1
            targets = list(load_plan(store, plan.plan_id).targets.iter_rows(named=True))
            if days_ago <= 30:
                continue  # the recent plan: its inspections are still due
            if n == 3:
                targets = targets[1:]  # one target left uninspected: overdue
            for k, t in enumerate(targets):
                on = planned + timedelta(days=rng.randint(5, 40))
                if n == 3 and k == 0:
                    # inspected late in its window and failed: its order's deadline has
                    # just passed today, the follow-up is still to come
                    on = today - timedelta(days=reg.rectify_days + 3)
                iid = record_inspection(
                    store,
                    workspace,
                    reg,
                    entity_code=t["entity_code"],
                    plan_id=plan.plan_id,
                    inspected_on=on,
                    inspectors=members[t["group_code"]],
                    summary="实地查看经营（办学）场所，查阅台账、档案及相关材料，询问有关人员",
                    results=_results(reg, rng, fail=n == 3 and k == 0),
                    by=by,
                    today=today,
                )
                counts["inspections"] += 1
                counts["docs"] += _follow(
                    store, workspace, reg, iid, on, today, rng, by, counts, max_documents
                )
    return BureauSummary(
        n_entities,
        counts["plans"],
        counts["inspections"],
        counts["rectifications"],
        counts["sanctions"],
        counts["docs"],
    )


def _follow(
    store: CaseStore,
    workspace: Path,
    reg: Register,
    iid: int,
    on: date,
    today: date,
    rng: random.Random,
    by: str,
    counts: dict[str, int],
    max_documents: int,
) -> int:
    """What happens after one inspection, as far as ``today`` allows; the documents made."""
    (result,) = store.query(
        "SELECT result FROM register_inspection WHERE inspection_id = ?", (iid,)
    )[0]
    issued = 0
    if result == "pass":
        return issued
    budget = max_documents - counts["docs"]
    if budget > 2:
        documents.issue(store, workspace, reg, "inspection_record", iid, by=by, on=on)
        issued += 1
    ordered = on + timedelta(days=1)
    rid = rectification.order(
        store,
        reg,
        iid,
        requirements="对照检查发现的问题逐项整改，建立健全内部管理制度",
        by=by,
        on=ordered,
    )
    counts["rectifications"] += 1
    if budget > 1:
        documents.issue(store, workspace, reg, "rectification_notice", rid, by=by, on=ordered)
        issued += 1
    due = ordered + timedelta(days=reg.rectify_days)
    if due + timedelta(days=reg.follow_up_days) >= today:
        return issued  # still within its time, or just past its deadline: left open
    fails = rng.random() < 0.35 and any(h.kind != "rectify" for h in reg.handling)
    checked = due + timedelta(days=rng.randint(0, reg.follow_up_days))
    if not fails:
        early = due - timedelta(days=rng.randint(1, 10))
        rectification.follow_up(store, rid, passed=True, text="已按要求整改到位", by=by, on=early)
        rectification.close(store, rid, text="整改完成，予以办结", by=by, on=early)
        return issued
    rectification.follow_up(store, rid, passed=False, text="逾期仍未整改到位", by=by, on=checked)
    option = next(h for h in reg.handling if h.kind != "rectify")
    sid = rectification.sanction(
        store,
        reg,
        rid,
        handling=option.code,
        decision="请被处理单位自收到本决定之日起执行",
        by=by,
        on=checked,
    )
    counts["sanctions"] += 1
    if max_documents - counts["docs"] - issued > 0:
        documents.issue(store, workspace, reg, "sanction_decision", sid, by=by, on=checked)
        issued += 1
    return issued
