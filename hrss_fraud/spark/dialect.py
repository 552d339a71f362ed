"""DuckDB SQL (the rules' templates, the prepare statements) as Spark SQL, from one source.

sqlglot translates the dialect (``read="duckdb", write="spark"``). What it cannot know is
done here, on the parsed tree, before it writes Spark SQL:

- the scalar macros :data:`hrss_fraud.engine.prepare.MACROS` defines for DuckDB are
  expanded in place from those same definitions (their parameters substituted);
- ``format('{:,.2f}', x)`` (DuckDB's fmt syntax, what ``yuan`` prints with) becomes
  ``format_number(x, 2)``: the value is already rounded to the fen, so both print the same;
- ``unnest(<struct>)`` in a SELECT list (a struct's fields as columns) becomes the fields as
  columns;
- ``SELECT * REPLACE (…)`` is spelled out from the source table's columns;
- ``len(<list>)`` becomes ``size(…)`` (Spark's ``length`` is a string's);
- ``(a, b) IN (SELECT (a, b) FROM …)`` (a row compared with a row) selects the columns, not a
  struct of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

import sqlglot
from sqlglot import exp

from hrss_fraud.engine.prepare import MACROS


class TranspileError(ValueError):
    pass


@cache
def macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """Each macro's name, parameters and body, parsed from :data:`MACROS`."""
    out: dict[str, tuple[list[str], exp.Expression]] = {}
    for text in MACROS:
        head, _, body = text.partition(" AS ")
        name, _, rest = head.partition("(")
        params = [p.strip() for p in rest.rstrip(") ").split(",") if p.strip()]
        out[name.strip().lower()] = (params, sqlglot.parse_one(body, read="duckdb"))
    return out


