"""Every page of the dashboard, in Chinese and in English, shows no raw field name, no code
without its label and no text of the other language (issue 18). The checks are the pure
functions of tests/helpers/page_text.py; a failure names the page, the language and each
offending token with the text around it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
import pytest
from helpers.page_text import identifier_headers, page_offences, report

from hrss_fraud.cases.store import open_store
from hrss_fraud.cases.users import list_users
from hrss_fraud.dashboard.screenshots import open_first_lead, wait_for_cases
from hrss_fraud.engine.params import read_log, workspace_log
from hrss_fraud.lake import Lake

NOUN_COLUMNS = {
    "institution": ("fixmedins_name", "admdvs_name"),
    "person": ("psn_name", "emp_name", "addr"),
    "practitioner": ("dr_name",),
    "catalogue": ("med_list_name",),
    "fee_detail": ("medins_list_name",),
    "diagnosis": ("dise_name",),
    "settlement": ("dise_name",),
    "procedure": ("oprn_oprt_name",),
}
"""The lake's proper nouns: names of institutions, zones, people (and addresses), doctors,
drugs and items, diagnoses and operations — data, shown as they are in either language."""


@dataclass(frozen=True)
class Units:
    """Real units of the walked county, and the text that is data rather than screen text:
    the names the lake holds, and the accounts."""

    institution: str
    doctor: str
    person: str
    proper_nouns: tuple[str, ...]


@pytest.fixture(scope="module")
def units(live_dashboard) -> Units:
    with Lake(live_dashboard.workspace / "lake").connect() as con:
        institution, doctor = con.execute(
            "SELECT fixmedins_code, dr_codg FROM practitioner WHERE fixmedins_code IN"
            " (SELECT fixmedins_code FROM settlement GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)"
            " ORDER BY dr_codg LIMIT 1"
        ).fetchone()
        (person,) = con.execute(
            "SELECT psn_no FROM settlement GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
        nouns = {
            value
            for table, columns in NOUN_COLUMNS.items()
            for column in columns
            for (value,) in con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()
            if value
        }
    with open_store(live_dashboard.workspace) as store:
        nouns |= {u.username for u in list_users(store)} | {"test"}  # and who made them
    return Units(institution, doctor, person, tuple(nouns))


USER_TEXT = re.compile(
    r"(^|_)(name|content|reason|text|summary|facts|requirements|basis|unit|representative"
    r"|person|complainant|inspectors|rule|note)$"
)
"""Case-store columns holding what users typed (names, a complaint's content, a notice's
facts): data, shown as typed. A code's labels (``label_zh``) are screen text, not these."""


def _store_names(store: Any) -> set[str]:
    """What users typed into the case store, as the other browser tests left it: every
    value of a :data:`USER_TEXT` column of its tables, or key of the audit log's details."""
    names = set()
    for (table,) in store.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for (column,) in store.query(f"SELECT name FROM pragma_table_info('{table}')"):
            if USER_TEXT.search(column):
                rows = store.query(f'SELECT DISTINCT "{column}" FROM "{table}"')
                names |= {v for (v,) in rows if isinstance(v, str) and v}
    for (detail,) in store.query("SELECT DISTINCT detail FROM audit_log WHERE detail IS NOT NULL"):
        typed = json.loads(detail) if detail.startswith("{") else {}  # and the log's details
        names |= {v for k, v in typed.items() if USER_TEXT.search(k) and isinstance(v, str) and v}
    return names


def _change_reasons(live: Any) -> set[str]:
    """Why a rule parameter was changed, as the tests before typed it (the rule page lists
    the changes): data, shown as typed."""
    return {c.reason for c in read_log(workspace_log(live.workspace)) if c.reason}


def _at(path: str, *ready: str) -> Callable[[Any, str, Units], None]:
    """Go to ``path`` (``{institution}`` etc. filled from the units) and wait for ``ready``."""

    def go(page: Any, url: str, u: Units) -> None:
        page.goto(url + path.format(institution=u.institution, doctor=u.doctor, person=u.person))
        for selector in ready:
            page.wait_for_selector(selector)

    return go


def _cases(page: Any, url: str, _u: Units) -> None:
    page.goto(f"{url}/leads")
    wait_for_cases(page)


def _lead_panel(page: Any, url: str, _u: Units) -> None:
    open_first_lead(page, url)


