"""``hrss-fraud serve``: the dashboard over the workspace's latest run.

The command attaches itself to the main command when ``hrss_fraud.cli`` imports this
module (its last lines), so the main CLI needs one import line and no other edit.
"""

from __future__ import annotations

import click

from hrss_fraud.cases.cli import _fail, _workspace


@click.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="监听地址 Address to listen on."
)
@click.option("--port", default=8050, show_default=True, type=int, help="端口 Port.")
@click.option("--debug", is_flag=True, help="调试模式（仅开发用）Dash debug mode, for development.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """启动看板。Serve the dashboard (log in with an account from `hrss-fraud users add`)."""
    from hrss_fraud.dashboard.app import serve as run
    from hrss_fraud.dashboard.auth import SecretKeyError

    ws = _workspace(ctx)
    click.echo(f"dashboard: http://{host}:{port}/  (workspace {ws}; Ctrl-C stops)")
    try:
        run(ws, host=host, port=port, debug=debug)
    except (SecretKeyError, OSError) as e:
        _fail(str(e))


def _attach() -> None:
    from hrss_fraud.cli import main

    main.add_command(serve)


_attach()