def _expand(node: exp.Expression) -> exp.Expression:
    # a macro's name is no function sqlglot knows: it parses as an anonymous call
    if not isinstance(node, exp.Anonymous):
        return node
    name = str(node.this).lower()
    found = macros().get(name)
    if found is None:
        return node
    params, body = found
    args = list(node.expressions)
    if len(args) != len(params):
        msg = f"macro {name} takes {len(params)} arguments, given {len(args)}: {node.sql()}"
        raise TranspileError(msg)
    bound = dict(zip(params, args, strict=True))

    def sub(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table and n.name in bound:
            return exp.Paren(this=bound[n.name].copy())
        return n

    # in parentheses: a body such as ``a OR b`` must stay one operand where it is called
    return exp.Paren(this=body.copy().transform(sub))


def _expand_all(tree: exp.Expression) -> exp.Expression:
    # macros may call macros: expand until none is left
    for _ in range(8):
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(_expand)
        if tree.sql(dialect="duckdb") == before:
            return tree
    msg = f"macros nest too deep in: {tree.sql(dialect='duckdb')[:200]}"
    raise TranspileError(msg)


_FMT = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_PRINTF = re.compile(r"%%|%([-+ 0#]?\d*(?:\.\d+)?[a-zA-Z])")


def _spark(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="spark")


def _general(arg: exp.Expression, digits: int) -> exp.Expression:
    """C's ``%g`` (``digits`` significant digits, trailing zeros dropped): Java's ``%g``
    keeps them, so it is spelled out; in exponent form only from 1e15 (C from 1e6)."""
    x = f"({arg.sql(dialect='spark')})"
    places = _spark(
        f"concat('%.', CAST(greatest(0, {digits - 1} - CAST(floor(log10(abs({x}))) AS INT)) "
        "AS STRING), 'f')"
    )
    fixed = exp.Anonymous(
        this="format_string",
        expressions=[places, exp.cast(arg.copy(), exp.DataType.build("DOUBLE"))],
    )
    trimmed = _spark(
        f"CASE WHEN {x} IS NULL THEN NULL WHEN {x} = 0 THEN '0' ELSE regexp_replace("
        "regexp_replace(__fixed__, '(\\\\.[0-9]*?)0+$', '$1'), '\\\\.$', '') END"
    )
    return trimmed.transform(
        lambda n: fixed.copy() if isinstance(n, exp.Column) and n.name == "__fixed__" else n
    )


def _piece(spec: str, arg: exp.Expression, where: str) -> exp.Expression:
    """One placeholder (fmt's ``{…}`` spec or printf's ``%…``) as a Spark text expression."""
    if spec in ("", "s"):
        return exp.cast(arg, exp.DataType.build("STRING"))
    if spec == ":,.2f":
        return exp.Anonymous(this="format_number", expressions=[arg, exp.Literal.number(2)])
    m = re.fullmatch(r":?\.(\d+)f", spec)
    if m:  # as a double, as DuckDB's printf takes it (Java's %f refuses Spark's decimal)
        fmt = exp.Literal.string(f"%.{m.group(1)}f")
        as_double = exp.cast(arg, exp.DataType.build("DOUBLE"))
        return exp.Anonymous(this="format_string", expressions=[fmt, as_double])
    m = re.fullmatch(r":?(?:\.(\d+))?g", spec)
    if m:
        return _general(arg, int(m.group(1) or 6))
    if spec == "d":
        return exp.cast(exp.cast(arg, exp.DataType.build("BIGINT")), exp.DataType.build("STRING"))
    msg = f"format spec {spec!r} in {where!r} has no Spark equivalent here; add it"
    raise TranspileError(msg)


def _fold(node: exp.Expression) -> exp.Expression:
    """Constant strings joined with ``||`` as one literal (a long template written over
    several lines)."""
    if isinstance(node, exp.DPipe):
        left, right = _fold(node.this), _fold(node.expression)
        if all(isinstance(x, exp.Literal) and x.is_string for x in (left, right)):
            return exp.Literal.string(left.this + right.this)
        node.set("this", left)
        node.set("expression", right)
    return node


def _format(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``format('…{}…', a, …)`` and ``printf('…%g…', a, …)`` as a ``concat`` of
    their pieces: NULL when an argument is NULL, as DuckDB's (:func:`_piece`)."""
    printf = isinstance(node, exp.Anonymous) and str(node.this).lower() == "printf"
    if isinstance(node, exp.Format):
        fmt, args, pattern = _fold(node.this), list(node.expressions), _FMT
    elif printf:
        fmt, args, pattern = _fold(node.expressions[0]), list(node.expressions[1:]), _PRINTF
    else:
        return node
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        msg = f"format() with a computed template has no Spark equivalent: {node.sql()[:200]}"
        raise TranspileError(msg)
    escapes = {"{{": "{", "}}": "}", "%%": "%"}
    parts: list[exp.Expression] = []
    text, pos, used = fmt.this, 0, 0
    for m in pattern.finditer(text):
        literal = text[pos : m.start()] + escapes.get(m.group(0), "")
        if literal:
            parts.append(exp.Literal.string(literal))
        pos = m.end()
        if m.group(0) in escapes:
            continue
        if used >= len(args):
            msg = f"format string {text!r} has more placeholders than arguments"
            raise TranspileError(msg)
        parts.append(_piece(m.group(1), args[used].copy(), text))
        used += 1
    if text[pos:]:
        parts.append(exp.Literal.string(text[pos:]))
    return exp.Anonymous(this="concat", expressions=parts or [exp.Literal.string("")])


def _duckdb_only(node: exp.Expression) -> exp.Expression:
    """Calls Spark names or counts otherwise: ``list_position`` (NULL when absent, as
    DuckDB's, not 0), ``to_months``, ``regexp_full_match``, ``date_sub('year', a, b)``
    (whole years), ``count(DISTINCT x) OVER`` (Spark has no distinct window: the size of
    the window's set); a CTE's ``NOT MATERIALIZED`` hint dropped; QUALIFY's columns
    unqualified (sqlglot moves QUALIFY to an outer query, where the inner aliases are
    gone)."""
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    if isinstance(node, exp.Window) and isinstance(node.parent, exp.Binary):
        # ``sum(x) OVER w - y`` is written ``OVER w-y`` (one identifier to Spark) otherwise
        return exp.Paren(this=node.copy())
    if isinstance(node, exp.Qualify):
        for col in node.find_all(exp.Column):
            col.set("table", None)
    if isinstance(node, exp.RegexpFullMatch):
        anchored = exp.Anonymous(
            this="concat",
            expressions=[exp.Literal.string("^(?:"), node.expression, exp.Literal.string(")$")],
        )
        return exp.Anonymous(this="regexp_like", expressions=[node.this, anchored])
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Count | exp.ArrayAgg):
        inner = node.this.this
        if isinstance(inner, exp.Distinct) and len(inner.expressions) == 1:
            found = exp.Anonymous(this="collect_list", expressions=[inner.expressions[0]])
            window = node.copy()
            window.set("this", found)
            distinct = exp.Anonymous(this="array_distinct", expressions=[window])
            if isinstance(node.this, exp.ArrayAgg):
                return distinct
            return exp.Anonymous(this="size", expressions=[distinct])
    if isinstance(node, exp.Anonymous):
        name, args = str(node.this).lower(), list(node.expressions)
        if name == "list_position" and len(args) == 2:
            pos = exp.Anonymous(this="array_position", expressions=args)
            return exp.Nullif(this=pos, expression=exp.Literal.number(0))
        if name == "date_sub" and len(args) == 3 and args[0].name in ("year", "month"):
            a, b = (x.sql(dialect="spark") for x in args[1:])
            months = f"floor(months_between(CAST({b} AS DATE), CAST({a} AS DATE)))"
            per = 12 if args[0].name == "year" else 1
            return _spark(f"CAST(floor({months} / {per}) AS BIGINT)")
        if name == "regexp_split_to_array" and len(args) == 2:
            return exp.Anonymous(this="split", expressions=args)
        if name == "to_months" and len(args) == 1:
            return exp.Anonymous(
                this="make_ym_interval", expressions=[exp.Literal.number(0), *args]
            )
    return node


def _unnest_struct(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Select):
        return node
    items: list[exp.Expression] = []
    changed = False
    for e in node.expressions:
        inner = e.this if isinstance(e, exp.Explode) else None
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Struct):
            for field in inner.expressions:
                if isinstance(field, exp.PropertyEQ | exp.Slice | exp.EQ):
                    key, value = field.this, field.expression
                    items.append(exp.alias_(value.copy(), key.name))
                elif isinstance(field, exp.Alias):
                    items.append(field.copy())
                else:
                    msg = f"cannot spread struct field {field.sql()} into columns"
                    raise TranspileError(msg)
            changed = True
        else:
            items.append(e)
    if changed:
        node.set("expressions", items)
    return node


