"""Flow Service (/data/foundation/flowservice): specs, base/source/target connections, flows, runs.

Everything a client creates is scoped to the caller's (org, sandbox). Stored documents are
the API representation; keys starting with "_" are emulator-internal and never returned.
Error codes follow Experience League's Flow Service error catalogue; where AEP documents
no code for a validation failure the emulator uses 1400 (see docs/emulator.md).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Annotated, Any, Iterable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from .. import kinds, seed
from ..errors import AEPError, flow_error
from ..gateway import RequestContext, gateway
from . import flow_patch, listing

router = APIRouter()
Ctx = Annotated[RequestContext, Depends(gateway("flowservice"))]

# Flow Service error codes (Experience League, flow-service-errors.md).
INVALID = 1400            # emulator's code for validation failures AEP documents without a code
LIMIT_WITH_COUNT = 1401
IF_MATCH_MISSING = 1403
IF_MATCH_STALE = 1404
EMPTY_BODY = 1405
STATE_ON_CREATE = 1410
BAD_MAPPING_VERSION = 1412
CONNECTION_SPEC_IMMUTABLE = 1414
BASE_CONNECTION_IN_USE = 1418
ILLEGAL_ACTION = 1422
SCHEMA_MISMATCH = 1425
BAD_ORDERBY = 1432
UNSUPPORTED_PATCH_OP = 1434
NOT_FOUND = 1439
PATCH_PATH_MISSING = 1455
PATCH_PATH_INVALID = 1365
START_TIME_PASSED = 1366
TARGET_SPEC_NOT_DATALAKE = 1307
BASE_CONNECTION_NOT_ALLOWED = 1332

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# resource path segment -> stored kind
KIND = {
    "connections": kinds.BASE_CONNECTION,
    "sourceConnections": kinds.SOURCE_CONNECTION,
    "targetConnections": kinds.TARGET_CONNECTION,
    "flows": kinds.FLOW,
    "runs": kinds.RUN,
}

# Top-level fields a client may set on create; anything else (e.g. the providerId every
# streaming tutorial sends) is accepted and dropped, as AEP does.
_USER_FIELDS = {
    "connections": ("name", "description", "auth", "connectionSpec"),
    "sourceConnections": ("name", "description", "baseConnectionId", "data", "params", "connectionSpec"),
    "targetConnections": ("name", "description", "baseConnectionId", "data", "params", "connectionSpec"),
    "flows": ("name", "description", "flowSpec", "sourceConnectionIds", "targetConnectionIds",
              "transformations", "scheduleParams"),
}


# -- small helpers ---------------------------------------------------------------------

def now_ms() -> int:
    return int(time.time() * 1000)


def new_etag() -> str:
    """An opaque etag in AEP's shape, literal quotes included: "\\"9c01173c-0000-0200-0000-63f32d7c0000\\""."""
    return f'"{secrets.token_hex(4)}-0000-0200-0000-{int(time.time()) & 0xFFFFFFFF:08x}0000"'


def _bare_etag(value: str) -> str:
    v = value.strip()
    if v[:2].upper() == "W/":
        v = v[2:].strip()
    if len(v) >= 2 and v[0] == v[-1] == '"':
        v = v[1:-1]
    return v


def etag_matches(header: str, etag: str) -> bool:
    """If-Match comparison: ignores W/ and surrounding quotes, accepts any of a comma list or '*'."""
    current = _bare_etag(etag)
    return any(c == "*" or c == current for c in (_bare_etag(p) for p in header.split(",")))


def sandbox_id(ctx: RequestContext) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-emulator:{ctx.org}/{ctx.sandbox}"))


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _not_found(resource: str, id_: str) -> AEPError:
    return flow_error(404, NOT_FOUND, f"Resource with id {id_} not found.", id=id_, type=resource)


def _invalid(message: str, code: int = INVALID) -> AEPError:
    return flow_error(400, code, message)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise _invalid("Request body is empty.", EMPTY_BODY)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise _invalid(f"Request body is not valid JSON: {exc}", EMPTY_BODY) from None


async def _object_body(request: Request) -> dict[str, Any]:
    body = await _body(request)
    if not isinstance(body, dict):
        raise _invalid("Request body must be a JSON object.")
    return body


def _spec_ref(body: dict[str, Any], field: str) -> dict[str, Any]:
    ref = body.get(field)
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
        raise _invalid(f"'{field}.id' is required.")
    if ref.get("version") is not None and not isinstance(ref["version"], str):
        raise _invalid(f"'{field}.version' must be a string such as \"1.0\".")
    return {"id": ref["id"], "version": ref.get("version") or "1.0"}


