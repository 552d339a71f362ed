"""Open an uploaded file, whatever its format and encoding, and hand back its rows as text.

Every value comes back as a string (IDs must never pass through a number type here), every
row carries ``_line`` so a rejected row can be shown to the operator where it sits in the
file, and anything that makes the whole file unreadable becomes one :class:`UploadError`
with a reason code. Big CSV files stay streaming: UTF-8 is validated in large chunks and
read in place by polars; GBK/GB18030 is transcoded chunk by chunk to a temporary UTF-8 file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import logging
import os
import posixpath
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import fastexcel
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from hrss_fraud.ingest.errors import Reason, UploadError

LINE = "_line"
#: Set on a CSV row that has fewer fields than the header: how many it has (else absent or
#: null). polars pads such a row with nulls; validation quarantines it as ``ragged_row``.
FIELDS = "_fields"
CHUNK = 4 << 20  # 4 MiB: large enough for C-speed decoding, small enough for bounded memory
JSON_MAX_BYTES = 512 << 20
#: Block that Arrow parses at a time when counting fields (see ``_short_records``).
SHORT_ROW_BLOCK = 16 << 20
HEADER_MAX_BYTES = 16 << 20

_BOM = codecs.BOM_UTF8
_WS = b" \t\r\n\f\v"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_FOREIGN_MAGIC = {  # formats people upload by mistake: say what they are instead of "undecodable"
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"\xff\xfe": "UTF-16 text (save it as CSV UTF-8 instead)",
    b"\xfe\xff": "UTF-16 text (save it as CSV UTF-8 instead)",
}
# fastexcel logs a warning for every column it types as text because the column is empty
# or mixed; text is what we ask for, so those warnings are noise on an operator's console.
logging.getLogger("fastexcel.types.dtype").setLevel(logging.ERROR)

_DELIMITERS = (",", "\t", "|")
_SINGLE_COLUMN_SEP = "\x1f"  # a byte that never occurs in text: one column per line


@dataclass
class RawUpload:
    """One opened upload: its header and a lazy frame of text columns plus ``_line``."""

    path: Path
    kind: str  # "csv" | "xlsx" | "json" | "parquet"
    encoding: str | None  # "utf-8", "utf-8-sig", "gbk", "gb18030" for csv; None otherwise
    delimiter: str | None  # "," "\t" "|" for csv; None for a single-column csv and other kinds
    header: list[str]
    sheet: str | None
    frame: pl.LazyFrame
    sha256: str | None = None  # hex digest, when opening already read the whole file
    _source: Path | None = field(default=None, repr=False)  # the UTF-8 file polars scans
    _tmp: Path | None = field(default=None, repr=False)  # transcoded copy to delete
    #: CSV only: the bare scan (no ``_line``, blank rows kept) and the first data line, for
    #: ``read_together``, which numbers and filters many small files at once.
    _scan: pl.LazyFrame | None = field(default=None, repr=False)
    _first_line: int = field(default=0, repr=False)
    #: CSV only: (``_line``, ``_fields``) of the rows shorter than the header, found once.
    _short: pl.DataFrame | None = field(default=None, repr=False)

    def close(self) -> None:
        """Remove the temporary transcoded file, if any (safe to call twice)."""
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def __enter__(self) -> RawUpload:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (uploads can be gigabytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def open_upload(path: Path, *, tmp_dir: Path | None = None) -> RawUpload:
    """Open ``path`` by its content (not only its suffix); raise UploadError if unreadable.

    Cheap for UTF-8 CSV (one read that both hashes the file and validates it, no copy);
    GBK/GB18030 is transcoded to a temporary file in ``tmp_dir`` (default: the system temp
    dir) that ``close()`` removes. ``sha256`` is set for CSV (other kinds: ``file_sha256``).
    """
    path = Path(path)
    if not path.exists():
        raise UploadError(path, Reason.NOT_FOUND, "no such file")
    if not path.is_file():
        raise UploadError(path, Reason.NOT_A_FILE, "not a regular file (a directory?)")
    if path.stat().st_size == 0:
        raise UploadError(path, Reason.EMPTY_FILE, "file is empty (0 bytes)")
    kind = _sniff(path)
    if kind == "xlsx":
        return _open_xlsx(path)
    if kind == "parquet":
        return _open_parquet(path)
    if kind == "json":
        return _open_json(path)
    return _open_csv(path, tmp_dir)


def materialize(raw: RawUpload) -> pl.DataFrame:
    """Collect the whole upload, translating polars parse errors into UploadError; rows
    shorter than the header carry ``_fields`` (see ``mark_short_rows``)."""
    try:
        return mark_short_rows(raw, raw.frame.collect())
    except pl.exceptions.PolarsError as e:
        raise _translate(raw, e) from e


def iter_batches(raw: RawUpload, rows: int = 1_000_000) -> Iterator[pl.DataFrame]:
    """Stream the upload in batches of at most ``rows`` rows (errors and ``_fields`` as in
    materialize)."""
    try:
        for batch in raw.frame.collect_batches(chunk_size=rows):
            for start in range(0, batch.height, rows):
                yield mark_short_rows(raw, batch.slice(start, rows))
    except pl.exceptions.PolarsError as e:
        raise _translate(raw, e) from e


def mark_short_rows(raw: RawUpload, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` of ``raw`` (with ``_line``), with ``_fields`` set on those shorter than the
    header.

    polars pads a short CSV row with nulls (it has no option to refuse one): a row cut by
    a truncated upload would be accepted with its last fields empty. A short row always
    has a null in the last column, so the file is searched (once) only when some row has.
    """
    if raw.kind != "csv" or raw.delimiter is None or rows.height == 0 or not raw.header:
        return rows
    if rows.get_column(raw.header[-1]).null_count() == 0:
        return rows
    if raw._short is None:
        raw._short = _short_records(raw)
    if raw._short.height == 0:
        return rows
    short = raw._short.with_columns(pl.col(LINE).cast(rows.schema[LINE]))
    return rows.join(short, on=LINE, how="left", maintain_order="left")


