"""``restore``: who did it and what it replaced go into the restored store's audit log, an
unknown operator is refused before anything moves, and backups and restored files are
private (a small workspace: a case store and a policy folder, no lake)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts

from hrss_fraud.cases import open_store, store_path
from hrss_fraud.cases.chain import verify
from hrss_fraud.cases.operators import bootstrap_actor
from hrss_fraud.cli import main
from hrss_fraud.nightly.backup import backup


def _decide(ws: Path, finding: str) -> None:
    with open_store(ws) as store:
        store.record_decision(finding, step="初审", decision="待定", reason="待查", by="li")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    add_accounts(ws, {"boss": "admin", "li": "reviewer"})
    _decide(ws, "F1")
    (ws / "rules").mkdir()
    (ws / "rules" / "whitelist.csv").write_text("code\nX1\n", encoding="utf-8")
    return ws


def _restore(ws: Path, source: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["--workspace", str(ws), "restore", "--from", str(source), *args]
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_restore_force_records_who_from_which_backup_and_what_it_replaced(
    ws: Path, tmp_path: Path
) -> None:
    out = tmp_path / "backup"
    backup(ws, out)
    _decide(ws, "F2")  # after the backup: the restore throws it away
    with open_store(ws) as store:
        replaced_head = verify(store).head
    r = _restore(ws, out, "--force", "--by", "BOSS")
    assert r.exit_code == 0, r.output
    with open_store(ws) as store:
        assert store.history()["finding_id"].to_list() == ["F1"]
        row = store.audit_log().row(-1, named=True)
        report = verify(store)
    assert (row["actor"], row["action"], row["object_type"]) == ("boss", "store.restore", "store")
    detail = json.loads(row["detail"])
    assert detail["backup"] == str(out.resolve()) and detail["force"] is True
    created = json.loads((out / "backup.json").read_text(encoding="utf-8"))["created"]
    assert detail["backup_created"] == created
    assert detail["replaced"]["chain_head"] == replaced_head
    assert detail["replaced"]["chain_intact"] is True
    assert len(detail["replaced"]["sha256"]) == 64
    assert report.ok  # the restore's own row is chained


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "ghost"), "restore refused: --by 'ghost': no such account"),
        (("--by", "li"), "li (reviewer 审核员) may not manage users"),
        ((), "no such account"),  # the login name is no account here
    ],
)
def test_restore_refuses_an_operator_who_may_not_and_moves_nothing(
    ws: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "backup"
    backup(ws, out)
    _decide(ws, "F2")
    before = store_path(ws).read_bytes()
    r = _restore(ws, out, "--force", *args)
    assert r.exit_code == 1 and message in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert store_path(ws).read_bytes() == before
    assert sorted(p.name for p in ws.iterdir()) == ["cases.sqlite", "nightly", "rules"]
    with open_store(ws) as store:
        assert store.history()["finding_id"].to_list() == ["F1", "F2"]


def test_into_an_empty_workspace_the_backups_accounts_decide(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup"
    backup(ws, out)
    assert _restore(tmp_path / "new", out, "--by", "ghost").exit_code == 1
    assert not store_path(tmp_path / "new").exists()
    r = _restore(tmp_path / "new", out, "--by", "boss")
    assert r.exit_code == 0, r.output
    with open_store(tmp_path / "new") as store:
        row = store.audit_log().row(-1, named=True)
    assert row["actor"] == "boss" and json.loads(row["detail"])["replaced"] is None


def test_a_workspace_without_administrators_is_restored_by_the_login(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _decide(ws, "F1")  # no accounts at all
    backup(ws, tmp_path / "backup")
    r = _restore(ws, tmp_path / "backup", "--force")
    assert r.exit_code == 0, r.output
    with open_store(ws) as store:
        assert store.audit_log().row(-1, named=True)["actor"] == bootstrap_actor()


def test_backups_and_restored_files_are_private_whatever_the_umask(
    ws: Path, tmp_path: Path
) -> None:
    previous = os.umask(0o022)
    try:
        os.chmod(ws / "rules" / "whitelist.csv", 0o644)
        out = tmp_path / "backup"
        r = CliRunner().invoke(main, ["--workspace", str(ws), "backup", "--out", str(out)])
        assert r.exit_code == 0, r.output
        entries = [out, *out.rglob("*")]
        assert {_mode(p) for p in entries if p.is_dir()} == {0o700}
        assert {_mode(p) for p in entries if p.is_file()} == {0o600}
        for p in entries:  # an older backup, or one copied around, may be readable by all
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        assert _restore(ws, out, "--force", "--by", "boss").exit_code == 0
        restored = [ws / "rules", ws / "rules" / "whitelist.csv", store_path(ws)]
        assert [_mode(p) for p in restored] == [0o700, 0o600, 0o600]
    finally:
        os.umask(previous)