def _store(request: Request):
    return request.app.state.store


def _get(request: Request, ctx: RequestContext, resource: str, id_: str) -> dict[str, Any]:
    doc = _store(request).get(KIND[resource], ctx.org, ctx.sandbox, id_)
    if doc is None:
        raise _not_found(resource, id_)
    return doc


def _new_entity(ctx: RequestContext, fields: dict[str, Any]) -> dict[str, Any]:
    now = now_ms()
    etag = new_etag()
    return {
        "id": str(uuid.uuid4()),
        "createdAt": now, "updatedAt": now,
        "createdBy": ctx.user, "updatedBy": ctx.user,
        "createdClient": ctx.client_id, "updatedClient": ctx.client_id,
        "sandboxId": sandbox_id(ctx), "sandboxName": ctx.sandbox, "imsOrgId": ctx.org,
        **fields,
        "state": "enabled",
        "version": etag, "etag": etag,
    }


def _touch(ctx: RequestContext, doc: dict[str, Any]) -> dict[str, Any]:
    """Stamp an update: new etag (AEP rotates it on every change), updatedAt/By/Client."""
    etag = new_etag()
    doc.update(updatedAt=now_ms(), updatedBy=ctx.user, updatedClient=ctx.client_id, version=etag, etag=etag)
    return doc


def _check_if_match(request: Request, doc: dict[str, Any], required: bool = True) -> None:
    header = request.headers.get("if-match")
    if header is None or not header.strip():
        if required:
            raise _invalid("The header 'If-Match' is missing.", IF_MATCH_MISSING)
        return
    if not etag_matches(header, doc["etag"]):
        raise flow_error(412, IF_MATCH_STALE,
                         f"The supplied version {header} does not match the current version "
                         f"{doc['etag']} on entity {doc['id']}.")


def _created(request: Request, resource: str, doc: dict[str, Any], location: bool) -> JSONResponse:
    headers = {"Location": f"{_base_url(request)}/data/foundation/flowservice/{resource}/{doc['id']}"} if location \
        else None
    return _json({"id": doc["id"], "etag": doc["etag"]}, 201, headers)


def _items(doc: dict[str, Any]) -> JSONResponse:
    return _json({"items": [doc]})


# -- listing: property filters, orderby, count, continuation tokens --------------------

# Flow Service's filters (docs/emulator.md, Lists): every operator, comma alternatives, values stripped.
FILTERS = listing.FilterSyntax(ops=("==", "!=", ">=", "<=", ">", "<", "~"), error=_invalid, strip=True)
_ORDER_FIELDS = ("name", "createdAt", "updatedAt", "id", "state")


def _list_response(request: Request, resource: str, docs: Iterable[dict[str, Any]]) -> JSONResponse:
    """Filter, sort and page `docs` per the query, in Flow Service's list shape."""
    q = request.query_params
    token = q.get("continuationToken")
    if token:
        state = listing.decode_token(token, _invalid)
        props, orderby, limit, start = state.get("p", []), state.get("o"), state.get("l"), state.get("s", 0)
    else:
        props, orderby, start = q.getlist("property"), q.get("orderby"), 0
        limit = q.get("limit")
        if q.get("count", "false").lower() not in ("true", "false"):
            raise _invalid(f"Invalid count {q['count']!r}: use true or false.")
        count = q.get("count", "").lower() == "true"
        if count and limit is not None:
            raise _invalid("Query parameters 'limit' and 'count' cannot be used together.", LIMIT_WITH_COUNT)
        if limit is not None:
            if not limit.isdigit() or int(limit) < 1:
                raise _invalid(f"Invalid limit {limit!r}.")
            limit = min(int(limit), MAX_PAGE_SIZE)
    matched = FILTERS.select(docs, props)
    if not token and q.get("count", "").lower() == "true":
        return _json({"count": len(matched)})

    if orderby:
        desc = orderby.startswith("-")
        field = orderby.lstrip("+-").strip()
        if field not in _ORDER_FIELDS:
            raise _invalid(f"Invalid orderby field {orderby!r}.", BAD_ORDERBY)
        matched = listing.ordered(matched, [field], desc)
    size = limit or DEFAULT_PAGE_SIZE
    page, more = listing.page(matched, start, size)
    links: dict[str, Any] = {}
    if more:
        nxt = listing.encode_token({"p": props, "o": orderby, "l": limit, "s": start + size})
        links["next"] = {"href": f"/{resource}?continuationToken={nxt}"}
    return _json({"items": page, "_links": links})


