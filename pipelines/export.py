"""`make export`: the streaming dataflows of an existing sandbox, written as a spec (pipelines.yaml).

One list call per object kind, plus what paging needs, and no GET per object:

    GET /stats (the tenant)   GET /flows   GET /sourceConnections   GET /connections
    GET /targetConnections    GET /dataSets   GET /tenant/schemas   GET /tenant/fieldgroups
    GET /mappingSets

Schema Registry listings have no xed-full rendering, so a schema's fields come from its
field group in the field-group listing (`Accept: application/vnd.adobe.xed+json` gives
each resource in full), read exactly as the XdmSchema provider reads a field group.

Each flow becomes one pipeline that says everything as AEP holds it (names, empty
descriptions as `""`, tags, fields, mappings with their source types, flow options), so
that adopting it (the `adopt:` ids) writes nothing. What the spec cannot say is listed
at the end as comments with the reason (`Export.left_out`), and the CLI then exits 3:
a flow that is not a streaming flow into the data lake, a source kind we do not model,
transformations other than one mapping, a schema field the spec cannot declare. The
whole result is checked by the spec's own validation before it is written; a pipeline
the spec would refuse is left out with the spec's message. Credentials are never read:
each auth param becomes `{secret: <key>}`, with the `pulumi config set --secret` to run.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from providers import sources
from providers.models import (  # source_type_of: the provider's own reading of a mapping's sourceType
    CLASS_ALIASES,
    DATA_LAKE_SPEC,
    DATASET_SCHEMA_FORMAT,
    TARGET_SCHEMA_FORMAT,
    no_spaces,
    source_type_of,
)
from providers.sources import FLOW_SPEC_NAMES
from providers.xdm_schema import fields_from_group, tenant_field_groups

from . import export_identity
from .parts import TENANT_PLACEHOLDER
from .problems import SpecError
from .spec import PROJECT, load_resolved

_STREAMING_FLOW_SPECS = {k.flow_spec_id for k in sources.CATALOG if k.streaming}
_ALIAS_OF_CLASS = {cid: alias for alias, cid in reversed(list(CLASS_ALIASES.items()))}
# What the XdmSchema provider writes and reads back of a field; anything else in AEP is lost.
_FIELD_KEYS = {"type", "title", "description", "properties", "items", "format"}
_INDEX = re.compile(r"pipelines\[(\d+)\]")


class LeftOut(Exception):
    """This flow cannot be written as a pipeline; the message says why."""


@dataclass
class Listing:
    """What one listing per object kind gave, by id."""

    tenant: str
    flows: list[dict]
    sources: dict[str, dict]
    bases: dict[str, dict]
    targets: dict[str, dict]
    datasets: dict[str, dict]
    schemas: dict[str, dict]
    groups: dict[str, dict]
    mapping_sets: dict[str, dict]
    namespaces: dict[str, dict] = field(default_factory=dict)  # by code in lower case
    descriptors: list[dict] = field(default_factory=list)  # the sandbox's identity descriptors


@dataclass
class Export:
    """The exported pipelines (spec dicts, in order) and every flow or detail left out, with why."""

    sandbox: str
    tenant: str
    adopt: bool = True
    pipelines: list[dict] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    secrets: list[tuple[str, str, str]] = field(default_factory=list)  # (pipeline, param, config key)


def read_sandbox(api: Any, sandbox: str, flow_ids: list[str] | None = None) -> Listing:
    """Every object kind a pipeline has, one listing each (all pages)."""
    flows = api.list_flows(sandbox, f"id=={','.join(flow_ids)}") if flow_ids else api.list_flows(sandbox)
    by_id = _by("id")
    schemas = api.list_schemas(sandbox)
    return Listing(
        tenant=api.tenant_id(sandbox), flows=flows,
        sources=by_id(api.list_connections(sandbox, "sourceConnections")),
        bases=by_id(api.list_connections(sandbox, "connections")),
        targets=by_id(api.list_connections(sandbox, "targetConnections")),
        datasets=api.list_datasets(sandbox),
        schemas={**_by("meta:altId")(schemas), **_by("$id")(schemas)},
        groups=_by("$id")(api.list_field_groups(sandbox)),
        mapping_sets=by_id(api.list_mapping_sets(sandbox)),
        namespaces={str(n.get("code", "")).lower(): n for n in api.list_namespaces(sandbox)},
        descriptors=api.list_sandbox_descriptors(sandbox))


def _by(key: str):
    return lambda items: {i[key]: i for i in items if isinstance(i, dict) and i.get(key)}


def export(listing: Listing, sandbox: str, *, adopt: bool = True, flow_ids: list[str] | None = None) -> Export:
    """The listing's streaming dataflows as pipelines, ordered by flow name then id."""
    out = Export(sandbox, listing.tenant, adopt)
    for fid in flow_ids or []:
        if not any(f.get("id") == fid for f in listing.flows):
            out.left_out.append((f"flow {fid}", f"no such dataflow in sandbox {sandbox!r}"))
    taken: set[str] = set()
    declared: set[str] = set()  # custom namespace codes a pipeline declares already
    built: list[tuple[dict, list[tuple[str, str]], str]] = []
    for flow in sorted(listing.flows, key=lambda f: (str(f.get("name") or ""), str(f.get("id")))):
        label = f"flow {flow.get('name')!r} ({flow.get('id')})"
        try:
            pipe, notes = _pipeline(flow, listing, _unique_name(flow.get("name"), taken), adopt, declared)
        except LeftOut as e:
            out.left_out.append((label, str(e)))
            continue
        taken.add(pipe["name"])
        built.append((pipe, notes, label))
    for pipe, notes, label in _valid(built, sandbox, listing.tenant, out):
        out.pipelines.append(pipe)
        out.left_out += [(f"{label}, pipeline {pipe['name']!r}: {what}", why) for what, why in notes]
        account = (pipe["source"].get("account") or {}).get("auth_params") or {}
        out.secrets += [(pipe["name"], param, ref["secret"]) for param, ref in account.items()]
    return out


