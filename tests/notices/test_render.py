"""The issued DOCX and PDF read back: the exact Chinese text issued, the font embedded, and
files that match their stored SHA-256."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import docx
import pypdf
import pytest
from helpers.notice_fixtures import make_content

from hrss_fraud.cases import CaseStore
from hrss_fraud.notices import create, get, issue, layout, verify
from hrss_fraud.notices.content import MEASURES
from hrss_fraud.notices.render import docx_bytes, pdf_bytes
from hrss_fraud.notices.store import STATUSES


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _issue(store: CaseStore, ws: Path, lang: str = "zh"):
    notice_id = create(store, make_content(), by="li")
    return issue(store, notice_id, ws, by="li", on=date(2026, 3, 5), lang=lang)


def test_docx_says_exactly_what_was_issued(store: CaseStore, ws: Path) -> None:
    out = _issue(store, ws)
    content = get(store, out.number).content
    lay = layout(content)
    d = docx.Document(str(out.docx))
    paragraphs = [p.text for p in d.paragraphs if p.text]
    assert paragraphs[0] == "现场监督检查违约通知单"
    assert paragraphs[1] == "编号：2026-0001"
    for label, value in lay.fields:
        assert label + value in paragraphs
    (table,) = d.tables
    cells = [tuple(c.text for c in row.cells) for row in table.rows]
    assert cells == [lay.table_header, *lay.table_rows]
    assert cells[1][4] == "追回医保基金 1,234.50 元；违约金 2,469.00 元；约谈"
    for heading, text in lay.sections:
        assert heading in paragraphs and text in paragraphs
    assert "你单位对本通知认定的事实" in lay.sections[1][1]
    assert "10日内（2026年3月15日前）" in lay.sections[1][1]
    assert "2026年4月4日前" in lay.sections[0][1]


def test_docx_names_an_east_asian_font(store: CaseStore, ws: Path) -> None:
    d = docx.Document(str(_issue(store, ws).docx))
    fonts = d.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")


def test_pdf_text_is_the_issued_chinese_with_the_font_embedded(store: CaseStore, ws: Path) -> None:
    out = _issue(store, ws)
    reader = pypdf.PdfReader(out.pdf)
    text = _squash("".join(p.extract_text() for p in reader.pages))
    content = get(store, out.number).content
    for s in layout(content).texts():
        assert _squash(s) in text, s
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # the TrueType program itself is in the file


def test_stored_hashes_match_the_files(store: CaseStore, ws: Path) -> None:
    out = _issue(store, ws)
    n = get(store, out.number)
    assert n.docx_path == "notices/2026-0001/2026-0001.docx"
    assert hashlib.sha256((ws / n.docx_path).read_bytes()).hexdigest() == n.docx_sha256
    assert hashlib.sha256((ws / str(n.pdf_path)).read_bytes()).hexdigest() == n.pdf_sha256
    for doc in (n.docx_path, n.pdf_path):  # a notice names breaches: its owner's only
        assert (ws / str(doc)).stat().st_mode & 0o777 == 0o600
    assert n.docx_sha256 == out.docx_sha256 and n.pdf_sha256 == out.pdf_sha256
    assert verify(store, out.number, ws) == []
    assert not list((ws / "notices" / out.number).glob(".*tmp"))
    (ws / str(n.pdf_path)).write_bytes(b"%PDF-1.4 altered")
    assert verify(store, out.number, ws) == [f"{n.pdf_path} differs from what was issued (SHA-256)"]


def test_content_is_fixed_at_issue(store: CaseStore, ws: Path) -> None:
    out = _issue(store, ws)
    with pytest.raises(Exception, match="only its status moves"), store.transaction() as con:
        con.execute("UPDATE notice SET onsite_facts = 'x' WHERE number = ?", (out.number,))
    content = get(store, out.number).content
    assert (content.number, content.issue_date, content.rectify_due) == (
        "2026-0001",
        "2026-03-05",
        "2026-04-04",
    )


def test_english_reading_copy(store: CaseStore, ws: Path) -> None:
    out = _issue(store, ws, lang="en")
    text = _squash("".join(p.extract_text() for p in pypdf.PdfReader(out.pdf).pages))
    assert _squash("On-site Inspection Violation Notice") in text
    assert _squash("城关镇卫生院") in text  # the institution's own name stays as it is
    assert "3. Right to a statement or review" in [
        p.text for p in docx.Document(out.docx).paragraphs
    ]


def test_both_documents_render_one_layout() -> None:
    content = make_content(number="2026-0007", issue_date="2026-05-01")
    pdf = _squash(
        "".join(p.extract_text() for p in pypdf.PdfReader(_bytes_io(pdf_bytes(content))).pages)
    )
    d = docx.Document(_bytes_io(docx_bytes(content)))
    word = _squash("".join(p.text for p in d.paragraphs))
    for s in layout(content).texts():
        assert _squash(s) in pdf
    assert _squash(layout(content).sections[1][1]) in word


def _bytes_io(data: bytes):
    from io import BytesIO

    return BytesIO(data)


def test_vocabularies_match_the_migration(store: CaseStore) -> None:
    measures = store.query("SELECT measure, label_zh, label_en, has_amount FROM notice_measure")
    assert {m: (zh, en, bool(a)) for m, zh, en, a in measures} == MEASURES
    statuses = store.query("SELECT status, label_zh, label_en FROM notice_status")
    assert {s: (zh, en) for s, zh, en in statuses} == STATUSES


def test_docx_is_a4_with_the_pdfs_table_columns(store: CaseStore, ws: Path) -> None:
    """Regression: the DOCX was US Letter with five equal columns, so LibreOffice wrapped the
    violation facts every few characters beside a wide, empty number column."""

    def mm(lengths: list) -> list[int]:
        return [round(length.mm) for length in lengths]

    d = docx.Document(str(_issue(store, ws).docx))
    section = d.sections[0]
    assert mm([section.page_width, section.page_height]) == [210, 297]
    (table,) = d.tables
    assert mm([c.width for c in table.columns]) == [8, 52, 38, 20, 42]
    for row in table.rows:
        assert mm([c.width for c in row.cells]) == [8, 52, 38, 20, 42]
