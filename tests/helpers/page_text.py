"""What a page must not show a user: a raw field name, a code without its label, or text of
the other language. Pure functions over a page's text and its table cells, so the page walk
(tests/dashboard/browser/test_page_walk.py) and their own unit tests call the same checks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hrss_fraud.engine.hits import FINDING_COLUMNS, LINE_COLUMNS
from hrss_fraud.model.codes import ALL, CodeList
from hrss_fraud.model.schema import TABLES
from hrss_fraud.outputs.labels import COLUMNS

CONTEXT = 60
"""Characters shown on each side of an offending token."""

PLAIN_WORDS = frozenset(
    {
        "behaviour",
        "catalog",
        "chronic",
        "contraindications",
        "evidence",
        "indications",
        "note",
        "pregnancy",
        "role",
        "scope",
        "score",
        "severity",
        "unit",
        "year",
        "month",
        "name",
        "status",
        "type",
        "level",
    }
)
"""Column names that are also ordinary English words: fine in English text (in Chinese text
the other-language check catches them)."""

ZH_ALLOWED = frozenset(
    {"PDF", "Excel", "Word", "CSV", "XLSX", "DOCX", "DRG", "DIP", "HIS", "AUC", "SQL"}
    | {"pdf", "xlsx", "docx", "csv"}  # a file's extension, in its name
    | {"HBOS", "MAD", "PEPPER", "English"}
)
"""ASCII words a Chinese screen may show: file formats, the platform's and the methods'
abbreviations (HBOS outliers, the MAD, the PEPPER report), and the language switch's own
name. A word before ``-<digit>`` is a code (``HRA-01``), not a word."""

EN_ALLOWED = frozenset({"中文"})
"""Han text an English screen may show: the language switch's own name. Titles of laws
and documents in 《》 are proper nouns (cited as published) and pass too."""

ID_COLUMNS = ("rule_id", "rule_ids", "finding_id", "case_id")
"""Columns whose values are identifiers: shown in their own column, they are fine."""

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ASCII_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z_]*[A-Za-z](?![A-Za-z0-9_]|-\d)")
_TITLE = re.compile(r"《[^《》]*》")
_HAN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60]+")


@dataclass(frozen=True)
class Offence:
    """One thing a user should not see: its kind, the token and the text around it."""

    kind: str
    token: str
    context: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.token!r} in …{self.context}…"


def raw_names() -> frozenset[str]:
    """Every column name of the data model and of the findings and their lines, less the
    ones that are ordinary English words."""
    names = set(FINDING_COLUMNS) | set(LINE_COLUMNS)
    for table in TABLES.values():
        names |= set(table.names)
    return frozenset(names - PLAIN_WORDS)


def coded_headers() -> dict[str, CodeList]:
    """A coded field's label (Chinese and English, as the model and the screens' column
    labels give it) → its code list."""
    headers: dict[str, CodeList] = {}
    for table in TABLES.values():
        for f in table.fields:
            if f.codes is not None:
                headers[f.zh] = headers[f.en] = f.codes
    for name, codes in ALL.items():
        for label in COLUMNS.get(name, ()):
            headers[label] = codes
    return headers


def identifier_headers() -> frozenset[str]:
    """Headers of columns that hold identifiers (a rule's, a lead's, a case's): their cells
    are codes, like an institution's number, not words of either language."""
    return frozenset(label for c in ID_COLUMNS for label in COLUMNS[c])


def _around(text: str, start: int, end: int) -> str:
    return text[max(0, start - CONTEXT) : end + CONTEXT].replace("\n", " ⏎ ")


def _without(text: str, phrases: Iterable[str]) -> str:
    """``text`` with each phrase blanked out (longest first, so a name containing another
    goes whole); positions shift, so contexts are read from the blanked text."""
    for phrase in sorted({p for p in phrases if p}, key=len, reverse=True):
        if phrase in text:
            text = text.replace(phrase, " ")
    return text


def raw_name_offences(text: str, names: frozenset[str] | None = None) -> list[Offence]:
    """Tokens of ``text`` equal to a column name."""
    names = raw_names() if names is None else names
    return [
        Offence("raw field name", m.group(), _around(text, m.start(), m.end()))
        for m in _TOKEN.finditer(text)
        if m.group() in names
    ]


def other_language_offences(
    text: str, lang: str, proper_nouns: Iterable[str] = ()
) -> list[Offence]:
    """In ``zh``, ASCII words of three letters or more (an identifier such as a rule id is
    one word) outside :data:`ZH_ALLOWED`; in
    ``en``, Han characters and full-width punctuation outside :data:`EN_ALLOWED`. Text of
    ``proper_nouns`` (names of people, institutions, zones, drugs, items, diagnoses, user
    names) is data, left as it is, so it is taken out first."""
    if lang not in ("zh", "en"):
        msg = f"lang must be 'zh' or 'en', not {lang!r}"
        raise ValueError(msg)
    text = _without(text, proper_nouns)
    if lang == "en":
        text = _TITLE.sub(" ", text)
    pattern, allowed = (_ASCII_WORD, ZH_ALLOWED) if lang == "zh" else (_HAN, EN_ALLOWED)
    kind = "English on a Chinese page" if lang == "zh" else "Chinese on an English page"
    return [
        Offence(kind, m.group(), _around(text, m.start(), m.end()))
        for m in pattern.finditer(text)
        if m.group() not in allowed and (lang == "en" or len(m.group()) >= 3)
    ]


def code_offences(
    cells: Iterable[tuple[str, str]], headers: dict[str, CodeList] | None = None
) -> list[Offence]:
    """Cells, as ``(column header, cell text)``, of a coded field's column that hold a bare
    code of its list (a label, or a code beside its label, passes)."""
    headers = coded_headers() if headers is None else headers
    out = []
    for header, cell in cells:
        codes = headers.get(header.strip())
        if codes is not None and cell.strip() in codes:
            out.append(Offence("code without its label", cell.strip(), f"{header}: {cell}"))
    return out


def page_offences(
    text: str,
    cells: Iterable[tuple[str, str]],
    lang: str,
    proper_nouns: Iterable[str] = (),
) -> list[Offence]:
    """Every check over one page: its visible ``text`` (body text and grid headers), its
    table ``cells`` and the language it was asked in."""
    nouns = list(proper_nouns)
    return [
        *raw_name_offences(_without(text, nouns)),
        *code_offences(cells),
        *other_language_offences(text, lang, nouns),
    ]


def report(page: str, lang: str, offences: list[Offence]) -> str:
    """A failure message a person can act on: the page, the language and each offence
    once (repeated tokens counted)."""
    seen: dict[tuple[str, str], tuple[Offence, int]] = {}
    for o in offences:
        first, n = seen.get((o.kind, o.token), (o, 0))
        seen[(o.kind, o.token)] = (first, n + 1)
    lines = [f"{page} [{lang}]: {len(offences)} offence(s)"]
    lines += [f"  {o}" + (f" (×{n})" if n > 1 else "") for o, n in seen.values()]
    return "\n".join(lines)
