"""Screenshots taken by the browser tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def shot(page, tmp_path: Path, name: str) -> None:
    """A full-page PNG of ``page``; kept in the folder ``HRSS_FRAUD_SCREENSHOTS`` names (e.g.
    docs/screenshots, to refresh the docs' pictures), else only in ``tmp_path``: a test run
    never rewrites files of the checkout."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    out = os.environ.get("HRSS_FRAUD_SCREENSHOTS")
    if out:
        shutil.copy(path, Path(out) / path.name)
