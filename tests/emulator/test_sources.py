"""The streaming sources beyond Pendo, over HTTP: their specs, params, accounts and masked secrets."""

from __future__ import annotations

import pytest

from emulator import seed

from .fs_helpers import FlowApi, assert_flow_error

KINESIS_AUTH = {"specName": "Aws Kinesis authentication credentials",
                "params": {"accessKeyId": "AKIAEXAMPLE", "secretKey": "kinesis-s3cret", "region": "us-east-1"}}
EVENT_HUBS_AUTH = {"specName": "Azure EventHub authentication credentials",
                   "params": {"sasKeyName": "RootManageSharedAccessKey", "sasKey": "sas-s3cret", "namespace": "acme"}}
PUBSUB_AUTH = {"specName": "Project Based Authentication",
               "params": {"projectId": "acme-project", "credentials": "{\"private_key\": \"pubsub-s3cret\"}"}}
SOURCES = {
    "kinesis": (seed.KINESIS_SPEC_ID, KINESIS_AUTH, {"stream": "clicks", "dataType": "raw", "reset": "latest"}),
    "eventhubs": (seed.EVENT_HUBS_SPEC_ID, EVENT_HUBS_AUTH, {"eventHubName": "clicks", "dataType": "xdm"}),
    "pubsub": (seed.PUBSUB_SPEC_ID, PUBSUB_AUTH,
               {"topicName": "projects/acme/topics/t", "subscriptionName": "projects/acme/subscriptions/s",
                "dataType": "raw"}),
}
SECRETS = {"kinesis": "kinesis-s3cret", "eventhubs": "sas-s3cret", "pubsub": "pubsub-s3cret"}


@pytest.fixture
def fs(emulator, sandbox) -> FlowApi:
    return FlowApi(emulator, sandbox)


def _spec(spec_id: str) -> dict:
    return {"id": spec_id, "version": "1.0"}


def _account(fs: FlowApi, spec_id: str, auth: dict) -> str:
    return fs.created("/connections", {"name": "account", "connectionSpec": _spec(spec_id), "auth": auth})


def _source_body(spec_id: str, params: dict | None, base: str | None = None) -> dict:
    body = {"name": "stream source", "connectionSpec": _spec(spec_id), "data": {"format": "json"}}
    if params is not None:
        body["params"] = params
    if base:
        body["baseConnectionId"] = base
    return body


# -- specs -------------------------------------------------------------------------------------


def test_every_streaming_source_spec_is_served_with_its_auth_and_source_spec(fs):
    kinesis = fs.one(f"/connectionSpecs/{seed.KINESIS_SPEC_ID}")
    assert kinesis["providerId"] == seed.PENDO_PROVIDER_ID and kinesis["attributes"]["isSource"] is True
    (auth,) = kinesis["authSpec"]
    assert auth["name"] == "Aws Kinesis authentication credentials"
    assert auth["spec"]["required"] == ["accessKeyId", "secretKey", "region"]
    assert auth["spec"]["properties"]["secretKey"]["format"] == "password"
    params = kinesis["sourceSpec"]["spec"]
    assert params["properties"]["dataType"]["enum"] == ["raw", "xdm"]
    assert params["properties"]["reset"]["enum"] == ["latest", "earliest"]
    hubs = fs.one(f"/connectionSpecs/{seed.EVENT_HUBS_SPEC_ID}")
    assert hubs["sourceSpec"]["spec"]["required"] == ["eventHubName", "dataType"]
    pubsub = fs.one(f"/connectionSpecs/{seed.PUBSUB_SPEC_ID}")
    assert [a["name"] for a in pubsub["authSpec"]] == ["Project Based Authentication",
                                                       "Topic & Subscription Based Authentication"]
    for spec_id in (seed.CHATLIO_SPEC_ID, seed.CUSTOMERIO_SPEC_ID):
        hook = fs.one(f"/connectionSpecs/{spec_id}")
        assert hook["authSpec"] == [] and hook["sourceSpec"]["attributes"]["dataFormats"] == ["json"]


def test_flow_specs_list_the_sources_they_accept(fs):
    generic = fs.one(f"/flowSpecs/{seed.STREAMING_FLOW_SPEC_ID}")
    assert {seed.PENDO_SPEC_ID, seed.CHATLIO_SPEC_ID, seed.CUSTOMERIO_SPEC_ID} <= set(
        generic["sourceConnectionSpecIds"])
    optional = fs.one(f"/flowSpecs/{seed.OPTIONAL_TRANSFORM_FLOW_SPEC_ID}")
    assert optional["name"] == "Stream data with optional transformation"
    assert optional["sourceConnectionSpecIds"] == [seed.HTTP_STREAMING_SPEC_ID, seed.EVENT_HUBS_SPEC_ID,
                                                   seed.KINESIS_SPEC_ID, seed.PUBSUB_SPEC_ID]
    names = fs.get("/flowSpecs", params={"property": "name==Stream data with optional transformation"}).json()
    assert [i["id"] for i in names["items"]] == [seed.OPTIONAL_TRANSFORM_FLOW_SPEC_ID]