# -- connection and flow specs (read-only, global) -------------------------------------

def _spec_list(request: Request, kind: str) -> JSONResponse:
    docs = _store(request).list(kind, "", "")
    return _json({"items": FILTERS.select(docs, request.query_params.getlist("property"))})


def _spec_one(request: Request, kind: str, resource: str, id_: str) -> JSONResponse:
    doc = _store(request).get(kind, "", "", id_)
    if doc is None:
        raise _not_found(resource, id_)
    return _items(doc)


@router.get("/connectionSpecs")
async def list_connection_specs(request: Request, ctx: Ctx):
    """All connection specs, optionally filtered (e.g. property=name==datalake)."""
    return _spec_list(request, kinds.CONNECTION_SPEC)


@router.get("/connectionSpecs/{spec_id}")
async def get_connection_spec(request: Request, ctx: Ctx, spec_id: str):
    """One connection spec, wrapped in items."""
    return _spec_one(request, kinds.CONNECTION_SPEC, "connectionSpecs", spec_id)


@router.get("/flowSpecs")
async def list_flow_specs(request: Request, ctx: Ctx):
    """All flow specs, optionally filtered (e.g. property=name==GenericStreamingAEP)."""
    return _spec_list(request, kinds.FLOW_SPEC)


@router.get("/flowSpecs/{spec_id}")
async def get_flow_spec(request: Request, ctx: Ctx, spec_id: str):
    """One flow spec, wrapped in items."""
    return _spec_one(request, kinds.FLOW_SPEC, "flowSpecs", spec_id)


def _connection_spec(request: Request, spec_id: str) -> dict[str, Any]:
    spec = _store(request).get(kinds.CONNECTION_SPEC, "", "", spec_id)
    if spec is None:
        raise _invalid(f"Connection spec {spec_id} does not exist.")
    return spec


# -- JSON Patch shared by every resource ------------------------------------------------

def _patch_path_rule(resource: str, tokens: list[str]) -> None:
    """Raise unless `tokens` is a path AEP lets a client patch on this resource."""
    head = tokens[0] if tokens else ""
    if head == "connectionSpec" and resource != "flows":
        raise _invalid("The connection spec of a connection cannot be updated.", CONNECTION_SPEC_IMMUTABLE)
    if head in ("name", "description") and len(tokens) == 1:
        return
    if resource == "flows" and head in ("scheduleParams", "transformations", "labels", "policy"):
        return
    if resource == "connections" and tokens[:2] == ["auth", "params"]:
        return
    if resource in ("sourceConnections", "targetConnections") and head in ("data", "params"):
        return
    raise _invalid(f"Invalid patch path /{'/'.join(tokens)}.", PATCH_PATH_INVALID)


async def _apply_patch(request: Request, resource: str, doc: dict[str, Any]) -> tuple[dict, list]:
    body = await _body(request)
    if isinstance(body, dict) and resource != "connections":
        raise _invalid("The request body must be a JSON Patch array.")
    try:
        ops = flow_patch.normalise_ops(body)
        for op in ops:
            _patch_path_rule(resource, flow_patch.parse_pointer(op["path"]))
        patched = flow_patch.apply(doc, ops)
    except flow_patch.PatchError as exc:
        if exc.reason == "unsupported_op":
            raise _invalid(exc.message, UNSUPPORTED_PATCH_OP) from None
        if exc.reason == "missing_path":
            raise _invalid(exc.message, PATCH_PATH_MISSING) from None
        raise _invalid(exc.message) from None
    if "name" in doc and not (isinstance(patched.get("name"), str) and patched["name"].strip()):
        raise _invalid("'name' must be a non-empty string.")
    return patched, ops


async def _patch_entity(request: Request, ctx: RequestContext, resource: str, id_: str) -> JSONResponse:
    store = _store(request)
    doc = _get(request, ctx, resource, id_)
    _check_if_match(request, doc)
    patched, ops = await _apply_patch(request, resource, doc)
    if resource == "flows":
        _validate_flow_update(request, ctx, doc, patched)
        now = now_ms()
        patched["lastOperation"] = {"started": now, "updated": now, "percentCompleted": 100.0,
                                    "status": {"value": "completed", "errors": []}, "ops": ops,
                                    "operation": "update"}
    _touch(ctx, patched)
    with store.tx():
        # Re-check under the write lock: a concurrent PATCH must not be lost.
        current = store.get(KIND[resource], ctx.org, ctx.sandbox, id_)
        if current is None:
            raise _not_found(resource, id_)
        if current["etag"] != doc["etag"]:
            _check_if_match(request, current)
        store.put(KIND[resource], ctx.org, ctx.sandbox, id_, patched)
    return _json({"id": id_, "etag": patched["etag"]})


