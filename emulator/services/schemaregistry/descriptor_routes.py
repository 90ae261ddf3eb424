"""Schema Registry's descriptor routes (/{container}/descriptors): their own Accept types and shapes.

Listings take `application/vnd.adobe.xdm[-v2][-id|-link]+json` without a version (XDM-1008-400
otherwise): `-id` gives the `@id`s, `-link` the API paths, neither the full descriptors, each grouped
by `@type` (a type with none is left out); `-v2` pages instead, as a `results` array with `_page`
and `_links`. A lookup needs no Accept (descriptors are not versioned); a Schema Registry `xed`
one is refused (XDM-1009-400). Create answers 201 with the descriptor, an update 201 with its
`@id` (Experience League), delete 204. The rules are descriptors.py's.
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
from .descriptors import Descriptors
from .models import bad

router = APIRouter()
_ctx = Depends(gateway("schemaregistry"))

BASE = "https://platform.adobe.io/data/foundation/schemaregistry"
_LIST_ACCEPT = re.compile(r"^\s*application/vnd\.adobe\.xdm(?P<v2>-v2)?(?P<variant>-id|-link)?\+json\s*$", re.I)
_LOOKUP_OK = re.compile(r"^\s*(\*/\*|application/\*|application/json|application/vnd\.adobe\.xdm\+json)\s*(;.*)?$",
                        re.I)
# The descriptor filters: ==, != and ~ on top-level keys such as xdm:sourceSchema (values taken whole).
FILTERS = listing.FilterSyntax(ops=("==", "!=", "~"), error=None, regex=False, alternatives=False)


def _descriptors(request: Request) -> Descriptors:
    return request.app.state.descriptors


def _list_accept(request: Request) -> tuple[bool, str]:
    """(paged, variant '' | '-id' | '-link'); 400 XDM-1008 for anything else."""
    raw = request.headers.get("accept", "")
    for part in raw.split(","):
        m = _LIST_ACCEPT.match(part)
        if m:
            return bool(m.group("v2")), (m.group("variant") or "").lower()
    raise xdm_error(400, 1008, "Accept header invalid", f"The supplied Accept header is not valid: {raw} - "
                    "A valid Accept value should look like application/vnd.adobe.xdm-id+json")


def _item(doc: dict[str, Any], variant: str, container: str) -> Any:
    if variant == "-id":
        return doc["@id"]
    if variant == "-link":
        return f"/{container}/descriptors/{doc['@id']}"
    return doc


@router.get("/{container}/descriptors")
def list_descriptors(container: str, request: Request, ctx: RequestContext = _ctx):
    """List descriptors grouped by `@type`, or paged with an `xdm-v2` Accept."""
    paged, variant = _list_accept(request)
    q = request.query_params
    docs = FILTERS.select(_descriptors(request).listing(ctx, container), q.getlist("property"))
    if not paged:
        grouped: dict[str, list[Any]] = {}
        for d in docs:
            grouped.setdefault(d["@type"], []).append(_item(d, variant, container))
        return grouped
    orderby = q.get("orderby")
    docs = listing.ordered_after(docs, orderby, q.get("start"))
    raw_limit = q.get("limit", "300")
    if not raw_limit.isdigit():
        raise bad(f"Invalid limit '{raw_limit}'")
    limit = min(int(raw_limit), 500)
    page, more = docs[:limit], len(docs) > limit
    next_uri = None
    if more and orderby and page:
        name = orderby.split(",")[0].strip().lstrip("+-")
        after = listing.key_text(page[-1], name)
        next_uri = f"{BASE}/{container}/descriptors?orderby={orderby}&start={after}&limit={limit}"
    return {"results": [_item(d, variant, container) for d in page],
            "_page": {"orderby": orderby or "", "next": next_uri, "count": len(page)}, "_links": {"next": next_uri}}




@router.get("/{container}/descriptors/{descriptor_id}")
def get_descriptor(container: str, descriptor_id: str, request: Request, ctx: RequestContext = _ctx):
    """One descriptor by `@id`; no Accept needed."""
    accept = request.headers.get("accept", "")
    if accept.strip() and not any(_LOOKUP_OK.match(p) for p in accept.split(",")):
        raise xdm_error(400, 1009, "Accept header invalid", f"The supplied Accept header is not valid: {accept} - "
                        "A valid Accept value should look like application/vnd.adobe.xdm+json")
    return _descriptors(request).get(ctx, container, descriptor_id)


@router.post("/tenant/descriptors")
async def create_descriptor(request: Request, ctx: RequestContext = _ctx):
    """Create an identity descriptor: 201 with it."""
    doc = _descriptors(request).create(ctx, await read_json(request, bad))
    return JSONResponse(doc, status_code=201)


@router.put("/tenant/descriptors/{descriptor_id}")
async def replace_descriptor(descriptor_id: str, request: Request, ctx: RequestContext = _ctx):
    """Rewrite a descriptor (full body): 201 `{"@id"}`, as Experience League shows."""
    backend = _descriptors(request)
    backend.get(ctx, "tenant", descriptor_id)  # an unknown id is a 404 before a malformed body is a 400
    doc = backend.replace(ctx, descriptor_id, await read_json(request, bad))
    return JSONResponse({"@id": doc["@id"]}, status_code=201)


@router.delete("/tenant/descriptors/{descriptor_id}")
def delete_descriptor(descriptor_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete a descriptor: 204."""
    _descriptors(request).delete(ctx, descriptor_id)
    return Response(status_code=204)
