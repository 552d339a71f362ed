"""``hrss-fraud serve-check keys``: a key shown once and kept only as its hash, listed
without its secret, revoked for good; only an administrator issues or revokes; each
change in the audit log."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers.accounts import add_accounts

from hrss_fraud.cases import open_store
from hrss_fraud.cli import main
from hrss_fraud.precheck.keys import KeyRing


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    add_accounts(tmp_path, {"adm": "admin", "rev": "reviewer"})
    return tmp_path


def run(ws: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(ws), "serve-check", "keys", *args])


def test_a_key_is_shown_once_and_stored_hashed(ws: Path) -> None:
    added = run(ws, "add", "H001", "--note", "HIS vendor A", "--by", "adm")
    assert added.exit_code == 0, added.output
    key_id, key = added.stdout.split()[1], added.stdout.splitlines()[1]
    assert key.startswith(f"hfk_{key_id}.")
    secret = key.split(".", 1)[1]
    with open_store(ws) as store:
        [row] = store.query("SELECT fixmedins_code, secret_sha256, note FROM check_key")
        audit = store.query("SELECT actor, action, object_id FROM audit_log")
    assert row == ("H001", hashlib.sha256(secret.encode()).hexdigest(), "HIS vendor A")
    assert audit == [("adm", "check_key.add", "H001")]
    listed = run(ws, "list")
    assert key_id in listed.stdout and secret not in listed.stdout
    assert "有效 active" in listed.stdout


def test_revoked_keys_are_refused_from_the_next_lookup(ws: Path) -> None:
    first = run(ws, "add", "H001", "--by", "adm").stdout.splitlines()[1]
    second = run(ws, "add", "H001", "--by", "adm").stdout.splitlines()[1]
    other = run(ws, "add", "H002", "--by", "adm").stdout.splitlines()[1]
    ring = KeyRing(ws)
    try:
        assert ring.institution(first) == (first[4:16], "H001")
        assert ring.institution(first[:-1] + ("A" if first[-1] != "A" else "B")) is None
        key_id = first[4:16]
        revoked = run(ws, "revoke", "H001", "--key-id", key_id, "--by", "adm")
        assert revoked.exit_code == 0 and key_id in revoked.stdout
        assert ring.institution(first) is None
        assert ring.institution(second) is not None
        assert run(ws, "revoke", "H001", "--by", "adm").exit_code == 0
        assert ring.institution(second) is None
        assert ring.institution(other) == (other[4:16], "H002")
    finally:
        ring.close()
    again = run(ws, "revoke", "H001", "--by", "adm")
    assert again.exit_code == 1
    assert "no active key of institution H001" in again.output
    assert "已吊销 revoked" in run(ws, "list", "H001").stdout


def test_only_an_administrator_issues_keys(ws: Path) -> None:
    refused = run(ws, "add", "H001", "--by", "rev")
    assert refused.exit_code == 1
    assert "may not manage users" in refused.output
    blank = run(ws, "add", " ", "--by", "adm")
    assert blank.exit_code == 1 and "fixmedins_code" in blank.output
    with open_store(ws) as store:
        assert store.query("SELECT count(*) FROM check_key") == [(0,)]
