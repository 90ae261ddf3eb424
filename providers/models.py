"""What the resources share: known ids, the field types, the rules a field declares, the base args.

Each resource module declares its own `*Args` model (what `check()` validates and
normalises), every field with its rules on it: `Annotated[str | None, Managed(replaces=True)]`
for a managed input, `Passive()` for one that is stored but never diffed. The provider
derives its managed fields from the model. Three rules make the models work inside Pulumi's
preview, where some inputs are still unknown:

* fields that may come from another resource's output are typed optional here; whether they
  are present is checked by `_require` in an after-validator that skips unknown fields
  (the base provider passes their names in the validation context as "unknown");
* cross-field rules also skip any field that is unknown;
* numbers arrive from the engine as floats (protobuf doubles); int fields accept 9.0.

A validator reports a problem by raising `InputError(field, reason)`; the base provider
turns it into a `CheckFailure` on that field. The args models are importable from here too
(`providers.models.DatasetArgs`), where they used to live.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Annotated, Any, Callable, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from . import sources
from .transport import plain

# ---------------------------------------------------------------------------------------------
# Known AEP ids
# ---------------------------------------------------------------------------------------------

# Derived from the source catalog (providers/sources.py), the one table of source kinds.
PENDO_SPEC = sources.KINDS["pendo"].connection_spec_id
CHATLIO_SPEC = sources.KINDS["chatlio"].connection_spec_id
CUSTOMERIO_SPEC = sources.KINDS["customerio"].connection_spec_id
HTTP_STREAMING_SPEC = sources.KINDS["http-streaming"].connection_spec_id
KINESIS_SPEC = sources.KINDS["kinesis"].connection_spec_id
EVENT_HUBS_SPEC = sources.KINDS["eventhubs"].connection_spec_id
PUBSUB_SPEC = sources.KINDS["pubsub"].connection_spec_id
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
STREAMING_FLOW_SPEC = sources.GENERIC_STREAMING_FLOW_SPEC
OPTIONAL_TRANSFORM_FLOW_SPEC = sources.OPTIONAL_TRANSFORM_FLOW_SPEC
STREAMING_PROVIDER_ID = sources.STREAMING_PROVIDER_ID

SOURCE_SPECS = sources.spec_ids()
TARGET_SPECS = {DATA_LAKE_SPEC: "Data Lake"}
FLOW_SPECS = {s.flow_spec_id: sources.FLOW_SPEC_NAMES[s.flow_spec_id] for s in sources.CATALOG}
# Connection specs whose sources are streaming and therefore use the streaming provider id.
STREAMING_SOURCE_SPECS = {s.connection_spec_id for s in sources.CATALOG if s.streaming}

# The standard identity namespaces every sandbox has (Identity Service, list-namespaces.md):
# looked up by code, never created. AEP compares codes ignoring letter case.
STANDARD_NAMESPACE_CODES = ("CORE", "ECID", "Email", "Phone", "WAID", "TNTID", "AAID", "AdCloud", "GAID", "IDFA")
# The idType of a custom namespace, as Identity Service's namespaceCreate spells it.
ID_TYPES = ("Cookie", "Cross_device", "Device", "Email", "Mobile", "Non_people", "Phone")

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
# The rules a field declares
# ---------------------------------------------------------------------------------------------


def _identity(v: Any) -> Any:
    return v


@dataclass(frozen=True)
class Managed:
    """A managed input: diffed, and what a change to it means. Declared on its args-model field,
    `Annotated[str | None, Managed(replaces=True)]`; the provider fills in `name`."""

    replaces: bool = False          # a change cannot be applied in place
    normalize: Callable[[Any], Any] = _identity
    unordered: bool = False         # a list whose order means nothing
    server_default: bool = False    # None in the inputs means "whatever AEP has": never a diff
    observable: bool = True         # read() can see it (masked secrets cannot be read back)
    default: Any = None             # the value an absent input stands for (what AEP not holding it means)
    secret: bool = False            # never shown: a secret input and output, left out of messages
    name: str = ""

    def norm(self, v: Any) -> Any:
        """The comparable form of a value of this field."""
        v = plain(self.normalize(self.default if v is None else v))
        if self.unordered and isinstance(v, list):
            v = sorted(v, key=repr)
        return v


@dataclass(frozen=True)
class Passive:
    """An input that is stored but neither managed nor diffed (validation aids, adoption, guards)."""


def no_spaces(v: Any) -> Any:
    """Media types compare without their spaces: AEP answers `...;version=1` and `...; version=1`."""
    return v.replace(" ", "") if isinstance(v, str) else v


# ---------------------------------------------------------------------------------------------
# Field types
# ---------------------------------------------------------------------------------------------

_SANDBOX_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,254})$")
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


_NAMESPACE_CODE_RE = re.compile(r"[A-Za-z0-9]+")


def namespace_code(v: str | None) -> str | None:
    """An identity namespace's code: letters and digits only (Identity Service's rule)."""
    if v is not None and not _NAMESPACE_CODE_RE.fullmatch(v):
        raise ValueError(f"{v!r} is not a namespace code: use letters and digits only (e.g. PENDOVISITOR), or a "
                         f"standard one ({', '.join(STANDARD_NAMESPACE_CODES)})")
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
# A share of a run's records, in per cent: above 0, at most 100.
Percent = Annotated[float, Field(gt=0, le=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class AEPArgs(_Model):
    """Inputs every resource has. Subclasses list their must-have fields in `_required`."""

    # (field, how to fix it) for fields that are mandatory but may be unknown at preview.
    _required: ClassVar[dict[str, str]] = {}
    # Fields that become part of the stored inputs (everything but these is managed state).
    name_field: ClassVar[str] = "name"
    # Whether check() names an unnamed object `<prefix>-<7 random characters>`.
    auto_name: ClassVar[bool] = True

    sandbox: Annotated[Sandbox | None, Managed(replaces=True)] = Field(
        None, description="the AEP sandbox, e.g. from stack config aep:sandbox")
    adopt_id: Annotated[str | None, Passive()] = Field(None, description="an existing object to bring under management")
    # None (not False) when not given, so stacks deployed before this input existed see no change.
    allow_replace: Annotated[bool | None, Passive()] = Field(
        None, description="let a plan replace this object although that loses data (the one-way-door guard of "
        "resources that hold data)")

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
            bad = check_field_names(self.properties, "properties.")
            if bad:
                raise InputErrors(bad)
            drop_default_titles(self.properties)
        return self


def drop_default_titles(fields: dict[str, XdmField]) -> dict[str, XdmField]:
    """A field without a title is written with its name as title, so AEP cannot tell the two
    apart: a title equal to the name is no title, else refresh would show it as drift."""
    for name, f in fields.items():
        if f.title == name:
            f.title = None
    return fields


def check_field_names(fields: dict[str, Any], prefix: str = "") -> list[InputError]:
    """The names in `fields` that AEP does not take (letters, digits and underscores, a letter first)."""
    return [InputError(f"{prefix}{n}", "is not a field name: start with a letter and use letters, digits and "
                       "underscores only") for n in fields if not _FIELD_NAME_RE.match(n)]


def class_alias(v: str) -> str | None:
    """The class $id an alias stands for ('experienceevent', 'profile', ...), None for any other text."""
    return CLASS_ALIASES.get(v.strip().lower().replace("_", "-").replace(" ", ""))


def xdm_class(v: str) -> str:
    """An XDM class $id, from its $id or an alias."""
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
# Connections
# ---------------------------------------------------------------------------------------------


def spec_error(field: str, value: str, known: dict[str, str]) -> InputError:
    """The failure for a connection spec id that is not one of `known`."""
    listing = ", ".join(f"{k} ({v})" for k, v in known.items())
    return InputError(field, f"{value!r} is not a supported connection spec here; use one of {listing}")


# ---------------------------------------------------------------------------------------------
# Mapping set
# ---------------------------------------------------------------------------------------------

SourceType = Literal["ATTRIBUTE", "EXPRESSION", "STATIC"]


def source_type_of(v: Any) -> Any:
    """Data Prep answers `text/x.schema-path` for ATTRIBUTE and `text/x.aep-xl` (its expression
    language) for EXPRESSION; fold every spelling onto the enum."""
    if isinstance(v, str):
        low = v.lower()
        if "schema-path" in low or low == "attribute":
            return "ATTRIBUTE"
        if "expression" in low or "aep-xl" in low:
            return "EXPRESSION"
        if "static" in low or "constant" in low:
            return "STATIC"
        return v.upper()
    return v


class Mapping(_Model):
    """One Data Prep mapping: a source attribute (or expression) into an XDM destination path."""

    source: str = Field(description="a dot path into the incoming JSON, e.g. properties.guideProperties.name")
    destination: str = Field(description="an XDM path of the target schema, e.g. _tenant.accountId")
    source_type: Annotated[SourceType, BeforeValidator(source_type_of)] = "ATTRIBUTE"

    @model_validator(mode="after")
    def _syntax(self) -> "Mapping":
        if not self.source.strip():
            raise InputError("source", "`source` is empty: name the incoming JSON attribute to map (Pendo's "
                             "tutorial shows an empty one; AEP then maps nothing)")
        if self.source_type == "ATTRIBUTE" and not _ATTRIBUTE_RE.match(self.source):
            raise InputError("source", f"`source` {self.source!r} is not a source-attribute path: use "
                             "dot-separated names with optional [n] indexes (e.g. properties.steps[0].id), or "
                             "set source_type='EXPRESSION' for a calculated field")
        if self.source_type == "EXPRESSION" and not _balanced(self.source):
            raise InputError("source", f"`source` expression {self.source!r} has unbalanced brackets or quotes")
        if not _XDM_PATH_RE.match(self.destination):
            raise InputError("destination", f"`destination` {self.destination!r} is not an XDM path: use "
                             "dot-separated field names, e.g. _tenant.accountId")
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


# The args models live in their resources' modules; these names keep the old imports working.
_MOVED = {"XdmSchemaArgs": "xdm_schema", "DatasetArgs": "dataset", "BaseConnectionArgs": "base_connection",
          "SourceConnectionArgs": "source_connection", "TargetConnectionArgs": "target_connection",
          "MappingSetArgs": "mapping_set", "DataflowArgs": "dataflow", "IdentityNamespaceArgs": "identity_namespace",
          "IdentityDescriptorArgs": "identity_descriptor"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(f".{_MOVED[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [n for n in dir() if not n.startswith("_")] + list(_MOVED)
