"""The ``hrss-fraud`` command. Each subcommand exits non-zero with a one-line reason on
failure and writes nothing partial.

Two things hold for every subcommand, so they are set once here, at the entry: the
process umask is 077 while the command runs, so whatever it creates — the case store,
the lake's Parquet and quarantine files, runs, exports, backups, the dashboard's files
when ``serve`` runs — is readable by the service account only (0600 files, 0700
folders; the library writers set those modes explicitly too, see
:mod:`hrss_fraud.lake.fsutil`); and a case store that another process keeps locked
beyond the busy timeout ends the command with one line, never a traceback
(:mod:`hrss_fraud.cases.busy`).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hrss_fraud import workspace
from hrss_fraud.cli.lists import split_list
from hrss_fraud.model.schema import TABLES

TABLE_NAMES = set(TABLES)


class Fail(click.ClickException):
    """A one-line reason on standard error, exit status 1."""

    def show(self, file: object = None) -> None:
        click.echo(f"hrss-fraud: error: {self.format_message()}", err=True)


class _Main(click.Group):
    """The root group: whatever subcommand runs, a case store still locked by another
    writer after the busy timeout becomes the one-line :class:`Fail`."""

    def invoke(self, ctx: click.Context) -> Any:
        from hrss_fraud.cases.busy import busy_message, is_busy

        try:
            return super().invoke(ctx)
        except sqlite3.OperationalError as e:
            if is_busy(e):
                raise Fail(busy_message()) from None
            raise


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    "workspace_dir",
    type=click.Path(file_okay=False),
    help="Workspace folder (default: $HRSS_FRAUD_HOME or ./workspace).",
)
@click.pass_context
def main(ctx: click.Context, workspace_dir: str | None) -> None:
    """hrss_fraud — 医保基金监管: supervise the claims a county's institutions upload."""
    from hrss_fraud.lake.fsutil import PRIVATE_UMASK

    previous = os.umask(PRIVATE_UMASK)  # personal data: nothing created is for others
    ctx.call_on_close(lambda: os.umask(previous))
    ctx.obj = {"workspace": workspace.resolve(workspace_dir)}


def _scheme_rates(values: tuple[str, ...]) -> dict[str, float]:
    from hrss_fraud.synth.schemes import SCHEMES

    rates: dict[str, float] = {}
    for v in values:
        name, sep, number = v.partition("=")
        if not sep or name not in SCHEMES:
            msg = (
                f"--scheme-rate {v!r}: expected NAME=RATE with NAME one of "
                f"{', '.join(sorted(SCHEMES))}"
            )
            raise Fail(msg)
        try:
            rates[name] = float(number)
        except ValueError:
            msg = f"--scheme-rate {v!r}: {number!r} is not a number"
            raise Fail(msg) from None
        if not 0 <= rates[name] <= 1:
            msg = f"--scheme-rate {v!r}: the rate must be between 0 and 1"
            raise Fail(msg)
    return rates


@main.command()
@click.option(
    "--preset",
    type=click.Choice(["tiny", "small", "county-year"]),
    default="tiny",
    show_default=True,
    help="A named size; the options below override it.",
)
@click.option("--persons", type=int, help="Number of insured persons.")
@click.option("--months", type=int, help="Number of months to generate.")
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m"]),
    help="First month (YYYY-MM or YYYY-MM-01). Default 2025-01.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--fraud-rate", type=float, help="Share of institutions that commit fraud.")
