"""The three profile pages' shared set-up (dashboard/profile_page.py): all are registered
(Dash imports a page file only when its text says ``register_page``), with the finders in
the top bar, and a profile that cannot be opened shows the page's title and why. Drawn
over the scored tiny county in both languages, they show no raw field name, bare code,
true/false, lead id, unrounded amount or seconds, and their charts read months and
amounts in the page's language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dash
import polars as pl
import pytest
from dash import html
from helpers.page_text import code_offences, other_language_offences, raw_name_offences
from helpers.shared import copy_workspace

from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import context, profile_page
from hrss_fraud.dashboard.app import create_app
from hrss_fraud.engine.runs import open_run


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    return create_app(tmp_path_factory.mktemp("profiles"))


def test_the_profile_pages_and_their_finders_are_registered(app) -> None:
    pages = {p.get("path_template") or p["path"]: p for p in dash.page_registry.values()}
    for template in (
        "/institution/<fixmedins_code>",
        "/doctor/<fixmedins_code>/<dr_codg>",
        "/person/<psn_no>",
    ):
        assert pages[template]["nav"] is False
        assert pages[template]["permission"] == profile_page.PERMISSION
    assert (pages["/institution"]["order"], pages["/person"]["order"]) == (20, 30)
    assert pages["/institution"]["name_en"] == "Institutions"


def test_a_profile_without_a_run_says_why_under_its_title(app) -> None:
    with app.server.test_request_context("/"):
        shown = profile_page.open_profile("institution.institution", lambda *_: "never")
    assert not isinstance(shown, tuple)
    title, reason = shown.children
    assert title.children == "机构画像"
    assert "error" in reason.className


# --- the pages as drawn over the scored tiny county, in both languages ---------------------

ZH_MONTH = re.compile(r"^\d{4}年\d{1,2}月$")
EN_MONTH = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$")


def _plain(component: Any) -> str:
    """The text of a table cell (a link's text)."""
    children = getattr(component, "children", component)
    return "".join(_plain(c) for c in children) if isinstance(children, list) else str(children)


def _cells(table: html.Table) -> list[tuple[str, str]]:
    """``(column header, cell text)`` of every cell of ``table``; a two-column table of
    fields and values (the person's identity) also as ``(field, value)``."""
    head, body = table.children
    headers = [_plain(th) for th in head.children.children]
    pairs = []
    for tr in body.children:
        cells = [_plain(td) for td in tr.children]
        pairs += list(zip(headers, cells, strict=True))
        if headers in (["字段", "值"], ["field", "value"]):
            pairs.append((cells[0], cells[1]))
    return pairs


def _texts(component: Any, out: list[str], figures: list[dict], cells: list) -> None:
    """Every text a reader of ``component`` sees: its children, grid headers and cells,
    dropdown labels; figures and table cells are collected apart."""
    if isinstance(component, html.Table):
        cells += _cells(component)
    if component is None or isinstance(component, bool):
        return
    if isinstance(component, str | int | float):
        out.append(str(component))
        return
    if isinstance(component, list | tuple):
        for child in component:
            _texts(child, out, figures, cells)
        return
    _texts(getattr(component, "children", None), out, figures, cells)
    for c in getattr(component, "columnDefs", None) or []:
        out.append(c["headerName"])
    for row in getattr(component, "rowData", None) or []:
        out += [re.sub(r"\]\(.*?\)$", "", str(v)).lstrip("[") for v in row.values() if v]
    figure = getattr(component, "figure", None)
    if figure is not None:
        figures.append(figure if isinstance(figure, dict) else figure.to_plotly_json())


def _figure_texts(figure: dict) -> list[str]:
    """A figure's legend entries, hover texts, axis titles and category ticks."""
    out = []
    for trace in figure["data"]:
        template = re.sub(
            r"%\{[^}]*\}|<extra>.*?</extra>|<br>", " ", trace.get("hovertemplate") or ""
        )
        out += [str(trace.get("name") or ""), template]
        text = trace.get("text")
        out += [str(t) for t in text] if isinstance(text, list | tuple) else [str(text or "")]
    for key, axis in figure["layout"].items():
        if key.startswith(("xaxis", "yaxis")):
            title = (axis.get("title") or {}).get("text")
            out += [str(title or ""), *map(str, axis.get("ticktext") or [])]
    return out


@pytest.fixture(scope="module")
def county_app(county_ws: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app over a copy of the scored county (opening a person writes the audit log)."""
    ws = copy_workspace(county_ws, tmp_path_factory.mktemp("profile_pages") / "ws")
    return create_app(ws), open_run(ws).findings()


def _drawn(county_app, page: str, lang: str, monkeypatch) -> tuple[str, list[dict], list[str]]:
    """(the page's text, its figures, the leads ids of its unit) as a supervisor sees it;
    a bare code in a coded column fails here."""
    # the pages register themselves with Dash: imported once the app is made
    from hrss_fraud.dashboard.pages import doctor, institution, person

    app, findings = county_app
    psn = findings.drop_nulls("psn_no")["psn_no"].mode().sort()[0]
    code = findings["fixmedins_code"].mode().sort()[0]
    dr = (
        findings.filter(
            pl.col("entity_type") == "doctor",
            pl.col("fixmedins_code") == code,
            ~pl.col("entity_id").str.contains("|", literal=True),
        )["entity_id"]
        .sort()
        .first()
    )
    layouts = {
        "person": (lambda: person.layout(psn_no=psn), pl.col("psn_no") == psn),
        "institution": (
            lambda: institution.layout(fixmedins_code=code),
            pl.col("fixmedins_code") == code,
        ),
        "doctor": (
            lambda: doctor.layout(fixmedins_code=code, dr_codg=dr),
            pl.col("entity_id").str.ends_with(str(dr)),
        ),
    }
    draw, unit = layouts[page]
    monkeypatch.setattr(context, "user", lambda: User("boss1", "boss", "supervisor", True, "", ""))
    monkeypatch.setattr(context, "lang", lambda: lang)
    texts: list[str] = []
    figures: list[dict] = []
    cells: list[tuple[str, str]] = []
    with app.server.test_request_context("/"):
        _texts(draw(), texts, figures, cells)
    assert cells
    assert [str(o) for o in code_offences(cells)] == []
    for figure in figures:
        texts += _figure_texts(figure)
    return "\n".join(texts), figures, findings.filter(unit)["finding_id"].to_list()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", ["person", "institution", "doctor"])
def test_a_profile_shows_no_raw_name_code_flag_or_lead_id(
    county_app, page: str, lang: str, monkeypatch
) -> None:
    text, figures, lead_ids = _drawn(county_app, page, lang, monkeypatch)
    assert figures
    assert [str(o) for o in raw_name_offences(text)] == []
    assert not re.search(r"\b(True|False|None|nan)\b", text)
    assert lead_ids and not [f for f in lead_ids if f in text]
    assert not re.search(r"\d\.\d{3,}", text.replace("%{", ""))  # amounts to the fen at most
    assert not re.search(r"\d{2}:\d{2}:\d{2}", text)  # times to the minute
    if lang == "en":
        assert not re.search(r"[（）：，；]|元|人次|疑点|同类", text)
    else:
        assert [str(o) for o in other_language_offences(text, "zh")] == []


def test_the_person_page_labels_gender_and_insurance(county_app, monkeypatch) -> None:
    zh, _, _ = _drawn(county_app, "person", "zh", monkeypatch)
    en, _, _ = _drawn(county_app, "person", "en", monkeypatch)
    assert re.search(r"性别\n(男|女)\n", zh)
    assert re.search(r"险种类型\n[^\n0-9]+保险\n", zh)
    assert re.search(r"\nsex\n(male|female)\n", en)
    assert "\n是\n" in zh and "\nYes\n" in en


@pytest.mark.parametrize(("lang", "month"), [("zh", ZH_MONTH), ("en", EN_MONTH)])
def test_the_institution_trend_reads_months_and_amounts_in_the_language(
    county_app, lang: str, month: re.Pattern, monkeypatch
) -> None:
    _, figures, _ = _drawn(county_app, "institution", lang, monkeypatch)
    trend = next(f for f in figures if f["layout"].get("yaxis2", {}).get("overlaying"))
    months = trend["data"][0]["x"]
    assert months and all(month.match(m) for m in months)
    left = trend["layout"]["yaxis"]
    if lang == "zh":
        assert left["title"]["text"] == "金额（万元）"
        assert all("¥" not in t for t in left["ticktext"])
    else:
        assert left["title"]["text"] == "amount"
        assert left["ticktext"][-1].startswith("¥")


def test_the_person_timeline_ticks_in_chinese_months(county_app, monkeypatch) -> None:
    _, (timeline,), _ = _drawn(county_app, "person", "zh", monkeypatch)
    axis = timeline["layout"]["xaxis"]
    assert {s["value"] for s in axis["tickformatstops"]} >= {"%Y年%-m月"}
    assert "%b" not in str(axis)