def _row_in(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.In) and isinstance(node.this, exp.Tuple):
        query = node.args.get("query")
        sub = query.this if isinstance(query, exp.Subquery) else query
        if isinstance(sub, exp.Select) and len(sub.expressions) == 1:
            only = sub.expressions[0]
            if isinstance(only, exp.Tuple):
                sub.set("expressions", [c.copy() for c in only.expressions])
    return node


def _list_length(node: exp.Expression) -> exp.Expression:
    # the templates' len() is a list's size (none measures a string); Spark's length() is
    # a string's
    if isinstance(node, exp.Length):
        return exp.ArraySize(this=node.this)
    return node


def _star_replace(columns_of: Callable[[str], list[str] | None]):
    """``SELECT * REPLACE (e AS c)`` (no Spark equivalent) as the source's columns in order
    with ``c`` replaced, when the source is one table whose columns ``columns_of`` knows."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Select):
            return node
        stars = [e for e in node.expressions if isinstance(e, exp.Star) and e.args.get("replace")]
        if not stars:
            return node
        source = node.args.get("from_") or node.args.get("from")
        table = source.this if source is not None else None
        names = (
            columns_of(table.name)
            if isinstance(table, exp.Table) and not node.args.get("joins")
            else None
        )
        if names is None:
            msg = f"SELECT * REPLACE over a source of unknown columns: {node.sql()[:200]}"
            raise TranspileError(msg)
        items: list[exp.Expression] = []
        for e in node.expressions:
            if e not in stars:
                items.append(e)
                continue
            replaced = {a.alias: a for a in e.args["replace"]}
            dropped = {c.name for c in e.args.get("except") or []}
            for c in names:
                if c in dropped:
                    continue
                items.append(replaced[c].copy() if c in replaced else exp.column(c))
        node.set("expressions", items)
        return node

    return rewrite


def _string_agg(node: exp.Expression) -> exp.Expression:
    """``string_agg([DISTINCT] x, sep [ORDER BY k, …])`` as ``array_join`` over a sorted
    ``collect_list`` of ``(k…, x)``: Spark's own ``listagg … WITHIN GROUP`` fails in a
    query that also has DISTINCT aggregates (RewriteDistinctAggregates casts its order to
    an attribute); NULL when no value is, as DuckDB's."""
    if not isinstance(node, exp.GroupConcat) or isinstance(node.parent, exp.Window):
        return node
    inner, keys = node.this, []
    if isinstance(inner, exp.Order):
        keys = list(inner.expressions)
        inner = inner.this
    distinct = isinstance(inner, exp.Distinct)
    if distinct:
        (inner,) = inner.expressions
    if any(k.args.get("desc") for k in keys):
        msg = f"string_agg ordered descending has no Spark rewrite here: {node.sql()[:200]}"
        raise TranspileError(msg)
    sep = node.args.get("separator") or exp.Literal.string(",")
    value = inner.sql(dialect="spark")
    fields = [f"'k{i}', {k.this.sql(dialect='spark')}" for i, k in enumerate(keys)]
    fields.append(f"'v', {value}")
    listed = f"collect_list(named_struct({', '.join(fields)}))"
    if distinct:
        listed = f"array_distinct({listed})"
    if keys:
        listed = f"array_sort({listed})"
    return _spark(
        f"CASE WHEN count({value}) > 0 THEN array_join(transform({listed}, s -> s.v), "
        f"{sep.sql(dialect='spark')}) END"
    )


def to_spark(
    sql: str, *, where: str = "", columns_of: Callable[[str], list[str] | None] | None = None
) -> str:
    """``sql`` (DuckDB, one statement) as Spark SQL; ``columns_of`` names a table's
    columns (for ``* REPLACE``)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as e:
        msg = f"{where}: sqlglot cannot parse the DuckDB SQL: {str(e).splitlines()[0]}"
        raise TranspileError(msg) from None
    tree = _expand_all(tree)
    if columns_of is not None:
        tree = tree.transform(_star_replace(columns_of))
    while tree.find(exp.Format) or any(
        str(a.this).lower() == "printf" for a in tree.find_all(exp.Anonymous)
    ):  # a template's arguments hold formats of their own (yuan's)
        tree = tree.transform(_format)
    tree = (
        tree.transform(_duckdb_only)
        .transform(_unnest_struct)
        .transform(_row_in)
        .transform(_list_length)
    )
    tree = tree.transform(_string_agg)
    try:
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as e:
        msg = f"{where}: no Spark SQL for: {str(e).splitlines()[0]}"
        raise TranspileError(msg) from None
