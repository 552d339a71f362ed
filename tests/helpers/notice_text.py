"""What an issued notice's files say, read back, and the marks of a badly written one: a
rule id (or any snake_case name) and doubled punctuation."""

from __future__ import annotations

import io
import re
from pathlib import Path

from docx import Document
from pypdf import PdfReader

from hrss_fraud.engine.catalogue import load_catalogue
from hrss_fraud.notices.draft import RAW_ID

DOUBLED = re.compile(r"。。|，，|：：|；；|、、|。；|；。")
CATALOGUE = load_catalogue()


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def pdf_text(path: Path) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def raw_ids(text: str) -> list[str]:
    """The catalogue's rule ids (and any other snake_case identifier) in ``text``."""
    ids = [r for r in CATALOGUE.rules if re.search(rf"(?<![a-z0-9_]){r}(?![a-z0-9_])", text)]
    return ids + RAW_ID.findall(text)
