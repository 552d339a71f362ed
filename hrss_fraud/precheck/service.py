"""The check service (``hrss-fraud serve-check``): a hospital's system sends one visit and
gets the rules it breaks before the money leaves — the platform's 3101 (事前, ordering),
3102 (事中, settlement) and 3103 (feedback), and a plain JSON form in the uploads' names.

Every request goes through the same gate, in this order: body size (413), API key (401),
JSON and envelope (422), the envelope's institution is the key's (403), the message
(422, each field by path, Chinese and English), each visit's institution is the key's
(403); then the checker, then the verdict (:func:`verdict`). Every call is logged,
refused or answered (:mod:`hrss_fraud.precheck.calllog`). docs/check_service.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hrss_fraud.cases.store import timestamp
from hrss_fraud.engine.workspace import Workspace
from hrss_fraud.precheck.calllog import (
    CallLog,
    FeedbackItem,
    HitRecord,
    UnknownWarnings,
)
from hrss_fraud.precheck.checker import Checker
from hrss_fraud.precheck.gate import (
    CallState,
    Refused,
    malformed,
    own,
    parse_json,
    presented_key,
    read_body,
)
from hrss_fraud.precheck.keys import KeyRing
from hrss_fraud.precheck.mapping import (
    VisitCall,
    analysis_visits,
    new_warn_id,
    plain_hit,
    plain_visits,
    result_item,
)
from hrss_fraud.precheck.messages import (
    SCENES,
    AnalysisInput,
    Envelope,
    FeedbackInput,
    MessageError,
    PlainCheck,
    PlainFeedback,
    Problem,
    read,
)
from hrss_fraud.precheck.visit import CheckHit, Visit

log = logging.getLogger("hrss_fraud.precheck")

INFNOS = ("3101", "3102", "3103")
VERDICTS = {"pass": ("通过", "pass"), "warn": ("提醒", "warn"), "block": ("拦截", "block")}
SETTINGS_ENV = "HRSS_CHECK_SETTINGS"
"""The settings as JSON, for the worker processes ``--workers`` starts (they import the
app by name and cannot be handed objects)."""


@dataclass(frozen=True)
class ServiceSettings:
    """What an operator may set. The verdict policy: a call answers ``block`` when it is one
    of ``block_infnos`` (default 3102, at settlement) and any hit's severity is one of
    ``block_severities`` (default the two highest, 明确违规 and 高度可疑); any other hit is
    ``warn``; no hit is ``pass``. 3101 only ever reminds."""

    max_body_bytes: int = 1 << 20
    block_infnos: tuple[str, ...] = ("3102",)
    block_severities: tuple[str, ...] = ("definite", "high")
    refresh_seconds: float = 60.0
    """How often the service looks whether the lake has new batches (a nightly or an
    ingest committed), and if so has the checker load the new snapshot."""
    check_threads: int = 2
    """Threads checking at once per worker; each keeps its own DuckDB over the history."""
    feedback_timeout: float = 30.0
    history_content: bool = False
    """Answer a hit resting on the person's other visits with its own content, which names
    them (another hospital, its dates); off: a sentence saying such a record exists."""

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str | None) -> ServiceSettings:
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


class Checking(Protocol):
    """What the service needs of a checker (:class:`hrss_fraud.precheck.checker.Checker`)."""

    rules: Sequence[object]

    def check(self, visit: Visit) -> list[CheckHit]: ...

    def refresh(self) -> object: ...


def verdict(infno: str, hits: Sequence[CheckHit], settings: ServiceSettings) -> str:
    """``pass``, ``warn`` or ``block`` for a call's hits (:class:`ServiceSettings`)."""
    if not hits:
        return "pass"
    if infno in settings.block_infnos and any(
        h.severity in settings.block_severities for h in hits
    ):
        return "block"
    return "warn"