@click.option(
    "--scheme-rate",
    multiple=True,
    metavar="NAME=RATE",
    help="Override one scheme's rate; repeatable. See --list-schemes.",
)
@click.option(
    "--out", type=click.Path(file_okay=False), help="Output folder (default: WORKSPACE/synth)."
)
@click.option("--no-malformed", is_flag=True, help="Do not write the malformed test files.")
@click.option("--list-schemes", is_flag=True, help="List the injectable schemes and exit.")
@click.option("--quiet", is_flag=True)
@click.pass_context
def synth(
    ctx: click.Context,
    preset: str,
    persons: int | None,
    months: int | None,
    start: object,
    seed: int,
    fraud_rate: float | None,
    scheme_rate: tuple[str, ...],
    out: str | None,
    no_malformed: bool,
    list_schemes: bool,
    quiet: bool,
) -> None:
    """Generate a synthetic county: uploads, reference tables and the truth kept apart."""
    from hrss_fraud.synth.config import SynthConfig
    from hrss_fraud.synth.generate import generate
    from hrss_fraud.synth.profile import write_profile
    from hrss_fraud.synth.schemes import SCHEMES

    if list_schemes:
        for s in SCHEMES.values():
            click.echo(
                f"{s.name:26} {s.family:6} {s.driver:11} {s.entity:11} rate={s.rate:<7} {s.zh}"
            )
        return
    target = Path(out) if out else ctx.obj["workspace"] / "synth"
    try:
        cfg = SynthConfig.preset(
            preset,
            out=target,
            persons=persons,
            months=months,
            seed=seed,
            fraud_rate=fraud_rate,
            scheme_rates=_scheme_rates(scheme_rate),
            start=start.date().replace(day=1) if start else None,  # type: ignore[attr-defined]
            malformed=not no_malformed,
        )
    except ValueError as exc:
        raise Fail(str(exc)) from None
    say = (lambda _m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        summary = generate(cfg, progress=say)
        write_profile(summary.out)
    except OSError as exc:
        raise Fail(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(
        f"wrote {summary.out}: {summary.institutions} institutions, {summary.persons} persons, "
        f"{summary.settlements} settlements, {summary.fee_lines} fee lines in "
        f"{summary.files} files ({summary.seconds} s)"
    )


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--inbox",
    type=click.Path(file_okay=False, path_type=Path),
    help="Take every file in this folder; move each to archive/ or rejected/.",
)
@click.option("--layout", help="Force a layout (see ingest/layouts) instead of detecting it.")
@click.option(
    "--table",
    type=click.Choice(sorted(TABLE_NAMES)),
    help="Force the table instead of detecting it from the header.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--strict",
    is_flag=True,
    help="Reject a file with a column the data model does not use (default: set it aside, "
    "keep it with each row and name it in the report).",
)
@click.option(
    "--retry-quarantine",
    is_flag=True,
    help="Re-check the rows held for an unknown institution, person or settlement and "
    "release those now known (done anyway after loading a register); PATH... optional.",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    inbox: Path | None,
    layout: str | None,
    table: str | None,
    as_json: bool,
    quiet: bool,
    strict: bool,
    retry_quarantine: bool,
) -> None:
    """Load uploads (files or folders) into the claims lake; bad rows go to quarantine."""
    import json

    from hrss_fraud.ingest import inbox as inbox_mod
    from hrss_fraud.ingest.pipeline import expand
    from hrss_fraud.ingest.pipeline import ingest as run_ingest
    from hrss_fraud.ingest.summary import text_lines
    from hrss_fraud.lake import Lake, LakeLockedError

    if not paths and inbox is None and not retry_quarantine:
        raise Fail("give PATH... to ingest, or --inbox DIR, or --retry-quarantine")
    if inbox is not None and not inbox.is_dir():
        raise Fail(f"--inbox {inbox}: no such folder")
    refused = []
    targets = expand(list(paths))
    if inbox is not None:
        waiting, refused = inbox_mod.inbox_files(inbox)
        targets += waiting
    lake = Lake(ctx.obj["workspace"] / "lake")
    bar = None
    if not (quiet or as_json):
        from tqdm import tqdm

        bar = tqdm(total=len(targets), unit="file", desc="ingest", file=sys.stderr)
    try:
        from hrss_fraud.ingest.layouts import load_layouts
        from hrss_fraud.resources import policy_dir

        layouts = load_layouts(policy_dir("ingest", ctx.obj["workspace"]))
        result = run_ingest(
            lake,
            targets,
            layouts=layouts,
            layout=layout,
            table=table,
            progress=(lambda _r: bar.update(1)) if bar else None,
            strict=strict,
            retry_quarantine=retry_quarantine,
        )
    except LakeLockedError as exc:
        raise Fail(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise Fail(str(exc)) from None
    finally:
        if bar:
            bar.close()
    result.files[:0] = refused
    if inbox is not None:
        inbox_mod.file_away(inbox, result)
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        for w in summary["warnings"]:  # and loudly where a person reads
            click.echo(f"{w['zh']}\n{w['en']}", err=True)
    else:
        for line in text_lines(summary, result.batches):
            click.echo(line)
    for f in result.rejected:
        click.echo(f"hrss-fraud: rejected: {f.error}", err=True)
    if result.rejected:
        sys.exit(1)


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def profile(folder: str) -> None:
    """Write the profile report (profile.md) of a generated county."""
    from hrss_fraud.synth.profile import write_profile

    path = write_profile(Path(folder))
    click.echo(f"wrote {path}")


@main.command()
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
    from hrss_fraud.ingest.pipeline import ingest as run_ingest
    from hrss_fraud.ingest.quality import add_quality_views
    from hrss_fraud.lake import Lake

    ws = ctx.obj["workspace"]
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
    lake = Lake(ws / "lake")
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
    click.echo(f"lake {lake.root}: {fee} fee lines, ¥{amount:,.2f}")
    worst = con.execute(
        "SELECT fixmedins_name, round(missing_dise_codg, 2) FROM dq_institution "
        "WHERE settlements > 0 ORDER BY missing_dise_codg DESC LIMIT 3"
    ).fetchall()
    click.echo("most diagnoses missing (数据质量): " + "; ".join(f"{n} {v:.0%}" for n, v in worst))
    _demo_score(ws)
    _demo_bureau(ws)
    click.echo((county / "profile.md").read_text(encoding="utf-8"))
    if then_serve:
        from hrss_fraud.cli.serve import serve_demo

        serve_demo(ctx)


@main.command()
@click.option("--rules", "rule_ids", help="Comma-separated rule ids (default: every rule).")
@click.option(
    "--family",
    "families",
    help="Comma-separated rule families, e.g. statistical (the detectors); with --rules, both.",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Re-score only what batches since the latest run can change (full if the rules, "
    "parameters or knowledge changed).",
)
@click.option("--memory-limit", default="6GB", show_default=True, help="DuckDB memory limit.")
@click.option("--quiet", is_flag=True, help="No per-rule progress.")
@click.pass_context
def score(
    ctx: click.Context,
    rule_ids: str | None,
    families: str | None,
    incremental: bool,
    memory_limit: str,
    quiet: bool,
) -> None:
    """Run the rule catalogue over the lake and publish the findings as the latest run."""
    from hrss_fraud.engine.catalogue import CatalogueError, load_catalogue
    from hrss_fraud.engine.runs import RunError
    from hrss_fraud.scoring.score import score as run_score

    ids = split_list(rule_ids) or None
    try:
        if families:
            wanted = set(split_list(families))
            rules = load_catalogue(workspace=ctx.obj["workspace"]).rules.values()
            known = {r.family for r in rules}
            if wanted - known:
                msg = (
                    f"unknown rule family: {', '.join(sorted(wanted - known))}; "
                    f"known: {', '.join(sorted(known))}"
                )
                raise CatalogueError(msg)
            ids = list(dict.fromkeys([*(ids or []), *(r.id for r in rules if r.family in wanted)]))
        run = run_score(
            ctx.obj["workspace"],
            rule_ids=ids,
            incremental=incremental,
            progress=not quiet,
            memory_limit=memory_limit,
        )
    except (CatalogueError, RunError, ValueError) as e:
        raise Fail(str(e)) from None
    m = run.manifest
    inactive = m.get("inactive_rules", [])
    click.echo(
        f"run {run.run_id}: {m['findings']:,} findings in {m.get('cases', 0):,} cases, amount at "
        f"risk ¥{m['amount_at_risk']:,.2f}; {m.get('quality_findings', 0):,} data-quality "
        f"findings ({len(m['rules'])} rules, {len(m['failed_rules'])} failed, "
        f"{len(inactive)} inactive)"
    )
    for r in m["rules"]:
        if r["status"] == "inactive":
            click.echo(f"  rule {r['rule_id']} {r['reason']}")
    if m["failed_rules"]:
        for r in m["rules"]:
            if r["status"] == "failed":
                click.echo(f"  rule {r['rule_id']} failed: {r['error']}", err=True)
        sys.exit(1)


@main.group()
def rules() -> None:
    """The rule catalogue (规则库): list rules, change and review parameters."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def rules_list(ctx: click.Context, as_json: bool, lang: str) -> None:
    """Every rule with its framework codes, template, severity and parameters."""
    import json

    from hrss_fraud.engine.catalogue import CatalogueError, load_catalogue
    from hrss_fraud.engine.listing import catalogue_rows, listing_lines
    from hrss_fraud.knowledge import load_knowledge
    from hrss_fraud.resources import policy_path

    ws = ctx.obj["workspace"]
    try:
        kb = load_knowledge(policy_path("analytics", "knowledge", ws))
    except ValueError as e:
        kb = None
        click.echo(f"knowledge base not readable, rule status unknown: {e}", err=True)
    try:
        rows, coverage = catalogue_rows(load_catalogue(workspace=ws), ws, kb)
    except CatalogueError as e:
        raise Fail(str(e)) from None
    if as_json:
        click.echo(json.dumps({"rules": rows, "coverage": coverage}, ensure_ascii=False, indent=1))
        return
    for line in listing_lines(rows, coverage, lang):
        click.echo(line)


@rules.command("set")
@click.argument("rule_id")
@click.argument("param")
@click.argument("value", type=float)
@click.option(
    "--by",
    "changed_by",
    required=True,
    help="Who makes the change: an enabled account that may change parameters.",
)
@click.option("--reason", required=True, help="Why (kept in the parameter log).")
@click.pass_context
def rules_set(
    ctx: click.Context, rule_id: str, param: str, value: float, changed_by: str, reason: str
) -> None:
    """Change a rule parameter within its bounds; the change is logged with who and why, and
    audited (parameter.change) as the dashboard does."""
    from hrss_fraud.cases import audit, open_store
    from hrss_fraud.cli.cases import _operator
    from hrss_fraud.engine.catalogue import CatalogueError, load_catalogue
    from hrss_fraud.engine.params import changes, effective, set_param

    ws = ctx.obj["workspace"]
    try:
        cat = load_catalogue(workspace=ws)
        with open_store(ws) as store:
            actor = _operator(store, changed_by, "change_parameters")
            rule = cat.rules.get(rule_id)
            old = effective(rule, changes(cat, ws)).values.get(param) if rule else None
            change = set_param(cat, ws, rule_id, param, value, actor, reason)
            eff = effective(cat.rules[rule_id], changes(cat, ws))
            detail = {"param": param, "old": old, "new": value, "reason": change.reason}
            detail |= {"version": eff.version, "changed_at": change.changed_at}
            audit.record(store, actor, "parameter.change", "rule", rule_id, detail)
    except CatalogueError as e:
        raise Fail(str(e)) from None
    click.echo(f"{rule_id}.{param} = {value:g} (rule version {eff.version})")


@rules.command("history")
@click.argument("rule_id", required=False)
@click.pass_context
def rules_history(ctx: click.Context, rule_id: str | None) -> None:
    """Every parameter change (who, when, why), optionally for one rule."""
    from hrss_fraud.engine.catalogue import CatalogueError, load_catalogue
    from hrss_fraud.engine.params import changes

    ws = ctx.obj["workspace"]
    try:
        log = changes(load_catalogue(workspace=ws), ws)
    except CatalogueError as e:
        raise Fail(str(e)) from None
    for c in log:
        if rule_id is None or c.rule_id == rule_id:
            click.echo(
                f"{c.changed_at}  {c.rule_id}.{c.param} = {c.value:g}  "
                f"by {c.changed_by}: {c.reason}"
            )


@main.group()
def findings() -> None:
    """Findings (疑点) of the scoring runs."""


def _finding_filters(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``findings export`` and ``findings list`` keep findings by."""
    for option in reversed(
        [
            click.option("--run", "run_id", help="Run id (default: the latest complete run)."),
            click.option("--rules", "rule_ids", help="Comma-separated rule ids to keep."),
            click.option(
                "--institution", "institutions", help="机构编号 Comma-separated fixmedins_code."
            ),
            click.option("--person", "persons", help="人员编号 Comma-separated psn_no."),
            click.option(
                "--severity", "severities", help="definite, high, suspicious (comma-separated)."
            ),
            click.option("--min-amount", type=float, help="疑点金额下限 At least this many yuan."),
            click.option(
                "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True
            ),
        ]
    ):
        f = option(f)
    return f


def _kept(filters: dict[str, Any]) -> dict[str, Any]:
    """The options of :func:`_finding_filters` as ``kept_findings`` takes them."""
    return {
        "rule_ids": split_list(filters["rule_ids"]) or None,
        "institutions": split_list(filters["institutions"]) or None,
        "persons": split_list(filters["persons"]) or None,
        "severities": split_list(filters["severities"]) or None,
        "min_amount": filters["min_amount"],
    }


def _findings_frame(ctx: click.Context, run_id: str | None, lang: str, **filters: Any) -> Any:
    from hrss_fraud.engine.runs import RunError, open_run
    from hrss_fraud.outputs.export import export_frame

    try:
        run = open_run(ctx.obj["workspace"], run_id)
        df = export_frame(run, lang=lang, **_kept(filters))
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    return run, df


_out = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .parquet, .csv or .xlsx.",
)


@findings.command("export")
@_out
@_finding_filters
@click.pass_context
def findings_export(
    ctx: click.Context, out: str, run_id: str | None, lang: str, **filters: Any
) -> None:
    """Write a run's leads with the columns DESIGN.md fixes and each lead's case_id and
    case_rank (Parquet, CSV or Excel by suffix); data-quality findings are in
    `findings quality-export`."""
    from hrss_fraud.outputs.export import write_export

    run, df = _findings_frame(ctx, run_id, lang, **filters)
    try:
        write_export(df, Path(out))
    except ValueError as e:
        raise Fail(str(e)) from None
    click.echo(f"wrote {df.height:,} findings of run {run.run_id} to {out}")


@findings.command("quality-export")
@_out
@click.option(
    "--summary",
    is_flag=True,
    help="Per institution and rule: findings, settlements and their share (数据质量汇总).",
)
@_finding_filters
@click.pass_context
def findings_quality_export(
    ctx: click.Context, out: str, summary: bool, run_id: str | None, lang: str, **filters: Any
) -> None:
    """数据质量报告：Write a run's data-quality findings (no leads: not in the queue, the amount
    at risk or the rankings), or with --summary each institution's share of settlements
    they touch."""
    from hrss_fraud.engine.runs import RunError, open_run
    from hrss_fraud.lake import Lake
    from hrss_fraud.outputs.export import write_export
    from hrss_fraud.outputs.quality import quality_frame, quality_summary

    ws = ctx.obj["workspace"]
    try:
        run = open_run(ws, run_id)
        df = quality_frame(run, lang, **_kept(filters))
        what = "data-quality findings"
        if summary:
            df, what = quality_summary(run, Lake(ws / "lake"), lang, df), "institution × rule rows"
        write_export(df, Path(out), label="data-quality export")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"wrote {df.height:,} {what} of run {run.run_id} to {out}")


@findings.command("cases-export")
@_out
@click.option("--top", "top", type=click.IntRange(min=1), help="Only the K first cases.")
@click.option("--run", "run_id", help="Run id (default: the latest complete run).")
@click.option("--institution", "institutions", help="机构编号 Comma-separated fixmedins_code.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def findings_cases_export(
    ctx: click.Context,
    out: str,
    top: int | None,
    run_id: str | None,
    institutions: str | None,
    lang: str,
) -> None:
    """案件清单：Write a run's cases (an institution's rule family in a month, a person's or a
    doctor's pattern), one row each, in the order to open them (case_rank 1 first)."""
    from hrss_fraud.engine.runs import RunError, open_run
    from hrss_fraud.outputs.export import cases_frame, write_export

    try:
        run = open_run(ctx.obj["workspace"], run_id)
        df = cases_frame(run, lang, institutions=split_list(institutions) or None, top=top)
        write_export(df, Path(out), label="cases export")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"wrote {df.height:,} cases of run {run.run_id} to {out}")


