"""Catalog Service's routes (/data/foundation/catalog): datasets in Catalog's own shapes.

Create answers 201 with a one-element array of `@/dataSets/<id>` references, reads answer an
object keyed by dataset id, and delete answers 200 (an empty array for ids that do not exist).
The rules and the store are models.py's (Catalog).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ...gateway import RequestContext, gateway
from .. import listing
from .._common import query_int, read_json
from .models import Catalog, bad, view

router = APIRouter()
_ctx = Depends(gateway("catalog"))

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# Catalog's filters (docs/emulator.md, Catalog): every operator, comma alternatives, `!path` for absent.
FILTERS = listing.FilterSyntax(ops=("==", "!=", ">=", "<=", ">", "<", "~"), error=bad, negation=True)
# Query parameters that match one top-level field exactly (the two stamps as epoch-ms integers).
_EXACT = ("name", "description", "createdClient", "createdUser", "updatedUser", "version")
_STAMPS = ("created", "updated")


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _ref(dataset_id: str) -> str:
    return f"@/dataSets/{dataset_id}"


@router.post("/dataSets")
@router.post("/datasets", include_in_schema=False)
async def create_dataset(request: Request, ctx: RequestContext = _ctx):
    """Create a dataset: 201 `["@/dataSets/<id>"]` with a Location header."""
    doc = _catalog(request).create(ctx, await read_json(request, bad))
    return JSONResponse([_ref(doc["id"])], status_code=201,
                        headers={"Location": f"/data/foundation/catalog/dataSets/{doc['id']}"})


@router.get("/dataSets")
@router.get("/datasets", include_in_schema=False)
def list_datasets(request: Request, ctx: RequestContext = _ctx):
    """List datasets as one object keyed by id, filtered by `property`, paged by `limit`/`start`."""
    q = request.query_params
    limit = query_int(request, "limit", DEFAULT_LIMIT, bad, minimum=1)
    # Catalog documents 100 as the maximum page size; larger requests get 100 rather than an error.
    limit = min(limit, MAX_LIMIT)
    start = query_int(request, "start", 0, bad)
    docs = FILTERS.select(_catalog(request).datasets(ctx), q.getlist("property"))
    for simple in _EXACT:
        if simple in q:
            docs = [d for d in docs if str(d.get(simple)) == q[simple]]
    for stamp in _STAMPS:
        if stamp in q:
            value = query_int(request, stamp, None, bad, minimum=-(2 ** 63))
            if value >= 2 ** 63:
                raise bad(f"Query parameter '{stamp}' is out of range")
            docs = [d for d in docs if d.get(stamp) == value]
    if q.get("enableErrorDiagnostics", "false").lower() not in ("true", "false"):
        raise bad("Query parameter 'enableErrorDiagnostics' must be true or false")
    docs = _order(docs, q.get("orderBy") or q.get("sort"))
    page, _ = listing.page(docs, start, limit)
    return {d["id"]: view(d, q.get("properties")) for d in page}


def _order(docs: list[dict[str, Any]], spec: str | None) -> list[dict[str, Any]]:
    """`orderBy=asc:created` / `desc:updated` (default: creation order)."""
    if not spec:
        return docs
    direction, _, fields = spec.partition(":")
    if not fields:
        direction, fields = "asc", direction
    keys = [f.strip() for f in fields.split(",") if f.strip()]
    return listing.ordered(docs, keys, direction.lower() == "desc")


@router.get("/dataSets/{dataset_id}")
@router.get("/datasets/{dataset_id}", include_in_schema=False)
def get_dataset(dataset_id: str, request: Request, ctx: RequestContext = _ctx):
    """One dataset as `{"<id>": {...}}`; 404 when it does not exist in this sandbox."""
    return {dataset_id: view(_catalog(request).get(ctx, dataset_id), request.query_params.get("properties"))}


@router.put("/dataSets/{dataset_id}")
@router.put("/datasets/{dataset_id}", include_in_schema=False)
@router.patch("/dataSets/{dataset_id}")
@router.patch("/datasets/{dataset_id}", include_in_schema=False)
async def update_dataset(dataset_id: str, request: Request, ctx: RequestContext = _ctx):
    """PUT replaces every user-settable field; PATCH takes a JSON Patch array or a JSON merge
    object. Both answer 200 `["@/dataSets/<id>"]`."""
    catalog = _catalog(request)
    doc = catalog.get(ctx, dataset_id)  # an unknown dataset is a 404 before a malformed body is a 400
    update = catalog.replace if request.method == "PUT" else catalog.patch
    update(ctx, doc, await read_json(request, bad))
    return [_ref(dataset_id)]


@router.delete("/dataSets/{dataset_id}")
@router.delete("/datasets/{dataset_id}", include_in_schema=False)
def delete_dataset(dataset_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete: 200 `["@/dataSets/<id>"]`, or 200 `[]` when the id is unknown (as Catalog does)."""
    return [_ref(dataset_id)] if _catalog(request).delete(ctx, dataset_id) else []