def _valid(built: list, sandbox: str, tenant: str, out: Export) -> list:
    """The pipelines the spec accepts together; each refused one goes to `left_out` with the spec's words."""
    while built:
        try:
            load_resolved([p for p, _, _ in built], sandbox=sandbox, tenant_id=tenant)
            return built
        except SpecError as e:
            bad: dict[int, list[str]] = {}
            for problem in e.problems:
                m = _INDEX.search(problem.path)
                if m is None:
                    raise
                where = problem.path[m.end():].lstrip(".")
                bad.setdefault(int(m.group(1)), []).append(f"{where}: {problem.message}" if where else problem.message)
            for i in sorted(bad, reverse=True):
                _, _, label = built.pop(i)
                out.left_out.append((label, "the spec refuses it: " + "; ".join(bad[i])))
    return built


def _pipeline(flow: dict, ls: Listing, name: str, adopt: bool,
              declared: set[str]) -> tuple[dict, list[tuple[str, str]]]:
    """One flow as a pipeline spec, and the details it cannot carry; LeftOut when it is not a pipeline."""
    notes: list[tuple[str, str]] = []
    spec = flow.get("flowSpec") or {}
    src_ids, tgt_ids = flow.get("sourceConnectionIds") or [], flow.get("targetConnectionIds") or []
    target = ls.targets.get(tgt_ids[0]) if len(tgt_ids) == 1 else None
    if target is not None and (target.get("connectionSpec") or {}).get("id") != DATA_LAKE_SPEC:
        raise LeftOut(f"a destination flow (its target connection has connection spec "
                      f"{(target.get('connectionSpec') or {}).get('id')}, not the data lake): the spec declares "
                      "ingestion into datasets only")
    if spec.get("id") not in _STREAMING_FLOW_SPECS:
        raise LeftOut(f"not a streaming flow (flow spec {spec.get('id')}; batch and scheduled flows are not "
                      "modelled): the spec declares streaming flows on "
                      + " or ".join(f"{name} ({sid})" for sid, name in FLOW_SPEC_NAMES.items()))
    if str(spec.get("version") or "1.0") != "1.0":
        raise LeftOut(f"flow spec version {spec.get('version')!r}: the spec creates version 1.0 flows")
    if len(src_ids) != 1 or len(tgt_ids) != 1:
        raise LeftOut(f"{len(src_ids)} source and {len(tgt_ids)} target connections: a pipeline has one of each")
    source = ls.sources.get(src_ids[0])
    if source is None or target is None:
        raise LeftOut(f"its {'source' if source is None else 'target'} connection is not in the sandbox's listing")
    mapping = _mapping_transformation(flow)
    mset = ls.mapping_sets.get(mapping.get("mappingId")) if mapping else None
    if mapping and mset is None:
        raise LeftOut(f"its mapping set {mapping.get('mappingId')} is not in the sandbox's listing")
    dataset = ls.datasets.get((target.get("params") or {}).get("dataSetId"))
    if dataset is None:
        raise LeftOut(f"its dataset {(target.get('params') or {}).get('dataSetId')} is not in the sandbox's listing")
    schema_id = ((target.get("data") or {}).get("schema") or {}).get("id")
    schema = ls.schemas.get(schema_id)
    if schema is None:
        raise LeftOut(f"its schema {schema_id} is not in the sandbox's listing")
    _same_schema(schema, dataset, mset, target)

    pipe: dict[str, Any] = {"name": name}
    pipe["source"], account_id = _source(source, spec.get("id"), ls, name)
    pipe["schema"] = _schema(schema, ls, notes)
    pipe["dataset"] = _named(dataset, "name") | ({"tags": _tags(dataset)} if _tags(dataset) else {})
    pipe["target"] = _named(target, "name")
    if mset is not None:
        pipe["mapping_set"] = {"name": mset.get("name")}
    pipe["mappings"] = _mappings(mset, ls.tenant) if mset is not None else []
    pipe["flow"] = _flow(flow)
    export_identity.apply(pipe, schema, ls.tenant, ls.namespaces, ls.descriptors, declared, adopt, notes)
    if mset is not None and int(mapping.get("mappingVersion") or 0) != int(mset.get("version") or 0):
        notes.append(("flow.mapping_version", f"the flow runs version {mapping.get('mappingVersion')} of its mapping "
                      f"set, whose latest is {mset.get('version')}: `up` moves the flow to the latest version"))
    if adopt:
        pipe["adopt"] = {"schema": schema["$id"], "dataset": target["params"]["dataSetId"],
                         **({"account": account_id} if account_id else {}), "source": source["id"],
                         "target": target["id"], **({"mapping_set": mset["id"]} if mset else {}), "flow": flow["id"]}
    return pipe, notes