@findings.command("list")
@_finding_filters
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.pass_context
def findings_list(
    ctx: click.Context, run_id: str | None, lang: str, limit: int, **filters: Any
) -> None:
    """疑点清单：按金额从大到小。A run's findings, largest amount first (ids for `cases`)."""
    from hrss_fraud.notices.content import money

    run, df = _findings_frame(ctx, run_id, lang, **filters)
    en = lang == "en"
    total = money(df["amount_at_risk"].sum() or 0.0)
    if en:
        click.echo(f"run {run.run_id}: {df.height:,} findings, ¥{total} at risk")
    else:
        click.echo(f"批次 {run.run_id}：疑点 {df.height:,} 条，疑点金额 ¥{total}")
    severity = "severity" if en else "severity_zh"
    for r in df.head(limit).iter_rows(named=True):
        period = f"{r['period_start'] or ''}~{r['period_end'] or ''}"
        click.echo(
            f"{r['finding_id']}\t{r['rule_id']}\t{r[severity]}\t{r['fixmedins_code'] or ''}\t"
            f"{r['psn_no'] or ''}\t{period}\t¥{money(r['amount_at_risk'] or 0.0)}\t"
            f"{r['rule_name']}"
        )
    if df.height > limit:
        more = df.height - limit
        click.echo(f"… {more:,} more (--limit)" if en else f"… 另有 {more:,} 条（--limit）")


