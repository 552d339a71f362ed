"""An issued notice opened in LibreOffice, as the centre's staff would open it: its DOCX
converted to PDF by headless LibreOffice says, in Chinese, exactly what was issued.

LibreOffice is a system package (`make system-deps`, which `make test` runs first), so a
machine without it fails here rather than skipping."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pypdf
import pytest
from helpers.notice_fixtures import make_content

from hrss_fraud.cases import CaseStore
from hrss_fraud.notices import create, get, issue, layout
from hrss_fraud.notices.render_check import RenderCheckError, libreoffice_pdf


def _squash(text: str) -> str:
    # LibreOffice wraps table cells and spaces Chinese from digits (2026 年): compare
    # without whitespace
    return re.sub(r"\s+", "", text)


def test_libreoffice_opens_the_docx_with_the_chinese_as_issued(
    store: CaseStore, ws: Path, tmp_path: Path
) -> None:
    notice_id = create(store, make_content(), by="li")
    out = issue(store, notice_id, ws, by="li", on=date(2026, 3, 5))
    (pdf,) = libreoffice_pdf([out.docx], tmp_path / "lo")
    text = _squash("".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages))
    for expected in (
        "现场监督检查违约通知单",
        "编号：2026-0001",
        "被检查机构：城关镇卫生院",
        "同一次住院中同时收取静脉输液费与其包含的注射费，共12人次。",
        "追回医保基金1,234.50元；违约金2,469.00元；约谈",
        "涉及金额合计1,534.50元",
        "请于2026年4月4日前",
    ):
        assert expected in text, expected
    for s in layout(get(store, out.number).content).texts():
        assert _squash(s) in text, s


def test_without_libreoffice_the_check_fails_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderCheckError, match=r"soffice not found: run `make system-deps`"):
        libreoffice_pdf([tmp_path / "notice.docx"], tmp_path)
