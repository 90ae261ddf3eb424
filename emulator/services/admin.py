"""The emulator's own admin API under /_emulator/: health, metrics, faults, object counts.

Not part of AEP. No auth: the emulator listens on loopback only. These paths are never
counted in metrics and never faulted.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .. import kinds

router = APIRouter(prefix="/_emulator")


@router.get("/health")
async def health():
    """Liveness probe used by EmulatorProcess.start()."""
    return {"status": "ok"}


@router.get("/metrics")
async def metrics(request: Request):
    """Request counts by "METHOD /route/template", plus totals, reads, writes, statuses, faults."""
    return request.app.state.metrics.snapshot()


@router.post("/metrics/reset", status_code=204, response_class=Response)
async def reset_metrics(request: Request) -> None:
    """Zero the request counters."""
    request.app.state.metrics.reset()


@router.get("/faults")
async def get_faults(request: Request):
    """The active fault configuration."""
    return request.app.state.faults.config()


@router.put("/faults")
async def put_faults(request: Request):
    """Replace the fault configuration (see emulator/faults.py for the format)."""
    try:
        request.app.state.faults.configure(json.loads(await request.body() or b"{}"))
    except (ValueError, TypeError, KeyError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return request.app.state.faults.config()


@router.delete("/faults", status_code=204, response_class=Response)
async def clear_faults(request: Request) -> None:
    """Remove every fault."""
    request.app.state.faults.clear()


@router.get("/routes")
async def routes(request: Request):
    """Every route the emulator serves outside /_emulator/: [{method, path}] with FastAPI path templates
    (`{name}` one segment, `{name:path}` any rest), so a test can tell which spec operations exist here."""
    from ..faults import flatten_routes  # noqa: PLC0415

    out = sorted({(m, r.path) for r in flatten_routes(request.app.router.routes) if not r.path.startswith("/_emulator")
                  for m in (getattr(r, "methods", None) or ()) if m != "HEAD"})
    return [{"method": m, "path": p} for m, p in out]


@router.get("/objects")
async def objects(request: Request):
    """Stored object counts by kind across every org and sandbox (tokens excluded)."""
    counts = request.app.state.store.count()
    counts.pop(kinds.TOKEN, None)
    return counts


@router.get("/objects/{kind}")
async def list_objects(request: Request, kind: str, org: str = "", sandbox: str = ""):
    """Raw stored documents of one kind in one (org, sandbox), for tests and debugging."""
    return request.app.state.store.list(kind, org, sandbox)


@router.put("/objects/{kind}/{object_id}")
async def put_object(request: Request, kind: str, object_id: str, org: str = "", sandbox: str = ""):
    """Store a raw document, bypassing the API: a test fixture for cross-service preconditions."""
    try:
        doc = json.loads(await request.body())
    except ValueError as exc:
        return JSONResponse({"error": f"body is not JSON: {exc}"}, status_code=400)
    if not isinstance(doc, dict):
        return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
    request.app.state.store.put(kind, org, sandbox.lower(), object_id, doc)
    return Response(status_code=204)