def _short_records(raw: RawUpload) -> pl.DataFrame:
    """(``_line``, ``_fields``) of every record with fewer fields than the header.

    Arrow's CSV parser counts the fields of each record the way polars splits them
    (quotes, doubled quotes, line breaks inside quotes) and calls back only for records of
    the wrong width, with their 1-based record number, which is polars' ``_line``. It runs
    single-threaded (numbers are only known then), streaming, converting one column.
    """
    assert raw._source is not None and raw.delimiter is not None
    width = len(raw.header)
    lines: list[int] = []
    counts: list[int] = []

    def short(row: Any) -> str:
        if row.actual_columns < width and row.text.strip():
            lines.append(row.number)
            counts.append(row.actual_columns)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    parse = pa_csv.ParseOptions(
        delimiter=raw.delimiter,
        quote_char='"',
        double_quote=True,
        newlines_in_values=True,
        ignore_empty_lines=False,
        invalid_row_handler=short,
    )
    convert = pa_csv.ConvertOptions(include_columns=names[:1], column_types={names[0]: pa.string()})
    # A record must fit in one block: a huge field (refused later, by validation) needs a
    # block as large as the file, tried only when the usual size fails.
    whole = min(raw._source.stat().st_size + 1, (1 << 31) - 1)
    for block in sorted({SHORT_ROW_BLOCK, whole}):
        lines.clear()
        counts.clear()
        options = pa_csv.ReadOptions(
            use_threads=False, skip_rows=raw._first_line - 1, column_names=names, block_size=block
        )
        try:
            for _ in pa_csv.open_csv(
                raw._source, read_options=options, parse_options=parse, convert_options=convert
            ):
                pass
            break
        except pa.ArrowInvalid as e:
            if block >= whole:
                msg = f"cannot count the fields of each row: {_first_line(e)}"
                raise UploadError(raw.path, Reason.BAD_CSV, msg) from e
    return pl.DataFrame({LINE: lines, FIELDS: counts}, schema={LINE: pl.UInt32, FIELDS: pl.Int32})


def read_together(raws: list[RawUpload], source_column: str) -> pl.DataFrame:
    """The rows of several uploads of one header, in order, each tagged with its path in
    ``source_column``: what concatenating their ``frame``s gives, read in one parallel pass.

    Per-file row numbering and blank-row filtering cost more than the parsing when files
    are small, so CSV files are scanned bare and numbered and filtered here, all at once.
    Raises PolarsError when any file cannot be read (``materialize`` says which and why).
    """
    csv_only = all(r._scan is not None for r in raws)
    lazies = [r._scan if r._scan is not None and csv_only else r.frame for r in raws]
    frames = pl.collect_all(lazies)  # type: ignore[arg-type]
    if csv_only:
        frames = [
            f.with_row_index(LINE, offset=r._first_line) for f, r in zip(frames, raws, strict=True)
        ]
    try:
        frames = [mark_short_rows(r, f) for f, r in zip(frames, raws, strict=True)]
    except UploadError as e:  # the caller reads the files one by one to pin it on its file
        raise pl.exceptions.ComputeError(str(e)) from e
    ragged = any(FIELDS in f.columns for f in frames)
    out = pl.concat(frames, how="diagonal" if ragged else "vertical", rechunk=False)
    which = np.repeat(np.arange(len(raws), dtype=np.uint32), [f.height for f in frames])
    paths = pl.Series(source_column, [str(r.path) for r in raws], dtype=pl.String)
    out = out.with_columns(paths.gather(which))
    if csv_only:
        keep = out.select(pl.any_horizontal(pl.col(raws[0].header).is_not_null())).to_series()
        if not keep.all():
            out = out.filter(keep)
    return out


