"""What the browser tests do on pages: screenshots, dropdown choices."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout


def shot(page, tmp_path: Path, name: str) -> None:
    """A full-page PNG of ``page``; kept in the folder ``HRSS_FRAUD_SCREENSHOTS`` names (e.g.
    docs/screenshots, to refresh the docs' pictures), else only in ``tmp_path``: a test run
    never rewrites files of the checkout."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    out = os.environ.get("HRSS_FRAUD_SCREENSHOTS")
    if out:
        shutil.copy(path, Path(out) / path.name)


def choose(page, dropdown: str, label: str, attempts: int = 3) -> None:
    """Pick ``label`` in a dash dropdown and wait until it shows as chosen; again if a
    callback redrew the dropdown meanwhile (the choice is then lost, not wrong)."""
    for attempt in range(attempts):
        page.click(dropdown)
        page.keyboard.type(label)
        page.keyboard.press("Enter")
        try:
            page.wait_for_selector(f"{dropdown}:has-text('{label}')", timeout=7_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
