"""``hrss-fraud rounds``: zones, inspectors, groups and conflicts; plan a round, show it,
reproduce its draw for an audit, export each group's list.

Whoever changes something (``--by``, default the login name) must be an enabled account
that may plan inspections (``manage_inspections``, as in the dashboard).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from hrss_fraud.cases import SchemaError, open_store
from hrss_fraud.cases.operators import login_name
from hrss_fraud.cases.store import CaseStore
from hrss_fraud.cli.common import current_workspace, fail, operator, split_list
from hrss_fraud.engine.runs import RunError
from hrss_fraud.inspection.draw import DrawError
from hrss_fraud.inspection.exports import ExportError, export_round
from hrss_fraud.inspection.registry import (
    RegistryError,
    add_conflict,
    add_group,
    add_inspector,
    inspectors,
    set_inspector_active,
    sync_zones,
    zones,
)
from hrss_fraud.inspection.rounds import (
    SOURCES,
    RoundError,
    load_round,
    parse_complaints,
    plan_round,
    reproduce,
    set_status,
)
from hrss_fraud.model.numbers import money

MANAGE = "manage_inspections"
"""The permission every write of this group needs."""


@contextmanager
def _store(ctx: click.Context) -> Iterator[CaseStore]:
    """The workspace's case store; any refusal becomes the one-line failure."""
    try:
        with open_store(current_workspace(ctx)) as store:
            yield store
    except (SchemaError, RegistryError, RoundError, DrawError, ExportError, RunError) as e:
        fail(str(e))


_by = click.option(
    "--by",
    "by",
    default=login_name,
    show_default="login name",
    help="操作人 Who makes the change: an enabled account that may plan inspections.",
)


@click.group("rounds")
def rounds() -> None:
    """现场检查轮次（双随机）。On-site inspection rounds: zones, groups, draws, lists."""


@rounds.group("zones")
def zones_group() -> None:
    """检查区域（乡镇）。Inspection zones (townships)."""


@zones_group.command("sync")
@_by
@click.pass_context
def zones_sync(ctx: click.Context, by: str) -> None:
    """从数据湖机构表同步乡镇与机构。Fill or update zones from the lake's institutions."""
    with _store(ctx) as store:
        done = sync_zones(store, current_workspace(ctx).lake, by=operator(store, by, MANAGE))
    click.echo(
        f"{done.zones} zones, {done.institutions} institutions "
        f"({done.new_institutions} new, {done.moved_institutions} moved zone)"
    )


@zones_group.command("list")
@click.pass_context
def zones_list(ctx: click.Context) -> None:
    """列出乡镇及机构数。Every zone with its number of institutions."""
    with _store(ctx) as store:
        df = zones(store)
    for admdvs, name, n in df.iter_rows():
        click.echo(f"{admdvs}\t{name}\t{n}")


@rounds.group("inspectors")
def inspectors_group() -> None:
    """检查人员。Inspectors."""


@inspectors_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="姓名 Name.")
@_by
@click.pass_context
def inspectors_add(ctx: click.Context, code: str, name: str, by: str) -> None:
    """新增检查人员。Add an inspector."""
    with _store(ctx) as store:
        add_inspector(store, code, name, by=operator(store, by, MANAGE))
    click.echo(f"inspector {code} added")


@inspectors_group.command("list")
@click.pass_context
def inspectors_list(ctx: click.Context) -> None:
    """列出检查人员。Every inspector, active or not, with their groups."""
    with _store(ctx) as store:
        df = inspectors(store)
    if df.is_empty():
        click.echo("尚无检查人员 no inspectors yet: hrss-fraud rounds inspectors add CODE --name N")
    for code, name, active, groups in df.iter_rows():
        state = "在岗 active" if active else "停用 inactive"
        click.echo(f"{code}\t{name}\t{state}\t{groups}")


@inspectors_group.command("disable")
@click.argument("code")
@_by
@click.pass_context
def inspectors_disable(ctx: click.Context, code: str, by: str) -> None:
    """停用检查人员（不删除，以往轮次仍指向此人）。Make an inspector inactive; never deleted."""
    with _store(ctx) as store:
        set_inspector_active(store, code, False, by=operator(store, by, MANAGE))
    click.echo(f"inspector {code} disabled")


@rounds.group("groups")
def groups_group() -> None:
    """检查组。Inspection groups."""


@groups_group.command("add")
@click.argument("code")
@click.option("--name", help="组名 Group name (default: CODE).")
@click.option(
    "--members", required=True, help="组员编号，逗号分隔 Inspector codes, comma-separated."
)
@click.option("--round-name", help="仅用于该轮次 Formed for this round only (default: standing).")
@_by
@click.pass_context
def groups_add(
    ctx: click.Context, code: str, name: str | None, members: str, round_name: str | None, by: str
) -> None:
    """新增检查组。Add a group of inspectors."""
    with _store(ctx) as store:
        actor = operator(store, by, MANAGE)
        add_group(store, code, name or code, split_list(members), by=actor, round_name=round_name)
    click.echo(f"group {code} added")


@rounds.group("conflicts")
def conflicts_group() -> None:
    """利益冲突回避。Conflicts of interest."""


