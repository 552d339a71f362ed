"""What the three profile pages (institution, doctor, person) set up alike: their
registration (a page per institution, doctor or person, reached by links and not in the
top bar, plus the institution and person finders that are), and opening a profile of the
latest run, with the page's title and the reason in its place when it cannot be opened (no
scored run yet, an unknown code, a role that may not see persons)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import dash
from dash import html

from hrss_fraud.dashboard import context, guard
from hrss_fraud.dashboard import profile_components as pc
from hrss_fraud.engine.runs import RunError

if TYPE_CHECKING:
    from hrss_fraud.cases.store import CaseStore
    from hrss_fraud.outputs.runs_view import RunView

PERMISSION = "view_leads"
P = TypeVar("P")


def register_page(module: str, path_template: str, name: str, name_en: str) -> None:
    """The profile page ``module`` at ``path_template``: linked to, not in the top bar.

    Named as Dash's own: Dash imports only the files of ``pages/`` whose text says
    ``register_page``."""
    dash.register_page(
        module,
        path_template=path_template,
        name=name,
        name_en=name_en,
        nav=False,
        permission=PERMISSION,
    )


def register_finder(
    page_id: str, path: str, name: str, name_en: str, order: int, layout: Callable[..., html.Div]
) -> None:
    """The top bar's page at ``path`` that finds a profile to open; ``layout`` gets the
    address's query parameters (``/institution?code=…`` opens that profile)."""
    dash.register_page(
        page_id,
        path=path,
        name=name,
        name_en=name_en,
        order=order,
        permission=PERMISSION,
        layout=guard.guarded_layout(PERMISSION, lambda **q: layout(**q)),
    )


def failed(title_key: str, error: Exception) -> html.Div:
    """The page titled ``title_key``, saying why it could not be drawn."""
    return html.Div([html.H1(context.t(title_key)), pc.message(str(error), error=True)])


def open_profile(
    title_key: str, open_: Callable[[RunView, CaseStore, str], P]
) -> tuple[RunView, P] | html.Div:
    """``open_(view, store, lang)`` over the latest run, with that run; or the page titled
    ``title_key`` that says why not (no run, an unknown code, a refused role)."""
    try:
        view = context.runs().latest()
        return view, open_(view, context.store(), context.lang())
    except (RunError, LookupError, PermissionError) as e:
        return failed(title_key, e)
