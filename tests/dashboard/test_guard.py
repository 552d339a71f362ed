"""Default deny: every page and every server-side callback declares its permission, and
a page or callback that does not is caught here (and at import, for pages)."""

from __future__ import annotations

from pathlib import Path

import dash
import pytest
from dash import Input, Output

from hrss_fraud.cases.users import PERMISSIONS
from hrss_fraud.dashboard import guard
from hrss_fraud.dashboard.app import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> dash.Dash:
    app = create_app(tmp_path_factory.mktemp("guard"))
    app.server.test_client().get("/login")  # Dash gathers the callbacks at first request
    return app


def test_every_page_layout_checks_its_declared_permission(app) -> None:
    pages = list(dash.page_registry.values())
    assert len(pages) >= 10
    for page in pages:
        declared = getattr(page["layout"], "permission", None)
        assert declared is not None, f"{page['module']}: layout not guarded"
        assert declared == page["permission"], page["module"]
        assert declared == guard.PUBLIC or declared in PERMISSIONS
    public = [p["path"] for p in pages if p["permission"] == guard.PUBLIC]
    assert public == ["/login"]


def test_every_server_callback_declares_a_permission(app) -> None:
    undeclared, public = [], []
    for key, entry in app.callback_map.items():
        if "callback" not in entry:
            continue  # runs in the browser: it sees only what the page already holds
        permission = guard.permission_of(entry)
        if permission is None and guard.ROUTER_OUTPUT not in key:
            undeclared.append(key)
        if permission == guard.PUBLIC:
            public.append(key)
    assert undeclared == []
    assert public == ["..login-message.children...login-redirect.href.."]


def test_the_walk_catches_an_undeclared_callback(app) -> None:
    @app.callback(Output("guard-probe-out", "children"), Input("guard-probe-in", "value"))
    def leak(value):
        return value

    entry = app.callback_map["guard-probe-out.children"]
    assert guard.permission_of(entry) is None
    assert not guard.open_without_session(app.callback_map, "guard-probe-out.children")
    del app.callback_map["guard-probe-out.children"]


def test_a_page_without_a_permission_fails_at_import(tmp_path: Path) -> None:
    def layout() -> str:
        return "secret"

    layout.__module__ = "pages.unguarded_probe"
    dash.page_registry["pages.unguarded_probe"] = {"module": "pages.unguarded_probe"}
    try:
        with pytest.raises(ValueError, match="declares no permission"):
            guard.layout(layout)
    finally:
        del dash.page_registry["pages.unguarded_probe"]


def test_an_unknown_permission_is_refused_at_registration() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        guard.callback(Output("x", "children"), Input("y", "value"), permission="everything")
