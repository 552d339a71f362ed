"""Render a notice's content as DOCX (python-docx) and PDF (fpdf2), from one layout.

:func:`layout` turns a :class:`~hrss_fraud.notices.content.NoticeContent` into the
strings of the document, in order; both writers only place those strings, so the two
files cannot say different things, and a test can compare either file's text with them.
The writers (:func:`layout_docx`, :func:`layout_pdf`) take any :class:`Layout`: the
supervision registers' documents (检查记录, 整改通知书, 处理决定书) are other layouts of the
same shape, written by the same code.

Fonts: the PDF embeds a TrueType CJK font (WenQuanYi Zen Hei from Debian's
``fonts-wqy-zenhei``; ``HRSS_FRAUD_PDF_FONT`` names another). Noto CJK is installed too,
but it is CFF-based and fpdf2 gives it a custom CMap that common text extractors misread,
so a PDF made with it is not searchable everywhere. The DOCX names 宋体/黑体 for East
Asian text (``w:eastAsia``), the fonts the centre's Word installations have.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass, fields, replace
from datetime import date
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from hrss_fraud.model.numbers import yuan
from hrss_fraud.notices.content import Item, NoticeContent

FONT_ENV = "HRSS_FRAUD_PDF_FONT"
PDF_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
"""TrueType CJK fonts looked for, in order (Debian paths)."""
DOCX_BODY_FONT = "宋体"
DOCX_TITLE_FONT = "黑体"
TITLE = {"zh": "现场监督检查违约通知单", "en": "On-site Inspection Violation Notice"}
A4_MM = (210, 297)
MARGINS_MM = (20, 18)
"""Left and right, top and bottom page margins of both documents."""
TABLE_WIDTHS_MM = (8, 52, 38, 20, 42)
"""The items table's columns in both documents: the facts and the handling need the room,
the item's number very little (Word's default would make all five as wide)."""


_DOUBLED = re.compile(r"([。，、：；！？])[。，、：；！？.,:;]+")
"""A full-width mark followed by more punctuation: ``。。``, ``，，``, ``：：``, ``。；``."""
_END = "。．.；;，,、：: "


def tidy(text: str) -> str:
    """``text`` with doubled punctuation (where a typed text ending in 。 meets the
    template's own 。) reduced to its first mark."""
    return _DOUBLED.sub(r"\1", text)


def clause(text: str) -> str:
    """A typed text without its closing punctuation, for the template to close."""
    return text.strip().rstrip(_END)


class RenderError(RuntimeError):
    """A document that cannot be made here, e.g. no CJK font installed."""


@dataclass(frozen=True)
class Layout:
    """The strings of one notice, in reading order."""

    title: str
    number: str
    fields: tuple[tuple[str, str], ...]
    facts_heading: str
    facts: str
    table_header: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]
    total: str
    sections: tuple[tuple[str, str], ...]
    signatures: tuple[str, ...]
    col_widths: tuple[float, ...] = TABLE_WIDTHS_MM
    """The table's column widths in mm (both documents)."""
    col_align: tuple[str, ...] = ("CENTER", "LEFT", "LEFT", "RIGHT", "LEFT")
    """The table's column alignment in the PDF."""
    right_from: int = 3
    """Signature lines from this one on are right-aligned (the issuing unit and date)."""
    author: str = ""
    """The documents' author property: the issuing unit."""
    number_value: str = ""
    """The number alone (empty in a draft), for the documents' title property."""

    def texts(self) -> list[str]:
        """Every string the documents show, for comparing with what a file holds."""
        out = [self.title, self.number]
        out += [f"{k}{v}" for k, v in self.fields]
        out += [self.facts_heading, self.facts, *self.table_header]
        out += [c for row in self.table_rows for c in row]
        out.append(self.total)
        out += [t for pair in self.sections for t in pair]
        out += list(self.signatures)
        return out


def _day(iso: str, lang: str) -> str:
    if not iso:
        return ""
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else d.isoformat()


