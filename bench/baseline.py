"""The Pendo tutorial as a straight script: the baseline `pulumi up` is measured against.

For each pipeline, in the tutorial's order and one request at a time: source connection,
target schema (its field group, then the schema), dataset, target connection, mapping set,
flow, and the GET that reads the flow's inletUrl. Same client (providers.client.AEPClient,
so the same token cache, retries and connection reuse), same request bodies as the
providers send, no concurrency. `teardown` deletes in reverse dependency order.

    python -m bench.baseline --endpoint http://127.0.0.1:8765 --sandbox bench -n 10
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

from emulator import config as dev
from pipelines.spec import Pipeline
from providers.client import AEPClient, AEPSettings, Secret
from providers.models import (
    DATA_LAKE_SPEC,
    DATASET_SCHEMA_FORMAT,
    DEFAULT_DESCRIPTION,
    PENDO_SPEC,
    STREAMING_FLOW_SPEC,
    STREAMING_PROVIDER_ID,
    TARGET_SCHEMA_FORMAT,
)

from .spec import resolved


@dataclass
class Created:
    """The ids one pipeline's run of the tutorial produced, for teardown."""

    source: str = ""
    field_group: str = ""
    schema: str = ""
    dataset: str = ""
    target: str = ""
    mapping: str = ""
    flow: str = ""
    inlet_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def client(endpoint: str, client_secret: str) -> AEPClient:
    """The tutorial's client for the emulator at `endpoint`, with its (throwaway) client secret."""
    return AEPClient(AEPSettings(client_id=dev.DEV_CLIENT_ID, client_secret=Secret(client_secret),
                                 org_id=dev.DEV_ORG_ID, endpoint=endpoint, ims_url=endpoint + "/ims/token/v3"))


def _xdm(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for name, f in fields.items():
        prop: dict[str, Any] = {"title": f.get("title") or name}
        if f["type"] in ("date", "date-time"):
            prop.update(type="string", format=f["type"])
        else:
            prop["type"] = f["type"]
        out[name] = prop
    return out


def tutorial(api: AEPClient, p: Pipeline) -> Created:
    """One pipeline, step by step, as the tutorial (and its linked schema/dataset guides) does it."""
    sb, c = p.sandbox, Created()
    c.source = api.create_source_connection(sb, {
        "name": p.source_name, "description": p.source_description or DEFAULT_DESCRIPTION,
        "providerId": STREAMING_PROVIDER_ID, "connectionSpec": {"id": PENDO_SPEC, "version": "1.0"},
        "data": {"format": p.data_format}}).id
    group = api.create_field_group(sb, {
        "type": "object", "title": f"{p.schema_title} fields", "description": DEFAULT_DESCRIPTION,
        "meta:intendedToExtend": [p.class_id],
        "definitions": {"customFields": {"type": "object", "properties": {
            f"_{p.tenant_id}": {"type": "object", "properties": _xdm(p.fields)}}}},
        "allOf": [{"$ref": "#/definitions/customFields"}]})
    c.field_group = group.body.get("meta:altId") or group.id
    schema = api.create_schema(sb, {"type": "object", "title": p.schema_title, "description": DEFAULT_DESCRIPTION,
                                    "allOf": [{"$ref": p.class_id}, {"$ref": group.id}]})
    c.schema = schema.body.get("meta:altId") or schema.id
    c.dataset = api.create_dataset(sb, {
        "name": p.dataset_name, "description": DEFAULT_DESCRIPTION,
        "schemaRef": {"id": schema.id, "contentType": DATASET_SCHEMA_FORMAT}, "tags": {}}).id
    c.target = api.create_target_connection(sb, {
        "name": p.target_name, "description": DEFAULT_DESCRIPTION,
        "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"},
        "data": {"format": "json", "schema": {"id": schema.id, "version": TARGET_SCHEMA_FORMAT}},
        "params": {"dataSetId": c.dataset}}).id
    mapping = api.create_mapping_set(sb, {
        "name": p.mapping_set_name,
        "outputSchema": {"schemaRef": {"id": schema.id, "contentType": TARGET_SCHEMA_FORMAT}},
        "mappings": [{"sourceType": m["source_type"], "source": m["source"], "destination": m["destination"]}
                     for m in p.mappings]})
    c.mapping = mapping.id
    c.flow = api.create_flow(sb, {
        "name": p.flow_name, "description": p.flow_description or DEFAULT_DESCRIPTION,
        "flowSpec": {"id": STREAMING_FLOW_SPEC, "version": "1.0"},
        "sourceConnectionIds": [c.source], "targetConnectionIds": [c.target],
        "transformations": [{"name": "Mapping", "params": {"mappingId": mapping.id,
                                                           "mappingVersion": mapping.body.get("version", 0)}}]}).id
    c.inlet_url = (api.get_flow(sb, c.flow).get("options") or {}).get("inletUrl", "")
    return c


def teardown(api: AEPClient, sandbox: str, c: Created) -> None:
    """Reverse dependency order: the flow first, the objects nothing else uses last."""
    api.delete_flow(sandbox, c.flow)
    api.delete_mapping_set(sandbox, c.mapping)
    api.delete_target_connection(sandbox, c.target)
    api.delete_dataset(sandbox, c.dataset)
    api.delete_schema(sandbox, c.schema)
    api.delete_field_group(sandbox, c.field_group)
    api.delete_source_connection(sandbox, c.source)


def run(endpoint: str, sandbox: str, n: int) -> tuple[float, float]:
    """Create N pipelines, then delete them; (create seconds, delete seconds)."""
    api = client(endpoint)
    pipes = resolved(n, sandbox)
    t0 = time.perf_counter()
    made = [tutorial(api, p) for p in pipes]
    t1 = time.perf_counter()
    for c in reversed(made):
        teardown(api, sandbox, c)
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--sandbox", default="bench-baseline")
    ap.add_argument("-n", type=int, default=1)
    args = ap.parse_args()
    up, down = run(args.endpoint, args.sandbox, args.n)
    print(f"baseline n={args.n}: create {up:.2f}s, delete {down:.2f}s")


if __name__ == "__main__":
    main()
