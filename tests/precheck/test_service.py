"""The check service over the tiny county with the real checker: keys, institutions, size
and message checks refuse what they should (and log it); a 3101/3102 answer holds the
checker's hits on the lake's own visit; 3103 feedback is kept against its warnings."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers.check_service import (
    ADMIN,
    hit_visit,
    plain_message,
    platform_message,
    service_workspace,
    tiny_lake,
)

from hrss_fraud.cases import open_store
from hrss_fraud.precheck.keys import add_key, revoke_keys
from hrss_fraud.precheck.mapping import HISTORY_CONTENT
from hrss_fraud.precheck.service import CheckService, ServiceSettings, create_app
from hrss_fraud.precheck.visit import CheckHit, Visit

pytestmark = pytest.mark.slow

LIMIT = 64 * 1024


class Service:
    """The running app, its workspace, a key per institution, and a visit with hits."""

    def __init__(self, ws: Path, client: TestClient) -> None:
        self.ws = ws
        self.client = client
        self.keys: dict[str, str] = {}
        self.state: CheckService = client.app.state.service  # type: ignore[attr-defined]

    def key(self, code: str) -> str:
        if code not in self.keys:
            with open_store(self.ws) as store:
                self.keys[code] = add_key(store, code, by=ADMIN).key
        return self.keys[code]

    def post(self, path: str, body: Any, code: str | None = None, **kw: Any) -> Any:
        key = self.key(code) if code else None
        headers = {"X-API-Key": key} if key else {}
        return self.client.post(path, json=body, headers=headers, **kw)

    def calls(self) -> list[tuple]:
        self.state.calls.flush()
        with open_store(self.ws) as store:
            return store.query(
                "SELECT infno, fixmedins_code, status, verdict, n_hits, mdtrt_id, psn_no "
                "FROM check_call ORDER BY at"
            )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, tiny_county: Path) -> Iterator[Service]:
    ws = service_workspace(
        tiny_lake(tmp_path_factory, tiny_county), tmp_path_factory.mktemp("check") / "ws"
    )
    settings = ServiceSettings(max_body_bytes=LIMIT)
    with TestClient(create_app(ws, settings)) as client:
        yield Service(ws, client)


Hit = tuple[Visit, list[CheckHit]]


@pytest.fixture(scope="module")
def hit(service: Service) -> Hit:
    """A visit of the lake the checker finds hits on, and those hits."""
    return hit_visit(service.state.checker, 60)  # type: ignore[arg-type]


def test_health(service: Service) -> None:
    body = service.client.get("/health").json()
    assert body["status"] == "ok" and body["rules"] > 0


def test_3102_answers_the_checkers_hits(service: Service, hit: Hit) -> None:
    visit, hits = hit
    msg = platform_message(visit, "3102")
    r = service.post("/fsi", msg, msg["fixmedins_code"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["infcode"] == 0
    result = out["output"]["result"]
    assert [(x["rule_id"], x["vola_amt"]) for x in result] == [
        (h.rule_id, round(h.amount, 2)) for h in hits
    ]
    patient = msg["input"]["data"]["patient_dtos"][0]
    sent = {o["rx_id"] for o in patient["fsi_encounter_dtos"][0]["fsi_order_dtos"]}
    for x, h in zip(result, hits, strict=True):
        assert x["patn_id"] == patient["patn_id"]
        this = [visit.fixmedins_code, visit.mdtrt_id]
        elsewhere = any("|" in k and k.split("|")[:2] != this for k in h.involved)
        said = HISTORY_CONTENT.format(rule=h.rule_name) if elsewhere else h.content
        assert x["vola_cont"] == said  # another visit's details are not passed on
        rx = {d["rx_id"] for d in x["judge_result_detail_dtos"]}
        assert rx <= sent  # only lines the caller sent
        violating = [d for d in x["judge_result_detail_dtos"] if d["vola_item_type"] == "1"]
        if violating:
            assert sum(d["vola_amt"] for d in violating) == pytest.approx(x["vola_amt"])
    blocking = any(h.severity in ("definite", "high") for h in hits)
    assert out["output"]["verdict"] == ("block" if blocking else "warn")
    call = service.calls()[-1]
    assert call[:5] == ("3102", msg["fixmedins_code"], 200, out["output"]["verdict"], len(hits))
    assert call[5:] == (patient["fsi_encounter_dtos"][0]["mdtrt_id"], patient["patn_id"])


def test_3101_only_reminds_and_filters_rule_ids(service: Service, hit: Hit) -> None:
    visit, hits = hit
    msg = platform_message(visit, "3101")
    msg["input"]["data"]["rule_ids"] = [hits[0].rule_id]
    r = service.post("/fsi/3101", msg, msg["fixmedins_code"])
    out = r.json()["output"]
    assert out["verdict"] == "warn"  # 3101 never blocks
    assert {x["rule_id"] for x in out["result"]} == {hits[0].rule_id}


def test_variant_field_names_give_the_same_answer(service: Service, hit: Hit) -> None:
    visit, hits = hit
    msg = platform_message(visit, "3101")
    patient = msg["input"]["data"].pop("patient_dtos")[0]
    encounter = patient.pop("fsi_encounter_dtos")[0]
    encounter["orderDtos"] = encounter.pop("fsi_order_dtos")
    encounter["diagnose_dtos"] = encounter.pop("fsi_diagnose_dtos")
    encounter["fixmedins_code"] = encounter.pop("medins_id")
    patient["encounterDtos"] = encounter  # one object, not a list
    msg["input"] = {**msg["input"].pop("data"), "patientDtos": patient}  # no "data" level
    r = service.post("/fsi", msg, msg["fixmedins_code"])
    assert r.status_code == 200, r.text
    assert [x["rule_id"] for x in r.json()["output"]["result"]] == [h.rule_id for h in hits]


def test_3103_feedback_is_kept_against_its_warnings(service: Service, hit: Hit) -> None:
    visit, _ = hit
    msg = platform_message(visit, "3101")
    code = msg["fixmedins_code"]
    result = service.post("/fsi", msg, code).json()["output"]["result"]
    warns = [
        {"warn_rslt_id": x["jr_id"], "dspo_way": "1", "dspo_way_rea": "病情需要"} for x in result
    ]
    warns[0]["dspo_way"] = "2"
    feedback = {
        "infno": "3103",
        "fixmedins_code": code,
        "input": {"data": {"warn_type": "1", "warns": warns}},
    }
    r = service.post("/fsi/3103", feedback, code)
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"recorded": len(warns)}
    with open_store(service.ws) as store:
        kept = store.query(
            "SELECT f.warn_rslt_id, f.rule_id, f.dspo_way, f.reason, c.infno "
            "FROM check_feedback f JOIN check_call c ON c.id = f.call_id "
            "ORDER BY f.feedback_id DESC LIMIT ?",
            (len(warns),),
        )
    assert sorted(kept) == sorted(
        (x["jr_id"], x["rule_id"], w["dspo_way"], w["dspo_way_rea"], "3103")
        for x, w in zip(result, warns, strict=True)
    )


def test_feedback_on_unknown_or_anothers_warnings(service: Service, hit: Hit) -> None:
    visit, _ = hit
    msg = platform_message(visit, "3101")
    code = msg["fixmedins_code"]
    jr_id = service.post("/fsi", msg, code).json()["output"]["result"][0]["jr_id"]
    for who, warn in (("H-OTHER", jr_id), (code, "no-such-warning")):
        body = {"fixmedins_code": who, "warns": [{"warn_rslt_id": warn, "dspo_way": "changed"}]}
        r = service.post("/feedback", body, who)
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert error["field"] == "warns[0].warn_rslt_id"
        assert error["reason"].startswith("未知的提醒结果ID")
    body = {"fixmedins_code": code, "warns": [{"warn_rslt_id": jr_id, "dspo_way": "changed"}]}
    assert service.post("/feedback", body, code).json()["recorded"] == 1


def test_wrong_missing_and_revoked_keys_are_401(service: Service, hit: Hit) -> None:
    msg = platform_message(hit[0], "3101")
    code = msg["fixmedins_code"]
    good = service.key(code)
    before = len(service.calls())
    assert service.client.post("/fsi", json=msg).status_code == 401
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for key in (forged, "hfk_000000000000." + "x" * 43, "nonsense"):
        r = service.client.post("/fsi", json=msg, headers={"X-API-Key": key})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert "API key" in r.json()["err_msg"]
    bearer = {"Authorization": f"Bearer {good}"}
    assert service.client.post("/fsi", json=msg, headers=bearer).status_code == 200
    with open_store(service.ws) as store:
        revoke_keys(store, code, by=ADMIN)
    del service.keys[code]
    assert service.client.post("/fsi", json=msg, headers=bearer).status_code == 401
    assert service.post("/fsi", msg, code).status_code == 200  # a new key
    statuses = [c[2] for c in service.calls()[before:]]
    assert statuses == [401, 401, 401, 401, 200, 401, 200]


def test_another_institutions_visit_is_403(service: Service, hit: Hit) -> None:
    msg = platform_message(hit[0], "3101")
    code = msg["fixmedins_code"]
    r = service.post("/fsi", msg, "H-OTHER")  # the envelope names the visit's institution
    assert r.status_code == 403
    assert r.json()["err_msg"].startswith("只能审核本机构的就诊")
    posing = copy.deepcopy(msg)
    posing["fixmedins_code"] = "H-OTHER"  # the envelope lies, the visit does not
    r = service.post("/fsi", posing, "H-OTHER")
    assert r.status_code == 403 and code not in r.text
    assert service.calls()[-1][1:3] == ("H-OTHER", 403)


def test_oversize_is_413(service: Service) -> None:
    big = {"infno": "3101", "fixmedins_code": "H001", "input": {"pad": "x" * LIMIT}}
    r = service.post("/fsi", big, "H001")
    assert r.status_code == 413
    assert "at most 65536 bytes" in r.json()["err_msg"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(LIMIT // 1024 + 1):
            yield b" " * 1024

    key = service.key("H001")
    r = service.client.post("/fsi", content=chunks(), headers={"X-API-Key": key})
    assert r.status_code == 413


def test_malformed_messages_are_422_with_field_and_reason(service: Service) -> None:
    key = {"X-API-Key": service.key("H001")}
    r = service.client.post("/fsi", content=b"{not json", headers=key)
    assert r.status_code == 422
    assert r.json()["errors"][0]["reason_en"].startswith("not valid UTF-8 JSON")
    missing = {"infno": "3101", "fixmedins_code": "H001", "input": {"data": {"trig_scen": "1"}}}
    r = service.client.post("/fsi", json=missing, headers=key)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "input.data.patient_dtos",
            "reason": "缺少必填字段",
            "reason_en": "required field missing",
        }
    ]
    wrong = {"infno": "3101", "fixmedins_code": "H001", "input": {"data": {
        "trig_scen": "1",
        "patient_dtos": [{"patn_id": "P9", "fsi_encounter_dtos": [{
            "mdtrt_id": "M9", "adm_date": "2026-03-01", "med_type": "11",
            "fsi_order_dtos": [{"rx_id": "1", "hilist_code": "X", "cnt": [1], "pric": "1",
                                "drord_begn_date": "2026-03-01"}],
        }]}],
    }}}  # fmt: skip
    r = service.client.post("/fsi", json=wrong, headers=key)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (
        error["field"] == "input.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0].cnt"
    )
    assert error["reason"] == "应为数字"
    r = service.client.post("/fsi/3102", json={**missing, "infno": "3101"}, headers=key)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "infno"
    assert "P9" not in r.text


def test_plain_check_in_upload_names(service: Service, hit: Hit) -> None:
    visit, hits = hit
    r = service.post("/check", plain_message(visit, "settlement"), visit.fixmedins_code)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(h["rule_id"], h["severity"], h["amount"]) for h in out["hits"]] == [
        (h.rule_id, h.severity, round(h.amount, 2)) for h in hits
    ]
    assert out["verdict"] in ("warn", "block")
    assert service.calls()[-1][0] == "3102"