@main.group()
def knowledge() -> None:
    """The knowledge base (知识库) the rules read."""


@knowledge.command("load")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.pass_context
def knowledge_load(ctx: click.Context, source: str) -> None:
    """Import a knowledge base (CSV or XLSX, Chinese headers accepted) into the workspace."""
    from hrss_fraud.engine.catalogue import load_catalogue
    from hrss_fraud.engine.needs import inactive_rules
    from hrss_fraud.knowledge.importer import import_knowledge

    try:
        kb, origin = import_knowledge(Path(source), ctx.obj["workspace"])
    except ValueError as e:
        raise Fail(str(e)) from None
    for name, where in origin.items():
        click.echo(f"{name}: {getattr(kb, name).height:,} rows from {where}")
        if kb.absent.get(name):
            click.echo(f"  columns left empty (not in the file): {', '.join(kb.absent[name])}")
    # what the rules cannot do with this knowledge base, said now rather than found later
    rules = list(load_catalogue(workspace=ctx.obj["workspace"]).rules.values())
    for off in inactive_rules(rules, kb).values():
        click.echo(f"rule {off.rule_id} {off.reason_zh}")


@main.group()
def models() -> None:
    """Saved detection models (检测模型) the runs apply."""


@models.command("train")
@click.option("--memory-limit", default="6GB", show_default=True, help="DuckDB memory limit.")
@click.pass_context
def models_train(ctx: click.Context, memory_limit: str) -> None:
    """Retrain every model on the whole lake; the next score is then a full run."""
    from hrss_fraud.detectors.frequency_model import ModelError
    from hrss_fraud.detectors.models import model_path
    from hrss_fraud.engine.runs import RunError
    from hrss_fraud.scoring.models import train as train_models

    ws = ctx.obj["workspace"]
    try:
        trained = train_models(ws, memory_limit)
    except (ModelError, RunError, ValueError) as e:
        raise Fail(str(e)) from None
    for name, model in trained.items():
        t = model.training
        click.echo(
            f"{name}: {t['persons']:,} persons, {t['person_months']:,} person-months, "
            f"{t['visits']:,} visits ({t['first_month']} to {t['last_month']}) "
            f"→ {model_path(ws, name)}"
        )
    # the review model learns from the latest run's decided leads (off below its minimum)
    from hrss_fraud.cases.reviews import train_review_model

    try:
        click.echo(train_review_model(ws).message("zh"))
    except RunError:
        click.echo("审核学习模型：尚无评分结果，跳过 (review model: no run yet, skipped)")


