"""The models users write: a pipeline spec's YAML (or stack config) shape, with the rules that
concern the spec itself (names, kinds, codes). pipelines/spec.py resolves them into `Pipeline`s.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from providers import sources
from providers.models import (
    EXPERIENCE_EVENT,
    ID_TYPES,
    Percent,
    Sandbox,
    XdmField,
    namespace_code,
    normalize_tenant,
    xdm_class,
)

PROJECT = "aep-pipelines"

_PIPELINE_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# AEP has no published length limit for these names; 256 keeps every UI and API happy.
_MAX_NAME = 256


# ---------------------------------------------------------------------------------------------
# The models users write
# ---------------------------------------------------------------------------------------------


_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def _name(v: str | None) -> str | None:
    if v is None:
        return v
    if not v.strip():
        raise ValueError("must not be empty or blank: give a descriptive name, or leave the field out for the "
                         "default")
    if v != v.strip():
        raise ValueError(f"{v!r} has leading or trailing spaces: remove them")
    if len(v) > _MAX_NAME:
        raise ValueError(f"is {len(v)} characters long: keep it to {_MAX_NAME}")
    bad = next((c for c in v if unicodedata.category(c) in _INVISIBLE_CATEGORIES), None)
    if bad is not None:
        # Cc: C0/C1 controls (newline, tab, U+0085); Cf: invisible format characters such as
        # U+202E (right-to-left override) or U+200B (zero-width space), which make a name
        # display as something it is not in the AEP UI and in logs.
        raise ValueError(f"contains the invisible or control character U+{ord(bad):04X} "
                         f"({unicodedata.name(bad, 'unnamed')}): remove it")
    return v


Name = Annotated[str | None, AfterValidator(_name)]


def _pipeline_name(v: str) -> str:
    if not _PIPELINE_NAME_RE.match(v):
        raise ValueError(f"{v!r} is not a pipeline name: use 1-40 lower-case letters, digits and hyphens, starting "
                         "with a letter (e.g. 'pendo' or 'pendo-eu'); it names the Pulumi resources")
    return v


def sole_auth(kind: str) -> str | None:
    """The auth spec of a kind that has just one (the HTTP API's "Streaming Connection")."""
    specs = sources.KINDS[kind].auth_specs
    return specs[0].name if len(specs) == 1 else None


def _source_kind(v: str) -> str:
    if v not in sources.KINDS:
        raise ValueError(f"{v!r} is not a source kind{sources.suggest(v, sources.KINDS)}: use one of "
                         f"{', '.join(sources.KINDS)} (docs/pipelines.md, the source catalog)")
    return v


def _id_type(v: str) -> str:
    known = {t.lower(): t for t in ID_TYPES}
    if v.lower() not in known:
        raise ValueError(f"{v!r} is not an identity type: use one of {', '.join(ID_TYPES)}")
    return known[v.lower()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# A config key a secret auth param is read from: `aep-pipelines:<key>` in the stack's config.
_SECRET_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")


def secret_ref(value: Any) -> str | None:
    """The config key of an auth param written `{secret: <key>}`, None for a plain value."""
    return value["secret"] if isinstance(value, dict) and set(value) == {"secret"} else None


def _auth_params(v: dict[str, Any]) -> dict[str, Any]:
    for param, value in v.items():
        if isinstance(value, dict) and "secret" in value:
            key = secret_ref(value)
            if not isinstance(key, str) or not _SECRET_KEY_RE.match(key):
                raise ValueError(f"{param}: a secret reference is `{{secret: <key>}}` alone, the key 1-100 letters, "
                                 "digits, '_', '.' or '-' starting with a letter; its value is set with `pulumi "
                                 f"config set --secret {PROJECT}:<key> <value>`")
    return v


class AccountSpec(_Model):
    """A base connection (the source's account), for sources that authenticate."""

    name: Name = None
    description: str | None = None
    auth_spec_name: str | None = Field(None, description="the connection spec's auth spec name (default: the "
                                       "kind's only one)")
    auth_params: Annotated[dict[str, Any], AfterValidator(_auth_params)] = Field(
        default_factory=dict, description="stored and shown as a secret; `{secret: <key>}` reads the value from "
        "the stack's secret config aep-pipelines:<key>")


class SourceSpec(_Model):
    """Where events come from: a kind of the source catalog, `pendo` (the preset) by default."""

    kind: Annotated[str, AfterValidator(_source_kind)] = Field(
        "pendo", description="a kind of the source catalog (providers/sources.py, docs/pipelines.md)")
    name: Name = None
    description: str | None = None
    data_format: str = "json"
    params: dict[str, Any] = Field(default_factory=dict)
    account: AccountSpec | None = None


class IdentitySpec(_Model):
    """This field identifies a person or device: its namespace's code, and whether it is the
    schema's primary identity (the one Profile stitches records on)."""

    namespace: Annotated[str, AfterValidator(namespace_code)]
    primary: bool = False


class FieldSpec(XdmField):
    """A custom field as the spec writes it: the schema's field, and optionally its identity."""

    identity: IdentitySpec | None = None
    properties: dict[str, "FieldSpec"] | None = Field(None, description="sub-fields, for type object")
    items: "FieldSpec | None" = Field(None, description="the element type, for type array")


class NamespaceSpec(_Model):
    """A custom identity namespace (Identity Service). Its code is what identities name."""

    code: Annotated[str, AfterValidator(namespace_code)]
    name: Name = None
    description: str | None = None
    id_type: Annotated[str, AfterValidator(_id_type)] = Field(
        "Cross_device", description=f"one of {', '.join(ID_TYPES)} (any letter case)")
    adopt: str | None = Field(None, description="the id of the namespace in AEP, to manage it instead of creating it")


class SchemaSpec(_Model):
    """The target XDM schema: its class and the custom fields under `_{tenantId}`."""

    title: Name = None
    description: str | None = None
    class_id: Annotated[str, AfterValidator(xdm_class)] = Field(EXPERIENCE_EVENT, alias="class")
    tenant_id: Annotated[str | None, AfterValidator(normalize_tenant)] = Field(
        None, description="defaults to stack config aep:tenantId")
    fields: dict[str, FieldSpec] | None = None


class DatasetSpec(_Model):
    name: Name = None
    description: str | None = None
    tags: dict[str, list[str]] = Field(default_factory=dict)


class TargetSpec(_Model):
    """The target connection (into the dataset): its name and description."""

    name: Name = None
    description: str | None = None


class MappingSpec(_Model):
    """`source` (a path into the incoming JSON) -> `destination` (an XDM path; `_{tenantId}` allowed)."""

    source: str
    destination: str
    source_type: Literal["ATTRIBUTE", "EXPRESSION", "STATIC"] = "ATTRIBUTE"


class MappingSetSpec(_Model):
    name: Name = None


class FlowSpec(_Model):
    name: Name = None
    description: str | None = None
    enabled: bool = True
    error_diagnostics_enabled: bool | None = Field(
        None, description="keep detailed error diagnostics of the flow's runs (AEP's default: false)")
    partial_ingestion_percent: Percent | None = Field(
        None, description="the share of failed records, in per cent, beyond which a run fails")


class AdoptSpec(_Model):
    """Ids of existing AEP objects to bring under management instead of creating them (docs/adoption.md)."""

    schema_: Name = Field(None, alias="schema", description="the schema's meta:altId or $id")
    dataset: Name = None
    account: Name = None
    source: Name = None
    target: Name = None
    mapping_set: Name = None
    flow: Name = None


class SampleSpec(_Model):
    """A payload as the source sends it, rehearsed through the mapping at preview (docs/pipelines.md)."""

    name: str | None = Field(None, description="how the preview names it (default: sample <n>)")
    payload: Any = Field(description="the JSON the source posts")
    expect: Literal["success", "failure"] = Field(
        "success", description="failure: the sample is meant to be refused (a test of the mapping's rules)")


class PipelineSpec(_Model):
    """One streaming pipeline. Every part has a default: the Pendo tutorial's pipeline."""

    name: Annotated[str, AfterValidator(_pipeline_name)] = "pendo"
    previous_names: list[Annotated[str, AfterValidator(_pipeline_name)]] = Field(
        default_factory=list, description="names this pipeline had before, oldest first (docs/pipelines.md)")
    sandbox: Sandbox | None = Field(None, description="defaults to stack config aep:sandbox")
    source: SourceSpec = Field(default_factory=SourceSpec)
    schema_: SchemaSpec = Field(default_factory=SchemaSpec, alias="schema")
    dataset: DatasetSpec = Field(default_factory=DatasetSpec)
    target: TargetSpec = Field(default_factory=TargetSpec)
    mapping_set: MappingSetSpec = Field(default_factory=MappingSetSpec)
    mappings: list[MappingSpec] | None = None
    flow: FlowSpec = Field(default_factory=FlowSpec)
    adopt: AdoptSpec = Field(default_factory=AdoptSpec)
    retain_on_delete: bool = Field(False, description="leave the AEP objects in place on destroy or removal")
    namespaces: list[NamespaceSpec] = Field(
        default_factory=list, description="custom identity namespaces this pipeline's identities use")
    samples: list[SampleSpec] | None = Field(
        None, description="payloads rehearsed through the mapping by `make preview` (Data Prep's preview API)")
    profile: bool = Field(False, description="enable the schema and dataset for Real-Time Customer Profile: it "
                          "cannot be undone (docs/identity-and-profile.md)")
    allow_replace: list[Literal["schema", "dataset", "flow"]] = Field(
        default_factory=list, description="one-way doors this pipeline may go through: replacing its schema, "
        "dataset or flow loses data or changes the inlet URL, and is refused unless listed here")


class SpecFile(_Model):
    """The shape of the YAML file that `aep-pipelines:specFile` names."""

    pipelines: list[PipelineSpec]
