"""Catalog datasets: create/get/list/patch/put/delete in Catalog's own shapes."""

from __future__ import annotations

import re

import pytest

from emulator.config import DEV_CLIENT_ID, DEV_ORG_ID

from .data_helpers import CAT, DataApi


@pytest.fixture
def api(emulator, sandbox) -> DataApi:
    return DataApi(emulator, sandbox)


@pytest.fixture
def schema_id(api) -> str:
    return api.schema()["$id"]


def _create(api, schema_id, **over) -> str:
    body = {"name": "Pendo events", "description": "d",
            "schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed+json;version=1"},
            "tags": {"unifiedProfile": ["enabled:false"]},
            "fileDescription": {"persisted": True, "containerFormat": "parquet", "format": "parquet"}, **over}
    r = api.post(f"{CAT}/dataSets", body)
    assert r.status_code == 201, r.text
    return r.json()[0].rsplit("/", 1)[1]


def _get(api, ds_id) -> dict:
    r = api.get(f"{CAT}/dataSets/{ds_id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == [ds_id]
    return body[ds_id]


def test_create_answers_201_with_a_reference_array_and_location(api, schema_id):
    r = api.post(f"{CAT}/dataSets?requestDataSource=true", {
        "name": "Pendo events", "schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed+json;version=1"}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    m = re.fullmatch(r"@/dataSets/([0-9a-f]{24})", body[0])
    assert m
    assert r.headers["Location"].endswith(f"/dataSets/{m.group(1)}")


def test_get_returns_the_dataset_keyed_by_id(api, schema_id):
    ds_id = _create(api, schema_id)
    ds = _get(api, ds_id)
    assert ds["name"] == "Pendo events" and ds["description"] == "d"
    assert ds["schemaRef"] == {"id": schema_id, "contentType": "application/vnd.adobe.xed+json;version=1"}
    assert ds["tags"] == {"unifiedProfile": ["enabled:false"]}
    assert ds["fileDescription"]["format"] == "parquet"
    assert ds["version"] == "1.0.0" and ds["imsOrg"] == DEV_ORG_ID
    assert ds["createdClient"] == DEV_CLIENT_ID and ds["createdUser"] == ds["updatedUser"]
    assert isinstance(ds["created"], int) and ds["created"] == ds["updated"]
    assert re.fullmatch(r"[0-9a-f]{24}", ds["viewId"]) and ds["basePath"]
    assert ds["files"] == f"@/dataSetFiles?dataSetId={ds_id}"
    assert "id" not in ds
    only = api.get(f"{CAT}/dataSets/{ds_id}", params={"properties": "name,schemaRef"}).json()[ds_id]
    assert set(only) == {"name", "schemaRef"}


def test_unknown_dataset_is_404(api):
    assert api.get(f"{CAT}/dataSets/{'a' * 24}").status_code == 404
    assert api.patch(f"{CAT}/dataSets/{'a' * 24}", {"name": "x"}).status_code == 404
    assert api.put(f"{CAT}/dataSets/{'a' * 24}", {"name": "x"}).status_code == 404


def test_schema_must_exist_in_the_sandbox(api, emulator, sandbox, schema_id):
    r = api.post(f"{CAT}/dataSets", {"name": "x", "schemaRef": {"id": schema_id + "0"}})
    assert r.status_code == 400 and schema_id + "0" in r.json()["message"]
    other = DataApi(emulator, sandbox + "-b")
    assert other.post(f"{CAT}/dataSets", {"name": "x", "schemaRef": {"id": schema_id}}).status_code == 400
    assert api.post(f"{CAT}/dataSets", {"name": "x", "schemaRef": "nope"}).status_code == 400
    assert api.post(f"{CAT}/dataSets", ["not", "an", "object"]).status_code == 400
    assert api.post(f"{CAT}/dataSets", {"name": "x", "tags": {"a": "not-a-list"}}).status_code == 400


def test_list_is_a_bare_keyed_object_with_paging(api, schema_id):
    ids = [_create(api, schema_id, name=f"ds-{i}") for i in range(5)]
    body = api.get(f"{CAT}/dataSets").json()
    assert list(body) == ids
    assert all("name" in v for v in body.values())
    assert list(api.get(f"{CAT}/dataSets", params={"limit": 2}).json()) == ids[:2]
    assert list(api.get(f"{CAT}/dataSets", params={"limit": 2, "start": 2}).json()) == ids[2:4]
    assert list(api.get(f"{CAT}/dataSets", params={"limit": 500}).json()) == ids  # capped at 100, not an error
    assert api.get(f"{CAT}/dataSets", params={"limit": "x"}).status_code == 400
    desc = api.get(f"{CAT}/dataSets", params={"orderBy": "desc:created"}).json()
    assert len(desc) == 5


def test_list_property_filters(api, schema_id):
    a = _create(api, schema_id, name="test-alpha")
    b = _create(api, schema_id, name="prod-beta")
    c = _create(api, schema_id, name="test-gamma")
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name==prod-beta"}).json()) == [b]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name~^test"}).json()) == [a, c]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name!=prod-beta"}).json()) == [a, c]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name==test-alpha,prod-beta"}).json()) == [a, b]
    assert list(api.get(f"{CAT}/dataSets", params={"property": f"schemaRef.id=={schema_id}"}).json()) == [a, b, c]
    assert list(api.get(f"{CAT}/dataSets", params={"name": "test-gamma"}).json()) == [c]
    props = api.get(f"{CAT}/dataSets", params={"property": "name==prod-beta", "properties": "name"}).json()
    assert props == {b: {"name": "prod-beta"}}
    assert api.get(f"{CAT}/dataSets", params={"property": "name~["}).status_code == 400


