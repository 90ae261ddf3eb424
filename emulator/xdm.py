"""Just enough XDM to build, resolve and validate the schemas a Pendo pipeline uses.

A tenant schema is `allOf` one class plus field groups. Resolving it merges the class's
and the field groups' `definitions` into one `properties` tree (what `xed-full` returns);
flattening that tree gives the dot paths a mapping may target (`_extconndev.accountid`,
`timestamp`, `_id`) together with each field's constraints, which the inlet uses to
coerce and validate mapped records.

Only the global classes below exist; `$ref`s to global data types or field groups that
are not modelled here resolve to nothing (documented in docs/emulator.md).
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
from typing import Any, Iterable

from . import kinds
from .config import TENANT_ID
from .store import Store

EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
RECORD_BEHAVIOR = "https://ns.adobe.com/xdm/data/record"
TIME_SERIES_BEHAVIOR = "https://ns.adobe.com/xdm/data/time-series"
EXTENSIBLE = "https://ns.adobe.com/xdm/common/extensible"
AUDITABLE = "https://ns.adobe.com/xdm/common/auditable"

_ID_FIELD = {
    "title": "Identifier",
    "type": "string",
    "format": "uri-reference",
    "description": "A unique identifier for the record.",
    "meta:xdmType": "string",
    "meta:xdmField": "@id",
}
_IDENTITY_MAP = {
    "title": "Identity Map",
    "type": "object",
    "description": "Identities of the subject, keyed by namespace.",
    "meta:xdmType": "map",
    "additionalProperties": {"type": "array", "items": {"type": "object"}},
}


def _global_class(id_: str, alt: str, title: str, behavior: str, props: dict, required: list[str]) -> dict:
    name = id_.rsplit("/", 1)[-1]
    return {
        "$id": id_,
        "meta:altId": alt,
        "meta:resourceType": "classes",
        "version": "1.0",
        "title": title,
        "type": "object",
        "description": f"The {title} class.",
        "definitions": {name: {"properties": props}},
        "allOf": [
            {"$ref": behavior, "type": "object", "meta:xdmType": "object"},
            {"$ref": f"#/definitions/{name}", "type": "object", "meta:xdmType": "object"},
        ],
        "required": required,
        "meta:extensible": True,
        "meta:abstract": True,
        "meta:extends": [behavior, EXTENSIBLE],
        "meta:xdmType": "object",
        "meta:status": "stable",
        "$schema": "http://json-schema.org/draft-06/schema#",
        "meta:containerId": "global",
        "meta:registryMetadata": {"repo:createdDate": 1606266789446, "repo:lastModifiedDate": 1606266789446,
                                  "eTag": "0" * 64, "meta:globalLibVersion": "1.0"},
    }


GLOBAL_CLASSES: dict[str, dict[str, Any]] = {
    EXPERIENCE_EVENT: _global_class(
        EXPERIENCE_EVENT, "_xdm.context.experienceevent", "XDM ExperienceEvent", TIME_SERIES_BEHAVIOR,
        {
            "_id": _ID_FIELD,
            "timestamp": {"title": "Timestamp", "type": "string", "format": "date-time",
                          "description": "The time when the event occurred.", "meta:xdmType": "date-time"},
            "eventType": {"title": "Event Type", "type": "string",
                          "description": "The primary event type for this time-series record.",
                          "meta:xdmType": "string"},
            "producedBy": {"title": "Produced By", "type": "string", "meta:xdmType": "string",
                           "description": "The entity that produced the event."},
            "identityMap": _IDENTITY_MAP,
        },
        ["_id", "timestamp"],
    ),
    PROFILE: _global_class(
        PROFILE, "_xdm.context.profile", "XDM Individual Profile", RECORD_BEHAVIOR,
        {"_id": _ID_FIELD, "identityMap": _IDENTITY_MAP},
        [],
    ),
}
_CLASS_BY_ALT = {c["meta:altId"]: c for c in GLOBAL_CLASSES.values()}


def global_class(class_id: str) -> dict[str, Any] | None:
    """A built-in global class by `$id` or `meta:altId`."""
    return GLOBAL_CLASSES.get(class_id) or _CLASS_BY_ALT.get(class_id)


def tenant_namespace() -> str:
    """`_{tenantId}`: the object every custom field of a tenant field group lives under."""
    return f"_{TENANT_ID}"


def alt_id_for(uri: str) -> str | None:
    """`https://ns.adobe.com/{tenant}/schemas/<h>` -> `_{tenant}.schemas.<h>` (None for other shapes)."""
    m = re.fullmatch(r"https?://ns\.adobe\.com/([^/]+)/(schemas|mixins|fieldgroups)/([0-9A-Za-z]+)", uri)
    if not m:
        return None
    return f"_{m.group(1)}.{m.group(2)}.{m.group(3)}"


def get_schema(store: Store, org: str, sandbox: str, schema_id: str) -> dict[str, Any] | None:
    """A tenant schema by `meta:altId` or `$id`, looked up by key first so the hot path never scans."""
    doc = store.get(kinds.SCHEMA, org, sandbox, alt_id_for(schema_id) or schema_id)
    return doc if doc is not None else kinds.schema_by_id(store, org, sandbox, schema_id)


def get_field_group(store: Store, org: str, sandbox: str, fg_id: str) -> dict[str, Any] | None:
    """A tenant field group by `meta:altId` or `$id`."""
    doc = store.get(kinds.FIELD_GROUP, org, sandbox, alt_id_for(fg_id) or fg_id)
    if doc is not None:
        return doc
    for fg in store.list(kinds.FIELD_GROUP, org, sandbox):
        if fg.get("$id") == fg_id:
            return fg
    return None


# -- resolution -------------------------------------------------------------------------


def _definition_properties(resource: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Properties and required names a class or field group contributes through its local `#/definitions`."""
    props: dict[str, Any] = {}
    required: list[str] = list(resource.get("required") or [])
    defs = resource.get("definitions") or {}
    local_refs = [item.get("$ref", "") for item in resource.get("allOf") or [] if isinstance(item, dict)]
    names = [r[len("#/definitions/"):] for r in local_refs if r.startswith("#/definitions/")]
    # A field group that forgets its own allOf still contributes every definition: AEP's UI does the same.
    for name in names or list(defs):
        d = defs.get(name) or {}
        _merge(props, copy.deepcopy(d.get("properties") or {}))
        required += list(d.get("required") or [])
    _merge(props, copy.deepcopy(resource.get("properties") or {}))
    return props, required


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    """Deep-merge property trees: two field groups may both add fields under `_{tenant}`."""
    for name, spec in new.items():
        cur = into.get(name)
        if isinstance(cur, dict) and isinstance(spec, dict) and "properties" in cur and "properties" in spec:
            _merge(cur["properties"], spec["properties"])
            req = list(dict.fromkeys((cur.get("required") or []) + (spec.get("required") or [])))
            if req:
                cur["required"] = req
        else:
            into[name] = spec