def _delete_entity(request: Request, ctx: RequestContext, resource: str, id_: str) -> Response:
    if not _store(request).delete(KIND[resource], ctx.org, ctx.sandbox, id_):
        raise _not_found(resource, id_)
    return Response(status_code=204)


# -- base connections --------------------------------------------------------------------

@router.post("/connections")
async def create_connection(request: Request, ctx: Ctx):
    """Create a base connection ("account")."""
    body = await _object_body(request)
    spec_ref = _spec_ref(body, "connectionSpec")
    spec = _connection_spec(request, spec_ref["id"])
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise _invalid("'name' is required.")
    _check_text_fields(body)
    auth = body.get("auth")
    if spec.get("authSpec") and not (isinstance(auth, dict) and auth.get("specName")
                                     and isinstance(auth.get("params"), dict)):
        raise _invalid("'auth.specName' and 'auth.params' are required for this connection spec.")
    if isinstance(auth, dict) and "specName" in auth and not isinstance(auth["specName"], str):
        raise _invalid("'auth.specName' must be a string naming one of the connection spec's authSpec entries.")
    fields = {k: body[k] for k in _USER_FIELDS["connections"] if k in body}
    fields["connectionSpec"] = spec_ref
    doc = _new_entity(ctx, fields)
    doc["providerRefId"] = str(uuid.uuid4())
    _store(request).put(kinds.BASE_CONNECTION, ctx.org, ctx.sandbox, doc["id"], doc)
    return _created(request, "connections", doc, location=True)


@router.get("/connections")
async def list_connections(request: Request, ctx: Ctx):
    """List base connections."""
    docs = _store(request).list(kinds.BASE_CONNECTION, ctx.org, ctx.sandbox)
    return _list_response(request, "connections", [_public(d) for d in docs])


@router.get("/connections/{conn_id}")
async def get_connection(request: Request, ctx: Ctx, conn_id: str):
    """One base connection, wrapped in items."""
    return _items(_public(_get(request, ctx, "connections", conn_id)))


@router.get("/connections/{conn_id}/test")
async def test_connection(request: Request, ctx: Ctx, conn_id: str):
    """Connection test: the emulator has nothing to reach, so an existing connection passes."""
    _get(request, ctx, "connections", conn_id)
    return _json({"result": True})


@router.patch("/connections/{conn_id}")
@router.patch("/connections/{conn_id}/")
async def patch_connection(request: Request, ctx: Ctx, conn_id: str):
    """JSON Patch a base connection (/auth/params, /name, /description); If-Match required."""
    return await _patch_entity(request, ctx, "connections", conn_id)


@router.delete("/connections/{conn_id}")
@router.delete("/connections/{conn_id}/")
async def delete_connection(request: Request, ctx: Ctx, conn_id: str):
    """Delete a base connection unless a flow still reads from it (FLOW-1418-400)."""
    store = _store(request)
    with store.tx():
        _get(request, ctx, "connections", conn_id)
        sources = {s["id"]: s for s in store.list(kinds.SOURCE_CONNECTION, ctx.org, ctx.sandbox)}
        users = [f["id"] for f in store.list(kinds.FLOW, ctx.org, ctx.sandbox)
                 if any(sources.get(sid, {}).get("baseConnectionId") == conn_id
                        for sid in f.get("sourceConnectionIds", []))]
        if users:
            raise _invalid(f"Base connection {conn_id} is used by flows {', '.join(users)}; delete them first.",
                           BASE_CONNECTION_IN_USE)
        return _delete_entity(request, ctx, "connections", conn_id)


# -- source and target connections ------------------------------------------------------

def _require(body: dict[str, Any], *fields: str) -> None:
    missing = [f for f in fields if body.get(f) in (None, "", {})]
    if missing:
        raise _invalid(f"Required field(s) missing: {', '.join(missing)}.")
    _check_text_fields(body)