# --------------------------------------------------------------------------- sniffing


def _sniff(path: Path) -> str:
    """Format by magic bytes first; the suffix only decides between error messages."""
    with open(path, "rb") as f:
        head = f.read(4096)
    suffix = path.suffix.lower()
    if head[:4] in _ZIP_MAGIC:
        return "xlsx"
    if head[:8] == _CFB_MAGIC:
        if suffix in {".xlsx", ".xlsm"} or _has_encryption_stream(path):
            msg = "workbook is password-protected: remove the password and upload it again"
            raise UploadError(path, Reason.ENCRYPTED_XLSX, msg)
        msg = "old binary Excel (.xls) or other OLE2 file: save it as .xlsx or CSV"
        raise UploadError(path, Reason.UNSUPPORTED_FORMAT, msg)
    if head[:4] == b"PAR1":
        return "parquet"
    for magic, what in _FOREIGN_MAGIC.items():
        if head.startswith(magic):
            raise UploadError(path, Reason.UNSUPPORTED_FORMAT, f"file is {what}")
    text = head.removeprefix(_BOM).lstrip(_WS)
    if text[:1] in (b"[", b"{"):
        return "json"
    if suffix in {".xlsx", ".xlsm"} and text:
        raise UploadError(path, Reason.CORRUPT_XLSX, "not an Excel workbook (not a zip archive)")
    if suffix == ".parquet" and text:
        raise UploadError(path, Reason.BAD_PARQUET, "not a Parquet file (no PAR1 magic)")
    if suffix == ".json" and text:
        raise UploadError(path, Reason.BAD_JSON, "JSON must start with '[' or '{'", line=1)
    return "csv"


def _has_encryption_stream(path: Path) -> bool:
    """Whether a CFB container holds an EncryptionInfo/EncryptedPackage directory entry."""
    keep = max(len(s) for s in _ENCRYPTION_STREAMS)
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            data = tail + chunk
            if any(s in data for s in _ENCRYPTION_STREAMS):
                return True
            tail = data[-keep:]
    return False


# --------------------------------------------------------------------------- CSV


@dataclass
class _Utf8Check:
    valid: bool
    bom: bool
    blank: bool  # only whitespace (after the BOM) up to where the check stopped
    bad_offset: int = -1  # first byte that is not UTF-8
    utf8_lines_before: bool = False  # earlier whole lines held real multibyte UTF-8


#: Continuation bytes (non-ASCII beyond each character's first byte) that complete earlier
#: lines must hold before a decoding failure counts as "UTF-8 then something else": GBK text
#: sometimes forms a valid UTF-8 pair by chance (医 = D2 BD), never whole lines of them.
_UTF8_EVIDENCE = 4


def _utf8_cut(data: bytes) -> int:
    """Where to cut ``data`` so that no UTF-8 sequence is split: before a trailing lead byte
    whose sequence is incomplete, else at the end (malformed tails are the validator's)."""
    n = len(data)
    i = n - 1
    while i >= max(0, n - 4) and data[i] & 0xC0 == 0x80:
        i -= 1
    if i >= 0 and data[i] >= 0xC0:
        need = 2 if data[i] < 0xE0 else 3 if data[i] < 0xF0 else 4
        if n - i < need:
            return i
    return n


