"""The check service's gate: what every request passes before a rule runs — its size, its
key, its JSON, its institution — and the state of a call kept for its log row whatever
becomes of it. Each refusal is a :class:`Refused` with its HTTP status and a one-line
reason in Chinese and English."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from hrss_fraud.precheck.calllog import CallRecord, HitRecord
from hrss_fraud.precheck.mapping import VisitCall
from hrss_fraud.precheck.messages import MessageError, Problem


class Refused(Exception):
    """A request answered with an error: HTTP status, one line (Chinese; English), fields."""

    def __init__(self, status: int, zh: str, en: str, problems: Sequence[Problem] = ()) -> None:
        self.status, self.zh, self.en, self.problems = status, zh, en, list(problems)
        super().__init__(en)


def malformed(e: MessageError) -> Refused:
    """A message that could not be read: 422 with each problem."""
    return Refused(422, "报文格式错误", "malformed message", e.problems)


@dataclass
class CallState:
    """What is known of a call so far, for its log row whatever becomes of it."""

    id: str
    at: str
    infno: str
    started: float
    fixmedins_code: str | None = None
    key_id: str | None = None
    trig_scen: str | None = None
    visits: list[VisitCall] = field(default_factory=list)
    verdict: str | None = None
    hits: list[HitRecord] = field(default_factory=list)
    logged: bool = False
    """Written already (feedback writes its call with its rows)."""

    def record(self, status: int) -> CallRecord:
        return CallRecord(
            id=self.id,
            at=self.at,
            infno=self.infno,
            status=status,
            ms=(time.perf_counter() - self.started) * 1000,
            fixmedins_code=self.fixmedins_code,
            key_id=self.key_id,
            trig_scen=self.trig_scen,
            mdtrt_ids=tuple(dict.fromkeys(v.mdtrt_id for v in self.visits)),
            psn_nos=tuple(dict.fromkeys(v.patn_id for v in self.visits)),
            n_lines=sum(v.n_lines for v in self.visits),
            verdict=self.verdict,
            hits=tuple(self.hits),
        )


def presented_key(request: Request) -> str | None:
    """The key sent as ``X-API-Key`` or ``Authorization: Bearer``."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or 413 once it is known to exceed ``limit`` bytes: by its declared length
    before reading, or counted as it streams in (a chunked body declares none)."""
    too_big = Refused(
        413,
        f"报文过大，上限 {limit} 字节",
        f"request body too large: at most {limit} bytes",
    )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The body as JSON, or 422 saying where it stops being JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        at = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
        problem = Problem("(message)", "不是有效的UTF-8 JSON", f"not valid UTF-8 JSON{at}")
        raise Refused(422, "报文格式错误", "malformed message", [problem]) from None


def own(call: CallState, code: str, path: str) -> None:
    """403 unless ``code`` (at ``path`` in the message) is the key's institution."""
    if code != call.fixmedins_code:
        raise Refused(
            403,
            "只能审核本机构的就诊",
            f"this key checks only institution {call.fixmedins_code}'s visits ({path})",
        )
