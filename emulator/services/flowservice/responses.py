"""Flow Service's routes (/data/foundation/flowservice): read the request, call the backend, render.

The rules and the store are models.py's (FlowService); this module knows HTTP only: bodies,
headers, query parameters, status codes, `items` wrappers, `Location` and `_links`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from ... import kinds
from ...gateway import RequestContext, gateway
from .. import listing
from . import errors as E
from .errors import invalid
from .models import FlowService

router = APIRouter()
Ctx = Annotated[RequestContext, Depends(gateway("flowservice"))]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Flow Service's filters (docs/emulator.md, Lists): every operator, comma alternatives, values stripped.
FILTERS = listing.FilterSyntax(ops=("==", "!=", ">=", "<=", ">", "<", "~"), error=invalid, strip=True)
_ORDER_FIELDS = ("name", "createdAt", "updatedAt", "id", "state")


def _fs(request: Request) -> FlowService:
    return request.app.state.flowservice


def _resource(request: Request) -> str:
    """The collection a route serves ("sourceConnections", ...), for routes that serve several."""
    return request.scope["route"].path.split("/")[1]


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise invalid("Request body is empty.", E.EMPTY_BODY)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid(f"Request body is not valid JSON: {exc}", E.EMPTY_BODY) from None


async def _object_body(request: Request) -> dict[str, Any]:
    body = await _body(request)
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object.")
    return body


def _created(request: Request, resource: str, doc: dict[str, Any], location: bool) -> JSONResponse:
    headers = {"Location": f"{_base_url(request)}/data/foundation/flowservice/{resource}/{doc['id']}"} \
        if location else None
    return JSONResponse({"id": doc["id"], "etag": doc["etag"]}, status_code=201, headers=headers)


def _items(doc: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"items": [doc]})


def _list_state(request: Request) -> tuple[list[str], str | None, int | None, int, bool]:
    """(filters, orderby, limit, start, count) from the query, or from its continuation token."""
    q = request.query_params
    token = q.get("continuationToken")
    if token:
        state = listing.decode_token(token, invalid)
        props, orderby, limit, start = state.get("p", []), state.get("o"), state.get("l"), state.get("s", 0)
        # A token is ours only if it holds what we put in it; anything else is a 400, not a crash.
        if not (isinstance(props, list) and all(isinstance(p, str) for p in props)
                and (orderby is None or isinstance(orderby, str))
                and (limit is None or type(limit) is int and 1 <= limit <= MAX_PAGE_SIZE)
                and type(start) is int and start >= 0):
            raise invalid("Invalid continuationToken.")
        return props, orderby, limit, start, False
    limit = q.get("limit")
    if q.get("count", "false").lower() not in ("true", "false"):
        raise invalid(f"Invalid count {q['count']!r}: use true or false.")
    count = q.get("count", "").lower() == "true"
    if count and limit is not None:
        raise invalid("Query parameters 'limit' and 'count' cannot be used together.", E.LIMIT_WITH_COUNT)
    if limit is not None:
        if not limit.isdigit() or int(limit) < 1:
            raise invalid(f"Invalid limit {limit!r}.")
        limit = min(int(limit), MAX_PAGE_SIZE)
    return q.getlist("property"), q.get("orderby"), limit, 0, count


def _list_response(request: Request, resource: str, docs: list[dict[str, Any]]) -> JSONResponse:
    """Filter, sort and page `docs` per the query, in Flow Service's list shape."""
    props, orderby, limit, start, count = _list_state(request)
    matched = FILTERS.select(docs, props)
    if count:
        return JSONResponse({"count": len(matched)})
    if orderby:
        field = orderby.lstrip("+-").strip()
        if field not in _ORDER_FIELDS:
            raise invalid(f"Invalid orderby field {orderby!r}.", E.BAD_ORDERBY)
        matched = listing.ordered(matched, [field], orderby.startswith("-"))
    size = limit or DEFAULT_PAGE_SIZE
    page, more = listing.page(matched, start, size)
    links: dict[str, Any] = {}
    if more:
        nxt = listing.encode_token({"p": props, "o": orderby, "l": limit, "s": start + size})
        links["next"] = {"href": f"/{resource}?continuationToken={nxt}"}
    return JSONResponse({"items": page, "_links": links})


# -- connection and flow specs (read-only, global) -------------------------------------

_SPEC_KINDS = {"connectionSpecs": kinds.CONNECTION_SPEC, "flowSpecs": kinds.FLOW_SPEC}


@router.get("/connectionSpecs")
@router.get("/flowSpecs")
async def list_specs(request: Request, ctx: Ctx):
    """All connection or flow specs, optionally filtered (e.g. property=name==datalake); not paged."""
    docs = _fs(request).specs(_SPEC_KINDS[_resource(request)])
    return JSONResponse({"items": FILTERS.select(docs, request.query_params.getlist("property"))})


@router.get("/connectionSpecs/{spec_id}")
@router.get("/flowSpecs/{spec_id}")
async def get_spec(request: Request, ctx: Ctx, spec_id: str):
    """One connection or flow spec, wrapped in items."""
    resource = _resource(request)
    return _items(_fs(request).spec(_SPEC_KINDS[resource], resource, spec_id))


