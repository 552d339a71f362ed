"""Build the dashboard: a Dash multi-page app over one workspace, with a login wall, a
top bar (pages, language, user, logout) and every script and stylesheet served locally.

Pages live in ``pages/`` and register themselves with ``dash.register_page``; besides
Dash's own keywords they pass ``permission`` (required: who may open the page, or
``guard.PUBLIC``), and may pass ``name_en`` (the English name in the bar) and ``nav=False``
(reachable by link only, e.g. one institution's page). Every layout and callback checks
its permission itself (:mod:`hrss_fraud.dashboard.guard`).

In front of them, three Flask hooks:

- the login wall: a page URL without a session goes to ``/login``; a callback without
  one is refused (403) unless Dash would dispatch it to a public callback or the page
  router, judged by the output key Dash dispatches on, never by input values;
- the origin check: a state-changing request (POST and the like) must come from a page
  of this site (``Origin``, or ``Referer`` when a browser sends no ``Origin``);
- errors: a callback's unexpected error is logged and answered with a message in the
  page's message bar, never a 500 page; a busy case store is answered "try again".
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash
import waitress
from dash import dcc, html
from dash.exceptions import DashException
from flask import Response, current_app, redirect, request

from hrss_fraud.cases.busy import is_busy
from hrss_fraud.cases.users import can
from hrss_fraud.dashboard import auth, context, guard

HERE = Path(__file__).parent
PAGES = HERE / "pages"
ASSETS = HERE / "assets"
LOGIN_PATH = guard.LOGIN_PATH
MESSAGE_BAR = "app-message"
"""Where an unexpected error or a busy case store is told to the user, on every page."""
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
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
log = logging.getLogger(__name__)


def create_app(
    workspace: Path,
    *,
    secure_cookies: bool = False,
    allowed_origins: tuple[str, ...] = (),
) -> dash.Dash:
    """The dashboard for ``workspace`` (its Flask server is ``app.server``).
    ``secure_cookies``: served behind TLS (``Secure``, ``__Host-`` cookie);
    ``allowed_origins``: other ``scheme://host[:port]`` a reverse proxy serves it under."""
    app = dash.Dash(
        "hrss_fraud.dashboard",
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,  # page layouts need a request (user, language)
        title="医保基金智能监管 Fund supervision",
        update_title=None,
        on_error=_callback_error,
    )
    server = app.server
    auth.configure(server, Path(workspace), secure_cookies=secure_cookies)
    context.init(server, Path(workspace))
    server.config["HRSS_ALLOWED_ORIGINS"] = tuple(o.rstrip("/").lower() for o in allowed_origins)
    server.before_request(_same_origin)
    server.before_request(lambda: _login_wall(app))
    server.register_error_handler(sqlite3.OperationalError, _store_error)
    server.register_error_handler(DashException, _bad_callback_request)
    server.register_error_handler(KeyError, _bad_callback_request)
    server.add_url_rule("/lang/<code>", "set_lang", _set_lang)
    server.add_url_rule("/logout", "logout", _logout, methods=["POST"])
    app.layout = shell
    return app


def _login_wall(app: dash.Dash) -> Response | tuple[str, int] | None:
    path = request.path
    if path == LOGIN_PATH or path.startswith(_OPEN_PREFIXES):
        return None
    if context.user() is not None:
        return None
    if path.startswith("/_dash-update-component"):
        payload = request.get_json(silent=True)
        output = payload.get("output") if isinstance(payload, dict) else None
        if guard.open_without_session(app.callback_map, output):
            return None
        return "请先登录 (log in first)", 403
    return redirect(LOGIN_PATH)


def _same_origin() -> tuple[str, int] | None:
    """Refuse a state-changing request that does not come from this site's own pages
    (cross-site request forgery): its ``Origin`` (or, without one, ``Referer``) must be
    this host or one of the allowed origins."""
    if request.method in _SAFE_METHODS:
        return None
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and parts.netloc:
        if parts.netloc.lower() == request.host.lower():
            return None
        allowed = current_app.config.get("HRSS_ALLOWED_ORIGINS", ())
        if f"{parts.scheme}://{parts.netloc}".lower() in allowed:
            return None
    log.warning("refused %s %s from origin %r", request.method, request.path, origin)
    return "请求来源不符 (request from another site refused)", 403


