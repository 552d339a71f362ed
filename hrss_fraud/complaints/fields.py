"""What a complaint's fields may hold: code formats, lengths, no control characters.

The register once took any text: codes that named nothing, 2 MB of content, control
characters that garble a list or a terminal. Every field is checked here before anything
is written, with a one-line :class:`ComplaintError` naming the field:

- an institution code is a capital letter and 11 digits (定点医药机构编码: H hospitals, P
  pharmacies, the county code, a serial: ``H13012300004``), a person number 10 to 30
  digits or capital letters (人员编号; the platform allows 30); both are upper-cased, and
  the command line also refuses codes the lake does not hold when it holds the table
  (:func:`lake_unknown`);
- the content and the outcome text at most :data:`MAX_TEXT` characters (a complaint's
  gist and the handling, not the letter itself: file that elsewhere), names and contacts
  at most :data:`MAX_SHORT`;
- no control characters: line breaks and tabs only in the long texts, and no
  bidirectional overrides (which make a text read differently than it is stored).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from hrss_fraud.engine.workspace import Workspace

INSTITUTION_CODE = re.compile(r"^[A-Z][0-9]{11}$")  # [0-9], not \d: that takes ４ too
PERSON_CODE = re.compile(r"^[0-9A-Z]{10,30}$")
MAX_TEXT = 4000
"""Characters of the content (举报内容) and the outcome text (办理情况): about two pages."""
MAX_SHORT = 100
"""Characters of a name, a contact, a handler."""
_LINE_BREAKS = frozenset("\n\r\t")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


class ComplaintError(ValueError):
    """A complaint change that cannot be made; the message says why and what to do."""


def text(value: str | None, what: str, *, limit: int = MAX_SHORT, lines: bool = False) -> str:
    """``value`` stripped, or :class:`ComplaintError` naming ``what`` if it is longer than
    ``limit`` characters or holds a control character (line breaks and tabs allowed with
    ``lines``)."""
    stripped = (value or "").strip()
    if len(stripped) > limit:
        msg = f"{what}: {len(stripped):,} characters, at most {limit:,} (超出长度限制)"
        raise ComplaintError(msg)
    for i, ch in enumerate(stripped, start=1):
        if lines and ch in _LINE_BREAKS:
            continue
        if ch in _BIDI or unicodedata.category(ch) == "Cc":
            msg = f"{what}: control character U+{ord(ch):04X} at character {i} (含控制字符)"
            raise ComplaintError(msg)
    return stripped


def required(value: str | None, what: str, *, limit: int = MAX_SHORT, lines: bool = False) -> str:
    """:func:`text`, and not empty."""
    checked = text(value, what, limit=limit, lines=lines)
    if not checked:
        msg = f"{what} is empty"
        raise ComplaintError(msg)
    return checked


def institution_codes(values: Iterable[str] | None) -> list[str]:
    """The distinct institution codes, upper-cased and sorted; each must match
    :data:`INSTITUTION_CODE`."""
    form = "a capital letter and 11 digits, e.g. H13012300004"
    return _codes(values, INSTITUTION_CODE, "institution (机构编号)", form)


def person_codes(values: Iterable[str] | None) -> list[str]:
    """The distinct person numbers, upper-cased and sorted; each must match
    :data:`PERSON_CODE`."""
    return _codes(values, PERSON_CODE, "person (人员编号)", "10 to 30 digits or capital letters")


def _codes(
    values: Iterable[str] | None, pattern: re.Pattern[str], what: str, form: str
) -> list[str]:
    codes = set()
    for v in values or ():
        code = text(v, what).upper()
        if not code:
            continue
        if not pattern.match(code):
            msg = f"{what} {v.strip()!r} is not a code: {form}"
            raise ComplaintError(msg)
        codes.add(code)
    return sorted(codes)


LAKE_TABLES = {"institution": ("institution", "fixmedins_code"), "person": ("person", "psn_no")}
"""Target kind → the lake table and column that list the known codes."""


def lake_unknown(workspace: Path, kind: str, codes: list[str]) -> list[str]:
    """The codes of ``codes`` that the workspace's lake does not hold, when its table of
    that kind (institutions, persons) has rows; none when it has none (a workspace
    without reference data checks the format only)."""
    lake = Workspace.of(workspace).lake
    if not codes or not lake.batches():
        return []
    table, column = LAKE_TABLES[kind]
    con = lake.connect(index=False)
    try:
        if not con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:  # type: ignore[index]
            return []
        marks = ", ".join("?" * len(codes))
        sql = f"SELECT DISTINCT {column} FROM {table} WHERE {column} IN ({marks})"
        known = {r[0] for r in con.execute(sql, codes).fetchall()}
    finally:
        con.close()
    return [c for c in codes if c not in known]