# -- connections: base ("accounts"), source and target ---------------------------------


# Creates answer a Location header for base connections and flows, none for source and target
# connections (as AEP's responses show).
_LOCATION = {"connections": True, "sourceConnections": False, "targetConnections": False, "flows": True}


@router.post("/connections")
@router.post("/sourceConnections")
@router.post("/targetConnections")
@router.post("/flows")
async def create_entity(request: Request, ctx: Ctx):
    """Create a base connection ("account"), a source connection (streaming specs such as Pendo take
    no base connection), a target connection (the data lake spec only, FLOW-1307-400) or a dataflow
    (a streaming one gets an inlet and `options.inletUrl`): 201 {id, etag}."""
    resource = _resource(request)
    doc = _fs(request).create(ctx, resource, await _object_body(request))
    return _created(request, resource, doc, location=_LOCATION[resource])


@router.get("/connections")
@router.get("/sourceConnections")
@router.get("/targetConnections")
@router.get("/flows")
@router.get("/runs")
async def list_entities(request: Request, ctx: Ctx):
    """List base, source or target connections, flows (filters such as
    property=sourceConnectionIds[]==a,b or state==enabled) or runs (usually property=flowId==<id>)."""
    resource = _resource(request)
    return _list_response(request, resource, _fs(request).views(ctx, resource, _base_url(request)))


@router.get("/connections/{conn_id}")
@router.get("/sourceConnections/{conn_id}")
@router.get("/targetConnections/{conn_id}")
async def get_connection(request: Request, ctx: Ctx, conn_id: str):
    """One base, source or target connection, wrapped in items."""
    return _items(_fs(request).view(ctx, _resource(request), conn_id, _base_url(request)))


@router.get("/connections/{conn_id}/test")
async def test_connection(request: Request, ctx: Ctx, conn_id: str):
    """Connection test: the emulator has nothing to reach, so an existing connection passes."""
    return JSONResponse({"result": _fs(request).test_connection(ctx, conn_id)})


@router.patch("/connections/{conn_id}")
@router.patch("/connections/{conn_id}/")
@router.patch("/sourceConnections/{conn_id}")
@router.patch("/targetConnections/{conn_id}")
async def patch_connection(request: Request, ctx: Ctx, conn_id: str):
    """JSON Patch a connection; If-Match required. A base connection's /auth/params, /name and
    /description; a source or target connection's /data, /params, /name and /description (allowed,
    as in AEP, though flows keep their create-time inheritedAttributes snapshot)."""
    return await _patch(request, ctx, _resource(request), conn_id)


@router.delete("/connections/{conn_id}")
@router.delete("/connections/{conn_id}/")
@router.delete("/sourceConnections/{conn_id}")
@router.delete("/targetConnections/{conn_id}")
async def delete_connection(request: Request, ctx: Ctx, conn_id: str):
    """Delete a connection; a base connection only when no flow reads from it (FLOW-1418-400)."""
    _fs(request).delete(ctx, _resource(request), conn_id)
    return Response(status_code=204)


async def _patch(request: Request, ctx: RequestContext, resource: str, id_: str) -> JSONResponse:
    fs, if_match = _fs(request), request.headers.get("if-match")
    doc = fs.patch_target(ctx, resource, id_, if_match)
    doc = fs.apply_patch(ctx, resource, doc, await _body(request), if_match)
    return JSONResponse({"id": id_, "etag": doc["etag"]})


# -- flows and runs ----------------------------------------------------------------------


@router.get("/flows/{flow_id}")
async def get_flow(request: Request, ctx: Ctx, flow_id: str):
    """One flow, with options.inletUrl and lastRunDetails, wrapped in items."""
    return _items(_fs(request).view(ctx, "flows", flow_id, _base_url(request)))


@router.patch("/flows/{flow_id}")
async def patch_flow(request: Request, ctx: Ctx, flow_id: str):
    """JSON Patch a flow (/name, /description, /scheduleParams/*, /transformations/{i}, ...)."""
    return await _patch(request, ctx, "flows", flow_id)


@router.delete("/flows/{flow_id}")
async def delete_flow(request: Request, ctx: Ctx, flow_id: str):
    """Delete a flow, unregister its inlet and drop its runs."""
    _fs(request).delete(ctx, "flows", flow_id)
    return Response(status_code=204)


@router.post("/flows/{flow_id}/action")
async def flow_action(request: Request, ctx: Ctx, flow_id: str):
    """Enable or disable a flow (?op=enable|disable, any case; subOp optional; If-Match optional)."""
    doc = _fs(request).flow_action(ctx, flow_id, request.query_params.get("op"), request.headers.get("if-match"))
    return JSONResponse({"id": flow_id, "etag": doc["etag"]})


@router.get("/runs/{run_id}")
async def get_run(request: Request, ctx: Ctx, run_id: str):
    """One run, wrapped in items."""
    return _items(_fs(request).view(ctx, "runs", run_id, _base_url(request)))
