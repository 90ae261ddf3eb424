"""A Pendo streaming pipeline built from the providers; its shape is driven by `pipeline:*` config."""

import json

import pulumi

from providers import PENDO_SPEC, Dataflow, Dataset, MappingSet, SourceConnection, TargetConnection, XdmSchema

cfg = pulumi.Config("pipeline")
tenant = pulumi.Config("aep").require("tenantId")

FIELDS = {
    "accountId": {"type": "string"},
    "visitorId": {"type": "string"},
    "guide": {"type": "object", "properties": {"name": {"type": "string"}}},
}
MAPPINGS = [
    {"source": "accountId", "destination": f"_{tenant}.accountId"},
    {"source": "visitorId", "destination": f"_{tenant}.visitorId"},
]

schema = XdmSchema("events", title=cfg.get("schemaTitle"), tenant_id=tenant,
                   fields=json.loads(cfg.get("fields") or json.dumps(FIELDS)))
dataset = Dataset("events", schema_id=schema.schema_id)
source = SourceConnection("pendo", connection_spec_id=cfg.get("sourceSpec") or PENDO_SPEC)
target = TargetConnection("lake", dataset_id=dataset.id, schema_id=schema.schema_id)
mapping = MappingSet("pendo", schema_id=schema.schema_id, schema_field_paths=schema.known_field_paths,
                     mappings=json.loads(cfg.get("mappings") or json.dumps(MAPPINGS)))
flow = Dataflow("pendo", source_connection_id=source.id, target_connection_id=target.id,
                mapping_id=mapping.id, mapping_version=mapping.version, enabled=cfg.get_bool("enabled"),
                allow_replace=cfg.get_bool("allowFlowReplace"))

pulumi.export("inlet_url", flow.inlet_url)
pulumi.export("flow_id", flow.id)
pulumi.export("mapping_version", mapping.version)
pulumi.export("state", flow.state)
