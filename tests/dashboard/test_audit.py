"""The audit trail: recording, browsing with filters and pages, and no way to change it."""

from __future__ import annotations

import ast
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from hrss_fraud.cases import audit, open_store
from hrss_fraud.cases.users import add_user
from hrss_fraud.dashboard import audit_view
from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.outputs.labels import column_label

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
Filter = audit.AuditFilter


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path) as s:
        yield s


@pytest.fixture
def logged(store):
    rows = [
        ("li", "login.success", "user", "li", None),
        ("li", "person.view", "person", "P1", {"page": "lead_detail", "finding_id": "F1"}),
        ("li", "finding.view", "finding", "F1", None),
        ("wang", "login.failure", "user", "wang", {"reason": "wrong password"}),
        ("admin", "audit.browse", "audit_log", "-", {"filters": {"actor": "li"}}),
    ]
    for i, (who, action, otype, oid, detail) in enumerate(rows):
        audit.record(store, who, action, otype, oid, detail, at=T0 + timedelta(minutes=i))
    store.record_decision("F1", step="first_review", decision="confirmed", reason="查实", by="li")
    return store


def test_record_writes_one_row_with_json_details(store) -> None:
    audit_id = audit.record(
        store, " li ", "person.view", "person", 42, {"当": "参保人", "at": T0}, at=T0
    )
    row = store.audit_log().row(0, named=True)
    assert row["audit_id"] == audit_id
    assert (row["actor"], row["action"], row["object_type"], row["object_id"]) == (
        "li",
        "person.view",
        "person",
        "42",
    )
    assert row["at"] == T0
    assert json.loads(row["detail"]) == {"当": "参保人", "at": "2025-03-01 08:00:00+00:00"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("li", "person.peek", "person", "P1"), "unknown audit action 'person.peek'"),
        ((" ", "person.view", "person", "P1"), "needs the user name"),
        (("li", "person.view", "", "P1"), "needs the type of object"),
    ],
)
def test_record_refuses_bad_rows(store, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        audit.record(store, *args)
    assert store.audit_log().is_empty()


def test_browse_newest_first_with_labels_and_total(logged) -> None:
    page, total = audit.browse(logged, limit=3)
    assert total == 6  # five recorded here, one by the store with the decision
    assert page.columns == list(audit.BROWSE_SCHEMA)
    assert page["action"].to_list() == ["decision.record", "audit.browse", "login.failure"]
    assert page["action_zh"].to_list() == ["记录审核结论", "查阅审计日志", "登录失败"]
    assert page["action_en"][2] == "failed login"
    second, _ = audit.browse(logged, limit=3, offset=3)
    assert second["object_id"].to_list() == ["F1", "P1", "li"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filter(actor="li"), ["decision.record", "finding.view", "person.view", "login.success"]),
        (Filter(action="login."), ["login.failure", "login.success"]),
        (Filter(action="person.view"), ["person.view"]),
        (Filter(object_type="finding", object_id="F1"), ["decision.record", "finding.view"]),
        (
            Filter(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)),
            ["finding.view", "person.view"],
        ),
    ],
)
def test_browse_filters(logged, filters: audit.AuditFilter, expected: list[str]) -> None:
    page, total = audit.browse(logged, filters)
    assert page["action"].to_list() == expected and total == len(expected)


def test_browse_caps_the_page(logged) -> None:
    page, total = audit.browse(logged, limit=10**9)
    assert page.height == total == 6
    assert audit.MAX_LIMIT == 1000


def test_the_log_cannot_be_changed(logged) -> None:
    assert not [n for n in dir(audit) if n.startswith(("update", "delete", "remove", "edit"))]
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), logged.transaction() as c:
            c.execute(sql)
    assert audit.browse(logged)[1] == 6


def test_every_action_has_both_labels() -> None:
    assert all(len(v) == 2 and all(v) for v in audit.ACTIONS.values())
    assert {"person.view", "decision.record", "decision.import", "deadline.change"} <= set(
        audit.ACTIONS
    )


def test_every_action_the_code_writes_has_labels() -> None:
    """The audit page labels and filters by ACTIONS: an action written without an entry
    would show as a bare code."""
    import re
    from pathlib import Path

    from hrss_fraud.cases.audit import ACTIONS

    root = Path(__file__).resolve().parents[2] / "hrss_fraud"
    written = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(
            re.findall(
                r'"((?:complaint|store|user|notice|decision|round|login|register)(?:\.[a-z_]+)+)"',
                text,
            )
        )
    assert written, "the pattern found no action at all"
    assert sorted(a for a in written if a not in ACTIONS) == []