def _mapping_transformation(flow: dict) -> dict:
    """The params of the flow's one Mapping transformation; LeftOut for none or any other."""
    steps = flow.get("transformations") or []
    names = [str((t or {}).get("name")) for t in steps]
    others = [n for n in names if n.lower() != "mapping"]
    if others:
        raise LeftOut(f"transformations the spec does not model: {', '.join(sorted(others))}")
    if len(steps) != 1:
        if not steps:
            return {}  # no mapping: records arrive as XDM (`mappings: []`)
        raise LeftOut(f"{len(steps)} Mapping transformations")
    return steps[0].get("params") or {}


def _same_schema(schema: dict, dataset: dict, mset: dict | None, target: dict) -> None:
    """The pipeline shape: one schema for the dataset, the mapping set and the target, in the media types we send."""
    ids = {schema["$id"], schema.get("meta:altId")}
    ref = dataset.get("schemaRef") or {}
    out = ((mset or {}).get("outputSchema") or {})
    mref = out.get("schemaRef") or {}
    if ref.get("id") not in ids or (mset is not None and (mref.get("id") or out.get("id")) not in ids):
        raise LeftOut("its dataset, target connection and mapping set do not share one schema")
    if ref.get("contentType") != DATASET_SCHEMA_FORMAT:
        raise LeftOut(f"its dataset refers to its schema as {ref.get('contentType')!r}; the spec's datasets use "
                      f"{DATASET_SCHEMA_FORMAT!r}, and that cannot change in place")
    data = target.get("data") or {}
    version = no_spaces((data.get("schema") or {}).get("version") or TARGET_SCHEMA_FORMAT)
    if data.get("format", "json") != "json" or version != TARGET_SCHEMA_FORMAT:
        raise LeftOut(f"its target connection writes {data.get('format')!r} with schema version {version!r}; the "
                      f"spec's write json with {TARGET_SCHEMA_FORMAT!r}, and that cannot change in place")
    if no_spaces(mref.get("contentType") or TARGET_SCHEMA_FORMAT) != TARGET_SCHEMA_FORMAT:
        raise LeftOut(f"its mapping set refers to its schema as {mref.get('contentType')!r}; the spec's use "
                      f"{TARGET_SCHEMA_FORMAT!r}")


