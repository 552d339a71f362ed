"""The 监管事项 page's logic: per register its entities (licences expiring), plans, inspections
due and overdue, open rectifications and sanctions, and drawing a plan from a form.

Plain functions of a case store, the workspace and the logged-in user, so the page's
callbacks stay a line or two and tests need no browser. Anyone who may view leads sees
the registers (no person's data is shown: not the legal representatives); drawing a plan
needs ``manage_inspections`` (审核负责人), as on the command line. The work itself is
:mod:`hrss_fraud.registers`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from hrss_fraud.dashboard import context
from hrss_fraud.dashboard.complaints_view import _allow as allow
from hrss_fraud.dashboard.forms import field_name
from hrss_fraud.registers.definitions import ENGINES, CheckItem, Register, load_registers
from hrss_fraud.registers.disclosure import annual_counts
from hrss_fraud.registers.entities import entities
from hrss_fraud.registers.inspections import inspections
from hrss_fraud.registers.plans import SOURCES, Plan, PlanError, draw_plan, due_targets, plans
from hrss_fraud.registers.rectification import STATUSES, rectifications, sanction_label

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.cases.users import User

VIEW = "view_leads"
MANAGE = "manage_inspections"
PLAN_STATUSES = {
    "planned": ("已计划", "planned"),
    "closed": ("已结束", "closed"),
    "cancelled": ("已取消", "cancelled"),
}
RESULTS = {"pass": ("未发现问题", "passed"), "fail": ("发现问题", "failed")}

OVERVIEW_COLUMNS = (
    "register_name",
    "entities",
    "expiring",
    "plans",
    "inspected",
    "due",
    "overdue",
    "open",
    "past_deadline",
    "sanctions",
)
ENTITY_COLUMNS = ("entity_code", "name", "zone", "licence_no", "valid_to", "licence_state")
PLAN_COLUMNS = (
    "plan_id",
    "name",
    "planned_on",
    "due_date",
    "status_label",
    "n_targets",
    "n_inspected",
)
DUE_COLUMNS = ("plan_name", "entity_code", "name", "zone", "group_code", "due_date", "due_state")
INSPECTION_COLUMNS = (
    "inspection_id",
    "entity_code",
    "name",
    "inspected_on",
    "source_label",
    "result_label",
    "n_failed",
)
RECT_COLUMNS = (
    "rectification_id",
    "entity_code",
    "name",
    "ordered_on",
    "due_date",
    "follow_up_due",
    "status_label",
    "marks",
    "sanction_label",
)
LABELS: dict[str, tuple[str, str]] = {
    "register_name": ("监管事项", "register"),
    "entities": ("监管对象", "entities"),
    "expiring": ("许可证60日内到期", "licences expiring"),
    "plans": ("抽查计划", "plans"),
    "inspected": ("本年检查", "inspected this year"),
    "due": ("待检查", "due"),
    "overdue": ("逾期未检查", "overdue"),
    "open": ("整改中", "being rectified"),
    "past_deadline": ("逾期未整改", "past deadline"),
    "sanctions": ("处理决定", "sanctions"),
    "entity_code": ("统一社会信用代码", "entity code"),
    "name": ("名称", "name"),
    "zone": ("乡镇", "zone"),
    "licence_no": ("许可证编号", "licence"),
    "valid_to": ("有效期至", "valid to"),
    "licence_state": ("许可证状态", "licence"),
    "plan_id": ("编号", "id"),
    "planned_on": ("抽取日期", "drawn on"),
    "due_date": ("应检日期", "due by"),
    "status_label": ("状态", "status"),
    "n_targets": ("检查对象", "targets"),
    "n_inspected": ("已检查", "inspected"),
    "plan_name": ("抽查计划", "plan"),
    "group_code": ("检查组", "group"),
    "due_state": ("提示", "mark"),
    "inspection_id": ("编号", "id"),
    "inspected_on": ("检查日期", "inspected on"),
    "source_label": ("检查方式", "how chosen"),
    "result_label": ("检查结果", "result"),
    "n_failed": ("不合格项", "failed items"),
    "rectification_id": ("编号", "id"),
    "ordered_on": ("责令日期", "ordered on"),
    "follow_up_due": ("复查期限", "follow up by"),
    "marks": ("逾期提示", "overdue marks"),
    "sanction_label": ("处理决定", "sanction"),
}


@dataclass(frozen=True)
class RegisterDetail:
    register: Register
    entities: pl.DataFrame
    plans: pl.DataFrame
    due: pl.DataFrame
    inspections: pl.DataFrame
    rectifications: pl.DataFrame


def _i(lang: str) -> int:
    return 1 if lang == "en" else 0


def register_options(workspace: Path, lang: str = "zh") -> list[dict[str, str]]:
    """Every register as a dropdown option, its name in ``lang``."""
    return [
        {"label": r.name_en if lang == "en" else r.name, "value": c}
        for c, r in load_registers(workspace).items()
    ]


def overview(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    *,
    today: date | None = None,
    lang: str = "zh",
) -> pl.DataFrame:
    """One row per register run here, named in ``lang``: entities, expiring licences, the
    year's plans and inspections, targets due and overdue, orders open and past their
    deadline, sanctions."""
    allow(user, VIEW, "查看监管事项", "view the supervision registers")
    day = today or date.today()
    regs = load_registers(workspace)
    counts = annual_counts(store, regs, year=day.year, today=day)
    due = due_targets(store, today=day)
    rect = rectifications(store, today=day)
    n_due = dict(due.group_by("register").len().iter_rows())
    n_overdue = dict(due.filter("overdue").group_by("register").len().iter_rows())
    n_past = dict(rect.filter("past_deadline").group_by("register").len().iter_rows())
    n_open = dict(rect.filter(status="open").group_by("register").len().iter_rows())
    names = {c: r.name_en if lang == "en" else r.name for c, r in regs.items()}
    return counts.select(
        "register",
        pl.col("register").replace_strict(names, return_dtype=pl.String).alias("register_name"),
        "entities",
        "expiring",
        "plans",
        inspected=pl.col("random") + pl.col("targeted"),
        due=pl.col("register").replace_strict(n_due, default=0, return_dtype=pl.Int64),
        overdue=pl.col("register").replace_strict(n_overdue, default=0, return_dtype=pl.Int64),
        open=pl.col("register").replace_strict(n_open, default=0, return_dtype=pl.Int64),
        past_deadline=pl.col("register").replace_strict(n_past, default=0, return_dtype=pl.Int64),
        sanctions=pl.sum_horizontal(pl.col("^sanction_.*$")),
    )


def detail(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    code: str,
    *,
    lang: str = "zh",
    today: date | None = None,
) -> RegisterDetail:
    """One register's tables, labelled in ``lang``; :class:`PlanError` for an unknown code."""
    allow(user, VIEW, "查看监管事项", "view the supervision registers")
    regs = load_registers(workspace)
    if code not in regs:
        msg = f"无此监管事项 no register {code!r}"
        raise PlanError(msg)
    reg, i, day = regs[code], _i(lang), today or date.today()
    ents = entities(store, reg, today=day).with_columns(
        licence_state=pl.when("expired")
        .then(pl.lit(("已过期", "expired")[i]))
        .when("expiring")
        .then(pl.lit(("即将到期", "expiring")[i]))
        .otherwise(pl.lit(""))
    )
    pl_ = plans(store, code).with_columns(
        status_label=pl.col("status").replace_strict({k: v[i] for k, v in PLAN_STATUSES.items()})
    )
    due = due_targets(store, code, today=day).with_columns(
        due_state=pl.when("overdue").then(pl.lit(("逾期", "overdue")[i])).otherwise(pl.lit(""))
    )
    insp = inspections(store, code).with_columns(
        source_label=pl.col("source").replace_strict({k: v[i] for k, v in SOURCES.items()}),
        result_label=pl.col("result").replace_strict({k: v[i] for k, v in RESULTS.items()}),
    )
    rect = rectifications(store, code, today=day)
    rect = rect.with_columns(
        status_label=pl.col("status").replace_strict({k: v[i] for k, v in STATUSES.items()}),
        marks=pl.concat_str(
            pl.when("past_deadline").then(pl.lit(("逾期未整改", "past deadline")[i])),
            pl.when("follow_up_overdue").then(pl.lit(("复查逾期", "follow-up overdue")[i])),
            separator=" ",
            ignore_nulls=True,
        ),
        sanction_label=pl.col("sanction").map_elements(
            lambda k: sanction_label(k, lang), return_dtype=pl.String
        ),
    )
    return RegisterDetail(reg, ents, pl_, due, insp, rect)


