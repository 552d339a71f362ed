"""The pre-settlement checks page (事前事中审核) over calls the real check service answered
and logged on the scored tiny county: the day's counts, by institution and by rule, each
warning beside the visit's later claim and the latest run's leads on it; the permission;
and the page-text check in both languages."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dash import html
from fastapi.testclient import TestClient
from helpers.accounts import add_accounts, user
from helpers.check_service import ADMIN, platform_message
from helpers.page_text import page_offences, report
from helpers.shared import copy_workspace

from hrss_fraud.cases import open_store
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import auth, context
from hrss_fraud.dashboard import checks_view as cv
from hrss_fraud.dashboard.app import create_app as create_dash_app
from hrss_fraud.dashboard.audit_view import NotADate
from hrss_fraud.engine.catalogue import SEVERITIES
from hrss_fraud.outputs.runs_view import open_view
from hrss_fraud.precheck.keys import add_key
from hrss_fraud.precheck.replay import replay_visit
from hrss_fraud.precheck.service import create_app

pytestmark = pytest.mark.slow

N_VISITS = 6


@dataclass
class Logged:
    """The workspace, and what the service answered: each check's verdict and warnings,
    the handling sent back per warning, and the visits the run flagged by rule."""

    ws: Path
    answers: list[dict[str, Any]]
    handled: dict[str, tuple[str, str]]
    refused: int
    flagged: set[tuple[str, str]]


def _flagged_settlements(ws: Path, rules: set[str]) -> pl.DataFrame:
    """``fixmedins_code, setl_id, mdtrt_id, rule_id`` of visit lines the latest run's
    leads of ``rules`` name."""
    view = open_view(ws)
    lines = pl.scan_parquet(view.lines_path).select("finding_id", "fixmedins_code", "setl_id",
                                                    "mdtrt_id")  # fmt: skip
    found = pl.scan_parquet(view.findings_path).select("finding_id", "rule_id")
    return (
        lines.join(found, on="finding_id")
        .filter(pl.col("rule_id").is_in(sorted(rules)) & pl.col("setl_id").is_not_null())
        .select("fixmedins_code", "setl_id", "mdtrt_id", "rule_id")
        .unique()
        .sort("setl_id", "rule_id")
        .collect()
    )


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory, scored_tiny_county: Path) -> Logged:
    ws = copy_workspace(scored_tiny_county, tmp_path_factory.mktemp("checks") / "ws")
    add_accounts(ws, {ADMIN: "admin", "aud": "auditor", "sup": "supervisor"})
    answers: list[dict[str, Any]] = []
    handled: dict[str, tuple[str, str]] = {}
    with TestClient(create_app(ws)) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        checker = service.checker
        rules = set(checker.rules)
        flagged = _flagged_settlements(ws, rules)
        keys: dict[str, str] = {}
        with open_store(ws) as store:
            for code in flagged["fixmedins_code"].unique().to_list():
                keys[code] = add_key(store, code, by=ADMIN).key
        seen: list[tuple[str, str]] = []
        for code, setl_id in (
            flagged.select("fixmedins_code", "setl_id").unique(maintain_order=True).rows()
        ):
            if len(seen) == N_VISITS:
                break
            visit = replace(replay_visit(checker.snapshot, code, setl_id), setl_id=None)
            infno = "3102" if len(seen) % 2 else "3101"
            r = client.post("/fsi", json=platform_message(visit, infno),
                            headers={"X-API-Key": keys[code]})  # fmt: skip
            assert r.status_code == 200, r.text
            out = r.json()["output"]
            answers.append({"code": code, "mdtrt_id": visit.mdtrt_id, "infno": infno, **out})
            seen.append((code, setl_id))
            warns = []
            for i, x in enumerate(out["result"]):
                if i % 3 == 2:
                    continue  # left without feedback
                way, why = ("1", f"病情需要 {i}") if i % 3 == 0 else ("2", "")
                handled[x["jr_id"]] = (way, why)
                warns.append({"warn_rslt_id": x["jr_id"], "dspo_way": way, "dspo_way_rea": why})
            if warns:
                body = {"infno": "3103", "fixmedins_code": code,
                        "input": {"data": {"warn_type": "1", "warns": warns}}}  # fmt: skip
                r = client.post("/fsi/3103", json=body, headers={"X-API-Key": keys[code]})
                assert r.status_code == 200, r.text
        # another institution's visit: refused (403), logged against the key's institution
        code, other = seen[0][0], next(c for c in keys if c != seen[0][0])
        visit = replace(replay_visit(checker.snapshot, code, seen[0][1]), setl_id=None)
        r = client.post("/fsi", json=platform_message(visit, "3102"),
                        headers={"X-API-Key": keys[other]})  # fmt: skip
        assert r.status_code == 403
        service.calls.flush()
    pairs = {(m, r) for m, r in flagged.select("mdtrt_id", "rule_id").rows()}
    return Logged(ws, answers, handled, 1, pairs)


@pytest.fixture(scope="module")
def report_today(logged: Logged) -> cv.ChecksReport:
    view = open_view(logged.ws)
    with open_store(logged.ws) as store:
        today = date.today()
        return cv.checks_report(store, view, view.catalogue, today, today, role="auditor")


def _warnings(logged: Logged) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(a, x) for a in logged.answers for x in a["result"]]


def test_the_days_counts_are_the_services_answers(logged: Logged, report_today: cv.ChecksReport):
    verdicts = Counter(a["verdict"] for a in logged.answers)
    ways = Counter(w for w, _ in logged.handled.values())
    n_warn = len(_warnings(logged))
    feedback_calls = sum(1 for a in logged.answers if any(
        x["jr_id"] in logged.handled for x in a["result"]))  # fmt: skip
    assert report_today.totals == {
        "calls": len(logged.answers) + feedback_calls + logged.refused,
        "checks": len(logged.answers),
        "passed": verdicts["pass"],
        "warned": verdicts["warn"],
        "blocked": verdicts["block"],
        "refused": logged.refused,
        "warnings": n_warn,
        "continued": ways["1"],
        "changed": ways["2"],
        "no_feedback": n_warn - len(logged.handled),
    }
    assert n_warn > 0 and ways["1"] > 0 and ways["2"] > 0


def test_by_institution_named_and_counted(logged: Logged, report_today: cv.ChecksReport) -> None:
    view = open_view(logged.ws)
    names = dict(view.institutions.select("fixmedins_code", "fixmedins_name").rows())
    df = report_today.by_institution
    for code in {a["code"] for a in logged.answers}:
        row = df.filter(pl.col("fixmedins_code") == code).row(0, named=True)
        mine = [a for a in logged.answers if a["code"] == code]
        assert row["fixmedins_name"] == names[code]
        assert row["checks"] == len(mine)
        assert row["warnings"] == sum(len(a["result"]) for a in mine)
        assert row["blocked"] == sum(a["verdict"] == "block" for a in mine)
    assert df["refused"].sum() == logged.refused


def test_by_rule_with_catalogue_names_and_batch(logged: Logged, report_today: cv.ChecksReport):
    view = open_view(logged.ws)
    rules = view.catalogue.rules
    df = report_today.by_rule
    per_rule = Counter(x["rule_id"] for _, x in _warnings(logged))
    assert dict(df.select("rule_id", "warnings").rows()) == dict(per_rule)
    for row in df.iter_rows(named=True):
        assert row["rule_name"] == rules[row["rule_id"]].name_zh
        both = [(a, x) for a, x in _warnings(logged) if x["rule_id"] == row["rule_id"]]
        assert row["batch_flagged"] == sum((a["mdtrt_id"], x["rule_id"]) in logged.flagged
                                           for a, x in both)  # fmt: skip
    # the visits were chosen among the run's leads: the batch found some of the same
    assert df["batch_flagged"].sum() > 0


def test_each_warning_beside_its_later_claim(logged: Logged, report_today: cv.ChecksReport):
    later = report_today.later
    assert later.height == len(_warnings(logged)) == report_today.n_later  # all in the lake
    by_id = {r["warn_rslt_id"]: r for r in later.iter_rows(named=True)}
    severities = {k: v[0] for k, v in SEVERITIES.items()}
    for a, x in _warnings(logged):
        row = by_id[x["jr_id"]]
        way, why = logged.handled.get(x["jr_id"], ("", ""))
        assert row["mdtrt_id"] == a["mdtrt_id"] and row["claimed"] == "是"
        assert row["handling"] == cv.HANDLING[way][0] and row["reason"] == why
        assert row["severity_label"] == severities[row["severity"]]
        assert row["scene"] == cv.SCENES[a["infno"]][0]
        same = (a["mdtrt_id"], x["rule_id"]) in logged.flagged
        assert row["batch_same"] == ("是" if same else "否")
        assert row["psn_name"] is None or "*" in row["psn_name"]  # an auditor sees it masked


def test_other_days_are_empty_and_bad_dates_refused(logged: Logged) -> None:
    view = open_view(logged.ws)
    yesterday = date.today() - timedelta(days=1)
    with open_store(logged.ws) as store:
        r = cv.checks_report(store, view, view.catalogue, yesterday, yesterday, role="auditor")
        assert r.totals["calls"] == 0 and r.later.height == 0 and r.by_rule.height == 0
        wide = cv.checks_report(store, view, view.catalogue, yesterday, date.today(),
                                role="supervisor")  # fmt: skip
        assert wide.totals["calls"] > 0
    with pytest.raises(NotADate) as e:
        cv.parse_day("2026-13-01", "date_from", date.today())
    assert e.value.field == "date_from"
    with pytest.raises(ValueError, match="早于"):
        cv.utc_bounds(date.today(), yesterday)


def _text(node: Any) -> tuple[str, list[tuple[str, str]]]:
    """A rendered component's visible text, and its table cells as (header, text)."""
    parts: list[str] = []
    cells: list[tuple[str, str]] = []

    def walk(n: Any) -> None:
        if isinstance(n, str | int | float):
            parts.append(str(n))
        elif isinstance(n, list | tuple):
            for c in n:
                walk(c)
        elif n is not None and hasattr(n, "children"):
            if isinstance(n, html.Table):
                head, body = n.children
                heads = [th.children for th in head.children.children]
                for tr in body.children:
                    for h, td in zip(heads, tr.children, strict=True):
                        cells.append((h, str(getattr(td.children, "children", td.children))))
            walk(n.children)

    walk(node)
    return "\n".join(parts), cells


