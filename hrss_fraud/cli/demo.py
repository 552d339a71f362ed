"""``hrss-fraud demo``: a sample county end to end, then the dashboard."""

from __future__ import annotations

import click
import polars as pl

from hrss_fraud.cases import open_store
from hrss_fraud.cli.common import current_workspace
from hrss_fraud.cli.serve import serve_demo
from hrss_fraud.cli.synth import synth
from hrss_fraud.engine.runs import open_run
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.ingest.pipeline import ingest as run_ingest
from hrss_fraud.ingest.quality import add_quality_views
from hrss_fraud.inspection import registry
from hrss_fraud.inspection.rounds import plan_round
from hrss_fraud.model.numbers import money
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
    """Generate a sample county, ingest and score it, report on it, then serve the dashboard
    with a demo account (supervisor) and an auditor account (masked identities)."""
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
    result = run_ingest(lake, [county / "reference", county / "uploads"])
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
    _demo_office(ws)
    click.echo((county / "profile.md").read_text(encoding="utf-8"))
    if then_serve:
        serve_demo(ctx)


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


def _demo_office(ws: Workspace) -> None:
    """Set up the inspection office as the dashboard's rounds page expects it: zones synced
    from the lake, six inspectors in two groups, one conflict of interest, and one round
    drawn (top 3 by risk, 2 at random, a fixed seed) — once: a demo run again keeps them.
    Done by the ``demo`` supervisor, with the functions the dashboard and the command line
    call."""
    by = "demo"
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
