"""Contract §10 item 3: Flow Service behaviour, one test per checklist point (and a few more)."""

from __future__ import annotations

import re
import time

import pytest
import requests

from emulator import seed

from .fs_helpers import OTHER_SCHEMA_ID, SCHEMA_ID, FlowApi, assert_flow_error

GCS_AUTH = "Basic Authentication for Google Cloud Storage"
ETAG = re.compile(r'^"[0-9a-f]{8}-0000-0200-0000-[0-9a-f]{12}"$')


@pytest.fixture
def fs(emulator, sandbox) -> FlowApi:
    return FlowApi(emulator, sandbox)


# -- create / get / delete -------------------------------------------------------------------

def test_create_returns_201_id_and_quoted_etag_with_location_for_connections_and_flows(fs):
    r = fs.post("/sourceConnections", fs.source_body())
    assert r.status_code == 201
    assert set(r.json()) == {"id", "etag"} and ETAG.match(r.json()["etag"])
    base = fs.post("/connections", {"name": "acct", "auth": {"specName": GCS_AUTH, "params": {"accessKeyId": "a",
                                                                                           "secretAccessKey": "b"}},
                                    "connectionSpec": {"id": seed.GCS_SPEC_ID, "version": "1.0"}})
    assert base.status_code == 201 and ETAG.match(base.json()["etag"])
    assert base.headers["Location"].endswith(f"/data/foundation/flowservice/connections/{base.json()['id']}")
    ids = fs.pendo_flow()
    flow_loc = fs.get(f"/flows/{ids['flow']}")
    assert flow_loc.status_code == 200
    r = fs.post("/flows", fs.flow_body(ids["source"], ids["target"], ids["mapping"]))
    assert r.status_code == 201 and ETAG.match(r.json()["etag"])
    assert r.headers["Location"].endswith(f"/flows/{r.json()['id']}")


def test_get_wraps_entity_in_items_with_server_fields(fs):
    sid = fs.source()
    r = fs.get(f"/sourceConnections/{sid}")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["items"] and len(body["items"]) == 1
    item = body["items"][0]
    for field in ("id", "createdAt", "updatedAt", "createdBy", "updatedBy", "createdClient", "updatedClient",
                  "sandboxId", "sandboxName", "imsOrgId", "state", "version", "etag", "providerRefId",
                  "inheritedAttributes"):
        assert field in item, field
    assert item["version"] == item["etag"]
    assert item["sandboxName"] == fs.sandbox and item["imsOrgId"] == fs.org
    assert abs(item["createdAt"] - time.time() * 1000) < 60_000  # epoch ms
    assert "providerId" not in item  # unknown top-level fields are accepted and dropped


@pytest.mark.parametrize("resource", ["sourceConnections", "targetConnections", "flows", "connections"])
def test_delete_is_204_then_404(fs, resource):
    ids = fs.gcs_flow()
    key = {"sourceConnections": "source", "targetConnections": "target", "flows": "flow", "connections": "base"}
    if resource == "connections":
        assert fs.delete(f"/flows/{ids['flow']}").status_code == 204
    rid = ids[key[resource]]
    r = fs.delete(f"/{resource}/{rid}")
    assert r.status_code == 204 and r.content == b""
    body = assert_flow_error(fs.get(f"/{resource}/{rid}"), 404, 1439)
    assert rid in body["errorMessage"]
    assert_flow_error(fs.delete(f"/{resource}/{rid}"), 404, 1439)


def test_error_body_shape(fs):
    r = fs.get("/flows/does-not-exist")
    body = assert_flow_error(r, 404, 1439)
    assert body["type"] == "https://ns.adobe.com/aep/errors/FLOW-1439-404"
    assert isinstance(body["status"], int) and body["title"]
    assert body["report"]["detailed-message"] == body["errorMessage"] == body["errorDetails"]


# -- create validation ---------------------------------------------------------------------------

