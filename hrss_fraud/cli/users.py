"""``hrss-fraud users``: add, list, disable, enable dashboard accounts, change their role
and set their passwords.

Every change is made by an operator (``--by``, default the shell's login name) who must
be an enabled account that may manage users (:mod:`hrss_fraud.cases.operators`); while no
such account exists, ``users add`` may add an administrator as the bootstrap, recorded as
``os:<login name>``.
"""

from __future__ import annotations

import sys

import click

from hrss_fraud.cases import SchemaError, open_store
from hrss_fraud.cases.operators import (
    BOOTSTRAP_PREFIX,
    BOOTSTRAP_ROLE,
    OperatorError,
    operator_or_bootstrap,
)
from hrss_fraud.cases.store import CaseStore
from hrss_fraud.cases.users import (
    ROLES,
    UserError,
    add_user,
    get_user,
    list_users,
    set_active,
    set_password,
    set_role,
)
from hrss_fraud.cli.common import current_workspace, fail

MANAGE = "manage_users"


def _manager(store: CaseStore, by: str | None, role: str | None = None) -> str:
    """Who changes an account: an enabled account that may manage users, or — while there
    is none and no --by was given — the shell login (the bootstrap), which may add an
    administrator only (``role``: the role of an account being added)."""
    try:
        actor = operator_or_bootstrap(store, by, permission=MANAGE)
    except OperatorError as e:
        fail(str(e))
    if actor.startswith(BOOTSTRAP_PREFIX) and (role or "").strip() not in (
        BOOTSTRAP_ROLE,
        *ROLES[BOOTSTRAP_ROLE],
    ):
        fail(
            "尚无系统管理员 no enabled administrator yet: add one first "
            f"(hrss-fraud users add NAME --role {BOOTSTRAP_ROLE}), then the other accounts"
        )
    return actor


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("--password-stdin: no password on standard input")
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
    "--by",
    "by",
    show_default="login name",
    help="操作人 Who makes the change: an enabled account that may manage users.",
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
    by: str | None,
) -> None:
    """新增用户（密码提示输入两次）。Add an account; the password is asked for twice.

    The first administrator of a workspace is added by the shell login (recorded as
    os:LOGIN); every other account by an administrator (--by)."""
    try:
        with open_store(current_workspace(ctx)) as store:
            actor = _manager(store, by, role)
            password = _password(password_stdin)
            user = add_user(
                store, username, role=role, password=password, by=actor, display_name=display_name
            )
    except (UserError, SchemaError) as e:
        fail(str(e))
    bootstrap = f"; bootstrap, recorded as {actor}" if actor.startswith(BOOTSTRAP_PREFIX) else ""
    click.echo(f"user {user.username} added ({user.role} {user.role_zh}){bootstrap}")


@users.command("list")
@click.pass_context
def list_accounts(ctx: click.Context) -> None:
    """列出用户。Every account with its role and whether it is active."""
    try:
        with open_store(current_workspace(ctx)) as store:
            accounts = list_users(store)
    except SchemaError as e:
        fail(str(e))
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
def disable(ctx: click.Context, username: str, by: str | None) -> None:
    """停用用户（不删除，审核记录仍指向此用户）。Disable an account; it is never deleted."""
    try:
        with open_store(current_workspace(ctx)) as store:
            user = set_active(store, username, False, by=_manager(store, by))
    except (UserError, SchemaError) as e:
        fail(str(e))
    click.echo(f"user {user.username} disabled")


@users.command("enable")
@click.argument("username")
@_by
@click.pass_context
def enable(ctx: click.Context, username: str, by: str | None) -> None:
    """重新启用已停用的用户。Enable a disabled account again; it logs in with its password."""
    try:
        with open_store(current_workspace(ctx)) as store:
            actor = _manager(store, by)
            current = get_user(store, username)
            if current is not None and current.active:
                fail(f"user {current.username} is already enabled")
            user = set_active(store, username, True, by=actor)
    except (UserError, SchemaError) as e:
        fail(str(e))
    click.echo(f"user {user.username} enabled")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 Read it from stdin.")
@_by
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool, by: str | None) -> None:
    """设置新密码（同时解除登录锁定）。Set a new password; this also lifts a login lockout."""
    try:
        with open_store(current_workspace(ctx)) as store:
            actor = _manager(store, by)
            password = _password(password_stdin)
            set_password(store, username, password, by=actor)
    except (UserError, SchemaError) as e:
        fail(str(e))
    click.echo(f"password of {username} changed")


@users.command("role")
@click.argument("username")
@click.argument("role")
@_by
@click.pass_context
def change_role(ctx: click.Context, username: str, role: str, by: str | None) -> None:
    """变更用户角色（其已登录会话随即失效）。Give an account another role; its open
    sessions end, so the new rights apply from its next login."""
    try:
        with open_store(current_workspace(ctx)) as store:
            actor = _manager(store, by)
            current = get_user(store, username)
            if current is None:
                fail(f"no user {username!r}; 'users list' shows the accounts")
            if actor.casefold() == current.username.casefold():
                fail("不能变更自己的角色 (an operator may not change their own role)")
            user = set_role(store, username, role, by=actor)
    except (UserError, SchemaError) as e:
        fail(str(e))
    click.echo(f"user {user.username}: role {user.role} ({user.role_zh})")
