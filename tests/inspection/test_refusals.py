"""Every refusal a dashboard user can cause carries a message key and its fields (so the
page says it in Chinese or English, fields by their labels), and keeps the English
one-line message the command line prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrss_fraud.cases import open_store
from hrss_fraud.inspection import registry
from hrss_fraud.inspection.draw import DrawError
from hrss_fraud.inspection.refusal import Refusal
from hrss_fraud.inspection.rounds import RoundError, plan_round, set_status
from hrss_fraud.lake import Lake


def _refused(exc: pytest.ExceptionInfo[Refusal]) -> tuple[str | None, dict[str, object]]:
    return exc.value.key, exc.value.fields


def test_registry_refusals_name_the_field_and_the_codes(ws: Path) -> None:
    with open_store(ws) as store:
        with pytest.raises(registry.RegistryError, match="inspector code is empty") as e:
            registry.add_inspector(store, " ", "张三", by="t")
        assert _refused(e) == ("required", {"field": "inspector_code"})
        with pytest.raises(registry.RegistryError) as e:
            registry.add_inspector(store, "I0", "", by="t")
        assert _refused(e) == ("required", {"field": "inspector_name"})
        registry.add_inspector(store, "I0", "张三", by="t")
        with pytest.raises(registry.RegistryError, match="already exists") as e:
            registry.add_inspector(store, "I0", "李四", by="t")
        assert _refused(e) == ("inspector_exists", {"code": "I0"})
        with pytest.raises(registry.RegistryError) as e:
            registry.add_group(store, "G0", "一组", [], by="t")
        assert _refused(e) == ("required", {"field": "members"})
        with pytest.raises(registry.RegistryError, match="unknown inspectors I9") as e:
            registry.add_group(store, "G0", "一组", ["I0", "I9"], by="t")
        assert _refused(e) == ("unknown_inspectors", {"code": "G0", "codes": "I9"})
        with pytest.raises(registry.RegistryError) as e:
            registry.set_inspector_active(store, "I7", False, by="t")
        assert _refused(e) == ("no_inspector", {"code": "I7"})
        with pytest.raises(registry.RegistryError) as e:
            registry.add_conflict(store, "I0", "H1", " ", by="t")
        assert _refused(e) == ("required", {"field": "conflict_reason"})
        registry.add_conflict(store, "I0", "H1", "亲属", by="t")
        with pytest.raises(registry.RegistryError) as e:
            registry.add_conflict(store, "I0", "H1", "亲属", by="t")
        assert _refused(e) == ("conflict_exists", {"code": "I0", "institution": "H1"})


def test_round_refusals_say_what_is_missing_without_a_command_in_the_key(ws: Path) -> None:
    with open_store(ws) as store:
        with pytest.raises(RoundError, match="rounds zones sync") as e:
            plan_round(store, ws, name="一", top=1, n_random=0, by="t")
        assert _refused(e) == ("no_zones", {})
        with pytest.raises(RoundError) as e:
            plan_round(store, ws, name=" ", top=1, n_random=0, by="t")
        assert _refused(e) == ("required", {"field": "round_name"})
        registry.sync_zones(store, Lake(ws / "lake"), by="t")
        with pytest.raises(DrawError, match="rounds groups add") as e:
            plan_round(store, ws, name="一", top=1, n_random=0, by="t")
        assert _refused(e) == ("no_groups", {})
        with pytest.raises(DrawError) as e:
            plan_round(store, ws, name="一", top=0, n_random=0, by="t")
        assert _refused(e) == ("no_targets", {})
        with pytest.raises(DrawError) as e:
            plan_round(store, ws, name="一", top=1000, n_random=0, by="t")
        key, fields = _refused(e)
        assert key == "top_too_many" and fields["top"] == 1000 and fields["n"] < 1000
        with pytest.raises(RoundError) as e:
            set_status(store, 9, "closed", by="t", reason="x")
        assert _refused(e) == ("no_round", {"round_id": 9})


def test_a_refusal_is_still_a_value_error_with_its_english_message() -> None:
    err = RoundError("no zones yet", "no_zones")
    assert isinstance(err, ValueError) and str(err) == "no zones yet"
    assert Refusal("plain").key is None
