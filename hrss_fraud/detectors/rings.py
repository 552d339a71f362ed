"""Kernel ``covisit_rings``: insured persons who keep turning up together (参保人团伙结伴就医).

Two persons *co-visit* when both have an outpatient settlement at the same institution on
the same day within ``minutes`` of each other. Pairs that co-visit on at least
``min_outings`` different days are linked, and the connected groups of at least
``min_members`` persons are the rings: a family or a village bus trip shares a day or
two, a ring shares many. A member is a lead when those co-visits span at least
``min_places`` institutions (patients of one dialysis ward share its sessions at one
place). One lead per member, with their co-visits as violating lines (the in-scope amount
at risk) and the group's size and outings in the evidence.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hrss_fraud.engine.hits import empty_hits, project_hits
from hrss_fraud.engine.kernels import kernel
from hrss_fraud.model.numbers import money_expr


def linked_pairs(
    con: duckdb.DuckDBPyConnection, minutes: float, min_outings: int, settings: list[str]
) -> pl.DataFrame:
    """Pairs (a < b) that co-visited on at least ``min_outings`` days, with those days."""
    wanted = ", ".join("'" + s.replace("'", "''") + "'" for s in settings)
    window = int(minutes * 60)
    return con.sql(f"""
        WITH v AS (
            SELECT psn_no, fixmedins_code, CAST(begntime AS DATE) AS d,
                   epoch(begntime)::BIGINT AS t
            FROM visit WHERE setting IN ({wanted})
        ),
        -- persons who could be in a ring: visits on at least min_outings days
        c AS (
            SELECT v.* FROM v JOIN (
                SELECT psn_no FROM v GROUP BY psn_no
                HAVING count(DISTINCT d) >= {int(min_outings)}
            ) USING (psn_no)
        ),
        p AS (
            SELECT a.psn_no AS a, b.psn_no AS b, a.d
            FROM c a JOIN c b
              ON a.fixmedins_code = b.fixmedins_code AND a.d = b.d
             AND a.psn_no < b.psn_no AND abs(a.t - b.t) <= {window}
        )
        SELECT a, b, count(DISTINCT d) AS outings FROM p GROUP BY a, b
        HAVING count(DISTINCT d) >= {int(min_outings)}
    """).pl()


def rings(pairs: pl.DataFrame, min_members: int) -> pl.DataFrame:
    """psn_no → ring (a number) and size, for groups of at least ``min_members``."""
    if pairs.is_empty():
        return pl.DataFrame(schema={"psn_no": pl.String, "ring": pl.Int64, "size": pl.Int64})
    people = pl.concat([pairs["a"], pairs["b"]]).unique().sort()
    index = {p: i for i, p in enumerate(people.to_list())}
    a = np.array([index[x] for x in pairs["a"].to_list()])
    b = np.array([index[x] for x in pairs["b"].to_list()])
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(people), len(people)))
    _, label = connected_components(graph, directed=False)
    out = pl.DataFrame({"psn_no": people, "ring": label.astype(np.int64)})
    out = out.with_columns(size=pl.len().over("ring").cast(pl.Int64))
    # a ring is named by its first member, so the same group keeps the same name
    first = out.group_by("ring").agg(ring_id=pl.col("psn_no").min())
    return (
        out.filter(pl.col("size") >= min_members)
        .join(first, on="ring")
        .select("psn_no", "ring_id", "size")
    )


@kernel("covisit_rings")
def covisit_rings(
    con: duckdb.DuckDBPyConnection, params: dict[str, float], args: dict[str, Any]
) -> pl.DataFrame:
    minutes = float(params["minutes"])
    min_outings, min_members = int(params["min_outings"]), int(params["min_members"])
    settings = list(args.get("settings", ["op"]))
    pairs = linked_pairs(con, minutes, min_outings, settings)
    members = rings(pairs, min_members)
    if members.is_empty():
        return empty_hits()
    # each member's co-visits with fellow members: the lines behind the lead
    con.register("_ring_members", members)
    try:
        visits = con.sql(f"""
            WITH v AS (
                SELECT m.psn_no, m.ring_id, s.fixmedins_code, s.setl_id, s.mdtrt_id,
                       s.begntime, CAST(s.begntime AS DATE) AS d,
                       epoch(s.begntime)::BIGINT AS t, CAST(s.inscp_amt AS DOUBLE) AS inscp
                FROM visit s JOIN _ring_members m USING (psn_no)
                WHERE s.setting IN ({", ".join("'" + x + "'" for x in settings)})
            )
            SELECT DISTINCT a.psn_no, a.ring_id, a.fixmedins_code, a.setl_id, a.mdtrt_id,
                   a.begntime, a.d, a.inscp
            FROM v a JOIN v b
              ON a.ring_id = b.ring_id AND a.fixmedins_code = b.fixmedins_code AND a.d = b.d
             AND a.psn_no <> b.psn_no AND abs(a.t - b.t) <= {int(minutes * 60)}
        """).pl()
    finally:
        con.unregister("_ring_members")
    summary = visits.group_by("psn_no").agg(
        outings=pl.col("d").n_unique(),
        places=pl.col("fixmedins_code").n_unique(),
        risk=pl.col("inscp").sum(),
        first=pl.col("d").min(),
        last=pl.col("d").max(),
    )
    # dialysis patients share a ward's sessions three times a week at one place: a ring moves
    summary = summary.filter(pl.col("places") >= int(params["min_places"]))
    if summary.is_empty():
        return empty_hits()
    rows = visits.join(members, on=["psn_no", "ring_id"]).join(summary, on="psn_no")
    money = money_expr("risk")
    rows = rows.with_columns(
        evidence=pl.format(
            "参保人{}与另外{}人多次结伴就医（团伙共{}人，以{}为代表）：{}至{}期间在{}家机构"
            "同日{}分钟内先后就诊{}次，与团伙成员两两同行至少{}次；这些就诊医保范围内金额{}。",
            "psn_no",
            pl.col("size") - 1,
            "size",
            "ring_id",
            "first",
            "last",
            "places",
            pl.lit(f"{minutes:g}"),
            "outings",
            pl.lit(min_outings),
            money,
        ),
        evidence_en=pl.format(
            "Person {} keeps visiting with {} others (a group of {}, named after {}): from {} to "
            "{}, {} visits at {} institution(s) within {} minutes of fellow members on the same "
            "day, each pair together at least {} times; in-scope amount of those visits {}.",
            "psn_no",
            pl.col("size") - 1,
            "size",
            "ring_id",
            "first",
            "last",
            "outings",
            "places",
            pl.lit(f"{minutes:g}"),
            pl.lit(min_outings),
            money,
        ),
    )
    return project_hits(
        rows,
        hit_key=pl.format("ring|{}", "psn_no"),
        entity_type="person",
        entity_id="psn_no",
        violating=True,
        amount=pl.col("inscp"),
        score=pl.col("size").cast(pl.Float64),
        line_time="begntime",
        feedetl_sn=None,
    )
