"""Policy folders: a workspace's copy overrides the shipped defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrss_fraud.ingest.layouts import load_layouts
from hrss_fraud.resources import policy_dir


def test_defaults_found_without_a_workspace() -> None:
    assert (policy_dir("ingest") / "layouts").is_dir()
    assert (policy_dir("analytics") / "knowledge" / "catalogue.csv").exists()


def test_workspace_copy_overrides(tmp_path: Path) -> None:
    mine = tmp_path / "ingest"
    (mine / "layouts").mkdir(parents=True)
    (mine / "codes").mkdir()
    (mine / "codes" / "default.toml").write_text("[med_type]\n")
    (mine / "layouts" / "his.toml").write_text(
        'name = "his"\n[aliases]\n"流水" = "feedetl_sn"\n', encoding="utf-8"
    )
    assert policy_dir("ingest", tmp_path) == mine
    assert list(load_layouts(policy_dir("ingest", tmp_path))) == ["his"]


def test_unknown_policy_folder() -> None:
    with pytest.raises(ValueError, match="unknown policy folder"):
        policy_dir("secrets")


def test_layout_pointing_to_unknown_field_is_refused(tmp_path: Path) -> None:
    (tmp_path / "layouts").mkdir()
    (tmp_path / "codes").mkdir()
    (tmp_path / "codes" / "default.toml").write_text("")
    (tmp_path / "layouts" / "bad.toml").write_text('[aliases]\n"x" = "no_such_field"\n')
    with pytest.raises(ValueError, match="no_such_field"):
        load_layouts(tmp_path)
