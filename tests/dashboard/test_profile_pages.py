"""The three profile pages' shared set-up (dashboard/profile_page.py): all are registered
(Dash imports a page file only when its text says ``register_page``), with the finders in
the top bar, and a profile that cannot be opened shows the page's title and why."""

from __future__ import annotations

import dash
import pytest

from hrss_fraud.dashboard import profile_page
from hrss_fraud.dashboard.app import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    return create_app(tmp_path_factory.mktemp("profiles"))


def test_the_profile_pages_and_their_finders_are_registered(app) -> None:
    pages = {p.get("path_template") or p["path"]: p for p in dash.page_registry.values()}
    for template in (
        "/institution/<fixmedins_code>",
        "/doctor/<fixmedins_code>/<dr_codg>",
        "/person/<psn_no>",
    ):
        assert pages[template]["nav"] is False
        assert pages[template]["permission"] == profile_page.PERMISSION
    assert (pages["/institution"]["order"], pages["/person"]["order"]) == (20, 30)
    assert pages["/institution"]["name_en"] == "Institutions"


def test_a_profile_without_a_run_says_why_under_its_title(app) -> None:
    with app.server.test_request_context("/"):
        shown = profile_page.open_profile("institution.institution", lambda *_: "never")
    assert not isinstance(shown, tuple)
    title, reason = shown.children
    assert title.children == "机构画像"
    assert "error" in reason.className
