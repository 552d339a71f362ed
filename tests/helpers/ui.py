"""What the browser tests do on pages: screenshots, dropdown choices."""

from __future__ import annotations

import os
import re
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
    """Pick the option ``label`` in a dash dropdown (its whole text, or its first word: an
    institution's code before its name) and wait until the dropdown shows it — or until a
    callback redrew the dropdown meanwhile (the choice is then lost, not wrong), and pick
    again. Waits on the page's state, never for a fixed time."""
    exact = re.compile(f"^{re.escape(label)}(?:\\s|$)")
    for _ in range(attempts):
        box = page.wait_for_selector(dropdown)
        box.click()
        option = page.locator("[role='option']").filter(has_text=exact).first
        try:
            option.click()
        except PlaywrightTimeout:
            if box.evaluate("el => el.isConnected"):
                raise  # the list is open and holds no such option: a real failure
            continue  # redrawn (and closed) before the option could be clicked
        page.wait_for_function(
            "([el, label]) => !el.isConnected || el.innerText.includes(label)", arg=[box, label]
        )
        if box.evaluate("el => el.isConnected"):
            return
    msg = f"{dropdown} was redrawn {attempts} times before {label!r} could be chosen"
    raise AssertionError(msg)
