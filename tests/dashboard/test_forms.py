"""The form pieces the notices, rounds, complaints and registers pages share: a bilingual
refusal said in the user's language, success and error messages."""

from __future__ import annotations

import pytest

from hrss_fraud.dashboard.forms import in_lang, refused, saved


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        ("请选择监管事项 (choose a register)", "请选择监管事项", "choose a register"),
        (
            "检查日期应为日期，如 2026-03-01 (inspection date: '3/x' is not a date)",
            "检查日期应为日期，如 2026-03-01",
            "inspection date: '3/x' is not a date",
        ),
        ("整改单 3 已办结（已验收）", "整改单 3 已办结（已验收）", "整改单 3 已办结（已验收）"),
        ("no entity X in register Y", "no entity X in register Y", "no entity X in register Y"),
    ],
)
def test_a_bilingual_refusal_is_said_in_one_language(message: str, zh: str, en: str) -> None:
    assert (in_lang(message, "zh"), in_lang(message, "en")) == (zh, en)


def test_saved_and_refused_are_styled_and_announced() -> None:
    ok, no = saved("已保存"), refused(ValueError("请选择监管事项 (choose a register)"), "en")
    assert (ok.className, ok.role, ok.children) == ("ok", "status", "已保存")
    assert (no.className, no.role, no.children) == ("error", "alert", "choose a register")