@main.group("export")
def export_group() -> None:
    """Lists for inspection rounds (检查名单)."""


@export_group.command("inspection-list")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="FILE.csv, .parquet or .xlsx"
)
@click.option("--top", "top", type=click.IntRange(min=1), help="Only the K riskiest institutions.")
@click.option("--run", "run_id", help="A run id (default: the latest run).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def export_inspection_list(
    ctx: click.Context, out: str, top: int | None, run_id: str | None, lang: str
) -> None:
    """Institutions ranked by the share of their in-scope spending at risk, with reasons."""
    from hrss_fraud.engine.runs import RunError, open_run
    from hrss_fraud.lake import Lake
    from hrss_fraud.outputs.export import write_export
    from hrss_fraud.outputs.ranking import COLUMNS, institution_ranking, review_weights

    ws = ctx.obj["workspace"]
    try:
        run = open_run(ws, run_id)
        weights, status = review_weights(run, ws)
        click.echo(status.message(lang), err=True)
        ranking = institution_ranking(run, Lake(ws / "lake"), lang, weights)
        if top:
            ranking = ranking.head(top)
        write_export(ranking.select(COLUMNS), Path(out), label="inspection list")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"{ranking.height} institutions → {out}")


@export_group.command("risk-ranking")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="FILE.csv, .parquet or .xlsx"
)
@click.option(
    "--level",
    type=click.Choice(["institution", "doctor", "person"]),
    default="institution",
    show_default=True,
    help="Rank institutions (机构), doctors (医师) or insured persons (参保人).",
)
@click.option("--top", "top", type=click.IntRange(min=1), help="Only the K riskiest.")
@click.option("--run", "run_id", help="A run id (default: the latest run).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def export_risk_ranking(
    ctx: click.Context, out: str, level: str, top: int | None, run_id: str | None, lang: str
) -> None:
    """Institutions, doctors or persons ranked by the share of their spending at risk
    (风险排名)."""
    from hrss_fraud.engine.runs import RunError, open_run
    from hrss_fraud.lake import Lake
    from hrss_fraud.outputs.export import write_export
    from hrss_fraud.outputs.ranking import review_weights, risk_ranking

    ws = ctx.obj["workspace"]
    try:
        run = open_run(ws, run_id)
        weights, status = review_weights(run, ws)
        click.echo(status.message(lang), err=True)
        ranking = risk_ranking(run, Lake(ws / "lake"), level, lang, weights)
        if top:
            ranking = ranking.head(top)
        write_export(ranking, Path(out), label=f"{level} risk ranking")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"{ranking.height} {level} rows → {out}")


