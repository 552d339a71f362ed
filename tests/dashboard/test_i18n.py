"""The screens' text as data (dashboards/i18n): both languages hold the same keys, every
key the code asks for exists and every key is asked for, a workspace's own file rewords a
screen, and the Chinese texts carry no English words or raw field names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from hrss_fraud.dashboard import i18n

PACKAGE = Path(i18n.__file__).resolve().parent
KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")


def _code_strings() -> tuple[set[str], set[str]]:
    """(every string constant shaped like a key, the constant first arguments of ``t(...)``)
    in the dashboard's code."""
    strings: set[str] = set()
    asked: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if KEY.match(node.value):
                    strings.add(node.value)
            elif isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                first = node.args[0]
                if name in ("t", "text") and isinstance(first, ast.Constant):
                    asked.add(first.value)
    return strings, asked


def test_both_languages_hold_the_same_keys() -> None:
    zh, en = i18n.shipped("zh"), i18n.shipped("en")
    assert len(zh) > 300
    assert sorted(zh.keys() - en.keys()) == []
    assert sorted(en.keys() - zh.keys()) == []


def test_both_languages_fill_the_same_fields() -> None:
    zh, en = i18n.shipped("zh"), i18n.shipped("en")
    fields = re.compile(r"\{(\w+)")
    differ = {k for k in zh if set(fields.findall(zh[k])) != set(fields.findall(en[k]))}
    assert differ == set()


def test_every_key_the_code_asks_for_exists_and_none_is_unused() -> None:
    strings, asked = _code_strings()
    known = i18n.shipped("zh").keys()
    assert sorted(asked - known) == []
    assert sorted(known - strings) == []
    # overview's charts ask t(title) with titles from this table
    table = next(
        node.value
        for node in ast.walk(ast.parse((PACKAGE / "pages" / "overview.py").read_text("utf-8")))
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_BREAKDOWNS"
    )
    assert isinstance(table, ast.Dict)
    titles = {v.value for v in table.values if isinstance(v, ast.Constant)}
    assert len(titles) == len(table.values)
    assert sorted(titles - known) == []


def test_a_missing_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(i18n.MissingText):
        i18n.text("leads.no_such_text", "zh")


def test_fields_are_filled() -> None:
    assert i18n.text("audit.rows_page", "en", total=41, page=2, pages=3) == ("41 rows, page 2 of 3")
    assert i18n.text("audit.rows_page", "zh", total=41, page=2, pages=3) == "共 41 条，第 2/3 页"


def test_a_workspace_file_rewords_a_label(tmp_path: Path) -> None:
    assert i18n.text("audit.search", "zh", tmp_path) == "查询"
    own = tmp_path / "dashboards" / "i18n"
    own.mkdir(parents=True)
    (own / "zh.toml").write_text('[audit]\nsearch = "检索"\n', encoding="utf-8")
    assert i18n.text("audit.search", "zh", tmp_path) == "检索"
    assert i18n.text("audit.next", "zh", tmp_path) == "下一页"  # the rest as shipped
    assert i18n.text("audit.search", "en", tmp_path) == "Search"
    (own / "en.toml").write_text('[audit]\nserch = "Find"\n', encoding="utf-8")
    with pytest.raises(i18n.MissingText, match="serch"):
        i18n.text("audit.search", "en", tmp_path)


# Latin words that are the names of things, not English left on a Chinese screen.
_NAMES = {
    "DOCX",
    "PDF",
    "SHA-256",
    "Excel",
    "ID",
    "CSV",
    "P90",
    "SQLite",
    "XLSX",
    "HIS",
    "IP",
    "UTC",
}


def test_the_chinese_texts_show_no_english_or_raw_field_names() -> None:
    left = {}
    for key, value in i18n.shipped("zh").items():
        shown = re.sub(r"\{[^}]*\}", "", value)
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", shown)) - _NAMES
        if words:
            left[key] = sorted(words)
    assert left == {}


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def test_no_call_is_handed_an_inline_chinese_english_pair() -> None:
    """Every (中文, English) pair of arguments became a key: none is left in a call."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    pairs = []
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and len(node.args) >= 2:
                zh, en = _literal(node.args[0]), _literal(node.args[1])
                if zh and en is not None and cjk.search(zh) and not cjk.search(en):
                    pairs.append(f"{path.name}:{node.lineno}")
    assert pairs == []