PAGES: dict[str, tuple[str, str, Callable[[Any, str, Units], None]]] = {
    "login": ("/login", "", _at("/login", "#login-username")),
    "overview": ("/", "supervisor", _at("/", "#overview-charts .js-plotly-plot")),
    "leads (cases)": ("/leads", "supervisor", _cases),
    "leads (lead panel)": ("/leads", "supervisor", _lead_panel),
    "quality": ("/quality", "supervisor", _at("/quality", "#quality-institutions .ag-row")),
    "rules": ("/rules", "supervisor", _at("/rules?rule=split_admission", "#rules-params tbody tr")),
    "institutions": ("/institution", "supervisor", _at("/institution", "#institution-ranked")),
    "institution": (
        "/institution/<fixmedins_code>",
        "supervisor",
        _at("/institution/{institution}", "#institution-title", "#institution-leads .ag-row"),
    ),
    "doctor": (
        "/doctor/<fixmedins_code>/<dr_codg>",
        "supervisor",
        _at("/doctor/{institution}/{doctor}", "#doctor-volume .main-svg"),
    ),
    "persons": ("/person", "supervisor", _at("/person", "#person-psn")),
    "person": (
        "/person/<psn_no>",
        "supervisor",
        _at("/person/{person}", "#person-timeline .main-svg"),
    ),
    "rounds": ("/rounds", "supervisor", _at("/rounds", "#rounds-list > div")),
    "notices": ("/notices", "supervisor", _at("/notices", "#notices-list > div")),
    "complaints": ("/complaints", "supervisor", _at("/complaints", "#complaints-list > div")),
    "registers": (
        "/registers",
        "supervisor",
        _at("/registers", "#registers-overview-table", "#register-detail > div"),
    ),
    "audit": ("/audit", "admin", _at("/audit", "#audit-table tbody tr")),
    "checks": ("/checks", "supervisor", _at("/checks", "#checks-summary")),
}
"""Page → (the path it is registered under, the role that opens it ("" for none), how to
get there and wait for it)."""
PAGE_FILES = Path(__file__).parents[3] / "hrss_fraud/dashboard/pages"


def _page_paths() -> set[str]:
    """The paths the page modules register, read from their files (the walk's list is
    made before any app is built)."""
    text = "".join(f.read_text(encoding="utf-8") for f in PAGE_FILES.glob("*.py"))
    return set(re.findall(r'path="(/[^"]*)"', text))


_listed = {path for path, _, _ in PAGES.values()}
PAGES.update(  # pages newer than this list: walked as the supervisor once their h1 shows
    {p.strip("/"): (p, "supervisor", _at(p, "h1")) for p in sorted(_page_paths() - _listed)}
)

CELLS_JS = """() => {
  const out = [];
  const text = el => (el.innerText || el.textContent || '').trim();
  const keep = (head, cell) => { cell.dataset.walkHeader = head; out.push([head, text(cell)]); };
  for (const grid of document.querySelectorAll('.ag-root-wrapper')) {
    const heads = {};
    for (const h of grid.querySelectorAll('.ag-header-cell[col-id]'))
      heads[h.getAttribute('col-id')] = text(h);
    for (const c of grid.querySelectorAll('.ag-cell[col-id]'))
      keep(heads[c.getAttribute('col-id')] || '', c);
  }
  for (const table of document.querySelectorAll('table')) {
    const heads = [...table.querySelectorAll('thead th')].map(text);
    for (const row of table.querySelectorAll('tbody tr')) {
      const cells = [...row.children];
      if (cells.length === 2 && cells[0].tagName === 'TH') keep(text(cells[0]), cells[1]);
      else cells.forEach((c, i) => keep(heads[i] || '', c));
    }
  }
  return out;
}"""
"""Every table cell as (its column's header, its text), each marked with its header."""

HIDE_IDS_JS = """headers => {
  const ids = new Set(headers);
  for (const c of document.querySelectorAll('[data-walk-header]'))
    if (ids.has(c.dataset.walkHeader)) c.style.display = 'none';
}"""
"""Hide the cells of identifier columns (a rule id under 规则编号 is a code), once the
cells were read: the language check reads the rest of the page."""

HEADERS_JS = """() => [...document.querySelectorAll('.ag-header-cell-text')]
  .map(el => el.textContent.trim()).join('\\n')"""


def _walk_params() -> list[Any]:
    params = []
    for name in PAGES:
        for lang in ("zh", "en"):
            params.append(pytest.param(name, lang, id=f"{name}-{lang}"))
    return params


@pytest.mark.parametrize(("name", "lang"), _walk_params())
def test_every_page_speaks_one_language_with_labels(
    live_dashboard, page, units: Units, name: str, lang: str
) -> None:
    _path, role, go = PAGES[name]
    if role:
        live_dashboard.login(page, role)
    # the session cookie a late callback answer sets would undo the switch: wait for them
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_dashboard.url}/lang/{lang}")
    page.wait_for_load_state("networkidle")
    go(page, live_dashboard.url, units)
    page.wait_for_load_state("networkidle")  # every callback of the page has answered
    if role:
        page.wait_for_selector(f"#lang-{lang}.active")
    cells = [tuple(c) for c in page.evaluate(CELLS_JS)]
    page.evaluate(HIDE_IDS_JS, sorted(identifier_headers()))
    text = page.inner_text("body") + "\n" + page.evaluate(HEADERS_JS)
    with open_store(live_dashboard.workspace) as store:  # as the tests before left it
        nouns = (*units.proper_nouns, *_store_names(store), *_change_reasons(live_dashboard))
    offences = page_offences(text, cells, lang, nouns)
    if offences:
        pytest.fail(report(name, lang, offences), pytrace=False)


def test_the_walk_opens_every_page_the_app_registers(live_dashboard) -> None:
    registered = {p.get("path_template") or p["path"] for p in dash.page_registry.values()}
    assert sorted(registered - {path for path, _, _ in PAGES.values()}) == []