@export_group.command("rule-shares")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="FILE.csv, .parquet or .xlsx"
)
@click.option("--rule", "rule_id", required=True, help="A rule id, e.g. high_cost_outpatient.")
@click.option(
    "--by",
    type=click.Choice(["institution", "person"]),
    default="institution",
    show_default=True,
    help="Per institution (机构) or insured person (参保人).",
)
@click.option("--run", "run_id", help="A run id (default: the latest run).")
@click.pass_context
def export_rule_shares(
    ctx: click.Context, out: str, rule_id: str, by: str, run_id: str | None
) -> None:
    """The share and amount of each institution's or person's claims a rule flags
    (疑点占比), e.g. high-cost visits, patients with abnormal visit frequency."""
    from hrss_fraud.engine.runs import RunError, open_run
    from hrss_fraud.lake import Lake
    from hrss_fraud.outputs.export import write_export
    from hrss_fraud.outputs.shares import rule_shares

    ws = ctx.obj["workspace"]
    try:
        shares = rule_shares(open_run(ws, run_id), Lake(ws / "lake"), rule_id, by)
        write_export(shares, Path(out), label=f"{rule_id} shares")
    except (RunError, ValueError) as e:
        raise Fail(str(e)) from None
    click.echo(f"{shares.height} {by} rows → {out}")


