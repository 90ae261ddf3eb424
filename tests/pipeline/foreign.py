"""AEP objects made the way the AEP UI and other clients make them: raw HTTP, none of our providers.

`Foreign(emu, sandbox)` posts to the emulator with `requests` only, in the shapes a UI-built
pipeline has: schemas with more than one field group, no descriptions, mapping sets with
calculated fields (`sourceType: EXPRESSION`), extra dataset tags, names with spaces and
Unicode, accounts with credentials, flows with no mapping, and batch flows.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from emulator import config as dev
from emulator.process import EmulatorProcess

FS = "/data/foundation/flowservice"
SR = "/data/foundation/schemaregistry"
EE = "https://ns.adobe.com/xdm/context/experienceevent"
PENDO = "6ff5654f-19d5-427d-bd3e-c0ebc802389a"
HTTP = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
LAKE = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
GCS = "32e8f412-cdf7-464c-9885-78184cb113fd"
STREAMING = "e77fde5a-22a8-11ed-861d-0242ac120002"
BATCH = "9753525b-82c7-4dce-8a9b-5ccfce2b9876"
PROVIDER = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
T = f"_{dev.TENANT_ID}"


def requests_quote(value: str) -> str:
    """A path segment, `$id` URLs included."""
    return urllib.parse.quote(value, safe="")


class Foreign:
    """A raw-HTTP client of one sandbox of the emulator."""

    def __init__(self, emu: EmulatorProcess, sandbox: str):
        self.emu, self.sandbox = emu, sandbox
        self.s = emu.session(sandbox)

    def _post(self, path: str, body: Any, **headers: str) -> Any:
        r = self.s.post(self.emu.base_url + path, json=body, headers=headers or None, timeout=30)
        assert r.status_code in (200, 201), f"POST {path}: {r.status_code} {r.text}"
        return r.json()

    # -- one object each ---------------------------------------------------------------------------

    def field_group(self, title: str, fields: dict, description: str | None = None) -> str:
        body = {"type": "object", "title": title, "meta:intendedToExtend": [EE],
                "definitions": {"fields": {"properties": {T: {"type": "object", "properties": fields}}}},
                "allOf": [{"$ref": "#/definitions/fields"}]}
        if description:
            body["description"] = description
        return self._post(f"{SR}/tenant/fieldgroups", body)["$id"]

    def schema(self, title: str, groups: list[str], description: str | None = None) -> str:
        body = {"type": "object", "title": title, "allOf": [{"$ref": EE}, *({"$ref": g} for g in groups)]}
        if description:
            body["description"] = description
        return self._post(f"{SR}/tenant/schemas", body)["$id"]

    def dataset(self, name: str, schema: str, tags: dict | None = None, description: str | None = None) -> str:
        body = {"name": name, "schemaRef": {"id": schema, "contentType": "application/vnd.adobe.xed+json;version=1"}}
        if tags is not None:
            body["tags"] = tags
        if description:
            body["description"] = description
        return self._post("/data/foundation/catalog/dataSets", body)[0].rsplit("/", 1)[-1]

    def account(self, name: str, params: dict) -> str:
        return self._post(f"{FS}/connections", {"name": name, "connectionSpec": {"id": HTTP, "version": "1.0"},
                                                "auth": {"specName": "Streaming Connection", "params": params}})["id"]

    def source(self, name: str, spec: str = PENDO, base: str | None = None, params: dict | None = None,
               description: str | None = None) -> str:
        body: dict[str, Any] = {"name": name, "providerId": PROVIDER, "connectionSpec": {"id": spec, "version": "1.0"},
                                "data": {"format": "json"}}
        for key, value in (("baseConnectionId", base), ("params", params), ("description", description)):
            if value:
                body[key] = value
        return self._post(f"{FS}/sourceConnections", body)["id"]

    def target(self, name: str, dataset: str, schema: str) -> str:
        return self._post(f"{FS}/targetConnections", {
            "name": name, "connectionSpec": {"id": LAKE, "version": "1.0"},
            "data": {"format": "json", "schema": {"id": schema,
                                                  "version": "application/vnd.adobe.xed-full+json;version=1"}},
            "params": {"dataSetId": dataset}})["id"]

    def mapping_set(self, name: str, schema: str, mappings: list[dict]) -> tuple[str, int]:
        out = self._post("/data/foundation/conversion/mappingSets", {
            "name": name, "outputSchema": {"schemaRef": {
                "id": schema, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
            "mappings": mappings})
        return out["id"], int(out["version"])

    def flow(self, name: str, source: str, target: str, mapping: tuple[str, int] | None = None,
             spec: str = STREAMING, description: str | None = None, **extra: Any) -> str:
        body: dict[str, Any] = {"name": name, "flowSpec": {"id": spec, "version": "1.0"},
                                "sourceConnectionIds": [source], "targetConnectionIds": [target], **extra}
        if mapping:
            body["transformations"] = [{"name": "Mapping", "params": {"mappingId": mapping[0],
                                                                      "mappingVersion": mapping[1]}}]
        if description:
            body["description"] = description
        return self._post(f"{FS}/flows", body)["id"]

    # -- whole pipelines, as a UI makes them -------------------------------------------------------

    def pendo_pipeline(self, tag: str, *, flow_name: str, two_groups: bool = False) -> dict[str, str]:
        """A Pendo webhook pipeline with no descriptions, an EXPRESSION mapping and extra dataset tags."""
        g1 = self.field_group(f"Pendo UI fields {tag}", {
            "accountId": {"type": "string", "title": "Account"},
            "visitorId": {"type": "string", "title": "visitorId"},
            "eventTime": {"type": "string", "format": "date-time", "title": "Event time"},
            "guide": {"type": "object", "title": "guide", "properties": {"name": {"type": "string", "title": "name"}}},
            "key": {"type": "string", "title": "Visitor key"}})
        groups = [g1]
        if two_groups:
            groups.append(self.field_group(f"Consent fields {tag}", {"optIn": {"type": "boolean", "title": "Opt in"}}))
        schema = self.schema(f"Pendo Événements {tag}", groups)
        dataset = self.dataset(f"Pendo events · {tag}", schema, tags={"team": ["growth", "analytics"],
                                                                       "adobe/pqs/table": [f"pendo_{tag}"]})
        source = self.source(f"Pendo webhook – {tag}")
        target = self.target(f"Data lake target {tag}", dataset, schema)
        mapping = self.mapping_set(f"Pendo mapping {tag}", schema, [
            {"sourceType": "ATTRIBUTE", "source": "accountId", "destination": f"{T}.accountId"},
            {"sourceType": "ATTRIBUTE", "source": "visitorId", "destination": f"{T}.visitorId"},
            {"sourceType": "ATTRIBUTE", "source": "properties.guideProperties.name", "destination": f"{T}.guide.name"},
            {"sourceType": "EXPRESSION", "source": "concat(visitorId, '@', accountId)", "destination": f"{T}.key"},
            {"sourceType": "EXPRESSION", "source": "date(timestamp)", "destination": f"{T}.eventTime"}])
        flow = self.flow(flow_name, source, target, mapping)
        return {"schema": schema, "dataset": dataset, "source": source, "target": target, "mapping_set": mapping[0],
                "flow": flow}

    def profile_pipeline(self, tag: str, *, flow_name: str) -> dict[str, str]:
        """A Pendo pipeline taken to Profile in the UI: a custom namespace, a primary identity on the
        visitor id and an Email one, the schema's union tag and the dataset's Profile tags."""
        group = self.field_group(f"Visitor fields {tag}", {
            "visitorId": {"type": "string", "title": "Visitor"}, "email": {"type": "string", "title": "Email"}})
        schema = self.schema(f"Visitors {tag}", [group])
        code = f"PV{tag.upper()}"
        self._post("/data/core/idnamespace/identities", {"name": f"Pendo visitor {tag}", "code": code,
                                                          "idType": "CROSS_DEVICE"})
        for field, ns, primary in (("visitorId", code, True), ("email", "Email", False)):
            self._post(f"{SR}/tenant/descriptors", {
                "@type": "xdm:descriptorIdentity", "xdm:sourceSchema": schema, "xdm:sourceVersion": 1,
                "xdm:sourceProperty": f"/{T}/{field}", "xdm:namespace": ns, "xdm:property": "xdm:code",
                "xdm:isPrimary": primary})
        r = self.s.patch(f"{self.emu.base_url}{SR}/tenant/schemas/{requests_quote(schema)}", timeout=30, json=[
            {"op": "add", "path": "/meta:immutableTags", "value": ["union"]}])
        assert r.status_code == 200, r.text
        dataset = self.dataset(f"Visitors {tag}", schema, tags={
            "unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]})
        source = self.source(f"Pendo visitors {tag}")
        target = self.target(f"Visitors target {tag}", dataset, schema)
        mapping = self.mapping_set(f"visitors-{tag}", schema, [
            {"sourceType": "ATTRIBUTE", "source": "visitorId", "destination": f"{T}.visitorId"},
            {"sourceType": "ATTRIBUTE", "source": "email", "destination": f"{T}.email"}])
        flow = self.flow(flow_name, source, target, mapping)
        return {"schema": schema, "dataset": dataset, "flow": flow, "namespace": code}

    def http_pipeline(self, tag: str, *, auth: dict, flow_name: str, mapped: bool = True) -> dict[str, str]:
        """An HTTP API source on an account, with descriptions; without a mapping when `mapped` is false."""
        group = self.field_group(f"Events fields {tag}", {"kind": {"type": "string", "title": "Kind"},
                                                          "count": {"type": "integer", "title": "Count"}})
        schema = self.schema(f"Events {tag}", [group], description="Events from the HTTP API")
        dataset = self.dataset(f"Events {tag}", schema, description="Raw events")
        account = self.account(f"HTTP account {tag}", auth)
        source = self.source(f"HTTP source {tag}", spec=HTTP, base=account, description="HTTP API source")
        target = self.target(f"Events target {tag}", dataset, schema)
        mapping = self.mapping_set(f"events-mapping-{tag}", schema, [
            {"sourceType": "ATTRIBUTE", "source": "type", "destination": f"{T}.kind"},
            {"sourceType": "ATTRIBUTE", "source": "n", "destination": f"{T}.count"}]) if mapped else None
        flow = self.flow(flow_name, source, target, mapping, description="Events into AEP",
                         options={"partialIngestionPercent": 10})
        return {"schema": schema, "dataset": dataset, "account": account, "source": source, "target": target,
                "flow": flow, **({"mapping_set": mapping[0]} if mapping else {})}

    def batch_flow(self, tag: str) -> str:
        """A Google Cloud Storage batch flow (CloudStorageToAEP, scheduled) into a dataset of its own."""
        group = self.field_group(f"Batch fields {tag}", {"line": {"type": "string", "title": "Line"}})
        schema = self.schema(f"Batch {tag}", [group])
        dataset = self.dataset(f"Batch {tag}", schema)
        base = self._post(f"{FS}/connections", {
            "name": f"GCS {tag}", "connectionSpec": {"id": GCS, "version": "1.0"},
            "auth": {"specName": "Basic Authentication for Google Cloud Storage",
                     "params": {"accessKeyId": "key", "secretAccessKey": "secret"}}})["id"]
        source = self._post(f"{FS}/sourceConnections", {
            "name": f"GCS files {tag}", "baseConnectionId": base, "connectionSpec": {"id": GCS, "version": "1.0"},
            "data": {"format": "delimited"}, "params": {"path": "/bucket/files"}})["id"]
        target = self.target(f"Batch target {tag}", dataset, schema)
        return self.flow(f"Nightly GCS import {tag}", source, target, spec=BATCH,
                         scheduleParams={"startTime": int(time.time()) + 3600, "frequency": "day", "interval": 1})
