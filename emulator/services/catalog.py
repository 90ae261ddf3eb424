"""Catalog Service datasets (/data/foundation/catalog).

Catalog's shapes differ from the other services: create answers 201 with a one-element
array of `@/dataSets/<id>` references, reads answer an object keyed by dataset id, and
delete answers 200 (an empty array for ids that do not exist). Dataset ids are 24-hex.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .. import kinds, xdm
from ..errors import AEPError, service_error
from ..gateway import RequestContext, gateway
from . import listing
from ._common import hex_id, now_ms, query_int, read_json
from .flow_patch import PatchError, apply_patch, merge_patch

router = APIRouter()
_ctx = Depends(gateway("catalog"))

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# Fields Catalog computes; a request body can never set them.
_SERVER_FIELDS = {"id", "version", "imsOrg", "created", "updated", "createdClient", "createdUser", "updatedUser",
                  "viewId", "basePath", "files"}


def _bad(message: str) -> AEPError:
    return service_error(400, "CAT-1003", message)


# Catalog's filters (docs/emulator.md, Catalog): every operator, comma alternatives, `!path` for absent.
FILTERS = listing.FilterSyntax(ops=("==", "!=", ">=", "<=", ">", "<", "~"), error=_bad, negation=True)


def _not_found(dataset_id: str) -> AEPError:
    return service_error(404, "CAT-1101", f"Dataset {dataset_id} was not found")


def _ref(dataset_id: str) -> str:
    return f"@/dataSets/{dataset_id}"


def _view(doc: dict[str, Any], properties: str | None = None) -> dict[str, Any]:
    body = {k: v for k, v in doc.items() if k != "id"}
    if properties:
        keep = {p.strip() for p in properties.split(",") if p.strip()}
        body = {k: v for k, v in body.items() if k in keep}
    return body


def _check_request(ctx: RequestContext, store, body: Any) -> dict[str, Any]:
    """Validate a dataSetRequest body; return the user-settable fields."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object")
    fields = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
    for key in ("name", "description"):
        if key in fields and not isinstance(fields[key], str):
            raise _bad(f"'{key}' must be a string")
    tags = fields.get("tags")
    if tags is not None and not (isinstance(tags, dict) and all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in tags.values())):
        raise _bad("'tags' must be an object whose values are arrays of strings")
    if "schemaRef" in fields:
        ref = fields["schemaRef"]
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
            raise _bad("'schemaRef.id' must be the $id of an XDM schema")
        if not isinstance(ref.get("contentType", ""), str):
            raise _bad("'schemaRef.contentType' must be a string")
        if xdm.get_schema(store, ctx.org, ctx.sandbox, ref["id"]) is None:
            raise _bad(f"Schema {ref['id']} does not exist in sandbox '{ctx.sandbox}'")
        fields["schemaRef"] = {"id": ref["id"],
                               "contentType": ref.get("contentType") or "application/vnd.adobe.xed+json;version=1"}
    return fields


def _bump(version: str) -> str:
    """Catalog versions are semver strings; every modification bumps the patch number."""
    try:
        major, minor, patch = (int(x) for x in version.split("."))
    except ValueError:
        return "1.0.1"
    return f"{major}.{minor}.{patch + 1}"


# -- create ---------------------------------------------------------------------------


@router.post("/dataSets")
@router.post("/datasets", include_in_schema=False)
async def create_dataset(request: Request, ctx: RequestContext = _ctx):
    """Create a dataset: 201 `["@/dataSets/<id>"]` with a Location header."""
    store = request.app.state.store
    fields = _check_request(ctx, store, await read_json(request, _bad))
    ds_id = hex_id(12)
    now = now_ms()
    doc = {
        "name": fields.pop("name", ds_id),
        "description": fields.pop("description", ""),
        "tags": fields.pop("tags", {}),
        "observableSchema": fields.pop("observableSchema", {}),
        **fields,
        "imsOrg": ctx.org,
        "version": "1.0.0",
        "created": now,
        "updated": now,
        "createdClient": ctx.client_id,
        "createdUser": ctx.user,
        "updatedUser": ctx.user,
        "viewId": hex_id(12),
        "basePath": f"emulator://{ctx.sandbox}/dataSets/{ds_id}",
        "files": f"@/dataSetFiles?dataSetId={ds_id}",
        "id": ds_id,
    }
    store.put(kinds.DATASET, ctx.org, ctx.sandbox, ds_id, doc)
    return JSONResponse([_ref(ds_id)], status_code=201,
                        headers={"Location": f"/data/foundation/catalog/dataSets/{ds_id}"})


# -- read -----------------------------------------------------------------------------