def referenced(resource: dict[str, Any], store: Store, org: str, sandbox: str) -> list[dict[str, Any]]:
    """The classes and field groups a resource references, directly or through the field groups
    it references (a field group's `allOf` may name another), each once, nested ones first.

    References that cannot be found are skipped; a cycle (possible through PUT) is cut.
    """
    out: list[dict[str, Any]] = []
    seen: set[str] = {resource.get("$id", "")}

    def walk(res: dict[str, Any]) -> None:
        for ref in references(res):
            found = global_class(ref) or get_field_group(store, org, sandbox, ref)
            if found is None or found["$id"] in seen:
                continue
            seen.add(found["$id"])
            walk(found)
            out.append(found)

    walk(resource)
    return out


def extended_field_groups(resource: dict[str, Any], store: Store, org: str, sandbox: str) -> list[str]:
    """`$id`s of every field group a resource takes fields from, as its `meta:extends` lists them."""
    return [r["$id"] for r in referenced(resource, store, org, sandbox) if r.get("meta:resourceType") == "mixins"]


def resolve(schema: dict[str, Any], store: Store, org: str, sandbox: str) -> tuple[dict[str, Any], list[str]]:
    """Merge the class and field groups a schema (or field group) references, transitively, into
    one properties tree, as `xed-full` does: a field group that extends another brings its fields.

    Returns (properties, required-at-root).
    """
    props: dict[str, Any] = {}
    required: list[str] = []
    for res in referenced(schema, store, org, sandbox):
        p, r = _definition_properties(res)
        _merge(props, p)
        required += r
    p, r = _definition_properties(schema)
    _merge(props, p)
    required += r
    return props, list(dict.fromkeys(required))


