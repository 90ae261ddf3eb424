"""Schema Registry's routes (/data/foundation/schemaregistry): Accept negotiation, listings, status codes.

Lookups demand a versioned `application/vnd.adobe.{xed|xdm}[-variant]+json; version=1` Accept
header and listings an unversioned `xed-id`/`xed` one, with the registry's own XDM-xxxx errors.
The rules and the store are models.py's (SchemaRegistry).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ...errors import xdm_error
from ...gateway import RequestContext, gateway
from .. import listing
from .._common import read_json
from .models import SchemaRegistry, bad

router = APIRouter()
_ctx = Depends(gateway("schemaregistry"))

BASE = "https://platform.adobe.io/data/foundation/schemaregistry"
LIST_LIMIT = 300  # the documented page size of Schema Registry listings

_LOOKUP_VARIANTS = {"", "-full", "-notext", "-full-notext", "-full-desc", "-deprecatefield"}
_LIST_VARIANTS = {"", "-id"}
_ACCEPT = re.compile(
    r"^\s*application/vnd\.adobe\.(?:xed|xdm)(?P<variant>-[a-z-]+)?\+json\s*"
    r"(?:;\s*version\s*=\s*(?P<version>[^;,\s]*)\s*)?$", re.I)

# Schema Registry's filters (docs/emulator.md, Lists): ==, != and ~ (a substring); a title may hold
# commas, so values are taken whole; and a filter it cannot read matches nothing rather than failing.
FILTERS = listing.FilterSyntax(ops=("==", "!=", "~"), error=None, regex=False, alternatives=False)


def _sr(request: Request) -> SchemaRegistry:
    return request.app.state.schemaregistry


def _parse_accept(request: Request) -> tuple[str, str | None] | None:
    """(variant, version) of the first `vnd.adobe` media type in Accept, or None when there is none."""
    for part in request.headers.get("accept", "").split(","):
        m = _ACCEPT.match(part)
        if m:
            return (m.group("variant") or "").lower(), m.group("version")
    return None


def _lookup_accept(request: Request, resource: dict[str, Any] | None = None) -> str:
    """The lookup variant; 400 XDM-1007 without a versioned Accept, 406 for a version that does not exist."""
    raw = request.headers.get("accept", "")
    parsed = _parse_accept(request)
    hint = ("A valid Accept value should look like application/vnd.adobe.'{xed|xdm'}+json; "
            "version=1 (Version should be specified)")
    if parsed is None or parsed[0] not in _LOOKUP_VARIANTS or not parsed[1]:
        raise xdm_error(400, 1007, "Accept header invalid", f"The supplied Accept header is not valid: {raw} - {hint}")
    variant, version = parsed
    major = str((resource or {}).get("version", "1")).split(".")[0]
    if version != major:
        raise xdm_error(406, 1016, "Not Acceptable",
                        f"The requested version {version} is not available for this resource "
                        f"(current major version {major})")
    return variant


def _list_accept(request: Request) -> str:
    """The listing variant ('-id' or ''); 400 XDM-1006 for anything else, including a version."""
    raw = request.headers.get("accept", "")
    parsed = _parse_accept(request)
    if parsed is None or parsed[0] not in _LIST_VARIANTS or parsed[1] is not None:
        raise xdm_error(400, 1006, "Accept header invalid",
                        f"The supplied Accept header is not valid: {raw} - A valid Accept value should look like "
                        "application/vnd.adobe.'{xed|xdm'}+json")
    return parsed[0]


def _collection(request: Request) -> str:
    """The collection a route serves: "schemas", "fieldgroups" (alias "mixins") or "classes"."""
    name = next(p for p in request.scope["route"].path.split("/") if p and not p.startswith("{") and p != "tenant")
    return "fieldgroups" if name == "mixins" else name


# -- stats and listings ----------------------------------------------------------------


@router.get("/stats")
def stats(request: Request, ctx: RequestContext = _ctx):
    """Tenant id and resource counts for the caller's org and sandbox."""
    return _sr(request).stats(ctx)


@router.get("/{container}/schemas")
@router.get("/{container}/fieldgroups")
@router.get("/{container}/mixins", include_in_schema=False)
@router.get("/{container}/classes")
def list_resources(container: str, request: Request, ctx: RequestContext = _ctx):
    """List schemas or field groups of the `tenant` container, or the built-in classes of `global`."""
    variant = _list_accept(request)
    collection = _collection(request)
    docs = _sr(request).listing(ctx, container, collection)
    return _listing(request, docs, variant, collection == "schemas", f"/{container}/{collection}")