def _check_text_fields(body: dict[str, Any]) -> None:
    """`name`, `description` and `data.format` are strings wherever they are sent (the DTOs' types)."""
    for key in ("name", "description"):
        if key in body and not isinstance(body[key], str):
            raise _invalid(f"'{key}' must be a string, got {json.dumps(body[key])[:60]}.")
    data = body.get("data")
    if isinstance(data, dict) and "format" in data and not isinstance(data["format"], str):
        raise _invalid(f"'data.format' must be a string, got {json.dumps(data['format'])[:60]}.")
    schema = data["schema"] if isinstance(data, dict) and "schema" in data else {}
    if not (isinstance(schema, dict) and isinstance(schema.get("id", ""), str)
                                   and isinstance(schema.get("version", ""), str)):
        raise _invalid("'data.schema' must be an object with string 'id' and 'version'.")


@router.post("/sourceConnections")
async def create_source_connection(request: Request, ctx: Ctx):
    """Create a source connection; streaming specs (Pendo, HTTP) take no base connection."""
    body = await _object_body(request)
    _require(body, "name", "connectionSpec", "data")
    spec_ref = _spec_ref(body, "connectionSpec")
    spec = _connection_spec(request, spec_ref["id"])
    if "sourceSpec" not in spec:
        raise _invalid(f"Connection spec {spec_ref['id']} is not a source.")
    if not isinstance(body["data"], dict):
        raise _invalid("'data' must be an object.")
    if spec_ref["id"] == seed.PENDO_SPEC_ID and body["data"].get("format", "json") != "json":
        raise _invalid("Pendo supports only data.format 'json'.")
    fields = {k: body[k] for k in _USER_FIELDS["sourceConnections"] if k in body}
    fields["connectionSpec"] = spec_ref
    inherited: dict[str, Any] = {}
    base_id = body.get("baseConnectionId")
    if base_id is not None:
        if spec_ref["id"] in seed.NO_BASE_CONNECTION_SPEC_IDS:
            raise _invalid(f"Connection spec {spec_ref['id']} does not support a baseConnectionId.",
                           BASE_CONNECTION_NOT_ALLOWED)
        base = _store(request).get(kinds.BASE_CONNECTION, ctx.org, ctx.sandbox, str(base_id))
        if base is None:
            raise _invalid(f"Base connection {base_id} does not exist.")
        if base["connectionSpec"]["id"] != spec_ref["id"]:
            raise _invalid(f"Base connection {base_id} belongs to a different connection spec.")
        inherited["baseConnection"] = {"id": base["id"], "connectionSpec": base["connectionSpec"]}
    elif spec.get("authSpec") and spec_ref["id"] not in seed.STREAMING_SOURCE_SPEC_IDS:
        # Batch sources read through their account; streaming accounts are optional.
        raise _invalid(f"Connection spec {spec_ref['id']} requires a baseConnectionId.")
    doc = _new_entity(ctx, fields)
    doc.update(providerRefId=str(uuid.uuid4()), inheritedAttributes=inherited)
    _store(request).put(kinds.SOURCE_CONNECTION, ctx.org, ctx.sandbox, doc["id"], doc)
    return _created(request, "sourceConnections", doc, location=False)


@router.post("/targetConnections")
async def create_target_connection(request: Request, ctx: Ctx):
    """Create a target connection; only the data lake spec is a valid target (FLOW-1307-400)."""
    body = await _object_body(request)
    _require(body, "connectionSpec", "data")
    spec_ref = _spec_ref(body, "connectionSpec")
    if spec_ref["id"] != seed.DATALAKE_SPEC_ID:
        raise _invalid(f"Target connection spec must be {seed.DATALAKE_SPEC_ID}.", TARGET_SPEC_NOT_DATALAKE)
    if not isinstance(body["data"], dict):
        raise _invalid("'data' must be an object.")
    params = body.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("dataSetId"), str) or not params["dataSetId"]:
        raise _invalid("'params.dataSetId' is required for a data lake target connection.")
    if body.get("baseConnectionId") is not None:
        raise _invalid("A data lake target connection takes no baseConnectionId.", BASE_CONNECTION_NOT_ALLOWED)
    fields = {k: body[k] for k in _USER_FIELDS["targetConnections"] if k in body}
    fields["connectionSpec"] = spec_ref
    doc = _new_entity(ctx, fields)
    doc.update(providerRefId=str(uuid.uuid4()), inheritedAttributes={})
    _store(request).put(kinds.TARGET_CONNECTION, ctx.org, ctx.sandbox, doc["id"], doc)
    return _created(request, "targetConnections", doc, location=False)


