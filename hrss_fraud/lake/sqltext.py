"""Python values and names written into SQL text, quoted once here."""

from __future__ import annotations

from collections.abc import Iterable


def sql_array(values: Iterable[object]) -> str:
    """A DuckDB list literal of strings: ``['a', 'b''s']`` (``[]`` when empty)."""
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def no_prefix(column: str, prefixes: Iterable[str]) -> str:
    """A condition true when ``column`` (null as empty) starts with none of ``prefixes``."""
    return (
        f"len(list_filter({sql_array(prefixes)}, "
        f"lambda p: starts_with(coalesce({column}, ''), p))) = 0"
    )


def ident(name: str) -> str:
    """A quoted SQL identifier (table names such as ``procedure`` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