# -- base connections ----------------------------------------------------------------------------


def test_base_connection_auth_spec_name_must_exist_on_the_spec(fs):
    body = {"name": "a", "connectionSpec": _spec(seed.KINESIS_SPEC_ID), "auth": {**KINESIS_AUTH, "specName": "Basic"}}
    err = assert_flow_error(fs.post("/connections", body), 400, 1400)
    assert "'Basic'" in err["errorMessage"] and "Aws Kinesis authentication credentials" in err["errorMessage"]
    hook = {"name": "a", "connectionSpec": _spec(seed.CHATLIO_SPEC_ID), "auth": {"specName": "x", "params": {}}}
    assert "auth specs: none" in assert_flow_error(fs.post("/connections", hook), 400, 1400)["errorMessage"]


@pytest.mark.parametrize("kind, missing", [("kinesis", "secretKey"), ("eventhubs", "namespace"),
                                           ("pubsub", "credentials")])
def test_base_connection_needs_the_required_auth_params(fs, kind, missing):
    spec_id, auth, _ = SOURCES[kind]
    params = {k: v for k, v in auth["params"].items() if k != missing}
    r = fs.post("/connections", {"name": "a", "connectionSpec": _spec(spec_id),
                                 "auth": {"specName": auth["specName"], "params": params}})
    assert missing in assert_flow_error(r, 400, 1400)["errorMessage"]


def test_http_streaming_connection_data_type_is_an_enum(fs):
    body = {"name": "a", "connectionSpec": _spec(seed.HTTP_STREAMING_SPEC_ID),
            "auth": {"specName": "Streaming Connection", "params": {"dataType": "parquet"}}}
    assert "raw, xdm" in assert_flow_error(fs.post("/connections", body), 400, 1400)["errorMessage"]


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_secret_auth_params_are_masked_in_every_get(fs, kind):
    spec_id, auth, _ = SOURCES[kind]
    cid = _account(fs, spec_id, auth)
    one = fs.get(f"/connections/{cid}")
    listed = fs.get("/connections", params={"property": f"id=={cid}"})
    for text in (one.text, listed.text):
        assert SECRETS[kind] not in text
    params = one.json()["items"][0]["auth"]["params"]
    secret_key = {"kinesis": "secretKey", "eventhubs": "sasKey", "pubsub": "credentials"}[kind]
    assert params[secret_key] == "********"
    visible = {k: v for k, v in auth["params"].items() if k != secret_key}
    assert {k: params[k] for k in visible} == visible  # ids, regions and namespaces stay readable


def test_rotated_secret_is_stored_and_still_masked(fs):
    cid = _account(fs, seed.KINESIS_SPEC_ID, KINESIS_AUTH)
    etag = fs.one(f"/connections/{cid}")["etag"]
    rotated = {**KINESIS_AUTH["params"], "secretKey": "rotated-s3cret"}
    r = fs.patch(f"/connections/{cid}", [{"op": "replace", "path": "/auth/params", "value": rotated}], etag)
    assert r.status_code == 200, r.text
    got = fs.get(f"/connections/{cid}")
    assert "rotated-s3cret" not in got.text and got.json()["items"][0]["auth"]["params"]["secretKey"] == "********"
    etag = got.json()["items"][0]["etag"]
    partial = {k: v for k, v in rotated.items() if k != "region"}
    r = fs.patch(f"/connections/{cid}", [{"op": "replace", "path": "/auth/params", "value": partial}], etag)
    assert "region" in assert_flow_error(r, 400, 1400)["errorMessage"]


# -- source connections --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_authenticated_source_with_its_params_is_created(fs, kind):
    spec_id, auth, params = SOURCES[kind]
    base = _account(fs, spec_id, auth)
    sid = fs.created("/sourceConnections", _source_body(spec_id, params, base))
    item = fs.one(f"/sourceConnections/{sid}")
    assert item["params"] == params and item["inheritedAttributes"]["baseConnection"]["id"] == base


