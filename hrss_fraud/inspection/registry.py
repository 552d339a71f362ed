"""Who and where inspection rounds work with: zones (townships) from the lake, inspectors,
groups and declared conflicts of interest, kept in the case store.

Each change writes its audit-log row in the same transaction, and is checked before
anything is written, so a refused change leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.inspection.refusal import Refusal

if TYPE_CHECKING:
    from hrss_fraud.lake import Lake


class RegistryError(Refusal):
    """A change to zones, inspectors, groups or conflicts that cannot be made."""


@dataclass(frozen=True)
class ZoneSync:
    zones: int
    institutions: int
    new_institutions: int
    moved_institutions: int


_LAKE_INSTITUTIONS = """
SELECT fixmedins_code, max(fixmedins_name) AS fixmedins_name, max(admdvs) AS admdvs,
       max(admdvs_name) AS admdvs_name
FROM institution
WHERE fixmedins_code IS NOT NULL AND admdvs IS NOT NULL AND trim(admdvs) <> ''
GROUP BY fixmedins_code
ORDER BY fixmedins_code
"""


def sync_zones(store: CaseStore, lake: Lake, *, by: str) -> ZoneSync:
    """Fill or update the zones and each institution's zone from the lake's ``institution``
    table (``admdvs``, the township, and its name). Institutions no longer in the lake
    keep their last zone: past rounds name them."""
    found = lake.connect().sql(_LAKE_INSTITUTIONS).pl()
    if found.is_empty():
        msg = "the lake has no institution with an area code (admdvs): ingest the reference data"
        raise RegistryError(msg, "no_institutions_in_lake")
    zones = (
        found.group_by("admdvs")
        .agg(pl.col("admdvs_name").drop_nulls().mode().sort().first())
        .with_columns(pl.col("admdvs_name").fill_null(pl.col("admdvs")))
        .sort("admdvs")
    )
    at = timestamp()
    with store.transaction() as con:
        before = dict(con.execute("SELECT fixmedins_code, admdvs FROM inspection_institution"))
        con.executemany(
            "INSERT INTO inspection_zone (admdvs, name, synced_at) VALUES (?, ?, ?) "
            "ON CONFLICT (admdvs) DO UPDATE SET name = excluded.name, "
            "synced_at = excluded.synced_at",
            [(z, n, at) for z, n in zones.iter_rows()],
        )
        rows = found.select("fixmedins_code", "fixmedins_name", "admdvs").rows()
        con.executemany(
            "INSERT INTO inspection_institution (fixmedins_code, fixmedins_name, admdvs, "
            "synced_at) VALUES (?, ?, ?, ?) ON CONFLICT (fixmedins_code) DO UPDATE SET "
            "fixmedins_name = excluded.fixmedins_name, admdvs = excluded.admdvs, "
            "synced_at = excluded.synced_at",
            [(c, n or c, z, at) for c, n, z in rows],
        )
        result = ZoneSync(
            zones=zones.height,
            institutions=len(rows),
            new_institutions=sum(c not in before for c, _, _ in rows),
            moved_institutions=sum(c in before and before[c] != z for c, _, z in rows),
        )
        write_audit(con, at, by, "zones.sync", "zones", "all", result.__dict__)
    return result


def zones(store: CaseStore) -> pl.DataFrame:
    """Every zone with its number of institutions."""
    rows = store.query(
        """SELECT z.admdvs, z.name, count(i.fixmedins_code), z.synced_at
           FROM inspection_zone z LEFT JOIN inspection_institution i USING (admdvs)
           GROUP BY z.admdvs ORDER BY z.admdvs"""
    )
    schema = {"admdvs": pl.String, "name": pl.String, "n_institutions": pl.Int64}
    return pl.DataFrame([r[:3] for r in rows], schema=schema, orient="row")


def _required(value: str | None, what: str, field: str) -> str:
    """``value`` stripped; :class:`RegistryError` naming the form ``field`` if empty."""
    text = (value or "").strip()
    if not text:
        msg = f"{what} is empty"
        raise RegistryError(msg, "required", field=field)
    return text


def add_inspector(store: CaseStore, code: str, name: str, *, by: str) -> None:
    code, name = (
        _required(code, "inspector code", "inspector_code"),
        _required(name, "inspector name", "inspector_name"),
    )
    at = timestamp()
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM inspector WHERE inspector_code = ?", (code,)).fetchone():
            msg = f"inspector {code} already exists"
            raise RegistryError(msg, "inspector_exists", code=code)
        con.execute(
            "INSERT INTO inspector (inspector_code, name, active, created_at) VALUES (?, ?, 1, ?)",
            (code, name, at),
        )
        write_audit(con, at, by, "inspector.add", "inspector", code, {"name": name})


def set_inspector_active(store: CaseStore, code: str, active: bool, *, by: str) -> None:
    at = timestamp()
    with store.transaction() as con:
        cur = con.execute(
            "UPDATE inspector SET active = ? WHERE inspector_code = ?", (int(active), code)
        )
        if not cur.rowcount:
            msg = f"no inspector {code}"
            raise RegistryError(msg, "no_inspector", code=code)
        action = "inspector.enable" if active else "inspector.disable"
        write_audit(con, at, by, action, "inspector", code, None)


def inspectors(store: CaseStore) -> pl.DataFrame:
    """Every inspector with the groups they belong to."""
    rows = store.query(
        """SELECT i.inspector_code, i.name, i.active,
                  coalesce(group_concat(m.group_code, ','), '')
           FROM inspector i LEFT JOIN inspection_group_member m USING (inspector_code)
           GROUP BY i.inspector_code ORDER BY i.inspector_code"""
    )
    schema = {
        "inspector_code": pl.String,
        "name": pl.String,
        "active": pl.Boolean,
        "groups": pl.String,
    }
    return pl.DataFrame([(c, n, bool(a), g) for c, n, a, g in rows], schema=schema, orient="row")


def add_group(
    store: CaseStore,
    code: str,
    name: str,
    members: Iterable[str],
    *,
    by: str,
    round_name: str | None = None,
) -> None:
    """A group of existing, active inspectors; standing unless ``round_name`` names the one
    round it is formed for."""
    code, name = (
        _required(code, "group code", "group_code"),
        _required(name, "group name", "group_name"),
    )
    people = sorted({m.strip() for m in members if m.strip()})
    if not people:
        msg = f"group {code} has no members"
        raise RegistryError(msg, "required", field="members")
    at = timestamp()
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM inspection_group WHERE group_code = ?", (code,)).fetchone():
            msg = f"group {code} already exists"
            raise RegistryError(msg, "group_exists", code=code)
        known = dict(con.execute("SELECT inspector_code, active FROM inspector"))
        unknown = [p for p in people if p not in known]
        inactive = [p for p in people if known.get(p) == 0]
        if unknown or inactive:
            parts = []
            if unknown:
                parts.append(f"unknown inspectors {', '.join(unknown)}")
            if inactive:
                parts.append(f"inactive inspectors {', '.join(inactive)}")
            msg = f"group {code}: " + "; ".join(parts)
            key = "unknown_inspectors" if unknown else "inactive_inspectors"
            raise RegistryError(msg, key, code=code, codes=", ".join(unknown or inactive))
        con.execute(
            "INSERT INTO inspection_group (group_code, name, round_name, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (code, name, round_name, by, at),
        )
        con.executemany(
            "INSERT INTO inspection_group_member (group_code, inspector_code) VALUES (?, ?)",
            [(code, p) for p in people],
        )
        detail = {"name": name, "members": people, "round_name": round_name}
        write_audit(con, at, by, "group.add", "inspection_group", code, detail)


def add_conflict(
    store: CaseStore, inspector_code: str, fixmedins_code: str, reason: str, *, by: str
) -> None:
    """Declare that an inspector may not inspect an institution, and why (回避)."""
    inspector_code = _required(inspector_code, "inspector code", "inspector_code")
    fixmedins_code = _required(fixmedins_code, "institution code", "institution")
    reason = _required(reason, "reason (回避理由)", "conflict_reason")
    at = timestamp()
    with store.transaction() as con:
        if not con.execute(
            "SELECT 1 FROM inspector WHERE inspector_code = ?", (inspector_code,)
        ).fetchone():
            msg = f"no inspector {inspector_code}"
            raise RegistryError(msg, "no_inspector", code=inspector_code)
        if con.execute(
            "SELECT 1 FROM inspector_conflict WHERE inspector_code = ? AND fixmedins_code = ?",
            (inspector_code, fixmedins_code),
        ).fetchone():
            msg = f"inspector {inspector_code} is already conflicted with {fixmedins_code}"
            raise RegistryError(
                msg, "conflict_exists", code=inspector_code, institution=fixmedins_code
            )
        con.execute(
            "INSERT INTO inspector_conflict (inspector_code, fixmedins_code, reason, declared_by, "
            "declared_at) VALUES (?, ?, ?, ?, ?)",
            (inspector_code, fixmedins_code, reason, by, at),
        )
        write_audit(
            con,
            at,
            by,
            "conflict.add",
            "inspector",
            inspector_code,
            {"fixmedins_code": fixmedins_code, "reason": reason},
        )


def active_group_members(
    store: CaseStore, round_name: str, groups: Iterable[str] | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """The active members of every standing group and of those formed for ``round_name``
    (a round or a register's plan), kept to ``groups`` when given; and the groups asked
    for that have no active member (the caller refuses the draw in its own words)."""
    members: dict[str, list[str]] = {}
    for g, m in store.query(
        """SELECT g.group_code, m.inspector_code
           FROM inspection_group g
           JOIN inspection_group_member m USING (group_code)
           JOIN inspector i USING (inspector_code)
           WHERE i.active = 1 AND (g.round_name IS NULL OR g.round_name = ?)
           ORDER BY g.group_code, m.inspector_code""",
        (round_name,),
    ):
        members.setdefault(g, []).append(m)
    if groups is None:
        return members, []
    wanted = [g.strip() for g in groups if g.strip()]
    missing = [g for g in wanted if g not in members]
    return {g: members[g] for g in wanted if g in members}, missing


def groups(store: CaseStore) -> pl.DataFrame:
    """Every group with its members (``code 姓名``, comma-separated) and the round it was
    formed for (empty for a standing group)."""
    rows = store.query(
        """SELECT g.group_code, g.name, coalesce(g.round_name, ''),
                  coalesce(group_concat(i.inspector_code || ' ' || i.name, ', '), '')
           FROM inspection_group g
           LEFT JOIN inspection_group_member m USING (group_code)
           LEFT JOIN inspector i USING (inspector_code)
           GROUP BY g.group_code ORDER BY g.group_code"""
    )
    schema = {
        "group_code": pl.String,
        "name": pl.String,
        "round_name": pl.String,
        "members": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def conflicts(store: CaseStore) -> pl.DataFrame:
    """Every declared conflict of interest with the inspector's and institution's names."""
    rows = store.query(
        """SELECT c.inspector_code, coalesce(i.name, ''), c.fixmedins_code,
                  coalesce(n.fixmedins_name, ''), c.reason, c.declared_by, c.declared_at
           FROM inspector_conflict c
           LEFT JOIN inspector i USING (inspector_code)
           LEFT JOIN inspection_institution n USING (fixmedins_code)
           ORDER BY c.inspector_code, c.fixmedins_code"""
    )
    schema = {
        "inspector_code": pl.String,
        "inspector_name": pl.String,
        "fixmedins_code": pl.String,
        "fixmedins_name": pl.String,
        "reason": pl.String,
        "declared_by": pl.String,
        "declared_at": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def institutions(store: CaseStore) -> pl.DataFrame:
    """Every zoned institution with its zone's name, by code."""
    rows = store.query(
        """SELECT i.fixmedins_code, i.fixmedins_name, i.admdvs, coalesce(z.name, i.admdvs)
           FROM inspection_institution i LEFT JOIN inspection_zone z USING (admdvs)
           ORDER BY i.fixmedins_code"""
    )
    schema = {
        "fixmedins_code": pl.String,
        "fixmedins_name": pl.String,
        "admdvs": pl.String,
        "zone_name": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