@pytest.fixture(scope="module")
def app(logged: Logged) -> Any:
    return create_dash_app(logged.ws)


def _call(app: Any, monkeypatch: pytest.MonkeyPatch, who: User | None, lang: str, *args: Any):
    from hrss_fraud.dashboard.pages import checks

    monkeypatch.setattr(context, "user", lambda: who)
    monkeypatch.setattr(context, "lang", lambda: lang)
    with app.server.test_request_context("/"):
        return checks._results(1, *args)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_callback_speaks_one_language(logged: Logged, app, monkeypatch, lang: str) -> None:
    out = _call(app, monkeypatch, user("supervisor"), lang, date.today().isoformat(), "")
    text, cells = _text(out)
    from hrss_fraud.dashboard.pages.checks import TOTALS

    totals = dict(cells[: len(TOTALS)])  # the totals table comes first
    assert totals[("审核次数", "checks")[lang == "en"]] == str(len(logged.answers))
    view = open_view(logged.ws)
    rules = view.catalogue.rules.values()
    nouns = [
        *view.institutions["fixmedins_name"].drop_nulls().to_list(),
        *[r.name_zh if lang == "zh" else r.name_en for r in rules],
    ]
    with open_store(logged.ws) as store:
        reasons = [r for (r,) in store.query("SELECT reason FROM check_feedback")]
        today = date.today()
        shown = cv.checks_report(store, view, view.catalogue, today, today, role="supervisor")
    persons = shown.later["psn_name"].drop_nulls().to_list()  # a supervisor sees names
    offences = page_offences(text, cells, lang, [*nouns, *reasons, *persons])
    assert not offences, report("checks", lang, offences)


def test_page_refuses_bad_dates_in_words(app, monkeypatch) -> None:
    out = _call(app, monkeypatch, user("auditor"), "zh", "2026-02-30", "")
    assert out.children.className == "error" and "2026-02-30" in out.children.children
    out = _call(app, monkeypatch, user("auditor"), "en", "2026-03-02", "2026-03-01")
    assert out.children.children == "The end date is before the start date"


def test_without_the_permission_nothing_is_shown(app, monkeypatch) -> None:
    from hrss_fraud.dashboard.pages import checks

    disabled = replace(user("auditor"), active=False)
    for who in (None, disabled):  # every role holds view_leads: no session, or disabled
        with pytest.raises(auth.AccessDenied):
            _call(app, monkeypatch, who, "zh", date.today().isoformat(), "")
        with app.server.test_request_context("/"):
            shown = checks.layout()
        assert "checks-results" not in str(shown)
