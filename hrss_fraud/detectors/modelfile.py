"""Saved model files, checked before use (DESIGN.md: record the library versions, feature
list and training-data fingerprint with every saved model, and refuse one that does not
match). Every detection model reads its description through :func:`read_checked`, so a
missing, unreadable, foreign or outdated file fails the same way, saying what to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hrss_fraud.lake.fsutil import write_bytes_atomic


class ModelError(RuntimeError):
    """A saved model is missing or does not match this code, its libraries or its data."""


def write_json(path: Path, body: dict[str, Any] | str, label: str) -> None:
    """Write a model description atomically: a reader sees the old file or the new one."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, (text.rstrip("\n") + "\n").encode("utf-8"), label=label)


def read_checked(
    path: Path,
    *,
    what: str,
    expect: dict[str, Any],
    libraries: dict[str, str],
    retrain: str,
) -> dict[str, Any]:
    """The JSON at ``path`` if its ``expect`` keys (kind, features, …) and ``libraries``
    equal this code's; else :class:`ModelError` naming the file, what differs, and the
    ``retrain`` command."""
    if not path.is_file():
        msg = f"no {what} at {path}; train one with `{retrain}`"
        raise ModelError(msg)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: not a readable model file ({exc})"
        raise ModelError(msg) from exc
    if not isinstance(raw, dict) or any(raw.get(k) != v for k, v in expect.items()):
        msg = f"{path}: made for other features; retrain with `{retrain}`"
        raise ModelError(msg)
    if raw.get("libraries") != libraries:
        msg = (
            f"{path}: trained with {raw.get('libraries')}, this installation has "
            f"{libraries}; retrain with `{retrain}`"
        )
        raise ModelError(msg)
    return raw
