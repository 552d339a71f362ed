"""``hrss-fraud users``: add, list, disable dashboard accounts and set their passwords.

The group attaches itself to the main command when ``hrss_fraud.cli`` imports this module
(its last line), so the main CLI needs one import line and no other edit.
"""

from __future__ import annotations

import getpass
import sys

import click

from hrss_fraud.cases.cli import _fail, _workspace
from hrss_fraud.dashboard.users import ROLES


def _operator() -> str:
    """Who runs the command, for the audit log: the login name at the shell."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            _fail("--password-stdin: no password on standard input")
        return line
    return click.prompt(
        "密码 Password", hide_input=True, confirmation_prompt="再次输入 Repeat password"
    )


def _role_help() -> str:
    return ", ".join(f"{code} {zh}" for code, (zh, _) in ROLES.items())


@click.group("users")
def users() -> None:
    """看板用户与角色。Dashboard accounts and their roles."""


_by = click.option(
    "--by", "by", default=_operator, show_default="login name", help="操作人 Who makes the change."
)


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, help=f"角色 Role: {_role_help()}.")
@click.option("--name", "display_name", help="姓名 Display name (default: USERNAME).")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 Read it from stdin.")
@_by
@click.pass_context
def add(
    ctx: click.Context,
    username: str,
    role: str,
    display_name: str | None,
    password_stdin: bool,
    by: str,
) -> None:
    """新增用户（密码提示输入两次）。Add an account; the password is asked for twice."""
    from hrss_fraud.cases import SchemaError, open_store
    from hrss_fraud.dashboard.users import UserError, add_user

    password = _password(password_stdin)
    try:
        with open_store(_workspace(ctx)) as store:
            user = add_user(
                store, username, role=role, password=password, by=by, display_name=display_name
            )
    except (UserError, SchemaError) as e:
        _fail(str(e))
    click.echo(f"user {user.username} added ({user.role} {user.role_zh})")


@users.command("list")
@click.pass_context
def list_accounts(ctx: click.Context) -> None:
    """列出用户。Every account with its role and whether it is active."""
    from hrss_fraud.cases import SchemaError, open_store
    from hrss_fraud.dashboard.users import list_users

    try:
        with open_store(_workspace(ctx)) as store:
            accounts = list_users(store)
    except SchemaError as e:
        _fail(str(e))
    if not accounts:
        click.echo("尚无用户 no users yet: hrss-fraud users add USERNAME --role admin")
        return
    for u in accounts:
        state = "启用 active" if u.active else "停用 disabled"
        click.echo(
            f"{u.username}\t{u.display_name}\t{u.role} {u.role_zh}\t{state}\t{u.created_at[:10]}"
        )


@users.command("disable")
@click.argument("username")
@_by
@click.pass_context
def disable(ctx: click.Context, username: str, by: str) -> None:
    """停用用户（不删除，审核记录仍指向此用户）。Disable an account; it is never deleted."""
    from hrss_fraud.cases import SchemaError, open_store
    from hrss_fraud.dashboard.users import UserError, set_active

    try:
        with open_store(_workspace(ctx)) as store:
            user = set_active(store, username, False, by=by)
    except (UserError, SchemaError) as e:
        _fail(str(e))
    click.echo(f"user {user.username} disabled")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 Read it from stdin.")
@_by
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool, by: str) -> None:
    """设置新密码（同时解除登录锁定）。Set a new password; this also lifts a login lockout."""
    from hrss_fraud.cases import SchemaError, open_store
    from hrss_fraud.dashboard.users import UserError, set_password

    password = _password(password_stdin)
    try:
        with open_store(_workspace(ctx)) as store:
            set_password(store, username, password, by=by)
    except (UserError, SchemaError) as e:
        _fail(str(e))
    click.echo(f"password of {username} changed")
