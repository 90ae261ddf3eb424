"""Schema Registry's backend: tenant schemas and field groups, their rules and their store, without HTTP.

Resources are stored in their `xed` form (references kept as `allOf`); `render` gives the
`xed-full`/`-notext` variants by resolving those references through emulator/xdm.py. Methods
take the caller's RequestContext and raise AEPError in the registry's `errorBasic` shape.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Callable

from ... import kinds, xdm
from ...config import TENANT_ID
from ...errors import AEPError, xdm_error
from ...gateway import RequestContext
from ...store import Store
from .._common import hex_id, now_ms
from ..flow_patch import PatchError, apply_patch

# The collections of a container, and the stored kind of those a tenant writes.
COLLECTIONS = ("schemas", "fieldgroups", "classes")
_KIND = {"schemas": kinds.SCHEMA, "fieldgroups": kinds.FIELD_GROUP}

# Server-owned keys: a create/replace/patch body can never set them.
_SERVER_KEYS = {"$id", "meta:altId", "meta:resourceType", "version", "imsOrg", "meta:registryMetadata",
                "meta:containerId", "meta:sandboxId", "meta:sandboxType", "meta:tenantNamespace", "meta:class",
                "meta:extends", "refs", "meta:usageCount"}


def bad(message: str, code: int = 1000) -> AEPError:
    """The registry's 400 (XDM-<code>-400)."""
    return xdm_error(400, code, "Bad Request", message)


def not_found(resource_id: str) -> AEPError:
    """The registry's 404 (XDM-1012-404)."""
    return xdm_error(404, 1012, "Resource Not Found", f"Requested resource {resource_id} with version 1 is not found")


def sandbox_meta(sandbox: str) -> dict[str, str]:
    # Sandbox ids are stable per name so two schemas in one sandbox agree.
    return {"meta:sandboxId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-emulator-sandbox:{sandbox}")),
            "meta:sandboxType": "production" if sandbox == "prod" else "development"}


