"""Schema Registry (/data/foundation/schemaregistry): tenant schemas and field groups.

Resources are stored in their `xed` form (references kept as `allOf`); the `xed-full`
Accept variants resolve those references through emulator/xdm.py. Lookups demand a
versioned `application/vnd.adobe.{xed|xdm}[-variant]+json; version=1` Accept header and
listings an unversioned `xed-id`/`xed` one, with the registry's own XDM-xxxx errors.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from .. import kinds, xdm
from ..config import TENANT_ID
from ..errors import AEPError, xdm_error
from ..gateway import RequestContext, gateway
from . import listing
from ._common import hex_id, now_ms, read_json
from .flow_patch import PatchError, apply_patch

router = APIRouter()
_ctx = Depends(gateway("schemaregistry"))

BASE = "https://platform.adobe.io/data/foundation/schemaregistry"
LIST_LIMIT = 300  # the documented page size of Schema Registry listings

_LOOKUP_VARIANTS = {"", "-full", "-notext", "-full-notext", "-full-desc", "-deprecatefield"}
_LIST_VARIANTS = {"", "-id"}
_ACCEPT = re.compile(
    r"^\s*application/vnd\.adobe\.(?:xed|xdm)(?P<variant>-[a-z-]+)?\+json\s*"
    r"(?:;\s*version\s*=\s*(?P<version>[^;,\s]*)\s*)?$", re.I)


def _bad(message: str, code: int = 1000) -> AEPError:
    return xdm_error(400, code, "Bad Request", message)


def _not_found(resource_id: str) -> AEPError:
    return xdm_error(404, 1012, "Resource Not Found", f"Requested resource {resource_id} with version 1 is not found")


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


def _sandbox_meta(sandbox: str) -> dict[str, str]:
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


def _render(doc: dict[str, Any], variant: str, store, ctx: RequestContext) -> dict[str, Any]:
    cls = xdm.global_class(doc.get("meta:class") or "") if doc.get("meta:resourceType") == "schemas" else None
    if cls is not None:
        # A field group the schema uses may have come to extend another since the schema was
        # written: what the schema extends is worked out when it is read, as resolution is.
        doc = {**doc, "meta:extends": _schema_extends(doc, cls, store, ctx)}
    if variant.startswith("-full"):
        return xdm.full_view(doc, store, ctx.org, ctx.sandbox, notext=variant == "-full-notext",
                             notitle=variant == "-full-desc")
    if variant == "-notext":
        return xdm.strip_text(doc)
    return doc


# Server-owned keys: a create/replace/patch body can never set them.
_SERVER_KEYS = {"$id", "meta:altId", "meta:resourceType", "version", "imsOrg", "meta:registryMetadata",
                "meta:containerId", "meta:sandboxId", "meta:sandboxType", "meta:tenantNamespace", "meta:class",
                "meta:extends", "refs", "meta:usageCount"}


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
        raise _bad(f"The {kind_label} must be a JSON object")
    if body.get("type") != "object":
        raise _bad(f"The {kind_label} 'type' must be 'object'")
    if not isinstance(body.get("title"), str) or not body["title"].strip():
        raise _bad(f"The {kind_label} needs a non-empty 'title'")
    if "description" in body and not isinstance(body["description"], str):
        raise _bad("'description' must be a string")
    allof = body.get("allOf", [])
    if not isinstance(allof, list) or not all(isinstance(i, dict) and isinstance(i.get("$ref"), str) for i in allof):
        raise _bad("'allOf' must be an array of objects, each with a string '$ref'")
    return {k: v for k, v in body.items() if k not in _SERVER_KEYS}


def _check_unique_title(store, ctx: RequestContext, kind: str, title: str, own_id: str | None) -> None:
    """XDM-3005-400 when another object of `kind` in the sandbox has this title, compared stripped
    and lower-cased: the rule the client's spec check applies too (docs/emulator.md, Unique titles)."""
    for other in store.list(kind, ctx.org, ctx.sandbox):
        if other["meta:altId"] != own_id and other.get("title", "").strip().lower() == title.strip().lower():
            raise xdm_error(400, 3005, "Title must be unique",
                            f"Title must be unique. An object {other['$id']} already exists with the same title")


