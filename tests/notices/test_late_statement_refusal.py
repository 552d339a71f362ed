"""A late statement's refusal reaches the notices page in the page's language only
(issue 18): both languages in the message, each screen picks its own."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from helpers.notice_fixtures import make_content

from hrss_fraud.cases import CaseStore
from hrss_fraud.dashboard.forms import in_lang
from hrss_fraud.notices import NoticeError, create, issue, statement

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


@pytest.mark.parametrize(
    ("review", "zh_kind", "en_kind"),
    [(False, "陈述", "statement"), (True, "复核申请", "review request")],
)
def test_a_late_statement_is_refused_in_each_language(
    store: CaseStore, ws: Path, review: bool, zh_kind: str, en_kind: str
) -> None:
    notice_id = create(store, make_content(), by="li")
    number = issue(
        store, notice_id, ws, by="li", on=date(2026, 3, 5), render=lambda _c: (b"d", b"p")
    ).number
    with pytest.raises(NoticeError) as e:
        statement(store, number, by="li", text="迟到", review=review, on=date(2026, 3, 16))
    zh, en = in_lang(str(e.value), "zh"), in_lang(str(e.value), "en")
    assert zh.startswith(f"{number}：{zh_kind}于 2026-03-16 收到，已过 2026-03-15 的期限")
    assert not LATIN.search(zh)
    assert en.startswith(f"{number}: {en_kind} received 2026-03-16, after the 2026-03-15 deadline")
    assert not HAN.search(en) and "record it as late" in en
