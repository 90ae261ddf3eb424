"""The declarative pipeline spec: what a stack's pipelines are, validated before any API call.

A stack declares its pipelines in one of three places, first match wins:

* stack config `aep-pipelines:pipelines`: a list of pipelines (structured config);
* a YAML file named by stack config `aep-pipelines:specFile` (relative to the project
  root), holding `pipelines: [...]`;
* neither: the Pendo tutorial's pipeline (`DEFAULT_PIPELINE`).

A pipeline is a source (Pendo, or generic HTTP streaming), the target schema's custom
fields, the dataset, the mappings and the flow. Destinations may say `_{tenantId}` for
the org's tenant namespace. Everything the program can know without AEP is checked here,
all problems at once, each named by its path in the spec with the fix: an unknown field
(with the closest allowed name), a destination that is not in the schema, a destination
mapped twice, a non-JSON format for Pendo, a bad or duplicate name. The program stops
before it registers a single resource, so an invalid spec costs no API call.
"""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from providers import sources
from providers.models import (
    field_paths,
)

from . import identity, ids, parts, unique
from .parts import TENANT_PLACEHOLDER
from .problems import Problem, SpecError, pydantic_problems, top_level, without
from .spec_models import (  # noqa: F401 - the models users write, importable from here as before
    PROJECT,
    AccountSpec,
    AdoptSpec,
    DatasetSpec,
    FieldSpec,
    FlowSpec,
    IdentitySpec,
    MappingSetSpec,
    MappingSpec,
    NamespaceSpec,
    PipelineSpec,
    SampleSpec,
    SchemaSpec,
    SourceSpec,
    SpecFile,
    TargetSpec,
    secret_ref,
    sole_auth,
)
from .yamlfile import YamlFileError, load_file

# ---------------------------------------------------------------------------------------------
# The tutorial's pipeline
# ---------------------------------------------------------------------------------------------

# The fields and mappings of Adobe's Pendo tutorial (accountId, uniqueId, timestamp,
# visitorId and the guide's name), with readable field names instead of its
# accountid/name1/timestamp1. `timestamp` is a date-time: Pendo's epoch milliseconds
# become an ISO time on the way in.
DEFAULT_FIELDS: dict[str, dict[str, Any]] = {
    "accountId": {"type": "string", "title": "Pendo account ID"},
    "uniqueId": {"type": "string", "title": "Pendo event unique ID"},
    "timestamp": {"type": "date-time", "title": "Pendo event time"},
    "visitorId": {"type": "string", "title": "Pendo visitor ID"},
    "guideName": {"type": "string", "title": "Pendo guide name"},
}
DEFAULT_MAPPINGS: list[dict[str, str]] = [
    {"source": "accountId", "destination": "_{tenantId}.accountId"},
    {"source": "uniqueId", "destination": "_{tenantId}.uniqueId"},
    {"source": "timestamp", "destination": "_{tenantId}.timestamp"},
    {"source": "visitorId", "destination": "_{tenantId}.visitorId"},
    {"source": "properties.guideProperties.name", "destination": "_{tenantId}.guideName"},
]
DEFAULT_PIPELINE: dict[str, Any] = {"name": "pendo"}

# Sources that post their own JSON: their records become XDM only through a mapping. The
# others may send XDM records as they are (`mappings: []`: a flow without a mapping set).
WEBHOOK_KINDS = frozenset(k.kind for k in sources.CATALOG if k.flow_spec_id == sources.GENERIC_STREAMING_FLOW_SPEC
                          and not k.takes_account)

# What default display names call a kind; the first two predate the catalog's labels.
_KIND_LABEL = {"pendo": "Pendo", "http-streaming": "HTTP API"}


