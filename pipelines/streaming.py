"""`StreamingPipeline`: the tutorial's six AEP objects (plus an account when the source needs one)
as one component, wired so that each object takes the ids it needs from the one before it.

    XdmSchema ──id──> Dataset ──id──┐
        │                           ├──> TargetConnection ──id──┐
        ├──id───────────────────────┘                           │
        └──id, field paths──> MappingSet ──id, version──────────┼──> Dataflow ──> inlet_url
    [BaseConnection ──id──>] SourceConnection ──id──────────────┘

Because every id travels as an Output, the engine creates in that order, deletes in the
reverse order, and a replaced object takes its dependants along exactly as the providers
define (a new target connection means a new dataflow; a new mapping version only
patches the dataflow).

Dependants take each object's Pulumi `id`, never a computed output that repeats it: a
preview of an in-place update knows the id (updates keep it), while every computed output
of a dynamic resource is unknown until the update runs, and an unknown value in a field
that forces replacement would plan a replacement that `up` never performs.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Sequence

import pulumi

from providers import (
    BaseConnection,
    Dataflow,
    Dataset,
    IdentityDescriptor,
    IdentityNamespace,
    MappingSet,
    ProfileEnablement,
    SourceConnection,
    TargetConnection,
    XdmSchema,
)

from . import identity, parts
from .shards import options_for
from .spec import Pipeline
from .workspace import is_loopback


def webhook_url(inlet_url: str | None, flow_id: str | None) -> str | None:
    """What a webhook sender posts to: the inlet, naming the flow (Pendo cannot set headers)."""
    if not inlet_url or not flow_id:
        return None
    sep = "&" if "?" in inlet_url else "?"
    return f"{inlet_url}{sep}x-adobe-flow-id={flow_id}"


ONE_WAY_DOORS = frozenset({"schema", "dataset", "flow"})


def allowed_replacements(p: Pipeline) -> frozenset[str]:
    """The one-way doors this run may go through: the pipeline's `allow_replace`, or all of them
    for one run with ALLOW_DATA_LOSS=1."""
    return ONE_WAY_DOORS if os.environ.get("ALLOW_DATA_LOSS") == "1" else p.allow_replace


def protect_data() -> bool:
    """Whether datasets get Pulumi's `protect`: stack config aep-pipelines:protectData, by default
    on for every stack but `dev` and stacks on a local emulator (which holds no data worth it)."""
    value = pulumi.Config("aep-pipelines").get_bool("protectData")
    if value is not None:
        return value
    endpoint = pulumi.Config("aep").get("endpoint") or os.environ.get("AEP_ENDPOINT") or ""
    return pulumi.get_stack() != "dev" and not is_loopback(endpoint)


class StreamingPipeline(pulumi.ComponentResource):
    """A streaming source -> mapping -> dataset pipeline in one sandbox."""

    schema: XdmSchema
    dataset: Dataset
    account: BaseConnection | None
    source: SourceConnection
    target: TargetConnection
    mapping_set: MappingSet | None
    flow: Dataflow
    inlet_url: pulumi.Output[str]
    webhook_url: pulumi.Output[str]
    pipeline: Pipeline

    def __init__(self, name: str, pipeline: Pipeline, opts: pulumi.ResourceOptions | None = None,
                 type_token: str = "aep-pipelines:index:StreamingPipeline",
                 namespaces: dict[tuple[str, str], IdentityNamespace] | None = None):
        if pipeline.previous_names:
            # A renamed pipeline is the same Pulumi resource under a new name: the engine moves
            # its state, and the children follow (their names start with the component's, so
            # each inherits `<old>-schema` etc. as an alias): no AEP object changes.
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                aliases=[pulumi.Alias(name=old) for old in pipeline.previous_names]))
        super().__init__(type_token, name, None, opts)
        namespaces = namespaces or {}
        p = self.pipeline = pipeline
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=p.retain_on_delete or None)
        allow = allowed_replacements(p)
        # Outside dev, a dataset is also protected in Pulumi: not even a raw `pulumi destroy`
        # drops it without an explicit `pulumi state unprotect` (make destroy ALLOW_DATA_LOSS=1).
        kept = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=protect_data() and
                                                                          "dataset" not in allow))

        i = parts.inputs(p, allowed_replacements(p))
        # AEP cannot delete a Profile-enabled schema, nor its primary identity: destroy leaves them.
        undeletable = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True)) \
            if p.profile else child
        self.schema = XdmSchema(f"{name}-schema", **i["schema"], opts=undeletable)
        self.identities = [IdentityDescriptor(
            f"{name}-identity-{d['source_property'].split('/', 2)[2].replace('/', '-')}", **d, schema_id=self.schema.id,
            opts=pulumi.ResourceOptions.merge(undeletable if d["primary"] else child, pulumi.ResourceOptions(
                depends_on=[namespaces[key] for key in [(p.sandbox, d["namespace"].lower())] if key in namespaces])))
            for d in i["identities"]]
        self.profile = None
        if p.profile:
            # Protected: taking Profile away would be a plan AEP cannot carry out (pipelines/guards.py).
            self.profile = ProfileEnablement(f"{name}-profile", **i["profile"], schema_id=self.schema.id,
                                             opts=pulumi.ResourceOptions.merge(undeletable, pulumi.ResourceOptions(
                                                 protect=True, depends_on=[d for d in self.identities])))
            kept = pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[self.profile]))
        self.dataset = Dataset(f"{name}-dataset", **i["dataset"], schema_id=self.schema.id, opts=kept)
        self.account = BaseConnection(f"{name}-account", **i["account"], opts=child) if "account" in i else None
        self.source = SourceConnection(
            f"{name}-source", **i["source"], base_connection_id=self.account.id if self.account else None,
            opts=child)
        self.target = TargetConnection(
            f"{name}-target", **i["target"], dataset_id=self.dataset.id, schema_id=self.schema.id, opts=child)
        # The schema's field paths are known in the program, so a bad destination fails the
        # preview before any API call.
        self.mapping_set = MappingSet(f"{name}-mapping", **i["mapping"], schema_id=self.schema.id,
                                      opts=child) if "mapping" in i else None
        mapping = self.mapping_set
        self.flow = Dataflow(
            f"{name}-flow", **i["flow"], source_connection_id=self.source.id, target_connection_id=self.target.id,
            mapping_id=mapping.id if mapping else None, mapping_version=mapping.version if mapping else None,
            opts=child)

        self.inlet_url = self.flow.inlet_url
        self.webhook_url = pulumi.Output.all(self.flow.inlet_url, self.flow.id).apply(lambda a: webhook_url(*a))
        # No register_outputs: the stack exports these already (`pipelines`), and a component's
        # outputs would be a third copy in the state, written with one more whole-state
        # checkpoint per pipeline (N = 50 at 0 ms: engine CPU -15%, docs/benchmarks.md).

    def outputs(self) -> dict[str, Any]:
        """Every object's id, the inlet and the URL to paste into the webhook sender (camelCase, as exported)."""
        out: dict[str, Any] = {
            "sandbox": self.pipeline.sandbox,
            "sourceKind": self.pipeline.source_kind,
            "schemaId": self.schema.id,
            "datasetId": self.dataset.id,
            "sourceConnectionId": self.source.id,
            "targetConnectionId": self.target.id,
            "flowId": self.flow.id,
            "flowName": self.flow.name,
            "flowState": self.flow.state,
            "inletUrl": self.inlet_url,
            "webhookUrl": self.webhook_url,
        }
        if self.account is not None:
            out["baseConnectionId"] = self.account.id
        if self.mapping_set is not None:
            out["mappingSetId"] = self.mapping_set.id
            out["mappingVersion"] = self.mapping_set.version
        p = self.pipeline
        primary = next((d for d in p.identities if d["primary"]), None)
        if primary is not None:
            # Where a sender's payload carries the primary identity: what `make demo` looks up.
            dest = f"_{p.tenant_id}.{primary['field']}"
            source = next((m["source"] for m in p.mappings if m["destination"] == dest), None)
            out["primaryIdentity"] = {"field": primary["field"], "namespace": primary["namespace"], "source": source}
        if self.profile is not None:
            out["profile"] = True
        return out