def _is_utf8(data: bytes | memoryview) -> bool:
    """Strict UTF-8 validation at memory speed (Arrow's validator; same verdict as
    ``bytes.decode("utf-8")``: overlong forms, surrogates and > U+10FFFF are invalid)."""
    offsets = (0).to_bytes(4, "little") + len(data).to_bytes(4, "little")  # one int32 string
    arr = pa.StringArray.from_buffers(1, pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _hash_and_check(path: Path) -> tuple[str, _Utf8Check | None]:
    """SHA-256 of the file and, in the same read, its UTF-8 verdict when it is valid UTF-8;
    ``None`` when it is not (``_check_utf8`` then says where and how, on the rare path)."""
    h = hashlib.sha256()
    valid, bom, blank, first = True, False, True, True
    carry = b""
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if not valid:
                continue
            body = chunk
            if first:
                first = False
                if chunk.startswith(_BOM):
                    bom = True
                    body = chunk[len(_BOM) :]
            if blank and body.strip(_WS):
                blank = False
            data = carry + body if carry else body
            if data.isascii():
                carry = b""
                continue
            cut = _utf8_cut(data)
            valid = _is_utf8(memoryview(data)[:cut])
            carry = data[cut:]
    if carry:
        valid = False
    return h.hexdigest(), _Utf8Check(valid=True, bom=bom, blank=blank) if valid else None


def _check_utf8(path: Path) -> _Utf8Check:
    """Stream-validate UTF-8: ASCII chunks are skipped at memory speed, others decoded."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    bom = False
    blank = True
    extra = 0  # continuation bytes decoded so far
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            body = chunk
            if offset == 0 and chunk.startswith(_BOM):
                bom = True
                body = chunk[len(_BOM) :]
            if blank and body.strip(_WS):
                blank = False
            if not decoder.buffer and body.isascii():
                offset += len(chunk)
                continue
            pending = len(decoder.buffer)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as e:
                rel = max(0, e.start - pending)
                line_start = chunk.rfind(b"\n", 0, rel) + 1
                head = chunk[:line_start].removeprefix(_BOM) if offset == 0 else chunk[:line_start]
                evidence = extra + len(head) - len(head.decode("utf-8", errors="replace"))
                return _Utf8Check(
                    valid=False,
                    bom=bom,
                    blank=False,
                    bad_offset=offset + rel,
                    utf8_lines_before=evidence >= _UTF8_EVIDENCE,
                )
            extra += len(chunk) - len(text) - (len(_BOM) - 1 if chunk is not body else 0)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            bad = offset - len(decoder.buffer)
            return _Utf8Check(False, bom, False, bad, extra >= _UTF8_EVIDENCE)
    return _Utf8Check(valid=True, bom=bom, blank=blank)


class _DecodeFailed(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def _transcode(path: Path, encoding: str, tmp_dir: Path | None) -> Path:
    """Decode ``path`` as ``encoding`` chunk by chunk into a temporary UTF-8 file."""
    fd, name = tempfile.mkstemp(prefix=".hrss-upload-", suffix=".utf8.csv", dir=tmp_dir)
    tmp = Path(name)
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb", buffering=0) as f:
            while chunk := f.read(CHUNK):
                pending = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as e:
                    raise _DecodeFailed(offset + e.start - pending) from e
                out.write(text.encode("utf-8"))
                offset += len(chunk)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as e:
                raise _DecodeFailed(offset - len(decoder.getstate()[0])) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _line_at(path: Path, offset: int) -> int:
    """1-based line number of byte ``offset`` (a streaming count: error path only)."""
    newlines = 0
    with open(path, "rb", buffering=0) as f:
        remaining = offset
        while remaining > 0 and (chunk := f.read(min(CHUNK, remaining))):
            newlines += chunk.count(b"\n")
            remaining -= len(chunk)
    return newlines + 1


def _line_bytes(path: Path, offset: int, limit: int = 1 << 16) -> bytes:
    """The physical line around byte ``offset`` (at most ``limit`` bytes either side)."""
    start = max(0, offset - limit)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(offset - start + limit)
    rel = offset - start
    lo = data.rfind(b"\n", 0, rel) + 1
    hi = data.find(b"\n", rel)
    return data[lo : hi if hi >= 0 else len(data)]


def _resolve_encoding(
    path: Path, tmp_dir: Path | None, check: _Utf8Check | None = None
) -> tuple[Path, str, Path | None]:
    """(UTF-8 file to scan, encoding label, temp file to delete or None); ``check`` is the
    UTF-8 verdict when already known."""
    if check is None:
        check = _check_utf8(path)
    if check.valid:
        if check.blank:
            raise UploadError(path, Reason.EMPTY_FILE, "file holds only whitespace")
        return path, "utf-8-sig" if check.bom else "utf-8", None
    if check.utf8_lines_before:
        line = _line_at(path, check.bad_offset)
        msg = "file switches from UTF-8 to another encoding (GBK?); re-export it in one encoding"
        raise UploadError(path, Reason.MIXED_ENCODING, msg, line=line)
    failed_at = -1
    for encoding in ("gbk", "gb18030"):  # GB18030 decodes GBK bytes identically
        try:
            return _transcode(path, encoding, tmp_dir), encoding, None
        except _DecodeFailed as e:
            failed_at = e.offset
    line = _line_at(path, failed_at)
    text = _line_bytes(path, failed_at)
    try:
        looks_utf8 = not text.isascii() and bool(text.decode("utf-8"))
    except UnicodeDecodeError:
        looks_utf8 = False
    if looks_utf8:
        msg = "file switches from GBK to UTF-8; re-export it in one encoding"
        raise UploadError(path, Reason.MIXED_ENCODING, msg, line=line)
    with open(path, "rb") as f:
        f.seek(failed_at)
        byte = f.read(1)
    msg = f"byte 0x{byte.hex()} is neither UTF-8 nor GBK/GB18030 text"
    raise UploadError(path, Reason.UNDECODABLE, msg, line=line)


def _read_header_line(path: Path, source: Path) -> tuple[str, int, int]:
    """(header line text, blank lines before it, byte offset just after it) of a UTF-8 file."""
    blank_lines = 0
    with open(source, "rb") as f:
        pos = 0
        while True:
            raw = f.readline(HEADER_MAX_BYTES)
            pos += len(raw)
            if not raw:
                raise UploadError(path, Reason.EMPTY_FILE, "file holds only whitespace")
            if not raw.endswith(b"\n") and len(raw) >= HEADER_MAX_BYTES:
                msg = f"first line is longer than {HEADER_MAX_BYTES >> 20} MiB: not a table"
                raise UploadError(path, Reason.BAD_CSV, msg, line=blank_lines + 1)
            text = raw.decode("utf-8").removeprefix("\ufeff")
            if text.strip():
                return text.rstrip("\r\n"), blank_lines, pos
            blank_lines += 1


def _sniff_delimiter(line: str) -> str | None:
    """The most frequent of , TAB | outside double quotes; None when there is none."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])  # ties: the order of _DELIMITERS
    return best if counts[best] else None


def _clean_names(path: Path, names: list[str], *, line: int | None) -> list[str]:
    """Strip whitespace/BOM, name blank columns column_N, refuse duplicated names."""
    out = [n.replace("\ufeff", "").strip() or f"column_{i + 1}" for i, n in enumerate(names)]
    seen: set[str] = set()
    for n in out:
        if n in seen:
            msg = f"column {n!r} appears twice in the header"
            raise UploadError(path, Reason.DUPLICATE_COLUMN, msg, line=line)
        seen.add(n)
    return out


def _has_data_after(source: Path, offset: int) -> bool:
    with open(source, "rb") as f:
        f.seek(offset)
        while chunk := f.read(1 << 16):
            if chunk.strip(_WS):
                return True
    return False


def _drop_blank_rows(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    """Blank lines / empty Excel rows carry nothing: drop rows where every column is null."""
    return lf.filter(pl.any_horizontal(pl.col(names).is_not_null()))


def _open_csv(path: Path, tmp_dir: Path | None) -> RawUpload:
    sha256, check = _hash_and_check(path)
    source, encoding, _ = _resolve_encoding(path, tmp_dir, check)
    tmp = source if source != path else None
    try:
        line, blank_lines, end = _read_header_line(path, source)
        header_line_no = blank_lines + 1
        delimiter = _sniff_delimiter(line)
        if delimiter is None:
            names = _clean_names(path, [line], line=header_line_no)
        else:
            parsed = next(csv.reader([line], delimiter=delimiter, quotechar='"'))
            names = _clean_names(path, parsed, line=header_line_no)
        if not _has_data_after(source, end):
            msg = "file has a header but no data rows"
            raise UploadError(path, Reason.NO_ROWS, msg, line=header_line_no)
        options: dict[str, Any] = {
            "has_header": True,
            "new_columns": names,
            "separator": delimiter or _SINGLE_COLUMN_SEP,
            "quote_char": '"',
            "skip_lines": blank_lines,
            "infer_schema": False,
            "truncate_ragged_lines": False,
            "encoding": "utf8",
        }
        scan = pl.scan_csv(source, **options)
        lf = pl.scan_csv(
            source, row_index_name=LINE, row_index_offset=header_line_no + 1, **options
        )
        lf = _drop_blank_rows(lf, names)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    return RawUpload(
        path=path,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        header=names,
        sheet=None,
        frame=lf,
        sha256=sha256,
        _source=source,
        _tmp=tmp,
        _scan=scan,
        _first_line=header_line_no + 1,
    )


def _translate(raw: RawUpload, err: pl.exceptions.PolarsError) -> UploadError:
    """Turn a polars error at collect time into an UploadError saying where."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if raw.kind != "csv" or raw._source is None:
        reason = Reason.BAD_PARQUET if raw.kind == "parquet" else Reason.BAD_CSV
        return UploadError(raw.path, reason, f"cannot read rows: {first}")
    found = _find_ragged(raw._source, raw.delimiter or _SINGLE_COLUMN_SEP, len(raw.header))
    if found is not None:
        line, n = found
        msg = f"row has {n} fields but the header has {len(raw.header)}"
        return UploadError(raw.path, Reason.RAGGED_ROW, msg, line=line)
    return UploadError(raw.path, Reason.BAD_CSV, f"cannot parse CSV: {first}")


def _find_ragged(source: Path, delimiter: str, width: int) -> tuple[int, int] | None:
    """(physical line, field count) of the first record wider than the header, or None."""
    with open(source, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, quotechar='"')
        header_seen = False
        start = 1
        for record in reader:
            if not header_seen:
                header_seen = bool(record)
            elif len(record) > width:
                return start, len(record)
            start = reader.line_num + 1
    return None


# --------------------------------------------------------------------------- XLSX


def _num_text(x: float) -> str:
    """An Excel number as the digits it stores: 1.30123198509190003E17 → '130123198509190000'.

    ``repr`` gives the shortest digits that round-trip (what Excel wrote, not binary noise);
    integral values lose '.0' and scientific notation so IDs read as IDs.
    """
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    d = Decimal(repr(x))
    if x.is_integer():
        return str(int(d))
    return format(d, "f")


def _floats_as_text(s: pl.Series) -> pl.Series:
    """``_num_text`` over a column: polars casts the common range, Python the rest."""
    s = s.cast(pl.Float64)
    a = s.abs()
    integral = s.is_finite() & (s == s.round(0)) & (a < 1e15)
    plain = s.is_finite() & ~integral & (a >= 1e-5) & (a < 1e15)  # repr-identical there
    out = (
        pl.select(
            pl.when(integral)
            .then(s.cast(pl.Int64, strict=False).cast(pl.String))
            .when(plain)
            .then(s.cast(pl.String))
            .otherwise(None)
        )
        .to_series()
        .alias(s.name)
    )
    rest = (s.is_not_null() & ~integral & ~plain).arg_true()
    if len(rest):
        texts = [_num_text(v) for v in s.gather(rest).to_list()]
        out = out.scatter(rest, pl.Series(texts, dtype=pl.String))
    return out


def _open_xlsx(path: Path) -> RawUpload:
    try:
        reader = fastexcel.read_excel(path)
        sheet_names = reader.sheet_names
    except Exception as e:  # calamine raises several error types for a damaged zip/xml
        msg = f"cannot open workbook: {_first_line(e)}"
        raise UploadError(path, Reason.CORRUPT_XLSX, msg) from e
    for idx, sheet_name in enumerate(sheet_names):
        try:
            sheet = reader.load_sheet(idx, header_row=None, skip_rows=0, dtypes="string")
            grid = sheet.to_polars()
            grid = grid.select(pl.all().cast(pl.String))
        except Exception as e:
            msg = f"cannot read sheet {sheet_name!r}: {_first_line(e)}"
            raise UploadError(path, Reason.CORRUPT_XLSX, msg) from e
        if grid.width == 0 or grid.height == 0:
            continue
        h = _first_filled_row(grid.head(1000))
        if h is None:
            h = _first_filled_row(grid)
        if h is None:
            continue
        return _sheet_upload(path, reader, idx, sheet_name, grid, h, sheet)
    raise UploadError(path, Reason.EMPTY_FILE, "workbook has no sheet with data")


def _first_filled_row(grid: pl.DataFrame) -> int | None:
    """Index of the first row with a non-blank cell; grid row i is Excel row i + 1
    (fastexcel pads the grid from row 1 when the used range starts lower)."""
    filled = grid.select(
        pl.any_horizontal(pl.all().str.strip_chars().fill_null("") != "").alias("f")
    )["f"]
    hits = filled.arg_true()
    return int(hits[0]) if len(hits) else None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _sheet_upload(
    path: Path, reader: Any, idx: int, sheet_name: str, grid: pl.DataFrame, h: int, sheet: Any
) -> RawUpload:
    header_row = grid.row(h)
    data = grid.slice(h + 1)
    keep = [
        j
        for j, name in enumerate(header_row)
        if (name or "").strip() or data.get_column(grid.columns[j]).is_not_null().any()
    ]
    names = _clean_names(path, [header_row[j] or "" for j in keep], line=h + 1)
    cols = [data.get_column(grid.columns[j]).alias(n) for j, n in zip(keep, names, strict=True)]
    frame = pl.DataFrame(cols) if cols else pl.DataFrame()
    frame = _fix_numbers(path, reader, idx, sheet_name, sheet, h, keep, names, frame)
    frame = frame.with_columns(
        pl.int_range(h + 2, h + 2 + frame.height, dtype=pl.UInt32).alias(LINE)
    ).select(LINE, *names)
    frame = _drop_blank_rows(frame.lazy(), names).collect()
    if frame.height == 0:
        msg = f"sheet {sheet_name!r} has a header but no data rows"
        raise UploadError(path, Reason.NO_ROWS, msg, line=h + 1)
    return RawUpload(
        path=path,
        kind="xlsx",
        encoding=None,
        delimiter=None,
        header=names,
        sheet=sheet_name,
        frame=frame.lazy(),
    )


def _fix_numbers(
    path: Path,
    reader: Any,
    idx: int,
    sheet_name: str,
    sheet: Any,
    h: int,
    keep: list[int],
    names: list[str],
    frame: pl.DataFrame,
) -> pl.DataFrame:
    """Re-render numeric cells as their stored digits (see ``_num_text``).

    calamine's string conversion prints an integral float exactly (1.301230000000003E17
    becomes ...304: binary noise that hides lost digits). Columns that hold only numbers
    are re-read as floats; text columns holding 16+ digit strings may also hold such
    numbers, so their numeric cells are looked up in the sheet XML (``_numeric_cells``).
    """
    if frame.height == 0:
        return frame
    grid_cols = sheet.available_columns()
    try:
        typed = reader.load_sheet(idx, header_row=h, schema_sample_rows=None).to_polars()
    except Exception:
        typed = None
    if typed is not None and (typed.height != frame.height or typed.width != len(grid_cols)):
        typed = None
    absolute = [c.absolute_index for c in grid_cols]
    suspects: dict[int, str] = {}
    fixes: list[pl.Series] = []
    for j, name in zip(keep, names, strict=True):
        col = typed.to_series(j) if typed is not None and j < typed.width else None
        if col is not None and col.dtype.is_numeric():
            if col.dtype.is_float():
                fixes.append(_floats_as_text(col).alias(name))
            else:
                fixes.append(col.cast(pl.String).alias(name))
            continue
        values = frame.get_column(name)
        if values.str.contains(r"^-?\d{16,}$").any():
            suspects[absolute[j]] = name
    if fixes:
        frame = frame.with_columns(fixes)
    if suspects:
        frame = _fix_mixed_columns(path, sheet_name, h, suspects, frame)
    return frame


def _fix_mixed_columns(
    path: Path, sheet_name: str, h: int, suspects: dict[int, str], frame: pl.DataFrame
) -> pl.DataFrame:
    """In text columns, re-render only the cells Excel stored as numbers."""
    try:
        numbers = _numeric_cells(path, sheet_name, suspects)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ET.ParseError):
        numbers = None
    if not numbers:  # e.g. .xlsb/.ods: keep calamine's text, validation still flags the IDs
        return frame
    lines = range(h + 2, h + 2 + frame.height)
    fixes = []
    for name, by_row in numbers.items():
        if by_row:
            old = frame.get_column(name).to_list()
            new = [by_row.get(r, v) for r, v in zip(lines, old, strict=True)]
            fixes.append(pl.Series(name, new, dtype=pl.String))
    return frame.with_columns(fixes) if fixes else frame


def _col_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_member(z: zipfile.ZipFile, sheet_name: str) -> str | None:
    """The zip member holding ``sheet_name``'s XML (namespace-agnostic: strict OOXML too)."""
    rid = None
    for el in ET.fromstring(z.read("xl/workbook.xml")).iter():
        if _local(el.tag) == "sheet" and el.get("name") == sheet_name:
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
    if rid is None:
        return None
    for el in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")).iter():
        if _local(el.tag) == "Relationship" and el.get("Id") == rid:
            target = el.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    return None


_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_TYPE = re.compile(rb'\bt="([^"]*)"')
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b")


def _numeric_cells(
    path: Path, sheet_name: str, columns: dict[int, str]
) -> dict[str, dict[int, str]] | None:
    """{column name: {Excel row: number as text}} for numeric cells of ``columns``.

    A regex over the streamed sheet XML: openpyxl took 50 s for 200,000 rows, this takes
    well under a second, and it only has to tell numbers from text in a few columns.
    """
    by_letter = {_col_letters(a).encode(): name for a, name in columns.items()}
    alternatives = b"|".join(re.escape(k) for k in by_letter)
    cell: re.Pattern[bytes] | None = None
    out: dict[str, dict[int, str]] = {name: {} for name in columns.values()}
    with zipfile.ZipFile(path) as z:
        member = _sheet_member(z, sheet_name)
        if member is None:
            return None
        with z.open(member) as f:
            carry = b""
            while True:
                chunk = f.read(CHUNK)
                data = carry + chunk
                if cell is None:
                    # Writers put r= first (Excel, openpyxl, xlsxwriter, NPOI, EPPlus); a
                    # literal namespace prefix keeps the regex fast (4x a generic pattern).
                    found = _SHEET_DATA.search(data)
                    if found is None and chunk:
                        carry = data
                        continue
                    prefix = re.escape(found.group(1) or b"") if found else b""
                    cell = re.compile(
                        b"<" + prefix + b'c r="(' + alternatives + rb')(\d+)"([^>]*)(?<!/)>'
                        b"(.*?)</" + prefix + b"c>",
                        re.S,
                    )
                cut = len(data) if not chunk else data.rfind(b"row>") + 4
                if cut < 4:  # no row boundary yet: keep reading
                    carry = data
                    continue
                for m in cell.finditer(data, 0, cut):
                    kind = _TYPE.search(m.group(3))
                    if kind is not None and kind.group(1) != b"n":
                        continue
                    value = _VALUE.search(m.group(4))
                    if value is not None and value.group(1):
                        text = _num_text(float(value.group(1)))
                        out[by_letter[m.group(1)]][int(m.group(2))] = text
                carry = data[cut:]
                if not chunk:
                    break
    return out


# --------------------------------------------------------------------------- JSON

_RECORD_KEYS = ("feedetail", "data", "rows", "list")


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):  # parse_float=Decimal keeps the digits as written
        if value == value.to_integral_value():
            return str(int(value))
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False, default=str)


