"""Writes uploads the way institutions send them: one file per institution per month per
table, in the export format of each institution's hospital system."""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from hrss_fraud.model.schema import TABLES, Table

#: Export formats seen in real uploads. ``zh`` means Chinese headers instead of field names.
FORMATS = {
    "utf8": {"encoding": "utf-8", "sep": ",", "zh": False, "time": "%Y-%m-%d %H:%M:%S"},
    "utf8_bom_tab": {
        "encoding": "utf-8-sig",
        "sep": "\t",
        "zh": False,
        "time": "%Y-%m-%d %H:%M:%S",
    },
    "gbk_zh": {"encoding": "gbk", "sep": ",", "zh": True, "time": "%Y/%m/%d %H:%M:%S"},
    "gb18030_zh": {"encoding": "gb18030", "sep": ",", "zh": True, "time": "%Y/%m/%d %H:%M:%S"},
    "utf8_pipe": {"encoding": "utf-8", "sep": "|", "zh": False, "time": "%Y%m%d%H%M%S"},
    "xlsx": {"encoding": None, "sep": None, "zh": True, "time": "%Y-%m-%d %H:%M:%S"},
}


@dataclass(frozen=True)
class Written:
    path: Path
    table: str
    fixmedins_code: str
    month: str
    fmt: str
    rows: int


def format_for(kind: str, index: int) -> str:
    """Each hospital system exports one way: by kind of institution and its ordinal
    among institutions of that kind."""
    if kind in ("A1", "A3"):
        return "utf8"
    if kind == "A2":
        return "gbk_zh"
    if kind == "B1":
        return "gb18030_zh" if index % 5 == 0 else "gbk_zh"
    if kind == "C1":
        return "utf8_bom_tab" if index % 3 == 0 else "utf8"
    if kind == "C2":
        # Excel exports are the small clinics' habit; most of them send GBK CSV.
        return "xlsx" if index % 4 == 0 else "gbk_zh"
    return "utf8_pipe" if index % 2 == 0 else "gbk_zh"


def _text_frame(df: pl.DataFrame, table: Table, time_fmt: str, zh: bool) -> pl.DataFrame:
    """Every column as text, as a hospital export has it, in the table's field order."""
    schema = df.schema
    exprs = []
    for f in table.fields:
        if f.name not in schema:
            continue
        dtype = schema[f.name]
        col = pl.col(f.name)
        if isinstance(dtype, pl.Datetime):
            col = col.dt.strftime(time_fmt)
        elif isinstance(dtype, pl.Date):
            col = col.dt.strftime("%Y-%m-%d")
        elif dtype.is_float():
            col = col.round(4)
        exprs.append(col.cast(pl.String).alias(f.zh if zh else f.name))
    return df.select(exprs)


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Temporary name, rename: a reader never sees half a file. ``durable`` also fsyncs;
    uploads inside the generator's own partial folder skip it (the folder's final rename is
    the commit, and thousands of fsyncs would cost more than the generation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


