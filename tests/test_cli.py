"""The command line: help everywhere, one-line errors, non-zero exits, nothing partial."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hrss_fraud.cli import main


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["synth"],
        ["ingest"],
        ["profile"],
        ["demo"],
        ["score"],
        ["rules", "list"],
        ["rules", "set"],
        ["rules", "history"],
        ["findings", "export"],
        ["findings", "list"],
        ["knowledge", "load"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrss_fraud", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_bad_option_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "county"
    done = _run("synth", "--months", "0", "--out", str(out))
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "--months" in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unknown_scheme_rate_is_refused(tmp_path: Path) -> None:
    done = _run("synth", "--scheme-rate", "nonsense=0.5", "--out", str(tmp_path / "c"))
    assert done.returncode != 0 and "nonsense" in done.stderr


def test_ingest_missing_file_fails_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    done = _run("--workspace", str(tmp_path / "ws"), "ingest", "--quiet", str(missing))
    assert done.returncode == 1
    assert "nope.csv" in done.stderr and "not_found" in done.stderr


def test_ingest_without_paths_explains(tmp_path: Path) -> None:
    done = _run("--workspace", str(tmp_path / "ws"), "ingest")
    assert done.returncode != 0 and "PATH" in done.stderr


def test_ingest_json_summary(tiny_county: Path, tmp_path: Path) -> None:
    done = _run(
        "--workspace", str(tmp_path / "ws"), "ingest", "--json", str(tiny_county / "reference")
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rejected"] == 0 and summary["committed"] == summary["files"] > 0
    assert {d["table"] for d in summary["details"]} >= {"person", "institution", "catalogue"}


def test_ingest_inbox_end_to_end(tiny_county: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for p in (tiny_county / "reference").iterdir():
        (inbox / p.name).write_bytes(p.read_bytes())
    (inbox / "broken.xlsx").write_bytes((tiny_county / "malformed" / "truncated.xlsx").read_bytes())
    done = _run("--workspace", str(tmp_path / "ws"), "ingest", "--quiet", "--inbox", str(inbox))
    assert done.returncode == 1 and "corrupt_xlsx" in done.stderr
    assert sorted(p.name for p in inbox.iterdir()) == ["archive", "rejected"]
    reason = (inbox / "rejected" / "broken.xlsx.reason.txt").read_text()
    assert reason.startswith("corrupt_xlsx")
