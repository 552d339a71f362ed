"""AG Grid's own words (the "no rows" overlay, the pager, the filter menus) in the
screen's language.

The grid draws these itself, in English unless told otherwise, so every grid is given
``dashGridOptions={"localeText": grid_locale(lang)}``. The words are screen text like any
other: the ``[grid]`` section of ``dashboards/i18n``, keyed in snake case
(``grid.no_rows_to_show``) and handed to the grid under AG Grid's own camel-case names
(``noRowsToShow``).
"""

from __future__ import annotations

from hrss_fraud.dashboard.i18n import text

KEYS = (
    "grid.no_rows_to_show",
    "grid.no_matching_rows",
    "grid.loading_ooo",
    "grid.loading_error",
    "grid.page",
    "grid.of",
    "grid.to",
    "grid.more",
    "grid.first_page",
    "grid.previous_page",
    "grid.next_page",
    "grid.last_page",
    "grid.page_size_selector_label",
    "grid.aria_page_size_selector_label",
    "grid.page_last_row_unknown",
    "grid.filter_ooo",
    "grid.apply_filter",
    "grid.clear_filter",
    "grid.reset_filter",
    "grid.cancel_filter",
    "grid.text_filter",
    "grid.number_filter",
    "grid.date_filter",
    "grid.empty",
    "grid.equals",
    "grid.not_equal",
    "grid.less_than",
    "grid.greater_than",
    "grid.less_than_or_equal",
    "grid.greater_than_or_equal",
    "grid.in_range",
    "grid.in_range_start",
    "grid.in_range_end",
    "grid.contains",
    "grid.not_contains",
    "grid.starts_with",
    "grid.ends_with",
    "grid.blank",
    "grid.not_blank",
    "grid.before",
    "grid.after",
    "grid.and_condition",
    "grid.or_condition",
    "grid.date_format_ooo",
    "grid.blanks",
    "grid.invalid_number",
    "grid.invalid_date",
    # what the grid says to screen readers (and what a page's text holds)
    "grid.aria_row_select",
    "grid.aria_row_deselect",
    "grid.aria_row_toggle_selection",
    "grid.aria_row_select_all",
    "grid.aria_row_selection_disabled",
    "grid.aria_checked",
    "grid.aria_unchecked",
    "grid.aria_indeterminate",
    "grid.aria_header_selection",
    "grid.aria_label_column_menu",
    "grid.aria_label_column_filter",
    "grid.aria_menu_column",
    "grid.aria_filter_column",
    "grid.aria_filter_menu_open",
    "grid.aria_sortable_column",
    "grid.aria_column_filtered",
    "grid.aria_filter_input",
    "grid.aria_filtering_operator",
    "grid.aria_filter_value",
    "grid.aria_filter_from_value",
    "grid.aria_filter_to_value",
    "grid.aria_date_filter_input",
    "grid.aria_skeleton_cell_loading",
    "grid.aria_skeleton_cell_loading_failed",
    "grid.aria_toggle_cell_value",
    "grid.aria_label_tooltip",
)


def locale_name(key: str) -> str:
    """AG Grid's name for the text ``key``: ``grid.no_rows_to_show`` → ``noRowsToShow``."""
    head, *rest = key.removeprefix("grid.").split("_")
    return head + "".join(word.capitalize() for word in rest)


def grid_locale(lang: str) -> dict[str, str]:
    """The grid's ``localeText`` for ``lang`` (``"zh"`` or ``"en"``)."""
    return {locale_name(key): text(key, lang) for key in KEYS}