def _find_records(doc: Any) -> list[Any] | None:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    for holder in (doc, doc.get("input")):
        if isinstance(holder, dict):
            for key in _RECORD_KEYS:
                if isinstance(holder.get(key), list):
                    return holder[key]
    return None


def _open_json(path: Path) -> RawUpload:
    size = path.stat().st_size
    if size > JSON_MAX_BYTES:
        msg = f"JSON upload of {size >> 20} MiB exceeds {JSON_MAX_BYTES >> 20} MiB: send CSV"
        raise UploadError(path, Reason.UNSUPPORTED_FORMAT, msg)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise UploadError(path, Reason.BAD_JSON, "JSON is not UTF-8 text", line=line) from e
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as e:
        msg = f"invalid JSON: {e.msg} (column {e.colno})"
        raise UploadError(path, Reason.BAD_JSON, msg, line=e.lineno) from e
    records = _find_records(doc)
    if records is None:
        keys = "/".join(_RECORD_KEYS)
        msg = f"no array of records: expected a top-level array or one under {keys} (or input.*)"
        raise UploadError(path, Reason.BAD_JSON, msg)
    header_raw: dict[str, None] = {}
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            msg = f"array item is {type(rec).__name__}, not an object"
            raise UploadError(path, Reason.BAD_JSON, msg, line=i)
        header_raw.update(dict.fromkeys(rec))
    if not records or not header_raw:
        raise UploadError(path, Reason.NO_ROWS, "JSON array holds no records")
    raw_names = list(header_raw)
    names = _clean_names(path, raw_names, line=None)
    columns = {
        n: [_json_text(rec.get(k)) for rec in records]
        for k, n in zip(raw_names, names, strict=True)
    }
    frame = pl.DataFrame(columns, schema=dict.fromkeys(names, pl.String)).with_row_index(
        LINE, offset=1
    )
    return RawUpload(
        path=path,
        kind="json",
        encoding=None,
        delimiter=None,
        header=names,
        sheet=None,
        frame=frame.lazy(),
    )