def _etag(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "meta:registryMetadata"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _bump_version(version: str) -> str:
    major, _, minor = str(version).partition(".")
    try:
        return f"{int(major)}.{int(minor or 0) + 1}"
    except ValueError:
        return "1.1"


def _registry_metadata(ctx: RequestContext, previous: dict[str, Any] | None) -> dict[str, Any]:
    now = now_ms()
    prev = (previous or {}).get("meta:registryMetadata") or {}
    return {
        "repo:createdDate": prev.get("repo:createdDate", now),
        "repo:lastModifiedDate": now,
        "xdm:createdClientId": prev.get("xdm:createdClientId", ctx.client_id),
        "xdm:lastModifiedClientId": ctx.client_id,
        "xdm:createdUserId": prev.get("xdm:createdUserId", ctx.user),
        "xdm:lastModifiedUserId": ctx.user,
        "meta:globalLibVersion": "1.0",
    }


def _check_common(body: Any, kind_label: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad(f"The {kind_label} must be a JSON object")
    if body.get("type") != "object":
        raise bad(f"The {kind_label} 'type' must be 'object'")
    if not isinstance(body.get("title"), str) or not body["title"].strip():
        raise bad(f"The {kind_label} needs a non-empty 'title'")
    if "description" in body and not isinstance(body["description"], str):
        raise bad("'description' must be a string")
    allof = body.get("allOf", [])
    if not isinstance(allof, list) or not all(isinstance(i, dict) and isinstance(i.get("$ref"), str) for i in allof):
        raise bad("'allOf' must be an array of objects, each with a string '$ref'")
    return {k: v for k, v in body.items() if k not in _SERVER_KEYS}


def _typed_allof(allof: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"$ref": i["$ref"], "type": i.get("type", "object"), "meta:xdmType": i.get("meta:xdmType", "object")}
            for i in allof]


class SchemaRegistry:
    """The Schema Registry backend over one Store."""

    def __init__(self, store: Store):
        self.store = store
        self._builders: dict[str, Callable[..., dict[str, Any]]] = {
            "schemas": self._build_schema, "fieldgroups": self._build_field_group}

    # -- reads ---------------------------------------------------------------------------

    @staticmethod
    def check_container(container: str) -> None:
        """404 for a container other than `tenant` and `global`."""
        if container not in ("tenant", "global"):
            raise not_found(f"container {container}")

    def listing(self, ctx: RequestContext, container: str, collection: str) -> list[dict[str, Any]]:
        """Every resource of a collection in a container: tenants write schemas and field groups,
        the global container holds the built-in classes (and, in the emulator, nothing else)."""
        self.check_container(container)
        if collection == "classes":
            return list(xdm.GLOBAL_CLASSES.values()) if container == "global" else []
        return self.store.list(_KIND[collection], ctx.org, ctx.sandbox) if container == "tenant" else []

    def get(self, ctx: RequestContext, container: str, collection: str, resource_id: str) -> dict[str, Any]:
        """One resource by `meta:altId` or `$id`; 404 when the container holds no such resource."""
        self.check_container(container)
        if collection == "classes":
            doc = xdm.global_class(resource_id) if container == "global" else None
        elif container != "tenant":
            doc = None
        elif collection == "schemas":
            doc = xdm.get_schema(self.store, ctx.org, ctx.sandbox, resource_id)
        else:
            doc = xdm.get_field_group(self.store, ctx.org, ctx.sandbox, resource_id)
        if doc is None:
            raise not_found(resource_id)
        return doc

    def render(self, ctx: RequestContext, doc: dict[str, Any], variant: str) -> dict[str, Any]:
        """A stored resource in an Accept variant: "" (as stored), "-full*" (resolved), "-notext"."""
        cls = xdm.global_class(doc.get("meta:class") or "") if doc.get("meta:resourceType") == "schemas" else None
        if cls is not None:
            # A field group the schema uses may have come to extend another since the schema was
            # written: what the schema extends is worked out when it is read, as resolution is.
            doc = {**doc, "meta:extends": self._schema_extends(ctx, doc, cls)}
        if variant.startswith("-full"):
            return xdm.full_view(doc, self.store, ctx.org, ctx.sandbox, notext=variant == "-full-notext",
                                 notitle=variant == "-full-desc")
        if variant == "-notext":
            return xdm.strip_text(doc)
        return doc

    def stats(self, ctx: RequestContext) -> dict[str, Any]:
        """Tenant id and resource counts for the caller's org and sandbox."""
        schemas = self.store.list(kinds.SCHEMA, ctx.org, ctx.sandbox)
        fgs = self.store.list(kinds.FIELD_GROUP, ctx.org, ctx.sandbox)

        def item(d: dict[str, Any]) -> dict[str, Any]:
            return {"$id": d["$id"], "meta:altId": d["meta:altId"], "version": d["version"], "title": d["title"],
                    "meta:resourceType": d["meta:resourceType"]}

        every = schemas + fgs
        by_created = sorted(every, key=lambda d: d["meta:registryMetadata"]["repo:createdDate"], reverse=True)
        by_updated = sorted(every, key=lambda d: d["meta:registryMetadata"]["repo:lastModifiedDate"], reverse=True)
        usage = []
        for cls in xdm.GLOBAL_CLASSES.values():
            users = [s for s in schemas if s.get("meta:class") == cls["$id"]]
            usage.append({"$id": cls["$id"], "title": cls["title"], "numberOfSchemas": len(users),
                          "schemas": [{"$id": s["$id"], "title": s["title"], "description": s.get("description", ""),
                                       "meta:altId": s["meta:altId"]} for s in users]})
        return {
            "imsOrg": ctx.org,
            "tenantId": TENANT_ID,
            "counts": {"schemas": len(schemas), "mixins": len(fgs), "datatypes": 0,
                       "classes": len(xdm.GLOBAL_CLASSES), "unions": 0},
            "recentlyCreatedResources": [item(d) for d in by_created[:5]],
            "recentlyUpdatedResources": [item(d) for d in by_updated[:5]],
            "classUsage": usage,
        }

    # -- writes --------------------------------------------------------------------------

    def create(self, ctx: RequestContext, collection: str, body: Any) -> dict[str, Any]:
        """Create a tenant schema or field group from a request body; the stored resource."""
        with self.store.tx():
            doc = self._builders[collection](ctx, body, None)
            return self._guarded_save(ctx, collection, None, doc)

    def replace(self, ctx: RequestContext, collection: str, resource_id: str, body: Any) -> dict[str, Any]:
        """Replace a resource with a full body (as for create): same `$id`, version bumped."""
        with self.store.tx():
            prev = self.get(ctx, "tenant", collection, resource_id)
            return self._guarded_save(ctx, collection, prev, self._builders[collection](ctx, body, prev))

    def patch(self, ctx: RequestContext, collection: str, resource_id: str, ops: Any) -> dict[str, Any]:
        """Apply an RFC 6902 patch (no If-Match, as in AEP): version bumped, all or nothing."""
        with self.store.tx():
            prev = self.get(ctx, "tenant", collection, resource_id)
            try:
                patched = apply_patch(prev, ops)
            except PatchError as exc:
                raise bad(f"Invalid patch: {exc}") from None
            return self._guarded_save(ctx, collection, prev, self._builders[collection](ctx, patched, prev))

    def delete(self, ctx: RequestContext, collection: str, resource_id: str) -> None:
        """Delete a resource; a field group only while no schema references it (XDM-1023-400)."""
        with self.store.tx():
            doc = self.get(ctx, "tenant", collection, resource_id)
            if collection == "fieldgroups":
                for schema in self.store.list(kinds.SCHEMA, ctx.org, ctx.sandbox):
                    if doc["$id"] in xdm.references(schema):
                        raise bad(f"Field group {doc['$id']} is referenced by schema {schema['$id']}; "
                                  "remove it from the schema first", code=1023)
            if collection == "schemas":
                if kinds.is_profile_schema(doc):
                    raise bad(f"Schema {doc['$id']} is enabled for Profile (meta:immutableTags 'union') and "
                              "cannot be deleted", code=1042)
                # The schema's descriptors describe nothing once it is gone: they go with it.
                for d in kinds.descriptors_of(self.store, ctx.org, ctx.sandbox, doc["$id"]):
                    self.store.delete(kinds.DESCRIPTOR, ctx.org, ctx.sandbox, d["@id"])
            self.store.delete(_KIND[collection], ctx.org, ctx.sandbox, doc["meta:altId"])

    def _guarded_save(self, ctx: RequestContext, collection: str, prev: dict[str, Any] | None,
                      doc: dict[str, Any]) -> dict[str, Any]:
        """Save a written resource inside the caller's transaction, then apply Profile's one-way doors
        (raising rolls the write back): the union tag stays, enabling needs a primary identity, and a
        Profile-enabled schema keeps every field it has, whether the change comes from the schema
        or from one of its field groups."""
        if collection == "schemas":
            tags = doc.get("meta:immutableTags", [])
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise bad("'meta:immutableTags' must be an array of strings")
            if kinds.is_profile_schema(prev) and not kinds.is_profile_schema(doc):
                raise bad(f"Schema {prev['$id']} is enabled for Profile: the 'union' tag of meta:immutableTags "
                          "cannot be removed", code=1040)
            if kinds.is_profile_schema(doc) and not kinds.is_profile_schema(prev) and \
                    kinds.primary_identity(self.store, ctx.org, ctx.sandbox, doc["$id"]) is None:
                raise bad(f"Missing Primary Identity: schema {doc['$id']} needs a primary identity descriptor "
                          "(POST /tenant/descriptors with xdm:isPrimary true) before it can be enabled for Profile",
                          code=1041)
        before = self._profile_indexes(ctx, collection, prev)
        saved = self._save(ctx, collection, doc)
        for schema_id, fields in before.items():
            schema = doc if collection == "schemas" else xdm.get_schema(self.store, ctx.org, ctx.sandbox, schema_id)
            after = xdm.field_index(schema, self.store, ctx.org, ctx.sandbox)
            lost = [p for p in fields if p not in after]
            changed = [p for p in fields if p in after and fields[p].get("type") != after[p].get("type")]
            if lost or changed:
                what = "; ".join(([f"removes {', '.join(lost)}"] if lost else [])
                                 + ([f"changes the type of {', '.join(changed)}"] if changed else []))
                raise bad(f"Schema {schema_id} is enabled for Profile and its fields cannot be removed or changed: "
                          f"this update {what}", code=1043)
        return saved

    def _profile_indexes(self, ctx: RequestContext, collection: str, prev: dict[str, Any] | None
                         ) -> dict[str, dict[str, dict[str, Any]]]:
        """The field index of each Profile-enabled schema a write of `prev` can change, by schema `$id`."""
        if prev is None:
            return {}
        if collection == "schemas":
            schemas = [prev] if kinds.is_profile_schema(prev) else []
        else:
            schemas = [s for s in self.store.list(kinds.SCHEMA, ctx.org, ctx.sandbox) if kinds.is_profile_schema(s)
                       and prev["$id"] in xdm.extended_field_groups(s, self.store, ctx.org, ctx.sandbox)]
        return {s["$id"]: xdm.field_index(s, self.store, ctx.org, ctx.sandbox) for s in schemas}

    def _save(self, ctx: RequestContext, collection: str, doc: dict[str, Any]) -> dict[str, Any]:
        self.store.put(_KIND[collection], ctx.org, ctx.sandbox, doc["meta:altId"], doc)
        return doc

    def _check_unique_title(self, ctx: RequestContext, kind: str, title: str, own_id: str | None) -> None:
        """XDM-3005-400 when another object of `kind` in the sandbox has this title, compared stripped
        and lower-cased: the rule the client's spec check applies too (docs/emulator.md, Unique titles)."""
        for other in self.store.list(kind, ctx.org, ctx.sandbox):
            if other["meta:altId"] != own_id and other.get("title", "").strip().lower() == title.strip().lower():
                raise xdm_error(400, 3005, "Title must be unique",
                                f"Title must be unique. An object {other['$id']} already exists with the same title")

    def _resource(self, ctx: RequestContext, collection: str, fields: dict[str, Any],
                  previous: dict[str, Any] | None, head: dict[str, Any], tail: dict[str, Any]) -> dict[str, Any]:
        """The stored document of a checked body: identity, version, the collection's own keys
        (`head` before the client's extra fields, `tail` after), sandbox metadata and the eTag."""
        path = "schemas" if collection == "schemas" else "mixins"
        if previous:
            rid, alt, version = previous["$id"], previous["meta:altId"], _bump_version(previous["version"])
        else:
            h = hex_id(24)
            rid, alt, version = f"https://ns.adobe.com/{TENANT_ID}/{path}/{h}", f"_{TENANT_ID}.{path}.{h}", "1.0"
        self._check_unique_title(ctx, _KIND[collection], fields["title"], previous and previous["meta:altId"])
        doc = {
            "$id": rid, "meta:altId": alt, "meta:resourceType": path, "version": version,
            "title": fields.pop("title"), "type": "object", "description": fields.pop("description", ""),
            **head,
            **{k: v for k, v in fields.items() if k != "type"},
            "imsOrg": ctx.org,
            **tail,
            "meta:containerId": "tenant",
            "meta:tenantNamespace": xdm.tenant_namespace(),
            **sandbox_meta(ctx.sandbox),
        }
        doc["meta:registryMetadata"] = {**_registry_metadata(ctx, previous), "eTag": _etag(doc)}
        return doc

    def _build_field_group(self, ctx: RequestContext, body: Any, previous: dict[str, Any] | None) -> dict[str, Any]:
        fields = _check_common(body, "field group")
        extends = fields.get("meta:intendedToExtend")
        if not isinstance(extends, list) or not extends or not all(isinstance(c, str) for c in extends):
            raise bad("'meta:intendedToExtend' must list the $id of at least one class")
        for cls in extends:
            if xdm.global_class(cls) is None:
                raise bad(f"'meta:intendedToExtend' refers to unknown class {cls}")
        defs = fields.get("definitions", {})
        if not isinstance(defs, dict):
            raise bad("'definitions' must be an object")
        ns = xdm.tenant_namespace()
        for name, d in defs.items():
            if not isinstance(d, dict) or not isinstance(d.get("properties", {}), dict):
                raise bad(f"definitions.{name} must be an object with 'properties'")
            for field in d.get("properties", {}):
                # Custom fields of a tenant field group live under the tenant namespace, as in AEP.
                if field != ns:
                    raise bad(f"Custom field '{field}' in definitions.{name} must be nested under '{ns}'")
        for ref in xdm.references(fields):
            if xdm.get_field_group(self.store, ctx.org, ctx.sandbox, ref) is None:
                raise bad(f"Referenced resource {ref} does not exist")
        allof = fields.pop("allOf", []) or [{"$ref": f"#/definitions/{n}"} for n in defs]
        head = {"definitions": fields.pop("definitions", {}), "allOf": _typed_allof(allof)}
        tail = {"meta:extensible": True, "meta:abstract": True, "meta:xdmType": "object"}
        return self._resource(ctx, "fieldgroups", fields, previous, head, tail)

    def _build_schema(self, ctx: RequestContext, body: Any, previous: dict[str, Any] | None) -> dict[str, Any]:
        fields = _check_common(body, "schema")
        allof = fields.pop("allOf", [])
        classes = [i["$ref"] for i in allof if xdm.global_class(i["$ref"])]
        if len(classes) != 1:
            raise bad(f"A schema's allOf must reference exactly one class; found {len(classes)}")
        cls = xdm.global_class(classes[0])
        for item in allof:
            ref = item["$ref"]
            if ref.startswith("#/") or xdm.global_class(ref):
                continue
            fg = xdm.get_field_group(self.store, ctx.org, ctx.sandbox, ref)
            if fg is None:
                raise bad(f"Referenced resource {ref} does not exist in sandbox '{ctx.sandbox}'", code=1011)
            if cls["$id"] not in fg.get("meta:intendedToExtend", []):
                raise bad(f"Field group {ref} is not compatible with class {cls['$id']} "
                          f"(meta:intendedToExtend: {fg.get('meta:intendedToExtend')})", code=1022)
        # Normalise class and field-group references to their $id, whichever form the caller used.
        refs = [cls["$id"] if xdm.global_class(i["$ref"]) else i["$ref"] for i in allof]
        refs = [xdm.get_field_group(self.store, ctx.org, ctx.sandbox, r)["$id"]
                if not r.startswith("#/") and not xdm.global_class(r) else r for r in refs]
        head = {"allOf": _typed_allof([{**i, "$ref": r} for i, r in zip(allof, refs, strict=True)]),
                "refs": [r for r in refs if not r.startswith("#/")]}
        tail = {"meta:extensible": False, "meta:abstract": False,
                "meta:extends": self._schema_extends(ctx, {"allOf": [{"$ref": r} for r in refs]}, cls),
                "meta:xdmType": "object", "meta:class": cls["$id"]}
        return self._resource(ctx, "schemas", fields, previous, head, tail)

    def _schema_extends(self, ctx: RequestContext, schema: dict[str, Any], cls: dict[str, Any]) -> list[str]:
        """Every field group the schema takes fields from (those its field groups extend too), then
        the class, its behaviour and mixins: what AEP lists in `meta:extends`."""
        groups = xdm.extended_field_groups(schema, self.store, ctx.org, ctx.sandbox)
        return list(dict.fromkeys([*groups, cls["$id"], *cls["meta:extends"], xdm.AUDITABLE]))