def _named(doc: dict, key: str) -> dict:
    """Name and description as AEP has them; no description is `""`, so the spec's default is not applied."""
    return {"name": doc.get(key), "description": doc.get("description") or ""}


def _source(source: dict, flow_spec: str | None, ls: Listing, pipeline: str) -> tuple[dict, str | None]:
    """The `source:` block, and the id of its base connection when it has one."""
    spec_id = (source.get("connectionSpec") or {}).get("id")
    # A connection spec may serve two kinds (the HTTP API's): the flow spec tells them apart.
    kind = next((k.kind for k in sources.by_spec(spec_id) if k.flow_spec_id == flow_spec), None)
    if kind is None:
        raise LeftOut(f"its source connection spec {spec_id} on flow spec {flow_spec} is not a kind of the source "
                      f"catalog ({', '.join(sources.KINDS)})")
    if str((source.get("connectionSpec") or {}).get("version") or "1.0") != "1.0":
        raise LeftOut("its source connection spec version is not 1.0")
    out: dict[str, Any] = {"kind": kind, **_named(source, "name"),
                           "data_format": (source.get("data") or {}).get("format") or "json"}
    if source.get("params"):
        out["params"] = _sorted(source["params"])
    base_id = source.get("baseConnectionId")
    if not base_id:
        return out, None
    base = ls.bases.get(base_id)
    if base is None:
        raise LeftOut(f"its base connection {base_id} is not in the sandbox's listing")
    auth = base.get("auth") or {}
    params = {k: _Flow(secret=secret_key(pipeline, k)) for k in sorted(auth.get("params") or {})}
    out["account"] = {**_named(base, "name"), "auth_spec_name": auth.get("specName"), "auth_params": params}
    return out, base_id


def secret_key(pipeline: str, param: str) -> str:
    """The config key an exported auth param is read from: `<pipeline>-<param>`, in the spec's key form."""
    return f"{pipeline}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', param)}"[:100].rstrip("-")


def _schema(schema: dict, ls: Listing, notes: list[tuple[str, str]]) -> dict:
    """The `schema:` block: title, class, and the fields of its first tenant field group (the provider's)."""
    class_id = schema.get("meta:class") or ""
    groups = tenant_field_groups(schema, ls.tenant, None, class_id)
    group = ls.groups.get(groups[0]) if groups else None
    if group is None:
        raise LeftOut("its schema has no tenant field group in the listing: the spec's schemas keep their fields in "
                      "one")
    for other in groups[1:]:
        title = (ls.groups.get(other) or {}).get("title")
        notes.append(("schema", f"field group {title!r} ({other}) stays as it is: a pipeline manages the first "
                      "tenant field group of its schema, and mappings into the others are refused"))
    raw = next((d["properties"][f"_{ls.tenant}"].get("properties") or {}
                for d in (group.get("definitions") or {}).values()
                if f"_{ls.tenant}" in ((d or {}).get("properties") or {})), {})
    for path in _unmodelled(raw, f"_{TENANT_PLACEHOLDER}"):
        notes.append(("schema.fields", f"{path} is not written to the spec (the spec declares a field's type, title, "
                      "description, properties and items): a change of fields rewrites the field group without it"))
    return {"title": schema.get("title"), "description": schema.get("description") or "",
            "class": _ALIAS_OF_CLASS.get(class_id, class_id), "fields": _fields(fields_from_group(group, ls.tenant))}


def _unmodelled(props: dict, prefix: str) -> list[str]:
    """Paths of field attributes that the spec cannot carry (enums, formats, meta: keys, ...)."""
    out = []
    for name, p in sorted(props.items()):
        if not isinstance(p, dict):
            continue
        extra = sorted(set(p) - _FIELD_KEYS)
        if p.get("format") not in (None, "date", "date-time"):
            extra.append("format")
        out += [f"{prefix}.{name}: {key}" for key in extra]
        out += _unmodelled(p.get("properties") or {}, f"{prefix}.{name}")
        if isinstance(p.get("items"), dict):
            out += _unmodelled({"[]": p["items"]}, f"{prefix}.{name}")
    return out


def _tags(dataset: dict) -> dict:
    return {k: sorted(v) for k, v in sorted((dataset.get("tags") or {}).items()) if not k.startswith("adobe/")}