def field_index(schema: dict[str, Any], store: Store, org: str, sandbox: str) -> dict[str, dict[str, Any]]:
    """Every field of the resolved schema by dot path, with its JSON-schema constraints.

    Object fields are included as well as leaves; each entry gains `_required` (True when
    the enclosing object lists it as required).
    """
    props, required = resolve(schema, store, org, sandbox)
    out: dict[str, dict[str, Any]] = {}
    _flatten(props, set(required), "", out)
    return out


def index_of(json_schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The field index (as field_index) of a JSON schema given inline, such as a mapping set's
    `outputSchema.jsonSchema`: its own properties, nothing resolved from the registry."""
    out: dict[str, dict[str, Any]] = {}
    props = json_schema.get("properties") if isinstance(json_schema, dict) else None
    _flatten(props if isinstance(props, dict) else {}, set(json_schema.get("required") or []), "", out)
    return out


def _flatten(props: dict[str, Any], required: set[str], prefix: str, out: dict[str, dict[str, Any]]) -> None:
    for name, spec in props.items():
        if not isinstance(spec, dict):
            continue
        path = f"{prefix}{name}"
        entry = {k: v for k, v in spec.items() if k != "properties"}
        entry["_required"] = name in required
        out[path] = entry
        if isinstance(spec.get("properties"), dict):
            _flatten(spec["properties"], set(spec.get("required") or []), path + ".", out)


def field_paths(schema: dict[str, Any], store: Store, org: str, sandbox: str) -> set[str]:
    """The dot paths a mapping may target in this schema (leaves and objects), e.g. `_extconndev.accountId`."""
    return set(field_index(schema, store, org, sandbox))


def full_view(schema: dict[str, Any], store: Store, org: str, sandbox: str, notext: bool = False,
              notitle: bool = False) -> dict[str, Any]:
    """The `xed-full` rendering: the schema with its resolved `properties` embedded instead of `allOf`."""
    props, required = resolve(schema, store, org, sandbox)
    out = {k: v for k, v in schema.items() if k not in ("allOf", "definitions")}
    out["properties"] = props
    if required:
        out["required"] = required
    if notext or notitle:
        out = strip_text(out, descriptions=notext)
    return out


def strip_text(doc: Any, descriptions: bool = True) -> Any:
    """Drop `title` (and `description`) keywords from field definitions, as `-notext`/`-desc` do."""
    if isinstance(doc, list):
        return [strip_text(x, descriptions) for x in doc]
    if not isinstance(doc, dict):
        return doc
    out = {}
    for k, v in doc.items():
        if k == "title" and isinstance(v, str) and "type" in doc:
            continue
        if descriptions and k == "description" and isinstance(v, str) and "type" in doc:
            continue
        # Under `properties` the keys are field names, never keywords.
        out[k] = ({n: strip_text(s, descriptions) for n, s in v.items()} if k == "properties" and isinstance(v, dict)
                  else strip_text(v, descriptions))
    return out


# -- values -----------------------------------------------------------------------------


class ConversionError(ValueError):
    """A source value that cannot be converted to the destination field's XDM type."""


def epoch_to_iso(value: float) -> str:
    """Epoch seconds (or milliseconds, when the number is too large to be seconds) as ISO-8601 UTC."""
    secs = value / 1000.0 if abs(value) >= 1e11 else float(value)
    dt = _dt.datetime.fromtimestamp(secs, tz=_dt.timezone.utc)
    text = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def coerce(value: Any, spec: dict[str, Any], path: str) -> Any:
    """Convert a mapped value to the destination field's type, as Data Prep's implicit conversion does."""
    typ = spec.get("type")
    fmt = spec.get("format") or spec.get("meta:xdmType")
    if value is None:
        return None
    if typ == "string":
        if fmt in ("date-time", "date") and isinstance(value, (int, float)) and not isinstance(value, bool):
            iso = epoch_to_iso(value)
            return iso[:10] if fmt == "date" else iso
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, str):
            return value
        raise ConversionError(f"{path}: cannot convert {type(value).__name__} to string")
    if typ in ("integer", "number"):
        if isinstance(value, bool):
            raise ConversionError(f"{path}: cannot convert boolean to {typ}")
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise ConversionError(f"{path}: cannot convert string '{value[:40]}' to {typ}") from None
        if isinstance(value, (int, float)):
            if typ == "integer":
                if isinstance(value, float) and not value.is_integer():
                    raise ConversionError(f"{path}: cannot convert {value} to integer")
                return int(value)
            return value
        raise ConversionError(f"{path}: cannot convert {type(value).__name__} to {typ}")
    if typ == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConversionError(f"{path}: cannot convert {value!r} to boolean")
    return value