class PendoPipeline(StreamingPipeline):
    """The Pendo preset: a Pendo webhook source (JSON, no account) into the tutorial's objects."""

    def __init__(self, name: str, pipeline: Pipeline, opts: pulumi.ResourceOptions | None = None,
                 namespaces: dict[tuple[str, str], IdentityNamespace] | None = None):
        if pipeline.source_kind != "pendo":
            raise ValueError(f"PendoPipeline {name!r} needs a pendo source, not {pipeline.source_kind!r}: "
                             "use StreamingPipeline")
        super().__init__(name, pipeline, opts, type_token="aep-pipelines:index:PendoPipeline", namespaces=namespaces)


def build_each(pipelines: list[Pipeline], providers: Sequence[pulumi.ProviderResource] = ()
               ) -> Iterator[tuple[str, StreamingPipeline]]:
    """The stack's custom identity namespaces, then one component per pipeline (Pendo sources
    through the Pendo preset), yielded as each is built; with provider shards (pipelines.shards),
    each on the shard its name hashes to."""
    namespaces: dict[tuple[str, str], IdentityNamespace] = {}
    for (sandbox, key), ns in identity.declared([("", p) for p in pipelines]).items():
        # Namespaces are the sandbox's, not one pipeline's: other pipelines use them by code.
        res = f"namespace-{sandbox}-{key}"
        namespaces[(sandbox, key)] = IdentityNamespace(res, **ns, sandbox=sandbox, opts=options_for(res, providers))
    for p in pipelines:
        cls = PendoPipeline if p.source_kind == "pendo" else StreamingPipeline
        # The shard follows the first name, so a rename keeps the pipeline on its provider.
        yield p.name, cls(p.name, p, opts=options_for(p.identity, providers), namespaces=namespaces)


def build(pipelines: list[Pipeline],
          providers: Sequence[pulumi.ProviderResource] = ()) -> dict[str, StreamingPipeline]:
    """Every pipeline of `build_each`, by name, built in one go."""
    return dict(build_each(pipelines, providers))
