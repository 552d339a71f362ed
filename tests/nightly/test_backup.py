"""Backup and restore: a round trip gives back the same lake, findings and case store;
restore refuses a non-empty workspace unless forced, and a damaged backup."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.shared import copy_workspace

from hrss_fraud.cases.store import open_store, timestamp, write_audit
from hrss_fraud.cli import main
from hrss_fraud.nightly.backup import BackupError, backup, restore
from hrss_fraud.nightly.runner import run_nightly

from .conftest import cases_dump, findings_fingerprint, lake_fingerprint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(small_county_night: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small county after one nightly, with an audit row of its own."""
    ws = copy_workspace(small_county_night, tmp_path_factory.mktemp("backup") / "ws")
    _audit(ws, "backup-drill")
    return ws


def _audit(ws: Path, action: str) -> None:
    with open_store(ws) as store, store.transaction() as con:
        write_audit(con, timestamp(), "test", action, "drill", "1", None)


def _before_restore(ws: Path) -> list[str]:
    """The restored store's dump without what the restore itself added: its
    ``store.restore`` audit row, that row's chain link, and the counters they moved."""
    with open_store(ws) as store:
        (audit_id,) = store.query("SELECT max(audit_id) FROM audit_log")[0]
        assert store.audit_log().row(-1, named=True)["action"] == "store.restore"
        (link_id,) = store.query("SELECT max(link_id) FROM chain_link")[0]
    added = (
        f'INSERT INTO "audit_log" VALUES({audit_id},',
        f'INSERT INTO "chain_link" VALUES({link_id},',
    )
    return [line for line in _dump(ws) if not line.startswith(added)]


def _dump(ws: Path) -> list[str]:
    """:func:`cases_dump` without the AUTOINCREMENT counters."""
    return [line for line in cases_dump(ws) if "sqlite_sequence" not in line]


def test_round_trip_restores_lake_findings_and_case_store(scored: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup"
    result = CliRunner().invoke(main, ["--workspace", str(scored), "backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = tmp_path / "restored"
    result = CliRunner().invoke(main, ["--workspace", str(target), "restore", "--from", str(out)])
    assert result.exit_code == 0, result.output
    assert lake_fingerprint(target) == lake_fingerprint(scored)
    assert findings_fingerprint(target).equals(findings_fingerprint(scored))
    assert cases_dump(target) and _before_restore(target) == _dump(scored)
    again = run_nightly(target, inbox=tmp_path / "empty", min_free_gb=0)
    assert again.code == 0 and "run unchanged" in again.line


def test_restore_refuses_a_non_empty_workspace_unless_forced(scored: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup"
    backup(scored, out)
    backed_up = _dump(scored), lake_fingerprint(scored)
    _audit(scored, "after-the-backup")
    result = CliRunner().invoke(main, ["--workspace", str(scored), "restore", "--from", str(out)])
    assert result.exit_code == 1
    assert "is not empty" in result.output and "--force" in result.output
    assert _dump(scored) != backed_up[0]
    restore(out, scored, force=True)
    assert (_before_restore(scored), lake_fingerprint(scored)) == backed_up


def test_backup_refuses_a_non_empty_folder_and_restore_a_damaged_backup(
    scored: Path, tmp_path: Path
) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backup(scored, tmp_path / "full")
    out = tmp_path / "backup"
    backup(scored, out)
    manifest = next((out / "lake").glob("manifest.json"))
    manifest.write_text("[]", encoding="utf-8")
    with pytest.raises(BackupError, match="missing or changed"):
        restore(out, tmp_path / "target")
    assert not (tmp_path / "target" / "lake").exists()
