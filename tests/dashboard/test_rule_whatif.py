"""The rule page's what-if (试算): its callback sets a value's figures beside the latest
run's as the engine computes them, names a refused parameter by its label, shows no
person, and is refused without the permission to see rule figures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dash import html
from helpers.accounts import user
from helpers.shared import copy_workspace

from hrss_fraud.dashboard import auth, context
from hrss_fraud.dashboard import rule_whatif_view as wv
from hrss_fraud.dashboard.app import create_app
from hrss_fraud.detectors import models
from hrss_fraud.engine import whatif
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.engine.runs import open_run


@pytest.fixture(scope="module")
def app_ws(county_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The app over a copy of the scored county (a try keeps its database there)."""
    ws = copy_workspace(county_ws, tmp_path_factory.mktemp("whatif_page") / "ws")
    return create_app(ws), ws


def _texts(component: Any) -> list[str]:
    out: list[str] = []

    def walk(c: Any) -> None:
        if isinstance(c, str | int | float):
            out.append(str(c))
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)

    walk(component)
    return out


def _cells(component: Any) -> list[list[str]]:
    """The rows of the figures table, each as its cells' texts."""
    rows: list[list[str]] = []

    def walk(c: Any) -> None:
        if isinstance(c, html.Tr):
            rows.append(["".join(_texts(td)) for td in c.children])
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)

    walk(component)
    return rows


def _try(app_ws, monkeypatch, role: str | None, lang: str, value: str) -> Any:
    from hrss_fraud.dashboard.pages import rules

    app, _ = app_ws
    monkeypatch.setattr(context, "user", lambda: None if role is None else user(role))
    monkeypatch.setattr(context, "lang", lambda: lang)
    with app.server.test_request_context("/"):
        ids = [{"type": "rules-try-value", "param": "days"}]
        return rules._try(1, "split_admission", [value], ids)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_auditor_sees_the_figures_beside_the_latest_run(app_ws, monkeypatch, lang) -> None:
    _, ws = app_ws
    shown = _try(app_ws, monkeypatch, "auditor", lang, "30")
    out = whatif.try_rule(ws, "split_admission", {"days": 30}, models=models)
    assert out.current is not None and out.difference is not None
    rows = _cells(shown)
    assert rows[0] == (
        ["指标", "最新批次", "试算", "差额"]
        if lang == "zh"
        else ["Measure", "Latest run", "What-if", "Difference"]
    )
    findings, amount, institutions = rows[1:]
    assert findings[1:] == [
        f"{out.current.findings:,}",
        f"{out.tried.findings:,}",
        f"+{out.tried.findings - out.current.findings:,}",
    ]
    assert amount[2] == f"{out.tried.amount_at_risk:,.2f}"
    assert institutions[2] == f"{out.tried.institutions:,}"
    text = " ".join(_texts(shown))
    assert f"{out.difference.new_leads:,}" in text and "15 → 30" in text
    people = set(open_run(ws).findings()["psn_no"].drop_nulls())
    assert people and not any(p in text for p in people)


def test_a_refused_value_is_named_by_its_label(app_ws, monkeypatch) -> None:
    shown = _try(app_ws, monkeypatch, "reviewer", "zh", "61")
    days = load_catalogue(workspace=app_ws[1]).rules["split_admission"].param("days")
    assert isinstance(shown, html.P) and shown.className == "error"
    assert shown.children == f"“{days.description_zh}”须在 1～60天之间，填写的是 61"


def test_no_try_without_a_session(app_ws, monkeypatch) -> None:
    with pytest.raises(auth.AccessDenied):
        _try(app_ws, monkeypatch, None, "zh", "30")


def _inputs(component: Any) -> list[Any]:
    found: list[Any] = []

    def walk(c: Any) -> None:
        if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == "rules-try-value":
            found.append(c)
        children = getattr(c, "children", c if isinstance(c, list | tuple) else None)
        if isinstance(children, list | tuple):
            for x in children:
                walk(x)
        elif children is not None and not isinstance(children, str | int | float):
            walk(children)

    walk(component)
    return found


def test_the_rule_detail_offers_a_try_from_the_values_in_force(app_ws, monkeypatch) -> None:
    from hrss_fraud.dashboard.pages import rules

    app, _ = app_ws
    monkeypatch.setattr(context, "user", lambda: user("auditor"))
    monkeypatch.setattr(context, "lang", lambda: "zh")
    with app.server.test_request_context("/"):
        detail = rules._show("split_admission")
    assert [(i.id["param"], i.value) for i in _inputs(detail)] == [("days", "15")]
    assert "试算（不保存）" in _texts(detail)


def test_the_notes_say_when_the_latest_run_has_no_result_of_the_rule(app_ws) -> None:
    _, ws = app_ws
    out = whatif.try_rule(ws, "split_admission", {}, models=models)
    assert not any("未能运行" in n for n in wv.notes(out, "zh", ws))
    failed = replace(out, run_status="failed")
    assert any("未能运行" in n for n in wv.notes(failed, "zh", ws))
    assert any("did not run" in n for n in wv.notes(failed, "en", ws))