@conflicts_group.command("add")
@click.argument("inspector")
@click.argument("institution")
@click.option("--reason", required=True, help="回避理由 Why the inspector may not inspect it.")
@_by
@click.pass_context
def conflicts_add(
    ctx: click.Context, inspector: str, institution: str, reason: str, by: str
) -> None:
    """登记检查人员与机构的回避关系。Declare an inspector conflicted with an institution."""
    with _store(ctx) as store:
        add_conflict(store, inspector, institution, reason, by=operator(store, by, MANAGE))
    click.echo(f"conflict {inspector} × {institution} recorded")


@rounds.command("plan")
@click.option("--name", required=True, help="轮次名称 Round name, unique.")
@click.option("--top", type=click.IntRange(min=0), required=True, help="重点检查 K riskiest.")
@click.option("--random", "n_random", type=click.IntRange(min=0), required=True, help="随机抽查 N.")
@click.option("--seed", type=click.IntRange(min=0), help="随机种子 Seed (default: a fresh one).")
@click.option(
    "--complaint-institutions",
    default="",
    metavar="CODE[:REF],…",
    help="投诉举报机构 Institutions named by complaints, each with its reference.",
)
@click.option("--groups", default=None, help="参加的检查组 Only these group codes.")
@click.option("--capacity", type=click.IntRange(min=1), help="每组最多机构数 Most per group.")
@click.option("--run", "run_id", help="A run id (default: the latest run).")
@_by
@click.pass_context
def plan(
    ctx: click.Context,
    name: str,
    top: int,
    n_random: int,
    seed: int | None,
    complaint_institutions: str,
    groups: str | None,
    capacity: int | None,
    run_id: str | None,
    by: str,
) -> None:
    """抽取一轮检查对象并分配检查组。Draw a round's targets and assign groups."""
    with _store(ctx) as store:
        rnd = plan_round(
            store,
            current_workspace(ctx),
            name=name,
            top=top,
            n_random=n_random,
            by=operator(store, by, MANAGE),
            seed=seed,
            complaints=parse_complaints(complaint_institutions, default_ref="complaint"),
            groups=None if groups is None else split_list(groups),
            capacity=capacity,
            run_id=run_id,
        )
    click.echo(f"round {rnd.round_id} {rnd.name}: seed {rnd.seed}, run {rnd.run_id}")
    _print_targets(rnd.targets.iter_rows(named=True), click.echo)


def _print_targets(rows: Iterator[dict], echo: Callable[[str], None]) -> None:
    for r in rows:
        echo(
            f"  {r['group_code']}\t{r['fixmedins_code']}\t{r['fixmedins_name']}\t"
            f"{r['zone_name'] or r['admdvs']}\t{SOURCES[r['source']][0]}\t"
            f"{money(r['amount_at_risk'])}"
        )


@rounds.command("show")
@click.argument("round_id", type=int)
@click.pass_context
def show(ctx: click.Context, round_id: int) -> None:
    """显示一轮检查。A round with its targets and groups."""
    with _store(ctx) as store:
        rnd = load_round(store, round_id)
    kinds = ", ".join(f"{k} {v}" for k, v in rnd.kinds.items())
    click.echo(
        f"round {rnd.round_id} {rnd.name} [{rnd.status}] by {rnd.created_by} at "
        f"{rnd.created_at}; run {rnd.run_id}; seed {rnd.seed}; {kinds}"
    )
    _print_targets(rnd.targets.iter_rows(named=True), click.echo)


@rounds.command("status")
@click.argument("round_id", type=int)
@click.argument("status", type=click.Choice(["in_progress", "closed", "cancelled"]))
@click.option("--reason", required=True, help="理由 Why.")
@_by
@click.pass_context
def status_cmd(ctx: click.Context, round_id: int, status: str, reason: str, by: str) -> None:
    """检查中、已结束或取消（取消的轮次不参与轮换）。Move a round on, or cancel it."""
    with _store(ctx) as store:
        set_status(store, round_id, status, by=operator(store, by, MANAGE), reason=reason)
    click.echo(f"round {round_id} {status}")


@rounds.command("reproduce")
@click.argument("round_id", type=int)
@click.pass_context
def reproduce_cmd(ctx: click.Context, round_id: int) -> None:
    """用存档的种子和输入重算抽取并核对。Recompute the draw from its stored seed and inputs."""
    with _store(ctx) as store:
        result = reproduce(store, round_id)
    if not result.ok:
        fail(f"round {round_id} does not reproduce: " + "; ".join(result.problems))
    click.echo(
        f"round {round_id} reproduces: seed {result.seed}, inputs sha256 {result.inputs_sha256}"
    )


@rounds.command("export")
@click.argument("round_id", type=int)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="输出目录 DIR.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def export(ctx: click.Context, round_id: int, out: str, lang: str) -> None:
    """每个检查组一份 Excel 检查清单。One Excel workbook per group of the round."""
    with _store(ctx) as store:
        paths = export_round(store, current_workspace(ctx), round_id, Path(out), lang=lang)
    for p in paths:
        click.echo(str(p))
