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

from flask import Flask, current_app, has_app_context, has_request_context, session

from hrss_fraud.cases.store import CaseStore, open_store
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import auth, i18n
from hrss_fraud.outputs.labels import LANGS
from hrss_fraud.outputs.runs_view import RunCache

EXTENSION = "hrss_fraud_dashboard"
DEFAULT_LANG = "zh"
_LANG_KEY = "lang"


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


def lang() -> str:
    """The language the session chose: ``"zh"`` unless it switched to ``"en"``."""
    if has_request_context():
        chosen = session.get(_LANG_KEY)
        if chosen in LANGS:
            return chosen
    return DEFAULT_LANG


def set_lang(value: str) -> str:
    """Remember ``value`` (``zh`` or ``en``; anything else means zh) in the session."""
    chosen = value if value in LANGS else DEFAULT_LANG
    session[_LANG_KEY] = chosen
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