def layout(c: NoticeContent, lang: str = "zh") -> Layout:
    """The notice's strings in ``lang`` (``zh``, or ``en`` for a reading copy)."""
    zh = lang == "zh"
    sep = "：" if zh else ": "
    inspectors = "、".join(c.inspectors) if zh else ", ".join(c.inspectors)
    fields = [
        ("被检查机构" if zh else "Institution", f"{c.fixmedins_name or c.fixmedins_code}"),
        ("定点医药机构编号" if zh else "Institution code", c.fixmedins_code),
        ("医疗服务协议编号" if zh else "Service agreement", c.agreement_no or "—"),
        ("检查日期" if zh else "Inspection date", _day(c.inspection_date, lang)),
        ("检查人员" if zh else "Inspectors", inspectors),
        ("机构在场人员" if zh else "Institution representative", c.representative or "—"),
    ]
    if c.round_ref:
        target = f"{c.round_ref} / {c.target_ref}" if c.target_ref else c.round_ref
        fields.append(("检查批次" if zh else "Inspection round", target))

    def breach(i: Item) -> str:
        code = ""
        if i.framework:
            code = f"（规则编码：{i.framework}）" if zh else f" (framework code {i.framework})"
        return f"{clause(i.rule)}{code}{sep}{i.facts.strip().lstrip(_END)}"

    rows = tuple(
        (
            str(n),
            breach(i),
            i.legal_basis,
            yuan(i.amount_involved),
            ("；" if zh else "; ").join(h.label(lang) for h in i.handling) or "—",
        )
        for n, i in enumerate(c.items, start=1)
    )
    unit = c.issuing_unit
    if zh:
        facts_heading = "一、现场检查发现的问题"
        facts = (
            "经现场检查，发现你单位存在以下违反医疗保障定点服务协议的行为。"
            f"现场检查情况：{c.onsite_facts}"
        )
        header = ("序号", "违约事实", "违反条款（依据）", "涉及金额（元）", "处理意见")
        total = f"以上违约事项共{len(c.items)}项，涉及金额合计 {yuan(c.total_involved)} 元。"
        sections = (
            (
                "二、整改要求",
                f"{clause(c.requirements)}。请于{_day(c.rectify_due, lang)}前（自本通知下达之日起"
                f"{c.rectify_days}日内）向{unit}报送书面整改报告及相关佐证材料。",
            ),
            (
                "三、陈述与申请复核的权利",
                f"你单位对本通知认定的事实、依据或处理意见有异议的，可自本通知下达之日起"
                f"{c.statement_days}日内（{_day(c.statement_due, lang)}前）向{unit}提出书面陈述"
                f"或申请复核，复核自收到申请之日起15日内作出决定；逾期未提出的，视为无异议。",
            ),
        )
        signatures = (
            "检查人员（签名）：____________　____________",
            "被检查机构负责人（签名）：____________　日期：____________",
            "被检查机构（盖章）",
            f"{unit}（盖章）",
            _day(c.issue_date, lang),
        )
    else:
        facts_heading = "1. Problems found on site"
        facts = (
            "The on-site inspection found the following breaches of the service agreement. "
            f"On-site facts: {c.onsite_facts}"
        )
        header = ("No.", "Facts", "Clause breached", "Amount (yuan)", "Handling")
        total = f"{len(c.items)} item(s), {yuan(c.total_involved)} yuan involved in all."
        sections = (
            (
                "2. Rectification required",
                f"{clause(c.requirements)}. Submit a written rectification report with evidence to "
                f"{unit} by {_day(c.rectify_due, lang)} (within {c.rectify_days} days of "
                "this notice).",
            ),
            (
                "3. Right to a statement or review",
                f"If you disagree with the facts, basis or handling, you may submit a written "
                f"statement or request a review from {unit} within {c.statement_days} days "
                f"of this notice (by {_day(c.statement_due, lang)}); a review is decided "
                "within 15 days of the request. Without one by then, no objection is assumed.",
            ),
        )
        signatures = (
            "Inspectors (signature): ____________  ____________",
            "Head of the institution (signature): ____________  Date: ____________",
            "Institution (seal)",
            f"{unit} (seal)",
            _day(c.issue_date, lang),
        )
    return tidied(
        Layout(
            title=TITLE["zh" if zh else "en"],
            number=f"{'编号' if zh else 'No.'}{sep}{c.number or ('（草稿）' if zh else '(draft)')}",
            fields=tuple((k + sep, v) for k, v in fields),
            facts_heading=facts_heading,
            facts=facts,
            table_header=header,
            table_rows=rows,
            total=total,
            sections=sections,
            signatures=signatures,
            author=unit,
            number_value=c.number,
        )
    )


def tidied(lay: Layout) -> Layout:
    """``lay`` with :func:`tidy` applied to every string it shows."""

    def fix(value: object) -> object:
        if isinstance(value, str):
            return tidy(value)
        if isinstance(value, tuple):
            return tuple(fix(v) for v in value)
        return value

    shown = ("title", "number", "fields", "facts_heading", "facts", "table_header")
    shown += ("table_rows", "total", "sections", "signatures")
    return replace(
        lay, **{f.name: fix(getattr(lay, f.name)) for f in fields(lay) if f.name in shown}
    )


def docx_bytes(c: NoticeContent, lang: str = "zh") -> bytes:
    """The notice as a Word document."""
    return layout_docx(layout(c, lang))