def _typed_allof(allof: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"$ref": i["$ref"], "type": i.get("type", "object"), "meta:xdmType": i.get("meta:xdmType", "object")}
            for i in allof]


# -- stats ----------------------------------------------------------------------------


@router.get("/stats")
def stats(request: Request, ctx: RequestContext = _ctx):
    """Tenant id and resource counts for the caller's org and sandbox."""
    store = request.app.state.store
    schemas = store.list(kinds.SCHEMA, ctx.org, ctx.sandbox)
    fgs = store.list(kinds.FIELD_GROUP, ctx.org, ctx.sandbox)

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


# -- listings -------------------------------------------------------------------------


# Schema Registry's filters (docs/emulator.md, Lists): ==, != and ~ (a substring); a title may hold
# commas, so values are taken whole; and a filter it cannot read matches nothing rather than failing.
FILTERS = listing.FilterSyntax(ops=("==", "!=", "~"), error=None, regex=False, alternatives=False)


def _listing(request: Request, docs: list[dict[str, Any]], variant: str, global_link: bool,
             path: str) -> dict[str, Any]:
    """Schema Registry listing: `property` filters, `orderby`, `start` (a sort-key value) and `limit`."""
    q = request.query_params
    docs = FILTERS.select(docs, q.getlist("property"))
    orderby = q.get("orderby")
    if orderby:
        keys = [k.strip().lstrip("+-") for k in orderby.split(",") if k.strip()]
        desc = orderby.strip().startswith("-")
        docs = listing.ordered(docs, keys, desc)
        start = q.get("start")
        if start is not None:
            docs = [d for d in docs if (_key_text(d, keys[0]) < start if desc else _key_text(d, keys[0]) > start)]
    try:
        limit = min(int(q.get("limit", LIST_LIMIT)), 500)
    except ValueError:
        raise _bad(f"Invalid limit '{q.get('limit')}'") from None
    page, more = docs[:limit], len(docs) > limit
    next_uri = None
    if more and orderby:
        name = orderby.split(",")[0].strip().lstrip("+-")
        next_uri = f"{BASE}{path}?orderby={orderby}&start={_key_text(page[-1], name)}&limit={limit}"
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


def _key_text(doc: dict[str, Any], key: str) -> str:
    """A document's sort-key value as `start` spells it."""
    found = listing.leaves(doc, key.split("."))
    return listing.as_text(found[0]) if found else ""


@router.get("/{container}/schemas")
def list_schemas(container: str, request: Request, ctx: RequestContext = _ctx):
    """List schemas of the `tenant` container (the `global` container holds none in the emulator)."""
    variant = _list_accept(request)
    docs = request.app.state.store.list(kinds.SCHEMA, ctx.org, ctx.sandbox) if container == "tenant" else []
    _check_container(container)
    return _listing(request, docs, variant, True, f"/{container}/schemas")


@router.get("/{container}/fieldgroups")
@router.get("/{container}/mixins", include_in_schema=False)
def list_field_groups(container: str, request: Request, ctx: RequestContext = _ctx):
    """List field groups of the `tenant` container."""
    variant = _list_accept(request)
    _check_container(container)
    docs = request.app.state.store.list(kinds.FIELD_GROUP, ctx.org, ctx.sandbox) if container == "tenant" else []
    return _listing(request, docs, variant, False, f"/{container}/fieldgroups")


@router.get("/{container}/classes")
def list_classes(container: str, request: Request, ctx: RequestContext = _ctx):
    """List classes: the built-in global ones (ExperienceEvent, Profile); tenants define none."""
    variant = _list_accept(request)
    _check_container(container)
    docs = list(xdm.GLOBAL_CLASSES.values()) if container == "global" else []
    return _listing(request, docs, variant, False, f"/{container}/classes")


@router.get("/{container}/classes/{class_id:path}")
def get_class(container: str, class_id: str, request: Request, ctx: RequestContext = _ctx):
    """Look up a built-in global class by `$id` or `meta:altId`."""
    _check_container(container)
    cls = xdm.global_class(class_id) if container == "global" else None
    if cls is None:
        raise _not_found(class_id)
    return _render(cls, _lookup_accept(request, cls), request.app.state.store, ctx)


def _check_container(container: str) -> None:
    if container not in ("tenant", "global"):
        raise _not_found(f"container {container}")


