"""Prepare the scoring benchmarks' lakes (untimed).

    python -m bench.score_prep WORKDIR            # once, as the benchmarks' setup
    python -m bench.score_prep WORKDIR --restore  # before each incremental repetition

From the county-year uploads (``bench.ingest_prep``) it builds, under ``WORKDIR/score-cy``:

- ``full/``: a workspace whose lake holds every upload (the full-catalogue benchmark);
- ``day/``: the last day's claims (settlements starting that day and their fee lines) as
  UTF-8 CSV uploads, and ``base/``: a workspace holding everything else, fully scored;
- ``--restore`` re-creates ``inc/`` from ``base/`` (hard links: lake and run files are never
  rewritten in place) and ingests the day into it, so the timed command is only
  ``score --incremental``; ``--restore-inbox`` puts the day in ``inc/inbox`` instead, for
  the nightly batch to take in.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from hrss_fraud.lake import Lake
from hrss_fraud.synth.output import render


def _hrss(ws: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "hrss_fraud", "--workspace", str(ws), *args]
    subprocess.run(cmd, check=True)


def export_last_day(full: Path, out_base: Path, out_day: Path) -> None:
    """Split the full lake's claims at the last day into two sets of UTF-8 uploads."""
    con = Lake(full / "lake").connect()
    last_day = con.execute("SELECT max(CAST(begntime AS DATE)) FROM settlement").fetchall()[0][0]
    # a fee line may be dated in a month no settlement starts in (a fee after discharge)
    months = [
        r[0]
        for r in con.execute(
            "SELECT strftime(begntime, '%Y%m') AS m FROM settlement "
            "UNION SELECT strftime(fee_ocur_time, '%Y%m') FROM fee_detail ORDER BY 1"
        ).fetchall()
    ]
    con.execute(f"""
        CREATE TEMP TABLE day_setl AS SELECT fixmedins_code, setl_id FROM settlement
        WHERE CAST(begntime AS DATE) = DATE '{last_day}'
    """)
    for month in months:
        for table in ("settlement", "fee_detail"):
            month_of = "begntime" if table == "settlement" else "fee_ocur_time"
            for name, out, op in (("base", out_base, "NOT IN"), ("day", out_day, "IN")):
                df = con.sql(f"""
                    SELECT * EXCLUDE (_batch_seq, _row) FROM {table}_all
                    WHERE strftime({month_of}, '%Y%m') = '{month}'
                      AND (fixmedins_code, setl_id) {op}
                          (SELECT (fixmedins_code, setl_id) FROM day_setl)
                """).pl()
                if df.height:
                    path = out / month / f"{name}_{month}_{table}.csv"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(render(df, table, "utf8"))
    (out_day.parent / "day.txt").write_text(str(last_day), encoding="utf-8")


def prepare(workdir: Path) -> None:
    subprocess.run([sys.executable, "-m", "bench.ingest_prep", str(workdir)], check=True)
    county = workdir / "ingest-county-year"
    root = workdir / "score-cy"
    full, base, day = root / "full", root / "base", root / "day"
    if not (full / "ingested").exists():
        shutil.rmtree(full, ignore_errors=True)
        _hrss(full, "ingest", "--quiet", str(county / "reference"), str(county / "uploads"))
        (full / "ingested").touch()
    if not (base / "scored").exists():
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(day, ignore_errors=True)
        export_last_day(full, root / "base-uploads", day)
        _hrss(base, "ingest", "--quiet", str(county / "reference"), str(root / "base-uploads"))
        shutil.rmtree(root / "base-uploads")
        _hrss(base, "score", "--quiet")
        (base / "scored").touch()


def restore(workdir: Path, *, inbox: bool = False) -> None:
    root = workdir / "score-cy"
    inc = root / "inc"
    shutil.rmtree(inc, ignore_errors=True)
    subprocess.run(["cp", "-al", str(root / "base"), str(inc)], check=True)
    if inbox:  # the nightly batch ingests it itself: its files, flat in the inbox
        (inc / "inbox").mkdir()
        for f in sorted((root / "day").rglob("*.csv")):
            shutil.copy2(f, inc / "inbox" / f.name)
    else:
        _hrss(inc, "ingest", "--quiet", str(root / "day"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--restore", action="store_true")
    ap.add_argument("--restore-inbox", action="store_true")
    a = ap.parse_args(argv)
    if a.restore or a.restore_inbox:
        restore(a.workdir.resolve(), inbox=a.restore_inbox)
    else:
        prepare(a.workdir.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