# ---------------------------------------------------------------------------------------------
# The resolved form the program builds from
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline with every default filled in: what `StreamingPipeline` builds."""

    name: str
    sandbox: str
    tenant_id: str
    source_kind: str
    source_name: str
    source_description: str | None
    data_format: str
    source_params: dict[str, Any]
    account: AccountSpec | None
    schema_title: str
    schema_description: str | None
    class_id: str
    fields: dict[str, dict[str, Any]]
    dataset_name: str
    dataset_description: str | None
    dataset_tags: dict[str, list[str]]
    target_name: str
    mapping_set_name: str
    mappings: list[dict[str, str]]
    flow_name: str
    flow_description: str | None
    flow_enabled: bool
    adopt: dict[str, str] = field(default_factory=dict)
    retain_on_delete: bool = False
    allow_replace: frozenset[str] = frozenset()
    previous_names: tuple[str, ...] = ()
    flow_error_diagnostics_enabled: bool | None = None
    flow_partial_ingestion_percent: float | None = None
    # Each identity field: {"field": "visitorId" (its path below the tenant), "namespace", "primary"}.
    identities: tuple[dict[str, Any], ...] = ()
    # The custom namespaces it declares: {"code", "name", "description", "id_type"}.
    namespaces: tuple[dict[str, Any], ...] = ()
    profile: bool = False
    target_description: str | None = None
    # The samples `make preview` rehearses: {"name", "payload", "expect"}; None: none declared.
    samples: tuple[dict[str, Any], ...] | None = None

    @property
    def identity(self) -> str:
        """The name the pipeline was first deployed under: its default display names and its
        provider shard derive from it, so a rename (with previous_names) changes neither."""
        return self.previous_names[0] if self.previous_names else self.name

    @property
    def field_paths(self) -> list[str]:
        """Every XDM path a mapping may target in this pipeline's schema."""
        return field_paths(self.tenant_id, self.fields, self.class_id)


