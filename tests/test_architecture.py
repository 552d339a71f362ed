"""The shape docs/architecture.md describes, kept: layers that import downward (the
import-linter contract in pyproject.toml), imports at module top, and the command listing
that ``hrss-fraud --help`` shows without loading a group saying what each group says."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest

from hrss_fraud.cli import COMMANDS

PACKAGE = Path(__file__).resolve().parents[1] / "hrss_fraud"
EXCUSES = ("start-up cost", "optional")
"""What the comment above an import inside a function must say to be allowed there."""


def _imports_inside_functions(path: Path) -> list[tuple[int, str]]:
    """(line, excuse found above it or '') of every import inside a function of ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom):
                # the comment block right above the run of imports this one belongs to
                i, above = inner.lineno - 2, []
                while i >= 0 and lines[i].strip().startswith(("#", "from ", "import ")):
                    above.append(lines[i])
                    i -= 1
                said = " ".join([*above, lines[inner.lineno - 1]]).lower()
                found.append((inner.lineno, next((e for e in EXCUSES if e in said), "")))
    return found


def test_no_import_inside_a_function_without_its_reason() -> None:
    bare = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, excuse in _imports_inside_functions(path)
        if not excuse
    ]
    assert not bare, "imports inside functions with no start-up cost or optional reason: " + (
        ", ".join(bare)
    )


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    import json\n\n"
        "def g():\n    # start-up cost: big\n    from a import b\n    from a import c\n"
    )
    assert _imports_inside_functions(module) == [
        (2, ""),
        (6, "start-up cost"),
        (7, "start-up cost"),
    ]


def test_the_layers_import_downward_only() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(linter), "--no-cache"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listing_says_what_each_command_says(name: str) -> None:
    lazy = COMMANDS[name]
    module, attribute = lazy.target.split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    assert command.name == name
    first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
    assert " ".join(lazy.help.split()) == first_paragraph
