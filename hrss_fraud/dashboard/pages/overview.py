"""总览 Overview: fund spending, leads and amounts at risk, the last run and its changes."""

from __future__ import annotations

import dash
from dash import html

from hrss_fraud.dashboard import context

dash.register_page(__name__, path="/", name="总览", name_en="Overview", order=0)


def layout(**_query: str) -> html.Div:
    return html.Div([html.H1(context.t("总览", "Overview"))])
