"""Helpers shared by the Flow Service, fault and durability tests.

Cross-service preconditions (a dataset, a mapping set) are written straight into the
store through the admin API in the shapes kinds.py defines, so these tests exercise
Flow Service's own rules without depending on the Catalog and Data Prep emulators.
The end-to-end Pendo test in test_flowservice.py uses the real APIs instead.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import requests

from emulator import seed
from emulator.config import DEV_ORG_ID
from emulator.process import EmulatorProcess

FS = "/data/foundation/flowservice"
SCHEMA_ID = "https://ns.adobe.com/extconndev/schemas/0123456789abcdef0123456789abcdef"
OTHER_SCHEMA_ID = "https://ns.adobe.com/extconndev/schemas/fedcba9876543210fedcba9876543210"
SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"


class FlowApi:
    """A Flow Service client for one sandbox of one emulator."""

    def __init__(self, emu: EmulatorProcess, sandbox: str, session: requests.Session | None = None):
        self.emu = emu
        self.sandbox = sandbox
        self.s = session or emu.session(sandbox)
        self.org = self.s.headers["x-gw-ims-org-id"]

    def url(self, path: str) -> str:
        return self.emu.base_url + FS + path

    def get(self, path: str, **kw) -> requests.Response:
        return self.s.get(self.url(path), timeout=10, **kw)

    def post(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.s.post(self.url(path), json=body, timeout=10, **kw)

    def patch(self, path: str, ops: Any, etag: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if etag is not None:
            headers["If-Match"] = etag
        return self.s.patch(self.url(path), json=ops, headers=headers, timeout=10, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.s.delete(self.url(path), timeout=10, **kw)

    def one(self, path: str) -> dict[str, Any]:
        r = self.get(path)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert len(items) == 1
        return items[0]

    def created(self, path: str, body: Any) -> str:
        r = self.post(path, body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    # -- preconditions owned by other services -----------------------------------------

    def put_dataset(self, schema_id: str = SCHEMA_ID) -> str:
        ds_id = secrets.token_hex(12)
        self.emu.admin("PUT", f"objects/dataset/{ds_id}", params={"org": self.org, "sandbox": self.sandbox},
                       json={"id": ds_id, "name": f"ds-{ds_id}",
                             "schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed+json;version=1"}})
        return ds_id

    def put_mapping(self, schema_id: str = SCHEMA_ID, versions: int = 1) -> str:
        mid = uuid.uuid4().hex
        docs = [{"id": mid, "version": v, "outputSchema": {"schemaRef": {"id": schema_id,
                                                                          "contentType": SCHEMA_VERSION}},
                 "mappings": []} for v in range(versions)]
        self.emu.admin("PUT", f"objects/mappingSet/{mid}", params={"org": self.org, "sandbox": self.sandbox},
                       json={"id": mid, "versions": docs})
        return mid

    def put_run(self, flow_id: str, created_at: int, status: str = "success") -> str:
        run_id = str(uuid.uuid4())
        self.emu.admin("PUT", f"objects/run/{run_id}", params={"org": self.org, "sandbox": self.sandbox}, json={
            "id": run_id, "flowId": flow_id, "createdAt": created_at, "updatedAt": created_at,
            "etag": '"run-etag"',
            "metrics": {"durationSummary": {"startedAtUTC": created_at, "completedAtUTC": created_at + 1000},
                        "sizeSummary": {"inputBytes": 10, "outputBytes": 10},
                        "recordSummary": {"inputRecordCount": 2, "outputRecordCount": 1, "failedRecordCount": 1},
                        "statusSummary": {"status": status, "errors": []}},
            "activities": []})
        return run_id

    # -- Flow Service objects -----------------------------------------------------------

    def source_body(self, **over) -> dict[str, Any]:
        return {"name": f"Pendo source {uuid.uuid4().hex[:6]}", "providerId": seed.PENDO_PROVIDER_ID,
                "description": "Streaming Source Connection for Pendo",
                "connectionSpec": {"id": seed.PENDO_SPEC_ID, "version": "1.0"}, "data": {"format": "json"}, **over}

    def source(self, **over) -> str:
        return self.created("/sourceConnections", self.source_body(**over))

    def target_body(self, dataset_id: str, schema_id: str = SCHEMA_ID, **over) -> dict[str, Any]:
        return {"name": "Pendo target", "description": "Streaming Target Connection for Pendo",
                "connectionSpec": {"id": seed.DATALAKE_SPEC_ID, "version": "1.0"},
                "data": {"format": "json", "schema": {"id": schema_id, "version": SCHEMA_VERSION}},
                "params": {"dataSetId": dataset_id}, **over}

    def target(self, dataset_id: str | None = None, schema_id: str = SCHEMA_ID) -> str:
        return self.created("/targetConnections", self.target_body(dataset_id or self.put_dataset(schema_id), schema_id))

    def flow_body(self, source_id: str, target_id: str, mapping_id: str, mapping_version: Any = 0,
                  **over) -> dict[str, Any]:
        return {"name": f"Pendo flow {uuid.uuid4().hex[:6]}", "description": "Streaming Dataflow for Pendo",
                "flowSpec": {"id": seed.STREAMING_FLOW_SPEC_ID, "version": "1.0"},
                "sourceConnectionIds": [source_id], "targetConnectionIds": [target_id],
                "transformations": [{"name": "Mapping", "params": {"mappingId": mapping_id,
                                                                   "mappingVersion": mapping_version}}], **over}

    def pendo_flow(self, **over) -> dict[str, str]:
        """A complete Pendo pipeline; returns the IDs of its parts."""
        src = self.source()
        tgt = self.target()
        mid = self.put_mapping()
        fid = self.created("/flows", self.flow_body(src, tgt, mid, **over))
        return {"source": src, "target": tgt, "mapping": mid, "flow": fid}

    def gcs_base_connection(self) -> str:
        return self.created("/connections", {
            "name": "GCS account", "description": "batch source",
            "auth": {"specName": "Basic Authentication for Google Cloud Storage",
                     "params": {"accessKeyId": "AKID", "secretAccessKey": "s3cret"}},
            "connectionSpec": {"id": seed.GCS_SPEC_ID, "version": "1.0"}})

    def gcs_flow(self) -> dict[str, str]:
        """A batch pipeline with a base connection and a schedule."""
        base = self.gcs_base_connection()
        src = self.created("/sourceConnections", {
            "name": "GCS source", "baseConnectionId": base, "data": {"format": "delimited"},
            "params": {"path": "/bucket/file.csv"}, "connectionSpec": {"id": seed.GCS_SPEC_ID, "version": "1.0"}})
        tgt = self.target()
        fid = self.created("/flows", {
            "name": "GCS flow", "flowSpec": {"id": seed.CLOUD_STORAGE_FLOW_SPEC_ID, "version": "1.0"},
            "sourceConnectionIds": [src], "targetConnectionIds": [tgt],
            "scheduleParams": {"startTime": 4102444800, "frequency": "hour", "interval": 1}})
        return {"base": base, "source": src, "target": tgt, "flow": fid}


def assert_flow_error(r: requests.Response, status: int, code: int) -> dict[str, Any]:
    """The response is a Flow Service error body FLOW-<code>-<status>."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"].endswith(f"FLOW-{code}-{status}"), body
    assert body["status"] == status
    return body


def org2() -> tuple[str, str, str]:
    """A second client for cross-org tests: id, secret, org."""
    return "aep-pipelines-test-org2", "org2-secret", "AEPPIPELINESTEST20000000@AdobeOrg"


__all__ = ["FlowApi", "assert_flow_error", "org2", "FS", "SCHEMA_ID", "OTHER_SCHEMA_ID", "DEV_ORG_ID"]
