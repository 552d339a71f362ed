"""Build the dashboard: a Dash multi-page app over one workspace, with a login wall, a
top bar (pages, language, user, logout) and every script and stylesheet served locally.

Pages live in ``pages/`` and register themselves with ``dash.register_page``; besides
Dash's own keywords they may pass ``name_en`` (the English name in the bar), ``nav=False``
(reachable by link only, e.g. one institution's page) and ``permission`` (the bar hides
the page from roles without it; the page still checks for itself).

The login wall is a Flask ``before_request`` hook: a page URL without a session goes to
``/login``, and a callback without one is refused unless it serves the login page, so a
page's data cannot be fetched by calling its callback directly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash
from dash import dcc, html
from flask import Response, redirect, request

from hrss_fraud.dashboard import auth, context

HERE = Path(__file__).parent
PAGES = HERE / "pages"
ASSETS = HERE / "assets"
LOGIN_PATH = "/login"
LOGIN_PREFIX = "login-"
"""Component ids of the login page start with this: its callbacks run without a session."""
_OPEN_PREFIXES = (
    "/_dash-layout",
    "/_dash-dependencies",
    "/_dash-component-suites/",
    "/assets/",
    "/_favicon.ico",
    "/_reload-hash",
    "/lang/",
)
"""What the login page itself needs: the app's code and styles, never its data."""


def create_app(workspace: Path) -> dash.Dash:
    """The dashboard for ``workspace`` (its Flask server is ``app.server``)."""
    app = dash.Dash(
        "hrss_fraud.dashboard",
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,  # page layouts need a request (user, language)
        title="医保基金智能监管 Fund supervision",
        update_title=None,
    )
    server = app.server
    auth.configure(server, Path(workspace))
    context.init(server, Path(workspace))
    server.before_request(_login_wall)
    server.add_url_rule("/lang/<code>", "set_lang", _set_lang)
    server.add_url_rule("/logout", "logout", _logout, methods=["POST"])
    app.layout = shell
    return app


def _login_wall() -> Response | tuple[str, int] | None:
    path = request.path
    if path == LOGIN_PATH or path.startswith(_OPEN_PREFIXES):
        return None
    if context.user() is not None:
        return None
    if path.startswith("/_dash-update-component"):
        if _serves_login(request.get_json(silent=True) or {}):
            return None
        return "请先登录 (log in first)", 403
    return redirect(f"{LOGIN_PATH}")


def _serves_login(payload: dict[str, Any]) -> bool:
    """Whether a callback request only updates the login page: its own components, or
    the page router rendering ``/login``."""
    outputs = payload.get("outputs")
    items = outputs if isinstance(outputs, list) else [outputs]
    ids = [str((o or {}).get("id", "")) for o in items if isinstance(o, dict)]
    if ids and all(i.startswith(LOGIN_PREFIX) for i in ids):
        return True
    if "_pages_content" in ids:
        return any(
            i.get("id") == "_pages_location"
            and i.get("property") == "pathname"
            and i.get("value") == LOGIN_PATH
            for i in payload.get("inputs", [])
            if isinstance(i, dict)
        )
    return False


def _back() -> str:
    """Where the user came from, on this site only (never an open redirect)."""
    ref = urlsplit(request.referrer or "")
    if ref.netloc and ref.netloc != request.host:
        return "/"
    return (ref.path or "/") + (f"?{ref.query}" if ref.query else "")


def _set_lang(code: str) -> Response:
    context.set_lang(code)
    return redirect(_back())


def _logout() -> Response:
    auth.end_session(context.store())
    return redirect(LOGIN_PATH)


def page_name(page: dict[str, Any], lang: str) -> str:
    """A registered page's name in ``lang`` (``name_en`` when English and given)."""
    return str(page.get("name_en") or page["name"]) if lang == "en" else str(page["name"])


def nav_pages(role: str | None) -> list[dict[str, Any]]:
    """The pages the top bar lists for ``role``, in their ``order``."""
    from hrss_fraud.dashboard.users import can

    shown = []
    for page in dash.page_registry.values():
        if not page.get("nav", True) or page.get("path") == LOGIN_PATH:
            continue
        permission = page.get("permission")
        if permission and (role is None or not can(role, permission)):
            continue
        shown.append(page)
    return sorted(shown, key=lambda p: (p.get("order") is None, p.get("order") or 0, p["name"]))


def top_bar() -> html.Header:
    """Brand, the pages, the language switch, the user and the logout button."""
    lang, user = context.lang(), context.user()
    t = context.t
    links = (
        [
            dcc.Link(page_name(p, lang), href=p["relative_path"], className="nav-link")
            for p in nav_pages(user.role)
        ]
        if user
        else []
    )
    switch = html.Span(
        [
            html.A(
                "中文", href="/lang/zh", id="lang-zh", className="active" if lang == "zh" else ""
            ),
            html.A(
                "English", href="/lang/en", id="lang-en", className="active" if lang == "en" else ""
            ),
        ],
        className="lang-switch",
    )
    who: list[Any] = []
    if user:
        role = user.role_zh if lang == "zh" else user.role
        who = [
            html.Span(f"{user.display_name}（{role}）", id="current-user", className="user"),
            html.Form(
                html.Button(t("退出", "Log out"), type="submit", id="logout", className="link"),
                action="/logout",
                method="POST",
                className="logout",
            ),
        ]
    return html.Header(
        [
            html.Span(
                t("医保基金智能监管", "Medical insurance fund supervision"), className="brand"
            ),
            html.Nav(links, className="nav"),
            html.Div([switch, *who], className="account"),
        ],
        className="top-bar",
    )


def shell() -> html.Div:
    """The layout of every page: the top bar above the page's own content."""
    return html.Div([top_bar(), html.Main(dash.page_container, className="page")])


def serve(
    workspace: Path, *, host: str = "127.0.0.1", port: int = 8050, debug: bool = False
) -> None:
    """Serve the dashboard with Flask's threaded server (no production WSGI server is
    installed here; put one in front for many users, see docs/dashboard.md)."""
    app = create_app(workspace)
    app.run(host=host, port=port, debug=debug, threaded=True)


def remote_assets(html_text: str, base_url: str) -> list[str]:
    """Script and stylesheet URLs in ``html_text`` served from anywhere but ``base_url``
    (the dashboard must work on a network that reaches nothing outside)."""
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html_text)
    return [
        u
        for u in urls
        if u.startswith(("http://", "https://", "//")) and not u.startswith(base_url)
    ]