def test_state_on_flow_create_is_400_1410(fs):
    ids = fs.pendo_flow()
    body = fs.flow_body(ids["source"], ids["target"], ids["mapping"], state="enabled")
    assert_flow_error(fs.post("/flows", body), 400, 1410)


def test_unknown_flow_spec_is_400(fs):
    ids = fs.pendo_flow()
    body = fs.flow_body(ids["source"], ids["target"], ids["mapping"],
                        flowSpec={"id": "00000000-0000-0000-0000-000000000000", "version": "1.0"})
    assert_flow_error(fs.post("/flows", body), 400, 1400)


def test_flow_needs_existing_connections_in_same_sandbox(fs, emulator):
    ids = fs.pendo_flow()
    other = FlowApi(emulator, fs.sandbox + "-x")
    mid = other.put_mapping()
    assert_flow_error(other.post("/flows", other.flow_body(ids["source"], other.target(), mid)), 400, 1400)
    assert_flow_error(fs.post("/flows", fs.flow_body(ids["source"], "nope", ids["mapping"])), 400, 1400)


def test_flow_spec_must_support_connection_specs(fs):
    ids = fs.gcs_flow()
    mid = fs.put_mapping()
    # a GCS source connection under the streaming flow spec
    assert_flow_error(fs.post("/flows", fs.flow_body(ids["source"], ids["target"], mid)), 400, 1400)


def test_unknown_connection_spec_is_400(fs):
    assert_flow_error(fs.post("/sourceConnections", fs.source_body(
        connectionSpec={"id": "00000000-0000-0000-0000-000000000000", "version": "1.0"})), 400, 1400)
    assert_flow_error(fs.post("/connections", {"name": "x", "connectionSpec": {"id": "nope", "version": "1.0"}}),
                      400, 1400)


def test_target_connection_spec_must_be_datalake_1307(fs):
    body = fs.target_body(fs.put_dataset(), connectionSpec={"id": seed.PENDO_SPEC_ID, "version": "1.0"})
    assert_flow_error(fs.post("/targetConnections", body), 400, 1307)


def test_pendo_source_with_base_connection_is_400_1332(fs):
    base = fs.gcs_base_connection()
    body = fs.source_body(baseConnectionId=base, connectionSpec={"id": seed.PENDO_SPEC_ID, "version": "1.0"})
    assert_flow_error(fs.post("/sourceConnections", body), 400, 1332)


def test_http_streaming_source_takes_a_streaming_base_connection(fs):
    """Authenticated HTTP API streaming: a "Streaming Connection" account behind the source."""
    spec = {"id": seed.HTTP_STREAMING_SPEC_ID, "version": "1.0"}
    base = fs.created("/connections", {
        "name": "HTTP streaming account", "connectionSpec": spec,
        "auth": {"specName": "Streaming Connection",
                 "params": {"name": "webhook", "dataType": "raw", "authenticationRequired": True}}})
    r = fs.post("/sourceConnections", fs.source_body(baseConnectionId=base, connectionSpec=spec))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("field", ["name", "connectionSpec", "data"])
def test_source_connection_required_fields(fs, field):
    body = fs.source_body()
    del body[field]
    assert_flow_error(fs.post("/sourceConnections", body), 400, 1400)


def test_source_connection_base_connection_must_exist(fs):
    body = {"name": "GCS source", "baseConnectionId": "nope", "data": {"format": "delimited"},
            "connectionSpec": {"id": seed.GCS_SPEC_ID, "version": "1.0"}}
    assert_flow_error(fs.post("/sourceConnections", body), 400, 1400)


def test_empty_or_invalid_body_is_400(fs):
    r = fs.s.post(fs.url("/flows"), data=b"{not json", headers={"Content-Type": "application/json"})
    assert_flow_error(r, 400, 1405)
    r = fs.s.post(fs.url("/flows"), data=b"", headers={"Content-Type": "application/json"})
    assert_flow_error(r, 400, 1405)