def _callback_error(err: Exception) -> None:
    """Dash's handler for an exception a callback raised: a refusal stays a 403; anything
    else is logged with its traceback and told in the message bar; the outputs are left
    as they were."""
    if isinstance(err, auth.AccessDenied):
        raise err
    t = context.t
    if is_busy(err):
        text = t("app.case_store_busy_please_try")
    else:
        log.exception("callback failed", exc_info=err)
        text = t("app.something_went_wrong_was_logged")
    dash.set_props(MESSAGE_BAR, {"children": text, "className": "app-message error"})


def _bad_callback_request(err: Exception) -> tuple[str, int]:
    """A callback request Dash cannot match to a callback (wrong inputs, unknown output):
    a client's mistake or a probe, answered 400 and logged without a traceback page."""
    if isinstance(err, KeyError) and not request.path.startswith("/_dash-update-component"):
        log.exception("request failed", exc_info=err)  # a bug elsewhere, not a bad request
        return "处理出错，已记录日志 (an error occurred and was logged)", 500
    log.warning("bad callback request to %s: %s", request.path, err)
    return "请求格式不正确 (malformed request)", 400


def _store_error(err: sqlite3.OperationalError) -> tuple[str, int]:
    """A plain request (logout, language) that met a busy or broken case store."""
    if is_busy(err):
        return "案件库正忙，请稍后重试 (the case store is busy: try again)", 503
    log.exception("case store error", exc_info=err)
    return "处理出错，已记录日志 (an error occurred and was logged)", 500


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
            html.Span(
                f"{user.display_name}（{role}）"
                if lang == "zh"
                else f"{user.display_name} ({role})",
                id="current-user",
                className="user",
            ),
            html.Form(
                html.Button(t("app.log_out"), type="submit", id="logout", className="link"),
                action="/logout",
                method="POST",
                className="logout",
            ),
        ]
    return html.Header(
        [
            html.Span(t("app.medical_insurance_fund_supervision"), className="brand"),
            html.Nav(links, className="nav"),
            html.Div([switch, *who], className="account"),
        ],
        className="top-bar",
    )


def shell() -> html.Div:
    """The layout of every page: the top bar above the page's own content."""
    return html.Div(
        [
            top_bar(),
            html.Div(id=MESSAGE_BAR, className="app-message", role="alert"),
            html.Main(dash.page_container, className="page"),
        ]
    )


def serve(
    workspace: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8050,
    debug: bool = False,
    secure_cookies: bool = False,
    allowed_origins: tuple[str, ...] = (),
    threads: int = 8,
) -> None:
    """Serve the dashboard with waitress, a production WSGI server (Flask's own server
    only with ``debug``, for development)."""
    app = create_app(workspace, secure_cookies=secure_cookies, allowed_origins=allowed_origins)
    if debug:
        app.run(host=host, port=port, debug=True, threaded=True)
        return
    wsgi_server(app, host=host, port=port, behind_proxy=secure_cookies, threads=threads).run()


def wsgi_server(
    app: dash.Dash, *, host: str, port: int, behind_proxy: bool = False, threads: int = 8
) -> Any:
    """The waitress server for ``app`` (``.run()`` serves, ``.close()`` stops). Behind a
    TLS proxy it trusts the proxy's ``X-Forwarded-Proto``/``-Host`` from loopback only."""
    proxy: dict[str, Any] = {}
    if behind_proxy:
        proxy = {
            "trusted_proxy": "127.0.0.1",
            "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-host"},
            "clear_untrusted_proxy_headers": True,
        }
    return waitress.create_server(
        app.server, host=host, port=port, threads=threads, ident="hrss-fraud", **proxy
    )


def remote_assets(html_text: str, base_url: str) -> list[str]:
    """Script and stylesheet URLs in ``html_text`` served from anywhere but ``base_url``
    (the dashboard must work on a network that reaches nothing outside)."""
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html_text)
    return [
        u
        for u in urls
        if u.startswith(("http://", "https://", "//")) and not u.startswith(base_url)
    ]
