"""Form pieces the rounds and notices pages share."""

from __future__ import annotations

from typing import Any

from dash import html


def field(label: str, component: Any, width: str = "150px") -> html.Label:
    """``component`` under its label, ``width`` wide (forms wrap in a ``decision-form``)."""
    style = {"display": "inline-flex", "flexDirection": "column", "width": width}
    return html.Label([html.Span(label, className="muted"), component], style=style)