def _resolve(spec: PipelineSpec, path: str, sandbox: str | None, tenant: str | None,
             reported: frozenset[str] = frozenset()) -> tuple[Pipeline | None, list[Problem]]:
    """The pipeline with its defaults, or every problem: the spec's own (sandbox, tenant, empty
    lists, adoption) and what each of its resources' providers would refuse (pipelines.parts)."""
    problems: list[Problem] = []
    unknown: set[str] = set()
    sb = spec.sandbox or sandbox
    if not sb:
        unknown.add("sandbox")
        problems.append(Problem(f"{path}.sandbox", "no sandbox: set stack config `aep:sandbox` (one stack per "
                                "sandbox), or `sandbox:` in this pipeline"))
    tn = spec.schema_.tenant_id or tenant
    if not tn:
        unknown |= {"tenant_id", "mappings", "schema_field_paths"}
        problems.append(Problem(f"{path}.schema.tenant_id", "no tenant id: set stack config `aep:tenantId` (or the "
                                "AEP_TENANT_ID environment variable; GET /data/foundation/schemaregistry/stats shows "
                                "it as tenantId), or `schema.tenant_id` here"))
    src = spec.source
    fields = spec.schema_.fields
    if fields is None:
        fields_raw = {k: dict(v) for k, v in DEFAULT_FIELDS.items()}
    else:
        if not fields:
            problems.append(Problem(f"{path}.schema.fields", "declare at least one custom field (or leave "
                                    "`fields` out for the Pendo tutorial's fields)"))
        fields_raw = {k: identity.plain_field(v) for k, v in fields.items()}
    mappings_in = spec.mappings if spec.mappings is not None else [MappingSpec(**m) for m in DEFAULT_MAPPINGS]
    if not mappings_in and src.kind in WEBHOOK_KINDS:
        problems.append(Problem(f"{path}.mappings", f"{sources.short(sources.KINDS[src.kind].label)} posts its own "
                                "JSON, not XDM records, so it needs mappings: declare at least one (or leave "
                                "`mappings` out for the Pendo tutorial's mappings)"))
    mappings = [{"source": m.source, "destination": m.destination.strip().replace(TENANT_PLACEHOLDER, tn or ""),
                 "source_type": m.source_type} for m in mappings_in]
    adopt = spec.adopt.model_dump(exclude_none=True, by_alias=True)
    if adopt.get("account") and src.account is None:
        problems.append(Problem(f"{path}.adopt.account", "there is no account to adopt: declare source.account too, "
                                "or remove adopt.account"))
    problems += ids.check_adopt(adopt, tn, path) if tn else []
    # Display names default from the first name: a renamed pipeline keeps its AEP objects' names.
    first = spec.previous_names[0] if spec.previous_names else spec.name
    label = first if first != "pendo" else "Pendo"
    kind = _KIND_LABEL.get(src.kind) or sources.short(sources.KINDS[src.kind].label)
    pipe = Pipeline(
        name=spec.name, sandbox=sb or "", tenant_id=tn or "", source_kind=src.kind,
        source_name=src.name or f"Streaming Source Connection for {label}",
        source_description=src.description, data_format=src.data_format, source_params=dict(src.params),
        account=(src.account.model_copy(update={"name": src.account.name or f"{kind} account for {label}",
                                                "auth_spec_name": src.account.auth_spec_name or sole_auth(src.kind)})
                 if src.account else None),
        schema_title=spec.schema_.title or f"{label} events",
        schema_description=spec.schema_.description, class_id=spec.schema_.class_id, fields=fields_raw,
        dataset_name=spec.dataset.name or f"{label} events", dataset_description=spec.dataset.description,
        dataset_tags={k: list(v) for k, v in spec.dataset.tags.items()},
        target_name=spec.target.name or f"Streaming Target Connection for {label}",
        target_description=spec.target.description,
        mapping_set_name=spec.mapping_set.name or f"{first}-mapping",
        mappings=mappings,
        flow_name=spec.flow.name or f"Streaming Dataflow for {label}",
        flow_description=spec.flow.description, flow_enabled=spec.flow.enabled,
        adopt=adopt, retain_on_delete=spec.retain_on_delete, allow_replace=frozenset(spec.allow_replace),
        previous_names=tuple(spec.previous_names),
        flow_error_diagnostics_enabled=spec.flow.error_diagnostics_enabled,
        flow_partial_ingestion_percent=spec.flow.partial_ingestion_percent,
        identities=tuple(identity.identities(fields or {})),
        namespaces=tuple({"code": n.code, "name": n.name or n.code, "description": n.description,
                          "id_type": n.id_type, "adopt_id": n.adopt} for n in spec.namespaces),
        profile=spec.profile,
        samples=None if spec.samples is None else tuple(
            {"name": s.name or f"sample {i + 1}", "payload": s.payload, "expect": s.expect}
            for i, s in enumerate(spec.samples)),
    )
    # A path the spec's own models or checks already named needs no second, derived problem.
    said = {p.path for p in problems} | reported
    placeholder = tn if any(TENANT_PLACEHOLDER in m.destination for m in mappings_in) else ""
    problems += [p for p in parts.problems(pipe, path, unknown, placeholder) if p.path not in said]
    return (None, problems) if problems else (pipe, [])


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load(pipelines: Any = None, spec_file: str | None = None, *, sandbox: str | None = None,
         tenant_id: str | None = None, base_dir: str | pathlib.Path = ".") -> list[Pipeline]:
    """Validate and resolve a stack's pipelines; raises SpecError naming every problem.

    `pipelines` is the value of `aep-pipelines:pipelines` (a list); `spec_file` the value of
    `aep-pipelines:specFile`; `sandbox`/`tenant_id` the stack's `aep:sandbox`/`aep:tenantId`,
    the defaults for every pipeline.
    """
    _, resolved = load_resolved(pipelines, spec_file, sandbox=sandbox, tenant_id=tenant_id, base_dir=base_dir)
    return [p for _, p in resolved]


