"""Accounts, roles and permissions, and the ``hrss-fraud users`` commands."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts

from hrss_fraud.cases import open_store, store_path
from hrss_fraud.cases import users as u
from hrss_fraud.cases.operators import bootstrap_actor, login_name
from hrss_fraud.cli.users import users as users_group

GOOD = "Shenhe-2025!"
BOOT = bootstrap_actor()


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path) as s:
        yield s


def test_the_seeded_roles_equal_the_code(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    con = sqlite3.connect(store_path(tmp_path))
    rows = con.execute("SELECT role, label_zh, label_en FROM user_role ORDER BY seq").fetchall()
    con.close()
    assert rows == [(k, *v) for k, v in u.ROLES.items()]


def test_the_permission_table() -> None:
    table = {role: sorted(p for p in u.PERMISSIONS if u.can(role, p)) for role in u.ROLES}
    assert table == {
        "auditor": ["view_leads"],
        "reviewer": ["decide_first_review", "view_identity", "view_leads"],
        "supervisor": [
            "change_parameters",
            "decide_first_review",
            "decide_second_review",
            "manage_inspections",
            "view_identity",
            "view_leads",
        ],
        "admin": ["browse_audit", "manage_users", "view_leads"],
    }
    assert set(u.GRANTS) == set(u.ROLES)
    assert all(set(g) <= set(u.PERMISSIONS) for g in u.GRANTS.values())
    assert not u.can("intruder", "view_leads")
    with pytest.raises(ValueError, match="unknown permission 'view_all'"):
        u.can("admin", "view_all")


@pytest.mark.parametrize(
    ("role", "step", "allowed"),
    [
        ("reviewer", "first_review", True),
        ("reviewer", "复审", False),
        ("supervisor", "second_review", True),
        ("supervisor", "sanction", True),
        ("admin", "first_review", False),
        ("auditor", "appeal", False),
    ],
)
def test_may_decide(role: str, step: str, allowed: bool) -> None:
    assert u.may_decide(role, step) is allowed


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Short1!", "at least 10 characters"),
        ("aaaaaaaaaaaa", "too few different characters"),
        ("onlyletterspass", "mix letters, digits or symbols"),
        ("1357924680", "mix letters, digits or symbols"),
        ("li.wei-2025x", "must not contain the user name"),
        ("Password123", "a well-known password"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(u.WeakPassword, match=rf"^weak password: .*\({why}\)"):
        u.check_password(password, "li.wei")


def test_strong_passwords_pass() -> None:
    for password in (GOOD, "审核员的密码很长2025", "correct horse battery 9"):
        u.check_password(password, "li.wei")


def test_add_stores_a_salted_slow_hash_never_the_password(store) -> None:
    a = u.add_user(store, "li", role="reviewer", password=GOOD, by="root", display_name="李伟")
    u.add_user(store, "wang", role="审核负责人", password=GOOD, by="root")
    assert (a.username, a.display_name, a.role, a.active) == ("li", "李伟", "reviewer", True)
    hashes = [h for (h,) in store.query("SELECT password_hash FROM users ORDER BY user_id")]
    assert all(h.startswith("scrypt:") and GOOD not in h for h in hashes)
    assert hashes[0] != hashes[1]  # salted: the same password, two hashes
    assert u.get_user(store, "WANG").role == "supervisor"  # names match in any case
    assert u.get_user(store, "wang").display_name == "wang"
    log = store.audit_log("li").row(0, named=True)
    assert (log["actor"], log["action"], log["object_type"]) == ("root", "user.add", "user")
    assert GOOD not in (log["detail"] or "")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"username": "l"}, "user name 'l': 2–32 letters"),
        ({"username": "li wei"}, "user name 'li wei'"),
        ({"role": "boss"}, r"role 'boss' is not one of: auditor \(稽核员\)"),
        ({"by": " "}, "say who makes the change"),
        ({"password": "short"}, "weak password"),
        ({"username": "LI"}, "user 'LI' already exists"),
    ],
)
def test_a_bad_add_writes_nothing(store, kw: dict[str, str], message: str) -> None:
    u.add_user(store, "li", role="reviewer", password=GOOD, by="root")
    args = {"username": "zhao", "role": "auditor", "password": GOOD, "by": "root"} | kw
    with pytest.raises(u.UserError, match=message):
        u.add_user(store, args.pop("username"), **args)
    assert [x.username for x in u.list_users(store)] == ["li"]
    assert store.audit_log().height == 1


def test_disable_enable_passwd_and_list(store) -> None:
    for name, role in (("zz_admin", "admin"), ("li", "reviewer"), ("an", "auditor")):
        u.add_user(store, name, role=role, password=GOOD, by="root")
    old = u.password_hash(store, "li")
    assert not u.set_active(store, "LI", False, by="zz_admin").active
    u.set_password(store, "li", "Another-pass-9", by="zz_admin")
    assert u.password_hash(store, "li") != old
    assert [x.username for x in u.list_users(store)] == ["an", "li", "zz_admin"]
    assert [x.username for x in u.list_users(store, include_disabled=False)] == ["an", "zz_admin"]
    assert u.set_active(store, "li", True, by="zz_admin").active
    actions = store.audit_log("li")["action"].to_list()
    assert actions == ["user.add", "user.disable", "user.password", "user.enable"]
    with pytest.raises(u.UserError, match="no user 'ghost'"):
        u.set_active(store, "ghost", False, by="zz_admin")
    with pytest.raises(u.WeakPassword):
        u.set_password(store, "li", "li12345678", by="zz_admin")


def test_users_are_never_deleted(store) -> None:
    u.add_user(store, "li", role="reviewer", password=GOOD, by="root")
    with (
        pytest.raises(sqlite3.IntegrityError, match="disabled, never deleted"),
        store.transaction() as con,
    ):
        con.execute("DELETE FROM users")


def _cli(ws: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(users_group, list(args), obj={"workspace": ws}, input=stdin)


def test_cli_add_list_disable_passwd(tmp_path: Path) -> None:
    r = _cli(tmp_path, "add", "boss", "--role", "admin", "--password-stdin", stdin=GOOD + "\n")
    assert r.exit_code == 0, r.output
    assert r.output == f"user boss added (admin 系统管理员); bootstrap, recorded as {BOOT}\n"
    r = _cli(tmp_path, "add", "li", "--role", "reviewer", "--name", "李伟", "--password-stdin",
             "--by", "BOSS", stdin=GOOD + "\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.output == "user li added (reviewer 审核员)\n"
    r = _cli(tmp_path, "add", "wang", "--role", "supervisor", "--by", "boss",
             stdin=f"{GOOD}\n{GOOD}\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.output.count("Password") == 1 and "Repeat password" in r.output
    lines = _cli(tmp_path, "list").output.splitlines()
    assert [ln.split("\t")[:4] for ln in lines] == [
        ["li", "李伟", "reviewer 审核员", "启用 active"],
        ["wang", "wang", "supervisor 审核负责人", "启用 active"],
        ["boss", "boss", "admin 系统管理员", "启用 active"],
    ]
    assert _cli(tmp_path, "disable", "li", "--by", "boss").output == "user li disabled\n"
    assert "停用 disabled" in _cli(tmp_path, "list").output.splitlines()[0]
    r = _cli(tmp_path, "passwd", "wang", "--password-stdin", "--by", "boss",
             stdin="Brand-new-pass-1\n")  # fmt: skip
    assert r.exit_code == 0 and r.output == "password of wang changed\n"
    with open_store(tmp_path) as store:
        assert store.audit_log("boss")["actor"].to_list() == [BOOT]
        assert store.audit_log("li")["actor"].to_list() == ["boss", "boss"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("add", "li", "--role", "boss", "--password-stdin"), GOOD, "role 'boss' is not one of"),
        (("add", "li", "--role", "admin", "--password-stdin"), "abc", "weak password"),
        (("add", "li", "--role", "admin", "--password-stdin"), "", "no password on standard"),
        (("add", "wang", "--role", "admin", "--password-stdin"), GOOD, "already exists"),
        (("disable", "ghost"), None, "no user 'ghost'"),
        (("enable", "ghost"), None, "no user 'ghost'"),
        (("enable", "WANG"), None, "user wang is already enabled"),
        (("passwd", "ghost", "--password-stdin"), GOOD, "no user 'ghost'"),
    ],
)
def test_cli_errors_exit_1_with_one_line(
    tmp_path: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    _cli(tmp_path, "add", "wang", "--role", "admin", "--password-stdin", stdin=GOOD)
    r = _cli(tmp_path, *args, "--by", "wang", stdin=None if stdin is None else stdin + "\n")
    assert r.exit_code == 1
    assert r.stderr.startswith("hrss-fraud: error: ") and message in r.stderr
    assert r.stderr.count("\n") == 1


def test_cli_prompts_until_the_two_entries_match(tmp_path: Path) -> None:
    r = _cli(tmp_path, "add", "li", "--role", "admin", stdin=f"{GOOD}\nother\n{GOOD}\n{GOOD}\n")
    assert r.exit_code == 0, r.output
    assert "Error: The two entered values do not match." in r.output


def test_cli_enable_gives_a_disabled_account_back(tmp_path: Path) -> None:
    _cli(tmp_path, "add", "boss", "--role", "admin", "--password-stdin", stdin=GOOD)
    _cli(tmp_path, "add", "li", "--role", "reviewer", "--password-stdin", "--by", "boss",
         stdin=GOOD)  # fmt: skip
    assert _cli(tmp_path, "disable", "li", "--by", "boss").exit_code == 0
    r = _cli(tmp_path, "enable", "LI", "--by", "Boss")
    assert r.exit_code == 0 and r.output == "user li enabled\n"
    with open_store(tmp_path) as store:
        assert u.get_user(store, "li").active
        log = store.audit_log("li").select("actor", "action").rows()
    assert log == [("boss", "user.add"), ("boss", "user.disable"), ("boss", "user.enable")]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ((), ("add", "li", "--role", "reviewer"), "no enabled administrator yet: add one first"),
        ((), ("add", "li", "--role", "admin", "--by", "root"), "--by 'root': no such account"),
        ((), ("disable", "li"), "no enabled administrator yet"),
        (("boss",), ("add", "li", "--role", "admin", "--by", "nobody"), "'nobody': no such"),
        (("boss",), ("add", "li", "--role", "admin", "--by", "sup"), "may not manage users"),
        (("boss",), ("add", "li", "--role", "admin", "--by", "old"), "old is disabled"),
        (("boss",), ("enable", "old", "--by", "sup"), "may not manage users"),
        (("boss",), ("passwd", "sup", "--by", "sup"), "may not manage users"),
    ],
)
def test_cli_operators_must_be_enabled_user_managers(
    tmp_path: Path, setup: tuple[str, ...], args: tuple[str, ...], message: str
) -> None:
    if setup:
        add_accounts(tmp_path, {"boss": "admin", "sup": "supervisor", "old": "admin"})
        with open_store(tmp_path) as store, store.transaction() as con:
            con.execute("UPDATE users SET active = 0 WHERE username = 'old'")
    before = _users_and_log(tmp_path)
    stdin = "--password-stdin" if args[0] in ("add", "passwd") else None
    r = _cli(tmp_path, *args, *([stdin] if stdin else []), stdin=GOOD + "\n")
    assert r.exit_code == 1, r.output
    assert message in r.stderr and r.stderr.count("\n") == 1
    assert _users_and_log(tmp_path) == before


def _users_and_log(ws: Path) -> tuple[list, int]:
    with open_store(ws) as store:
        return store.query("SELECT username, active FROM users"), store.audit_log().height


def test_cli_the_login_name_is_the_default_operator(tmp_path: Path) -> None:
    add_accounts(tmp_path, {login_name(): "admin"})
    r = _cli(tmp_path, "add", "li", "--role", "auditor", "--password-stdin", stdin=GOOD + "\n")
    assert r.exit_code == 0, r.output
    with open_store(tmp_path) as store:
        assert store.audit_log("li")["actor"].to_list() == [login_name()]


def test_the_main_command_has_the_group() -> None:
    from hrss_fraud.cli import main  # the command groups load lazily: ask for it by name

    assert main.get_command(click.Context(main), "users") is users_group


def test_cli_role_changes_the_role_and_ends_the_sessions(tmp_path: Path) -> None:
    from hrss_fraud.cases import sessions

    add_accounts(tmp_path, {"boss": "admin", "li": "reviewer"})
    with open_store(tmp_path) as store:
        sessions.open_session(store, "li")
    r = _cli(tmp_path, "role", "LI", "supervisor", "--by", "boss")
    assert r.exit_code == 0 and r.output == "user li: role supervisor (审核负责人)\n"
    with open_store(tmp_path) as store:
        assert u.get_user(store, "li").role == "supervisor"
        assert sessions.open_sessions(store, "li") == 0
        row = store.audit_log("li").filter(action="user.role").row(0, named=True)
    assert row["actor"] == "boss" and '"sessions_ended": 1' in row["detail"]
    for args, message in (
        (("role", "li", "boss", "--by", "boss"), "role 'boss' is not one of"),
        (("role", "ghost", "auditor", "--by", "boss"), "no user 'ghost'"),
        (("role", "boss", "auditor", "--by", "boss"), "may not change their own role"),
        (("role", "li", "admin", "--by", "li"), "may not manage users"),
    ):
        r = _cli(tmp_path, *args)
        assert r.exit_code == 1 and message in r.stderr, (args, r.stderr)
