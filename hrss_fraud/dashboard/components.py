"""Small pieces of page layout that several pages draw the same way."""

from __future__ import annotations

from typing import Any

from dash import html


def kv(rows: list[tuple[str, Any]], **props: Any) -> html.Table:
    """A two-column table of label and value, one row per pair."""
    return html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows], className="kv", **props)
