"""Pydantic models for every resource's inputs, with validation messages that name the fix.

Each `*Args` model is what `check()` validates and normalises. Three rules make the models
work inside Pulumi's preview, where some inputs are still unknown:

* fields that may come from another resource's output are typed optional here; whether they
  are present is checked by `_require` in an after-validator that skips unknown fields
  (the base provider passes their names in the validation context as "unknown");
* cross-field rules also skip any field that is unknown;
* numbers arrive from the engine as floats (protobuf doubles); int fields accept 9.0.

A validator reports a problem by raising `InputError(field, reason)`; the base provider
turns it into a `CheckFailure` on that field.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo,
                      model_validator)

# ---------------------------------------------------------------------------------------------
# Known AEP ids
# ---------------------------------------------------------------------------------------------

PENDO_SPEC = "6ff5654f-19d5-427d-bd3e-c0ebc802389a"
HTTP_STREAMING_SPEC = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
STREAMING_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"
STREAMING_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"

SOURCE_SPECS = {PENDO_SPEC: "Pendo (webhook)", HTTP_STREAMING_SPEC: "HTTP API streaming"}
TARGET_SPECS = {DATA_LAKE_SPEC: "Data Lake"}
FLOW_SPECS = {STREAMING_FLOW_SPEC: "GenericStreamingAEP"}
# Connection specs whose sources are streaming and therefore use the streaming provider id.
STREAMING_SOURCE_SPECS = {PENDO_SPEC, HTTP_STREAMING_SPEC}

EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
CLASS_ALIASES = {"experienceevent": EXPERIENCE_EVENT, "experience-event": EXPERIENCE_EVENT,
                 "profile": PROFILE, "individual-profile": PROFILE}
# The class fields a mapping may target besides the tenant fields (the required identifiers).
CLASS_FIELD_PATHS = {EXPERIENCE_EVENT: ["_id", "timestamp", "eventType", "producedBy"], PROFILE: ["_id"]}

TARGET_SCHEMA_FORMAT = "application/vnd.adobe.xed-full+json;version=1"
DATASET_SCHEMA_FORMAT = "application/vnd.adobe.xed+json;version=1"
DEFAULT_DESCRIPTION = "Managed by Pulumi (aep-pipelines)"


class InputError(ValueError):
    """A validation failure on one input field; `reason` says what is wrong and how to fix it."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InputErrors(ValueError):
    """Several `InputError`s found by one validator."""

    def __init__(self, errors: list[InputError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Field types
# ---------------------------------------------------------------------------------------------

_SANDBOX_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,254})$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FIELD_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_XDM_PATH_RE = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SEGMENT = r"[A-Za-z_$@][A-Za-z0-9_$@\-]*(?:\[\d+\])*"
_ATTRIBUTE_RE = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")


def _sandbox(v: str) -> str:
    if not _SANDBOX_RE.match(v):
        raise ValueError(f"{v!r} is not a sandbox name: use the lower-case technical name of the sandbox "
                         "(letters, digits and hyphens, e.g. 'prod' or 'dev-1'), as in `pulumi config set "
                         "aep:sandbox <name>`")
    return v


def _nonblank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty or blank")
    return v


def _int_like(v: Any) -> Any:
    """Numbers cross Pulumi's wire as doubles and some AEP responses send "0": accept both."""
    if isinstance(v, str) and re.fullmatch(r"\d+", v.strip()):
        return int(v)
    return v


