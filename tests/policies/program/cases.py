"""One small program per guardrail case, on the project's own providers: for each policy of
policies/ one that violates it (and nothing else) and one that passes every policy.

Datasets are retained and mapping sets map an identity unless the case is about that, so
that in a production stack each program trips at most the policy it is written for.
"""

from __future__ import annotations

import pulumi
from pulumi.dynamic import Resource

from providers import (
    HTTP_STREAMING_SPEC,
    BaseConnection,
    BaseConnectionProvider,
    Dataflow,
    Dataset,
    MappingSet,
    SourceConnection,
    TargetConnection,
    XdmSchema,
)
from providers.base import output_slots, resource_props

AUTH = {"sourceId": "policy-cases", "dataType": "raw"}
RETAINED = pulumi.ResourceOptions(retain_on_delete=True)


class PlaintextBaseConnection(Resource, module="aep", name="BaseConnection"):
    """The project's BaseConnection provider, fed its auth params without the secret wrapping
    providers.BaseConnection adds: what a hand-written program might do."""

    def __init__(self, name: str, auth_params: dict):
        props = resource_props(None, name=name, connection_spec_id=HTTP_STREAMING_SPEC,
                               auth_spec_name="Streaming Connection", auth_params=auth_params)
        super().__init__(BaseConnectionProvider(), name, {**props, **output_slots("etag")})


def schema(title: str = "Policy case events", **kw) -> XdmSchema:
    return XdmSchema("events-schema", title=title, tenant_id=pulumi.Config("aep").require("tenantId"),
                     fields={"visitorId": {"type": "string"}, "eventName": {"type": "string"}}, **kw)


def mapping(sch: XdmSchema, destinations: tuple[str, ...] = ("visitorId", "eventName")) -> MappingSet:
    tenant = pulumi.Config("aep").require("tenantId")
    return MappingSet("events-mapping", name="policy-case-mapping", schema_id=sch.schema_id,
                      schema_field_paths=sch.known_field_paths,
                      mappings=[{"source": d, "destination": f"_{tenant}.{d}"} for d in destinations])


def pipeline(*, mapped: bool, data_format: str = "json") -> None:
    """A source -> (mapping) -> dataset dataflow, enabled."""
    sch = schema()
    ds = Dataset("events-dataset", name="Policy case events", schema_id=sch.schema_id, opts=RETAINED)
    src = SourceConnection("events-source", name="Policy case source", connection_spec_id=HTTP_STREAMING_SPEC,
                           data_format=data_format)
    tgt = TargetConnection("events-target", name="Policy case target", dataset_id=ds.id, schema_id=sch.schema_id)
    ms = mapping(sch) if mapped else None
    Dataflow("events-flow", name="Policy case flow", source_connection_id=src.id, target_connection_id=tgt.id,
             mapping_id=ms.id if ms else None, mapping_version=ms.version if ms else None, enabled=True)


CASES = {
    # no-plaintext-credentials
    "credentials-bad": lambda: PlaintextBaseConnection("events-account", AUTH),
    "credentials-good": lambda: BaseConnection("events-account", connection_spec_id=HTTP_STREAMING_SPEC,
                                               auth_spec_name="Streaming Connection", auth_params=AUTH),
    # sandbox-of-the-stack
    "sandbox-bad": lambda: schema(sandbox="another-teams-sandbox"),
    "sandbox-good": lambda: schema(),
    # protect-production-data
    "protect-bad": lambda: Dataset("events-dataset", name="Policy case events", schema_id=schema().schema_id),
    "protect-good": lambda: Dataset("events-dataset", name="Policy case events", schema_id=schema().schema_id,
                                    opts=RETAINED),
    "protect-good-protected": lambda: Dataset("events-dataset", name="Policy case events",
                                              schema_id=schema().schema_id, opts=pulumi.ResourceOptions(protect=True)),
    "protect-bad-profile-schema": lambda: schema(profile=True),
    "protect-good-profile-schema": lambda: schema(profile=True, opts=RETAINED),
    # enabled-flow-has-mapping
    "flow-bad": lambda: pipeline(mapped=False),
    "flow-good": lambda: pipeline(mapped=True),
    "flow-good-xdm-source": lambda: pipeline(mapped=False, data_format="xdm"),
    # naming (the test's policy config asks for the prefix "ACME ")
    "naming-bad": lambda: schema(title="Policy case events"),
    "naming-good": lambda: schema(title="ACME policy case events"),
    # identity-in-production
    "identity-bad": lambda: mapping(schema(), destinations=("eventName",)),
    "identity-good": lambda: mapping(schema(), destinations=("visitorId", "eventName")),
}