# --------------------------------------------------------------------------- Parquet


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.String:
        return col
    if dtype.is_float():  # 1234.0 → "1234", like the other readers
        integral = col.is_finite() & (col == col.round(0)) & (col.abs() < 1e15)
        return (
            pl.when(integral)
            .then(col.cast(pl.Int64).cast(pl.String))
            .otherwise(col.cast(pl.String))
            .alias(name)
        )
    if dtype == pl.Datetime:
        return col.dt.to_string("%Y-%m-%d %H:%M:%S%.f").alias(name)
    return col.cast(pl.String).alias(name)


def _open_parquet(path: Path) -> RawUpload:
    try:
        lf = pl.scan_parquet(path)
        schema = lf.collect_schema()
        n = lf.select(pl.len()).collect().item()
    except pl.exceptions.PolarsError as e:
        msg = f"cannot read Parquet: {_first_line(e)}"
        raise UploadError(path, Reason.BAD_PARQUET, msg) from e
    if not schema.names():
        raise UploadError(path, Reason.EMPTY_FILE, "Parquet file has no columns")
    if n == 0:
        raise UploadError(path, Reason.NO_ROWS, "Parquet file has no rows")
    names = _clean_names(path, schema.names(), line=None)
    exprs = [
        _as_text(old, dtype).alias(new)
        for (old, dtype), new in zip(schema.items(), names, strict=True)
    ]
    frame = lf.select(exprs).with_row_index(LINE, offset=1)
    return RawUpload(
        path=path,
        kind="parquet",
        encoding=None,
        delimiter=None,
        header=names,
        sheet=None,
        frame=frame,
    )