def partial_folder(final: Path) -> Path:
    """An empty folder beside ``final`` to build a generated sample in."""
    work = final.with_name(f".{final.name}.partial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    return work


def publish(work: Path, final: Path, manifest: dict) -> None:
    """Write the manifest last, then put the finished folder in place of ``final``."""
    write_atomic(
        work / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    )
    if final.exists():
        shutil.rmtree(final)
    work.rename(final)


def _xlsx(text: pl.DataFrame, sheet: str) -> bytes:
    """Text cells only, as hospital exports hold IDs; constant memory for large sheets."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "in_memory": True})
    ws = wb.add_worksheet(sheet)
    ws.write_row(0, 0, text.columns)
    for r, row in enumerate(text.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is not None:
                ws.write_string(r, c, value)
    wb.close()
    return buf.getvalue()


def render(df: pl.DataFrame, table_name: str, fmt: str) -> bytes:
    spec = FORMATS[fmt]
    return _encode(
        _text_frame(df, TABLES[table_name], str(spec["time"]), bool(spec["zh"])), table_name, fmt
    )


def _encode(text: pl.DataFrame, table_name: str, fmt: str) -> bytes:
    spec = FORMATS[fmt]
    if fmt == "xlsx":
        return _xlsx(text, "明细" if table_name == "fee_detail" else "结算")
    csv = text.write_csv(separator=str(spec["sep"]), quote_style="necessary")
    return csv.encode(str(spec["encoding"]))


def upload_path(out: Path, table_name: str, fmt: str, code: str, month: str) -> Path:
    suffix = "xlsx" if fmt == "xlsx" else ("txt" if fmt == "utf8_pipe" else "csv")
    return out / "uploads" / month / f"{code}_{month}_{table_name}.{suffix}"


def write_month(
    out: Path, df: pl.DataFrame, table_name: str, fmt_of: dict[str, str], month: str
) -> list[Written]:
    """One file per institution, each in its own format.

    CSV text is rendered once per format for the whole month and cut into per-institution
    files by line (no field holds a newline), which is far cheaper than hundreds of small
    writes."""
    written = []
    codes = df["fixmedins_code"]
    for fmt in sorted(set(fmt_of.values())):
        mine = [c for c, f in fmt_of.items() if f == fmt]
        part = df.filter(codes.is_in(mine)).sort("fixmedins_code", maintain_order=True)
        if part.height == 0:
            continue
        spec = FORMATS[fmt]
        runs = part.group_by("fixmedins_code", maintain_order=True).len()
        if fmt == "xlsx":
            text = _text_frame(part, TABLES[table_name], str(spec["time"]), bool(spec["zh"]))
            start = 0
            for code, n in runs.iter_rows():
                path = upload_path(out, table_name, fmt, code, month)
                write_atomic(path, _encode(text.slice(start, n), table_name, fmt), durable=False)
                written.append(Written(path, table_name, code, month, fmt, n))
                start += n
            continue
        # polars formats times and numbers while writing: faster than casting to text first.
        table = TABLES[table_name]
        named = part.select(
            pl.col(f.name).round(4) if part.schema[f.name].is_float() else pl.col(f.name)
            for f in table.fields
            if f.name in part.columns
        ).rename({f.name: f.zh for f in table.fields if f.name in part.columns and spec["zh"]})
        csv = named.write_csv(
            separator=str(spec["sep"]),
            quote_style="necessary",
            datetime_format=str(spec["time"]),
            date_format="%Y-%m-%d",
        )
        header, _, body = csv.partition("\n")
        rows = body.split("\n")
        start = 0
        for code, n in runs.iter_rows():
            chunk = "\n".join([header, *rows[start : start + n], ""])
            path = upload_path(out, table_name, fmt, code, month)
            write_atomic(path, chunk.encode(str(spec["encoding"])), durable=False)
            written.append(Written(path, table_name, code, month, fmt, n))
            start += n
    return written


def columns_of(table_name: str, df: pl.DataFrame) -> list[str]:
    """The columns of ``df`` that an upload of this table carries."""
    return [f.name for f in TABLES[table_name].fields if f.name in df.columns]


def write_tables(
    out: Path, month: str, fmt_of: dict[str, str], tables: dict[str, Path]
) -> list[Written]:
    """Write one month's upload tables from Parquet hand-off files, then delete those (run
    in a worker process by the generator: files cross processes faster than pickles)."""
    written: list[Written] = []
    for name, path in tables.items():
        written += write_month(out, pl.read_parquet(path), name, fmt_of, month)
        path.unlink()
    return written


def write_reference(out: Path, name: str, df: pl.DataFrame) -> Path:
    """Reference tables the centre holds: UTF-8 CSV with field names."""
    path = out / "reference" / f"{name}.csv"
    table = TABLES[name]
    write_atomic(
        path, _text_frame(df, table, "%Y-%m-%d %H:%M:%S", False).write_csv().encode("utf-8")
    )
    return path


def read_back(path: Path, table_name: str, fmt: str) -> pl.DataFrame:
    """Read a written upload back as text columns under field names (round-trip checks)."""
    spec = FORMATS[fmt]
    table = TABLES[table_name]
    if fmt == "xlsx":
        df = pl.read_excel(path, infer_schema_length=0)
    else:
        text = path.read_bytes().decode(str(spec["encoding"]))
        df = pl.read_csv(io.StringIO(text), separator=str(spec["sep"]), infer_schema=False)
    if spec["zh"]:
        df = df.rename({f.zh: f.name for f in table.fields if f.zh in df.columns})
    return df


def read_uploads(folder: Path, table: str) -> pl.DataFrame:
    """Every upload of one table in a generated ``uploads/`` folder, read back through its
    own format (:func:`read_back`), with its source file and format."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    frames = [
        read_back(Path(folder) / f["path"], table, f["format"]).with_columns(
            _file=pl.lit(f["path"]), _format=pl.lit(f["format"])
        )
        for f in manifest["files"]
        if f["table"] == table
    ]
    return pl.concat(frames, how="diagonal")
