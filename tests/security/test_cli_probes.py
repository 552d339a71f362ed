"""The command line probed as the security review did (issue 15): free-text operators, a
busy case store, world-readable files, an unaudited restore, unvalidated complaints, and
an account nobody could enable again. Each probe is one command as an operator would run
it, against a small workspace: a published run of three leads and a few accounts."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from helpers.accounts import PASSWORD, add_accounts

from hrss_fraud.cases import open_store, store_path
from hrss_fraud.cases.busy import BUSY_TIMEOUT_ENV
from hrss_fraud.cli import main
from hrss_fraud.engine.runs import publish

ACCOUNTS = {"li": "reviewer", "adm": "supervisor", "wang": "supervisor", "boss": "admin"}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    findings = pl.DataFrame(
        {
            "finding_id": ["F1", "F2", "F3"],
            "rule_id": ["dup_billing"] * 3,
            "fixmedins_code": ["H13012300001"] * 3,
            "entity_type": ["settlement"] * 3,
            "amount_at_risk": [120.0, 80.5, 3.0],
        }
    )
    run_id = "20250401T000000Z-probe"
    publish(ws, run_id, findings, pl.DataFrame({"finding_id": []}), {"run_id": run_id})
    add_accounts(ws, ACCOUNTS | {"gone": "reviewer"})
    with open_store(ws) as store, store.transaction() as con:
        con.execute("UPDATE users SET active = 0 WHERE username = 'gone'")
    return ws


def run(ws: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(ws), *args], input=stdin)


def one_line_error(r: Result, *texts: str) -> None:
    assert r.exit_code == 1, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hrss-fraud: error: "), r.output
    assert all(t in lines[0] for t in texts), lines[0]


def decide(ws: Path, finding: str, step: str, by: str) -> Result:
    return run(ws, "cases", "decide", finding, "--step", step, "--decision", "确认违规",
               "--reason", "病历无记录", "--by", by)  # fmt: skip


# --- who: --by is an account, enabled, allowed ------------------------------------------


def test_a_non_user_cannot_record_a_second_review(ws: Path) -> None:
    one_line_error(decide(ws, "F1", "复审", "老王"), "--by '老王': no such account")
    one_line_error(decide(ws, "F1", "复审", "gone"), "the account gone is disabled")
    one_line_error(decide(ws, "F1", "复审", "li"), "li (reviewer 审核员) may not decide second")
    with open_store(ws) as store:
        assert store.history().is_empty() and store.audit_log().is_empty()


def test_adm_is_adm_for_the_second_reviewer_check(ws: Path) -> None:
    assert decide(ws, "F1", "初审", "adm").exit_code == 0
    one_line_error(decide(ws, "F1", "复审", "ADM"), "复审须由他人进行")
    assert decide(ws, "F1", "复审", "Wang").exit_code == 0
    with open_store(ws) as store:
        assert store.history()["decided_by"].to_list() == ["adm", "wang"]


@pytest.mark.parametrize(
    "args",
    [
        ("complaints", "add", "--received", "2025-03-01", "--source", "电话", "--content", "x"),
        ("rounds", "inspectors", "add", "I1", "--name", "张明"),
        ("notice", "close", "2025-0001", "--text", "x"),
        ("users", "disable", "li"),
        ("users", "enable", "gone"),
    ],
    ids=["complaints", "rounds", "notice", "users-disable", "users-enable"],
)
def test_every_operator_option_refuses_free_text(ws: Path, args: tuple[str, ...]) -> None:
    one_line_error(run(ws, *args, "--by", "intruder"), "--by 'intruder': no such account")


def test_a_disabled_account_can_be_enabled_again_and_it_is_audited(ws: Path) -> None:
    r = run(ws, "users", "enable", "GONE", "--by", "boss")
    assert r.exit_code == 0 and r.output == "user gone enabled\n"
    assert decide(ws, "F2", "初审", "gone").exit_code == 0
    with open_store(ws) as store:
        log = store.audit_log("gone").select("actor", "action").rows()
    assert log == [("boss", "user.enable")]


# --- a busy store: one line, bounded wait, never a traceback ----------------------------


@pytest.fixture
def locked(ws: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Another process's write transaction holds the store; writes wait 0.2 s."""
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.2")
    open_store(ws).close()
    con = sqlite3.connect(store_path(ws), isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        yield ws
    finally:
        con.execute("ROLLBACK")
        con.close()


BUSY = "案件库正忙，请稍后重试 (the case store is busy"


@pytest.mark.parametrize(
    "args",
    [
        ("cases", "decide", "F1", "--step", "初审", "--decision", "待定", "--reason", "x",
         "--by", "li"),
        ("users", "add", "zhao", "--role", "auditor", "--password-stdin", "--by", "boss"),
        ("complaints", "add", "--received", "2025-03-01", "--source", "电话", "--content", "x",
         "--by", "li"),
        ("rounds", "inspectors", "add", "I1", "--name", "张明", "--by", "wang"),
    ],
    ids=["cases-decide", "users-add", "complaints-add", "rounds"],
)  # fmt: skip
def test_a_busy_store_ends_a_write_with_one_line(locked: Path, args: tuple[str, ...]) -> None:
    r = run(locked, *args, stdin=PASSWORD + "\n")
    one_line_error(r, BUSY, "more than 0.2 s")


def test_a_busy_store_gives_no_traceback_in_a_real_process(locked: Path) -> None:
    args = ("cases", "decide", "F1", "--step", "初审", "--decision", "待定", "--reason", "x")
    done = subprocess.run(
        [sys.executable, "-m", "hrss_fraud", "--workspace", str(locked), *args, "--by", "li"],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {BUSY_TIMEOUT_ENV: "0.2"},
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and BUSY in done.stderr
    assert "Traceback" not in done.stderr


# --- files: 0600 and 0700 whatever the umask --------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default: new files readable by everybody
    try:
        yield
    finally:
        os.umask(previous)


def _modes(root: Path) -> tuple[set[int], set[int]]:
    entries = [root, *root.rglob("*")]
    dirs = {stat.S_IMODE(p.stat().st_mode) for p in entries if p.is_dir()}
    files = {stat.S_IMODE(p.stat().st_mode) for p in entries if p.is_file()}
    return dirs, files


def test_a_new_case_store_and_its_workspace_are_private(tmp_path: Path, open_umask: None) -> None:
    ws = tmp_path / "new" / "ws"
    r = run(ws, "users", "add", "boss", "--role", "admin", "--password-stdin",
            stdin=PASSWORD + "\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert _modes(ws) == ({0o700}, {0o600})
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert os.umask(0o022) == 0o022  # the command gave the process its umask back


def test_an_existing_readable_store_is_made_private(ws: Path, open_umask: None) -> None:
    os.chmod(store_path(ws), 0o644)
    assert run(ws, "users", "list").exit_code == 0
    assert stat.S_IMODE(store_path(ws).stat().st_mode) == 0o600


def test_exports_with_personal_data_are_private(ws: Path, tmp_path: Path, open_umask: None) -> None:
    assert decide(ws, "F1", "初审", "li").exit_code == 0
    out = tmp_path / "exports"
    out.mkdir()  # the user's folder, as it is: the files in it are what the command makes
    assert run(ws, "cases", "list", "--out", str(out / "decisions.csv")).exit_code == 0
    assert run(ws, "complaints", "list", "--out", str(out / "complaints.csv")).exit_code == 0
    assert run(ws, "cases", "list", "--out", str(out / "decisions.parquet")).exit_code == 0
    assert _modes(out)[1] == {0o600}


def test_the_lake_and_its_quarantine_are_private(
    tmp_path: Path, tiny_county: Path, open_umask: None
) -> None:
    ws = tmp_path / "ws"
    bad = tmp_path / "bad" / "institution.csv"
    bad.parent.mkdir()
    rows = (tiny_county / "reference" / "institution.csv").read_text(encoding="utf-8")
    bad.write_text(rows + "H99,,1,A1,2,x,x,x,x,not-a-date,2027-12-31\n", encoding="utf-8")
    r = run(ws, "ingest", "--quiet", str(tiny_county / "reference" / "person.csv"), str(bad))
    assert r.exit_code == 0, r.output
    assert "1 quarantined" in r.output
    assert any((ws / "lake" / "quarantine").rglob("*.parquet"))
    assert _modes(ws / "lake") == ({0o700}, {0o600})


# --- restore: audited, by a known operator ----------------------------------------------


def test_restore_force_is_audited_and_refuses_an_unknown_operator(ws: Path, tmp_path: Path) -> None:
    assert decide(ws, "F1", "初审", "li").exit_code == 0
    assert run(ws, "backup", "--out", str(tmp_path / "b")).exit_code == 0
    one_line_error(
        run(ws, "restore", "--from", str(tmp_path / "b"), "--force", "--by", "nobody"),
        "restore refused: --by 'nobody': no such account",
    )
    r = run(ws, "restore", "--from", str(tmp_path / "b"), "--force", "--by", "boss")
    assert r.exit_code == 0, r.output
    with open_store(ws) as store:
        row = store.audit_log().row(-1, named=True)
    assert (row["actor"], row["action"]) == ("boss", "store.restore")
    detail = json.loads(row["detail"])
    assert detail["backup"] == str((tmp_path / "b").resolve())
    assert len(detail["replaced"]["sha256"]) == 64 and detail["replaced"]["chain_head"]


# --- complaints: codes, sizes, control characters ---------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--institution", "'; DROP TABLE complaint; --"), "institution (机构编号)"),
        (("--person", "../../etc/passwd"), "person (人员编号)"),
        (
            ("--content", "举" * 2_000_000),
            "content (举报内容): 2,000,000 characters, at most 4,000",
        ),
        (("--content", "挂床\x1b[2J住院"), "content (举报内容): control character U+001B"),
        (("--complainant", "\u202e伟张"), "complainant (举报人): control character U+202E"),
        (("--source", "微信"), "source '微信' is not one of"),
    ],
    ids=["institution", "person", "2MB", "escape", "bidi", "source"],
)
def test_complaints_refuse_what_the_register_cannot_hold(
    ws: Path, extra: tuple[str, ...], message: str
) -> None:
    base = ("complaints", "add", "--received", "2025-03-01", "--source", "电话")
    one_line_error(run(ws, *base, "--content", "挂床住院", *extra, "--by", "li"), message)
    with open_store(ws) as store:
        assert store.query("SELECT count(*) FROM complaint") == [(0,)]