def layout_docx(lay: Layout) -> bytes:
    """A layout as a Word document (A4, 宋体/黑体 for East Asian text)."""
    doc = Document()
    section = doc.sections[0]  # python-docx's template is US Letter
    section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
    section.left_margin = section.right_margin = Mm(MARGINS_MM[0])
    section.top_margin = section.bottom_margin = Mm(MARGINS_MM[1])

    def east_asian(run_or_style: object, name: str) -> None:
        rpr = run_or_style.element.get_or_add_rPr()  # type: ignore[attr-defined]
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)

    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    east_asian(normal, DOCX_BODY_FONT)
    doc.core_properties.title = f"{lay.title} {lay.number_value}".strip()
    doc.core_properties.author = lay.author

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(lay.title)
    run.bold, run.font.size = True, Pt(18)
    east_asian(run, DOCX_TITLE_FONT)
    number = doc.add_paragraph(lay.number)
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for label, value in lay.fields:
        p = doc.add_paragraph()
        p.add_run(label).bold = True
        p.add_run(value)
    doc.add_paragraph().add_run(lay.facts_heading).bold = True
    doc.add_paragraph(lay.facts)
    table = doc.add_table(rows=1, cols=len(lay.table_header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, lay.table_header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in lay.table_rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    table.autofit = False
    for column, width in zip(table.columns, lay.col_widths, strict=True):
        column.width = Mm(width)  # the grid, which LibreOffice reads
        for cell in column.cells:
            cell.width = Mm(width)  # each cell's, which Word reads
    doc.add_paragraph(lay.total)
    for heading, text in lay.sections:
        doc.add_paragraph().add_run(heading).bold = True
        doc.add_paragraph(text)
    doc.add_paragraph()
    for i, line in enumerate(lay.signatures):
        p = doc.add_paragraph(line)
        if i >= lay.right_from:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = BytesIO()
    doc.save(buf)
    return buf.getvalue()


def pdf_font() -> Path:
    """The TrueType CJK font the PDF embeds, or :class:`RenderError` saying what to install."""
    override = os.environ.get(FONT_ENV)
    candidates = [Path(override)] if override else [Path(p) for p in PDF_FONTS]
    for path in candidates:
        if path.is_file():
            return path
    msg = (
        f"no TrueType CJK font for the PDF (looked for {', '.join(map(str, candidates))}); "
        f"install fonts-wqy-zenhei (make system-deps) or set {FONT_ENV}"
    )
    raise RenderError(msg)


def pdf_bytes(c: NoticeContent, lang: str = "zh") -> bytes:
    """The notice as a PDF with its CJK font embedded (subset)."""
    return layout_pdf(layout(c, lang))


def layout_pdf(lay: Layout) -> bytes:
    """A layout as a PDF with its CJK font embedded (subset)."""
    # start-up cost: fpdf2 and fontTools add ~3 s to every import of hrss_fraud.notices
    # (measured); only writing a PDF needs them
    from fpdf import FPDF
    from fpdf.enums import TextEmphasis, WrapMode
    from fpdf.fonts import FontFace

    font = pdf_font()
    # fontTools reports each table it leaves out of the subset (the font's bitmaps): noise
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGINS_MM[0], MARGINS_MM[1], MARGINS_MM[0])
    pdf.set_auto_page_break(True, margin=MARGINS_MM[1])
    pdf.add_font("cjk", "", str(font))
    pdf.set_title(f"{lay.title} {lay.number_value}".strip())
    pdf.set_author(lay.author)
    pdf.set_creator("hrss_fraud")
    pdf.add_page()
    width = pdf.epw

    def para(text: str, size: float = 11, align: str = "L", gap: float = 1.5) -> None:
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(
            width, size * 0.55, text, align=align, wrapmode=WrapMode.CHAR, new_x="LMARGIN"
        )
        pdf.ln(gap)

    para(lay.title, size=18, align="C", gap=3)
    para(lay.number, align="R")
    for label, value in lay.fields:
        para(label + value, gap=0.5)
    pdf.ln(2)
    para(lay.facts_heading, size=12)
    para(lay.facts)
    pdf.set_font("cjk", size=9.5)
    with pdf.table(
        col_widths=lay.col_widths,
        text_align=lay.col_align,
        wrapmode=WrapMode.CHAR,
        # the font has one face: shade the headings instead of asking for bold
        headings_style=FontFace(emphasis=TextEmphasis.NONE, fill_color=(235, 235, 235)),
        line_height=5,
        padding=1.2,
    ) as table:
        for row in (lay.table_header, *lay.table_rows):
            r = table.row()
            for text in row:
                r.cell(text)
    pdf.ln(2)
    para(lay.total)
    for heading, text in lay.sections:
        para(heading, size=12)
        para(text)
    pdf.ln(6)
    for i, line in enumerate(lay.signatures):
        para(line, align="R" if i >= lay.right_from else "L", gap=3)
    return bytes(pdf.output())


@dataclass(frozen=True)
class Written:
    """A layout written as ``<stem>.docx`` and ``<stem>.pdf``, with each file's SHA-256."""

    docx_path: Path
    pdf_path: Path
    docx_sha256: str
    pdf_sha256: str


def write_layout(lay: Layout, folder: Path, stem: str) -> Written:
    """Render ``lay`` as DOCX and PDF and write both atomically into ``folder``."""
    docx, pdf = layout_docx(lay), layout_pdf(lay)
    docx_path, pdf_path = Path(folder) / f"{stem}.docx", Path(folder) / f"{stem}.pdf"
    write_atomic(docx_path, docx)
    write_atomic(pdf_path, pdf)
    return Written(docx_path, pdf_path, sha256(docx), sha256(pdf))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsynced and
    renamed, so a reader sees the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)  # a notice names an institution's breaches: owner only
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
