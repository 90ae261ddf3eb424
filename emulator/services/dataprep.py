"""Data Prep mapping sets (/data/foundation/conversion).

A mapping set is stored as `{"id", "versions": [...]}` (see kinds.MAPPING_SET): POST
creates version 0, each PUT appends an immutable new version under the same id, and
`?version=N` reads any of them, because flows pin the `mappingVersion` they were given.
Mappings are accepted in either dialect (the tutorial's sourceAttribute/destinationXdmPath
or the spec's sourceType/source/destination) and returned as the union of both.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from .. import kinds, mapping, xdm
from ..errors import AEPError, service_error
from ..gateway import RequestContext, gateway
from . import listing
from ._common import hex_id, now_ms, query_int, read_json

router = APIRouter()
_ctx = Depends(gateway("dataprep"))


def _bad(message: str) -> AEPError:
    return service_error(400, "DP-1001", message)


def _not_found(message: str) -> AEPError:
    return service_error(404, "DP-1404", message)


# -- normalisation --------------------------------------------------------------------


def _normalise_mapping(m: Any, i: int, ctx: RequestContext, now: int) -> dict[str, Any]:
    """One input mapping (either dialect) -> the stored union shape."""
    if not isinstance(m, dict):
        raise _bad(f"mappings[{i}] must be an object")
    dest_a, dest_b = m.get("destinationXdmPath"), m.get("destination")
    src_a, src_b = m.get("sourceAttribute"), m.get("source")
    if dest_a is not None and dest_b is not None and dest_a != dest_b:
        raise _bad(f"mappings[{i}]: 'destination' and 'destinationXdmPath' disagree")
    if src_a is not None and src_b is not None and src_a != src_b:
        raise _bad(f"mappings[{i}]: 'source' and 'sourceAttribute' disagree")
    dest = dest_a if dest_a is not None else dest_b
    source = src_a if src_a is not None else src_b
    if not isinstance(dest, str) or not dest:
        raise _bad(f"mappings[{i}] needs a 'destination' (or 'destinationXdmPath')")
    if not mapping.DESTINATION_PATH.match(dest):
        raise _bad(f"mappings[{i}]: invalid destination path '{dest}'")
    if source is not None and not isinstance(source, str):
        raise _bad(f"mappings[{i}]: 'source' must be a string")
    _check_mapping_types(m, i)
    raw_type = m.get("sourceType") or "ATTRIBUTE"
    if raw_type not in mapping.SOURCE_TYPES:
        raise _bad(f"mappings[{i}]: sourceType must be one of ATTRIBUTE, EXPRESSION, STATIC (got '{raw_type}')")
    out = {
        "id": m.get("id") if isinstance(m.get("id"), str) and m.get("id") else hex_id(16),
        "version": m.get("version", 0) if isinstance(m.get("version"), int) else 0,
        "createdDate": now,
        "modifiedDate": now,
        "createdBy": ctx.user,
        "modifiedBy": ctx.user,
        "sourceType": mapping.SOURCE_TYPES[raw_type],
        "source": source if source is not None else "",
        "destination": dest,
        "identity": bool(m.get("identity", False)),
        "primaryIdentity": bool(m.get("primaryIdentity", False)),
        "matchScore": float(m.get("matchScore", 0.0)) if isinstance(m.get("matchScore"), (int, float)) else 0.0,
        "functionVersion": m.get("functionVersion", 1) if isinstance(m.get("functionVersion"), int) else 1,
        "sourceAttribute": source if source is not None else "",
        "destinationXdmPath": dest,
    }
    for extra in ("name", "description", "identityGroup", "namespaceCode", "expressionAttributes"):
        if extra in m:
            out[extra] = m[extra]
    return out


# The types of the MappingOperation fields a client sets (server fields such as id, version and
# the created/modified stamps are the server's: a sent value is ignored, whatever its type).
_MAPPING_TYPES: dict[str, tuple[type, ...]] = {
    "sourceType": (str,), "name": (str,), "description": (str,), "identity": (bool,), "primaryIdentity": (bool,),
    "functionVersion": (int,), "matchScore": (int, float), "expressionAttributes": (list,),
    "identityGroup": (str,), "namespaceCode": (str,),
}


def _check_types(obj: dict[str, Any], types_by_key: dict[str, tuple[type, ...]], where: str,
                 nullable: frozenset[str] = frozenset()) -> None:
    """Sent fields have their spec type; null only where it means "not sent" (`nullable`)."""
    for key, types in types_by_key.items():
        if key not in obj or (obj[key] is None and key in nullable):
            continue
        value = obj[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise _bad(f"{where}{key} has the wrong type ({type(value).__name__})")


def _check_set_types(body: dict[str, Any]) -> None:
    """The client-set top-level fields of a mapping set (this project's provider sends name: null)."""
    _check_types(body, {"name": (str,), "description": (str,), "strictMapping": (bool,),
                        "allowNullValues": (bool,), "tags": (list,)}, "", nullable=frozenset({"name", "description"}))
    for tag in body.get("tags") or []:
        if not (isinstance(tag, dict) and isinstance(tag.get("name", ""), str)
                and isinstance(tag.get("values", []), list) and all(isinstance(v, str) for v in tag.get("values", []))):
            raise _bad("'tags' must be an array of {name, values: [strings]}")


def _check_mapping_types(m: dict[str, Any], i: int) -> None:
    # A null source is an empty one (the destination stays unset), as the tutorial's "" is.
    _check_types(m, {**_MAPPING_TYPES, "source": (str,), "sourceAttribute": (str,)}, f"mappings[{i}].",
                 nullable=frozenset({"source", "sourceAttribute"}))
    attrs = m.get("expressionAttributes")
    if isinstance(attrs, list) and not all(isinstance(a, str) for a in attrs):
        raise _bad(f"mappings[{i}].expressionAttributes must be an array of strings")


def _schema_ref(body: dict[str, Any]) -> dict[str, Any]:
    out = body.get("outputSchema")
    ref = out.get("schemaRef") if isinstance(out, dict) else None
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
        raise _bad("outputSchema.schemaRef.id is required")
    if ref.get("contentType") is not None and not isinstance(ref["contentType"], str):
        raise _bad("outputSchema.schemaRef.contentType must be a string")
    return {"id": ref["id"], "contentType": ref.get("contentType") or "application/vnd.adobe.xed-full+json;version=1"}


def _check_destinations(ctx: RequestContext, store, schema_id: str, mappings: list[dict[str, Any]]) -> None:
    """Every destination must be a field of the output schema (when that schema exists in this sandbox)."""
    schema = xdm.get_schema(store, ctx.org, ctx.sandbox, schema_id)
    if schema is None:
        return
    paths = xdm.field_paths(schema, store, ctx.org, ctx.sandbox)
    missing = [m["destination"] for m in mappings if m["destination"] not in paths]
    if missing:
        raise _bad(f"Destination path '{missing[0]}' does not exist in output schema {schema_id}"
                   + (f" (also: {', '.join(missing[1:])})" if len(missing) > 1 else ""))


def _build_version(body: Any, ctx: RequestContext, store, previous: dict[str, Any] | None,
                   validate: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad("The mapping set must be a JSON object")
    ref = _schema_ref(body)
    raw = body.get("mappings")
    if not isinstance(raw, list):
        raise _bad("'mappings' must be an array")
    _check_set_types(body)
    now = now_ms()
    mappings = [_normalise_mapping(m, i, ctx, now) for i, m in enumerate(raw)]
    _check_destinations(ctx, store, ref["id"], mappings)
    if validate:
        failures = [r for r in _validation(ctx, store, ref["id"], mappings) if r["status"] == "FAILED"]
        if failures:
            raise _bad("Mapping set validation failed: " + "; ".join(
                e["exception"] for r in failures for e in r["errors"]))
    first = previous["versions"][0] if previous else {}
    doc = {
        "id": previous["id"] if previous else hex_id(16),
        "version": len(previous["versions"]) if previous else 0,
        "createdDate": first.get("createdDate", now),
        "modifiedDate": now,
        "createdBy": first.get("createdBy", ctx.user),
        "modifiedBy": ctx.user,
        "supportVersion": "1.1",
        "outputSchema": {"id": (first.get("outputSchema") or {}).get("id") or hex_id(16), "version": 0,
                         "schemaRef": ref},
        "mappings": mappings,
        "status": "PUBLISHED",
        "strictMapping": bool(body.get("strictMapping", False)),
        "allowNullValues": bool(body.get("allowNullValues", False)),
        "xdmVersion": "1.0",
        "schemaRef": ref,
        "xdmSchema": ref["id"],
    }
    if isinstance(body.get("inputSchema"), dict):
        doc["inputSchema"] = body["inputSchema"]
    for extra in ("name", "description", "tags"):
        if extra in body:
            doc[extra] = body[extra]
    return doc


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")}


def _validation(ctx: RequestContext, store, schema_id: str, mappings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ValidationResponse per mapping: destination exists, source syntax, no duplicate destinations."""
    schema = xdm.get_schema(store, ctx.org, ctx.sandbox, schema_id)
    paths = xdm.field_paths(schema, store, ctx.org, ctx.sandbox) if schema else None
    seen: set[str] = set()
    out = []
    for m in mappings:
        problems = []
        if schema is None:
            problems.append(f"Output schema {schema_id} does not exist in sandbox '{ctx.sandbox}'")
        elif m["destination"] not in paths:
            problems.append(f"Destination path '{m['destination']}' does not exist in output schema {schema_id}")
        if m["destination"] in seen:
            problems.append(f"Destination path '{m['destination']}' is mapped more than once")
        seen.add(m["destination"])
        if m["sourceType"] == mapping.SCHEMA_PATH:
            if not m["source"]:
                problems.append(f"Source attribute for '{m['destination']}' is empty")
            elif not mapping.SOURCE_PATH.match(m["source"]):
                problems.append(f"Source attribute '{m['source']}' is not a valid path")
        elif m["sourceType"] == mapping.EXPRESSION:
            try:
                mapping.evaluate(m["source"], {})
            except mapping.MappingError as exc:
                problems.append(str(exc))
        input_type = {v: k for k, v in mapping.SOURCE_TYPES.items() if k.isupper()}[m["sourceType"]]
        out.append({"status": "FAILED" if problems else "SUCCESS",
                    "errors": [{"destination": m["destination"], "source": m["source"], "sourceType": input_type,
                                "exception": p} for p in problems]})
    return out


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _expand(doc: dict[str, Any], ctx: RequestContext, store) -> dict[str, Any]:
    schema = xdm.get_schema(store, ctx.org, ctx.sandbox, doc["outputSchema"]["schemaRef"]["id"])
    if schema is None:
        return doc
    full = xdm.full_view(schema, store, ctx.org, ctx.sandbox)
    return {**doc, "outputSchema": {**doc["outputSchema"], "jsonSchema": full}}


# -- routes ---------------------------------------------------------------------------


@router.post("/mappingSets")
async def create_mapping_set(request: Request, ctx: RequestContext = _ctx):
    """Create a mapping set: 200 (not 201) with {id, version: 0, createdDate, modifiedDate, createdBy, modifiedBy}."""
    store = request.app.state.store
    doc = _build_version(await read_json(request, _bad), ctx, store, None, _flag(request, "validate"))
    store.put(kinds.MAPPING_SET, ctx.org, ctx.sandbox, doc["id"], {"id": doc["id"], "versions": [doc]})
    return _summary(doc)


@router.get("/mappingSets")
def list_mapping_sets(request: Request, ctx: RequestContext = _ctx):
    """List the latest version of every mapping set; `limit` and `start` are both required."""
    q = request.query_params
    if "limit" not in q or "start" not in q:
        raise _bad("Query parameters 'limit' and 'start' are required")
    # int32 in the spec, like most of Data Prep's integers.
    limit = query_int(request, "limit", None, _bad, minimum=1, maximum=2 ** 31 - 1)
    start = query_int(request, "start", None, _bad, maximum=2 ** 31 - 1)
    store = request.app.state.store
    docs = [d["versions"][-1] for d in store.list(kinds.MAPPING_SET, ctx.org, ctx.sandbox)]
    if q.get("name"):
        docs = [d for d in docs if d.get("name") == q["name"]]
    order = q.get("orderBy")
    if order:
        key = order.lstrip("+-")
        field = {"createdDate": "createdDate", "updatedDate": "modifiedDate",
                 "lastUpdateDate": "modifiedDate", "modifiedDate": "modifiedDate"}.get(key)
        if field is None:
            raise _bad(f"orderBy must be createdDate or updatedDate, got '{order}'")
        docs = listing.ordered(docs, [field], order.startswith("-"))
    page, more = listing.page(docs, start, limit)
    if _flag(request, "expandSchema"):
        page = [_expand(d, ctx, store) for d in page]
    body: dict[str, Any] = {"data": page, "_page": {"count": len(page), "limit": limit}}
    if more:
        body["_links"] = {"next": {"href": f"/mappingSets?limit={limit}&start={start + limit}"}}
    return body


@router.post("/mappingSets/validate")
async def validate_mapping_set(request: Request, ctx: RequestContext = _ctx):
    """Validate a proposed mapping set without storing it: {"validationResponse": [...]}, one per mapping."""
    body = await read_json(request, _bad)
    if not isinstance(body, dict):
        raise _bad("The mapping set must be a JSON object")
    ref = _schema_ref(body)
    raw = body.get("mappings")
    if not isinstance(raw, list):
        raise _bad("'mappings' must be an array")
    _check_set_types(body)
    now = now_ms()
    mappings = [_normalise_mapping(m, i, ctx, now) for i, m in enumerate(raw)]
    return {"validationResponse": _validation(ctx, request.app.state.store, ref["id"], mappings)}


@router.post("/mappingSets/preview")
async def preview_mapping_set(request: Request, ctx: RequestContext = _ctx):
    """Map sample rows with a proposed mapping set: {data, errors} per row (a single object for a single row)."""
    body = await read_json(request, _bad)
    if not isinstance(body, dict) or not isinstance(body.get("mappingSet"), dict):
        raise _bad("The preview request needs 'mappingSet' and 'data'")
    ms = body["mappingSet"]
    ref = _schema_ref(ms)
    now = now_ms()
    mappings = [_normalise_mapping(m, i, ctx, now) for i, m in enumerate(ms.get("mappings") or [])]
    store = request.app.state.store
    schema = xdm.get_schema(store, ctx.org, ctx.sandbox, ref["id"])
    index = xdm.field_index(schema, store, ctx.org, ctx.sandbox) if schema else None
    rows = body.get("data")

    def one(row: Any) -> dict[str, Any]:
        record, errors = mapping.apply({"mappings": mappings}, row, index)
        return {"data": record, "errors": [{"exception": e} for e in errors]}

    return [one(r) for r in rows] if isinstance(rows, list) else one(rows if rows is not None else {})


def _stored(request: Request, ctx: RequestContext, set_id: str) -> dict[str, Any]:
    doc = request.app.state.store.get(kinds.MAPPING_SET, ctx.org, ctx.sandbox, set_id)
    if doc is None:
        raise _not_found(f"Mapping set {set_id} was not found")
    return doc


def _version(request: Request, ctx: RequestContext, set_id: str) -> dict[str, Any]:
    """The requested (`?version=N`) or latest version; 404 for a version that does not exist."""
    stored = _stored(request, ctx, set_id)
    version = query_int(request, "version", None, _bad)
    if version is None:
        return stored["versions"][-1]
    doc = kinds.mapping_version(request.app.state.store, ctx.org, ctx.sandbox, set_id, version)
    if doc is None:
        raise _not_found(f"Mapping set {set_id} has no version {version} (latest is {len(stored['versions']) - 1})")
    return doc


@router.get("/mappingSets/{set_id}")
def get_mapping_set(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """One mapping set version (latest unless `?version=N`); `expandSchema=true` embeds the output schema."""
    doc = _version(request, ctx, set_id)
    return _expand(doc, ctx, request.app.state.store) if _flag(request, "expandSchema") else doc


@router.put("/mappingSets/{set_id}")
async def update_mapping_set(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace the mapping set with a full body: same id, version + 1; older versions stay readable."""
    store = request.app.state.store
    body = await read_json(request, _bad)
    with store.tx():
        stored = _stored(request, ctx, set_id)
        doc = _build_version(body, ctx, store, stored, _flag(request, "validate"))
        store.put(kinds.MAPPING_SET, ctx.org, ctx.sandbox, set_id,
                  {"id": set_id, "versions": [*stored["versions"], doc]})
    return doc


@router.delete("/mappingSets/{set_id}")
def delete_mapping_set(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete a mapping set and all its versions: 204, then 404."""
    if not request.app.state.store.delete(kinds.MAPPING_SET, ctx.org, ctx.sandbox, set_id):
        raise _not_found(f"Mapping set {set_id} was not found")
    return Response(status_code=204)


@router.get("/mappingSets/{set_id}/mappings")
def list_mappings(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """The mappings of the latest (or `?version=N`) version, as a bare array."""
    return _version(request, ctx, set_id)["mappings"]


@router.get("/mappingSets/{set_id}/mappings/{mapping_id}")
def get_mapping(set_id: str, mapping_id: str, request: Request, ctx: RequestContext = _ctx):
    """One mapping of the latest (or `?version=N`) version."""
    for m in _version(request, ctx, set_id)["mappings"]:
        if m["id"] == mapping_id:
            return m
    raise _not_found(f"Mapping {mapping_id} was not found in mapping set {set_id}")
