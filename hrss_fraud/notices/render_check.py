"""Open issued notices and exported inspection lists in LibreOffice, as the centre's staff
would, and render their pages: PDF for a test to read the text back, PNG for the docs.

    python -m hrss_fraud.notices.render_check --workspace WS --notice 2025-0001 \\
        --round 1 --group G2 --out docs/screenshots

writes ``notice_docx_libreoffice.png`` (the DOCX's first page as LibreOffice lays it out),
``notice_pdf.png`` (the first page of our own PDF) and ``inspection_list_libreoffice.png``
(the first page of the group's workbook: its summary sheet).

Needs LibreOffice (``soffice``) and poppler-utils (``pdftoppm``): ``make system-deps``.
Each conversion uses a private LibreOffice profile, so runs in parallel do not share (and
lock) one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hrss_fraud.cases import open_store
from hrss_fraud.inspection.exports import ExportError, export_round
from hrss_fraud.inspection.rounds import RoundError
from hrss_fraud.notices.store import NoticeError, get
from hrss_fraud.workspace import resolve

SOFFICE_TIMEOUT = 180.0
"""Seconds one conversion call may take: a large group's workbook prints to many pages."""
DPI = 80
SCREENSHOTS = {
    "docx": "notice_docx_libreoffice.png",
    "pdf": "notice_pdf.png",
    "list": "inspection_list_libreoffice.png",
}


class RenderCheckError(RuntimeError):
    """A document LibreOffice or poppler could not render; the message says why."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        msg = f"{name} not found: run `make system-deps` (installs LibreOffice and poppler-utils)"
        raise RenderCheckError(msg)
    return path


def libreoffice_pdf(
    documents: Sequence[Path], out_dir: Path, *, timeout: float = SOFFICE_TIMEOUT
) -> list[Path]:
    """Convert DOCX and XLSX files to PDF with headless LibreOffice, all in one call (it
    takes seconds to start); return the PDFs in the documents' order."""
    soffice = _tool("soffice")
    stems = [Path(d).stem for d in documents]
    if len(set(stems)) < len(stems):
        msg = f"documents with the same name would overwrite each other's PDF: {stems}"
        raise RenderCheckError(msg)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = (out_dir / "lo-profile").as_uri()
    command = [
        soffice,
        f"-env:UserInstallation={profile}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        *(str(d) for d in documents),
    ]
    # its own session, so that a timeout ends soffice.bin too, not only the wrapper script
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            msg = f"LibreOffice took more than {timeout:.0f} s to convert {stems}"
            raise RenderCheckError(msg) from None
    pdfs = [out_dir / f"{stem}.pdf" for stem in stems]
    missing = [p.name for p in pdfs if not p.is_file()]
    if missing:
        msg = f"LibreOffice made no {', '.join(missing)} (exit {proc.returncode}): {stderr}"
        raise RenderCheckError(msg.strip())
    return pdfs


def page_png(pdf: Path, png: Path, *, page: int = 1, dpi: int = DPI) -> Path:
    """One page of ``pdf`` as a PNG image at ``dpi`` (poppler's ``pdftoppm``)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    command = [_tool("pdftoppm"), "-r", str(dpi), "-png", "-f", str(page), "-l", str(page)]
    done = subprocess.run(
        [*command, "-singlefile", str(pdf), str(png.with_suffix(""))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode or not png.is_file():
        msg = f"pdftoppm could not render {pdf} (exit {done.returncode}): {done.stderr.strip()}"
        raise RenderCheckError(msg)
    return png


def _notice_files(workspace: Path, number: str) -> tuple[Path, Path]:
    with open_store(workspace) as store:
        n = get(store, number)
    if n.number is None:
        msg = f"notice {number} is a draft: issue it first (hrss-fraud notice issue)"
        raise RenderCheckError(msg)
    return workspace / str(n.docx_path), workspace / str(n.pdf_path)


def _round_list(workspace: Path, round_id: int, group: str | None, out_dir: Path) -> Path:
    with open_store(workspace) as store:
        books = export_round(store, workspace, round_id, out_dir)
    if group is None:
        return books[0]
    for book in books:
        if book.stem.endswith(f"_{group}"):
            return book
    msg = f"round {round_id} has no group {group}: {[b.name for b in books]}"
    raise RenderCheckError(msg)


def render_screenshots(
    workspace: Path, out: Path, *, notice: str, round_id: int, group: str | None = None
) -> list[Path]:
    """The three screenshots of the docs (:data:`SCREENSHOTS`) in ``out``."""
    docx, pdf = _notice_files(workspace, notice)
    with tempfile.TemporaryDirectory(prefix="render-check-") as tmp:
        book = _round_list(workspace, round_id, group, Path(tmp) / "lists")
        docx_pdf, book_pdf = libreoffice_pdf([docx, book], Path(tmp) / "pdf")
        return [
            page_png(docx_pdf, out / SCREENSHOTS["docx"]),
            page_png(pdf, out / SCREENSHOTS["pdf"]),
            page_png(book_pdf, out / SCREENSHOTS["list"]),
        ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hrss_fraud.notices.render_check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--workspace", help="default: $HRSS_FRAUD_HOME or ./workspace")
    parser.add_argument("--notice", required=True, help="an issued notice's number")
    parser.add_argument("--round", dest="round_id", type=int, required=True, help="round id")
    parser.add_argument("--group", help="the group whose list to show (default: the first)")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    try:
        pngs = render_screenshots(
            resolve(args.workspace),
            args.out,
            notice=args.notice,
            round_id=args.round_id,
            group=args.group,
        )
    except (RenderCheckError, NoticeError, RoundError, ExportError) as e:
        parser.exit(1, f"render_check: error: {e}\n")
    for png in pngs:
        print(f"{png} ({png.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
