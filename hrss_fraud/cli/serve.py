"""``hrss-fraud serve``: the dashboard over the workspace's latest run."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from hrss_fraud.cases import open_store
from hrss_fraud.cases.sessions import SettingsError
from hrss_fraud.cases.users import add_user, get_user
from hrss_fraud.cli.common import current_workspace, fail
from hrss_fraud.dashboard.app import serve as run
from hrss_fraud.dashboard.auth import SecretKeyError
from hrss_fraud.outputs.marts import build_in_background


@click.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="监听地址 Address to listen on."
)
@click.option("--port", default=8050, show_default=True, type=int, help="端口 Port.")
@click.option("--debug", is_flag=True, help="调试模式（仅开发用）Dash debug mode, for development.")
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="经HTTPS反向代理提供服务时使用：Cookie仅经HTTPS发送 Behind a TLS reverse proxy: "
    "Secure, __Host- session cookie (docs/security.md).",
)
@click.option(
    "--allowed-origin",
    "allowed_origins",
    multiple=True,
    metavar="URL",
    help="反向代理对外地址，如 https://jg.example.gov.cn Another scheme://host[:port] the "
    "proxy serves the dashboard under (repeatable).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    debug: bool,
    secure_cookies: bool = False,
    allowed_origins: tuple[str, ...] = (),
) -> None:
    """启动看板。Serve the dashboard (log in with an account from `hrss-fraud users add`)."""
    ws = current_workspace(ctx)
    build_in_background(ws)  # the latest run's missing marts; pages compute on the fly until then
    click.echo(f"dashboard: http://{host}:{port}/  (workspace {ws}; Ctrl-C stops)")
    try:
        run(
            ws,
            host=host,
            port=port,
            debug=debug,
            secure_cookies=secure_cookies,
            allowed_origins=allowed_origins,
        )
    except (SecretKeyError, SettingsError, OSError) as e:
        fail(str(e))


DEMO_ACCOUNTS = {"demo": "supervisor", "reviewer": "reviewer", "auditor": "auditor"}
"""Accounts ``hrss-fraud demo`` creates when absent: a supervisor (复审 and later steps), a
reviewer (初审; a lead's 复审 needs someone other than its 初审) and an auditor, who sees
masked identities only and flags leads for review."""


def demo_accounts(ws: Path) -> dict[str, str | None]:
    """Create the demo accounts that do not exist yet, each with a new random password;
    ``username -> password`` (``None`` for an account that already existed)."""
    made: dict[str, str | None] = {}
    with open_store(ws) as store:
        for username, role in DEMO_ACCOUNTS.items():
            if get_user(store, username) is not None:
                made[username] = None
                continue
            password = f"{secrets.token_urlsafe(9)}-{secrets.randbelow(90) + 10}"
            add_user(store, username, role=role, password=password, by="demo")
            made[username] = password
    return made


UNCHANGED = "(已存在，密码不变 exists, password unchanged)"
SHOWN_ABOVE = "demo accounts: 密码见上 (passwords printed above)"


def echo_demo_accounts(ws: Path) -> None:
    """Make the demo accounts that do not exist yet (:func:`demo_accounts`) and print each
    with its role: a new one's password, or that it exists and keeps its password."""
    for username, password in demo_accounts(ws).items():
        click.echo(f"account {username} ({DEMO_ACCOUNTS[username]}): {password or UNCHANGED}")


def serve_demo(
    ctx: click.Context,
    host: str = "127.0.0.1",
    port: int = 8050,
    *,
    accounts_shown: bool = False,
) -> None:
    """The end of ``hrss-fraud demo``: the accounts (made and printed here unless
    ``accounts_shown``: the caller printed them already), the address, then the dashboard."""
    ws = current_workspace(ctx)
    if accounts_shown:
        click.echo(SHOWN_ABOVE)
    else:
        echo_demo_accounts(ws)
    ctx.invoke(serve, host=host, port=port, debug=False)
