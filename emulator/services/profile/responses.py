"""Profile Access's entity route (/data/core/ups/access/entities), read-only: see models.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...gateway import RequestContext, gateway

router = APIRouter()
_ctx = Depends(gateway("profile"))


@router.get("/access/entities")
def get_entity(request: Request, ctx: RequestContext = _ctx):
    """The merged profile of `entityId` in namespace `entityIdNS` (`schema.name=_xdm.context.profile`)."""
    q = request.query_params
    return request.app.state.profile.entity(ctx, q.get("schema.name"), q.get("entityId"), q.get("entityIdNS"))
