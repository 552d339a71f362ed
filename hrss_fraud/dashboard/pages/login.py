"""登录 Log in: the one page open without a session."""

from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html

from hrss_fraud.dashboard import auth, context, guard
from hrss_fraud.model.times import minute

dash.register_page(
    __name__,
    path="/login",
    name="登录",
    name_en="Log in",
    nav=False,
    order=99,
    permission=guard.PUBLIC,
)


REFUSALS = {
    "no_name": "login_page.enter_user_name",
    "locked": "login_page.locked",
    "disabled": "login_page.disabled",
    "wrong": "login_page.wrong",
}
"""Why a login was refused (:attr:`auth.LoginError.reason`) → what the page says."""


def _switch(lang: str) -> html.Div:
    """中文 | English: reloads this page in the other language, which the session keeps
    after logging in."""

    def choice(code: str, name: str) -> html.A:
        bold = {"fontWeight": 700} if code == lang else {}
        return html.A(name, href=f"/lang/{code}", id=f"login-lang-{code}", lang=code, style=bold)

    return html.Div(
        [choice("zh", "中文"), html.Span(" | ", className="muted"), choice("en", "English")],
        className="login-lang",
        style={"alignSelf": "flex-end"},
    )


def refusal(err: auth.LoginError, lang: str) -> str:
    """The refusal in ``lang``, a lock's end in local time to the minute."""
    said = context.text(REFUSALS.get(err.reason, "login_page.wrong"), lang)
    if err.locked_until is not None:
        until = minute(err.locked_until)
        said += context.text("login_page.locked_until", lang, until=until)
    return said


@guard.layout
def layout(**_query: str) -> html.Div:
    t = context.t
    return html.Div(
        [
            _switch(context.lang()),
            html.H1(t("login_page.log_in")),
            html.Label(t("login_page.user_name"), htmlFor="login-username"),
            dcc.Input(id="login-username", type="text", autoComplete="username", autoFocus=True),
            html.Label(t("login_page.password"), htmlFor="login-password"),
            dcc.Input(
                id="login-password", type="password", autoComplete="current-password", n_submit=0
            ),
            html.Button(t("login_page.log_in"), id="login-submit", n_clicks=0, className="primary"),
            html.Div(id="login-message", className="error", role="alert"),
            dcc.Location(id="login-redirect", refresh=True),
        ],
        className="login-box",
    )


@guard.callback(
    Output("login-message", "children"),
    Output("login-redirect", "href"),
    Input("login-submit", "n_clicks"),
    Input("login-password", "n_submit"),
    State("login-username", "value"),
    State("login-password", "value"),
    prevent_initial_call=True,
    permission=guard.PUBLIC,
)
def log_in(_clicks: int, _submits: int, username: str | None, password: str | None):
    """Check the password (the audit log notes the attempt) and open the session,
    keeping the language chosen before logging in."""
    lang = context.lang()
    try:
        user = auth.login(context.store(), username or "", password or "")
    except auth.LoginError as e:
        return refusal(e, lang), dash.no_update
    auth.start_session(user)
    context.set_lang(lang)
    return "", "/"
