"""Every page and every callback of the dashboard declares who may use it and checks it
itself, on each request: default deny.

- A page's layout function is decorated with :func:`layout`, which takes the permission
  the page registered (``dash.register_page(..., permission="view_leads")``, or
  ``permission=PUBLIC`` for the login page). A page that declares none fails at import.
  Without a session the layout is a redirect to the login page; without the permission,
  a refusal. Nothing of the page's own is computed in either case.
- A callback is registered with :func:`callback` instead of ``dash.callback``, naming
  its permission; without it the request is refused with HTTP 403 before the callback's
  code runs.

``tests/dashboard/test_guard.py`` walks the page registry and the app's callback map:
a page or server-side callback without a declared permission fails it. The login wall
(:mod:`hrss_fraud.dashboard.app`) lets a request without a session reach only the
callbacks declared :data:`PUBLIC` and Dash's own page router, looked up by the output key
Dash itself dispatches on (never by a request's input values).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import dash
from dash import dcc, html

from hrss_fraud.cases.users import PERMISSIONS, known_permission
from hrss_fraud.dashboard import auth, context

PUBLIC = "public"
"""The permission of what a visitor without a session may use: the login page."""
ROUTER_OUTPUT = "_pages_content.children"
"""Dash's own page router (its output key contains this): it only calls the layouts,
each of which checks for itself."""
LOGIN_PATH = "/login"


def declared(permission: str) -> str:
    """``permission`` if it is :data:`PUBLIC` or a known permission, else ``ValueError``."""
    return permission if permission == PUBLIC else known_permission(permission)


def layout(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Guard a page's layout with the permission its page (the module ``fn`` is defined
    in) registered."""
    page = dash.page_registry.get(fn.__module__)
    if page is None or "permission" not in page:
        msg = (
            f"page {fn.__module__} declares no permission: pass permission=… (or "
            f"permission=guard.PUBLIC) to dash.register_page before its layout"
        )
        raise ValueError(msg)
    return guarded_layout(page["permission"], fn)


def guarded_layout(permission: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a layout that first checks ``permission``: for a page registered with
    ``layout=`` (the same permission as its ``register_page`` keyword)."""
    permission = declared(permission)

    @functools.wraps(fn)
    def guarded(**kwargs: Any) -> Any:
        if permission != PUBLIC:
            user = context.user()
            if user is None:
                return to_login()
            if not user.can(permission):
                return refusal(permission)
        return fn(**kwargs)

    guarded.permission = permission  # type: ignore[attr-defined]
    return guarded


def callback(*args: Any, permission: str, **kwargs: Any) -> Callable[..., Any]:
    """``dash.callback(*args, **kwargs)`` whose function first requires ``permission``
    of the session's user (:class:`auth.AccessDenied`, HTTP 403, otherwise)."""
    permission = declared(permission)

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(*a: Any, **k: Any) -> Any:
            if permission != PUBLIC:
                auth.check(context.user(), permission)
            return fn(*a, **k)

        guarded.permission = permission  # type: ignore[attr-defined]
        return dash.callback(*args, **kwargs)(guarded)

    return register


def permission_of(entry: dict[str, Any]) -> str | None:
    """The declared permission of one entry of ``app.callback_map``; ``None`` if its
    function was registered without :func:`callback` (or it runs in the browser)."""
    fn = entry.get("callback")
    return getattr(fn, "permission", None) if fn is not None else None


def open_without_session(callback_map: dict[str, dict[str, Any]], output: str) -> bool:
    """Whether a callback request for ``output`` (the key Dash dispatches on) may run
    without a session: a :data:`PUBLIC` callback, or the page router."""
    if not isinstance(output, str):
        return False
    entry = callback_map.get(output)
    if entry is None:
        return False
    if ROUTER_OUTPUT in output and getattr(entry.get("callback"), "permission", None) is None:
        return True
    return permission_of(entry) == PUBLIC


def to_login() -> html.Div:
    """What a guarded page shows without a session: straight to the login page."""
    t = context.t
    return html.Div(
        [
            dcc.Location(id="guard-to-login", href=LOGIN_PATH, refresh=True),
            html.P(t("guard.please_log_in"), className="muted"),
        ]
    )


def refusal(permission: str) -> html.Div:
    """What a guarded page shows to a role without its permission."""
    t = context.t
    zh, en = PERMISSIONS[permission]
    return html.Div(
        html.P(
            t("guard.your_role_may_not", permission=en if context.lang() == "en" else zh),
            className="error",
            id="guard-refused",
        )
    )
