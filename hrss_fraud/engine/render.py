"""Fill a rule's SQL template with its parameters and arguments.

``{{name}}`` becomes a SQL literal (number, quoted string, or list of them);
``{{ident:name}}`` becomes a bare identifier, checked to be one, so a template can pick a
column (e.g. which restriction to test) without opening the door to injection.
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*(ident:)?([a-z_][a-z0-9_]*)\s*\}\}")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class RenderError(ValueError):
    pass


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return (
            repr(float(value))
            if isinstance(value, float) and not value.is_integer()
            else (str(int(value)))
        )
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    msg = f"cannot write {value!r} as SQL"
    raise RenderError(msg)


def render(sql: str, values: dict[str, Any], where: str = "") -> str:
    def fill(m: re.Match[str]) -> str:
        ident, name = m.group(1), m.group(2)
        if name not in values:
            msg = f"{where}: the SQL uses {{{{{name}}}}} but the rule has no such parameter"
            raise RenderError(msg)
        value = values[name]
        if ident:
            if not isinstance(value, str) or not _IDENT.match(value):
                msg = f"{where}: argument {name}={value!r} is not a column name"
                raise RenderError(msg)
            return value
        return literal(value)

    return _PLACEHOLDER.sub(fill, sql)