def _mappings(mset: dict, tenant: str) -> list[dict]:
    """The mappings as Data Prep holds them (either dialect), destinations under `_{tenantId}`, in a fixed order."""
    root = f"_{tenant}"
    out = []
    for m in mset.get("mappings") or []:
        dest = m.get("destination") or m.get("destinationXdmPath") or ""
        if dest == root or dest.startswith(root + "."):
            dest = f"_{TENANT_PLACEHOLDER}" + dest[len(root):]
        src = m.get("source") if m.get("source") is not None else m.get("sourceAttribute")
        item = {"source": src, "destination": dest}
        kind = source_type_of(m.get("sourceType") or "ATTRIBUTE")
        if kind != "ATTRIBUTE":
            item["source_type"] = kind
        out.append(_Flow(item))
    return sorted(out, key=lambda m: (m["destination"], str(m["source"]), m.get("source_type", "")))


def _flow(flow: dict) -> dict:
    out = {**_named(flow, "name"), "enabled": flow.get("state") not in ("disabled", "disabling")}
    options = flow.get("options") or {}
    if options.get("errorDiagnosticsEnabled"):
        out["error_diagnostics_enabled"] = True
    if options.get("partialIngestionPercent") is not None:
        out["partial_ingestion_percent"] = options["partialIngestionPercent"]
    return out


def _fields(fields: dict) -> dict:
    """Fields by name, each as the provider reads it back; a field without sub-fields on one line."""
    out = {}
    for name in sorted(fields):
        f = dict(fields[name])
        if "properties" in f:
            f["properties"] = _fields(f["properties"])
        if isinstance(f.get("items"), dict):
            f["items"] = _fields({"": f["items"]})[""]
        out[name] = _Flow(f) if "properties" not in f and "items" not in f else f
    return out


def _sorted(v: Any) -> Any:
    """Mappings with their keys sorted, recursively, so a reordered answer exports the same text."""
    if isinstance(v, dict):
        return {k: _sorted(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [_sorted(x) for x in v]
    return v


def pipeline_name(flow_name: Any) -> str:
    """A pipeline name from a flow's name: lower-case ASCII letters, digits and hyphens, a letter first, 1-40."""
    ascii_ = unicodedata.normalize("NFKD", str(flow_name or "")).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")
    if not slug[:1].isalpha():
        slug = f"flow-{slug}".rstrip("-")
    return slug[:40].rstrip("-")


def _unique_name(flow_name: Any, taken: set[str]) -> str:
    base = pipeline_name(flow_name)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:40 - len(str(n)) - 1].rstrip('-')}-{n}"
    return name


# ---------------------------------------------------------------------------------------------
# The YAML text
# ---------------------------------------------------------------------------------------------


class _Flow(dict):
    """A mapping written on one line (`{source: a, destination: b}`), as pipelines.yaml writes mappings."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))


def render(out: Export) -> str:
    """The spec file's text: a header, the pipelines, then every flow or detail left out as comments."""
    head = [f"# Exported from AEP sandbox {out.sandbox!r} (tenant {out.tenant}) by `make export`."]
    if out.adopt:
        head += ["# Deploy it with a stack whose aep:sandbox and aep:tenantId are those; with the `adopt:` ids, `up`",
                 "# takes the objects over and writes nothing (docs/pipelines.md, Exporting a sandbox)."]
    else:
        head += ["# Without adopt ids (NO_ADOPT=1): a stack of another sandbox creates these objects afresh, and one",
                 "# that already manages them sees no change (docs/pipelines.md, Promotion)."]
    if out.secrets:
        head.append("# Credentials are never exported: set each one as a secret of the stack first:")
        head += [f"#   pulumi config set --secret {PROJECT}:{key} <{param} of {pipe}>"
                 for pipe, param, key in out.secrets]
    body = yaml.dump({"pipelines": out.pipelines}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6,
                     default_flow_style=False) if out.pipelines else "pipelines: []\n"
    lines = body.splitlines()
    for _pipe, _param, key in out.secrets:
        for i, line in enumerate(lines):
            if line.rstrip().endswith(f"{{secret: {key}}}"):
                lines[i] = f"{line}  # pulumi config set --secret {PROJECT}:{key} <value>"
    tail = []
    if out.left_out:
        tail = ["", f"# Left out ({len(out.left_out)}): what the spec cannot express yet, so `make export` exits 3."]
        tail += [f"# - {what}: {why}" for what, why in out.left_out]
    return "\n".join([*head, *lines, *tail]) + "\n"
