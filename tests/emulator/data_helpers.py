"""Helpers for the Data Prep, Schema Registry, Catalog, inlet and tutorial tests.

Everything here goes through the emulator's real HTTP APIs, in the order a user of the
Pendo tutorial would call them, so a broken service fails the tests that depend on it.
"""

from __future__ import annotations

import copy
import pathlib
import urllib.parse
from typing import Any

import pytest
import requests
import yaml

from emulator.config import TENANT_ID
from emulator.process import EmulatorProcess

SR = "/data/foundation/schemaregistry"
CAT = "/data/foundation/catalog"
DP = "/data/foundation/conversion"
FS = "/data/foundation/flowservice"
EXPORT = "/data/foundation/export"

EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
ACCEPT = "application/vnd.adobe.xed+json; version=1"
ACCEPT_FULL = "application/vnd.adobe.xed-full+json; version=1"
ACCEPT_ID_LIST = "application/vnd.adobe.xed-id+json"
XED_FULL_CT = "application/vnd.adobe.xed-full+json;version=1"

PENDO_SPEC = "6ff5654f-19d5-427d-bd3e-c0ebc802389a"
PENDO_PROVIDER = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
DATALAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
STREAMING_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"

NS = f"_{TENANT_ID}"

# The tenant fields the tutorial's mapping targets (lower-case names, as in its request).
PENDO_FIELDS: dict[str, Any] = {
    "accountid": {"type": "string", "title": "Account ID"},
    "uniqueid": {"type": "string", "title": "Unique ID", "minLength": 1},
    "name1": {"type": "string", "title": "Guide name"},
    "timestamp1": {"type": "string", "format": "date-time", "title": "Event time"},
    "visitorid": {"type": "string", "title": "Visitor ID"},
    "eventname": {"type": "string", "title": "Event name"},
}

# The tutorial's mappings, verbatim (including its empty sourceAttribute for name1).
TUTORIAL_MAPPINGS: list[dict[str, Any]] = [
    {"destinationXdmPath": f"{NS}.accountid", "sourceAttribute": "accountId", "identity": False, "version": 0},
    {"destinationXdmPath": f"{NS}.uniqueid", "sourceAttribute": "uniqueId", "identity": False, "version": 0},
    {"destinationXdmPath": f"{NS}.name1", "sourceAttribute": "", "identity": False, "version": 0},
    {"destinationXdmPath": f"{NS}.timestamp1", "sourceAttribute": "timestamp", "identity": False, "version": 0},
    {"destinationXdmPath": f"{NS}.visitorid", "sourceAttribute": "visitorId", "identity": False, "version": 0},
]

# A mapping set that also maps the guide name and the event type (dialect B for the latter).
FULL_MAPPINGS: list[dict[str, Any]] = [
    *[m for m in TUTORIAL_MAPPINGS if m["destinationXdmPath"] != f"{NS}.name1"],
    {"destinationXdmPath": f"{NS}.name1", "sourceAttribute": "properties.guideProperties.name",
     "identity": False, "version": 0},
    {"sourceType": "ATTRIBUTE", "source": "event", "destination": f"{NS}.eventname", "name": "event"},
]

# Experience League's minimal Pendo sample plus fields from Pendo's own examples.
PENDO_EVENT: dict[str, Any] = {
    "app": {"id": "-323232", "name": "Acme", "platform": "web"},
    "subscription": {"id": "6050786245775360", "name": "Acme (Sandbox)"},
    "userAgent": "Mozilla/5.0",
    "event": "guideDisplayed",
    "accountId": "acct-001",
    "visitorId": "visitor-42",
    "uniqueId": "5d8b3c2a4e7f9a1b0c6d8e2f4a6b8c0d1e3f5a7b",
    "timestamp": 1673372516,
    "properties": {"guideId": "g-1", "guideStepId": "s-1", "language": "en",
                   "guideProperties": {"id": "g-1", "name": "Welcome tour", "createdAt": 1626803876000,
                                       "steps": [{"id": "s-1", "type": "lightbox"}]}},
}