def _demo_score(ws: Path) -> None:
    """Score the demo lake and show what an auditor would open first."""
    import polars as pl

    from hrss_fraud.scoring.score import score as run_score

    run = run_score(ws)
    f = run.findings()
    m = run.manifest
    click.echo(
        f"score: run {run.run_id}: {f.height:,} findings (疑点), ¥{m['amount_at_risk']:,.2f} at "
        f"risk, {len(m['rules'])} rules, {len(m['failed_rules'])} failed"
    )
    top = (
        f.group_by("rule_name")
        .agg(n=pl.len(), amount=pl.col("amount_at_risk").sum())
        .sort("amount", descending=True)
        .head(8)
    )
    for r in top.iter_rows(named=True):
        click.echo(f"  {r['rule_name']}: {r['n']:,} 条, ¥{r['amount']:,.2f}")
    lead = f.sort("amount_at_risk", "finding_id", descending=[True, False]).row(0, named=True)
    click.echo(f"  例 / e.g. [{lead['severity_zh']}] {lead['rule_name']}: {lead['evidence']}")


def _demo_bureau(ws: Path) -> None:
    """Fill the bureau's other supervision registers (监管事项) with a synthetic year of
    plans, inspections, rectifications and sanctions — once: a demo run again keeps them."""
    from hrss_fraud.cases import open_store
    from hrss_fraud.registers.synth import synth_bureau

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


# Imported last: these groups report failures with this module's Fail.
from hrss_fraud.cli.cases import cases  # noqa: E402
from hrss_fraud.cli.evaluation import evaluate_group  # noqa: E402

main.add_command(cases)
main.add_command(evaluate_group)

# Command groups kept in their own packages (each imports nothing from here).
from hrss_fraud.cli.backup import backup_command, restore_command  # noqa: E402
from hrss_fraud.cli.complaints import complaints  # noqa: E402
from hrss_fraud.cli.inspection import rounds  # noqa: E402
from hrss_fraud.cli.marts import marts  # noqa: E402
from hrss_fraud.cli.nightly import nightly  # noqa: E402
from hrss_fraud.cli.notices import notice  # noqa: E402
from hrss_fraud.cli.registers import registers  # noqa: E402
from hrss_fraud.cli.serve import serve  # noqa: E402
from hrss_fraud.cli.users import users  # noqa: E402

for _command in (complaints, marts, serve, users, rounds, notice, nightly, registers):
    main.add_command(_command)
main.add_command(backup_command)
main.add_command(restore_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
