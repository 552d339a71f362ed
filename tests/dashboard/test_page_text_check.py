"""The page walk's checker (tests/helpers/page_text.py): it catches planted raw names,
bare codes and text of the other language, and passes clean text."""

from __future__ import annotations

import pytest
from helpers.page_text import (
    code_offences,
    identifier_headers,
    other_language_offences,
    page_offences,
    raw_name_offences,
    report,
)

CLEAN_ZH = "疑点编号 规则名称 疑点金额(元) ¥1,234.50 导出 Excel 下载 PDF 人员编号 P000123 DRG 分组"
CLEAN_EN = "lead id  rule  amount at risk (yuan) ¥1,234.50  export to Excel  severity  role  中文"


def test_clean_text_passes_in_both_languages() -> None:
    assert page_offences(CLEAN_ZH, [("性别", "女"), ("险种类型", "职工基本医疗保险")], "zh") == []
    assert page_offences(CLEAN_EN, [("sex", "female"), ("care type", "11 普通门诊")], "en") == []


@pytest.mark.parametrize("name", ["med_list_codg", "det_item_fee_sumamt", "finding_id", "cnt"])
def test_a_raw_field_name_is_caught_with_its_context(name: str) -> None:
    text = f"明细 {'很长的前文' * 20} 列名 {name} 在表头"
    (offence,) = raw_name_offences(text)
    assert offence.token == name
    assert f"列名 {name} 在表头" in offence.context
    assert len(offence.context) <= len(name) + 2 * 60


def test_english_words_that_are_also_column_names_are_not_raw_names() -> None:
    assert raw_name_offences("severity and role of the line") == []


def test_a_bare_code_under_a_coded_header_is_caught_but_not_elsewhere() -> None:
    cells = [("性别", "2"), ("险种类型", "390"), ("医疗类别", "门诊"), ("数量", "2"), ("sex", "1")]
    found = [(o.token, o.context) for o in code_offences(cells)]
    assert found == [("2", "性别: 2"), ("390", "险种类型: 390"), ("1", "sex: 1")]


def test_english_on_a_chinese_page_is_caught_outside_the_allow_list() -> None:
    text = "保存 No Matching Rows 导出 Excel 状态 full run requested ID 与 item_hosp_level"
    words = [o.token for o in other_language_offences(text, "zh")]
    assert words == ["Matching", "Rows", "full", "run", "requested", "item_hosp_level"]


def test_codes_and_user_names_with_digits_are_not_english_words() -> None:
    assert other_language_offences("机构 H0012 人员 P000123 用户 supervisor1 ¥12.50", "zh") == []


def test_chinese_on_an_english_page_is_caught_but_proper_nouns_are_not() -> None:
    text = "institution 城关镇卫生院 amount 12.50元 gender 女 person 张三丰（已脱敏）"
    nouns = ["城关镇卫生院", "张三丰"]
    words = [o.token for o in other_language_offences(text, "en", nouns)]
    assert words == ["元", "女", "（已脱敏）"]


def test_item_codes_and_law_titles_are_not_the_other_language() -> None:
    assert other_language_offences("检查事项 HRA-01（严重） 下载 DOCX", "zh") == []
    text = "HRA-01 Licensed scope (《人力资源市场暂行条例》; 《社会保险法》)"
    assert other_language_offences(text, "en") == []
    assert [o.token for o in other_language_offences("scope（《条例》）", "en")] == ["（", "）"]


def test_a_proper_noun_in_english_letters_passes_a_chinese_page() -> None:
    assert other_language_offences("医师 Smith 开单", "zh", ["Smith"]) == []
    assert [o.token for o in other_language_offences("医师 Smith 开单", "zh")] == ["Smith"]


def test_an_unknown_language_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="lang must be 'zh' or 'en', not 'fr'"):
        other_language_offences("texte", "fr")


def test_the_report_names_page_language_and_counts_repeats() -> None:
    offences = page_offences("cnt 数量 cnt Rows", [("性别", "9")], "zh")
    text = report("/leads", "zh", offences)
    assert text.splitlines()[0] == "/leads [zh]: 6 offence(s)"  # cnt is English too
    assert "raw field name: 'cnt'" in text and "(×2)" in text
    assert "code without its label: '9' in …性别: 9…" in text
    assert "English on a Chinese page: 'Rows'" in text


def test_identifier_columns_are_named_in_both_languages() -> None:
    assert {"规则编号", "rule id", "疑点编号", "lead id"} <= identifier_headers()
    assert "规则名称" not in identifier_headers()