@router.get("/dataSets")
@router.get("/datasets", include_in_schema=False)
def list_datasets(request: Request, ctx: RequestContext = _ctx):
    """List datasets as one object keyed by id, filtered by `property`, paged by `limit`/`start`."""
    q = request.query_params
    limit = query_int(request, "limit", DEFAULT_LIMIT, _bad, minimum=1)
    # Catalog documents 100 as the maximum page size; larger requests get 100 rather than an error.
    limit = min(limit, MAX_LIMIT)
    start = query_int(request, "start", 0, _bad)
    docs = request.app.state.store.list(kinds.DATASET, ctx.org, ctx.sandbox)
    docs = FILTERS.select(docs, q.getlist("property"))
    for simple in ("name", "description", "createdClient", "createdUser", "updatedUser", "version"):
        if simple in q:
            docs = [d for d in docs if str(d.get(simple)) == q[simple]]
    for stamp in ("created", "updated"):  # epoch-ms integers in the spec, matched exactly
        if stamp in q:
            value = query_int(request, stamp, None, _bad, minimum=-(2 ** 63))
            if value >= 2 ** 63:
                raise _bad(f"Query parameter '{stamp}' is out of range")
            docs = [d for d in docs if d.get(stamp) == value]
    if q.get("enableErrorDiagnostics", "false").lower() not in ("true", "false"):
        raise _bad("Query parameter 'enableErrorDiagnostics' must be true or false")
    docs = _order(docs, q.get("orderBy") or q.get("sort"))
    page = docs[start:start + limit]
    return {d["id"]: _view(d, q.get("properties")) for d in page}


@router.get("/dataSets/{dataset_id}")
@router.get("/datasets/{dataset_id}", include_in_schema=False)
def get_dataset(dataset_id: str, request: Request, ctx: RequestContext = _ctx):
    """One dataset as `{"<id>": {...}}`; 404 when it does not exist in this sandbox."""
    doc = kinds.dataset(request.app.state.store, ctx.org, ctx.sandbox, dataset_id)
    if doc is None:
        raise _not_found(dataset_id)
    return {dataset_id: _view(doc, request.query_params.get("properties"))}


def _order(docs: list[dict[str, Any]], spec: str | None) -> list[dict[str, Any]]:
    """`orderBy=asc:created` / `desc:updated` (default: creation order)."""
    if not spec:
        return docs
    direction, _, fields = spec.partition(":")
    if not fields:
        direction, fields = "asc", direction
    keys = [f.strip() for f in fields.split(",") if f.strip()]
    return listing.ordered(docs, keys, direction.lower() == "desc")


# -- update ---------------------------------------------------------------------------


def _save_update(request: Request, ctx: RequestContext, doc: dict[str, Any], new_fields: dict[str, Any]):
    store = request.app.state.store
    updated = {k: v for k, v in doc.items() if k in _SERVER_FIELDS}
    updated.update(new_fields)
    updated.update(version=_bump(doc.get("version", "1.0.0")), updated=now_ms(), updatedUser=ctx.user)
    store.put(kinds.DATASET, ctx.org, ctx.sandbox, doc["id"], updated)
    return [_ref(doc["id"])]


@router.put("/dataSets/{dataset_id}")
@router.put("/datasets/{dataset_id}", include_in_schema=False)
async def replace_dataset(dataset_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace every user-settable field: 200 `["@/dataSets/<id>"]`."""
    store = request.app.state.store
    doc = kinds.dataset(store, ctx.org, ctx.sandbox, dataset_id)
    if doc is None:
        raise _not_found(dataset_id)
    fields = _check_request(ctx, store, await read_json(request, _bad))
    fields.setdefault("name", doc.get("name"))
    fields.setdefault("tags", {})
    return _save_update(request, ctx, doc, fields)


@router.patch("/dataSets/{dataset_id}")
@router.patch("/datasets/{dataset_id}", include_in_schema=False)
async def patch_dataset(dataset_id: str, request: Request, ctx: RequestContext = _ctx):
    """Update a dataset with a JSON Patch array or a JSON merge object: 200 `["@/dataSets/<id>"]`."""
    store = request.app.state.store
    doc = kinds.dataset(store, ctx.org, ctx.sandbox, dataset_id)
    if doc is None:
        raise _not_found(dataset_id)
    body = await read_json(request, _bad)
    if not isinstance(body, (list, dict)):
        raise _bad("A PATCH body must be a JSON Patch array or a JSON object")
    user = {k: v for k, v in doc.items() if k not in _SERVER_FIELDS}
    try:
        patched = apply_patch(user, body) if isinstance(body, list) else merge_patch(user, body)
    except PatchError as exc:
        raise _bad(f"Invalid patch: {exc}") from None
    if patched.get("schemaRef") == doc.get("schemaRef"):
        patched.pop("schemaRef", None)  # unchanged: skip re-validating a schema that may have been deleted
        fields = _check_request(ctx, store, patched)
        if "schemaRef" in doc:
            fields["schemaRef"] = doc["schemaRef"]
    else:
        fields = _check_request(ctx, store, patched)
    return _save_update(request, ctx, doc, fields)


# -- delete ---------------------------------------------------------------------------


@router.delete("/dataSets/{dataset_id}")
@router.delete("/datasets/{dataset_id}", include_in_schema=False)
def delete_dataset(dataset_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete: 200 `["@/dataSets/<id>"]`, or 200 `[]` when the id is unknown (as Catalog does)."""
    deleted = request.app.state.store.delete(kinds.DATASET, ctx.org, ctx.sandbox, dataset_id)
    return [_ref(dataset_id)] if deleted else []
