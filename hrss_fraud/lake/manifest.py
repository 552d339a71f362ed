"""The manifest: the list of committed batches, replaced atomically (the commit point).

``root/manifest.json`` holds ``{"version": 1, "batches": [BatchInfo, ...]}`` in seq order.
Readers read it once and see a consistent set of batches; a file no batch lists does not
exist as far as the lake is concerned.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hrss_fraud.lake.fsutil import write_bytes_atomic

MANIFEST = "manifest.json"
VERSION = 1


@dataclass(frozen=True)
class BatchInfo:
    """One committed batch: what it came from, what it wrote, and where."""

    batch_id: str
    seq: int
    committed_at: str
    sources: list[dict[str, Any]]
    tables: dict[str, int]
    files: list[str]
    report: dict[str, Any]

    @property
    def report_path(self) -> str:
        """The report JSON, relative to the lake root (kept out of ``files``: not Parquet)."""
        return report_path(self.batch_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BatchInfo:
        return cls(
            batch_id=d["batch_id"],
            seq=int(d["seq"]),
            committed_at=d["committed_at"],
            sources=list(d.get("sources", [])),
            tables={k: int(v) for k, v in d.get("tables", {}).items()},
            files=list(d.get("files", [])),
            report=dict(d.get("report", {})),
        )


def report_path(batch_id: str) -> str:
    return f"reports/{batch_id}.json"


def read_manifest(root: Path) -> list[BatchInfo]:
    """The committed batches in seq order; none when the lake is new."""
    path = root / MANIFEST
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    doc = json.loads(raw)
    if doc.get("version") != VERSION:
        msg = f"{path}: manifest version {doc.get('version')!r} is not {VERSION}; upgrade the code"
        raise ValueError(msg)
    batches = [BatchInfo.from_dict(b) for b in doc["batches"]]
    return sorted(batches, key=lambda b: b.seq)


def write_manifest(root: Path, batches: list[BatchInfo]) -> None:
    """Replace the manifest atomically; once this returns the batches are committed."""
    doc = {"version": VERSION, "batches": [b.to_dict() for b in batches]}
    # Compact: the manifest is rewritten at every commit and grows with every source file.
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    write_bytes_atomic(root / MANIFEST, data, label="manifest")
