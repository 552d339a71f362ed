"""Prepare the ingest benchmark's inputs (untimed): a county-year of uploads, split by
encoding, plus UTF-8 copies of the GBK files for the bare-DuckDB baseline.

    python -m bench.ingest_prep WORKDIR [--preset county-year]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

UTF8 = ("utf8", "utf8_bom_tab", "utf8_pipe")
GBK = ("gbk_zh", "gb18030_zh")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--preset", default="county-year")
    args = ap.parse_args(argv)
    county = args.workdir / f"ingest-{args.preset}"
    if not (county / "manifest.json").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hrss_fraud",
                "synth",
                "--preset",
                args.preset,
                "--seed",
                "1",
                "--out",
                str(county),
                "--no-malformed",
                "--quiet",
            ],
            check=True,
        )
    split = args.workdir / f"ingest-split-{args.preset}"
    if (split / "done").exists():
        return 0
    manifest = json.loads((county / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        src = county / f["path"]
        if f["format"] in UTF8:
            dest = split / "utf8" / f["format"] / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                os.link(src, dest)
        elif f["format"] in GBK:
            enc = "gbk" if f["format"] == "gbk_zh" else "gb18030"
            for sub, data in (("gbk", None), ("gbk-as-utf8", "utf8")):
                dest = split / sub / f["format"] / src.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.exists():
                    continue
                if data is None:
                    os.link(src, dest)
                else:
                    dest.write_bytes(src.read_bytes().decode(enc).encode("utf-8"))
    (split / "done").write_text("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