def test_patch_with_json_patch_and_merge(api, schema_id):
    ds_id = _create(api, schema_id)
    before = _get(api, ds_id)
    r = api.patch(f"{CAT}/dataSets/{ds_id}", [{"op": "add", "path": "/tags/unifiedIdentity",
                                               "value": ["enabled:true"]}],
                  headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.json() == [f"@/dataSets/{ds_id}"]
    ds = _get(api, ds_id)
    assert ds["tags"] == {"unifiedProfile": ["enabled:false"], "unifiedIdentity": ["enabled:true"]}
    assert ds["version"] == "1.0.1" and ds["updated"] >= before["updated"] and ds["created"] == before["created"]
    r = api.patch(f"{CAT}/dataSets/{ds_id}", {"description": "merged", "tags": {"unifiedProfile": None}})
    assert r.status_code == 200
    ds = _get(api, ds_id)
    assert ds["description"] == "merged" and ds["tags"] == {"unifiedIdentity": ["enabled:true"]}
    assert ds["version"] == "1.0.2" and ds["name"] == "Pendo events"
    assert api.patch(f"{CAT}/dataSets/{ds_id}", [{"op": "remove", "path": "/nope"}]).status_code == 400
    assert api.patch(f"{CAT}/dataSets/{ds_id}", {"schemaRef": {"id": "https://ns.adobe.com/x/schemas/y"}}
                     ).status_code == 400
    assert api.patch(f"{CAT}/dataSets/{ds_id}", {"created": 1, "imsOrg": "evil"}).status_code == 200
    ds = _get(api, ds_id)
    assert ds["created"] == before["created"] and ds["imsOrg"] == DEV_ORG_ID  # server fields are not patchable


def test_put_replaces_user_fields(api, schema_id):
    ds_id = _create(api, schema_id)
    r = api.put(f"{CAT}/dataSets/{ds_id}", {"name": "renamed", "schemaRef": {"id": schema_id}})
    assert r.status_code == 200 and r.json() == [f"@/dataSets/{ds_id}"]
    ds = _get(api, ds_id)
    assert ds["name"] == "renamed" and ds["tags"] == {} and "description" not in ds
    assert ds["version"] == "1.0.1"


def test_delete_answers_200_with_the_reference_then_404(api, schema_id):
    ds_id = _create(api, schema_id)
    r = api.delete(f"{CAT}/dataSets/{ds_id}")
    assert r.status_code == 200 and r.json() == [f"@/dataSets/{ds_id}"]
    assert api.get(f"{CAT}/dataSets/{ds_id}").status_code == 404
    again = api.delete(f"{CAT}/dataSets/{ds_id}")
    assert again.status_code == 200 and again.json() == []


def test_lower_case_datasets_path_is_accepted(api, schema_id):
    ds_id = _create(api, schema_id)
    assert api.get(f"{CAT}/datasets/{ds_id}").json()[ds_id]["name"] == "Pendo events"


def test_datasets_are_scoped_to_the_sandbox(api, emulator, sandbox, schema_id):
    ds_id = _create(api, schema_id)
    other = DataApi(emulator, sandbox + "-other")
    assert other.get(f"{CAT}/dataSets/{ds_id}").status_code == 404
    assert other.get(f"{CAT}/dataSets").json() == {}
    assert other.delete(f"{CAT}/dataSets/{ds_id}").json() == []
    assert api.get(f"{CAT}/dataSets/{ds_id}").status_code == 200


def test_catalog_needs_the_gateway_headers(api, emulator):
    import requests
    r = requests.get(emulator.base_url + f"{CAT}/dataSets", timeout=10)
    assert r.status_code == 403 and r.json()["error_code"] == "403010"
