"""Build one upload of about 2 GB from the county-year's UTF-8 fee-detail files (header
once), beside a matching settlement file, to show that a huge file streams through ingest
in bounded memory. Untimed setup for the ``ingest-2gb-file`` benchmark.

    python -m bench.large_file WORKDIR [--gb 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _concat(files: list[Path], dest: Path, limit: int) -> None:
    """Concatenate ``files`` (one header), repeating them until ``limit`` bytes (0: once)."""
    tmp = dest.with_name(dest.name + ".tmp")
    written, header = 0, None
    with tmp.open("wb") as out:
        while header is None or written < limit:
            for f in files:
                with f.open("rb") as fh:
                    first = fh.readline()
                    if header is None:
                        header = first
                        out.write(header)
                    while block := fh.read(1 << 20):
                        out.write(block)
                        written += len(block)
                if limit and written >= limit:
                    break
    tmp.replace(dest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--gb", type=float, default=2.0)
    args = ap.parse_args(argv)
    split = args.workdir / "ingest-split-county-year" / "utf8" / "utf8"
    big = args.workdir / "ingest-big"
    if (big / "fee_detail.csv").exists():
        return 0
    big.mkdir(parents=True, exist_ok=True)
    fee = sorted(split.glob("*_fee_detail.csv"))
    setl = sorted(split.glob("*_settlement.csv"))
    if not fee:
        msg = f"no UTF-8 uploads under {split}: run `python -m bench.ingest_prep` first"
        raise SystemExit(msg)
    _concat(setl, big / "settlement.csv", 0)
    _concat(fee, big / "fee_detail.csv", int(args.gb * (1 << 30)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