def _register_connection_routes(resource: str) -> None:
    kind = KIND[resource]
    label = "source" if resource == "sourceConnections" else "target"

    async def list_(request: Request, ctx: Ctx):
        docs = _store(request).list(kind, ctx.org, ctx.sandbox)
        return _list_response(request, resource, [_public(d) for d in docs])

    async def get_(request: Request, ctx: Ctx, conn_id: str):
        return _items(_public(_get(request, ctx, resource, conn_id)))

    async def patch_(request: Request, ctx: Ctx, conn_id: str):
        # Allowed, as in AEP, but flows keep their create-time inheritedAttributes snapshot.
        return await _patch_entity(request, ctx, resource, conn_id)

    async def delete_(request: Request, ctx: Ctx, conn_id: str):
        return _delete_entity(request, ctx, resource, conn_id)

    for fn, verb in ((list_, "List"), (get_, "Get one"), (patch_, "JSON Patch (If-Match required)"),
                     (delete_, "Delete")):
        fn.__doc__ = f"{verb} {label} connection(s)."
        fn.__name__ = f"{fn.__name__.strip('_')}_{resource}"
    router.add_api_route(f"/{resource}", list_, methods=["GET"])
    router.add_api_route(f"/{resource}/{{conn_id}}", get_, methods=["GET"])
    router.add_api_route(f"/{resource}/{{conn_id}}", patch_, methods=["PATCH"])
    router.add_api_route(f"/{resource}/{{conn_id}}", delete_, methods=["DELETE"])


_register_connection_routes("sourceConnections")
_register_connection_routes("targetConnections")


# -- flows --------------------------------------------------------------------------------

def _same_schema(request: Request, ctx: RequestContext, a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    store = _store(request)
    sa, sb = kinds.schema_by_id(store, ctx.org, ctx.sandbox, a), kinds.schema_by_id(store, ctx.org, ctx.sandbox, b)
    return sa is not None and sb is not None and sa.get("$id") == sb.get("$id")


def _check_transformations(request: Request, ctx: RequestContext, transformations: Any,
                           targets: list[dict[str, Any]]) -> None:
    """Mapping transformations must name an existing mapping version (1412) whose output schema
    is the target dataset's and the target connection's schema (1425)."""
    if transformations is None:
        return
    if not isinstance(transformations, list):
        raise _invalid("'transformations' must be an array.")
    store = _store(request)
    for t in transformations:
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("params"), dict):
            raise _invalid("Each transformation needs 'name' and 'params'.")
        if t["name"].lower() != "mapping":
            continue
        mapping_id, version = t["params"].get("mappingId"), t["params"].get("mappingVersion")
        mapping = kinds.mapping_version(store, ctx.org, ctx.sandbox, str(mapping_id), version) \
            if isinstance(mapping_id, str) and mapping_id else None
        if mapping is None:
            raise _invalid(f"Invalid mapping version: mapping {mapping_id} version {version} does not exist.",
                           BAD_MAPPING_VERSION)
        out_schema = ((mapping.get("outputSchema") or {}).get("schemaRef") or {}).get("id")
        for tc in targets:
            ds_id = (tc.get("params") or {}).get("dataSetId")
            ds = kinds.dataset(store, ctx.org, ctx.sandbox, ds_id) if ds_id else None
            if ds is None:
                raise _invalid(f"Target dataset {ds_id} of target connection {tc['id']} does not exist.",
                               SCHEMA_MISMATCH)
            ds_schema = (ds.get("schemaRef") or {}).get("id")
            tc_schema = ((tc.get("data") or {}).get("schema") or {}).get("id")
            if not _same_schema(request, ctx, out_schema, ds_schema) or \
                    (tc_schema and not _same_schema(request, ctx, out_schema, tc_schema)):
                raise _invalid(
                    f"Schema in mapping ({out_schema}) does not match the schema of target dataset {ds_id} "
                    f"({ds_schema}) and target connection {tc['id']} ({tc_schema}).", SCHEMA_MISMATCH)


def _connections(request: Request, ctx: RequestContext, resource: str, ids: Any) -> list[dict[str, Any]]:
    field = "sourceConnectionIds" if resource == "sourceConnections" else "targetConnectionIds"
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise _invalid(f"'{field}' must be a non-empty array of IDs.")
    found = []
    for i in ids:
        doc = _store(request).get(KIND[resource], ctx.org, ctx.sandbox, i)
        if doc is None:
            raise _invalid(f"{field}: {i} does not exist in sandbox {ctx.sandbox}.")
        found.append(doc)
    return found