Sandbox = Annotated[str, AfterValidator(_sandbox)]
Name = Annotated[str, AfterValidator(_nonblank)]
Version = Annotated[int, BeforeValidator(_int_like), Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class AEPArgs(_Model):
    """Inputs every resource has. Subclasses list their must-have fields in `_required`."""

    # (field, how to fix it) for fields that are mandatory but may be unknown at preview.
    _required: ClassVar[dict[str, str]] = {}
    # Fields that become part of the stored inputs (everything but these is managed state).
    name_field: ClassVar[str] = "name"

    sandbox: Sandbox | None = Field(None, description="the AEP sandbox, e.g. from stack config aep:sandbox")
    adopt_id: str | None = Field(None, description="an existing object to bring under management")
    # None (not False) when not given, so stacks deployed before this input existed see no change.
    allow_replace: bool | None = Field(None, description="let a plan replace this object although that loses "
                                       "data (the one-way-door guard of resources that hold data)")

    @model_validator(mode="after")
    def _check_required(self, info: ValidationInfo) -> "AEPArgs":
        unknown = _unknown(info)
        errors = []
        required = {"sandbox": "set stack config `aep:sandbox` or pass sandbox=...", **self._required}
        for name, fix in required.items():
            if name not in unknown and getattr(self, name) in (None, "", [], {}):
                errors.append(InputError(name, f"is required: {fix}"))
        errors.extend(self.cross_check(unknown))
        if errors:
            raise InputErrors(errors)
        return self

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        """Rules spanning several fields; skip any rule that involves an unknown field."""
        return []


def _unknown(info: ValidationInfo) -> set[str]:
    return set((info.context or {}).get("unknown", ()))


# ---------------------------------------------------------------------------------------------
# XDM schema
# ---------------------------------------------------------------------------------------------

FieldType = Literal["string", "integer", "number", "boolean", "date", "date-time", "object", "array"]


class XdmField(_Model):
    """One custom field of the schema's tenant field group."""

    type: FieldType = Field(description="one of string, integer, number, boolean, date, date-time, object, array")
    title: str | None = None
    description: str | None = None
    properties: dict[str, "XdmField"] | None = Field(None, description="sub-fields, for type object")
    items: "XdmField | None" = Field(None, description="the element type, for type array")

    @model_validator(mode="after")
    def _shape(self) -> "XdmField":
        if self.type == "object" and not self.properties:
            raise ValueError("an object field needs `properties`: give it at least one sub-field")
        if self.type != "object" and self.properties:
            raise ValueError(f"`properties` is only for type object; this field is {self.type}")
        if self.type == "array" and self.items is None:
            raise ValueError("an array field needs `items`, e.g. {'type': 'string'}")
        if self.type != "array" and self.items is not None:
            raise ValueError(f"`items` is only for type array; this field is {self.type}")
        # An empty text is not written to AEP, so it cannot be read back: it is no text.
        self.title = self.title or None
        self.description = self.description or None
        if self.properties:
            _check_field_names(self.properties)
            _drop_default_titles(self.properties)
        return self


def _drop_default_titles(fields: dict[str, XdmField]) -> dict[str, XdmField]:
    """A field without a title is written with its name as title, so AEP cannot tell the two
    apart: a title equal to the name is no title, else refresh would show it as drift."""
    for name, f in fields.items():
        if f.title == name:
            f.title = None
    return fields


def _check_field_names(fields: dict[str, Any]) -> None:
    bad = [n for n in fields if not _FIELD_NAME_RE.match(n)]
    if bad:
        raise ValueError(f"invalid field name(s) {bad}: start with a letter and use letters, digits and "
                         "underscores only")


def class_alias(v: str) -> str | None:
    """The class $id an alias stands for ('experienceevent', 'profile', ...), None for any other text."""
    return CLASS_ALIASES.get(v.strip().lower().replace("_", "-").replace(" ", ""))


def _class_id(v: str) -> str:
    v = v.strip()
    alias = class_alias(v)
    if alias:
        return alias
    if not v.startswith("https://ns.adobe.com/"):
        raise ValueError(f"{v!r} is not an XDM class: give its $id (e.g. {EXPERIENCE_EVENT}) or an alias "
                         f"({', '.join(sorted(CLASS_ALIASES))})")
    return v


def normalize_tenant(v: str | None) -> str | None:
    """A tenant id as AEP spells it: no leading underscore, letters and digits only (None stays None)."""
    if v is None:
        return v
    v = v.strip().lstrip("_")
    if not re.fullmatch(r"[A-Za-z0-9]+", v):
        raise ValueError(f"{v!r} is not a tenant id: use the org's tenant namespace without the underscore "
                         "(GET /data/foundation/schemaregistry/stats shows it as tenantId)")
    return v


class XdmSchemaArgs(AEPArgs):
    name_field: ClassVar[str] = "title"
    _required: ClassVar[dict[str, str]] = {"fields": "declare at least one custom field"}

    title: Name | None = None
    description: str = DEFAULT_DESCRIPTION
    class_id: Annotated[str, AfterValidator(_class_id)] = EXPERIENCE_EVENT
    tenant_id: Annotated[str, AfterValidator(normalize_tenant)] | None = None
    fields: Annotated[dict[str, XdmField], AfterValidator(_drop_default_titles)] | None = None

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if "fields" in unknown or not self.fields:
            return []
        try:
            _check_field_names(self.fields)
        except ValueError as e:
            return [InputError("fields", str(e))]
        return []


def field_paths(tenant_id: str, fields: dict[str, Any], class_id: str = EXPERIENCE_EVENT) -> list[str]:
    """Every path a mapping may target: the class identifiers plus `_{tenant}` and its fields."""
    paths = list(CLASS_FIELD_PATHS.get(class_id, ["_id"]))
    root = f"_{tenant_id.lstrip('_')}"
    paths.append(root)

    def walk(prefix: str, props: dict[str, Any]) -> None:
        for name, spec in sorted(props.items()):
            spec = spec.model_dump(exclude_none=True) if isinstance(spec, BaseModel) else spec
            path = f"{prefix}.{name}"
            paths.append(path)
            if spec.get("type") == "object" and spec.get("properties"):
                walk(path, spec["properties"])

    walk(root, fields or {})
    return paths


# ---------------------------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------------------------


def _tags(v: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: sorted(set(vals)) for k, vals in sorted(v.items())}


class DatasetArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {"schema_id": "pass the XdmSchema's schema_id ($id)"}

    name: Name | None = None
    description: str = DEFAULT_DESCRIPTION
    schema_id: str | None = None
    schema_content_type: str = DATASET_SCHEMA_FORMAT
    tags: Annotated[dict[str, list[str]], AfterValidator(_tags)] = Field(default_factory=dict)
    retain_on_delete: bool | None = Field(None, description="the resource option, recorded for policy packs")

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs = []
        if "schema_id" not in unknown and self.schema_id and not self.schema_id.startswith("https://"):
            errs.append(InputError("schema_id", f"{self.schema_id!r} is not a schema $id: pass the XdmSchema's "
                                   "schema_id output (https://ns.adobe.com/<tenant>/schemas/<hash>)"))
        bad = [k for k in self.tags if k.startswith("adobe/")]
        if bad and "tags" not in unknown:
            errs.append(InputError("tags", f"{bad} are system tags AEP manages itself: remove them"))
        return errs


# ---------------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------------


def _spec_error(field: str, value: str, known: dict[str, str]) -> InputError:
    listing = ", ".join(f"{k} ({v})" for k, v in known.items())
    return InputError(field, f"{value!r} is not a supported connection spec here; use one of {listing}")


class BaseConnectionArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {
        "connection_spec_id": f"use {HTTP_STREAMING_SPEC} (HTTP API streaming)",
        "auth_spec_name": "give the auth spec name of the connection spec, e.g. 'Streaming Connection'",
    }

    name: Name | None = None
    description: str = DEFAULT_DESCRIPTION
    connection_spec_id: str | None = None
    connection_spec_version: str = "1.0"
    auth_spec_name: str | None = None
    auth_params: dict[str, Any] = Field(default_factory=dict)

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if "connection_spec_id" in unknown or not self.connection_spec_id:
            return []
        if self.connection_spec_id not in SOURCE_SPECS:
            return [_spec_error("connection_spec_id", self.connection_spec_id, SOURCE_SPECS)]
        if self.connection_spec_id == PENDO_SPEC:
            return [InputError("connection_spec_id", "Pendo sources take no base connection (AEP answers "
                               "FLOW-1332-400): create the SourceConnection without base_connection_id")]
        return []


class SourceConnectionArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {
        "connection_spec_id": f"use {PENDO_SPEC} (Pendo) or {HTTP_STREAMING_SPEC} (HTTP API streaming)"}

    name: Name | None = None
    description: str = DEFAULT_DESCRIPTION
    connection_spec_id: str | None = None
    connection_spec_version: str = "1.0"
    provider_id: str | None = None
    data_format: str = "json"
    params: dict[str, Any] = Field(default_factory=dict)
    base_connection_id: str | None = None

    @model_validator(mode="after")
    def _defaults(self) -> "SourceConnectionArgs":
        # Every streaming tutorial sends the streaming provider id; fill it in the same way.
        if self.provider_id is None and self.connection_spec_id in STREAMING_SOURCE_SPECS:
            self.provider_id = STREAMING_PROVIDER_ID
        return self

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs = []
        spec = self.connection_spec_id
        if "connection_spec_id" in unknown or not spec:
            return errs
        if spec not in SOURCE_SPECS:
            return [_spec_error("connection_spec_id", spec, SOURCE_SPECS)]
        if spec == PENDO_SPEC and "data_format" not in unknown and self.data_format != "json":
            errs.append(InputError("data_format", f"Pendo sends JSON only; {self.data_format!r} is not "
                                   "supported: set data_format='json'"))
        if spec == PENDO_SPEC and "base_connection_id" not in unknown and self.base_connection_id:
            errs.append(InputError("base_connection_id", "Pendo sources take no base connection (AEP "
                                   "answers FLOW-1332-400): remove base_connection_id"))
        return errs


class TargetConnectionArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {
        "dataset_id": "pass the Dataset's id",
        "schema_id": "pass the XdmSchema's schema_id ($id)",
    }

    name: Name | None = None
    description: str = DEFAULT_DESCRIPTION
    connection_spec_id: str = DATA_LAKE_SPEC
    connection_spec_version: str = "1.0"
    data_format: str = "json"
    dataset_id: str | None = None
    schema_id: str | None = None
    schema_version: str = TARGET_SCHEMA_FORMAT

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if "connection_spec_id" not in unknown and self.connection_spec_id not in TARGET_SPECS:
            return [InputError("connection_spec_id", f"{self.connection_spec_id!r}: AEP only accepts the data "
                               f"lake target spec {DATA_LAKE_SPEC} here (FLOW-1307-400); remove the input "
                               "or set it to that id")]
        return []


# ---------------------------------------------------------------------------------------------
# Mapping set
# ---------------------------------------------------------------------------------------------

SourceType = Literal["ATTRIBUTE", "EXPRESSION", "STATIC"]


def _source_type(v: Any) -> Any:
    """Data Prep answers `text/x.schema-path` for ATTRIBUTE; fold every spelling onto the enum."""
    if isinstance(v, str):
        low = v.lower()
        if "schema-path" in low or low == "attribute":
            return "ATTRIBUTE"
        if "expression" in low:
            return "EXPRESSION"
        if "static" in low or "constant" in low:
            return "STATIC"
        return v.upper()
    return v


class Mapping(_Model):
    """One Data Prep mapping: a source attribute (or expression) into an XDM destination path."""

    source: str = Field(description="a dot path into the incoming JSON, e.g. properties.guideProperties.name")
    destination: str = Field(description="an XDM path of the target schema, e.g. _tenant.accountId")
    source_type: Annotated[SourceType, BeforeValidator(_source_type)] = "ATTRIBUTE"

    @model_validator(mode="after")
    def _syntax(self) -> "Mapping":
        if not self.source.strip():
            raise ValueError("`source` is empty: name the incoming JSON attribute to map (Pendo's tutorial "
                             "shows an empty one; AEP then maps nothing)")
        if self.source_type == "ATTRIBUTE" and not _ATTRIBUTE_RE.match(self.source):
            raise ValueError(f"`source` {self.source!r} is not a source-attribute path: use dot-separated "
                             "names with optional [n] indexes (e.g. properties.steps[0].id), or set "
                             "source_type='EXPRESSION' for a calculated field")
        if self.source_type == "EXPRESSION" and not _balanced(self.source):
            raise ValueError(f"`source` expression {self.source!r} has unbalanced brackets or quotes")
        if not _XDM_PATH_RE.match(self.destination):
            raise ValueError(f"`destination` {self.destination!r} is not an XDM path: use dot-separated field "
                             "names, e.g. _tenant.accountId")
        return self


def _balanced(expr: str) -> bool:
    stack: list[str] = []
    quote = None
    pairs = {")": "(", "]": "[", "}": "{"}
    for ch in expr:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack and quote is None


def _sorted_mappings(v: list[Mapping]) -> list[Mapping]:
    # The order of mappings carries no meaning to Data Prep; sort so that it never shows as a diff.
    return sorted(v, key=lambda m: (m.destination, m.source, m.source_type))


class MappingSetArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {
        "schema_id": "pass the target XdmSchema's schema_id ($id)",
        "mappings": "declare at least one mapping",
    }

    name: Name | None = None
    schema_id: str | None = None
    schema_content_type: str = TARGET_SCHEMA_FORMAT
    mappings: Annotated[list[Mapping], AfterValidator(_sorted_mappings)] | None = None
    schema_field_paths: list[str] | None = Field(
        None, description="the target schema's field paths (XdmSchema.known_field_paths), to validate "
                          "destinations at preview time")

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs: list[InputError] = []
        if "mappings" in unknown or not self.mappings:
            return errs
        seen: dict[str, int] = {}
        for i, m in enumerate(self.mappings):
            if m.destination in seen:
                errs.append(InputError(f"mappings[{i}].destination",
                                       f"{m.destination!r} is mapped twice: keep one mapping per destination"))
            seen[m.destination] = i
        if "schema_field_paths" in unknown or not self.schema_field_paths:
            return errs
        known = set(self.schema_field_paths)
        for i, m in enumerate(self.mappings):
            if m.destination not in known:
                close = difflib.get_close_matches(m.destination, sorted(known), n=3, cutoff=0.8)
                hint = f"did you mean {', '.join(close)}?" if close else "add the field to the XdmSchema"
                errs.append(InputError(f"mappings[{i}].destination",
                                       f"{m.destination!r} is not a field of the target schema: {hint}"))
        return errs


# ---------------------------------------------------------------------------------------------
# Dataflow
# ---------------------------------------------------------------------------------------------


class DataflowArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {
        "source_connection_id": "pass the SourceConnection's id",
        "target_connection_id": "pass the TargetConnection's id",
    }

    name: Name | None = None
    description: str = DEFAULT_DESCRIPTION
    flow_spec_id: str = STREAMING_FLOW_SPEC
    flow_spec_version: str = "1.0"
    source_connection_id: str | None = None
    target_connection_id: str | None = None
    mapping_id: str | None = None
    mapping_version: Version | None = None
    enabled: bool = True

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs = []
        if "flow_spec_id" not in unknown and self.flow_spec_id not in FLOW_SPECS:
            listing = ", ".join(f"{k} ({v})" for k, v in FLOW_SPECS.items())
            errs.append(InputError("flow_spec_id", f"{self.flow_spec_id!r} is not a supported flow spec; use "
                                   f"{listing}"))
        if "mapping_id" not in unknown and "mapping_version" not in unknown:
            if self.mapping_version is not None and not self.mapping_id:
                errs.append(InputError("mapping_id", "mapping_version is set without mapping_id: pass the "
                                       "MappingSet's id too"))
            if self.mapping_id and self.mapping_version is None:
                errs.append(InputError("mapping_version", "pass the MappingSet's version output so the flow "
                                       "follows new mapping versions"))
        for f in ("source_connection_id", "target_connection_id"):
            v = getattr(self, f)
            if f not in unknown and v and not _UUID_RE.match(v):
                errs.append(InputError(f, f"{v!r} is not a Flow Service id (a UUID): pass the connection's id"))
        return errs


__all__ = [n for n in dir() if not n.startswith("_")]