def test_the_admins_page_shows_labels_and_local_minutes(
    logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "CST-8")  # the office's clock, eight hours ahead of UTC
    time.tzset()
    try:
        admin = add_user(logged, "root", role="admin", password="Qz7!kpLm29xx", by="t")
        flt = audit_view.filter_from_form(date_from="2025-03-01", date_to="2025-03-01")
        rows, _ = audit_view.audit_page(logged, admin, flt, lang="zh")
        failure = rows.filter(pl.col("action") == "login.failure").row(0, named=True)
        en, _ = audit_view.audit_page(logged, admin, flt, lang="en")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert failure["at_local"] == "2025-03-01 16:03"
    assert (failure["action_label"], failure["object_label"]) == ("登录失败", "用户")
    assert failure["detail_text"] == "原因：密码错误"
    viewed = rows.filter(pl.col("action") == "person.view").row(0, named=True)
    assert viewed["object_label"] == "参保人" and "page" not in viewed["detail_text"]
    assert "疑点编号：F1" in viewed["detail_text"]
    assert set(en["object_label"]) <= {"user", "person", "lead", "audit log"}
    assert en.filter(pl.col("action") == "login.failure")["detail_text"][0] == (
        "reason: wrong password"
    )


def test_the_action_filter_offers_labels_only() -> None:
    for lang in ("zh", "en"):
        labels = [c["label"] for c in audit_view.action_choices(lang)]
        assert not [x for x in labels if "." in x or "_" in x or "*" in x]
    prefixes = {code.split(".")[0] + "." for code in audit.ACTIONS if "." in code}
    shared = {p for p in prefixes if sum(c.startswith(p) for c in audit.ACTIONS) > 1}
    assert shared == set(audit_view.FAMILIES)


def test_a_date_that_is_no_date_names_its_field() -> None:
    with pytest.raises(audit_view.NotADate) as caught:
        audit_view.filter_from_form(date_from="2025-03-01", date_to="3月")
    assert (caught.value.field, caught.value.value) == ("date_to", "3月")


def test_every_detail_the_code_writes_has_a_label() -> None:
    """The keys of every detail written beside an action's code, read from the code."""
    keys: set[str] = set()
    for path in Path(audit.__file__).parents[1].rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(call, ast.Call) and any(
                isinstance(a, ast.Constant) and a.value in audit.ACTIONS for a in call.args
            ):
                keys |= {
                    k.value
                    for d in ast.walk(call)
                    if isinstance(d, ast.Dict)
                    for k in d.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
    assert len(keys) > 20
    unlabelled = {k for k in keys if k not in audit_view.DETAIL_LABELS and column_label(k) == k}
    assert unlabelled == set()


def test_coded_detail_values_read_as_labels_in_each_language() -> None:
    """What the walk of every page found in the log other tests left: a round's kinds, an
    export's content and a group's members, in words and each language's punctuation."""
    round_drawn = {"kinds": {"risk": 3, "random": 2, "complaint": 1}, "seed": "7"}
    zh = audit_view.detail_text(round_drawn, "zh")
    assert "重点检查 3、随机抽查 2、投诉举报 1" in zh and "risk" not in zh
    en = audit_view.detail_text(round_drawn, "en")
    assert "risk ranking 3, random draw 2, complaint 1" in en
    assert audit_view.detail_text({"what": "leads"}, "zh") == "内容：疑点清单"
    assert audit_view.detail_text({"members": ["BI2", "BI3"]}, "en") == "members: BI2, BI3"
    assert audit_view.detail_text({"members": ["BI2", "BI3"]}, "zh") == "成员：BI2、BI3"
    moved = {"from": "planned", "to": "in_progress", "reason": "检查组已出发"}
    said = "原状态：已计划；新状态：检查中；原因：检查组已出发"
    assert audit_view.detail_text(moved, "zh") == said
    event = {"person": "张院长", "status": "acknowledged", "items": 1, "source": "dashboard"}
    said = "机构人员：张院长；状态：机构已签收；违约事项数：1；来源：系统界面"
    assert audit_view.detail_text(event, "zh") == said
    handled = {"source": "letter", "outcome": "partly", "handled_on": "2026-12-08"}
    assert (
        audit_view.detail_text(handled, "zh") == "来源：信件；结果：部分属实；办结日期：2026-12-08"
    )
    assert audit_view.object_text("all", "zh") == "全部"
    assert audit_view.object_text("H001", "en") == "H001"


def test_a_rule_and_its_parameter_read_by_their_names(logged) -> None:
    """A parameter change names the rule and the parameter as the rule catalogue does."""
    catalogue = load_catalogue()
    rule = next(r for r in catalogue.rules.values() if r.params)
    param = rule.params[0]
    change = {"param": param.name, "new": 2}
    audit.record(logged, "li", "parameter.change", "rule", rule.id, change)
    admin = add_user(logged, "root", role="admin", password="Qz7!kpLm29xx", by="t")
    flt = audit.AuditFilter(object_id=rule.id)
    rows, _ = audit_view.audit_page(logged, admin, flt, lang="zh", catalogue=catalogue)
    assert rows["object_id"][0] == rule.name_zh
    assert rows["detail_text"][0].startswith(f"参数：{param.description_zh}；")
    bare, _ = audit_view.audit_page(logged, admin, flt, lang="zh")
    assert bare["object_id"][0] == rule.id  # without the catalogue: the id, as recorded
