"""Deliberately malformed uploads for the ingest tests, each documented with the outcome
ingest must give (rejected with a reason, or rows quarantined)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import polars as pl
import xlsxwriter

from hrss_fraud.synth.output import render, write_atomic
from hrss_fraud.synth.world import World

#: file → (what is wrong, what ingest must do, reason code).
CASES: dict[str, tuple[str, str, str]] = {
    "empty.csv": ("0 bytes", "reject", "empty_file"),
    "header_only.csv": ("a header and no rows", "reject", "no_rows"),
    "unknown_layout.csv": ("columns that match no layout", "reject", "unknown_layout"),
    "wrong_delimiter.csv": (
        "semicolon-separated: the header is one unknown column",
        "reject",
        "unknown_layout",
    ),
    "mixed_encoding.csv": ("first half UTF-8, second half GBK", "reject", "mixed_encoding"),
    "ragged_row.csv": ("row 3 has two extra fields", "reject", "ragged_row"),
    "truncated.xlsx": ("an XLSX cut in half (not a valid zip)", "reject", "corrupt_xlsx"),
    "all_invalid.csv": (
        "every row fails validation (future dates, cnt × pric ≠ amount)",
        "quarantine_all",
        "validation",
    ),
    "excel_ids.xlsx": (
        "IDs as numbers: psn_no lost its leading zeros, certno in scientific "
        "notation with digits lost",
        "quarantine_rows",
        "bad_id",
    ),
    "duplicate_upload.csv": ("a byte-identical copy of a real upload", "no_op", "duplicate_file"),
}


def _sample(out: Path) -> tuple[pl.DataFrame, Path]:
    """The smallest real UTF-8 fee-detail upload, to damage."""
    files = sorted((out / "uploads").rglob("*_fee_detail.csv"), key=lambda p: (p.stat().st_size, p))
    for path in files:
        if path.read_bytes()[:11] == b"feedetl_sn,":
            return pl.read_csv(path, infer_schema=False), path
    msg = "no UTF-8 fee-detail upload to derive malformed files from"
    raise RuntimeError(msg)


def write_all(out: Path, world: World) -> Path:
    d = out / "malformed"
    d.mkdir(parents=True, exist_ok=True)
    df, source = _sample(out)
    df = df.head(20)
    csv = df.write_csv()
    write_atomic(d / "empty.csv", b"")
    write_atomic(d / "header_only.csv", (",".join(df.columns) + "\n").encode())
    write_atomic(d / "unknown_layout.csv", b"col_a,col_b,col_c,amount\n1,2,3,4.5\n6,7,8,9.0\n")
    write_atomic(d / "wrong_delimiter.csv", df.write_csv(separator=";").encode())
    lines = csv.splitlines(keepends=True)
    half = len(lines) // 2
    mixed = "".join(lines[:half]).encode("utf-8") + "".join(lines[half:]).encode("gbk")
    write_atomic(d / "mixed_encoding.csv", mixed)
    ragged = [*lines[:3], lines[3].rstrip("\n") + ",x,y\n", *lines[4:]]
    write_atomic(d / "ragged_row.csv", "".join(ragged).encode())
    xlsx = render(df.cast({c: pl.String for c in df.columns}), "fee_detail", "xlsx")
    write_atomic(d / "truncated.xlsx", xlsx[: len(xlsx) // 2])
    bad = df.with_columns(
        fee_ocur_time=pl.lit("2099-01-01 08:00:00"),
        det_item_fee_sumamt=(pl.col("det_item_fee_sumamt").cast(pl.Float64) + 7).cast(pl.String),
    )
    write_atomic(d / "all_invalid.csv", bad.write_csv().encode())
    write_atomic(d / "duplicate_upload.csv", source.read_bytes())
    _excel_ids(d / "excel_ids.xlsx", world)
    readme = [
        "# Malformed uploads",
        "",
        "Made by `hrss-fraud synth` for the ingest tests. Each file and the outcome "
        "ingest must give:",
        "",
        "| file | what is wrong | expected | reason code |",
        "|---|---|---|---|",
    ]
    readme += [f"| `{f}` | {w} | {o} | `{r}` |" for f, (w, o, r) in CASES.items()]
    readme += ["", f"`duplicate_upload.csv` copies `{source.relative_to(out)}`."]
    write_atomic(d / "README.md", ("\n".join(readme) + "\n").encode())
    expected = {f: {"problem": w, "outcome": o, "reason": r} for f, (w, o, r) in CASES.items()}
    write_atomic(d / "expected.json", json.dumps(expected, ensure_ascii=False, indent=1).encode())
    return d


def _excel_ids(path: Path, world: World) -> None:
    """A person list as Excel mangles it: numeric IDs, 18-digit numbers as 1.30123E+17."""
    person = world.pop.person.head(10)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    wb = xlsxwriter.Workbook(str(tmp))
    ws = wb.add_worksheet("参保人员")
    ws.write_row(0, 0, ["人员编号", "姓名", "证件号码", "性别", "出生日期", "险种类型"])
    for r, row in enumerate(person.iter_rows(named=True), start=1):
        ws.write_number(r, 0, int(row["psn_no"]))
        ws.write_string(r, 1, row["psn_name"])
        # Excel keeps 15 significant digits: the last three of an ID number are lost.
        ws.write_number(r, 2, float(f"{int(row['certno'][:17]):.14e}"))
        ws.write_string(r, 3, row["gend"])
        ws.write_string(r, 4, str(row["brdy"]))
        ws.write_number(r, 5, int(row["insutype"]))
    wb.close()
    with zipfile.ZipFile(tmp) as z:
        z.testzip()
    tmp.replace(path)
