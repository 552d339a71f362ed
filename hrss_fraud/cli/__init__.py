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

Each command lives in its own module and is imported only when it runs (click's lazy
loading of subcommands), so ``hrss-fraud --help`` starts without the dashboard, the
detectors or the models: the listing below carries each command's one-line help.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import sys
from typing import Any, NamedTuple

import click

from hrss_fraud.cases.busy import busy_message, is_busy
from hrss_fraud.cases.pg import StoreUnavailable
from hrss_fraud.cases.store import StoreSettingError
from hrss_fraud.cli.common import Fail
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.lake.fsutil import PRIVATE_UMASK


class Lazy(NamedTuple):
    """Where a subcommand is defined (``module:attribute``) and the help ``--help`` lists
    for it, the first paragraph of its docstring."""

    target: str
    help: str


COMMANDS: dict[str, Lazy] = {
    "backup": Lazy(
        "hrss_fraud.cli.backup:backup_command",
        "备份。Back up the lake, the case store, runs and policy files (consistent snapshot).",
    ),
    "cases": Lazy(
        "hrss_fraud.cli.cases:cases",
        "案件库：疑点审核结论与审计日志。Review decisions on leads, and the audit log.",
    ),
    "complaints": Lazy(
        "hrss_fraud.cli.complaints:complaints",
        "举报投诉：登记、核查、办结（30日内）。Complaints and tips: register, check, close.",
    ),
    "demo": Lazy(
        "hrss_fraud.cli.demo:demo",
        "Generate a sample county, ingest and score it, report on it, set up a working office "
        "(accounts, inspection round, an issued violation notice, an open complaint), then "
        "serve the dashboard.",
    ),
    "evaluate": Lazy(
        "hrss_fraud.cli.evaluation:evaluate_group",
        "Judge detection against a generated county's truth (评估): recall per scheme, "
        "precision of the inspection list, ROC-AUC, false-positive rates.",
    ),
    "export": Lazy("hrss_fraud.cli.export:export_group", "Lists for inspection rounds (检查名单)."),
    "findings": Lazy("hrss_fraud.cli.findings:findings", "Findings (疑点) of the scoring runs."),
    "ingest": Lazy(
        "hrss_fraud.cli.ingest:ingest",
        "Load uploads (files or folders) into the claims lake; bad rows go to quarantine.",
    ),
    "knowledge": Lazy(
        "hrss_fraud.cli.knowledge:knowledge", "The knowledge base (知识库) the rules read."
    ),
    "labour": Lazy(
        "hrss_fraud.cli.labour:labour",
        "劳动保障监察案件：登记、九步办理、文书。Labour-inspection cases: nine steps, documents.",
    ),
    "marts": Lazy(
        "hrss_fraud.cli.marts:marts",
        "看板数据集市。Dashboard marts: precomputed per-run tables the dashboard reads.",
    ),
    "models": Lazy(
        "hrss_fraud.cli.models:models", "Saved detection models (检测模型) the runs apply."
    ),
    "nightly": Lazy(
        "hrss_fraud.cli.nightly:nightly",
        "夜间批处理。Ingest the inbox, score incrementally, build marts and exports.",
    ),
    "notice": Lazy(
        "hrss_fraud.cli.notices:notice",
        "现场监督检查违约通知单：起草、编号下达、跟踪整改。On-site violation notices.",
    ),
    "profile": Lazy(
        "hrss_fraud.cli.synth:profile",
        "Write the profile report (profile.md) of a generated county.",
    ),
    "registers": Lazy(
        "hrss_fraud.cli.registers:registers",
        "监管事项（双随机一公开）。Supervision registers: entities, random plans, inspections.",
    ),
    "restore": Lazy(
        "hrss_fraud.cli.backup:restore_command",
        "恢复。Restore a backup into the workspace (refuses a non-empty one unless --force); "
        "the restored case store records who did it and what it replaced.",
    ),
    "rounds": Lazy(
        "hrss_fraud.cli.inspection:rounds",
        "现场检查轮次（双随机）。On-site inspection rounds: zones, groups, draws, lists.",
    ),
    "rules": Lazy(
        "hrss_fraud.cli.rules:rules",
        "The rule catalogue (规则库): list rules, change and review parameters.",
    ),
    "score": Lazy(
        "hrss_fraud.cli.score:score",
        "Run the rule catalogue over the lake and publish the findings as the latest run.",
    ),
    "serve": Lazy(
        "hrss_fraud.cli.serve:serve",
        "启动看板。Serve the dashboard (log in with an account from `hrss-fraud users add`).",
    ),
    "serve-check": Lazy(
        "hrss_fraud.cli.serve_check:serve_check",
        "事前事中审核服务。Serve the pre-settlement check (3101/3102/3103, POST /check).",
    ),
    "synth": Lazy(
        "hrss_fraud.cli.synth:synth",
        "Generate a synthetic county: uploads, reference tables and the truth kept apart.",
    ),
    "users": Lazy(
        "hrss_fraud.cli.users:users", "看板用户与角色。Dashboard accounts and their roles."
    ),
}
"""Every subcommand of ``hrss-fraud``; a new group is one entry here."""


class LazyGroup(click.Group):
    """The root group. Subcommands are imported when one runs or shows its own help
    (click's lazy-loading pattern); the root's ``--help`` lists them from :data:`COMMANDS`
    without importing any. Whatever subcommand runs, a case store still locked by another
    writer after the busy timeout becomes the one-line :class:`Fail`."""

    def __init__(self, *args: Any, lazy: dict[str, Lazy], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].target.split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                msg = f"{self.lazy[cmd_name].target} is not a click command"
                raise TypeError(msg)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As :meth:`click.Group.format_commands`, with a stand-in carrying the registered
        help for each subcommand not imported yet."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=self.lazy[name].help)
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StoreSettingError, StoreUnavailable) as e:  # the case store's setting, said once
            raise Fail(str(e)) from None
        except sqlite3.OperationalError as e:
            if is_busy(e):
                raise Fail(busy_message()) from None
            raise


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    "workspace_dir",
    type=click.Path(file_okay=False),
    help="Workspace folder (default: $HRSS_FRAUD_HOME or ./workspace).",
)
@click.pass_context
def main(ctx: click.Context, workspace_dir: str | None) -> None:
    """hrss_fraud — 医保基金监管: supervise the claims a county's institutions upload."""
    previous = os.umask(PRIVATE_UMASK)  # personal data: nothing created is for others
    ctx.call_on_close(lambda: os.umask(previous))
    ctx.obj = {"workspace": Workspace.at(workspace_dir)}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
