"""Schema Registry descriptors (/tenant/descriptors): identity descriptors, their rules and store, no HTTP.

Only `xdm:descriptorIdentity` is emulated. A descriptor names a schema of the sandbox by `$id`,
one of its string fields by a JSON-pointer-like path (`/_tenant/visitorId`, no `properties`
segments), and an identity namespace the sandbox sees, by code or numeric id. A schema has at
most one primary identity, and once it is enabled for Profile its primary identity stays.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from ... import kinds, xdm
from ...errors import AEPError, xdm_error
from ...gateway import RequestContext
from ...store import Store
from .._common import now_ms
from .models import bad, sandbox_meta

IDENTITY = "xdm:descriptorIdentity"
# Descriptor types AEP defines; only the identity descriptor is emulated.
KNOWN_TYPES = ("xdm:alternateDisplayInfo", "xdm:descriptorIdentity", "xdm:descriptorReferenceIdentity",
               "xdm:descriptorOneToOne", "xdm:descriptorRelationship", "xdm:descriptorPrimaryKey")
_SERVER_KEYS = {"@id", "imsOrg", "version", "meta:containerId", "meta:sandboxId", "meta:sandboxType",
                "meta:registryMetadata", "createdUser", "updatedUser", "createdClient", "created", "updated"}


def descriptor_not_found(descriptor_id: str) -> AEPError:
    """The registry's 404 for a descriptor (XDM-1012-404, as for every other resource)."""
    return xdm_error(404, 1012, "Resource Not Found", f"Requested descriptor {descriptor_id} is not found")


def property_path(pointer: Any) -> str:
    """`/_tenant/visitorId` -> `_tenant.visitorId`; 400 for what AEP's path rule refuses."""
    if not isinstance(pointer, str) or not pointer.startswith("/") or pointer.endswith("/") or pointer == "/":
        raise bad("'xdm:sourceProperty' must be a path that begins with '/' and does not end with one, "
                  f"got {pointer!r}", code=1031)
    parts = pointer[1:].split("/")
    if "properties" in parts or any(not p for p in parts):
        raise bad(f"'xdm:sourceProperty' {pointer!r} must name fields only: use '/personalEmail/address', "
                  "not '/properties/personalEmail/properties/address'", code=1031)
    return ".".join(parts)


