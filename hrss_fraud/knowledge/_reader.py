"""Read one knowledge CSV into a typed polars frame, failing loudly on the first bad cell.

Knowledge tables are edited by hand by policy analysts, so every error names the file, the
line and the column: a silent null in a price cap or an age limit would switch a rule off.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from hrss_fraud.model.codes import CodeList
    from hrss_fraud.model.schema import Field, Table


def read_table(
    path: Path,
    table: Table,
    *,
    codes: Mapping[str, CodeList] | None = None,
    list_codes: Mapping[str, frozenset[str]] | None = None,
    absent: list[str] | None = None,
) -> tuple[pl.DataFrame, list[int]]:
    """Read ``path`` as ``table``: headers by field name or Chinese label, values cast to dtype.

    Every column is read as text first so that codes keep their leading zeros, then cast.
    ``codes`` adds a code list to a column the schema leaves free (e.g. ``herb_nopay``);
    ``list_codes`` maps a ';'-separated column (e.g. ``lmt_med_type``) to its allowed codes.
    Returns the frame and, for each row, its line number in the file (for later checks).

    With ``absent`` (a list), the file may leave out optional columns: they are read as
    empty and their names appended to ``absent``, so that the caller can say what is
    missing (a centre's catalogue has no internal item groups, for instance). Without it,
    every column must be present.

    Raises:
        ValueError: the file is not UTF-8, a header is unknown or a required one (every one
            without ``absent``) is missing, a required value is empty, a value does not
            parse as the column's dtype, or a code is not in the column's code list. The
            message names the file, line and column.
    """
    header, lines, rows = _read_rows(path)
    names = _map_header(path, header, table, optional_absent=absent is not None)
    if absent is not None:
        absent.extend(n for n in table.names if n not in names)
    columns: dict[str, list[str | None]] = {name: [None] * len(rows) for name in table.names}
    columns.update({name: [] for name in names})
    for row in rows:
        for name, value in zip(names, row, strict=False):
            value = value.strip()
            columns[name].append(value or None)
        for name in names[len(row) :]:
            columns[name].append(None)
    frame = pl.DataFrame(
        {f.name: pl.Series(f.name, columns[f.name], dtype=pl.String) for f in table.fields}
    )
    for f in table.fields:
        allowed = f.codes or (codes or {}).get(f.name)
        _check_text(path, lines, f, frame[f.name], allowed, (list_codes or {}).get(f.name))
    typed = frame.select([_cast(path, lines, f, frame[f.name]).alias(f.name) for f in table.fields])
    return typed, lines


def _read_rows(path: Path) -> tuple[list[str], list[int], list[list[str]]]:
    """Return the header, each data row's line number and the rows, skipping blank rows."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                msg = f"{path}: the file is empty; expected a header row"
                raise ValueError(msg)
            lines: list[int] = []
            rows: list[list[str]] = []
            start = reader.line_num + 1
            for row in reader:
                if any(cell.strip() for cell in row):
                    lines.append(start)
                    rows.append(row)
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8"
        raise ValueError(msg) from None
    for line, row in zip(lines, rows, strict=True):
        if len(row) > len(header):
            msg = f"{path}: line {line}: {len(row)} cells but the header has {len(header)}"
            raise ValueError(msg)
    return header, lines, rows


def _map_header(
    path: Path, header: list[str], table: Table, *, optional_absent: bool = False
) -> list[str]:
    """Map each header cell (field name or Chinese label) to a field name; every field must
    have a column, or every required one with ``optional_absent``."""
    by_label = {f.name: f.name for f in table.fields} | {f.zh: f.name for f in table.fields}
    names: list[str] = []
    for cell in header:
        name = by_label.get(cell.strip())
        if name is None:
            msg = (
                f"{path}: line 1: unknown column {cell.strip()!r} for table {table.name}; "
                f"expected the field names or Chinese labels of {table.name}"
            )
            raise ValueError(msg)
        if name in names:
            msg = f"{path}: line 1: column {name!r} appears twice"
            raise ValueError(msg)
        names.append(name)
    missing = [
        f"{n} ({table[n].zh})"
        for n in table.names
        if n not in names and not (optional_absent and not table[n].required)
    ]
    if missing:
        msg = f"{path}: line 1: missing column(s) {', '.join(missing)}"
        raise ValueError(msg)
    return names


def _fail(path: Path, line: int, f: Field, problem: str) -> ValueError:
    return ValueError(f"{path}: line {line}, column {f.name!r} ({f.zh}): {problem}")


def _check_text(
    path: Path,
    lines: list[int],
    f: Field,
    values: pl.Series,
    allowed: CodeList | None,
    list_codes: frozenset[str] | None,
) -> None:
    """Check required values and code lists while the column is still text."""
    for i, value in enumerate(values.to_list()):
        if value is None:
            if f.required:
                raise _fail(path, lines[i], f, "required value is empty")
            continue
        if allowed is not None and value not in allowed:
            problem = f"{value!r} is not a {allowed.field} code ({', '.join(allowed.values())})"
            raise _fail(path, lines[i], f, problem)
        if list_codes is not None:
            bad = [part for part in value.split(";") if part.strip() not in list_codes]
            if bad:
                problem = f"{bad[0]!r} in {value!r} is not one of {', '.join(sorted(list_codes))}"
                raise _fail(path, lines[i], f, problem)


def _cast(path: Path, lines: list[int], f: Field, values: pl.Series) -> pl.Series:
    """Cast a text column to the field's dtype; report the first value that does not parse."""
    if f.dtype == pl.String:
        return values
    cast = values.cast(f.dtype, strict=False)
    bad = values.is_not_null() & cast.is_null()
    if bad.any():
        i = int(bad.arg_true()[0])
        raise _fail(path, lines[i], f, f"{values[i]!r} is not a valid {f.dtype}")
    return cast
