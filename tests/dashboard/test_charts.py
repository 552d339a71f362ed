"""Chart axes in the screen's language (hrss_fraud.dashboard.charts): months as 2025年1月
or Jan 2025, amounts in 万元 / 亿元 (Chinese) or ¥120k / ¥1.2M (English), for figure
objects and the plain dicts the profile pages draw alike."""

from __future__ import annotations

from datetime import date, datetime

import plotly.graph_objects as go
import pytest

from hrss_fraud.dashboard import charts


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (date(2025, 1, 31), "2025年1月", "Jan 2025"),
        (datetime(2024, 12, 1, 8, 30), "2024年12月", "Dec 2024"),
        ("2025-03", "2025年3月", "Mar 2025"),
        ("202511", "2025年11月", "Nov 2025"),
        ("2025-07-01", "2025年7月", "Jul 2025"),
    ],
)
def test_a_month_in_either_language(value: object, zh: str, en: str) -> None:
    assert charts.month_label(value, "zh") == zh
    assert charts.month_label(value, "en") == en


@pytest.mark.parametrize("bad", ["2025-13", "Jan", "", "25-01"])
def test_text_that_is_no_month_is_refused_by_its_value(bad: str) -> None:
    with pytest.raises(ValueError, match=f"{bad!r} is not a month"):
        charts.month_label(bad, "zh")


def test_month_labels_keep_a_missing_month_missing() -> None:
    assert charts.month_labels(["2025-01", None], "zh") == ["2025年1月", None]


def test_a_chinese_date_axis_reads_months_and_hovers_to_the_minute() -> None:
    fig = charts.month_axis(go.Figure(go.Scatter(x=[date(2025, 1, 1)], y=[1])), "zh")
    axis = fig.layout.xaxis
    assert axis.hoverformat == "%Y年%-m月%-d日 %H:%M"
    formats = {s.value for s in axis.tickformatstops}
    assert "%Y年%-m月" in formats
    assert not any("%b" in f or "%B" in f for f in formats)


def test_an_english_date_axis_keeps_plotlys_english_months() -> None:
    fig = charts.month_axis({"data": [], "layout": {}}, "en", axis="xaxis2")
    assert fig["layout"]["xaxis2"] == {"type": "date", "hoverformat": "%Y-%m-%d %H:%M"}


def test_large_chinese_amounts_tick_in_wan_yuan_with_the_unit_in_the_title() -> None:
    fig = go.Figure(go.Bar(x=["a", "b"], y=[120_000.0, 431_000.5]))
    charts.amount_axis(fig, "zh", title="基金支付")
    axis = fig.layout.yaxis
    assert axis.title.text == "基金支付（万元）"
    assert list(axis.ticktext) == ["0", "10", "20", "30", "40", "50"]
    assert list(axis.tickvals) == [0.0, 100_000.0, 200_000.0, 300_000.0, 400_000.0, 500_000.0]
    assert axis.hoverformat == ",.2f"
    assert tuple(axis.range) == (0.0, 500_000.0)  # every tick inside the axis


def test_stacked_bars_are_ticked_up_to_their_stack() -> None:
    fig = {
        "data": [
            {"type": "bar", "x": ["1月", "2月"], "y": [3e8, 1e8]},
            {"type": "bar", "x": ["1月", "2月"], "y": [2e8, 1e8]},
        ],
        "layout": {"barmode": "stack"},
    }
    charts.amount_axis(fig, "zh")
    axis = fig["layout"]["yaxis"]
    assert axis["title"] == {"text": "亿元"}
    assert axis["ticktext"][-1] == "5"


def test_only_the_traces_on_the_axis_count() -> None:
    fig = {
        "data": [
            {"type": "scatter", "x": [1, 2], "y": [50.0, 80.0]},
            {"type": "scatter", "x": [1, 2], "y": [9e6, 1e7], "yaxis": "y2"},
        ],
        "layout": {},
    }
    assert charts.axis_values(fig, "yaxis") == [50.0, 80.0]
    assert charts.axis_values(fig, "yaxis2") == [9e6, 1e7]


def test_english_amounts_carry_the_yuan_sign_and_thousands() -> None:
    positions, texts, unit = charts.amount_ticks([-40_000.0, 1_250_000.0], "en")
    assert unit == ""
    assert texts[0] == "-¥0.5M"
    assert "¥1M" in texts
    assert positions[texts.index("¥0")] == 0.0
    small = charts.amount_ticks([730.0], "en")[1]
    assert small[-1] == "¥800"


def test_small_chinese_amounts_stay_in_yuan() -> None:
    _, texts, unit = charts.amount_ticks([830.0], "zh")
    assert unit == "元"
    assert texts[-1] == "1,000"


def test_an_empty_axis_still_gets_a_zero_tick() -> None:
    assert charts.amount_ticks([], "zh")[:2] == ([0.0], ["0"])


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        charts.amount_ticks([1.0], "fr")