# -- field groups ---------------------------------------------------------------------


def _build_field_group(body: Any, ctx: RequestContext, store, previous: dict[str, Any] | None) -> dict[str, Any]:
    fields = _check_common(body, "field group")
    extends = fields.get("meta:intendedToExtend")
    if not isinstance(extends, list) or not extends or not all(isinstance(c, str) for c in extends):
        raise _bad("'meta:intendedToExtend' must list the $id of at least one class")
    for cls in extends:
        if xdm.global_class(cls) is None:
            raise _bad(f"'meta:intendedToExtend' refers to unknown class {cls}")
    defs = fields.get("definitions", {})
    if not isinstance(defs, dict):
        raise _bad("'definitions' must be an object")
    ns = xdm.tenant_namespace()
    for name, d in defs.items():
        if not isinstance(d, dict) or not isinstance(d.get("properties", {}), dict):
            raise _bad(f"definitions.{name} must be an object with 'properties'")
        for field in d.get("properties", {}):
            # Custom fields of a tenant field group live under the tenant namespace, as in AEP.
            if field != ns:
                raise _bad(f"Custom field '{field}' in definitions.{name} must be nested under '{ns}'")
    for ref in xdm.references(fields):
        if xdm.get_field_group(store, ctx.org, ctx.sandbox, ref) is None:
            raise _bad(f"Referenced resource {ref} does not exist")
    if previous:
        fg_id, alt = previous["$id"], previous["meta:altId"]
        version = _bump_version(previous["version"])
    else:
        h = hex_id(24)
        fg_id, alt, version = f"https://ns.adobe.com/{TENANT_ID}/mixins/{h}", f"_{TENANT_ID}.mixins.{h}", "1.0"
    _check_unique_title(store, ctx, kinds.FIELD_GROUP, fields["title"], previous and previous["meta:altId"])
    doc = {
        "$id": fg_id,
        "meta:altId": alt,
        "meta:resourceType": "mixins",
        "version": version,
        "title": fields.pop("title"),
        "type": "object",
        "description": fields.pop("description", ""),
        "definitions": fields.pop("definitions", {}),
        "allOf": _typed_allof(fields.pop("allOf", []) or [{"$ref": f"#/definitions/{n}"} for n in defs]),
        **{k: v for k, v in fields.items() if k != "type"},
        "imsOrg": ctx.org,
        "meta:extensible": True,
        "meta:abstract": True,
        "meta:xdmType": "object",
        "meta:containerId": "tenant",
        "meta:tenantNamespace": ns,
        **_sandbox_meta(ctx.sandbox),
    }
    doc["meta:registryMetadata"] = {**_registry_metadata(ctx, previous), "eTag": _etag(doc)}
    return doc


def _field_group_or_404(store, ctx: RequestContext, fg_id: str) -> dict[str, Any]:
    doc = xdm.get_field_group(store, ctx.org, ctx.sandbox, fg_id)
    if doc is None:
        raise _not_found(fg_id)
    return doc


@router.post("/tenant/fieldgroups")
@router.post("/tenant/fieldgroups/", include_in_schema=False)
@router.post("/tenant/mixins", include_in_schema=False)
async def create_field_group(request: Request, ctx: RequestContext = _ctx):
    """Create a tenant field group: 201 with the stored resource."""
    store = request.app.state.store
    with store.tx():
        doc = _build_field_group(await read_json(request, _bad), ctx, store, None)
        store.put(kinds.FIELD_GROUP, ctx.org, ctx.sandbox, doc["meta:altId"], doc)
    return JSONResponse(doc, status_code=201)