_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def validate_record(record: dict[str, Any], index: dict[str, dict[str, Any]]) -> list[str]:
    """Check a mapped record against a field index; messages read like AEP's ingestion errors.

    e.g. `_extconndev.uniqueid: expected minLength:1, actual 0`.
    """
    errors: list[str] = []
    for path, spec in index.items():
        parent, _, _name = path.rpartition(".")
        present, value = _lookup(record, path)
        if not present or value is None:
            # A required field only counts when its enclosing object exists (or it is at the root).
            if spec["_required"] and (not parent or _lookup(record, parent)[0]):
                if spec.get("type") == "string" and spec.get("minLength"):
                    errors.append(f"{path}: expected minLength:{spec['minLength']}, actual 0")
                else:
                    errors.append(f"{path}: required key not found")
            continue
        errors += _check_value(path, value, spec)
    errors += _unknown_fields(record, index, "")
    return errors


def _check_value(path: str, value: Any, spec: dict[str, Any]) -> list[str]:
    typ = spec.get("type")
    if typ in _JSON_TYPES:
        ok = isinstance(value, _JSON_TYPES[typ]) and not (typ in ("integer", "number") and isinstance(value, bool))
        if not ok:
            return [f"{path}: expected type: {typ}, found: {_json_type(value)}"]
    errs = []
    if isinstance(value, str):
        if "minLength" in spec and len(value) < spec["minLength"]:
            errs.append(f"{path}: expected minLength:{spec['minLength']}, actual {len(value)}")
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            errs.append(f"{path}: expected maxLength:{spec['maxLength']}, actual {len(value)}")
        if "pattern" in spec and not re.search(spec["pattern"], value):
            errs.append(f"{path}: string [{value[:40]}] does not match pattern {spec['pattern']}")
        fmt = spec.get("format")
        if fmt == "date-time" and not is_datetime(value):
            errs.append(f"{path}: [{value[:40]}] is not a valid date-time")
        if fmt == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            errs.append(f"{path}: [{value[:40]}] is not a valid date")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in spec and value < spec["minimum"]:
            errs.append(f"{path}: {value} is not greater or equal to {spec['minimum']}")
        if "maximum" in spec and value > spec["maximum"]:
            errs.append(f"{path}: {value} is not less or equal to {spec['maximum']}")
    if "enum" in spec and value not in spec["enum"]:
        errs.append(f"{path}: {value!r} is not a valid enum value")
    return errs


def _unknown_fields(record: dict[str, Any], index: dict[str, dict[str, Any]], prefix: str) -> list[str]:
    """XDM schemas are closed: a field the schema does not define is an error."""
    errs = []
    for name, value in record.items():
        path = prefix + name
        spec = index.get(path)
        if spec is None:
            errs.append(f"{path}: extraneous key [{name}] is not permitted")
        elif isinstance(value, dict) and spec.get("type") == "object" and "additionalProperties" not in spec:
            errs += _unknown_fields(value, index, path + ".")
    return errs


def _lookup(record: dict[str, Any], path: str) -> tuple[bool, Any]:
    cur: Any = record
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def is_datetime(text: str) -> bool:
    """True for an ISO-8601 date-time string (a `T` separator is required, `Z` allowed)."""
    try:
        _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text


def references(schema: dict[str, Any]) -> Iterable[str]:
    """The non-local `$ref`s in a resource's `allOf`."""
    for item in schema.get("allOf") or []:
        ref = item.get("$ref") if isinstance(item, dict) else None
        if ref and not ref.startswith("#/"):
            yield ref
