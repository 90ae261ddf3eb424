"""Catalog Service's backend: datasets, their rules and their store, without HTTP.

A dataset is stored as the Catalog object plus its 24-hex "id". Methods take the caller's
RequestContext and raise AEPError in the shape Catalog sends (CAT-xxxx).
"""

from __future__ import annotations

from typing import Any

from ... import kinds, xdm
from ...errors import AEPError, service_error
from ...gateway import RequestContext
from ...store import Store
from .._common import hex_id, now_ms
from ..flow_patch import PatchError, apply_patch, merge_patch

# Fields Catalog computes; a request body can never set them.
SERVER_FIELDS = {"id", "version", "imsOrg", "created", "updated", "createdClient", "createdUser", "updatedUser",
                 "viewId", "basePath", "files"}


# The dataset tag that puts a dataset's data into Real-Time Customer Profile. Its twin
# `unifiedIdentity` (Identity Service) is not checked: the docs tie the Profile-enabled schema to
# the Profile tag (profile/tutorials/dataset-configuration.md), and this project sets both together.
PROFILE_TAGS = ("unifiedProfile",)


def bad(message: str) -> AEPError:
    """Catalog's 400 (CAT-1003-400)."""
    return service_error(400, "CAT-1003", message)


def not_found(dataset_id: str) -> AEPError:
    """Catalog's 404 (CAT-1101-404)."""
    return service_error(404, "CAT-1101", f"Dataset {dataset_id} was not found")


def view(doc: dict[str, Any], properties: str | None = None) -> dict[str, Any]:
    """A dataset as reads show it: without "id" and, with `properties=a,b`, only those top-level fields."""
    body = {k: v for k, v in doc.items() if k != "id"}
    if properties:
        keep = {p.strip() for p in properties.split(",") if p.strip()}
        body = {k: v for k, v in body.items() if k in keep}
    return body


def _bump(version: str) -> str:
    """Catalog versions are semver strings; every modification bumps the patch number."""
    try:
        major, minor, patch = (int(x) for x in version.split("."))
    except ValueError:
        return "1.0.1"
    return f"{major}.{minor}.{patch + 1}"


class Catalog:
    """The Catalog backend over one Store."""

    def __init__(self, store: Store):
        self.store = store

    def _check_request(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        """Validate a dataSetRequest body; return the user-settable fields."""
        if not isinstance(body, dict):
            raise bad("The request body must be a JSON object")
        fields = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
        for key in ("name", "description"):
            if key in fields and not isinstance(fields[key], str):
                raise bad(f"'{key}' must be a string")
        tags = fields.get("tags")
        if tags is not None and not (isinstance(tags, dict) and all(
                isinstance(v, list) and all(isinstance(s, str) for s in v) for v in tags.values())):
            raise bad("'tags' must be an object whose values are arrays of strings")
        if "schemaRef" in fields:
            ref = fields["schemaRef"]
            if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
                raise bad("'schemaRef.id' must be the $id of an XDM schema")
            if not isinstance(ref.get("contentType", ""), str):
                raise bad("'schemaRef.contentType' must be a string")
            if xdm.get_schema(self.store, ctx.org, ctx.sandbox, ref["id"]) is None:
                raise bad(f"Schema {ref['id']} does not exist in sandbox '{ctx.sandbox}'")
            fields["schemaRef"] = {"id": ref["id"],
                                   "contentType": ref.get("contentType") or "application/vnd.adobe.xed+json;version=1"}
        return fields

    def check_profile_tags(self, ctx: RequestContext, fields: dict[str, Any]) -> None:
        """`unifiedProfile: ["enabled:true"]` needs a schema enabled for Profile
        (profile/tutorials/dataset-configuration.md): 400 naming the schema otherwise."""
        tags = fields.get("tags") or {}
        enabled = [t for t in PROFILE_TAGS if "enabled:true" in (tags.get(t) or [])]
        if not enabled:
            return
        schema_id = (fields.get("schemaRef") or {}).get("id")
        schema = xdm.get_schema(self.store, ctx.org, ctx.sandbox, schema_id) if schema_id else None
        if not kinds.is_profile_schema(schema):
            raise bad(f"Tag {enabled[0]} enabled:true needs a schema enabled for Profile; schema "
                      f"{schema_id or '(none)'} has no 'union' in meta:immutableTags. Enable the schema first")

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        """Create a dataset from a dataSetRequest body; the stored dataset."""
        fields = self._check_request(ctx, body)
        self.check_profile_tags(ctx, fields)
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
        self.store.put(kinds.DATASET, ctx.org, ctx.sandbox, ds_id, doc)
        return doc

    def datasets(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Every dataset in the caller's sandbox, oldest first."""
        return self.store.list(kinds.DATASET, ctx.org, ctx.sandbox)

    def get(self, ctx: RequestContext, dataset_id: str) -> dict[str, Any]:
        """One dataset; 404 when it does not exist in this sandbox."""
        doc = kinds.dataset(self.store, ctx.org, ctx.sandbox, dataset_id)
        if doc is None:
            raise not_found(dataset_id)
        return doc

    def replace(self, ctx: RequestContext, doc: dict[str, Any], body: Any) -> dict[str, Any]:
        """Replace every user-settable field of `doc` (from get) with those of a full body."""
        fields = self._check_request(ctx, body)
        fields.setdefault("name", doc.get("name"))
        fields.setdefault("tags", {})
        return self._save_update(ctx, doc, fields)

    def patch(self, ctx: RequestContext, doc: dict[str, Any], body: Any) -> dict[str, Any]:
        """Update `doc` (from get) with a JSON Patch array or a JSON merge-patch object."""
        if not isinstance(body, (list, dict)):
            raise bad("A PATCH body must be a JSON Patch array or a JSON object")
        user = {k: v for k, v in doc.items() if k not in SERVER_FIELDS}
        try:
            patched = apply_patch(user, body) if isinstance(body, list) else merge_patch(user, body)
        except PatchError as exc:
            raise bad(f"Invalid patch: {exc}") from None
        if patched.get("schemaRef") == doc.get("schemaRef"):
            patched.pop("schemaRef", None)  # unchanged: skip re-validating a schema that may have been deleted
            fields = self._check_request(ctx, patched)
            if "schemaRef" in doc:
                fields["schemaRef"] = doc["schemaRef"]
        else:
            fields = self._check_request(ctx, patched)
        return self._save_update(ctx, doc, fields)

    def _save_update(self, ctx: RequestContext, doc: dict[str, Any], new_fields: dict[str, Any]) -> dict[str, Any]:
        updated = {k: v for k, v in doc.items() if k in SERVER_FIELDS}
        updated.update(new_fields)
        self.check_profile_tags(ctx, updated)
        updated.update(version=_bump(doc.get("version", "1.0.0")), updated=now_ms(), updatedUser=ctx.user)
        self.store.put(kinds.DATASET, ctx.org, ctx.sandbox, doc["id"], updated)
        return updated

    def delete(self, ctx: RequestContext, dataset_id: str) -> bool:
        """Delete a dataset; whether it existed (Catalog answers 200 either way)."""
        return self.store.delete(kinds.DATASET, ctx.org, ctx.sandbox, dataset_id)