def test_mapping_must_exist_1412(fs):
    src, tgt = fs.source(), fs.target()
    assert_flow_error(fs.post("/flows", fs.flow_body(src, tgt, "0" * 32)), 400, 1412)
    mid = fs.put_mapping(versions=1)
    assert_flow_error(fs.post("/flows", fs.flow_body(src, tgt, mid, mapping_version=1)), 400, 1412)
    assert fs.post("/flows", fs.flow_body(src, tgt, mid, mapping_version=0)).status_code == 201


def test_mapping_schema_must_match_dataset_1425(fs):
    src = fs.source()
    mid = fs.put_mapping(schema_id=SCHEMA_ID)
    # dataset on another schema, target connection on the mapping's schema
    tgt = fs.created("/targetConnections", fs.target_body(fs.put_dataset(OTHER_SCHEMA_ID), SCHEMA_ID))
    assert_flow_error(fs.post("/flows", fs.flow_body(src, tgt, mid)), 400, 1425)


def test_mapping_schema_must_match_target_connection_1425(fs):
    src = fs.source()
    mid = fs.put_mapping(schema_id=SCHEMA_ID)
    tgt = fs.created("/targetConnections", fs.target_body(fs.put_dataset(SCHEMA_ID), OTHER_SCHEMA_ID))
    assert_flow_error(fs.post("/flows", fs.flow_body(src, tgt, mid)), 400, 1425)


@pytest.mark.parametrize("version", [0, "0"])
def test_mapping_version_round_trips_json_type(fs, version):
    src, tgt, mid = fs.source(), fs.target(), fs.put_mapping()
    fid = fs.created("/flows", fs.flow_body(src, tgt, mid, mapping_version=version))
    got = fs.one(f"/flows/{fid}")["transformations"][0]["params"]["mappingVersion"]
    assert got == version and type(got) is type(version)


def test_streaming_flow_needs_no_schedule_but_batch_flow_does(fs):
    ids = fs.gcs_flow()
    body = {"name": "no schedule", "flowSpec": {"id": seed.CLOUD_STORAGE_FLOW_SPEC_ID, "version": "1.0"},
            "sourceConnectionIds": [ids["source"]], "targetConnectionIds": [ids["target"]]}
    assert_flow_error(fs.post("/flows", body), 400, 1400)
    assert "scheduleParams" not in fs.one(f"/flows/{fs.pendo_flow()['flow']}")


def test_base_connection_delete_blocked_while_flow_uses_it_1418(fs):
    ids = fs.gcs_flow()
    assert_flow_error(fs.delete(f"/connections/{ids['base']}"), 400, 1418)
    assert fs.get(f"/connections/{ids['base']}").status_code == 200
    assert fs.delete(f"/flows/{ids['flow']}").status_code == 204
    assert fs.delete(f"/connections/{ids['base']}").status_code == 204


def test_connection_test_endpoint(fs):
    cid = fs.gcs_base_connection()
    r = fs.get(f"/connections/{cid}/test")
    assert r.status_code == 200 and r.json() == {"result": True}
    assert_flow_error(fs.get("/connections/nope/test"), 404, 1439)


# -- flow representation ---------------------------------------------------------------------------

def test_flow_has_inlet_url_inherited_attributes_and_last_operation(fs, emulator):
    ids = fs.pendo_flow()
    flow = fs.one(f"/flows/{ids['flow']}")
    m = re.fullmatch(re.escape(emulator.base_url) + r"/collection/([0-9a-f]{64})", flow["options"]["inletUrl"])
    assert m, flow["options"]
    assert flow["state"] == "enabled"
    assert flow["inheritedAttributes"]["properties"]["isSourceFlow"] is True
    assert flow["inheritedAttributes"]["sourceConnections"] == [
        {"id": ids["source"], "connectionSpec": {"id": seed.PENDO_SPEC_ID, "version": "1.0"}}]
    assert flow["inheritedAttributes"]["targetConnections"] == [
        {"id": ids["target"], "connectionSpec": {"id": seed.DATALAKE_SPEC_ID, "version": "1.0"}}]
    assert flow["runs"] == f"/runs?property=flowId=={ids['flow']}"
    assert set(flow["lastOperation"]) >= {"started", "updated", "operation"}
    inlets = emulator.admin("GET", "objects/inlet")
    assert {"org": fs.org, "sandbox": fs.sandbox, "flowIds": [ids["flow"]]} in inlets
    assert fs.delete(f"/flows/{ids['flow']}").status_code == 204
    assert all(ids["flow"] not in i["flowIds"] for i in emulator.admin("GET", "objects/inlet"))


