"""Planning rounds on the scored tiny county: targets, rotation, conflicts, the stored draw."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from helpers.inspection_staff import CONFLICTED, staff

from hrss_fraud.cases import open_store
from hrss_fraud.engine.runs import open_run
from hrss_fraud.inspection import registry
from hrss_fraud.inspection.draw import DrawError
from hrss_fraud.inspection.rounds import (
    RoundError,
    load_round,
    parse_complaints,
    plan_round,
    reproduce,
    set_status,
)
from hrss_fraud.lake import Lake
from hrss_fraud.outputs.ranking import institution_ranking


def test_zones_come_from_the_lakes_institutions(ws: Path) -> None:
    with open_store(ws) as store:
        first = registry.sync_zones(store, Lake(ws / "lake"), by="tester")
        again = registry.sync_zones(store, Lake(ws / "lake"), by="tester")
        zones = registry.zones(store)
        audit = store.audit_log("all")
    assert (first.zones, first.institutions, first.new_institutions) == (10, 29, 29)
    assert (again.new_institutions, again.moved_institutions) == (0, 0)
    assert zones["n_institutions"].sum() == 29
    assert "城关镇" in zones["name"].to_list()
    assert audit["action"].to_list() == ["zones.sync", "zones.sync"]


def test_registry_refuses_bad_changes_and_writes_nothing(ws: Path) -> None:
    with open_store(ws) as store:
        registry.add_inspector(store, "I0", "张三", by="t")
        with pytest.raises(registry.RegistryError, match="inspector I0 already exists"):
            registry.add_inspector(store, "I0", "李四", by="t")
        with pytest.raises(registry.RegistryError, match="unknown inspectors I9"):
            registry.add_group(store, "G0", "一组", ["I0", "I9"], by="t")
        registry.set_inspector_active(store, "I0", False, by="t")
        with pytest.raises(registry.RegistryError, match="inactive inspectors I0"):
            registry.add_group(store, "G0", "一组", ["I0"], by="t")
        with pytest.raises(registry.RegistryError, match="reason"):
            registry.add_conflict(store, "I0", "H1", " ", by="t")
        assert store.query("SELECT count(*) FROM inspection_group")[0][0] == 0
        assert not store.query("SELECT * FROM inspection_group_member")


def test_a_round_takes_the_riskiest_complaints_and_a_random_draw(staffed: Path) -> None:
    ranking = institution_ranking(open_run(staffed), Lake(staffed / "lake"))
    top = ranking.filter(pl.col("n_findings") > 0).head(4)["fixmedins_code"].to_list()
    complained = ranking["fixmedins_code"][-1]
    with open_store(staffed) as store:
        rnd = plan_round(
            store,
            staffed,
            name="2025年第一轮",
            top=4,
            n_random=3,
            by="王科长",
            seed=20250101,
            complaints=parse_complaints(f"{complained}:TS2025-007,{top[0]}:TS2025-008"),
        )
        audit = store.audit_log(str(rnd.round_id))
    t = rnd.targets
    assert t["fixmedins_code"].head(4).to_list() == top
    assert t["source"].to_list() == ["risk"] * 4 + ["complaint"] + ["random"] * 3
    assert t.filter(pl.col("source") == "complaint")["source_ref"].to_list() == ["TS2025-007"]
    assert t["source_ref"][0] == "TS2025-008"  # a complaint about a risk target is kept on it
    assert t["fixmedins_code"].n_unique() == 8
    assert rnd.kinds == {"risk": 4, "random": 3, "complaint": 1}
    assert rnd.seed == 20250101
    assert t.filter(pl.col("source") == "random")["reasons"].str.starts_with("随机抽查").all()
    expected = ranking.select("fixmedins_code", "amount_at_risk")
    joined = t.join(expected, on="fixmedins_code", suffix="_ranking")
    assert (joined["amount_at_risk"] - joined["amount_at_risk_ranking"]).abs().max() < 0.005
    assert t["zone_name"].null_count() == 0
    assert audit["action"].to_list() == ["round.plan"]
    row = t.filter(pl.col("fixmedins_code") == CONFLICTED)
    assert row.is_empty() or row["group_code"][0] != "G0"  # I0 of G0 is conflicted


def test_consecutive_rounds_rotate_groups_across_zones(staffed: Path) -> None:
    with open_store(staffed) as store:
        first = plan_round(store, staffed, name="一", top=5, n_random=0, by="t", seed=1)
        # rotation may send a whole zone's leads to one group: room for them (capacity)
        second = plan_round(
            store, staffed, name="二", top=5, n_random=4, by="t", seed=2, capacity=5
        )
        inputs = store.query(
            "SELECT inputs FROM inspection_draw WHERE round_id = ?", (second.round_id,)
        )[0][0]
    assert json.loads(inputs)["previous_round"] == first.round_id
    before = {(g, z) for g, z in first.targets.select("group_code", "admdvs").iter_rows()}
    after = {(g, z) for g, z in second.targets.select("group_code", "admdvs").iter_rows()}
    assert not before & after


def test_a_group_formed_for_one_round_rotates_by_its_members(staffed: Path) -> None:
    with open_store(staffed) as store:
        first = plan_round(store, staffed, name="一", top=5, n_random=0, by="t", seed=1)
        registry.add_inspector(store, "I9", "新人", by="t")
        registry.add_group(store, "N1", "临时组", ["I0", "I9"], by="t", round_name="二")
        groups = ["N1", "G1", "G2"]
        second = plan_round(
            store, staffed, name="二", top=5, n_random=4, by="t", seed=2, groups=groups, capacity=5
        )
        with pytest.raises(RoundError, match="groups N1 do not exist"):
            plan_round(store, staffed, name="三", top=1, n_random=0, by="t", groups=["N1"])
    was_g0 = set(first.targets.filter(pl.col("group_code") == "G0")["admdvs"])
    now_n1 = set(second.targets.filter(pl.col("group_code") == "N1")["admdvs"])
    assert now_n1 and not was_g0 & now_n1  # I0 was in G0


def test_a_cancelled_round_does_not_count_for_rotation(staffed: Path) -> None:
    with open_store(staffed) as store:
        first = plan_round(store, staffed, name="一", top=5, n_random=0, by="t", seed=1)
        second = plan_round(
            store, staffed, name="二", top=5, n_random=4, by="t", seed=2, capacity=5
        )
        set_status(store, second.round_id, "cancelled", by="t", reason="人员调整")
        with pytest.raises(RoundError, match="is cancelled: it can move to none, not closed"):
            set_status(store, second.round_id, "closed", by="t", reason="x")
        set_status(store, first.round_id, "in_progress", by="t", reason="出发")
        with pytest.raises(RoundError, match="needs a reason"):
            set_status(store, first.round_id, "closed", by="t", reason=" ")
        third = plan_round(store, staffed, name="三", top=1, n_random=0, by="t", seed=3)
        inputs = store.query(
            "SELECT inputs FROM inspection_draw WHERE round_id = ?", (third.round_id,)
        )[0][0]
        statuses = store.query("SELECT status FROM inspection_round ORDER BY round_id")
    assert json.loads(inputs)["previous_round"] == first.round_id
    assert statuses == [("in_progress",), ("cancelled",), ("planned",)]


def test_the_draw_reproduces_from_the_store_alone(staffed: Path) -> None:
    with open_store(staffed) as store:
        rnd = plan_round(store, staffed, name="审计", top=3, n_random=5, by="t")
        result = reproduce(store, rnd.round_id)
        assert result.ok, result.problems
        assert result.seed == rnd.seed
        with pytest.raises(sqlite3.IntegrityError, match="kept as drawn"):
            store.query("UPDATE round_target SET group_code = 'G1'")
        with pytest.raises(sqlite3.IntegrityError, match="kept as drawn"):
            store.query("DELETE FROM inspection_draw")
    # someone with raw access to the file changes who visits whom: reproduce says so
    con = sqlite3.connect(staffed / "cases.sqlite")
    con.execute("DROP TRIGGER round_target_no_update")
    first = rnd.targets.row(0, named=True)
    other = next(g for g in ("G0", "G1", "G2") if g != first["group_code"])
    con.execute(
        "UPDATE round_target SET group_code = ? WHERE fixmedins_code = ?",
        (other, first["fixmedins_code"]),
    )
    con.commit()
    con.close()
    with open_store(staffed) as store:
        tampered = reproduce(store, rnd.round_id)
    assert tampered.problems == ("the round's targets differ from its stored draw",)


def test_a_round_that_cannot_be_staffed_is_refused_whole(ws: Path) -> None:
    with open_store(ws) as store:
        staff(store, Lake(ws / "lake"), groups=1)
        with pytest.raises(DrawError, match=f"no group may visit {CONFLICTED} .*I0 is conflicted"):
            plan_round(store, ws, name="一", top=3, n_random=0, by="t", seed=1)
        with pytest.raises(RoundError, match="groups G7 do not exist"):
            plan_round(store, ws, name="一", top=3, n_random=0, by="t", groups=["G7"])
        assert store.query("SELECT count(*) FROM inspection_round")[0][0] == 0
        assert store.query("SELECT count(*) FROM round_target")[0][0] == 0
        with pytest.raises(RoundError, match="no inspection round 1"):
            load_round(store, 1)


def test_a_round_needs_zones_and_a_new_name(ws: Path) -> None:
    with open_store(ws) as store:
        with pytest.raises(RoundError, match="rounds zones sync"):
            plan_round(store, ws, name="一", top=1, n_random=0, by="t")
        staff(store, Lake(ws / "lake"))
        plan_round(store, ws, name="一", top=1, n_random=0, by="t", seed=3)
        with pytest.raises(RoundError, match="a round named '一' already exists"):
            plan_round(store, ws, name="一", top=1, n_random=0, by="t")


def test_parse_complaints() -> None:
    assert parse_complaints(" H1:TS-1, H2 ,,", default_ref="complaint") == [
        ("H1", "TS-1"),
        ("H2", "complaint"),
    ]


def test_a_round_planned_meanwhile_by_another_process_is_not_overlooked(
    staffed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotation reads the previous round when the inputs are gathered; if another process
    records a round before this one is written, this one is refused, not misrotated."""
    from hrss_fraud.inspection import rounds as rounds_mod

    real_draw = rounds_mod.draw

    def draw_while_another_plans(*args: object) -> object:
        monkeypatch.setattr(rounds_mod, "draw", real_draw)
        with open_store(staffed) as other:
            plan_round(other, staffed, name="别处", top=1, n_random=0, by="other", seed=5)
        return real_draw(*args)

    monkeypatch.setattr(rounds_mod, "draw", draw_while_another_plans)
    with open_store(staffed) as store:
        with pytest.raises(RoundError, match="another round was planned meanwhile"):
            plan_round(store, staffed, name="这里", top=2, n_random=1, by="t", seed=6)
        assert store.query("SELECT name FROM inspection_round") == [("别处",)]