@router.get("/{container}/fieldgroups/{fg_id:path}")
@router.get("/{container}/mixins/{fg_id:path}", include_in_schema=False)
def get_field_group(container: str, fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Look up a field group by `meta:altId` or URL-encoded `$id`."""
    store = request.app.state.store
    if not fg_id:
        return list_field_groups(container, request, ctx)
    _check_container(container)
    doc = _field_group_or_404(store, ctx, fg_id) if container == "tenant" else None
    if doc is None:
        raise _not_found(fg_id)
    return _render(doc, _lookup_accept(request, doc), store, ctx)


@router.put("/tenant/fieldgroups/{fg_id:path}")
@router.put("/tenant/mixins/{fg_id:path}", include_in_schema=False)
async def replace_field_group(fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace a field group (full body as for create): 200, version bumped."""
    store = request.app.state.store
    body = await read_json(request, _bad)
    with store.tx():
        prev = _field_group_or_404(store, ctx, fg_id)
        doc = _build_field_group(body, ctx, store, prev)
        store.put(kinds.FIELD_GROUP, ctx.org, ctx.sandbox, doc["meta:altId"], doc)
    return doc


@router.patch("/tenant/fieldgroups/{fg_id:path}")
@router.patch("/tenant/mixins/{fg_id:path}", include_in_schema=False)
async def patch_field_group(fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Apply an RFC 6902 patch to a field group: 200, version bumped."""
    store = request.app.state.store
    ops = await read_json(request, _bad)
    with store.tx():
        prev = _field_group_or_404(store, ctx, fg_id)
        try:
            patched = apply_patch(prev, ops)
        except PatchError as exc:
            raise _bad(f"Invalid patch: {exc}") from None
        doc = _build_field_group(patched, ctx, store, prev)
        store.put(kinds.FIELD_GROUP, ctx.org, ctx.sandbox, doc["meta:altId"], doc)
    return doc


@router.delete("/tenant/fieldgroups/{fg_id:path}")
@router.delete("/tenant/mixins/{fg_id:path}", include_in_schema=False)
def delete_field_group(fg_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete a field group: 204; 400 while a schema still references it."""
    store = request.app.state.store
    with store.tx():
        doc = _field_group_or_404(store, ctx, fg_id)
        for schema in store.list(kinds.SCHEMA, ctx.org, ctx.sandbox):
            if doc["$id"] in xdm.references(schema):
                raise _bad(f"Field group {doc['$id']} is referenced by schema {schema['$id']}; "
                           "remove it from the schema first", code=1023)
        store.delete(kinds.FIELD_GROUP, ctx.org, ctx.sandbox, doc["meta:altId"])
    return Response(status_code=204)


# -- schemas --------------------------------------------------------------------------


def _build_schema(body: Any, ctx: RequestContext, store, previous: dict[str, Any] | None) -> dict[str, Any]:
    fields = _check_common(body, "schema")
    allof = fields.pop("allOf", [])
    classes = [i["$ref"] for i in allof if xdm.global_class(i["$ref"])]
    if len(classes) != 1:
        raise _bad(f"A schema's allOf must reference exactly one class; found {len(classes)}")
    cls = xdm.global_class(classes[0])
    for item in allof:
        ref = item["$ref"]
        if ref.startswith("#/") or xdm.global_class(ref):
            continue
        fg = xdm.get_field_group(store, ctx.org, ctx.sandbox, ref)
        if fg is None:
            raise _bad(f"Referenced resource {ref} does not exist in sandbox '{ctx.sandbox}'", code=1011)
        if cls["$id"] not in fg.get("meta:intendedToExtend", []):
            raise _bad(f"Field group {ref} is not compatible with class {cls['$id']} "
                       f"(meta:intendedToExtend: {fg.get('meta:intendedToExtend')})", code=1022)
    if previous:
        sid, alt = previous["$id"], previous["meta:altId"]
        version = _bump_version(previous["version"])
    else:
        h = hex_id(24)
        sid, alt, version = f"https://ns.adobe.com/{TENANT_ID}/schemas/{h}", f"_{TENANT_ID}.schemas.{h}", "1.0"
    _check_unique_title(store, ctx, kinds.SCHEMA, fields["title"], previous and previous["meta:altId"])
    # Normalise class and field-group references to their $id, whichever form the caller used.
    refs = [cls["$id"] if xdm.global_class(i["$ref"]) else i["$ref"] for i in allof]
    refs = [xdm.get_field_group(store, ctx.org, ctx.sandbox, r)["$id"]
            if not r.startswith("#/") and not xdm.global_class(r) else r for r in refs]
    doc = {
        "$id": sid,
        "meta:altId": alt,
        "meta:resourceType": "schemas",
        "version": version,
        "title": fields.pop("title"),
        "type": "object",
        "description": fields.pop("description", ""),
        "allOf": _typed_allof([{**i, "$ref": r} for i, r in zip(allof, refs, strict=True)]),
        "refs": [r for r in refs if not r.startswith("#/")],
        **{k: v for k, v in fields.items() if k != "type"},
        "imsOrg": ctx.org,
        "meta:extensible": False,
        "meta:abstract": False,
        "meta:extends": _schema_extends({"allOf": [{"$ref": r} for r in refs]}, cls, store, ctx),
        "meta:xdmType": "object",
        "meta:class": cls["$id"],
        "meta:containerId": "tenant",
        **_sandbox_meta(ctx.sandbox),
        "meta:tenantNamespace": xdm.tenant_namespace(),
    }
    doc["meta:registryMetadata"] = {**_registry_metadata(ctx, previous), "eTag": _etag(doc)}
    return doc


def _schema_extends(schema: dict[str, Any], cls: dict[str, Any], store, ctx: RequestContext) -> list[str]:
    """Every field group the schema takes fields from (those its field groups extend too), then
    the class, its behaviour and mixins: what AEP lists in `meta:extends`."""
    groups = xdm.extended_field_groups(schema, store, ctx.org, ctx.sandbox)
    return list(dict.fromkeys([*groups, cls["$id"], *cls["meta:extends"], xdm.AUDITABLE]))


def _schema_or_404(store, ctx: RequestContext, schema_id: str) -> dict[str, Any]:
    doc = xdm.get_schema(store, ctx.org, ctx.sandbox, schema_id)
    if doc is None:
        raise _not_found(schema_id)
    return doc


@router.post("/tenant/schemas")
@router.post("/tenant/schemas/", include_in_schema=False)
async def create_schema(request: Request, ctx: RequestContext = _ctx):
    """Create a tenant schema from one class and any field groups: 201 with the stored schema."""
    store = request.app.state.store
    body = await read_json(request, _bad)
    with store.tx():
        doc = _build_schema(body, ctx, store, None)
        store.put(kinds.SCHEMA, ctx.org, ctx.sandbox, doc["meta:altId"], doc)
    return JSONResponse(doc, status_code=201)


@router.get("/{container}/schemas/{schema_id:path}")
def get_schema(container: str, schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Look up a schema by `meta:altId` or URL-encoded `$id`, rendered per the Accept variant."""
    if not schema_id:
        return list_schemas(container, request, ctx)
    _check_container(container)
    store = request.app.state.store
    doc = xdm.get_schema(store, ctx.org, ctx.sandbox, schema_id) if container == "tenant" else None
    if doc is None:
        raise _not_found(schema_id)
    return _render(doc, _lookup_accept(request, doc), store, ctx)


@router.put("/tenant/schemas/{schema_id:path}")
async def replace_schema(schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Replace a schema (full body as for create): 200, version bumped, same `$id`."""
    store = request.app.state.store
    body = await read_json(request, _bad)
    with store.tx():
        prev = _schema_or_404(store, ctx, schema_id)
        doc = _build_schema(body, ctx, store, prev)
        store.put(kinds.SCHEMA, ctx.org, ctx.sandbox, doc["meta:altId"], doc)
    return doc


@router.patch("/tenant/schemas/{schema_id:path}")
async def patch_schema(schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Apply an RFC 6902 patch (no If-Match, as in AEP): 200 with the schema, version 1.0 -> 1.1."""
    store = request.app.state.store
    ops = await read_json(request, _bad)
    with store.tx():
        prev = _schema_or_404(store, ctx, schema_id)
        try:
            patched = apply_patch(prev, ops)
        except PatchError as exc:
            raise _bad(f"Invalid patch: {exc}") from None
        doc = _build_schema(patched, ctx, store, prev)
        store.put(kinds.SCHEMA, ctx.org, ctx.sandbox, doc["meta:altId"], doc)
    return doc


@router.delete("/tenant/schemas/{schema_id:path}")
def delete_schema(schema_id: str, request: Request, ctx: RequestContext = _ctx):
    """Delete a schema: 204, then lookups answer 404."""
    store = request.app.state.store
    with store.tx():
        doc = _schema_or_404(store, ctx, schema_id)
        store.delete(kinds.SCHEMA, ctx.org, ctx.sandbox, doc["meta:altId"])
    return Response(status_code=204)
