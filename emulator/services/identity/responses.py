"""Identity Service's routes (/data/core/idnamespace): namespaces as identity-service.yaml shapes them.

The list is a bare array; create answers 200 with the namespace; update answers 200 with a
one-element array (the spec's `updateNamespace` list). There is no DELETE: AEP offers none, so
the route table answers 405 in the service's shape. The rules are models.py's.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...gateway import RequestContext, gateway
from .._common import read_json
from .models import IdentityService, bad

router = APIRouter()
_ctx = Depends(gateway("identity"))


def _identity(request: Request) -> IdentityService:
    return request.app.state.identity


@router.get("/identities")
def list_namespaces(request: Request, ctx: RequestContext = _ctx):
    """Every namespace the sandbox sees: standard (`custom: false`) and custom."""
    return _identity(request).namespaces(ctx)


@router.post("/identities")
async def create_namespace(request: Request, ctx: RequestContext = _ctx):
    """Create a custom namespace from {name, code, idType, description}: 200 with it."""
    return _identity(request).create(ctx, await read_json(request, bad))


@router.get("/identities/{namespace_id}")
def get_namespace(namespace_id: str, request: Request, ctx: RequestContext = _ctx):
    """One namespace by numeric id."""
    return _identity(request).get(ctx, namespace_id)


@router.put("/identities/{namespace_id}")
async def update_namespace(namespace_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace a custom namespace's name and description: 200 `[namespace]`."""
    service = _identity(request)
    service.get(ctx, namespace_id)  # an unknown id is a 404 before a malformed body is a 400
    return [service.update(ctx, namespace_id, await read_json(request, bad))]