def engine_text(reg: Register, lang: str = "zh") -> str:
    return ENGINES[reg.engine][_i(lang)]


def check_item_text(item: CheckItem, lang: str = "zh") -> str:
    """A check item with its legal basis; in English the laws keep their Chinese titles
    (in 《》, as cited), the punctuation around them is English."""
    if lang == "en":
        return f"{item.code} {item.text_en} ({item.basis.replace('；', '; ')})"
    return f"{item.code} {item.text}（{item.basis}）"


def draw_from_form(
    store: CaseStore,
    workspace: Path,
    user: User | None,
    *,
    code: str | None,
    name: str | None,
    n_random: str | int | None,
    seed: str | int | None = None,
    lang: str = "zh",
) -> Plan:
    """Draw and record a plan of register ``code`` from the form, as the logged-in user;
    an empty name or a number that is not one is refused in ``lang`` naming the field."""
    user = allow(user, MANAGE, "抽取抽查计划", "draw inspection plans")
    regs = load_registers(workspace)
    if not code or code not in regs:
        msg = "请选择监管事项 (choose a register)"
        raise PlanError(msg)
    if not (name or "").strip():
        label = context.text("registers.plan_name", lang)
        raise PlanError(context.text("registers.fill_in", lang, field=label))
    seed_text = str(seed).strip() if seed is not None else ""
    return draw_plan(
        store,
        regs[code],
        name=str(name).strip(),
        n_random=_whole(n_random, "registers.random_n", lang),
        seed=_whole(seed_text, "registers.seed_optional", lang) if seed_text else None,
        by=user.username,
    )


def _whole(text: str | int | None, key: str, lang: str) -> int:
    """A whole number of 0 or more typed into the field labelled ``key``."""
    typed = str(text if text is not None else "").strip()
    if typed.isdigit():
        return int(typed)
    field = field_name(context.text(key, lang))
    raise PlanError(context.text("registers.not_whole_number", lang, field=field, value=typed))