def _listing(request: Request, docs: list[dict[str, Any]], variant: str, global_link: bool,
             path: str) -> dict[str, Any]:
    """Schema Registry listing: `property` filters, `orderby`, `start` (a sort-key value) and `limit`."""
    q = request.query_params
    docs = FILTERS.select(docs, q.getlist("property"))
    orderby = q.get("orderby")
    docs = listing.ordered_after(docs, orderby, q.get("start"))
    try:
        limit = min(int(q.get("limit", LIST_LIMIT)), 500)
    except ValueError:
        raise bad(f"Invalid limit '{q.get('limit')}'") from None
    page, more = docs[:limit], len(docs) > limit
    next_uri = None
    if more and orderby:
        name = orderby.split(",")[0].strip().lstrip("+-")
        next_uri = f"{BASE}{path}?orderby={orderby}&start={listing.key_text(page[-1], name)}&limit={limit}"
    if variant == "-id":
        results = [{"$id": d["$id"], "meta:altId": d["meta:altId"], "version": d["version"], "title": d["title"]}
                   for d in page]
    else:
        results = page
    links: dict[str, Any] = {"next": next_uri}
    if global_link:
        links["global_schemas"] = {"href": f"{BASE}/global/schemas"}
    return {"results": results, "_page": {"orderby": orderby or "", "next": next_uri, "count": len(results)},
            "_links": links}




# -- lookups and writes ----------------------------------------------------------------
# Each collection keeps the path parameter name it has always had ({class_id}, {fg_id},
# {schema_id}): metrics and fault rules key on the route templates.


def _lookup(request: Request, ctx: RequestContext, container: str, resource_id: str):
    if not resource_id:  # `/tenant/schemas/`: the path parameter matched nothing, so a listing
        return list_resources(container, request, ctx)
    sr = _sr(request)
    doc = sr.get(ctx, container, _collection(request), resource_id)
    return sr.render(ctx, doc, _lookup_accept(request, doc))


async def _create(request: Request, ctx: RequestContext) -> JSONResponse:
    body = await read_json(request, bad)
    return JSONResponse(_sr(request).create(ctx, _collection(request), body), status_code=201)


async def _replace(request: Request, ctx: RequestContext, resource_id: str) -> dict[str, Any]:
    body = await read_json(request, bad)
    return _sr(request).replace(ctx, _collection(request), resource_id, body)


async def _patch(request: Request, ctx: RequestContext, resource_id: str) -> dict[str, Any]:
    ops = await read_json(request, bad)
    return _sr(request).patch(ctx, _collection(request), resource_id, ops)


def _delete(request: Request, ctx: RequestContext, resource_id: str) -> Response:
    _sr(request).delete(ctx, _collection(request), resource_id)
    return Response(status_code=204)


@router.get("/{container}/classes/{class_id:path}")
def get_class(container: str, class_id: str, request: Request, ctx: RequestContext = _ctx):
    """Look up a built-in global class by `$id` or `meta:altId`."""
    sr = _sr(request)
    cls = sr.get(ctx, container, "classes", class_id)
    return sr.render(ctx, cls, _lookup_accept(request, cls))


@router.post("/tenant/fieldgroups")
@router.post("/tenant/fieldgroups/", include_in_schema=False)
@router.post("/tenant/mixins", include_in_schema=False)
@router.post("/tenant/schemas")
@router.post("/tenant/schemas/", include_in_schema=False)
async def create_resource(request: Request, ctx: RequestContext = _ctx):
    """Create a tenant field group, or a schema from one class and any field groups: 201 with it."""
    return await _create(request, ctx)


@router.get("/{container}/fieldgroups/{fg_id:path}")
@router.get("/{container}/mixins/{fg_id:path}", include_in_schema=False)
def get_field_group(container: str, fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Look up a field group by `meta:altId` or URL-encoded `$id`."""
    return _lookup(request, ctx, container, fg_id)


@router.put("/tenant/fieldgroups/{fg_id:path}")
@router.put("/tenant/mixins/{fg_id:path}", include_in_schema=False)
async def replace_field_group(fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace a field group (full body as for create): 200, version bumped."""
    return await _replace(request, ctx, fg_id)


@router.patch("/tenant/fieldgroups/{fg_id:path}")
@router.patch("/tenant/mixins/{fg_id:path}", include_in_schema=False)
async def patch_field_group(fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Apply an RFC 6902 patch to a field group: 200, version bumped."""
    return await _patch(request, ctx, fg_id)


@router.delete("/tenant/fieldgroups/{fg_id:path}")
@router.delete("/tenant/mixins/{fg_id:path}", include_in_schema=False)
def delete_field_group(fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete a field group: 204; 400 while a schema still references it."""
    return _delete(request, ctx, fg_id)


@router.get("/{container}/schemas/{schema_id:path}")
def get_schema(container: str, schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Look up a schema by `meta:altId` or URL-encoded `$id`, rendered per the Accept variant."""
    return _lookup(request, ctx, container, schema_id)


@router.put("/tenant/schemas/{schema_id:path}")
async def replace_schema(schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace a schema (full body as for create): 200, version bumped, same `$id`."""
    return await _replace(request, ctx, schema_id)


@router.patch("/tenant/schemas/{schema_id:path}")
async def patch_schema(schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Apply an RFC 6902 patch (no If-Match, as in AEP): 200 with the schema, version 1.0 -> 1.1."""
    return await _patch(request, ctx, schema_id)


@router.delete("/tenant/schemas/{schema_id:path}")
def delete_schema(schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete a schema: 204, then lookups answer 404."""
    return _delete(request, ctx, schema_id)
