"""Form pieces the rounds, notices, complaints and registers pages share: a labelled field,
what a form answers (saved, refused) and a refusal said in the user's language."""

from __future__ import annotations

import re
from typing import Any

from dash import html

_HAN = re.compile(r"[\u4e00-\u9fff]")
_BILINGUAL = re.compile(r"^(?P<zh>.*[\u4e00-\u9fff].*?)\s*[(（](?P<en>[^()（）]*)[)）]\s*$", re.S)


def field(label: str, component: Any, width: str = "150px") -> html.Label:
    """``component`` under its label, ``width`` wide (forms wrap in a ``decision-form``)."""
    style = {"display": "inline-flex", "flexDirection": "column", "width": width}
    return html.Label([html.Span(label, className="muted"), component], style=style)


def field_name(label: str) -> str:
    """A field's label as a message names it: without the hint in brackets the form shows
    after it ("检查人员（≥2人，逗号分隔）" → "检查人员", "seed (optional)" → "seed")."""
    return re.sub(r"\s*[（(][^（）()]*[)）]$", "", label)


def in_lang(message: str, lang: str) -> str:
    """The part of a bilingual refusal ("请选择监管事项 (choose a register)", as the
    registers and notices packages word theirs) in ``lang``; any other message as it is."""
    m = _BILINGUAL.match(message)
    if m is None or _HAN.search(m["en"]):
        return message
    return m["en"].strip() if lang == "en" else m["zh"].strip()


def saved(text: str) -> html.P:
    """What a save answered: a success message (screen readers announce it)."""
    return html.P(text, className="ok", role="status")


def refused(reason: str | Exception, lang: str = "zh") -> html.P:
    """Why a save was refused, in ``lang`` (:func:`in_lang`): an error message; the
    callback leaves the form's fields alone, so what was typed stays."""
    return html.P(in_lang(str(reason), lang), className="error", role="alert")