def _check_schedule(flow_spec: dict[str, Any], schedule: Any) -> None:
    if schedule is None:
        if flow_spec["id"] in seed.SCHEDULED_FLOW_SPEC_IDS:
            raise _invalid(f"'scheduleParams' is required for flow spec {flow_spec['name']}.")
        return
    if not isinstance(schedule, dict):
        raise _invalid("'scheduleParams' must be an object.")


@router.post("/flows")
async def create_flow(request: Request, ctx: Ctx):
    """Create a dataflow; streaming flows get an inlet and `options.inletUrl`."""
    body = await _object_body(request)
    if "state" in body:
        raise _invalid("'state' is not allowed when creating a flow.", STATE_ON_CREATE)
    spec_ref = _spec_ref(body, "flowSpec")
    flow_spec = _store(request).get(kinds.FLOW_SPEC, "", "", spec_ref["id"])
    if flow_spec is None:
        raise _invalid(f"Flow spec {spec_ref['id']} does not exist.")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise _invalid("'name' is required.")
    _check_text_fields(body)
    sources = _connections(request, ctx, "sourceConnections", body.get("sourceConnectionIds"))
    targets = _connections(request, ctx, "targetConnections", body.get("targetConnectionIds"))
    for conns, allowed, label in ((sources, flow_spec["sourceConnectionSpecIds"], "source"),
                                  (targets, flow_spec["targetConnectionSpecIds"], "target")):
        for c in conns:
            if c["connectionSpec"]["id"] not in allowed:
                raise _invalid(f"The connection spec of {label} connection {c['id']} is not supported by "
                               f"flow spec {flow_spec['name']}.")
    _check_schedule(flow_spec, body.get("scheduleParams"))
    _check_transformations(request, ctx, body.get("transformations"), targets)

    fields = {k: body[k] for k in _USER_FIELDS["flows"] if k in body}
    fields["flowSpec"] = spec_ref
    doc = _new_entity(ctx, fields)
    now = doc["createdAt"]
    # Snapshot, like AEP: later PATCHes of these connections do not reach the flow.
    doc["inheritedAttributes"] = {
        "properties": {"isSourceFlow": bool((flow_spec.get("attributes") or {}).get("isSourceFlow", True))},
        "sourceConnections": [
            {"id": s["id"], "connectionSpec": s["connectionSpec"],
             **({"baseConnection": s["inheritedAttributes"]["baseConnection"]}
                if (s.get("inheritedAttributes") or {}).get("baseConnection") else {})}
            for s in sources],
        "targetConnections": [{"id": t["id"], "connectionSpec": t["connectionSpec"]} for t in targets],
    }
    doc.update(runs=f"/runs?property=flowId=={doc['id']}", providerRefId=str(uuid.uuid4()),
               lastOperation={"started": now, "updated": now, "operation": "enable"})
    store = _store(request)
    with store.tx():
        if spec_ref["id"] in seed.STREAMING_FLOW_SPEC_IDS:
            inlet_id = secrets.token_hex(32)
            doc["_inletId"] = inlet_id
            store.put(kinds.INLET, "", "", inlet_id, {"org": ctx.org, "sandbox": ctx.sandbox, "flowIds": [doc["id"]]})
        store.put(kinds.FLOW, ctx.org, ctx.sandbox, doc["id"], doc)
    return _created(request, "flows", doc, location=True)


def _validate_flow_update(request: Request, ctx: RequestContext, old: dict[str, Any], new: dict[str, Any]) -> None:
    if new.get("transformations") != old.get("transformations"):
        targets = _connections(request, ctx, "targetConnections", new.get("targetConnectionIds"))
        _check_transformations(request, ctx, new.get("transformations"), targets)
    old_sched, new_sched = old.get("scheduleParams") or {}, new.get("scheduleParams") or {}
    started = old_sched.get("startTime")
    if started is not None and new_sched.get("startTime") != started:
        try:
            passed = int(started) <= time.time()
        except (TypeError, ValueError):
            passed = False
        if passed:
            raise _invalid("The schedule start time has passed and cannot be updated.", START_TIME_PASSED)


def _latest_runs(request: Request, ctx: RequestContext) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for run in _store(request).list(kinds.RUN, ctx.org, ctx.sandbox):
        fid = run.get("flowId")
        if fid and (fid not in latest or run.get("createdAt", 0) >= latest[fid].get("createdAt", 0)):
            latest[fid] = run
    return latest


