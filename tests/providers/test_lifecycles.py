"""Every resource's full lifecycle against the emulator, with the exact API calls of each step."""

from __future__ import annotations

from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    MappingSetProvider,
    SourceConnectionProvider,
    TargetConnectionProvider,
    XdmSchemaProvider,
)
from providers.models import HTTP_STREAMING_SPEC, PENDO_SPEC

from .lifecycle import Lifecycle
from .support import CAT, DP, FIELDS, FS, MAPPINGS, SR, TENANT, route


class TestXdmSchema(Lifecycle):
    provider = XdmSchemaProvider
    create_calls = {route("POST", SR, "/tenant/fieldgroups"): 1, route("POST", SR, "/tenant/schemas"): 1}
    read_calls = {route("GET", SR, "/{container}/schemas/{schema_id:path}"): 1}  # xed-full: no field group GET
    update_calls = {route("PATCH", SR, "/tenant/schemas/{schema_id:path}"): 1,
                    route("PUT", SR, "/tenant/fieldgroups/{fg_id:path}"): 1}
    delete_calls = {route("DELETE", SR, "/tenant/schemas/{schema_id:path}"): 1,
                    route("DELETE", SR, "/tenant/fieldgroups/{fg_id:path}"): 1}

    def inputs(self, h):
        return {"tenant_id": TENANT, "fields": FIELDS}

    def change(self, h, inputs):
        return {**inputs, "description": "v2", "fields": {**FIELDS, "country": {"type": "string"}}}

    def oob_change(self, h, id_, outs):
        r = h.raw.patch(h.url(f"{SR}/tenant/schemas/{outs['alt_id']}"),
                        json=[{"op": "replace", "path": "/title", "value": outs["title"] + " (edited)"}])
        assert r.status_code == 200, r.text

    def oob_delete(self, h, id_, outs):
        h.delete(f"{SR}/tenant/schemas/{outs['alt_id']}")


class TestDataset(Lifecycle):
    provider = DatasetProvider
    create_calls = {route("POST", CAT, "/dataSets"): 1}
    read_calls = {route("GET", CAT, "/dataSets/{dataset_id}"): 1}
    update_calls = {route("PATCH", CAT, "/dataSets/{dataset_id}"): 1}
    delete_calls = {route("DELETE", CAT, "/dataSets/{dataset_id}"): 1}

    def inputs(self, h):
        return {"schema_id": h.schema()[0], "tags": {"team": ["growth", "data"]}}

    def change(self, h, inputs):
        return {**inputs, "description": "v2", "tags": {"team": ["data", "growth", "web"], "unifiedProfile": ["enabled:false"]}}

    def oob_change(self, h, id_, outs):
        r = h.raw.patch(h.url(f"{CAT}/dataSets/{id_}"), json=[{"op": "replace", "path": "/name", "value": "edited"}],
                        headers={"Content-Type": "application/json-patch+json"})
        assert r.status_code == 200, r.text

    def oob_delete(self, h, id_, outs):
        h.delete(f"{CAT}/dataSets/{id_}")


class TestSourceConnection(Lifecycle):
    provider = SourceConnectionProvider
    create_calls = {route("POST", FS, "/sourceConnections"): 1}
    read_calls = {route("GET", FS, "/sourceConnections/{conn_id}"): 1}
    update_calls = {route("PATCH", FS, "/sourceConnections/{conn_id}"): 1}
    delete_calls = {route("DELETE", FS, "/sourceConnections/{conn_id}"): 1}

    def inputs(self, h):
        return {"connection_spec_id": PENDO_SPEC}

    def change(self, h, inputs):
        return {**inputs, "name": "pendo events", "description": "v2"}

    def oob_change(self, h, id_, outs):
        h.fs_patch("sourceConnections", id_, [{"op": "replace", "path": "/description", "value": "edited"}])

    def oob_delete(self, h, id_, outs):
        h.delete(f"{FS}/sourceConnections/{id_}")


