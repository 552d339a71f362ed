"""DuckDB → Spark SQL: what sqlglot cannot know, rewritten on the parsed tree."""

from __future__ import annotations

import pytest

from hrss_fraud.spark.dialect import TranspileError, to_spark


def test_a_macro_is_expanded_in_parentheses_with_its_arguments() -> None:
    sql = to_spark("SELECT x FROM t WHERE k AND same_condition(a, ga, b, gb)")
    assert "NULLIF((a), '') IS NULL OR" in sql
    assert "WHERE k AND (NULLIF(" in sql


def test_format_becomes_a_concat_of_text_pieces() -> None:
    sql = to_spark("SELECT format('参保人{}于{}', psn_no, d) FROM t")
    assert sql == "SELECT CONCAT('参保人', CAST(psn_no AS STRING), '于', CAST(d AS STRING)) FROM t"


def test_a_template_written_over_lines_is_one_format() -> None:
    sql = to_spark("SELECT format('a{}' || 'b{}', x, y) FROM t")
    assert sql == "SELECT CONCAT('a', CAST(x AS STRING), 'b', CAST(y AS STRING)) FROM t"


def test_yuan_prints_thousands_to_the_fen() -> None:
    sql = to_spark("SELECT yuan(amt) FROM t")
    assert "FORMAT_NUMBER(ABS(ROUND(CAST((amt) AS DECIMAL(38, 6)), 2)), 2)" in sql
    assert "{:" not in sql


def test_an_unknown_format_spec_is_refused_naming_it() -> None:
    with pytest.raises(TranspileError, match=r"format spec ':>8'"):
        to_spark("SELECT format('{:>8}', x) FROM t")


def test_row_in_subquery_selects_columns_not_a_struct() -> None:
    sql = to_spark("SELECT 1 FROM t WHERE (a, b) IN (SELECT (a, b) FROM v)")
    assert sql == "SELECT 1 FROM t WHERE (a, b) IN (SELECT a, b FROM v)"


def test_no_claim_keys_spread_into_four_null_columns() -> None:
    sql = to_spark("SELECT unnest(no_claim_keys()), x FROM t")
    assert sql.startswith("SELECT CAST(NULL AS STRING) AS fixmedins_code, ")
    assert sql.endswith("CAST(NULL AS STRING) AS feedetl_sn, x FROM t")


def test_list_position_is_null_when_absent() -> None:
    sql = to_spark("SELECT list_position(['a', 'b'], x) FROM t")
    assert sql == "SELECT NULLIF(ARRAY_POSITION(ARRAY('a', 'b'), x), 0) FROM t"


def test_star_replace_is_spelled_out_from_the_source_columns() -> None:
    cols = {"line": ["a", "cnt", "b"]}
    sql = to_spark("SELECT * REPLACE (cnt * 2 AS cnt) FROM line", columns_of=cols.get)
    assert sql == "SELECT a, cnt * 2 AS cnt, b FROM line"


def test_star_replace_over_an_unknown_source_is_refused() -> None:
    with pytest.raises(TranspileError, match="unknown columns"):
        to_spark("SELECT * REPLACE (cnt * 2 AS cnt) FROM cte", columns_of=lambda _t: None)


def test_a_named_window_in_arithmetic_keeps_its_operator_apart() -> None:
    sql = to_spark("SELECT sum(x) OVER w - y FROM t WINDOW w AS (PARTITION BY a)")
    assert sql == "SELECT (SUM(x) OVER w) - y FROM t WINDOW w AS (PARTITION BY a)"
