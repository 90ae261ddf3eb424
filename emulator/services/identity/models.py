"""Identity Service's backend: identity namespaces, their rules and their store, without HTTP.

Standard namespaces (ECID, Email, Phone, ...) are constants every sandbox sees (kinds.py);
custom ones are stored per (org, sandbox). AEP lets a custom namespace's name and description
change, never its code or idType, and offers no way to delete one
(identity-service/features/namespaces.md), so neither does this backend.
"""

from __future__ import annotations

import re
from typing import Any

from ... import kinds
from ...errors import AEPError, identity_error
from ...gateway import RequestContext
from ...store import Store
from .._common import now_ms

# The idType values, spelled as namespaceCreate's enum in identity-service.yaml. AEP takes
# them in any letter case (its own docs and error messages mix COOKIE and Cookie); a custom
# namespace stores the spec's spelling.
ID_TYPES = ("Cookie", "Cross_device", "Device", "Email", "Mobile", "Non_people", "Phone")
_ID_TYPE_BY_LOWER = {t.lower(): t for t in ID_TYPES}
# "May contain only letters and numbers" (namespaceCreate.code).
_CODE = re.compile(r"[A-Za-z0-9]+")
# Custom namespace ids are integers well above the standard ones, as in AEP's examples (10093197).
FIRST_CUSTOM_ID = 10_000_000


def bad(description: str) -> AEPError:
    """Identity Service's 400 (INVALID_REQUEST_PARAMS)."""
    return identity_error(400, "Namespace validation", description, "INVALID_REQUEST_PARAMS")


def not_found(namespace_id: Any, org: str) -> AEPError:
    """Identity Service's 404 (NAMESPACE_NOT_FOUND)."""
    return identity_error(404, "Namespace validation", f"Namespace id {namespace_id} not found for given IMS Org {org}",
                          "NAMESPACE_NOT_FOUND")


def _id_type(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in _ID_TYPE_BY_LOWER:
        raise bad(f"Please provide a valid value of idType. Valid values are: {list(ID_TYPES)} (any letter case)")
    return _ID_TYPE_BY_LOWER[value.lower()]


def _check_body(body: Any) -> dict[str, Any]:
    """The checked fields of a create or update body: name, code, idType, description."""
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object with name, code and idType")
    for key in ("name", "code", "idType"):
        if key not in body or body[key] is None:
            raise bad(f"'{key}' is required")
    if not isinstance(body["name"], str) or not body["name"].strip():
        raise bad("'name' must be a non-empty string")
    if not isinstance(body["code"], str) or not _CODE.fullmatch(body["code"]):
        raise bad(f"'code' must contain only letters and numbers, got {body['code']!r}")
    description = body.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise bad("'description' must be a string")
    return {"name": body["name"], "code": body["code"], "idType": _id_type(body["idType"]), "description": description}


class IdentityService:
    """The Identity Service namespace backend over one Store."""

    def __init__(self, store: Store):
        self.store = store

    def namespaces(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Standard namespaces, then the sandbox's custom ones."""
        return kinds.namespaces(self.store, ctx.org, ctx.sandbox)

    def get(self, ctx: RequestContext, namespace_id: str) -> dict[str, Any]:
        """One namespace by its numeric id; 404 when the sandbox sees none with that id."""
        if not re.fullmatch(r"[0-9]+", namespace_id or ""):
            raise bad(f"Namespace id must be an integer, got {namespace_id!r}")
        doc = next((n for n in self.namespaces(ctx) if n["id"] == int(namespace_id)), None)
        if doc is None:
            raise not_found(namespace_id, ctx.org)
        return doc

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        """Create a custom namespace; 409 when its code (or name) is taken, case-insensitively."""
        fields = _check_body(body)
        with self.store.tx():
            existing = self.namespaces(ctx)
            if any(n["code"].lower() == fields["code"].lower() for n in existing):
                raise identity_error(409, "NAMESPACE_CODE_CONFLICT",
                                     "Namespace code already exists. Please use a different code",
                                     "INTEGRATION_CODE_EXISTS")
            if any(n["name"].strip().lower() == fields["name"].strip().lower() for n in existing):
                raise identity_error(409, "NAMESPACE_NAME_CONFLICT",
                                     "Namespace name already exists. Please use a different name",
                                     "INTEGRATION_NAME_EXISTS")
            nid = max([FIRST_CUSTOM_ID - 1] + [n["id"] for n in existing if n["custom"]]) + 1
            now = now_ms()
            doc = {"updateTime": now, "code": fields["code"], "status": "ACTIVE", "description": fields["description"],
                   "id": nid, "createTime": now, "idType": fields["idType"], "name": fields["name"], "custom": True}
            self.store.put(kinds.NAMESPACE, ctx.org, ctx.sandbox, str(nid), doc)
        return doc

    def update(self, ctx: RequestContext, namespace_id: str, body: Any) -> dict[str, Any]:
        """Replace a custom namespace's name and description; code and idType must be sent unchanged."""
        with self.store.tx():
            doc = self.get(ctx, namespace_id)
            if not doc["custom"]:
                raise bad(f"Namespace {doc['code']} is a standard namespace; only custom namespaces can be updated")
            fields = _check_body(body)
            if fields["code"] != doc["code"] or fields["idType"] != _id_type(doc["idType"]):
                raise bad("code and idType are non editable fields")
            others = [n for n in self.namespaces(ctx) if n["id"] != doc["id"]]
            if any(n["name"].strip().lower() == fields["name"].strip().lower() for n in others):
                raise identity_error(409, "NAMESPACE_NAME_CONFLICT",
                                     "Namespace name already exists. Please use a different name",
                                     "INTEGRATION_NAME_EXISTS")
            doc = {**doc, "name": fields["name"], "description": fields["description"], "updateTime": now_ms()}
            self.store.put(kinds.NAMESPACE, ctx.org, ctx.sandbox, str(doc["id"]), doc)
        return doc