class TestTargetConnection(Lifecycle):
    provider = TargetConnectionProvider
    create_calls = {route("POST", FS, "/targetConnections"): 1}
    read_calls = {route("GET", FS, "/targetConnections/{conn_id}"): 1}
    update_calls = {route("PATCH", FS, "/targetConnections/{conn_id}"): 1}
    delete_calls = {route("DELETE", FS, "/targetConnections/{conn_id}"): 1}

    def inputs(self, h):
        return {"dataset_id": h.dataset()[0], "schema_id": h.schema()[0]}

    def change(self, h, inputs):
        return {**inputs, "description": "v2"}

    def oob_change(self, h, id_, outs):
        h.fs_patch("targetConnections", id_, [{"op": "replace", "path": "/name", "value": "edited"}])

    def oob_delete(self, h, id_, outs):
        h.delete(f"{FS}/targetConnections/{id_}")


class TestMappingSet(Lifecycle):
    provider = MappingSetProvider
    create_calls = {route("POST", DP, "/mappingSets"): 1}
    read_calls = {route("GET", DP, "/mappingSets/{set_id}"): 1}
    update_calls = {route("PUT", DP, "/mappingSets/{set_id}"): 1}
    delete_calls = {route("DELETE", DP, "/mappingSets/{set_id}"): 1}

    def inputs(self, h):
        return {"schema_id": h.schema()[0], "mappings": MAPPINGS, "schema_field_paths": h.schema()[1]["field_paths"]}

    def change(self, h, inputs):
        return {**inputs, "mappings": [*reversed(MAPPINGS), {"source": "uniqueId", "destination": f"_{TENANT}.uniqueId"}]}

    def oob_change(self, h, id_, outs):
        body = {"outputSchema": {"schemaRef": {"id": outs["schema_id"], "contentType": outs["schema_content_type"]}},
                "mappings": [{"sourceType": "ATTRIBUTE", "source": "x", "destination": f"_{TENANT}.accountId"}]}
        r = h.raw.put(h.url(f"{DP}/mappingSets/{id_}"), json=body)
        assert r.status_code == 200, r.text

    def oob_delete(self, h, id_, outs):
        h.delete(f"{DP}/mappingSets/{id_}")


class TestDataflow(Lifecycle):
    provider = DataflowProvider
    create_calls = {route("POST", FS, "/flows"): 1, route("GET", FS, "/flows/{flow_id}"): 1}
    read_calls = {route("GET", FS, "/flows/{flow_id}"): 1}
    update_calls = {route("PATCH", FS, "/flows/{flow_id}"): 1}
    delete_calls = {route("DELETE", FS, "/flows/{flow_id}"): 1}

    def inputs(self, h):
        return {"source_connection_id": h.source()[0], "target_connection_id": h.target()[0],
                "mapping_id": h.mapping()[0], "mapping_version": 0.0}

    def change(self, h, inputs):
        # A new mapping version exists upstream (the MappingSet was updated); roll the flow onto it.
        ms = h.provider(MappingSetProvider)
        mid, mouts = h.mapping()
        new = h.check(ms, {"schema_id": h.schema()[0], "mappings": MAPPINGS[:2]}, olds=mouts)
        version = ms.update(mid, mouts, new).outs["version"]
        assert version == 1
        return {**inputs, "name": "pendo flow", "mapping_version": float(version)}

    def oob_change(self, h, id_, outs):
        r = h.raw.post(h.url(f"{FS}/flows/{id_}/action"), params={"op": "disable"})
        assert r.status_code == 200, r.text

    def oob_delete(self, h, id_, outs):
        h.delete(f"{FS}/flows/{id_}")


class TestBaseConnection(Lifecycle):
    provider = BaseConnectionProvider
    create_calls = {route("POST", FS, "/connections"): 1}
    read_calls = {route("GET", FS, "/connections/{conn_id}"): 1}
    update_calls = {route("PATCH", FS, "/connections/{conn_id}"): 1}
    delete_calls = {route("DELETE", FS, "/connections/{conn_id}"): 1}

    def inputs(self, h):
        return {"connection_spec_id": HTTP_STREAMING_SPEC, "auth_spec_name": "Streaming Connection",
                "auth_params": {"sourceId": "pendo", "dataType": "raw", "name": "acct"}}

    def change(self, h, inputs):
        return {**inputs, "name": "pendo account", "auth_params": {**inputs["auth_params"], "name": "rotated"}}

    def oob_change(self, h, id_, outs):
        h.fs_patch("connections", id_, [{"op": "replace", "path": "/name", "value": "edited"}])

    def oob_delete(self, h, id_, outs):
        h.delete(f"{FS}/connections/{id_}")