def _render_flow(request: Request, doc: dict[str, Any], latest_runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = _public(doc)
    inlet_id = doc.get("_inletId")
    if inlet_id:
        out["options"] = {**(out.get("options") or {}), "inletUrl": f"{_base_url(request)}/collection/{inlet_id}"}
    run = latest_runs.get(doc["id"])
    if run:
        m = run.get("metrics") or {}
        out["lastRunDetails"] = {
            "id": run["id"],
            "state": (m.get("statusSummary") or {}).get("status"),
            "startedAtUTC": (m.get("durationSummary") or {}).get("startedAtUTC"),
            "completedAtUTC": (m.get("durationSummary") or {}).get("completedAtUTC"),
        }
    return out


@router.get("/flows")
async def list_flows(request: Request, ctx: Ctx):
    """List flows (filters such as property=sourceConnectionIds[]==a,b or state==enabled)."""
    runs = _latest_runs(request, ctx)
    docs = _store(request).list(kinds.FLOW, ctx.org, ctx.sandbox)
    return _list_response(request, "flows", [_render_flow(request, d, runs) for d in docs])


@router.get("/flows/{flow_id}")
async def get_flow(request: Request, ctx: Ctx, flow_id: str):
    """One flow, with options.inletUrl and lastRunDetails, wrapped in items."""
    doc = _get(request, ctx, "flows", flow_id)
    return _items(_render_flow(request, doc, _latest_runs(request, ctx)))


@router.patch("/flows/{flow_id}")
async def patch_flow(request: Request, ctx: Ctx, flow_id: str):
    """JSON Patch a flow (/name, /description, /scheduleParams/*, /transformations/{i}, ...)."""
    return await _patch_entity(request, ctx, "flows", flow_id)


@router.delete("/flows/{flow_id}")
async def delete_flow(request: Request, ctx: Ctx, flow_id: str):
    """Delete a flow, unregister its inlet and drop its runs.

    The runs go with the flow: AEP documents no way to read the runs of a deleted flow,
    and a destroyed pipeline should leave nothing behind.
    """
    store = _store(request)
    with store.tx():
        doc = _get(request, ctx, "flows", flow_id)
        for run in store.list(kinds.RUN, ctx.org, ctx.sandbox):
            if run.get("flowId") == flow_id:
                store.delete(kinds.RUN, ctx.org, ctx.sandbox, run["id"])
        inlet_id = doc.get("_inletId")
        if inlet_id:
            inlet = store.get(kinds.INLET, "", "", inlet_id)
            remaining = [f for f in (inlet or {}).get("flowIds", []) if f != flow_id]
            if remaining:
                store.put(kinds.INLET, "", "", inlet_id, {**inlet, "flowIds": remaining})
            else:
                store.delete(kinds.INLET, "", "", inlet_id)
        return _delete_entity(request, ctx, "flows", flow_id)


_ACTIONS = {"enable": "enabled", "disable": "disabled"}


@router.post("/flows/{flow_id}/action")
async def flow_action(request: Request, ctx: Ctx, flow_id: str):
    """Enable or disable a flow (?op=enable|disable, any case; subOp optional; If-Match optional)."""
    op = request.query_params.get("op")
    store = _store(request)
    with store.tx():
        doc = _get(request, ctx, "flows", flow_id)
        _check_if_match(request, doc, required=False)
        if not op or op.lower() not in _ACTIONS:
            raise _invalid(f"Operation {op!r} is not a legal action for flow {flow_id}.", ILLEGAL_ACTION)
        now = now_ms()
        doc["state"] = _ACTIONS[op.lower()]
        doc["lastOperation"] = {"started": now, "updated": now, "operation": op.lower()}
        _touch(ctx, doc)
        store.put(kinds.FLOW, ctx.org, ctx.sandbox, flow_id, doc)
    return _json({"id": flow_id, "etag": doc["etag"]})


# -- runs (written by the inlet; read here) -------------------------------------------------

def _render_run(ctx: RequestContext, run: dict[str, Any]) -> dict[str, Any]:
    out = _public(run)
    out.setdefault("imsOrgId", ctx.org)
    out.setdefault("sandboxName", ctx.sandbox)
    out.setdefault("sandboxId", sandbox_id(ctx))
    return out


@router.get("/runs")
async def list_runs(request: Request, ctx: Ctx):
    """List flow runs (usually property=flowId==<id>)."""
    docs = _store(request).list(kinds.RUN, ctx.org, ctx.sandbox)
    return _list_response(request, "runs", [_render_run(ctx, d) for d in docs])


@router.get("/runs/{run_id}")
async def get_run(request: Request, ctx: Ctx, run_id: str):
    """One run, wrapped in items."""
    return _items(_render_run(ctx, _get(request, ctx, "runs", run_id)))
