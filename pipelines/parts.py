"""A pipeline's AEP objects and what each one is given: the one table from a `Pipeline` to its
resources' inputs.

`StreamingPipeline` builds its resources from `inputs()`, and the spec validates the same
inputs with each resource's own `check()` before any resource is registered (`problems()`),
so a rule is written once, in the provider, and a spec error is the provider's own message at
the path the user wrote. The ids one object takes from another (`LINKS`) are unknown until
the engine runs; they are checked as unknown, exactly as the engine's preview checks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown

from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    MappingSetProvider,
    SourceConnectionProvider,
    TargetConnectionProvider,
    XdmSchemaProvider,
)
from providers.models import STANDARD_NAMESPACE_CODES
from providers.sources import KINDS

from .problems import Problem
from .spec_models import secret_ref

# A dataset's records reach Profile (and its identities the identity graph) with these tags.
PROFILE_TAGS = {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}
TENANT_PLACEHOLDER = "{tenantId}"


@dataclass(frozen=True)
class Part:
    """One AEP object of a pipeline: its provider, the inputs it takes from other parts (input ->
    part), and where its inputs are written in the spec (input -> spec path)."""

    provider: type
    links: dict[str, str]
    paths: dict[str, str]


PARTS: dict[str, Part] = {
    "schema": Part(XdmSchemaProvider, {}, {
        "title": "schema.title", "description": "schema.description", "class_id": "schema.class",
        "tenant_id": "schema.tenant_id", "fields": "schema.fields", "adopt_id": "adopt.schema"}),
    "dataset": Part(DatasetProvider, {"schema_id": "schema"}, {
        "name": "dataset.name", "description": "dataset.description", "tags": "dataset.tags",
        "adopt_id": "adopt.dataset"}),
    "account": Part(BaseConnectionProvider, {}, {
        "name": "source.account.name", "description": "source.account.description",
        "connection_spec_id": "source.account", "source_kind": "source.kind",
        "auth_spec_name": "source.account.auth_spec_name",
        "auth_params": "source.account.auth_params", "adopt_id": "adopt.account"}),
    "source": Part(SourceConnectionProvider, {"base_connection_id": "account"}, {
        "name": "source.name", "description": "source.description", "connection_spec_id": "source.kind",
        "source_kind": "source.kind",
        "data_format": "source.data_format", "params": "source.params", "base_connection_id": "source.account",
        "adopt_id": "adopt.source"}),
    "target": Part(TargetConnectionProvider, {"dataset_id": "dataset", "schema_id": "schema"}, {
        "name": "target.name", "description": "target.description", "adopt_id": "adopt.target"}),
    "mapping": Part(MappingSetProvider, {"schema_id": "schema"}, {
        "name": "mapping_set.name", "mappings": "mappings", "adopt_id": "adopt.mapping_set"}),
    "flow": Part(DataflowProvider, {"source_connection_id": "source", "target_connection_id": "target",
                                    "mapping_id": "mapping", "mapping_version": "mapping"}, {
        "name": "flow.name", "description": "flow.description", "enabled": "flow.enabled", "source_kind": "source.kind",
        "error_diagnostics_enabled": "flow.error_diagnostics_enabled",
        "partial_ingestion_percent": "flow.partial_ingestion_percent", "adopt_id": "adopt.flow"}),
}


def inputs(p: Any, allow: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """Each part's own inputs (not the ids it takes from other parts), by part; no `account`
    unless the source has one. `allow` is the one-way doors this run may go through."""
    from .streaming import ONE_WAY_DOORS  # noqa: PLC0415 - streaming imports this module

    adopt, sb = p.adopt, p.sandbox
    out: dict[str, dict[str, Any]] = {
        "schema": dict(title=p.schema_title, description=p.schema_description, class_id=p.class_id,
                       tenant_id=p.tenant_id, fields=p.fields, sandbox=sb, adopt_id=adopt.get("schema"),
                       allow_replace=ONE_WAY_DOORS <= allow or None, profile=p.profile or None),
        "dataset": dict(name=p.dataset_name, description=p.dataset_description, tags=p.dataset_tags or None,
                        sandbox=sb, adopt_id=adopt.get("dataset"), allow_replace="dataset" in allow or None),
        "source": dict(name=p.source_name, description=p.source_description,
                       connection_spec_id=KINDS[p.source_kind].connection_spec_id, source_kind=p.source_kind,
                       data_format=p.data_format,
                       params=p.source_params or None, sandbox=sb, adopt_id=adopt.get("source")),
        "target": dict(name=p.target_name, description=p.target_description, sandbox=sb,
                       adopt_id=adopt.get("target")),
        "mapping": dict(name=p.mapping_set_name, mappings=p.mappings, schema_field_paths=p.field_paths,
                        sandbox=sb, adopt_id=adopt.get("mapping_set")),
        "flow": dict(name=p.flow_name, description=p.flow_description, enabled=p.flow_enabled,
                     source_kind=p.source_kind,
                     error_diagnostics_enabled=p.flow_error_diagnostics_enabled,
                     partial_ingestion_percent=p.flow_partial_ingestion_percent, sandbox=sb,
                     adopt_id=adopt.get("flow"), allow_replace="flow" in allow or None),
    }
    if not p.mappings:
        del out["mapping"]  # records arrive as XDM: the flow has no mapping set
    out["dataset"]["tags"] = {**(p.dataset_tags or {}), **PROFILE_TAGS} if p.profile else out["dataset"]["tags"]
    canonical = {c.lower(): c for c in STANDARD_NAMESPACE_CODES} | {ns["code"].lower(): ns["code"]
                                                                    for ns in p.namespaces}
    out["identities"] = [dict(source_property=f"/_{p.tenant_id}/" + d["field"].replace(".", "/"),
                              namespace=canonical.get(d["namespace"].lower(), d["namespace"]),
                              primary=d["primary"], sandbox=sb) for d in p.identities]
    # An adopted schema may be enabled for Profile already: adopting reads it instead of writing.
    out["profile"] = dict(sandbox=sb, adopt_id=adopt.get("schema"))
    if p.account is not None:
        out["account"] = dict(name=p.account.name, description=p.account.description,
                              connection_spec_id=KINDS[p.source_kind].connection_spec_id, source_kind=p.source_kind,
                              auth_spec_name=p.account.auth_spec_name,
                              auth_params=p.account.auth_params, sandbox=sb, adopt_id=adopt.get("account"))
    return out


def problems(p: Any, path: str, unknown: set[str] = frozenset(), written: str = "") -> list[Problem]:
    """What each part's provider `check()` refuses in this pipeline, at the spec's paths.

    `unknown` names inputs the spec could not settle (no sandbox, no tenant): they are checked
    as unknown, the way a preview checks an id that does not exist yet. `written` is the tenant
    id as it appears in resolved destinations, shown back as `_{tenantId}`.
    """
    found: list[Problem] = []
    parts = inputs(p)
    for key, part in PARTS.items():
        if key not in parts:
            continue
        news = {k: v for k, v in parts[key].items() if v is not None}
        if key == "account":
            # A secret reference's value is in the stack's secret config, unknown here as at preview.
            news["auth_params"] = {k: Unknown() if secret_ref(v) else v for k, v in news.get("auth_params", {}).items()}
        for name in (*part.links, *(unknown & set(news))):
            news[name] = Unknown()
        if key == "source" and "account" in parts:
            news["base_connection_id"] = Unknown()
        for failure in part.provider().check({}, news).failures:
            found.append(Problem(_spec_path(path, part, failure.property), _shown(failure.reason, written)))
    return found


def _spec_path(path: str, part: Part, prop: str) -> str:
    """`mappings[2].destination` of the MappingSet is `pipelines[0].mappings[2].destination`."""
    head = re.match(r"[^.\[]+", prop)
    name = head.group(0) if head else prop
    rest = prop[len(name):]
    return f"{path}.{part.paths.get(name, name)}{rest}"


def _shown(message: str, tenant: str) -> str:
    """A message in the spec's terms: the org's tenant written back as the placeholder."""
    if not tenant:
        return message
    return re.sub(rf"(?<![A-Za-z0-9])_{re.escape(tenant)}(?![A-Za-z0-9_])", "_" + TENANT_PLACEHOLDER, message)