def pendo_field_group_body(title: str = "Pendo webhook fields", fields: dict[str, Any] | None = None,
                           intended: str = EXPERIENCE_EVENT) -> dict[str, Any]:
    """A tenant field group with the Pendo fields under `_{tenant}`, as the Schema Registry tutorial builds it."""
    return {
        "type": "object",
        "title": title,
        "description": "Fields of Pendo guide, poll and NPS webhook events",
        "meta:intendedToExtend": [intended],
        "definitions": {"pendo": {"properties": {NS: {
            "type": "object",
            "properties": copy.deepcopy(fields if fields is not None else PENDO_FIELDS),
            "required": ["uniqueid"],
        }}}},
        "allOf": [{"$ref": "#/definitions/pendo"}],
    }


def pendo_schema_body(fg_id: str, title: str = "Pendo webhook events") -> dict[str, Any]:
    return {
        "type": "object",
        "title": title,
        "description": "Pendo webhook events as XDM ExperienceEvents",
        "allOf": [{"$ref": EXPERIENCE_EVENT}, {"$ref": fg_id}],
    }


def quote(id_: str) -> str:
    """URL-encode a `$id` for use as a path segment."""
    return urllib.parse.quote(id_, safe="")


class DataApi:
    """A client for one sandbox of one emulator, with builders for the Pendo pipeline."""

    def __init__(self, emu: EmulatorProcess, sandbox: str):
        self.emu = emu
        self.sandbox = sandbox
        self.s = emu.session(sandbox)
        self.base = emu.base_url
        self._pipelines = 0

    def req(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 15)
        return self.s.request(method, self.base + path, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.req("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.req("POST", path, json=body, **kw)

    def put(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.req("PUT", path, json=body, **kw)

    def patch(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.req("PATCH", path, json=body, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.req("DELETE", path, **kw)

    # -- Schema Registry --------------------------------------------------------------

    def field_group(self, **kw) -> dict[str, Any]:
        r = self.post(f"{SR}/tenant/fieldgroups", pendo_field_group_body(**kw))
        assert r.status_code == 201, r.text
        return r.json()

    def schema(self, fg_id: str | None = None, title: str = "Pendo webhook events") -> dict[str, Any]:
        fg_id = fg_id or self.field_group(title=f"{title} fields")["$id"]
        r = self.post(f"{SR}/tenant/schemas", pendo_schema_body(fg_id, title))
        assert r.status_code == 201, r.text
        return r.json()

    def get_schema(self, schema_id: str, accept: str = ACCEPT) -> requests.Response:
        return self.get(f"{SR}/tenant/schemas/{quote(schema_id)}", headers={"Accept": accept})

    # -- Catalog ----------------------------------------------------------------------

    def dataset(self, schema_id: str, name: str = "Pendo events") -> str:
        r = self.post(f"{CAT}/dataSets", {"name": name, "description": "Pendo webhook events",
                                          "schemaRef": {"id": schema_id,
                                                        "contentType": "application/vnd.adobe.xed+json;version=1"}})
        assert r.status_code == 201, r.text
        return r.json()[0].rsplit("/", 1)[1]

    # -- Data Prep --------------------------------------------------------------------

    def mapping_set(self, schema_id: str, mappings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        r = self.post(f"{DP}/mappingSets", {
            "outputSchema": {"schemaRef": {"id": schema_id, "contentType": XED_FULL_CT}},
            "mappings": copy.deepcopy(mappings if mappings is not None else FULL_MAPPINGS)})
        assert r.status_code == 200, r.text
        return r.json()

    # -- Flow Service -----------------------------------------------------------------

    def source_connection(self) -> str:
        r = self.post(f"{FS}/sourceConnections", {
            "name": "Streaming Source Connection for Pendo", "providerId": PENDO_PROVIDER,
            "description": "Streaming Source Connection for Pendo",
            "connectionSpec": {"id": PENDO_SPEC, "version": "1.0"}, "data": {"format": "json"}})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def target_connection(self, schema_id: str, dataset_id: str) -> str:
        r = self.post(f"{FS}/targetConnections", {
            "name": "Streaming Target Connection for Pendo", "description": "Streaming Target Connection for Pendo",
            "connectionSpec": {"id": DATALAKE_SPEC, "version": "1.0"},
            "data": {"format": "json", "schema": {"id": schema_id, "version": XED_FULL_CT}},
            "params": {"dataSetId": dataset_id}})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def flow(self, source_id: str, target_id: str, mapping_id: str, mapping_version: int = 0) -> str:
        r = self.post(f"{FS}/flows", {
            "name": "Streaming Dataflow for Pendo", "description": "Streaming Dataflow for Pendo",
            "flowSpec": {"id": STREAMING_FLOW_SPEC, "version": "1.0"},
            "sourceConnectionIds": [source_id], "targetConnectionIds": [target_id],
            "transformations": [{"name": "Mapping",
                                 "params": {"mappingId": mapping_id, "mappingVersion": mapping_version}}]})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def get_flow(self, flow_id: str) -> dict[str, Any]:
        r = self.get(f"{FS}/flows/{flow_id}")
        assert r.status_code == 200, r.text
        return r.json()["items"][0]

    def pipeline(self, mappings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A complete Pendo pipeline through the real APIs: ids plus the inlet URL."""
        self._pipelines += 1
        # Schema Registry titles are unique per sandbox, so a second pipeline needs its own.
        schema = self.schema(title="Pendo webhook events" + (f" {self._pipelines}" if self._pipelines > 1 else ""))
        ds = self.dataset(schema["$id"])
        src = self.source_connection()
        tgt = self.target_connection(schema["$id"], ds)
        ms = self.mapping_set(schema["$id"], mappings)
        fid = self.flow(src, tgt, ms["id"])
        flow = self.get_flow(fid)
        return {"schema": schema, "dataset": ds, "source": src, "target": tgt, "mapping": ms["id"],
                "flow": fid, "inlet_url": flow["options"]["inletUrl"]}

    # -- reading back -----------------------------------------------------------------

    def records(self, dataset_id: str, **params) -> list[dict[str, Any]]:
        r = self.get(f"{EXPORT}/datasets/{dataset_id}/records", params=params)
        assert r.status_code == 200, r.text
        return r.json()["records"]

    def runs(self, flow_id: str) -> list[dict[str, Any]]:
        r = self.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"})
        assert r.status_code == 200, r.text
        return r.json()["items"]


# -- OpenAPI response validation ---------------------------------------------------------

def load_spec(name: str) -> dict[str, Any]:
    """One of Adobe's OpenAPI files from tests.conftest.openapi_dir(); skip when they are not available."""
    from tests.conftest import openapi_dir

    d = openapi_dir()
    if d is None:
        pytest.skip("Adobe's OpenAPI specs not found: set AEP_OPENAPI_DIR or check out ../shared/reference/openapi")
    path = pathlib.Path(d, name)
    if not path.is_file():
        pytest.skip(f"{name} is not in {d}")
    return yaml.safe_load(path.read_text())


def response_schema(spec: dict[str, Any], path: str, method: str, status: int | str) -> dict[str, Any]:
    """The response schema of one operation (OpenAPI 3 `content`, or Swagger 2 `schema`)."""
    responses = spec["paths"][path][method]["responses"]
    resp = responses.get(status, responses.get(str(status), responses.get(int(status) if str(status).isdigit()
                                                                          else status)))
    assert resp is not None, f"{method.upper()} {path} declares no {status} response"
    if "content" in resp:
        return resp["content"]["application/json"]["schema"]
    return resp["schema"]


def validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Validate against a schema whose `$ref`s point into the spec document (draft 4 semantics)."""
    import jsonschema

    root = {k: v for k, v in spec.items() if k in ("components", "definitions")}
    jsonschema.Draft4Validator({**root, **schema}).validate(instance)


def ref(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """A `$ref` to a named schema in either OpenAPI 3 or Swagger 2 layout."""
    return {"$ref": f"#/components/schemas/{name}" if "components" in spec else f"#/definitions/{name}"}
