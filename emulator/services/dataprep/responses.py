"""Data Prep's routes (/data/foundation/conversion): mapping sets, their listing and query flags.

The rules and the store are models.py's (DataPrep); this module reads bodies and query
parameters (`validate`, `expandSchema`, `version`, `limit`/`start`) and shapes the answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ...gateway import RequestContext, gateway
from .. import listing
from .._common import query_int, read_json
from .models import DataPrep, bad, summary

router = APIRouter()
_ctx = Depends(gateway("dataprep"))

# orderBy names Data Prep takes -> the stamp it sorts by
_ORDER_FIELDS = {"createdDate": "createdDate", "updatedDate": "modifiedDate",
                 "lastUpdateDate": "modifiedDate", "modifiedDate": "modifiedDate"}


def _dp(request: Request) -> DataPrep:
    return request.app.state.dataprep


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


@router.post("/mappingSets")
async def create_mapping_set(request: Request, ctx: RequestContext = _ctx):
    """Create a mapping set: 200 (not 201) with {id, version: 0, createdDate, modifiedDate, createdBy, modifiedBy}."""
    return summary(_dp(request).create(ctx, await read_json(request, bad), _flag(request, "validate")))


@router.get("/mappingSets")
def list_mapping_sets(request: Request, ctx: RequestContext = _ctx):
    """List the latest version of every mapping set; `limit` and `start` are both required."""
    q = request.query_params
    if "limit" not in q or "start" not in q:
        raise bad("Query parameters 'limit' and 'start' are required")
    # int32 in the spec, like most of Data Prep's integers.
    limit = query_int(request, "limit", None, bad, minimum=1, maximum=2 ** 31 - 1)
    start = query_int(request, "start", None, bad, maximum=2 ** 31 - 1)
    dp = _dp(request)
    docs = dp.latest(ctx)
    if q.get("name"):
        docs = [d for d in docs if d.get("name") == q["name"]]
    order = q.get("orderBy")
    if order:
        field = _ORDER_FIELDS.get(order.lstrip("+-"))
        if field is None:
            raise bad(f"orderBy must be createdDate or updatedDate, got '{order}'")
        docs = listing.ordered(docs, [field], order.startswith("-"))
    page, more = listing.page(docs, start, limit)
    if _flag(request, "expandSchema"):
        page = [dp.expand(ctx, d) for d in page]
    body: dict[str, Any] = {"data": page, "_page": {"count": len(page), "limit": limit}}
    if more:
        body["_links"] = {"next": {"href": f"/mappingSets?limit={limit}&start={start + limit}"}}
    return body


@router.post("/mappingSets/validate")
async def validate_mapping_set(request: Request, ctx: RequestContext = _ctx):
    """Validate a proposed mapping set without storing it: {"validationResponse": [...]}, one per mapping."""
    return {"validationResponse": _dp(request).validate(ctx, await read_json(request, bad))}


@router.post("/mappingSets/preview")
async def preview_mapping_set(request: Request, ctx: RequestContext = _ctx):
    """Map sample rows with a proposed mapping set: {data, errors} per row (a single object for a single row)."""
    body = await read_json(request, bad)
    if not isinstance(body, dict):
        raise bad("The preview request needs 'mappingSet' and 'data'")
    return _dp(request).preview(ctx, body.get("mappingSet"), body.get("data"))


def _version(request: Request, ctx: RequestContext, set_id: str) -> dict[str, Any]:
    """The requested (`?version=N`) or latest version; 404 for a set or version that does not exist."""
    dp = _dp(request)
    stored = dp.stored(ctx, set_id)  # an unknown set is a 404 before a malformed version is a 400
    return dp.version(ctx, stored, query_int(request, "version", None, bad))


@router.get("/mappingSets/{set_id}")
def get_mapping_set(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """One mapping set version (latest unless `?version=N`); `expandSchema=true` embeds the output schema."""
    doc = _version(request, ctx, set_id)
    return _dp(request).expand(ctx, doc) if _flag(request, "expandSchema") else doc


@router.put("/mappingSets/{set_id}")
async def update_mapping_set(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace the mapping set with a full body: same id, version + 1; older versions stay readable."""
    return _dp(request).update(ctx, set_id, await read_json(request, bad), _flag(request, "validate"))


@router.delete("/mappingSets/{set_id}")
def delete_mapping_set(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete a mapping set and all its versions: 204, then 404."""
    _dp(request).delete(ctx, set_id)
    return Response(status_code=204)


@router.get("/mappingSets/{set_id}/mappings")
def list_mappings(set_id: str, request: Request, ctx: RequestContext = _ctx):
    """The mappings of the latest (or `?version=N`) version, as a bare array."""
    return _version(request, ctx, set_id)["mappings"]


@router.get("/mappingSets/{set_id}/mappings/{mapping_id}")
def get_mapping(set_id: str, mapping_id: str, request: Request, ctx: RequestContext = _ctx):
    """One mapping of the latest (or `?version=N`) version."""
    return _dp(request).mapping(_version(request, ctx, set_id), mapping_id)
