"""The baseline: bare DuckDB reading the same CSV files into Parquet, one read per export
format (same header and delimiter, so no per-file schema sniffing), every column as
text, no validation.

    python -m bench.bare_duckdb FOLDER OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

DELIMITER = {"utf8": ",", "utf8_bom_tab": "\t", "utf8_pipe": "|", "gbk_zh": ",", "gb18030_zh": ","}


def main(argv: list[str] | None = None) -> int:
    folder, out = (Path(a) for a in (argv or sys.argv[1:]))
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for fmt_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for table in ("settlement", "fee_detail"):
            files = sorted(str(p) for p in fmt_dir.iterdir() if f"_{table}." in p.name)
            if not files:
                continue
            target = out / f"{fmt_dir.name}-{table}.parquet"
            con.execute(
                "COPY (SELECT * FROM read_csv(?, all_varchar = true, header = true, "
                "delim = ?)) TO ? (FORMAT parquet)",
                [files, DELIMITER[fmt_dir.name], str(target)],
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
