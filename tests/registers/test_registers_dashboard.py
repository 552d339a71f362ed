"""The 监管事项 page: its logic on the synthetic bureau, who may draw, and the page drawn
as a logged-in user in both languages."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hrss_fraud.cases import open_store
from hrss_fraud.cases.users import User
from hrss_fraud.dashboard import context
from hrss_fraud.dashboard import registers_callbacks as rc
from hrss_fraud.dashboard import registers_view as rv
from hrss_fraud.dashboard.app import create_app, nav_pages, page_name
from hrss_fraud.registers.definitions import get_register, load_registers
from hrss_fraud.registers.plans import PlanError
from hrss_fraud.registers.synth import synth_bureau

TODAY = date(2026, 12, 7)


def _user(role: str) -> User:
    return User(f"{role}1", role, role, True, "", "")


AUDITOR, BOSS = _user("auditor"), _user("supervisor")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bureau")
    with open_store(out) as store:
        synth_bureau(store, out, today=TODAY, max_documents=0)
    return out


def test_overview_counts_each_register(ws: Path) -> None:
    with open_store(ws) as store:
        df = rv.overview(store, ws, AUDITOR, today=TODAY)
    assert df.height == 4 and (df["entities"] == 16).all()
    assert (df["due"] > 0).all() and (df["overdue"] > 0).all() and (df["past_deadline"] > 0).all()
    with pytest.raises(PermissionError, match="无权查看监管事项"), open_store(ws) as store:
        rv.overview(store, ws, None)


def test_overview_and_check_items_read_in_english(ws: Path) -> None:
    with open_store(ws) as store:
        df = rv.overview(store, ws, AUDITOR, today=TODAY, lang="en")
    assert "Licensed human-resource service agencies" in df["register_name"].to_list()
    item = load_registers(ws)["hr_agency"].check_items[1]
    assert rv.check_item_text(item, "en") == (
        "HRA-02 Staff on post and their social insurance"
        " (《人力资源服务机构管理规定》; 《中华人民共和国社会保险法》)"
    )
    assert rv.check_item_text(item).endswith(
        "（《人力资源服务机构管理规定》；《中华人民共和国社会保险法》）"
    )


def test_detail_tables_in_both_languages_without_legal_representatives(ws: Path) -> None:
    with open_store(ws) as store:
        zh = rv.detail(store, ws, AUDITOR, "private_training", today=TODAY)
        en = rv.detail(store, ws, AUDITOR, "private_training", lang="en", today=TODAY)
        reps = {r for (r,) in store.query("SELECT legal_rep FROM register_entity")}
    assert "逾期" in zh.due["due_state"].to_list() and "overdue" in en.due["due_state"].to_list()
    assert "逾期未整改" in " ".join(zh.rectifications["marks"])
    assert set(en.plans["status_label"]) == {"planned"}
    assert "legal_rep" not in rv.ENTITY_COLUMNS
    assert set(zh.entities["licence_state"]) >= {"即将到期", "已过期"}
    assert not reps & set(zh.entities.select(rv.ENTITY_COLUMNS).to_series(1))


def test_only_a_supervisor_draws_and_bad_input_is_refused(tmp_path: Path, ws: Path) -> None:
    with open_store(ws) as store:
        with pytest.raises(PermissionError, match="无权抽取抽查计划"):
            rv.draw_from_form(store, ws, AUDITOR, code="hr_agency", name="x", n_random=1)
        with pytest.raises(PlanError, match="随机抽取对象数应为不小于 0 的整数（填写的是“三”）"):
            rv.draw_from_form(store, ws, BOSS, code="hr_agency", name="x", n_random="三")
        with pytest.raises(PlanError, match="random N should be a whole number of 0 or more"):
            rv.draw_from_form(store, ws, BOSS, code="hr_agency", name="x", n_random="-1", lang="en")
        with pytest.raises(PlanError, match=r"^请填写计划名称$"):
            rv.draw_from_form(store, ws, BOSS, code="hr_agency", name=" ", n_random=1)
        with pytest.raises(PlanError, match="choose a register"):
            rv.draw_from_form(store, ws, BOSS, code=None, name="x", n_random=1)


def test_the_page_is_listed_and_drawn(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(ws)
    page = next(p for p in nav_pages("auditor") if p["path"] == "/registers")
    assert (page_name(page, "zh"), page_name(page, "en")) == ("监管事项", "Supervision registers")
    from hrss_fraud.dashboard.pages import registers as pg  # registers itself: after the app

    monkeypatch.setattr(context, "user", lambda: AUDITOR)
    with app.server.test_request_context("/registers"):
        layout = str(pg.layout(register="skill_appraisal"))
        assert "register-plan-draw" not in layout  # an auditor may not draw
        assert "register-work" not in layout and "register-disclose" not in layout
        assert "职业技能鉴定机构" in str(pg._overview(0))
        detail = str(pg._detail("skill_appraisal", 0))
        assert "register-due-table" in detail and "register-rect-table" in detail
        assert "现场检查轮次" in str(pg._detail("two_designated", 0))
    monkeypatch.setattr(context, "user", lambda: BOSS)
    with app.server.test_request_context("/registers"):
        layout = str(pg.layout())
        assert "register-plan-draw" in layout and "register-disclose" in layout
        work = str(rc._work("private_training", 3))
        assert "register-insp-record" in work and "data-version='3'" in work
        items = get_register("private_training").check_items
        assert all(f"data-item='{i.code}'" in work for i in items)
        assert rc._work("two_designated", 0) is None  # run by the rounds and notices
        msg = str(pg._draw(1, "hr_agency", "页面抽取", "2", "5", 0)[0])
        assert "已抽取 页面抽取" in msg
    monkeypatch.setattr(context, "lang", lambda: "en")
    with app.server.test_request_context("/registers"):
        work = str(rc._work("private_training", 0))
        assert "Record an inspection" in work and "Order rectification" in work
        assert "登记检查" not in work and "责令整改" not in work and "不合格" not in work


def test_every_workflow_callback_needs_manage_inspections() -> None:
    """As the command line's ``registers`` group: the forms, downloads and the disclosure."""
    permissions = {fn.__name__: kwargs["permission"] for fn, _, kwargs in rc.CALLBACKS}
    assert len(permissions) == 12
    assert set(permissions.values()) == {"manage_inspections"}
