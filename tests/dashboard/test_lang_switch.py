"""The chosen language: a switch is final, whatever answers arrive after it (issue 18).

A page sends callbacks with the cookies it has; one answered after the user switched the
language must not carry the old language back into the browser."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from hrss_fraud.cases import open_store
from hrss_fraud.cases.users import add_user
from hrss_fraud.dashboard import auth, context

PW = "Shenhe-2025!"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    with open_store(tmp_path) as s:
        add_user(s, "li", role="reviewer", password=PW, by="root")
    app = Flask(__name__)
    auth.configure(app, tmp_path)

    @app.route("/as/<name>")
    def sign_in(name: str) -> str:
        auth.start_session(auth.login(auth.request_store(), name, PW))
        return "ok"

    @app.route("/lang/<code>")
    def switch(code: str) -> str:
        return context.set_lang(code)

    @app.route("/callback")
    def callback() -> str:  # any callback: reads the language, never chooses it
        return context.lang()

    return app


def _cookies(client) -> dict[str, str]:
    """The browser's cookies of this site: the session's and the language's."""
    names = (auth.COOKIE_NAME, context.LANG_COOKIE)
    return {n: c.value for n in names if (c := client.get_cookie(n)) is not None}


def _client_with(app: Flask, cookies: dict[str, str]):
    client = app.test_client()
    for key, value in cookies.items():
        client.set_cookie(key, value)
    return client


def _set_cookies(reply: TestResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in reply.headers.getlist("Set-Cookie"):
        jar.load(header)
    return {key: morsel.value for key, morsel in jar.items()}


def test_a_callback_answered_after_the_switch_does_not_undo_it(app: Flask) -> None:
    browser = app.test_client()
    assert browser.get("/as/li").text == "ok"  # a permanent session, re-sent by every answer
    assert browser.get("/callback").text == "zh"
    before = _cookies(browser)  # what a callback sent just before the switch carried
    assert browser.get("/lang/en").text == "en"
    assert browser.get("/callback").text == "en"
    late = _client_with(app, before).get("/callback")  # answered after the switch
    assert late.text == "zh"  # it was asked in Chinese, and answers in Chinese
    after = _cookies(browser) | _set_cookies(late)  # the browser stores what it sets
    assert _client_with(app, after).get("/callback").text == "en"


def test_the_language_survives_logging_in_and_only_the_switch_sets_it(app: Flask) -> None:
    browser = app.test_client()
    switched = browser.get("/lang/en")
    assert _set_cookies(switched) == {context.LANG_COOKIE: "en"}
    assert "HttpOnly" in switched.headers["Set-Cookie"]
    assert context.LANG_COOKIE not in _set_cookies(browser.get("/as/li"))
    assert browser.get("/callback").text == "en"
    assert browser.get("/lang/xx").text == "zh"  # anything else means Chinese
    assert browser.get("/callback").text == "zh"


def test_behind_tls_the_language_cookie_is_secure(tmp_path: Path) -> None:
    app = Flask(__name__)
    auth.configure(app, tmp_path, secure_cookies=True)
    with app.test_request_context("/lang/en", base_url="https://example.org"):
        context.set_lang("en")
        assert context.lang() == "en"  # this request already speaks English
        reply = app.process_response(app.make_response("ok"))
    header = reply.headers["Set-Cookie"]
    assert header.startswith(f"{context.SECURE_LANG_COOKIE}=en") and "Secure" in header
