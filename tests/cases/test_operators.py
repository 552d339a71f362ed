"""Operators of command-line writes: stored accounts, enabled, with the step's permission;
the bootstrap while no enabled account may manage users."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.accounts import add_accounts

from hrss_fraud.cases import CaseStore, open_store
from hrss_fraud.cases.operators import (
    OperatorError,
    bootstrap_actor,
    login_name,
    may_bootstrap,
    operator_or_bootstrap,
    resolve_operator,
    step_permission,
)


@pytest.fixture
def store(tmp_path: Path):
    add_accounts(tmp_path, {"Li.Wei": "reviewer", "adm": "admin", "gone": "supervisor"})
    with open_store(tmp_path) as s:
        with s.transaction() as con:
            con.execute("UPDATE users SET active = 0 WHERE username = 'gone'")
        yield s


def test_a_name_in_any_case_resolves_to_the_stored_account(store: CaseStore) -> None:
    op = resolve_operator(store, "  LI.WEI ")
    assert (op.username, op.role) == ("Li.Wei", "reviewer")
    assert resolve_operator(store, "ADM", permission="manage_users").username == "adm"


@pytest.mark.parametrize(
    ("name", "permission", "message"),
    [
        ("", None, "--by: say who does it"),
        (None, None, "--by: say who does it"),
        ("root", None, "--by 'root': no such account (无此用户)"),
        ("GONE", None, "--by 'GONE': the account gone is disabled (账号已停用)"),
        ("li.wei", "decide_second_review", "Li.Wei (reviewer 审核员) may not decide second review"),
        (
            "adm",
            "decide_first_review",
            "adm (admin 系统管理员) may not decide first review (无权初审决定)",
        ),
    ],
)
def test_refusals_name_the_operator_and_why(
    store: CaseStore, name: str | None, permission: str | None, message: str
) -> None:
    with pytest.raises(OperatorError) as err:
        resolve_operator(store, name, permission=permission)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_steps_map_to_their_permission() -> None:
    assert step_permission("初审") == "decide_first_review"
    assert step_permission("sanction") == "decide_second_review"
    with pytest.raises(OperatorError, match="step '终审' is not one of"):
        step_permission("终审")


def test_the_bootstrap_holds_only_while_nobody_may_manage_users(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert may_bootstrap(store)
        assert operator_or_bootstrap(store, None, permission="manage_users") == bootstrap_actor()
        assert bootstrap_actor() == f"os:{login_name()}"
        with pytest.raises(OperatorError, match=r"no such account.*leave out --by"):
            operator_or_bootstrap(store, "someone", permission="manage_users")
    add_accounts(tmp_path, {"demo": "supervisor"})  # what `hrss-fraud demo` leaves
    with open_store(tmp_path) as store:
        assert may_bootstrap(store)
        add_accounts(tmp_path, {"boss": "admin"})
        assert not may_bootstrap(store)
        assert operator_or_bootstrap(store, "BOSS", permission="manage_users") == "boss"
        with pytest.raises(OperatorError, match="no such account") as err:
            operator_or_bootstrap(store, None, permission="manage_users")  # the login: no account
        assert "leave out --by" not in str(err.value)