def test_batch_flow_has_no_inlet_and_inherits_base_connection(fs):
    ids = fs.gcs_flow()
    flow = fs.one(f"/flows/{ids['flow']}")
    assert "inletUrl" not in flow.get("options", {})
    assert flow["inheritedAttributes"]["sourceConnections"][0]["baseConnection"]["id"] == ids["base"]


@pytest.mark.parametrize("op", ["disable", "DISABLE", "Disable"])
def test_action_toggles_state_any_case(fs, op):
    fid = fs.pendo_flow()["flow"]
    r = fs.post(f"/flows/{fid}/action", params={"op": op})
    assert r.status_code == 200 and set(r.json()) == {"id", "etag"}
    flow = fs.one(f"/flows/{fid}")
    assert flow["state"] == "disabled" and flow["lastOperation"]["operation"] == "disable"
    r = fs.post(f"/flows/{fid}/action", params={"op": op.replace("DIS", "EN").replace("dis", "en").replace("Dis", "En"),
                                                 "subOp": "APPLY"})
    assert r.status_code == 200
    assert fs.one(f"/flows/{fid}")["state"] == "enabled"


def test_action_illegal_op_and_stale_if_match(fs):
    fid = fs.pendo_flow()["flow"]
    assert_flow_error(fs.post(f"/flows/{fid}/action", params={"op": "explode"}), 400, 1422)
    assert_flow_error(fs.post(f"/flows/{fid}/action"), 400, 1422)
    assert_flow_error(fs.post(f"/flows/{fid}/action", params={"op": "disable"}, headers={"If-Match": '"stale"'}),
                      412, 1404)
    etag = fs.one(f"/flows/{fid}")["etag"]
    assert fs.post(f"/flows/{fid}/action", params={"op": "disable"}, headers={"If-Match": etag}).status_code == 200


# -- lists ---------------------------------------------------------------------------------------

def test_pagination_next_href_and_continuation(fs):
    made = {fs.source() for _ in range(5)}
    r = fs.get("/sourceConnections", params={"limit": 2})
    seen = [i["id"] for i in r.json()["items"]]
    pages = 1
    while r.json()["_links"]:
        href = r.json()["_links"]["next"]["href"]
        assert re.fullmatch(r"/sourceConnections\?continuationToken=[A-Za-z0-9_-]+", href), href
        token = href.split("=")[1]  # how widely used clients read it
        r = fs.get("/sourceConnections", params={"continuationToken": token})
        assert r.status_code == 200
        seen += [i["id"] for i in r.json()["items"]]
        pages += 1
        r2 = fs.s.get(fs.url(href))  # ... or append it to the base URL
        assert r2.json()["items"] == r.json()["items"]
    assert pages == 3 and set(seen) == made and len(seen) == 5
    assert r.json()["_links"] == {}


def test_list_links_always_present(fs):
    r = fs.get("/flows")
    assert r.status_code == 200 and r.json() == {"items": [], "_links": {}}
    assert fs.get("/runs").json()["_links"] == {}


def test_count_true_and_limit_with_count_1401(fs):
    for _ in range(3):
        fs.source()
    assert fs.get("/sourceConnections", params={"count": "true"}).json() == {"count": 3}
    assert_flow_error(fs.get("/sourceConnections", params={"count": "true", "limit": 2}), 400, 1401)


