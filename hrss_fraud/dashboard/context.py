"""What every page and callback of the dashboard needs from the running app: the workspace,
its runs, a case store for this request, the logged-in user and the chosen language.

The app factory calls :func:`init` once; pages then import these functions instead of
reaching into Flask, so a page never opens a second copy of the run cache. The case store
is opened once per request and closed when it ends (:func:`auth.request_store`): an SQLite
connection belongs to one thread, and the web server answers each request on a thread of
its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import (
    Flask,
    Response,
    after_this_request,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
)

from hrss_fraud.cases.store import CaseStore, open_store
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import auth, i18n
from hrss_fraud.outputs.labels import LANGS
from hrss_fraud.outputs.runs_view import RunCache

EXTENSION = "hrss_fraud_dashboard"
DEFAULT_LANG = "zh"
LANG_COOKIE = "hrss_lang"
SECURE_LANG_COOKIE = "__Host-hrss_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600
"""The chosen language lives in a cookie of its own, which only :func:`set_lang` writes.
It used to sit in the signed session cookie, which every response re-sends as the
request found it: a callback sent before a switch and answered after it wrote the old
language back, undoing the switch (issue 18)."""
_LANG_KEY = "hrss_lang"


@dataclass
class DashboardState:
    """The app's one workspace and the run cache its threads share."""

    workspace: Path
    runs: RunCache


_default: DashboardState | None = None
"""The last app set up, for code run outside a request (a test, a script)."""


def init(server: Flask, workspace: Path) -> DashboardState:
    """Attach ``workspace`` to the Flask ``server`` and close each request's case store at
    its end; called by :func:`hrss_fraud.dashboard.app.create_app`."""
    global _default
    state = DashboardState(Path(workspace), RunCache(Path(workspace)))
    server.extensions[EXTENSION] = state
    _default = state
    return state


def _state() -> DashboardState:
    if has_app_context() and EXTENSION in current_app.extensions:
        return current_app.extensions[EXTENSION]
    if _default is None:
        msg = "the dashboard is not set up: call create_app(workspace) first"
        raise RuntimeError(msg)
    return _default


def workspace() -> Path:
    return _state().workspace


def runs() -> RunCache:
    return _state().runs


def store() -> CaseStore:
    """The workspace's case store for the current request (opened on first use, closed
    when the request ends); outside a request, a new one the caller must close."""
    if not has_request_context():
        return open_store(workspace())
    return auth.request_store()


def user() -> User | None:
    """The logged-in user, read afresh from the store; ``None`` outside a request."""
    if not has_request_context():
        return None
    return auth.current_user()


def _lang_cookie() -> tuple[str, bool]:
    """The language cookie's name and whether it is ``Secure`` (as the session cookie is:
    behind TLS it is ``__Host-`` prefixed)."""
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    return (SECURE_LANG_COOKIE if secure else LANG_COOKIE), secure


def lang() -> str:
    """The language chosen in this browser: ``"zh"`` unless it switched to ``"en"``."""
    if has_request_context():
        chosen = g.get(_LANG_KEY) or request.cookies.get(_lang_cookie()[0])
        if chosen in LANGS:
            return chosen
    return DEFAULT_LANG


def set_lang(value: str) -> str:
    """Remember ``value`` (``zh`` or ``en``; anything else means zh) in the language
    cookie of this request's response (a Flask route's or a Dash callback's). The only
    writer of the language: no other response carries the cookie, so an answer to a
    request sent before the switch cannot undo it."""
    chosen = value if value in LANGS else DEFAULT_LANG
    first = _LANG_KEY not in g
    setattr(g, _LANG_KEY, chosen)  # this request's later reads see the new language
    if first:
        name, secure = _lang_cookie()

        @after_this_request
        def _remember(response: Response) -> Response:
            response.set_cookie(
                name,
                getattr(g, _LANG_KEY),
                max_age=LANG_COOKIE_AGE,
                path="/",
                secure=secure,
                httponly=True,
                samesite="Lax",
            )
            return response

    return chosen


def text(key: str, language: str, **fields: object) -> str:
    """The screen text ``key`` (``"leads.export_excel"``) in ``language``, its ``{fields}``
    filled in, with the app's workspace's own wording if it has any
    (:mod:`hrss_fraud.dashboard.i18n`)."""
    set_up = _default is not None or (has_app_context() and EXTENSION in current_app.extensions)
    return i18n.text(key, language, workspace() if set_up else None, **fields)


def t(key: str, **fields: object) -> str:
    """:func:`text` in the session's language."""
    return text(key, lang(), **fields)
