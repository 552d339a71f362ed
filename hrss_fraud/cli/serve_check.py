"""``hrss-fraud serve-check``: the pre-settlement check service for hospitals' systems
(3101/3102/3103 and the plain JSON form), and ``serve-check keys`` for their API keys."""

from __future__ import annotations

import os

import click
import uvicorn

from hrss_fraud.cases import SchemaError, open_store
from hrss_fraud.cli.common import current_workspace, fail, operator
from hrss_fraud.engine.catalogue import SEVERITIES
from hrss_fraud.precheck.keys import CheckKeyError, add_key, list_keys, revoke_keys
from hrss_fraud.precheck.service import SETTINGS_ENV, ServiceSettings

MANAGE = "manage_users"
"""Who may issue and revoke keys: whoever may manage dashboard accounts (an admin)."""


@click.group("serve-check", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 Address.")
@click.option("--port", default=8060, show_default=True, type=int, help="端口 Port.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="进程数 Worker processes (each loads the rules and history).",
)
@click.option(
    "--block-severity",
    "block_severities",
    multiple=True,
    type=click.Choice(list(SEVERITIES)),
    help="事中(3102)拦截的严重程度 Severities that block at settlement (repeatable; "
    "default definite and high).",
)
@click.option(
    "--max-body-kb",
    default=1024,
    show_default=True,
    type=click.IntRange(1, 65536),
    help="请求报文上限 Largest request body, KiB.",
)
@click.option(
    "--check-threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="每进程并行审核线程 Checks at once per worker.",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="可信反向代理地址 Proxies whose X-Forwarded-* headers are trusted.",
)
@click.option(
    "--history-content",
    is_flag=True,
    help="提示中写明其他就诊（含他院）详情 Answer history-based hits with their own content, "
    "which names the person's other visits (default: a sentence saying one exists).",
)
@click.pass_context
def serve_check(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    block_severities: tuple[str, ...],
    max_body_kb: int,
    check_threads: int,
    forwarded_allow_ips: str,
    history_content: bool = False,
) -> None:
    """事前事中审核服务。Serve the pre-settlement check (3101/3102/3103, POST /check)."""
    if ctx.invoked_subcommand is not None:
        return
    ws = current_workspace(ctx)
    try:
        open_store(ws).close()  # migrated before the workers start, once
    except SchemaError as e:
        fail(str(e))
    settings = ServiceSettings(
        max_body_bytes=max_body_kb * 1024,
        block_severities=block_severities or ServiceSettings.block_severities,
        check_threads=check_threads,
        history_content=history_content,
    )
    os.environ["HRSS_FRAUD_HOME"] = str(ws)
    os.environ[SETTINGS_ENV] = settings.to_env()
    click.echo(f"check service: http://{host}:{port}/  (workspace {ws}; Ctrl-C stops)")
    uvicorn.run(
        "hrss_fraud.precheck.service:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
    )


@serve_check.group("keys")
def keys() -> None:
    """接口密钥：每机构一把或多把。API keys, one or more per institution."""


_by = click.option(
    "--by",
    "by",
    show_default="login name",
    help="操作人 Who acts: an enabled account that may manage users.",
)


@keys.command("add")
@click.argument("institution")
@click.option("--note", default="", help="备注 What the key is for (e.g. the HIS vendor).")
@_by
@click.pass_context
def add(ctx: click.Context, institution: str, note: str, by: str | None) -> None:
    """发放密钥（只显示一次）。Issue a key to INSTITUTION (fixmedins_code); shown once."""
    try:
        with open_store(current_workspace(ctx)) as store:
            issued = add_key(store, institution, by=operator(store, by, MANAGE), note=note)
    except (SchemaError, CheckKeyError) as e:
        fail(str(e))
    click.echo(f"key {issued.key_id} for {issued.fixmedins_code}:")
    click.echo(issued.key)
    click.echo("请妥善保存，此密钥不再显示 keep it now: it is not shown again", err=True)


@keys.command("list")
@click.argument("institution", required=False)
@click.pass_context
def list_command(ctx: click.Context, institution: str | None) -> None:
    """列出密钥（不含密钥本身）。Keys issued (of INSTITUTION), never their secrets."""
    try:
        with open_store(current_workspace(ctx)) as store:
            found = list_keys(store, institution)
    except SchemaError as e:
        fail(str(e))
    for k in found:
        state = "有效 active" if k.active else f"已吊销 revoked {k.revoked_at} by {k.revoked_by}"
        click.echo(
            f"{k.key_id}  {k.fixmedins_code}  {k.created_at} by {k.created_by}  {state}"
            + (f"  {k.note}" if k.note else "")
        )
    if not found:
        click.echo("没有密钥 no keys")


@keys.command("revoke")
@click.argument("institution")
@click.option("--key-id", help="只吊销这一把 Only this key (default: all of INSTITUTION's).")
@_by
@click.pass_context
def revoke(ctx: click.Context, institution: str, key_id: str | None, by: str | None) -> None:
    """吊销密钥，即时生效。Revoke INSTITUTION's keys; the service refuses them at once."""
    try:
        with open_store(current_workspace(ctx)) as store:
            ids = revoke_keys(store, institution, by=operator(store, by, MANAGE), key_id=key_id)
    except (SchemaError, CheckKeyError) as e:
        fail(str(e))
    click.echo(f"revoked {len(ids)} key(s) of {institution.strip()}: {', '.join(ids)}")
