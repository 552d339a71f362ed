"""``make demo`` prints the demo accounts once: ``hrss-fraud demo`` prints them when it makes
them (echo_demo_accounts), and the dashboard it then serves only points back to them; served
without the demo's printing, the accounts are made and their new passwords printed."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from hrss_fraud.cli import serve as serve_module
from hrss_fraud.cli.serve import (
    DEMO_ACCOUNTS,
    SHOWN_ABOVE,
    UNCHANGED,
    echo_demo_accounts,
    serve_demo,
)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The workspaces the dashboard was started on (started nowhere: recorded only)."""
    started: list[Path] = []
    monkeypatch.setattr(serve_module, "run", lambda ws, **_kw: started.append(Path(ws)))
    monkeypatch.setattr(serve_module, "build_in_background", lambda ws: None)
    return started


def _serve_demo(ws: Path, **kw: bool) -> None:
    root = click.Context(serve_module.serve, obj={"workspace": ws})
    with root:
        serve_demo(root, **kw)


def _account_lines(out: str) -> dict[str, list[str]]:
    return {
        u: [x for x in out.splitlines() if x.startswith(f"account {u} ")] for u in DEMO_ACCOUNTS
    }


def test_the_demo_prints_each_account_once_and_serving_points_back(
    tmp_path: Path, served: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    echo_demo_accounts(tmp_path)  # what `hrss-fraud demo` prints before its office
    _serve_demo(tmp_path, accounts_shown=True)  # then serves
    out = capsys.readouterr().out
    lines = _account_lines(out)
    assert all(len(shown) == 1 for shown in lines.values()), out
    assert not any(UNCHANGED in shown[0] for shown in lines.values())  # new passwords
    assert SHOWN_ABOVE in out and out.index(SHOWN_ABOVE) > out.index("account auditor ")
    assert served == [tmp_path]


def test_served_without_the_demo_the_new_passwords_are_printed(
    tmp_path: Path, served: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _serve_demo(tmp_path)
    out = capsys.readouterr().out
    lines = _account_lines(out)
    assert all(len(shown) == 1 and UNCHANGED not in shown[0] for shown in lines.values()), out
    assert SHOWN_ABOVE not in out
    _serve_demo(tmp_path)  # again: made already, passwords kept and said so
    again = _account_lines(capsys.readouterr().out)
    assert all(len(shown) == 1 and UNCHANGED in shown[0] for shown in again.values())
    assert served == [tmp_path, tmp_path]
