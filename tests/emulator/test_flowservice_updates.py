"""Flow Service updates: etags and If-Match, and JSON Patch on connections and flows (contract §10 item 3)."""

from __future__ import annotations

import re

import pytest

from emulator import seed

from .fs_helpers import OTHER_SCHEMA_ID, FlowApi, assert_flow_error

ETAG = re.compile(r'^"[0-9a-f]{8}-0000-0200-0000-[0-9a-f]{12}"$')


@pytest.fixture
def fs(emulator, sandbox) -> FlowApi:
    return FlowApi(emulator, sandbox)


# -- etags and If-Match -------------------------------------------------------------------------

def test_etag_rotates_on_patch_and_action(fs):
    ids = fs.pendo_flow()
    e0 = fs.one(f"/flows/{ids['flow']}")["etag"]
    r = fs.patch(f"/flows/{ids['flow']}", [{"op": "replace", "path": "/name", "value": "renamed"}], e0)
    assert r.status_code == 200 and set(r.json()) == {"id", "etag"}
    e1 = r.json()["etag"]
    assert ETAG.match(e1) and e1 != e0
    got = fs.one(f"/flows/{ids['flow']}")
    assert got["etag"] == got["version"] == e1
    r = fs.post(f"/flows/{ids['flow']}/action?op=disable")
    assert r.status_code == 200 and r.json()["etag"] not in (e0, e1)
    assert fs.one(f"/flows/{ids['flow']}")["etag"] == r.json()["etag"]


def test_if_match_missing_is_400_1403(fs):
    sid = fs.source()
    assert_flow_error(fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/name", "value": "x"}]),
                      400, 1403)


def test_if_match_stale_is_412_1404(fs):
    sid = fs.source()
    old = fs.one(f"/sourceConnections/{sid}")["etag"]
    assert fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/name", "value": "a"}],
                    old).status_code == 200
    assert_flow_error(fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/name", "value": "b"}],
                               old), 412, 1404)
    assert fs.one(f"/sourceConnections/{sid}")["name"] == "a"


@pytest.mark.parametrize("form", ["bare", "weak", "lowercase-header"])
def test_if_match_ignores_quotes_weak_prefix_and_header_case(fs, form):
    sid = fs.source()
    etag = fs.one(f"/sourceConnections/{sid}")["etag"]
    ops = [{"op": "replace", "path": "/name", "value": form}]
    if form == "bare":
        r = fs.patch(f"/sourceConnections/{sid}", ops, etag.strip('"'))
    elif form == "weak":
        r = fs.patch(f"/sourceConnections/{sid}", ops, "W/" + etag)
    else:
        r = fs.patch(f"/sourceConnections/{sid}", ops, headers={"if-match": etag})
    assert r.status_code == 200, r.text
    assert fs.one(f"/sourceConnections/{sid}")["name"] == form


# -- JSON Patch -----------------------------------------------------------------------------------

def test_patch_flow_name_description_schedule_and_transformations(fs):
    ids = fs.gcs_flow()
    fid = ids["flow"]
    mid = fs.put_mapping(versions=2)
    etag = fs.one(f"/flows/{fid}")["etag"]
    r = fs.patch(f"/flows/{fid}", [
        {"op": "Replace", "path": "/name", "value": "new name"},
        {"op": "ADD", "path": "/description", "value": "new description"},
        {"op": "replace", "path": "/scheduleParams/frequency", "value": "day"},
        {"op": "add", "path": "/transformations", "value": []},
        {"op": "add", "path": "/transformations/0", "value": {"name": "Mapping",
                                                              "params": {"mappingId": mid, "mappingVersion": 1}}},
    ], etag)
    assert r.status_code == 200, r.text
    flow = fs.one(f"/flows/{fid}")
    assert flow["name"] == "new name" and flow["description"] == "new description"
    assert flow["scheduleParams"]["frequency"] == "day"
    assert flow["transformations"][0]["params"] == {"mappingId": mid, "mappingVersion": 1}
    assert flow["lastOperation"]["operation"] == "update"
    r = fs.patch(f"/flows/{fid}", [{"op": "remove", "path": "/description"}], flow["etag"])
    assert r.status_code == 200
    assert "description" not in fs.one(f"/flows/{fid}")


def test_patch_flow_transformation_to_new_mapping_version(fs):
    ids = fs.pendo_flow()
    mid = fs.put_mapping(versions=3)
    etag = fs.one(f"/flows/{ids['flow']}")["etag"]
    new = {"name": "Mapping", "params": {"mappingId": mid, "mappingVersion": 2}}
    assert fs.patch(f"/flows/{ids['flow']}", [{"op": "replace", "path": "/transformations/0", "value": new}],
                    etag).status_code == 200
    assert fs.one(f"/flows/{ids['flow']}")["transformations"] == [new]
    bad = {"name": "Mapping", "params": {"mappingId": mid, "mappingVersion": 3}}
    etag = fs.one(f"/flows/{ids['flow']}")["etag"]
    assert_flow_error(fs.patch(f"/flows/{ids['flow']}", [{"op": "replace", "path": "/transformations/0",
                                                          "value": bad}], etag), 400, 1412)