def test_property_filters(fs):
    a, b = fs.pendo_flow(), fs.pendo_flow()
    fs.post(f"/flows/{b['flow']}/action?op=disable")
    gcs = fs.gcs_flow()

    def ids(resource, *props):
        r = fs.get(f"/{resource}", params={"property": list(props)})
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert ids("flows", "state==disabled") == {b["flow"]}
    assert ids("flows", "state!=disabled") == {a["flow"], gcs["flow"]}
    assert ids("flows", f"sourceConnectionIds[]=={a['source']},{b['source']}") == {a["flow"], b["flow"]}
    assert ids("flows", f"sourceConnectionIds[]=={a['source']}", "state==enabled") == {a["flow"]}
    assert ids("flows", "inheritedAttributes.properties.isSourceFlow==true") == {a["flow"], b["flow"], gcs["flow"]}
    assert ids("flows", f"flowSpec.id=={seed.CLOUD_STORAGE_FLOW_SPEC_ID}") == {gcs["flow"]}
    assert ids("sourceConnections", f"connectionSpec.id=={seed.PENDO_SPEC_ID}") == {a["source"], b["source"]}
    assert ids("sourceConnections", f"connectionSpec.id=={seed.GCS_SPEC_ID}") == {gcs["source"]}
    r1 = fs.put_run(a["flow"], 1_700_000_000_000)
    fs.put_run(b["flow"], 1_700_000_000_000)
    assert ids("runs", f"flowId=={a['flow']}") == {r1}


def test_orderby_name(fs):
    for name in ("b", "c", "a"):
        fs.source(name=name)
    names = lambda o: [i["name"] for i in fs.get("/sourceConnections", params={"orderby": o}).json()["items"]]
    assert names("name") == ["a", "b", "c"]
    assert names("+name") == ["a", "b", "c"]
    assert names("-name") == ["c", "b", "a"]
    assert names("createdAt") == ["b", "c", "a"]
    assert_flow_error(fs.get("/sourceConnections", params={"orderby": "bogus"}), 400, 1432)


# -- runs ------------------------------------------------------------------------------------------

def test_runs_and_last_run_details(fs):
    fid = fs.pendo_flow()["flow"]
    assert "lastRunDetails" not in fs.one(f"/flows/{fid}")
    fs.put_run(fid, 1_700_000_000_000, "success")
    newest = fs.put_run(fid, 1_700_000_100_000, "partialSuccess")
    runs = fs.get("/runs", params={"property": f"flowId=={fid}"}).json()
    assert {r["id"] for r in runs["items"]} >= {newest} and len(runs["items"]) == 2 and runs["_links"] == {}
    run = fs.one(f"/runs/{newest}")
    assert run["metrics"]["recordSummary"]["failedRecordCount"] == 1
    details = fs.one(f"/flows/{fid}")["lastRunDetails"]
    assert details == {"id": newest, "state": "partialSuccess", "startedAtUTC": 1_700_000_100_000,
                       "completedAtUTC": 1_700_000_101_000}
    assert_flow_error(fs.get("/runs/nope"), 404, 1439)


def test_deleting_a_flow_drops_its_runs_only(fs):
    gone, kept = fs.pendo_flow()["flow"], fs.pendo_flow()["flow"]
    run = fs.put_run(gone, 1_700_000_000_000)
    other = fs.put_run(kept, 1_700_000_000_000)
    assert fs.delete(f"/flows/{gone}").status_code == 204
    assert_flow_error(fs.get(f"/runs/{run}"), 404, 1439)
    assert fs.get("/runs", params={"property": f"flowId=={gone}"}).json()["items"] == []
    assert fs.one(f"/runs/{other}")["flowId"] == kept


# -- specs ---------------------------------------------------------------------------------------

