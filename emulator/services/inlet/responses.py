"""The streaming inlet's routes (dcs.adobedc.net/collection/...) and an emulator-only dataset reader.

The inlet is the emulator's hot path: every webhook event of every test and script goes
through it. Its requests are therefore served by `fast_path`, a plain ASGI handler that
RequestGate (emulator/faults.py) calls instead of FastAPI's routing stack, after metrics,
latency and faults have been applied as for any other route. The FastAPI routes below
declare the same paths (for the route table, metrics keys and `/_emulator/routes`) and
serve them through the same `accept()` if a request ever reaches them. What happens to
the events is emulator/ingest.py's, reached through the backend in models.py (Inlet).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
from typing import Any, Mapping
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ...errors import AEPError, service_error
from ...gateway import RequestContext, gateway
from ...ingest import problem
from .._common import now_ms, query_int
from .models import Inlet

router = APIRouter()
log = logging.getLogger("emulator.inlet")

MAX_BODY_BYTES = 1024 * 1024
# The inlet's paths, with or without a trailing slash: group 1 is "batch/" for the batch endpoint.
INLET_PATH = re.compile(r"^/collection/(batch/)?([^/]+)/?$")

_xaction_seq = itertools.count(1)
_pid = os.getpid() % 10000


def _xaction_id(received: int) -> str:
    return f"{received}:{_pid:04d}:{next(_xaction_seq)}"


def _inlet(state) -> Inlet:
    return state.inlet


def _too_large(size: int | str) -> AEPError:
    return problem(413, "data-collection-service-payload-too-large", "Payload Too Large",
                   f"The payload is larger than 1 MB ({size} bytes)")


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise problem(400, "data-collection-service-bad-request", "Bad Request",
                      f"The request body is not valid JSON: {exc}") from None


async def accept(state, inlet_id: str, batch: bool, headers: Mapping[str, str], query: Mapping[str, str],
                 raw: bytes, received: int) -> tuple[int, dict[str, Any]]:
    """Ingest one inlet post; (status, JSON body). Raises AEPError for an error answer.

    Single: 200 {inletId, xactionId, receivedTimeMs}; with `syncValidation=true` an event
    that fails mapping or validation answers 400 with the errors instead. Batch
    `{"messages": [...]}`: 207 with one `{xactionId}` per message (syncValidation does not apply).
    """
    body = _parse(raw)
    if batch:
        events = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise problem(400, "data-collection-service-bad-request", "Bad Request",
                          "A batch body must be an object with a 'messages' array")
    else:
        events = [body]
    outcomes = await _inlet(state).ingest(
        inlet_id, events, flow_hint=headers.get("x-adobe-flow-id") or query.get("x-adobe-flow-id"),
        auth=headers.get("authorization", ""), nbytes=len(raw), received=received)
    if not batch:
        outcome = outcomes[0]
        xaction = _xaction_id(received)
        if outcome.record is None and query.get("syncValidation", "").lower() == "true":
            raise problem(400, "data-collection-service-validation", "Validation Failed",
                          "; ".join(outcome.errors), code=outcome.code, errors=outcome.errors, xactionId=xaction)
        return 200, {"inletId": inlet_id, "xactionId": xaction, "receivedTimeMs": received}
    responses = []
    for msg in events:
        resp: dict[str, Any] = {"xactionId": _xaction_id(received)}
        if not isinstance(msg, dict):
            # Only envelope-level problems show per message; mapping and validation failures, as in
            # AEP, happen downstream and appear in the run metrics.
            resp.update(status=400, statusText="The message must be a JSON object")
        responses.append(resp)
    return 207, {"inletId": inlet_id, "batchId": _xaction_id(received), "receivedTimeMs": received,
                 "responses": responses}


# -- the ASGI fast path ----------------------------------------------------------------


async def fast_path(state, scope, receive, send) -> None:
    """Serve an inlet POST straight from ASGI: the same answers as the routes, without FastAPI's layers."""
    received = now_ms()
    m = INLET_PATH.match(scope["path"])
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    try:
        raw = await _receive_body(receive, headers.get("content-length"))
        status, body = await accept(state, m.group(2), bool(m.group(1)), headers, query, raw, received)
        extra: dict[str, str] = {}
    except AEPError as exc:
        status, body, extra = exc.status, exc.body, exc.headers
    except Exception:  # noqa: BLE001 - answer like the app's own error middleware, and say why in the log
        log.exception("inlet post to %s failed", scope["path"])
        status, extra = 500, {}
        body = {"type": "https://ns.adobe.com/adobecloud/problem/data-collection-service-internal-error",
                "status": "500", "title": "Internal Server Error",
                "report": {"message": "The emulator failed to process this post; see its log"}}
    payload = json.dumps(body, separators=(",", ":")).encode()
    out = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    out += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": payload})


async def _receive_body(receive, length: str | None) -> bytes:
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _too_large(length)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large(size)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


# -- routes ---------------------------------------------------------------------------


async def _route(request: Request, inlet_id: str, batch: bool) -> JSONResponse:
    received = now_ms()
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _too_large(length)
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large(len(raw))
    status, body = await accept(request.app.state, inlet_id, batch, request.headers, request.query_params,
                                raw, received)
    return JSONResponse(body, status_code=status)


@router.post("/collection/{inlet_id}")
@router.post("/collection/{inlet_id}/", include_in_schema=False)
async def collect(inlet_id: str, request: Request):
    """Accept one raw (webhook) event (served by fast_path; see accept())."""
    return await _route(request, inlet_id, batch=False)


@router.post("/collection/batch/{inlet_id}")
@router.post("/collection/batch/{inlet_id}/", include_in_schema=False)
async def collect_batch(inlet_id: str, request: Request):
    """Accept `{"messages": [...]}` (served by fast_path; see accept())."""
    return await _route(request, inlet_id, batch=True)


def _records_bad(message: str) -> AEPError:
    return service_error(400, "EXPORT-1001", message)


@router.get("/data/foundation/export/datasets/{dataset_id}/records")
def dataset_records(dataset_id: str, request: Request, ctx: RequestContext = Depends(gateway("catalog"))):
    """Emulator-only: the records the inlet stored in a dataset, oldest first ({records, count})."""
    inlet = _inlet(request.app.state)
    inlet.check_dataset(ctx, dataset_id)  # an unknown dataset is a 404 before a malformed limit is a 400
    limit = min(query_int(request, "limit", 100, _records_bad, minimum=1), 10000)
    start = query_int(request, "start", 0, _records_bad)
    records = inlet.records(ctx, dataset_id, limit, start)
    return {"records": records, "count": len(records)}