class CheckService:
    """The app's state: settings, checker, keys and call log (one per worker process)."""

    def __init__(
        self,
        workspace: Path,
        settings: ServiceSettings,
        checker_factory: Callable[[], Checking],
    ) -> None:
        self.workspace = workspace
        self.settings = settings
        self._factory = checker_factory
        self.checker: Checking | None = None
        self.keys: KeyRing | None = None
        self.calls = CallLog(workspace)
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self.refreshed = threading.Event()
        """Set each time the checker has loaded a newer snapshot of the lake."""
        self._pool = ThreadPoolExecutor(settings.check_threads, thread_name_prefix="check")

    def start(self) -> None:
        self.calls.start()  # migrates the store first, so the key ring finds its table
        self.keys = KeyRing(self.workspace)
        self._lake_state = self._lake_batches()
        self.checker = self._factory()
        self._refresher = threading.Thread(target=self._refresh, name="check-refresh", daemon=True)
        self._refresher.start()

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)
        self.calls.close()
        if self.keys is not None:
            self.keys.close()

    def _lake_batches(self) -> tuple[str, ...]:
        return tuple(b.batch_id for b in Workspace.of(self.workspace).lake.batches())

    def _refresh(self) -> None:
        """Have the checker load the lake's new batches once they are committed; checks go
        on against the old snapshot meanwhile (the checker swaps, never closes a reader
        mid-check), so the service stays up while the lake is written."""
        while not self._stop.wait(self.settings.refresh_seconds):
            try:
                state = self._lake_batches()
                if state != self._lake_state and self.checker is not None:
                    self.checker.refresh()
                    self._lake_state = state
                    self.refreshed.set()
            except Exception:
                log.exception("check service: refreshing the checker failed; the old one serves")

    # --- the gate -------------------------------------------------------------------------

    async def handle(self, request: Request, infno: str | None, form: str) -> JSONResponse:
        call = CallState(uuid.uuid4().hex, timestamp(), infno or form, time.perf_counter())
        status = 200
        try:
            answer = await self._answer(request, call, form)
        except Refused as r:
            status, answer = r.status, self._refusal(r, call)
        except Exception:
            log.exception("check service: call %s failed", call.id)
            status = 500
            answer = self._refusal(
                Refused(500, "服务内部错误，已记录日志", "internal error, logged"), call
            )
        if not call.logged:
            self.calls.log(call.record(status))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(answer, status_code=status, headers=headers)

    @staticmethod
    def _refusal(r: Refused, call: CallState) -> dict[str, Any]:
        return {
            "infcode": -1,
            "err_msg": f"{r.zh}；{r.en}",
            "errors": [p.as_dict() for p in r.problems],
            "call_id": call.id,
        }

    async def _answer(self, request: Request, call: CallState, form: str) -> dict[str, Any]:
        declared_or_read = await read_body(request, self.settings.max_body_bytes)
        assert self.keys is not None
        found = self.keys.institution(presented_key(request))
        if found is None:
            raise Refused(
                401,
                "缺少或无效的接口密钥",
                "missing, unknown or revoked API key (X-API-Key or Authorization: Bearer)",
            )
        call.key_id, call.fixmedins_code = found
        payload = parse_json(declared_or_read)
        if form == "check":
            return await self._plain_check(call, payload)
        if form == "feedback":
            return await self._plain_feedback(call, payload)
        return await self._platform(call, payload)

    async def _platform(self, call: CallState, payload: Any) -> dict[str, Any]:
        if isinstance(payload, dict) and "infno" not in payload and call.infno in INFNOS:
            payload = {**payload, "infno": call.infno}
        try:
            envelope = read(Envelope, payload)
        except MessageError as e:
            raise malformed(e) from None
        if call.infno in INFNOS and envelope.infno != call.infno:
            problem = Problem("infno", f"应为 {call.infno}", f"should be {call.infno} on this path")
            raise Refused(422, "报文格式错误", "malformed message", [problem])
        if envelope.infno not in INFNOS:
            problem = Problem("infno", "不支持的交易编号", f"not one of {', '.join(INFNOS)}")
            raise Refused(422, "报文格式错误", "malformed message", [problem])
        call.infno = envelope.infno
        own(call, envelope.fixmedins_code, "fixmedins_code")
        prefix = ("input", "data") if isinstance(envelope.input.get("data"), dict) else ("input",)
        if envelope.infno == "3103":
            try:
                data = read(FeedbackInput, envelope.data(), prefix)
            except MessageError as e:
                raise malformed(e) from None
            items = [FeedbackItem(w.warn_rslt_id, w.dspo_way, w.dspo_way_rea) for w in data.warns]
            n = await self._feedback(call, data.warn_type, items, prefix)
            return self._envelope(call, {"recorded": n})
        try:
            analysis = read(AnalysisInput, envelope.data(), prefix)
            call.trig_scen = analysis.trig_scen
            call.visits = analysis_visits(analysis, envelope.fixmedins_code)
        except MessageError as e:
            raise malformed(e) from None
        hits = await self._check(call, analysis.rule_ids)
        task_id = analysis.task_id or call.id
        history = self.settings.history_content
        result = [result_item(h, v, w, task_id, history=history) for v, h, w in hits]
        v = call.verdict or "pass"
        return self._envelope(call, {"result": result, "verdict": v, "verdict_zh": VERDICTS[v][0]})

    @staticmethod
    def _envelope(call: CallState, output: dict[str, Any]) -> dict[str, Any]:
        return {
            "infcode": 0,
            "inf_refmsgid": call.id,
            "respond_time": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "err_msg": None,
            "output": output,
        }

    async def _plain_check(self, call: CallState, payload: Any) -> dict[str, Any]:
        try:
            data = read(PlainCheck, payload)
            own(call, data.fixmedins_code, "fixmedins_code")
            call.infno = SCENES[data.scene]
            call.trig_scen = data.scene
            call.visits = plain_visits(data)
        except MessageError as e:
            raise malformed(e) from None
        hits = await self._check(call, data.rule_ids)
        v = call.verdict or "pass"
        return {
            "call_id": call.id,
            "verdict": v,
            "verdict_zh": VERDICTS[v][0],
            "hits": [
                plain_hit(h, visit, w, history=self.settings.history_content)
                for visit, h, w in hits
            ],
        }

    async def _plain_feedback(self, call: CallState, payload: Any) -> dict[str, Any]:
        try:
            data = read(PlainFeedback, payload)
        except MessageError as e:
            raise malformed(e) from None
        own(call, data.fixmedins_code, "fixmedins_code")
        warns = [w.as_warn() for w in data.warns]
        items = [FeedbackItem(w.warn_rslt_id, w.dspo_way, w.dspo_way_rea) for w in warns]
        warn_type = None if data.scene is None else {"order": "1", "settlement": "2"}[data.scene]
        n = await self._feedback(call, warn_type, items, ())
        return {"call_id": call.id, "recorded": n}

    async def _feedback(
        self,
        call: CallState,
        warn_type: str | None,
        items: list[FeedbackItem],
        prefix: tuple[str, ...],
    ) -> int:
        try:
            n = await run_in_threadpool(
                self.calls.feedback,
                call.record(200),
                warn_type,
                items,
                self.settings.feedback_timeout,
            )
        except UnknownWarnings as e:
            positions = [i for i, item in enumerate(items) if item.warn_rslt_id in e.ids]
            problems = [
                Problem(
                    f"{'.'.join((*prefix, 'warns'))}[{i}].warn_rslt_id",
                    "未知的提醒结果ID（本机构未收到过该提醒）",
                    "unknown warning: no warning with this id was answered to this institution",
                )
                for i in positions
            ]
            raise Refused(
                422, "反馈的提醒不存在", "feedback on unknown warnings", problems
            ) from None
        call.logged = True
        return n

    async def _check(
        self, call: CallState, rule_ids: Sequence[str]
    ) -> list[tuple[VisitCall, CheckHit, str]]:
        """Every visit checked (their institutions the key's), the hits of ``rule_ids`` only
        when given, each with its new warning id; the call's verdict and hits set."""
        for i, v in enumerate(call.visits):
            own(call, v.fixmedins_code, f"visit {i + 1}, mdtrt_id {v.mdtrt_id}")
        checker = self.checker
        assert checker is not None
        wanted = set(rule_ids)

        def run() -> list[tuple[VisitCall, CheckHit, str]]:
            out = []
            for v in call.visits:
                if v.visit is None:
                    continue
                for hit in checker.check(v.visit):
                    if not wanted or hit.rule_id in wanted:
                        out.append((v, hit, new_warn_id()))
            return out

        hits = await asyncio.get_running_loop().run_in_executor(self._pool, run)
        call.verdict = verdict(call.infno, [h for _, h, _ in hits], self.settings)
        call.hits = [
            HitRecord(w, h.rule_id, h.severity, v.mdtrt_id, round(float(h.amount), 2))
            for v, h, w in hits
        ]
        return hits


