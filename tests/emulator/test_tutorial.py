"""The Pendo Flow Service tutorial, as a test.

The request sequence and bodies follow "Create a source connection and dataflow for Pendo
using the Flow Service API" (../shared/reference/pendo-flow-service-tutorial.txt) and the
Schema Registry / Catalog tutorials it links to, with the tutorial's headers plus the
Authorization header its flow-create example leaves out. Only the placeholders
({ACCESS_TOKEN}, ids returned by earlier steps) are filled in. At the end a Pendo
webhook event posted to the flow's inletUrl must come back, mapped, from the dataset.
"""

from __future__ import annotations

import re
import urllib.parse

import requests

from emulator.config import DEV_CLIENT_ID, DEV_ORG_ID, DEV_SCOPES, TENANT_ID
from tests.support.credentials import DEV_CLIENT_SECRET

from .data_helpers import EXPORT, PENDO_EVENT


def test_pendo_tutorial_end_to_end(emulator, sandbox):
    base = emulator.base_url
    platform = base + "/data/foundation"

    # Step 0: an OAuth Server-to-Server token from IMS v3 (form-encoded client credentials).
    r = requests.post(base + "/ims/token/v3", data={
        "grant_type": "client_credentials", "client_id": DEV_CLIENT_ID,
        "client_secret": DEV_CLIENT_SECRET, "scope": DEV_SCOPES}, timeout=10)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] > 0

    headers = {"Authorization": f"Bearer {token}", "x-api-key": DEV_CLIENT_ID, "x-gw-ims-org-id": DEV_ORG_ID,
               "x-sandbox-name": sandbox}
    json_headers = {**headers, "Content-Type": "application/json"}

    # Step 1: the tenant id, then a field group and a schema (Schema Registry tutorial).
    r = requests.get(f"{platform}/schemaregistry/stats", headers={**headers, "Accept": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text
    tenant = r.json()["tenantId"]
    assert tenant == TENANT_ID
    r = requests.post(f"{platform}/schemaregistry/tenant/fieldgroups", headers=json_headers, timeout=10, json={
        "type": "object",
        "title": "Pendo webhook fields",
        "description": "Fields of Pendo guide, poll and NPS webhook events",
        "meta:intendedToExtend": ["https://ns.adobe.com/xdm/context/experienceevent"],
        "definitions": {"pendo": {"properties": {f"_{tenant}": {"type": "object", "properties": {
            "accountid": {"type": "string", "title": "Account ID"},
            "uniqueid": {"type": "string", "title": "Unique ID", "minLength": 1},
            "name1": {"type": "string", "title": "Guide name"},
            "timestamp1": {"type": "string", "format": "date-time", "title": "Timestamp"},
            "visitorid": {"type": "string", "title": "Visitor ID"},
        }, "required": ["uniqueid"]}}}},
        "allOf": [{"$ref": "#/definitions/pendo"}],
    })
    assert r.status_code == 201, r.text
    field_group_id = r.json()["$id"]
    r = requests.post(f"{platform}/schemaregistry/tenant/schemas", headers=json_headers, timeout=10, json={
        "type": "object",
        "title": "Pendo webhook events",
        "description": "Target schema for Pendo webhook events",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/experienceevent"}, {"$ref": field_group_id}],
    })
    assert r.status_code == 201, r.text
    schema_id = r.json()["$id"]
    r = requests.get(f"{platform}/schemaregistry/tenant/schemas/{urllib.parse.quote(schema_id, safe='')}",
                     headers={**headers, "Accept": "application/vnd.adobe.xed-full+json; version=1"}, timeout=10)
    assert r.status_code == 200 and "accountid" in r.json()["properties"][f"_{tenant}"]["properties"]

    # Step 2: the target dataset (Catalog tutorial).
    r = requests.post(f"{platform}/catalog/dataSets", headers=json_headers, timeout=10, json={
        "name": "Pendo webhook events",
        "schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"},
    })
    assert r.status_code == 201, r.text
    dataset_id = r.json()[0].rsplit("/", 1)[1]

    # Step 3: "Create a source connection".
    r = requests.post(f"{platform}/flowservice/sourceConnections", headers=json_headers, timeout=10, json={
        "name": "Streaming Source Connection for Pendo",
        "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
        "description": "Streaming Source Connection for Pendo",
        "connectionSpec": {"id": "6ff5654f-19d5-427d-bd3e-c0ebc802389a", "version": "1.0"},
        "data": {"format": "json"},
    })
    assert r.status_code == 201, r.text
    source_connection_id = r.json()["id"]
    assert re.fullmatch(r'"[^"]+"', r.json()["etag"])

    # Step 4: "Create a target connection".
    r = requests.post(f"{platform}/flowservice/targetConnections", headers=json_headers, timeout=10, json={
        "name": "Streaming Target Connection for Pendo",
        "description": "Streaming Target Connection for Pendo",
        "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"},
        "data": {"format": "json",
                 "schema": {"id": schema_id, "version": "application/vnd.adobe.xed-full+json;version=1"}},
        "params": {"dataSetId": dataset_id},
    })
    assert r.status_code == 201, r.text
    target_connection_id = r.json()["id"]

    # Step 5: "Create a mapping" (the tutorial's mappings verbatim, empty sourceAttribute included).
    r = requests.post(f"{platform}/conversion/mappingSets", headers=json_headers, timeout=10, json={
        "outputSchema": {"schemaRef": {"id": schema_id,
                                       "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [
            {"destinationXdmPath": "_extconndev.accountid", "sourceAttribute": "accountId",
             "identity": False, "version": 0},
            {"destinationXdmPath": "_extconndev.uniqueid", "sourceAttribute": "uniqueId",
             "identity": False, "version": 0},
            {"destinationXdmPath": "_extconndev.name1", "sourceAttribute": "", "identity": False, "version": 0},
            {"destinationXdmPath": "_extconndev.timestamp1", "sourceAttribute": "timestamp",
             "identity": False, "version": 0},
            {"destinationXdmPath": "_extconndev.visitorid", "sourceAttribute": "visitorId",
             "identity": False, "version": 0},
        ],
    })
    assert r.status_code == 200, r.text
    mapping = r.json()
    assert mapping["version"] == 0 and re.fullmatch(r"[0-9a-f]{32}", mapping["id"])
    assert isinstance(mapping["createdDate"], int) and mapping["createdBy"] and mapping["modifiedBy"]

    # Step 6: "Create a flow".
    r = requests.post(f"{platform}/flowservice/flows", headers=json_headers, timeout=10, json={
        "name": "Streaming Dataflow for Pendo",
        "description": "Streaming Dataflow for Pendo",
        "flowSpec": {"id": "e77fde5a-22a8-11ed-861d-0242ac120002", "version": "1.0"},
        "sourceConnectionIds": [source_connection_id],
        "targetConnectionIds": [target_connection_id],
        "transformations": [{"name": "Mapping",
                             "params": {"mappingId": mapping["id"], "mappingVersion": 0}}],
    })
    assert r.status_code == 201, r.text
    flow_id = r.json()["id"]

    # Step 7: "Get your streaming endpoint URL".
    r = requests.get(f"{platform}/flowservice/flows/{flow_id}", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    (flow,) = r.json()["items"]
    assert flow["id"] == flow_id and flow["state"] == "enabled"
    assert flow["sourceConnectionIds"] == [source_connection_id]
    assert flow["targetConnectionIds"] == [target_connection_id]
    assert flow["transformations"][0]["params"] == {"mappingId": mapping["id"], "mappingVersion": 0}
    assert flow["inheritedAttributes"]["properties"]["isSourceFlow"] is True
    assert flow["runs"] == f"/runs?property=flowId=={flow_id}"
    inlet_url = flow["options"]["inletUrl"]
    assert re.fullmatch(r".*/collection/[0-9a-f]{64}", inlet_url)

    # The webhook: Pendo posts its raw event to the inlet URL, with no Platform headers.
    r = requests.post(inlet_url, json=PENDO_EVENT, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["inletId"] == inlet_url.rsplit("/", 1)[1]

    # Read the record back from the dataset.
    r = requests.get(f"{base}{EXPORT}/datasets/{dataset_id}/records", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    (record,) = r.json()["records"]
    assert record["_extconndev"] == {
        "accountid": PENDO_EVENT["accountId"],
        "uniqueid": PENDO_EVENT["uniqueId"],
        "timestamp1": "2023-01-10T17:41:56Z",   # Pendo's epoch seconds as an XDM date-time
        "visitorid": PENDO_EVENT["visitorId"],
    }                                           # name1 stays unset: the tutorial maps it from ""
    assert record["timestamp"] == "2023-01-10T17:41:56Z" and record["_id"]

    # And the run shows up where the tutorial's "Monitor your dataflow" step looks.
    r = requests.get(f"{platform}/flowservice{flow['runs']}", headers=headers, timeout=10)
    assert r.status_code == 200
    (run,) = r.json()["items"]
    assert run["metrics"]["recordSummary"]["outputRecordCount"] == 1
    assert run["metrics"]["statusSummary"]["status"] == "success"