@pytest.mark.parametrize("kind, params, says", [
    ("kinesis", {"dataType": "raw", "reset": "latest"}, "stream"),
    ("kinesis", {"stream": "s", "dataType": "csv", "reset": "latest"}, "raw, xdm"),
    ("kinesis", {"stream": "s", "dataType": "raw", "reset": "newest"}, "latest, earliest"),
    ("eventhubs", {"dataType": "raw"}, "eventHubName"),
    ("eventhubs", {"eventHubName": "h", "dataType": "raw", "reset": "now"}, "latest, earliest"),
    ("pubsub", {"dataType": "raw"}, "topicName or subscriptionName"),
    ("pubsub", {"topicName": "t"}, "dataType"),
])
def test_source_params_are_checked_against_the_source_spec(fs, kind, params, says):
    spec_id, auth, _ = SOURCES[kind]
    base = _account(fs, spec_id, auth)
    err = assert_flow_error(fs.post("/sourceConnections", _source_body(spec_id, params, base)), 400, 1400)
    assert says in err["errorMessage"]


def test_pubsub_takes_a_subscription_without_a_topic(fs):
    base = _account(fs, seed.PUBSUB_SPEC_ID, PUBSUB_AUTH)
    body = _source_body(seed.PUBSUB_SPEC_ID, {"subscriptionName": "projects/a/subscriptions/s", "dataType": "raw"},
                        base)
    assert fs.post("/sourceConnections", body).status_code == 201


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_authenticated_sources_need_a_base_connection(fs, kind):
    spec_id, _, params = SOURCES[kind]
    err = assert_flow_error(fs.post("/sourceConnections", _source_body(spec_id, params)), 400, 1400)
    assert "requires a baseConnectionId" in err["errorMessage"]


@pytest.mark.parametrize("spec_id", [seed.CHATLIO_SPEC_ID, seed.CUSTOMERIO_SPEC_ID])
def test_webhook_sources_take_no_base_connection_and_json_only(fs, spec_id):
    base = _account(fs, seed.KINESIS_SPEC_ID, KINESIS_AUTH)
    assert_flow_error(fs.post("/sourceConnections", _source_body(spec_id, None, base)), 400, 1332)
    body = {**_source_body(spec_id, None), "data": {"format": "parquet"}}
    assert "'json'" in assert_flow_error(fs.post("/sourceConnections", body), 400, 1400)["errorMessage"]
    assert fs.post("/sourceConnections", _source_body(spec_id, None)).status_code == 201


def test_the_source_data_format_is_json_for_kinesis(fs):
    base = _account(fs, seed.KINESIS_SPEC_ID, KINESIS_AUTH)
    body = {**_source_body(seed.KINESIS_SPEC_ID, SOURCES["kinesis"][2], base), "data": {"format": "avro"}}
    assert_flow_error(fs.post("/sourceConnections", body), 400, 1400)


# -- flows -----------------------------------------------------------------------------------------


def _flow(fs: FlowApi, flow_spec: str, source: str) -> dict:
    return {"name": "stream flow", "flowSpec": _spec(flow_spec), "sourceConnectionIds": [source],
            "targetConnectionIds": [fs.target()]}


def test_flows_check_the_flow_spec_accepts_the_source(fs):
    spec_id, auth, params = SOURCES["kinesis"]
    source = fs.created("/sourceConnections", _source_body(spec_id, params, _account(fs, spec_id, auth)))
    err = assert_flow_error(fs.post("/flows", _flow(fs, seed.STREAMING_FLOW_SPEC_ID, source)), 400, 1400)
    assert "not supported by flow spec GenericStreamingAEP" in err["errorMessage"]
    fid = fs.created("/flows", _flow(fs, seed.OPTIONAL_TRANSFORM_FLOW_SPEC_ID, source))
    flow = fs.one(f"/flows/{fid}")
    assert flow["inheritedAttributes"]["sourceConnections"][0]["connectionSpec"]["id"] == spec_id
    assert flow["options"]["inletUrl"]  # the emulator's stand-in for the external stream
    chatlio = fs.created("/sourceConnections", _source_body(seed.CHATLIO_SPEC_ID, None))
    err = assert_flow_error(fs.post("/flows", _flow(fs, seed.OPTIONAL_TRANSFORM_FLOW_SPEC_ID, chatlio)), 400, 1400)
    assert "Stream data with optional transformation" in err["errorMessage"]
    assert fs.post("/flows", _flow(fs, seed.STREAMING_FLOW_SPEC_ID, chatlio)).status_code == 201


def test_a_patch_of_source_params_is_checked_too(fs):
    spec_id, auth, params = SOURCES["kinesis"]
    sid = fs.created("/sourceConnections", _source_body(spec_id, params, _account(fs, spec_id, auth)))
    etag = fs.one(f"/sourceConnections/{sid}")["etag"]
    r = fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/params/reset", "value": "middle"}], etag)
    assert "latest, earliest" in assert_flow_error(r, 400, 1400)["errorMessage"]
    r = fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/params/reset", "value": "earliest"}], etag)
    assert r.status_code == 200 and fs.one(f"/sourceConnections/{sid}")["params"]["reset"] == "earliest"
