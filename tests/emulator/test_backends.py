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
                                      "auth": {"specName": "Basic Authentication for Google Cloud Storage",
                                               "params": {"accessKeyId": "k", "secretAccessKey": "v"}}})
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


# -- Schema Registry, Catalog, Data Prep, inlet -------------------------------------------

FIELD_GROUP = {"title": "Pendo fields", "type": "object",
               "meta:intendedToExtend": ["https://ns.adobe.com/xdm/context/experienceevent"],
               "definitions": {"pendo": {"properties": {"_extconndev": {"type": "object", "properties": {
                   "visitorId": {"type": "string"}}}}}}}


def schema_body(fg_id: str, title: str = "Pendo events") -> dict:
    return {"title": title, "type": "object",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/experienceevent"}, {"$ref": fg_id}]}


@pytest.fixture
def registry(store):
    from emulator.services.schemaregistry import SchemaRegistry
    return SchemaRegistry(store)


def test_registry_keeps_titles_unique_and_field_groups_a_schema_uses(registry):
    fg = registry.create(CTX, "fieldgroups", FIELD_GROUP)
    schema = registry.create(CTX, "schemas", schema_body(fg["$id"]))
    assert schema["meta:class"] == "https://ns.adobe.com/xdm/context/experienceevent"
    assert fg["$id"] in schema["meta:extends"] and schema["version"] == "1.0"
    with pytest.raises(AEPError) as err:
        registry.create(CTX, "schemas", schema_body(fg["$id"], title=" pendo EVENTS "))
    assert "XDM-3005-400" in err.value.body["type"]
    with pytest.raises(AEPError) as err:
        registry.delete(CTX, "fieldgroups", fg["meta:altId"])
    assert "XDM-1023-400" in err.value.body["type"]
    patched = registry.patch(CTX, "schemas", schema["$id"], [{"op": "REPLACE", "path": "/description", "value": "d"}])
    assert (patched["version"], patched["description"], patched["$id"]) == ("1.1", "d", schema["$id"])
    full = registry.render(CTX, patched, "-full")
    assert "visitorId" in full["properties"]["_extconndev"]["properties"]


def test_catalog_dataset_needs_an_existing_schema_and_bumps_its_version(store, registry):
    from emulator.services.catalog import Catalog
    catalog = Catalog(store)
    with pytest.raises(AEPError) as err:
        catalog.create(CTX, {"name": "events", "schemaRef": {"id": "https://ns.adobe.com/x/schemas/none"}})
    assert "CAT-1003-400" in err.value.body["type"]
    fg = registry.create(CTX, "fieldgroups", FIELD_GROUP)
    schema = registry.create(CTX, "schemas", schema_body(fg["$id"]))
    ds = catalog.create(CTX, {"name": "events", "schemaRef": {"id": schema["$id"]}})
    updated = catalog.patch(CTX, ds, {"description": "merged", "tags": None})
    assert (updated["version"], updated["description"], "tags" in updated) == ("1.0.1", "merged", False)
    assert catalog.datasets(OTHER) == []  # sandboxes are apart
    with pytest.raises(AEPError) as err:
        catalog.get(OTHER, ds["id"])
    assert err.value.status == 404


def test_data_prep_keeps_every_version_a_flow_may_pin(store):
    from emulator.services.dataprep import DataPrep
    dp = DataPrep(store)
    body = {"outputSchema": {"schemaRef": {"id": "https://ns.adobe.com/x/schemas/s"}},
            "mappings": [{"sourceAttribute": "visitorId", "destinationXdmPath": "_extconndev.visitorId"}]}
    first = dp.create(CTX, body)
    second = dp.update(CTX, first["id"], {**body, "mappings": [{"source": "id", "destination": "_id"}]})
    stored = dp.stored(CTX, first["id"])
    assert (first["version"], second["version"]) == (0, 1)
    assert dp.version(CTX, stored, 0)["mappings"][0]["destination"] == "_extconndev.visitorId"
    assert dp.version(CTX, stored, None)["mappings"][0]["destination"] == "_id"
    with pytest.raises(AEPError) as err:
        dp.version(CTX, stored, 2)
    assert err.value.status == 404 and "latest is 1" in err.value.body["message"]


def test_inlet_ingests_into_the_flow_dataset_without_http(fs, store):
    import asyncio

    from emulator.services.inlet import Inlet
    flow = fs.create_flow(CTX, flow_body(pendo_pipeline(fs, store)))
    inlet = Inlet(store)

    async def post(inlet_id: str, events: list):
        return await inlet.ingest(inlet_id, events, flow_hint=None, auth="", nbytes=40, received=1)

    async def scenario():
        outcomes = await post(flow["_inletId"], [{"event": "click"}, "not an object"])
        with pytest.raises(AEPError) as err:
            await post("0" * 64, [{}])
        return outcomes, err.value

    # A loop of its own, never set as the thread's current one: asyncio.run() would leave the
    # thread without one, and later tests (Pulumi's mocks) ask for it.
    loop = asyncio.new_event_loop()
    try:
        outcomes, unknown = loop.run_until_complete(scenario())
    finally:
        loop.close()
        inlet.writer.executor.shutdown()
    assert [o.record is not None for o in outcomes] == [True, False]
    assert unknown.status == 404
    assert inlet.records(CTX, "d" * 24, limit=10, start=0) == [{"event": "click"}]
    run = store.list(kinds.RUN, CTX.org, CTX.sandbox)[0]
    assert run["metrics"]["recordSummary"]["failedRecordCount"] == 1
