"""XdmSchema: a tenant XDM schema of one class plus a tenant field group holding its custom fields.

The custom fields live under `_{tenantId}` in the field group, as AEP requires for tenant
fields. Outputs: `schema_id` ($id), `alt_id` (meta:altId), `field_paths`; and, at
construction time, `known_field_paths` as a plain list so that a MappingSet in the same
program can check its destinations during preview.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, ClassVar, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult
from pulumi.output import contains_unknowns
from pydantic import AfterValidator

from .base import AEPProvider, ProviderError, error_cause, member_ops, resource_args
from .client import AEPClient, BadRequest, Created, NotFound
from .models import (
    DEFAULT_DESCRIPTION,
    EXPERIENCE_EVENT,
    PROFILE,
    AEPArgs,
    InputError,
    Managed,
    Name,
    Passive,
    XdmField,
    check_field_names,
    drop_default_titles,
    field_paths,
    normalize_tenant,
    xdm_class,
)
from .resource import Resource

_DEFINITION = "customFields"
# AEP's answer to a create whose title another object of that kind already has.
_TITLE_TAKEN = "XDM-3005-400"
log = logging.getLogger("providers")


class XdmSchemaArgs(AEPArgs):
    name_field: ClassVar[str] = "title"
    _required: ClassVar[dict[str, str]] = {"fields": "declare at least one custom field"}

    title: Annotated[Name | None, Managed()] = None
    description: Annotated[str, Managed(default="")] = DEFAULT_DESCRIPTION
    class_id: Annotated[str, AfterValidator(xdm_class), Managed(replaces=True)] = EXPERIENCE_EVENT
    tenant_id: Annotated[Annotated[str, AfterValidator(normalize_tenant)] | None,
                         Managed(replaces=True, server_default=True)] = None
    fields: Annotated[Annotated[dict[str, XdmField], AfterValidator(drop_default_titles)] | None, Managed()] = None
    # Set by the component when the schema is enabled for Profile (ProfileEnablement): AEP then
    # refuses to delete or replace it, or to take a field away, so check() refuses such a plan.
    profile: Annotated[bool | None, Passive()] = None
    # The resource option, recorded for policy packs (which are not told it): a Profile schema is kept.
    retain_on_delete: Annotated[bool | None, Passive()] = None

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if "fields" in unknown or not self.fields:
            return []
        return check_field_names(self.fields, "fields.")


def _static_paths(tenant_id: Any, fields: Any, class_id: Any) -> list[str] | None:
    """field_paths computed in the program, when every input it needs is a plain value."""
    if not isinstance(tenant_id, str) or not isinstance(fields, dict):
        return None
    try:
        args = XdmSchemaArgs.model_validate({"sandbox": "x", "title": "x", "tenant_id": tenant_id,
                                             "fields": fields, **({"class_id": class_id} if class_id else {})})
    except Exception:  # noqa: BLE001 - check() reports invalid inputs with proper messages
        return None
    return field_paths(args.tenant_id, args.fields, args.class_id)


class XdmSchemaProvider(AEPProvider):
    kind = "XdmSchema"
    name_prefix = "schema"
    args_model = XdmSchemaArgs
    unique_name = True  # titles are unique per sandbox: replace by deleting first
    computed = ("schema_id", "alt_id", "field_paths", "field_group_id", "field_group_alt_id")
    # Titles are unique, so a schema is deleted before its replacement, and its dataset and flow
    # go first: allowing it means allowing all three (the component passes that).
    allow_kinds = "schema, dataset, flow"
    replacement_loses = ("the new schema has another $id, so its dataset is replaced too (the data ingested "
                         "into it is deleted) and so is its dataflow (the webhook URL changes)")

    def check(self, _olds: dict, news: dict) -> CheckResult:
        """As for every resource, plus the Profile one-way door: a deployed Profile schema keeps its fields."""
        result = super().check(_olds, news)
        if result.failures or not (_olds or {}).get("profile") or contains_unknowns(result.inputs.get("fields")):
            return result
        olds, args = _olds, self.parse(result.inputs)
        lost = _lost_fields(olds.get("fields") or {}, result.inputs.get("fields") or {})
        replaced = sorted(f.name for f in self.fields if f.replaces and f.name in olds
                          and f.norm(olds.get(f.name)) != f.norm(result.inputs.get(f.name)))
        why = []
        if lost:
            why.append(f"take away or retype field(s) {', '.join(lost)}")
        if replaced:
            why.append(f"change {', '.join(replaced)}, which replaces the schema")
        if not why:
            return result
        return CheckResult(news, [CheckFailure("fields" if lost else replaced[0], (
            f"refused (one-way door): schema {args.title!r} is enabled for Profile, and AEP does not let a Profile "
            f"schema {' or '.join(why)}: nothing was changed. "
            + ("Keep the fields (a field no longer mapped costs nothing)" if lost else f"Keep {', '.join(replaced)}")
            + ", or build a new pipeline with a new schema title"))])

    def create_object(self, api: AEPClient, args: XdmSchemaArgs) -> tuple[str, dict]:
        """POST the field group, then the schema referencing it (the group is removed if that fails)."""
        tenant = args.tenant_id or api.tenant_id(args.sandbox)
        group, _ = self._field_group(api, args, tenant, "create", owner=())
        try:
            schema = api.create_schema(args.sandbox, {
                "type": "object", "title": args.title, "description": args.description,
                "allOf": [{"$ref": args.class_id}, {"$ref": group.id}]})
        except Exception:
            _quietly(api.delete_field_group, args.sandbox, _alt(group.body) or group.id)
            raise
        return schema.id, {
            "schema_id": schema.id, "alt_id": _alt(schema.body), "tenant_id": tenant,
            "field_group_id": group.id, "field_group_alt_id": _alt(group.body),
            "field_paths": field_paths(tenant, args.fields, args.class_id)}

    def _field_group(self, api: AEPClient, args: XdmSchemaArgs, tenant: str, action: str,
                     owner: tuple[str, ...]) -> tuple[Created, bool]:
        """POST the field group; if its title is taken, take over the group that holds it.

        A create cut off between its two POSTs (AEP gone before the cleanup DELETE, or the CLI
        killed) leaves the group behind, and so does detaching it from the schema out of band;
        a second POST of that title then fails for good (XDM-3005-400). Such a group is ours
        to reuse when no schema extends it but `owner` (the ids of the schema this resource
        manages, if any): the declared definition is PUT onto it. Only this failure path
        costs calls: the lookup by title, the lookup of the schemas using it, the PUT.

        Returns the group and whether `owner` already extends it.
        """
        body = _field_group_body(args, tenant)
        try:
            return api.create_field_group(args.sandbox, body), False
        except BadRequest as e:
            if e.code != _TITLE_TAKEN:
                raise
            taken = e
        found = api.find_field_groups(args.sandbox, body["title"])
        if not found:
            raise taken  # the title clashes in a form a lookup by the exact title cannot see
        group = found[0]
        users = api.find_schemas_using(args.sandbox, group["$id"])
        others = [s for s in users if not {s.get("$id"), s.get("meta:altId")} & set(owner)]
        if others:
            who = self.label({"title": args.title}, owner[0] if owner else None)
            what = f"{who}: {action} failed: {error_cause(taken)}"
            raise ProviderError(_held_by_another(what, args.title, group, others))
        log.warning("reusing field group %s (%r), which no other schema uses: left by an interrupted create "
                    "or detached from its schema", group["$id"], body["title"])
        doc = api.replace_field_group(args.sandbox, _alt(group) or group["$id"], body)
        return Created(group["$id"], doc if isinstance(doc, dict) else group, adopted=True), bool(users)

    # -- read -----------------------------------------------------------------------------------

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """One GET of the schema's xed-full rendering; map it back onto the inputs.

        xed-full resolves the class and every field group into the schema's own `properties`
        and lists what it extends in `meta:extends`, so the field group needs no GET of its
        own, unless another tenant field group also adds fields under `_{tenantId}`: the
        merged view cannot tell whose a field is, so then the managed group is read as well.
        """
        sandbox = props["sandbox"]
        schema = api.get_schema(sandbox, props.get("alt_id") or id_, full=True)
        class_id = schema.get("meta:class") or next(iter(_refs(schema)), None)
        tenant = (props.get("tenant_id") or str(schema.get("meta:tenantNamespace") or "").lstrip("_")
                  or api.tenant_id(sandbox))
        stored_ref = props.get("field_group_id")
        groups = tenant_field_groups(schema, tenant, stored_ref, class_id)
        group_ref = stored_ref if stored_ref in groups else next(iter(groups), None)
        # While the group is the same one, the altId in state is what AEP itself answered.
        known_alt = props.get("field_group_alt_id") if group_ref is not None and group_ref == stored_ref else None
        if group_ref is None:
            fields, group_alt = {}, None
        elif len(groups) == 1:
            fields, group_alt = _fields_from_full(schema, tenant), known_alt or _alt_from_id(group_ref)
        else:
            try:
                group = api.get_field_group(sandbox, known_alt or group_ref)
            except NotFound:
                group = None
            fields = fields_from_group(group, tenant) if group else {}
            group_ref, group_alt = (group_ref, _alt(group)) if group else (None, None)
        return {"id": schema["$id"], "title": schema.get("title"), "description": schema.get("description"),
                "class_id": class_id, "tenant_id": tenant, "fields": fields,
                "schema_id": schema["$id"], "alt_id": _alt(schema),
                "field_group_id": group_ref, "field_group_alt_id": group_alt,
                "field_paths": field_paths(tenant, fields, class_id)}

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: XdmSchemaArgs, changed: set[str]) -> dict:
        """PATCH the schema's title/description; PUT the field group when fields or title change."""
        tenant = args.tenant_id or olds.get("tenant_id") or api.tenant_id(args.sandbox)
        out: dict[str, Any] = {"tenant_id": tenant, "field_paths": field_paths(tenant, args.fields, args.class_id)}
        ops = member_ops(args, changed, "title", "description")
        if ops:
            api.patch_schema(args.sandbox, olds.get("alt_id") or id_, ops)
        if {"fields", "title"} & changed:
            group_id = olds.get("field_group_alt_id") or olds.get("field_group_id")
            if group_id:
                api.replace_field_group(args.sandbox, group_id, _field_group_body(args, tenant))
            else:
                # The schema lost its field group (or an adopted schema had none): attach a new one,
                # or the one detached from it, which still holds the title.
                owner = tuple(i for i in (id_, olds.get("alt_id")) if i)
                group, attached = self._field_group(api, args, tenant, "update", owner=owner)
                if not attached:
                    api.patch_schema(args.sandbox, olds.get("alt_id") or id_,
                                     [{"op": "add", "path": "/allOf/-", "value": {"$ref": group.id}}])
                out.update(field_group_id=group.id, field_group_alt_id=_alt(group.body))
        return out

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE the schema, then its field group (either may already be gone)."""
        sandbox = props["sandbox"]
        try:
            api.delete_schema(sandbox, props.get("alt_id") or id_)
        except NotFound:
            pass
        group = props.get("field_group_alt_id") or props.get("field_group_id")
        if group:
            _quietly(api.delete_field_group, sandbox, group)


# -- translation helpers --------------------------------------------------------------------------


def _lost_fields(old: dict, new: dict, prefix: str = "") -> list[str]:
    """The fields of `old` that `new` drops or gives another type, by path."""
    out = []
    for name, f in old.items():
        g = new.get(name)
        if not isinstance(g, dict) or not isinstance(f, dict) or g.get("type") != f.get("type"):
            out.append(prefix + name)
        elif f.get("properties"):
            out += _lost_fields(f["properties"], g.get("properties") or {}, f"{prefix}{name}.")
        elif isinstance(f.get("items"), dict):
            out += _lost_fields({"[]": f["items"]}, {"[]": g.get("items")}, f"{prefix}{name}")
    return out


def _alt(doc: Any) -> str | None:
    return doc.get("meta:altId") if isinstance(doc, dict) else None


def _refs(schema: dict) -> list[str]:
    return [item["$ref"] for item in schema.get("allOf") or [] if isinstance(item, dict) and "$ref" in item]


def tenant_field_groups(schema: dict, tenant: str, stored_ref: str | None, class_id: str | None) -> list[str]:
    """The tenant field groups a schema extends, in the order AEP lists them.

    `meta:extends` also names the class, its behaviours and tenant data types or schemas,
    so only `.../{tenant}/mixins/...` ids count, plus the managed group whatever its shape.
    `allOf`, when a rendering keeps it, goes first: its order is the schema's own.
    """
    out: list[str] = []
    for ref in [*_refs(schema), *(schema.get("meta:extends") or [])]:
        if not isinstance(ref, str) or ref == class_id or ref in out:
            continue
        m = _TENANT_GROUP.fullmatch(ref)
        if ref == stored_ref or (m and m.group(1) == tenant):
            out.append(ref)
    return out


# A tenant field group's $id, and the meta:altId AEP gives it: every field group in the Schema
# Registry spec's examples pairs `https://ns.adobe.com/{T}/mixins/<h>` with `_{T}.mixins.<h>`.
_TENANT_GROUP = re.compile(r"https?://ns\.adobe\.com/([^/]+)/(?:mixins|fieldgroups)/([^/]+)")
_TENANT_MIXIN = re.compile(r"https?://ns\.adobe\.com/([A-Za-z0-9]+)/mixins/([0-9A-Za-z]+)")


def _alt_from_id(ref: str) -> str | None:
    """`https://ns.adobe.com/{T}/mixins/<h>` -> `_{T}.mixins.<h>`; None for any other shape.

    None is safe: update and delete then address the group by its URL-encoded $id, which
    AEP accepts wherever it accepts the altId.
    """
    m = _TENANT_MIXIN.fullmatch(ref)
    return f"_{m.group(1)}.mixins.{m.group(2)}" if m else None


def _held_by_another(failed: str, title: str, group: dict, others: list[dict]) -> str:
    users = ", ".join(f"{s.get('title')!r} ({s.get('$id')})" for s in others)
    what = (f"{failed}. The field group of that title, {group.get('title')!r} ({group['$id']}), is used by schema "
            f"{users}, so this schema cannot take it over. Next: ")
    same = [s for s in others if s.get("title") == title]
    if same:
        # Schema titles are unique: this is the schema this resource would create, made by a run
        # whose answer never arrived, or another stack's.
        alt = same[0].get("meta:altId") or same[0].get("$id")
        return what + (f"if that schema is a leftover of an interrupted run of this stack, delete it (or manage it "
                       f"with adopt_id={alt!r}) and run `pulumi up` again; if another stack or resource manages it, "
                       "give this XdmSchema another title")
    return what + ("give this XdmSchema another title (its field group is titled '<title> fields'), or remove "
                   "that field group from the schema that uses it, then run `pulumi up` again")


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except NotFound:
        pass
    except Exception as e:  # noqa: BLE001 - cleanup must not hide the real error
        log.warning("cleanup after a failed create did not finish: %s", e)


def _field_group_body(args: XdmSchemaArgs, tenant: str) -> dict:
    return {
        "type": "object",
        "title": f"{args.title} fields",
        "description": args.description,
        "meta:intendedToExtend": [args.class_id],
        "definitions": {_DEFINITION: {"type": "object", "properties": {
            f"_{tenant}": {"type": "object", "properties": _to_xdm(args.fields or {})}}}},
        "allOf": [{"$ref": f"#/definitions/{_DEFINITION}"}],
    }


# The class fields a mapping may target (models.CLASS_FIELD_PATHS), typed, and those AEP requires.
_CLASS_FIELDS: dict[str, tuple[dict[str, dict], list[str]]] = {
    EXPERIENCE_EVENT: ({"_id": {"type": "string"}, "timestamp": {"type": "string", "format": "date-time"},
                        "eventType": {"type": "string"}, "producedBy": {"type": "string"}}, ["_id", "timestamp"]),
    PROFILE: ({"_id": {"type": "string"}}, ["_id"]),
}


def planned_json_schema(args: XdmSchemaArgs, tenant: str) -> dict:
    """The schema these args declare, as one JSON schema (its class's fields and the tenant's):
    what a Data Prep preview types records with before the schema exists in AEP."""
    props, required = _CLASS_FIELDS.get(args.class_id, ({"_id": {"type": "string"}}, ["_id"]))
    return {"type": "object", "required": list(required), "properties": {
        **props, f"_{tenant}": {"type": "object", "properties": _to_xdm(args.fields or {})}}}


def _to_xdm(fields: dict[str, XdmField]) -> dict:
    return {name: _prop(f, name) for name, f in fields.items()}


def _prop(f: XdmField, name: str | None) -> dict:
    out: dict[str, Any] = {}
    if name is not None:
        out["title"] = f.title or name
    elif f.title:
        out["title"] = f.title  # an array's items: there is no name to stand in for it
    if f.description:
        out["description"] = f.description
    if f.type in ("date", "date-time"):
        out.update(type="string", format=f.type)
    elif f.type == "object":
        out.update(type="object", properties=_to_xdm(f.properties or {}))
    elif f.type == "array":
        out.update(type="array", items=_prop(f.items, None))
    else:
        out["type"] = f.type
    return out


def _fields_from_full(schema: dict, tenant: str) -> dict:
    """The custom fields of a resolved (xed-full) schema: `properties._{tenant}.properties`."""
    ns = (schema.get("properties") or {}).get(f"_{tenant}")
    return _from_xdm((ns or {}).get("properties") or {}) if isinstance(ns, dict) else {}


def fields_from_group(group: dict, tenant: str) -> dict:
    key = f"_{tenant}"
    for definition in (group.get("definitions") or {}).values():
        props = (definition or {}).get("properties") or {}
        if key in props:
            return _from_xdm((props[key] or {}).get("properties") or {})
    for props in [(group.get("properties") or {})]:
        if key in props:
            return _from_xdm((props[key] or {}).get("properties") or {})
    return {}


def _from_xdm(props: dict) -> dict:
    return {name: _unprop(p, name) for name, p in props.items() if isinstance(p, dict)}


def _unprop(p: dict, name: str | None) -> dict:
    typ, fmt = p.get("type"), p.get("format")
    out: dict[str, Any] = {"type": fmt if typ == "string" and fmt in ("date", "date-time") else typ}
    if p.get("title") and p["title"] != name:
        out["title"] = p["title"]
    if p.get("description"):
        out["description"] = p["description"]
    if typ == "object":
        out["properties"] = _from_xdm(p.get("properties") or {})
    if typ == "array":
        out["items"] = _unprop(p.get("items") or {}, None)
    return out


class XdmSchema(Resource, module="aep", name="XdmSchema"):
    """A tenant schema (ExperienceEvent by default) with custom fields under `_{tenantId}`."""

    title: pulumi.Output[str]
    schema_id: pulumi.Output[str]
    alt_id: pulumi.Output[str]
    field_paths: pulumi.Output[list]
    field_group_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, fields: pulumi.Input[Mapping[str, Any]],
                 title: pulumi.Input[str] | None = None, description: pulumi.Input[str] | None = None,
                 class_id: pulumi.Input[str] | None = None, tenant_id: pulumi.Input[str] | None = None,
                 sandbox: pulumi.Input[str] | None = None, adopt_id: pulumi.Input[str] | None = None,
                 allow_replace: pulumi.Input[bool] | None = None, profile: pulumi.Input[bool] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        """A schema and the tenant field group holding its custom fields.

        Args:
            resource_name: the Pulumi resource name.
            fields: the custom fields under `_{tenantId}`: `{name: {type, title?, description?,
                properties? (object), items? (array)}}`.
            title: the schema's title, unique in the sandbox (default `schema-<7 random characters>`,
                kept across updates); its field group is titled "<title> fields".
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            class_id: the XDM class, its $id or an alias such as "experienceevent" (the default) or "profile".
            tenant_id: the org's tenant id (stack config aep:tenantId; default: AEP's, from GET /stats).
                Give it to get `known_field_paths` at preview.
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the meta:altId or $id of an existing schema to manage instead of creating one.
            allow_replace: let a plan replace it, although its dataset and dataflow are replaced with it.
            profile: whether a ProfileEnablement enables it: a plan that takes a field away, or replaces
                it, is then refused (AEP refuses both for a Profile schema).
            opts: Pulumi resource options.
        """
        retain_on_delete = True if opts is not None and opts.retain_on_delete else None  # noqa: F841 - an input
        super().__init__(XdmSchemaProvider(), resource_name, *resource_args(XdmSchemaProvider, locals()))
        self.known_field_paths: list[str] | None = _static_paths(tenant_id, fields, class_id)