class Descriptors:
    """The descriptor backend over one Store (the Schema Registry's `/descriptors` endpoint)."""

    def __init__(self, store: Store):
        self.store = store

    def listing(self, ctx: RequestContext, container: str) -> list[dict[str, Any]]:
        """Every descriptor of the container: the tenant's, in creation order (the global one holds none)."""
        if container not in ("tenant", "global"):
            raise xdm_error(404, 1012, "Resource Not Found", f"Requested resource container {container} is not found")
        return self.store.list(kinds.DESCRIPTOR, ctx.org, ctx.sandbox) if container == "tenant" else []

    def get(self, ctx: RequestContext, container: str, descriptor_id: str) -> dict[str, Any]:
        """One descriptor by `@id`."""
        doc = self.store.get(kinds.DESCRIPTOR, ctx.org, ctx.sandbox, descriptor_id) if container == "tenant" else None
        if doc is None:
            raise descriptor_not_found(descriptor_id)
        return doc

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        """Create a descriptor; the stored document (201)."""
        with self.store.tx():
            return self._save(ctx, self._check(ctx, body, None), None)

    def replace(self, ctx: RequestContext, descriptor_id: str, body: Any) -> dict[str, Any]:
        """Rewrite a descriptor with a full body (as for create)."""
        with self.store.tx():
            prev = self.get(ctx, "tenant", descriptor_id)
            fields = self._check(ctx, body, prev)
            self._keep_profile_primary(ctx, prev, fields)
            return self._save(ctx, fields, prev)

    def delete(self, ctx: RequestContext, descriptor_id: str) -> None:
        """Delete a descriptor, except the primary identity of a Profile-enabled schema."""
        with self.store.tx():
            prev = self.get(ctx, "tenant", descriptor_id)
            self._keep_profile_primary(ctx, prev, None)
            self.store.delete(kinds.DESCRIPTOR, ctx.org, ctx.sandbox, descriptor_id)

    # -- rules -----------------------------------------------------------------------------

    def _check(self, ctx: RequestContext, body: Any, prev: dict[str, Any] | None) -> dict[str, Any]:
        """The checked user fields of an identity descriptor body."""
        if not isinstance(body, dict):
            raise bad("The descriptor must be a JSON object", code=1030)
        fields = {k: v for k, v in body.items() if k not in _SERVER_KEYS}
        dtype = fields.get("@type")
        if dtype != IDENTITY:
            known = "is not emulated" if dtype in KNOWN_TYPES else "is not a descriptor type"
            raise bad(f"'@type' {dtype!r} {known}; the emulator serves '{IDENTITY}'", code=1030)
        schema_ref = fields.get("xdm:sourceSchema")
        if not isinstance(schema_ref, str) or not schema_ref:
            raise bad("'xdm:sourceSchema' must be the $id of a schema", code=1030)
        schema = xdm.get_schema(self.store, ctx.org, ctx.sandbox, schema_ref)
        if schema is None:
            raise bad(f"'xdm:sourceSchema' {schema_ref} does not exist in sandbox '{ctx.sandbox}'", code=1011)
        version = fields.get("xdm:sourceVersion")
        if isinstance(version, bool) or str(version) != str(schema["version"]).split(".")[0]:
            raise bad(f"'xdm:sourceVersion' must be the schema's major version "
                      f"({str(schema['version']).split('.')[0]}), got {version!r}", code=1030)
        path = property_path(fields.get("xdm:sourceProperty"))
        spec = xdm.field_index(schema, self.store, ctx.org, ctx.sandbox).get(path)
        if spec is None:
            raise bad(f"'xdm:sourceProperty' {fields['xdm:sourceProperty']} is not a field of schema {schema['$id']}",
                      code=1031)
        if spec.get("type") != "string":
            raise bad(f"'xdm:sourceProperty' {fields['xdm:sourceProperty']} is a {spec.get('type')} field; "
                      "an identity field must be a string", code=1031)
        prop = fields.setdefault("xdm:property", "xdm:code")
        if prop not in ("xdm:code", "xdm:id"):
            raise bad(f"'xdm:property' must be 'xdm:code' or 'xdm:id', got {prop!r}", code=1030)
        ns = fields.get("xdm:namespace")
        if not isinstance(ns, (str, int)) or isinstance(ns, bool) or ns == "":
            raise bad("'xdm:namespace' must name an identity namespace by code (or id with xdm:property xdm:id)",
                      code=1030)
        seen = kinds.namespaces(self.store, ctx.org, ctx.sandbox)
        if prop == "xdm:id":
            match = [n for n in seen if str(n["id"]) == str(ns)]
        else:
            match = [n for n in seen if n["code"].lower() == str(ns).lower()]
        if not match:
            raise bad(f"'xdm:namespace' {ns!r} is not an identity namespace of sandbox '{ctx.sandbox}'; create it "
                      "with POST /data/core/idnamespace/identities first", code=1032)
        primary = fields.setdefault("xdm:isPrimary", False)
        if not isinstance(primary, bool):
            raise bad("'xdm:isPrimary' must be true or false", code=1030)
        fields["xdm:sourceSchema"] = schema["$id"]
        if primary:
            other = kinds.primary_identity(self.store, ctx.org, ctx.sandbox, schema["$id"])
            if other is not None and other["@id"] != (prev or {}).get("@id"):
                raise bad(f"Schema {schema['$id']} already has a primary identity "
                          f"({other['xdm:sourceProperty']}, descriptor {other['@id']}); a schema may contain only "
                          "one primary identity", code=1033)
        return fields

    def _keep_profile_primary(self, ctx: RequestContext, prev: dict[str, Any], new: dict[str, Any] | None) -> None:
        """A Profile-enabled schema keeps its primary identity: no delete, no change of field or namespace."""
        if not prev.get("xdm:isPrimary"):
            return
        schema = xdm.get_schema(self.store, ctx.org, ctx.sandbox, prev["xdm:sourceSchema"])
        if not kinds.is_profile_schema(schema):
            return
        kept = ("xdm:sourceSchema", "xdm:sourceProperty", "xdm:namespace", "xdm:isPrimary")
        if new is None or any(new.get(k) != prev.get(k) for k in kept):
            raise bad(f"Descriptor {prev['@id']} is the primary identity of schema {prev['xdm:sourceSchema']}, "
                      "which is enabled for Profile; its primary identity cannot be removed or changed", code=1034)

    def _save(self, ctx: RequestContext, fields: dict[str, Any], prev: dict[str, Any] | None) -> dict[str, Any]:
        now = now_ms()
        did = prev["@id"] if prev else hashlib.sha1(uuid.uuid4().bytes).hexdigest()
        doc = {**fields, "imsOrg": ctx.org, "version": "1", "meta:containerId": "tenant", **sandbox_meta(ctx.sandbox),
               "createdUser": (prev or {}).get("createdUser", ctx.user), "updatedUser": ctx.user,
               "createdClient": (prev or {}).get("createdClient", ctx.client_id),
               "created": (prev or {}).get("created", now), "updated": now, "@id": did}
        doc["meta:registryMetadata"] = {
            "repo:createdDate": doc["created"], "repo:lastModifiedDate": now,
            "xdm:createdClientId": doc["createdClient"], "xdm:createdUserId": doc["createdUser"],
            "xdm:lastModifiedUserId": ctx.user,
            "eTag": hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()}
        self.store.put(kinds.DESCRIPTOR, ctx.org, ctx.sandbox, did, doc)
        return doc
