"""Hit lines → findings: the shape every rule returns, and how it becomes leads.

A rule (SQL or kernel) returns one row per claim line involved in a hit:

============== ===========================================================================
hit_key        identifies the hit within the rule, built from natural keys only (never a
               run-specific number), so the same lead keeps the same ``finding_id``
entity_type    fee_line, settlement, person, institution or doctor
entity_id      the entity's natural key (e.g. ``fixmedins_code|mdtrt_id|feedetl_sn``)
role           ``violating`` (its amount is at risk) or ``involved`` (context, amount 0)
fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn   the line (``feedetl_sn`` null when
               the row stands for a whole settlement, a person-period or an institution)
line_time      when the line occurred (``fee_ocur_time``, or the settlement's time)
amount         this line's share of the amount at risk, on ``inscp_amt``
evidence       the reasoning in Chinese, the same on every row of a hit; ``evidence_en``
score          optional: a hit-level measure (e.g. an indicator's value)
============== ===========================================================================
"""

from __future__ import annotations

import functools
import json

import duckdb
import polars as pl

HIT_COLUMNS: dict[str, pl.DataType] = {
    "hit_key": pl.String(),
    "entity_type": pl.String(),
    "entity_id": pl.String(),
    "role": pl.String(),
    "fixmedins_code": pl.String(),
    "psn_no": pl.String(),
    "setl_id": pl.String(),
    "mdtrt_id": pl.String(),
    "feedetl_sn": pl.String(),
    "line_time": pl.Datetime("us"),
    "amount": pl.Float64(),
    "evidence": pl.String(),
    "evidence_en": pl.String(),
    "score": pl.Float64(),
}
ROLES = ("violating", "involved")

FINDING_COLUMNS = (
    "finding_id",
    "run_id",
    "rule_id",
    "rule_name",
    "rule_name_en",
    "framework_codes",
    "severity",
    "severity_zh",
    "behaviour",
    "entity_type",
    "entity_id",
    "fixmedins_code",
    "psn_no",
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "period_start",
    "period_end",
    "amount_at_risk",
    "score",
    "evidence",
    "evidence_en",
    "n_lines",
    "n_violating",
    "rule_version",
    "params",
)
LINE_COLUMNS = (
    "finding_id",
    "role",
    "fixmedins_code",
    "psn_no",
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "line_time",
    "amount_at_risk",
)


LINE_ORDER = (
    "finding_id",
    "role",
    "fixmedins_code",
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "line_time",
    "psn_no",
    "amount_at_risk",
)
"""Every line column: a total order, so that equal runs write identical files."""


class HitShapeError(ValueError):
    pass


def project_hits(
    df: pl.DataFrame,
    *,
    hit_key: str | pl.Expr,
    entity_type: str,
    entity_id: str | pl.Expr,
    amount: str | pl.Expr,
    line_time: str | pl.Expr,
    violating: pl.Expr | bool = True,
    feedetl_sn: str | None = "feedetl_sn",
    score: str | pl.Expr | None = None,
    **extra: str | pl.Expr,
) -> pl.DataFrame:
    """``df`` projected into :data:`HIT_COLUMNS` (then ``extra``), the shape every kernel
    and detector returns. ``df`` carries the line's keys (``fixmedins_code``, ``psn_no``,
    ``setl_id``, ``mdtrt_id``, and ``feedetl_sn`` unless ``feedetl_sn`` is None: then each
    row stands for a whole settlement) and ``evidence``/``evidence_en``. A row is violating
    where ``violating`` holds (its ``amount`` at risk), else involved with amount 0;
    ``violating=True`` makes every row violating with its ``amount`` as it is."""
    if violating is True:
        role, at_risk = pl.lit("violating"), amount
    else:
        viol = pl.lit(violating) if isinstance(violating, bool) else violating
        role = pl.when(viol).then(pl.lit("violating")).otherwise(pl.lit("involved"))
        at_risk = pl.when(viol).then(amount).otherwise(0.0)
    return df.select(
        hit_key=hit_key,
        entity_type=pl.lit(entity_type),
        entity_id=entity_id,
        role=role,
        fixmedins_code="fixmedins_code",
        psn_no="psn_no",
        setl_id="setl_id",
        mdtrt_id="mdtrt_id",
        feedetl_sn=pl.lit(None, pl.String) if feedetl_sn is None else feedetl_sn,
        line_time=line_time,
        amount=at_risk,
        evidence="evidence",
        evidence_en="evidence_en",
        score=pl.lit(None, pl.Float64) if score is None else score,
        **extra,
    )


def empty_hits() -> pl.DataFrame:
    return pl.DataFrame(schema=HIT_COLUMNS)