def _default_checker(workspace: Path) -> Callable[[], Checking]:
    def make() -> Checking:
        return Checker(workspace)

    return make


def create_app(
    workspace: Path,
    settings: ServiceSettings | None = None,
    *,
    checker_factory: Callable[[], Checking] | None = None,
) -> FastAPI:
    """The check service over ``workspace``; ``checker_factory`` makes the checker at
    start-up (default: the catalogue's claim-level rules on the workspace's lake)."""
    service = CheckService(
        Path(workspace),
        settings or ServiceSettings(),
        checker_factory or _default_checker(Path(workspace)),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.start)
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(
        title="hrss_fraud 事前事中审核 check service",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service

    @app.get("/health")
    async def health() -> dict[str, Any]:
        ready = service.checker is not None
        return {
            "status": "ok" if ready else "starting",
            "rules": len(service.checker.rules) if ready else 0,
        }  # type: ignore[union-attr]

    @app.post("/fsi")
    async def platform(request: Request) -> JSONResponse:
        return await service.handle(request, None, "fsi")

    @app.post("/fsi/{infno}")
    async def platform_one(request: Request, infno: str) -> JSONResponse:
        if infno not in INFNOS:
            return JSONResponse(
                {"infcode": -1, "err_msg": f"未知接口；unknown interface {infno}"}, 404
            )
        return await service.handle(request, infno, "fsi")

    @app.post("/check")
    async def plain_check(request: Request) -> JSONResponse:
        return await service.handle(request, None, "check")

    @app.post("/feedback")
    async def plain_feedback(request: Request) -> JSONResponse:
        return await service.handle(request, "feedback", "feedback")

    return app


def app_from_env() -> FastAPI:
    """The app for uvicorn's worker processes: the workspace from ``$HRSS_FRAUD_HOME``, the
    settings from :data:`SETTINGS_ENV` (both set by ``serve-check``)."""
    workspace = os.environ.get("HRSS_FRAUD_HOME") or "workspace"
    return create_app(Path(workspace), ServiceSettings.from_env(os.environ.get(SETTINGS_ENV)))