def test_patch_base_connection_auth_name_description_with_and_without_trailing_slash(fs):
    cid = fs.gcs_base_connection()
    etag = fs.one(f"/connections/{cid}")["etag"]
    r = fs.patch(f"/connections/{cid}", [
        {"op": "replace", "path": "/auth/params", "value": {"accessKeyId": "new", "secretAccessKey": "new"}},
        {"op": "replace", "path": "/name", "value": "renamed account"}], etag)
    assert r.status_code == 200, r.text
    r = fs.patch(f"/connections/{cid}/", [{"op": "add", "path": "/description", "value": "d"}], r.json()["etag"])
    assert r.status_code == 200, r.text
    conn = fs.one(f"/connections/{cid}")
    assert conn["auth"]["params"]["accessKeyId"] == "new"
    assert conn["name"] == "renamed account" and conn["description"] == "d"
    assert fs.delete(f"/connections/{cid}/").status_code == 204


@pytest.mark.parametrize("op", ["move", "copy", "test", "MOVE"])
def test_patch_move_copy_test_are_400_1434(fs, op):
    sid = fs.source()
    etag = fs.one(f"/sourceConnections/{sid}")["etag"]
    assert_flow_error(fs.patch(f"/sourceConnections/{sid}", [{"op": op, "from": "/name", "path": "/description",
                                                              "value": "x"}], etag), 400, 1434)


def test_patch_nonexistent_path_is_400_1455(fs):
    ids = fs.pendo_flow()
    etag = fs.one(f"/flows/{ids['flow']}")["etag"]
    assert_flow_error(fs.patch(f"/flows/{ids['flow']}", [{"op": "replace", "path": "/scheduleParams/frequency",
                                                          "value": "day"}], etag), 400, 1455)
    assert_flow_error(fs.patch(f"/flows/{ids['flow']}", [{"op": "remove", "path": "/transformations/5"}], etag),
                      400, 1455)


def test_patch_connection_spec_is_400_1414(fs):
    cid = fs.gcs_base_connection()
    etag = fs.one(f"/connections/{cid}")["etag"]
    assert_flow_error(fs.patch(f"/connections/{cid}", [{"op": "replace", "path": "/connectionSpec/id",
                                                        "value": seed.PENDO_SPEC_ID}], etag), 400, 1414)
    sid = fs.source()
    etag = fs.one(f"/sourceConnections/{sid}")["etag"]
    assert_flow_error(fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/connectionSpec",
                                                              "value": {"id": "x", "version": "1.0"}}], etag),
                      400, 1414)


@pytest.mark.parametrize("path", ["/id", "/state", "/etag", "/sourceConnectionIds"])
def test_patch_server_fields_is_400(fs, path):
    ids = fs.pendo_flow()
    etag = fs.one(f"/flows/{ids['flow']}")["etag"]
    assert_flow_error(fs.patch(f"/flows/{ids['flow']}", [{"op": "replace", "path": path, "value": "x"}], etag),
                      400, 1365)


def test_patch_is_atomic(fs):
    sid = fs.source()
    item = fs.one(f"/sourceConnections/{sid}")
    r = fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/name", "value": "changed"},
                                               {"op": "remove", "path": "/data/missing"}], item["etag"])
    assert_flow_error(r, 400, 1455)
    after = fs.one(f"/sourceConnections/{sid}")
    assert after["name"] == item["name"] and after["etag"] == item["etag"]


def test_source_connection_patch_does_not_propagate_into_flows(fs):
    ids = fs.pendo_flow()
    before = fs.one(f"/flows/{ids['flow']}")
    etag = fs.one(f"/sourceConnections/{ids['source']}")["etag"]
    assert fs.patch(f"/sourceConnections/{ids['source']}", [
        {"op": "replace", "path": "/name", "value": "changed"},
        {"op": "add", "path": "/params", "value": {"extra": "x"}}], etag).status_code == 200
    etag = fs.one(f"/targetConnections/{ids['target']}")["etag"]
    assert fs.patch(f"/targetConnections/{ids['target']}", [
        {"op": "replace", "path": "/data/schema/id", "value": OTHER_SCHEMA_ID}], etag).status_code == 200
    after = fs.one(f"/flows/{ids['flow']}")
    assert after["inheritedAttributes"] == before["inheritedAttributes"]
    assert after["etag"] == before["etag"] and after["updatedAt"] == before["updatedAt"]