def test_connection_specs_seeded_and_filterable(fs):
    items = fs.get("/connectionSpecs", params={"property": "name==datalake"}).json()["items"]
    assert [i["id"] for i in items] == [seed.DATALAKE_SPEC_ID]
    pendo = fs.one(f"/connectionSpecs/{seed.PENDO_SPEC_ID}")
    assert pendo["providerId"] == seed.PENDO_PROVIDER_ID and "json" in str(pendo["sourceSpec"])
    http = fs.one(f"/connectionSpecs/{seed.HTTP_STREAMING_SPEC_ID}")
    assert http["providerId"] == seed.PENDO_PROVIDER_ID
    assert_flow_error(fs.get("/connectionSpecs/nope"), 404, 1439)


def test_flow_specs_seeded_and_filterable(fs):
    items = fs.get("/flowSpecs", params={"property": "name==GenericStreamingAEP"}).json()["items"]
    assert [i["id"] for i in items] == [seed.STREAMING_FLOW_SPEC_ID]
    spec = fs.one(f"/flowSpecs/{seed.STREAMING_FLOW_SPEC_ID}")
    assert seed.PENDO_SPEC_ID in spec["sourceConnectionSpecIds"]
    assert spec["targetConnectionSpecIds"] == [seed.DATALAKE_SPEC_ID]
    assert spec["transformationSpecs"][0]["name"] == "Mapping"


# -- end to end, through the real Schema Registry, Catalog and Data Prep emulators -----------------

def test_pendo_tutorial_end_to_end(emulator, sandbox):
    """The Pendo tutorial's calls in order; skipped if the other services are not there yet."""
    s = emulator.session(sandbox)
    base = emulator.base_url + "/data/foundation"
    tenant = s.get(base + "/schemaregistry/stats", headers={"Accept": "application/json"})
    if tenant.status_code != 200:
        pytest.skip("Schema Registry emulator not available")
    schema = s.post(base + "/schemaregistry/tenant/schemas", headers={"Accept": "application/vnd.adobe.xed+json"},
                    json={"type": "object", "title": f"Pendo {sandbox}", "description": "Pendo events",
                          "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/experienceevent"}]})
    if schema.status_code != 201:
        pytest.skip(f"Schema Registry could not create the schema: {schema.status_code} {schema.text[:200]}")
    schema_id = schema.json()["$id"]
    ds = s.post(base + "/catalog/dataSets", json={"name": f"pendo {sandbox}", "schemaRef": {
        "id": schema_id, "contentType": "application/vnd.adobe.xed+json;version=1"}})
    assert ds.status_code == 201, ds.text
    ds_id = ds.json()[0].split("/")[-1]
    mapping = s.post(base + "/conversion/mappingSets", json={
        "outputSchema": {"schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": []})
    if mapping.status_code != 200:
        pytest.skip(f"Data Prep could not create the mapping: {mapping.status_code} {mapping.text[:200]}")
    fs = FlowApi(emulator, sandbox, s)
    src = fs.source()
    tgt = fs.created("/targetConnections", fs.target_body(ds_id, schema_id))
    fid = fs.created("/flows", fs.flow_body(src, tgt, mapping.json()["id"], mapping.json()["version"]))
    flow = fs.one(f"/flows/{fid}")
    assert flow["options"]["inletUrl"].startswith(emulator.base_url + "/collection/")
    other_schema = s.post(base + "/schemaregistry/tenant/schemas", headers={"Accept": "application/vnd.adobe.xed+json"},
                          json={"type": "object", "title": f"Other {sandbox}", "description": "x",
                                "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/experienceevent"}]}).json()["$id"]
    ds2 = s.post(base + "/catalog/dataSets", json={"name": "other", "schemaRef": {
        "id": other_schema, "contentType": "application/vnd.adobe.xed+json;version=1"}}).json()[0].split("/")[-1]
    tgt2 = fs.created("/targetConnections", fs.target_body(ds2, other_schema))
    assert_flow_error(fs.post("/flows", fs.flow_body(src, tgt2, mapping.json()["id"], 0)), 400, 1425)


def test_list_requires_gateway(emulator):
    assert requests.get(emulator.base_url + "/data/foundation/flowservice/flows").status_code == 403
