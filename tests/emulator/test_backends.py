"""The services' backends called directly, with no HTTP: the rules live apart from the routes.

Each test builds a Store in a temporary directory, seeds it as the app does, and calls a
backend with a RequestContext, checking the AEPError it raises or the documents it stores.
"""

from __future__ import annotations

import pytest

from emulator import kinds, seed
from emulator.errors import AEPError
from emulator.gateway import RequestContext
from emulator.services.flowservice import FlowService
from emulator.store import Store

CTX = RequestContext(org="ORG@AdobeOrg", sandbox="dev", client_id="client")
OTHER = RequestContext(org="ORG@AdobeOrg", sandbox="other", client_id="client")


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "aep.sqlite3"))
    seed.seed(s)
    yield s
    s.close()


@pytest.fixture
def fs(store):
    return FlowService(store)


def flow_code(err: pytest.ExceptionInfo[AEPError]) -> str:
    return err.value.body["type"].rsplit("/", 1)[1]


def pendo_pipeline(fs: FlowService, store: Store) -> dict[str, dict]:
    """A Pendo source and a data lake target over a dataset the store holds."""
    store.put(kinds.DATASET, CTX.org, CTX.sandbox, "d" * 24, {"id": "d" * 24, "name": "events"})
    source = fs.create_source_connection(CTX, {"name": "pendo", "connectionSpec": {"id": seed.PENDO_SPEC_ID},
                                               "data": {"format": "json"}})
    target = fs.create_target_connection(CTX, {"name": "lake", "connectionSpec": {"id": seed.DATALAKE_SPEC_ID},
                                               "data": {"format": "parquet_xdm"},
                                               "params": {"dataSetId": "d" * 24}})
    return {"source": source, "target": target}


def flow_body(pipe: dict[str, dict], **extra) -> dict:
    return {"name": "flow", "flowSpec": {"id": seed.STREAMING_FLOW_SPEC_ID, "version": "1.0"},
            "sourceConnectionIds": [pipe["source"]["id"]], "targetConnectionIds": [pipe["target"]["id"]], **extra}


def test_streaming_flow_gets_an_inlet_and_a_snapshot_of_its_connections(fs, store):
    pipe = pendo_pipeline(fs, store)
    flow = fs.create_flow(CTX, flow_body(pipe))
    inlet = store.get(kinds.INLET, "", "", flow["_inletId"])
    assert inlet == {"org": CTX.org, "sandbox": CTX.sandbox, "flowIds": [flow["id"]]}
    assert flow["inheritedAttributes"]["sourceConnections"][0]["id"] == pipe["source"]["id"]
    view = fs.view(CTX, "flows", flow["id"], "http://emulator")
    assert view["options"]["inletUrl"] == f"http://emulator/collection/{flow['_inletId']}"
    assert "_inletId" not in view and view["state"] == "enabled"


@pytest.mark.parametrize("change, code", [
    ({"state": "enabled"}, "FLOW-1410-400"),  # state is not settable on create
    ({"name": " "}, "FLOW-1400-400"),
    ({"flowSpec": {"id": "no-such-spec"}}, "FLOW-1400-400"),
    ({"transformations": [{"name": "Mapping", "params": {"mappingId": "nope", "mappingVersion": 0}}]},
     "FLOW-1412-400"),
])
def test_flow_creation_rules(fs, store, change, code):
    pipe = pendo_pipeline(fs, store)
    with pytest.raises(AEPError) as err:
        fs.create_flow(CTX, flow_body(pipe, **change))
    assert err.value.status == 400 and flow_code(err) == code
    assert store.list(kinds.FLOW, CTX.org, CTX.sandbox) == []  # nothing stored on failure


def test_a_flow_cannot_use_connections_of_another_sandbox(fs, store):
    pipe = pendo_pipeline(fs, store)
    with pytest.raises(AEPError) as err:
        fs.create_flow(OTHER, flow_body(pipe))
    assert "does not exist in sandbox other" in err.value.body["errorMessage"]


def test_patch_needs_the_current_if_match_and_refuses_move(fs, store):
    source = pendo_pipeline(fs, store)["source"]
    ops = [{"op": "replace", "path": "/name", "value": "renamed"}]
    with pytest.raises(AEPError) as err:
        fs.patch(CTX, "sourceConnections", source["id"], ops, None)
    assert flow_code(err) == "FLOW-1403-400"
    with pytest.raises(AEPError) as err:
        fs.patch(CTX, "sourceConnections", source["id"], ops, '"stale"')
    assert err.value.status == 412
    with pytest.raises(AEPError) as err:
        fs.patch(CTX, "sourceConnections", source["id"], [{"op": "move", "from": "/name", "path": "/description"}],
                 source["etag"])
    assert flow_code(err) == "FLOW-1434-400"
    patched = fs.patch(CTX, "sourceConnections", source["id"], ops, source["etag"])
    assert patched["name"] == "renamed" and patched["etag"] != source["etag"]
    assert fs.get(CTX, "sourceConnections", source["id"])["name"] == "renamed"


def test_a_base_connection_a_flow_reads_from_cannot_be_deleted(fs, store):
    base = fs.create_connection(CTX, {"name": "gcs", "connectionSpec": {"id": seed.GCS_SPEC_ID},
                                      "auth": {"specName": "Basic Authentication", "params": {"k": "v"}}})
    source = fs.create_source_connection(CTX, {"name": "files", "connectionSpec": {"id": seed.GCS_SPEC_ID},
                                               "baseConnectionId": base["id"], "data": {"format": "json"}})
    pipe = pendo_pipeline(fs, store)
    flow = fs.create_flow(CTX, {**flow_body(pipe), "flowSpec": {"id": seed.CLOUD_STORAGE_FLOW_SPEC_ID},
                                "sourceConnectionIds": [source["id"]], "scheduleParams": {"frequency": "hour"}})
    with pytest.raises(AEPError) as err:
        fs.delete(CTX, "connections", base["id"])
    assert flow_code(err) == "FLOW-1418-400"
    fs.delete(CTX, "flows", flow["id"])
    fs.delete(CTX, "connections", base["id"])
    with pytest.raises(AEPError) as err:
        fs.get(CTX, "connections", base["id"])
    assert err.value.status == 404