def conform(df: pl.DataFrame, rule_id: str) -> pl.DataFrame:
    """Check and cast a rule's output to :data:`HIT_COLUMNS`; say what is wrong if it cannot."""
    if "score" not in df.columns:
        df = df.with_columns(score=pl.lit(None, pl.Float64))
    missing = [c for c in HIT_COLUMNS if c not in df.columns]
    if missing:
        msg = f"rule {rule_id} returned no column(s) {', '.join(missing)}"
        raise HitShapeError(msg)
    df = df.select(pl.col(c).cast(t) for c, t in HIT_COLUMNS.items())
    bad_role = df.filter(~pl.col("role").is_in(ROLES))
    if bad_role.height:
        msg = f"rule {rule_id} returned role {bad_role['role'][0]!r}; expected one of {ROLES}"
        raise HitShapeError(msg)
    if df["hit_key"].null_count():
        msg = f"rule {rule_id} returned rows without a hit_key"
        raise HitShapeError(msg)
    orphans = (
        df.group_by("hit_key").agg(v=(pl.col("role") == "violating").any()).filter(~pl.col("v"))
    )
    if orphans.height:
        msg = f"rule {rule_id}: hit {orphans['hit_key'][0]!r} has no violating line"
        raise HitShapeError(msg)
    return df


def finding_ids(rule_id: str, keys: pl.Series) -> pl.Series:
    """Stable across runs and machines: a digest of the rule id and the hit's natural key
    (the first 20 hex digits of the SHA-1 of ``rule_id|hit_key``, as
    ``hashlib.sha1(f"{rule_id}|{key}".encode()).hexdigest()[:20]``; DuckDB computes it for
    the whole column at once)."""
    frame = pl.DataFrame({"k": keys.cast(pl.String)})  # noqa: F841 - DuckDB's replacement scan
    with _hashing_db().cursor() as con:
        ids = con.sql(
            "SELECT left(sha1($prefix || k), 20) AS finding_id FROM frame",
            params={"prefix": f"{rule_id}|"},
        ).pl()
    return ids["finding_id"].cast(pl.String)


@functools.cache
def _hashing_db() -> duckdb.DuckDBPyConnection:
    """One empty in-memory database per process to hash ids in: opening one for each rule
    cost more than hashing its keys (a cursor is cheap and safe in any thread)."""
    return duckdb.connect()


def aggregate(
    lines: pl.DataFrame,
    *,
    rule_id: str,
    rule_name: str,
    rule_name_en: str,
    framework: tuple[str, ...],
    severity: str,
    severity_zh: str,
    behaviour: str,
    run_id: str,
    version: int,
    params: dict[str, float],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One finding per hit and its lines, both sorted by ``finding_id``."""
    violating = pl.col("role") == "violating"
    # A finding names its earliest violating line with money at risk (a zero-amount
    # violating line is the other side of a conflict, e.g. the stay a claim falls in);
    # sorted first so that the choice does not depend on the order a rule's query happened
    # to return its rows in.
    lines = lines.sort(
        "hit_key",
        pl.col("amount").fill_null(0) <= 0,
        "line_time",
        "fixmedins_code",
        "setl_id",
        "mdtrt_id",
        "feedetl_sn",
        "entity_id",
        nulls_last=True,
    )
    first_v = {
        c: pl.col(c).filter(violating).first()
        for c in (
            *("entity_type", "entity_id", "evidence", "evidence_en"),
            *("fixmedins_code", "psn_no", "setl_id", "mdtrt_id", "feedetl_sn"),
        )
    }
    f = lines.group_by("hit_key").agg(
        **first_v,
        period_start=pl.col("line_time").min().dt.date(),
        period_end=pl.col("line_time").max().dt.date(),
        amount_at_risk=pl.col("amount").fill_null(0).sum().round(2),
        score=pl.col("score").max(),
        n_lines=pl.len().cast(pl.Int64),
        n_violating=violating.sum().cast(pl.Int64),
    )
    f = f.with_columns(
        finding_ids(rule_id, f["hit_key"]),
        feedetl_sn=pl.when(pl.col("entity_type") == "fee_line").then(pl.col("feedetl_sn")),
    )
    f = f.with_columns(
        run_id=pl.lit(run_id),
        rule_id=pl.lit(rule_id),
        rule_name=pl.lit(rule_name),
        rule_name_en=pl.lit(rule_name_en),
        framework_codes=pl.lit(";".join(framework)),
        severity=pl.lit(severity),
        severity_zh=pl.lit(severity_zh),
        behaviour=pl.lit(behaviour),
        rule_version=pl.lit(version, pl.Int64),
        params=pl.lit(json.dumps(params, sort_keys=True, ensure_ascii=False)),
    )
    ids = f.select("hit_key", "finding_id")
    out_lines = (
        lines.join(ids, on="hit_key", maintain_order="left")
        .rename({"amount": "amount_at_risk"})
        .select(LINE_COLUMNS)
    )
    return (
        f.select(FINDING_COLUMNS).sort("finding_id"),
        out_lines.sort(LINE_ORDER, nulls_last=True),
    )