def load_resolved(pipelines: Any = None, spec_file: str | None = None, *, sandbox: str | None = None,
                  tenant_id: str | None = None,
                  base_dir: str | pathlib.Path = ".") -> tuple[str, list[tuple[str, Pipeline]]]:
    """As `load`, plus where the spec came from and each pipeline's path in it (for messages)."""
    if pipelines is not None and spec_file:
        raise SpecError("stack config", [Problem(f"{PROJECT}:specFile", f"both {PROJECT}:pipelines and "
                                         f"{PROJECT}:specFile are set: keep one (`pulumi config rm ...`)")])
    if pipelines is not None:
        origin, prefix = f"stack config {PROJECT}:pipelines", f"{PROJECT}:pipelines"
        data = pipelines
        if not isinstance(data, list):
            raise SpecError(origin, [Problem(prefix, "must be a list of pipelines, e.g. `- name: pendo`")])
        wrapper = {"pipelines": data}
        loc_strip = 1
    elif spec_file:
        file = pathlib.Path(base_dir, spec_file)
        origin, prefix = f"{spec_file}, the spec file named by {PROJECT}:specFile", ""
        try:
            wrapper = load_file(file, spec_file)
        except FileNotFoundError:
            raise SpecError(origin, [Problem(f"{PROJECT}:specFile", f"{spec_file} does not exist (relative to the "
                                             "project root): fix the path or create the file")]) from None
        except YamlFileError as e:
            raise SpecError(origin, [Problem(e.location, e.message)]) from None
        if wrapper is None:
            raise SpecError(origin, [Problem(spec_file, "is empty: it must hold `pipelines:`, a list of pipelines "
                                             "(see the repository's pipelines.yaml)")])
        if not isinstance(wrapper, dict):
            raise SpecError(origin, [Problem(spec_file, "must be a mapping with a `pipelines:` list")])
        loc_strip = 0
    else:
        origin, prefix = "the default Pendo pipeline", ""
        wrapper = {"pipelines": [DEFAULT_PIPELINE]}
        loc_strip = 0
    # Config paths read `aep-pipelines:pipelines[0]...`, file paths `pipelines[0]...`.
    base = prefix if loc_strip else "pipelines"
    problems: list[Problem] = []
    try:
        parsed = SpecFile.model_validate(wrapper)
    except ValidationError as e:
        problems = top_level(pydantic_problems(e, SpecFile, ""), base)
        # Report the rest of the spec's problems too: drop what failed and look again.
        try:
            parsed = SpecFile.model_validate(without(wrapper, e))
        except ValidationError:
            parsed = None
    if parsed is not None and not parsed.pipelines:
        problems.append(Problem(base, "declare at least one pipeline"))
    resolved: list[tuple[str, Pipeline]] = []
    for i, spec in enumerate(parsed.pipelines if parsed is not None else []):
        pipe, probs = _resolve(spec, f"{base}[{i}]", sandbox, tenant_id, frozenset(p.path for p in problems))
        problems += probs
        if pipe:
            resolved.append((f"{base}[{i}]", pipe))
    problems += unique.check(resolved) + ids.check_distinct(resolved) + identity.check(resolved)
    if problems:
        raise SpecError(origin, problems)
    return origin, resolved


def load_from_stack() -> list[Pipeline]:
    """The running Pulumi program's pipelines, from its stack config."""
    import pulumi  # noqa: PLC0415 - the CLI and unit tests import this module without a Pulumi runtime

    cfg = pulumi.Config(PROJECT)
    aep = pulumi.Config("aep")
    # The tenant is a fact about the org, like AEP_ORG_ID: CI may supply it from the environment.
    tenant = aep.get("tenantId") or os.environ.get("AEP_TENANT_ID") or None
    pipes = load(cfg.get_object("pipelines"), cfg.get("specFile"), sandbox=aep.get("sandbox"),
                 tenant_id=tenant, base_dir=pathlib.Path.cwd())
    # A stack-wide retain_on_delete (prod): its objects stay in AEP when a pipeline goes away.
    try:
        retain = cfg.get_bool("retainOnDelete")
    except pulumi.ConfigTypeError:
        raise SpecError("stack config", [Problem(f"{PROJECT}:retainOnDelete", "must be true or false")]) from None
    pipes = [_with_secrets(p, cfg) for p in pipes]
    return [replace(p, retain_on_delete=True) for p in pipes] if retain else pipes


def _with_secrets(p: Pipeline, cfg: Any) -> Pipeline:
    """The pipeline with each `{secret: <key>}` auth param read from the stack's secret config
    (a missing key fails the program, naming the `pulumi config set --secret` to run)."""
    if p.account is None or not any(secret_ref(v) for v in p.account.auth_params.values()):
        return p
    params = {k: cfg.require_secret(secret_ref(v)) if secret_ref(v) else v for k, v in p.account.auth_params.items()}
    return replace(p, account=p.account.model_copy(update={"auth_params": params}))
