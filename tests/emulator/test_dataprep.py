"""Data Prep mapping sets: create (200), immutable versions, both dialects, list, validate, delete."""

from __future__ import annotations

import re

import pytest

from emulator import mapping

from .data_helpers import DP, FULL_MAPPINGS, NS, PENDO_EVENT, TUTORIAL_MAPPINGS, XED_FULL_CT, DataApi


@pytest.fixture
def api(emulator, sandbox) -> DataApi:
    return DataApi(emulator, sandbox)


@pytest.fixture
def schema_id(api) -> str:
    return api.schema()["$id"]


def _body(schema_id: str, mappings) -> dict:
    return {"outputSchema": {"schemaRef": {"id": schema_id, "contentType": XED_FULL_CT}}, "mappings": mappings}


def test_create_answers_200_with_a_summary(api, schema_id):
    r = api.post(f"{DP}/mappingSets?validate=false", _body(schema_id, TUTORIAL_MAPPINGS))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"]) and body["version"] == 0
    assert isinstance(body["createdDate"], int) and body["createdDate"] == body["modifiedDate"]
    assert body["createdBy"] == body["modifiedBy"] and body["createdBy"]


def test_both_dialects_come_back_as_their_union(api, schema_id):
    mappings = [
        {"sourceAttribute": "accountId", "destinationXdmPath": f"{NS}.accountid", "identity": True, "version": 0},
        {"sourceType": "ATTRIBUTE", "source": "visitorId", "destination": f"{NS}.visitorid",
         "name": "visitor", "description": "Pendo visitor"},
    ]
    mid = api.mapping_set(schema_id, mappings)["id"]
    got = api.get(f"{DP}/mappingSets/{mid}").json()
    a, b = got["mappings"]
    for m, src, dest in ((a, "accountId", f"{NS}.accountid"), (b, "visitorId", f"{NS}.visitorid")):
        assert m["sourceType"] == "text/x.schema-path"
        assert m["source"] == m["sourceAttribute"] == src
        assert m["destination"] == m["destinationXdmPath"] == dest
        assert re.fullmatch(r"[0-9a-f]{32}", m["id"]) and m["version"] == 0
        assert isinstance(m["createdDate"], int) and isinstance(m["modifiedDate"], int)
        assert m["primaryIdentity"] is False
    assert a["identity"] is True and b["identity"] is False
    assert b["name"] == "visitor" and b["description"] == "Pendo visitor"
    assert got["outputSchema"]["schemaRef"] == {"id": schema_id, "contentType": XED_FULL_CT}
    assert got["id"] == mid and got["version"] == 0


def test_expression_and_static_sources_are_kept(api, schema_id):
    mid = api.mapping_set(schema_id, [
        {"sourceType": "EXPRESSION", "source": "lower(event)", "destination": f"{NS}.eventname"},
        {"sourceType": "STATIC", "source": "pendo", "destination": f"{NS}.name1"},
    ])["id"]
    expr, static = api.get(f"{DP}/mappingSets/{mid}/mappings").json()
    assert expr["sourceType"] == "text/x.aep-xl" and expr["source"] == "lower(event)"
    assert static["sourceType"] == "STATIC" and static["source"] == "pendo"


@pytest.mark.parametrize("body, fragment", [
    ({"mappings": []}, "outputSchema.schemaRef.id"),
    ({"outputSchema": {"schemaRef": {}}, "mappings": []}, "outputSchema.schemaRef.id"),
    ("SCHEMA", "'mappings' must be an array"),
    ([], "JSON object"),
])
def test_create_rejects_malformed_bodies(api, schema_id, body, fragment):
    if body == "SCHEMA":
        body = {"outputSchema": {"schemaRef": {"id": schema_id}}, "mappings": {"a": 1}}
    r = api.post(f"{DP}/mappingSets", body)
    assert r.status_code == 400 and fragment in r.json()["message"], r.text


@pytest.mark.parametrize("mapping_item, fragment", [
    ({"sourceAttribute": "a"}, "needs a 'destination'"),
    ({"sourceAttribute": "a", "destination": "x", "destinationXdmPath": "y"}, "disagree"),
    ({"sourceAttribute": "a", "source": "b", "destination": f"{NS}.accountid"}, "disagree"),
    ({"sourceType": "MAGIC", "source": "a", "destination": f"{NS}.accountid"}, "sourceType"),
    ({"source": "a", "destination": "bad path!"}, "invalid destination"),
])
def test_create_rejects_bad_mappings(api, schema_id, mapping_item, fragment):
    r = api.post(f"{DP}/mappingSets", _body(schema_id, [mapping_item]))
    assert r.status_code == 400 and fragment in r.json()["message"], r.text


def test_destinations_must_exist_in_the_output_schema(api, schema_id):
    r = api.post(f"{DP}/mappingSets", _body(schema_id, [
        {"sourceAttribute": "accountId", "destinationXdmPath": f"{NS}.accountid"},
        {"sourceAttribute": "accountId", "destinationXdmPath": f"{NS}.accountId"}]))  # wrong case
    assert r.status_code == 400
    assert f"'{NS}.accountId'" in r.json()["message"]


def test_unknown_output_schema_skips_destination_checks(api):
    r = api.post(f"{DP}/mappingSets", _body("https://ns.adobe.com/extconndev/schemas/elsewhere",
                                            [{"sourceAttribute": "a", "destinationXdmPath": "anything.at.all"}]))
    assert r.status_code == 200


def test_validate_query_rejects_empty_and_malformed_sources(api, schema_id):
    r = api.post(f"{DP}/mappingSets?validate=true", _body(schema_id, TUTORIAL_MAPPINGS))
    assert r.status_code == 400 and f"'{NS}.name1' is empty" in r.json()["message"]
    assert api.post(f"{DP}/mappingSets?validate=true", _body(schema_id, FULL_MAPPINGS)).status_code == 200


def test_put_creates_a_new_version_and_keeps_the_old_one(api, schema_id):
    created = api.mapping_set(schema_id, TUTORIAL_MAPPINGS)
    mid = created["id"]
    r = api.put(f"{DP}/mappingSets/{mid}", _body(schema_id, FULL_MAPPINGS))
    assert r.status_code == 200, r.text
    v1 = r.json()
    assert v1["id"] == mid and v1["version"] == 1
    assert v1["createdDate"] == created["createdDate"] and v1["modifiedDate"] >= created["modifiedDate"]
    assert len(v1["mappings"]) == len(FULL_MAPPINGS)
    latest = api.get(f"{DP}/mappingSets/{mid}").json()
    assert latest["version"] == 1 and len(latest["mappings"]) == len(FULL_MAPPINGS)
    v0 = api.get(f"{DP}/mappingSets/{mid}", params={"version": 0}).json()
    assert v0["version"] == 0 and len(v0["mappings"]) == len(TUTORIAL_MAPPINGS)
    assert api.get(f"{DP}/mappingSets/{mid}", params={"version": 1}).json()["version"] == 1
    assert api.get(f"{DP}/mappingSets/{mid}", params={"version": 2}).status_code == 404
    assert api.get(f"{DP}/mappingSets/{mid}", params={"version": "x"}).status_code == 400
    assert api.put(f"{DP}/mappingSets/{mid}", _body(schema_id, [
        {"sourceAttribute": "a", "destinationXdmPath": f"{NS}.nope"}])).status_code == 400
    assert api.get(f"{DP}/mappingSets/{mid}").json()["version"] == 1  # a rejected PUT adds no version
    assert api.put(f"{DP}/mappingSets/{'0' * 32}", _body(schema_id, [])).status_code == 404


def test_list_requires_limit_and_start(api, schema_id):
    ids = [api.mapping_set(schema_id)["id"] for _ in range(3)]
    assert api.get(f"{DP}/mappingSets").status_code == 400
    assert api.get(f"{DP}/mappingSets", params={"limit": 10}).status_code == 400
    assert api.get(f"{DP}/mappingSets", params={"start": 0}).status_code == 400
    body = api.get(f"{DP}/mappingSets", params={"limit": 10, "start": 0}).json()
    assert [d["id"] for d in body["data"]] == ids
    assert body["_page"] == {"count": 3, "limit": 10}
    page = api.get(f"{DP}/mappingSets", params={"limit": 2, "start": 1}).json()
    assert [d["id"] for d in page["data"]] == ids[1:]
    first = api.get(f"{DP}/mappingSets", params={"limit": 2, "start": 0}).json()
    assert first["_links"]["next"]["href"] == "/mappingSets?limit=2&start=2"
    newest = api.get(f"{DP}/mappingSets", params={"limit": 1, "start": 0, "orderBy": "-createdDate"}).json()
    assert newest["data"][0]["createdDate"] == max(d["createdDate"] for d in body["data"])


def test_list_shows_the_latest_version(api, schema_id):
    mid = api.mapping_set(schema_id, TUTORIAL_MAPPINGS)["id"]
    api.put(f"{DP}/mappingSets/{mid}", _body(schema_id, FULL_MAPPINGS))
    data = api.get(f"{DP}/mappingSets", params={"limit": 10, "start": 0}).json()["data"]
    assert [(d["id"], d["version"]) for d in data] == [(mid, 1)]


def test_mappings_subresources(api, schema_id):
    mid = api.mapping_set(schema_id, TUTORIAL_MAPPINGS)["id"]
    r = api.get(f"{DP}/mappingSets/{mid}/mappings")
    assert r.status_code == 200 and isinstance(r.json(), list) and len(r.json()) == len(TUTORIAL_MAPPINGS)
    one = r.json()[1]
    got = api.get(f"{DP}/mappingSets/{mid}/mappings/{one['id']}")
    assert got.status_code == 200 and got.json() == one
    assert api.get(f"{DP}/mappingSets/{mid}/mappings/{'f' * 32}").status_code == 404
    assert api.get(f"{DP}/mappingSets/{'0' * 32}/mappings").status_code == 404


def test_validate_endpoint(api, schema_id):
    mappings = [
        {"sourceAttribute": "accountId", "destinationXdmPath": f"{NS}.accountid"},
        {"sourceAttribute": "", "destinationXdmPath": f"{NS}.name1"},
        {"sourceAttribute": "bad path!", "destinationXdmPath": f"{NS}.visitorid"},
        {"sourceAttribute": "uniqueId", "destinationXdmPath": f"{NS}.missing"},
        {"sourceType": "EXPRESSION", "source": "nosuchfn(a)", "destination": f"{NS}.eventname"},
    ]
    r = api.post(f"{DP}/mappingSets/validate", _body(schema_id, mappings))
    assert r.status_code == 200, r.text
    res = r.json()["validationResponse"]
    assert [x["status"] for x in res] == ["SUCCESS", "FAILED", "FAILED", "FAILED", "FAILED"]
    assert res[0]["errors"] == []
    assert "empty" in res[1]["errors"][0]["exception"]
    assert "not a valid path" in res[2]["errors"][0]["exception"]
    assert f"'{NS}.missing' does not exist" in res[3]["errors"][0]["exception"]
    assert res[3]["errors"][0]["sourceType"] == "ATTRIBUTE"
    assert "nosuchfn" in res[4]["errors"][0]["exception"]
    # Nothing is stored by validation.
    assert api.get(f"{DP}/mappingSets", params={"limit": 10, "start": 0}).json()["data"] == []


def test_preview_maps_sample_rows(api, schema_id):
    r = api.post(f"{DP}/mappingSets/preview", {"mappingSet": _body(schema_id, FULL_MAPPINGS), "data": [PENDO_EVENT]})
    assert r.status_code == 200, r.text
    (row,) = r.json()
    assert row["errors"] == []
    assert row["data"][NS]["accountid"] == "acct-001"
    assert row["data"][NS]["timestamp1"] == "2023-01-10T17:41:56Z"
    assert row["data"][NS]["name1"] == "Welcome tour"


def test_expand_schema_embeds_the_output_schema(api, schema_id):
    mid = api.mapping_set(schema_id)["id"]
    got = api.get(f"{DP}/mappingSets/{mid}", params={"expandSchema": "true"}).json()
    assert "accountid" in got["outputSchema"]["jsonSchema"]["properties"][NS]["properties"]
    assert "jsonSchema" not in api.get(f"{DP}/mappingSets/{mid}").json()["outputSchema"]


def test_delete_then_404(api, schema_id):
    mid = api.mapping_set(schema_id)["id"]
    assert api.delete(f"{DP}/mappingSets/{mid}").status_code == 204
    assert api.get(f"{DP}/mappingSets/{mid}").status_code == 404
    assert api.delete(f"{DP}/mappingSets/{mid}").status_code == 404


def test_mapping_sets_are_scoped_to_the_sandbox(api, emulator, sandbox, schema_id):
    mid = api.mapping_set(schema_id)["id"]
    other = DataApi(emulator, sandbox + "-other")
    assert other.get(f"{DP}/mappingSets/{mid}").status_code == 404
    assert other.get(f"{DP}/mappingSets", params={"limit": 5, "start": 0}).json()["data"] == []


# -- emulator/mapping.py, in process -----------------------------------------------------

def test_mapping_apply_builds_nested_records_and_converts_types():
    ms = {"mappings": [
        {"sourceType": "text/x.schema-path", "source": "properties.guideProperties.name", "destination": "a.b.name"},
        {"sourceType": "text/x.schema-path", "source": "properties.guideProperties.steps[0].id", "destination": "a.step"},
        {"sourceType": "text/x.schema-path", "source": "timestamp", "destination": "ts"},
        {"sourceType": "text/x.schema-path", "source": "missing.field", "destination": "a.missing"},
        {"sourceType": "text/x.schema-path", "source": "", "destination": "a.empty"},
        {"sourceType": "STATIC", "source": "pendo", "destination": "a.source"},
        {"sourceType": "text/x.aep-xl", "source": 'concat(upper(event), "-", visitorId)', "destination": "a.expr"},
    ]}
    index = {"ts": {"type": "string", "format": "date-time", "_required": False}}
    record, errors = mapping.apply(ms, PENDO_EVENT, index)
    assert errors == []
    assert record == {"a": {"b": {"name": "Welcome tour"}, "step": "s-1", "source": "pendo",
                            "expr": "GUIDEDISPLAYED-visitor-42"}, "ts": "2023-01-10T17:41:56Z"}


def test_mapping_conversion_errors_are_reported():
    ms = {"mappings": [{"source": "accountId", "destination": "n"}]}
    record, errors = mapping.apply(ms, {"accountId": "not-a-number"}, {"n": {"type": "integer", "_required": False}})
    assert record == {} and "cannot convert" in errors[0]
    with pytest.raises(mapping.MappingError):
        mapping.evaluate("unknownfn(1)", {})


def test_preview_types_rows_with_an_inline_output_schema_as_the_inlet_would(api):
    """A schema not stored yet (the planned one of a rehearsal) types the records as the inlet does:
    the ExperienceEvent identifiers are filled in, and a value of the wrong type fails the row."""
    mappings = [{"sourceType": "ATTRIBUTE", "source": "visitorId", "destination": f"{NS}.visitor"},
                {"sourceType": "ATTRIBUTE", "source": "count", "destination": f"{NS}.count"}]
    body = {"mappingSet": {"outputSchema": {"jsonSchema": _inline({"visitor": {"type": "string"},
                                                                   "count": {"type": "integer"}})},
                           "mappings": mappings},
            "data": [{"visitorId": "v-1", "count": "7"}, {"visitorId": "v-2", "count": "seven"}]}
    r = api.post(f"{DP}/mappingSets/preview", body)
    assert r.status_code == 200, r.text
    good, bad = r.json()
    assert good["errors"] == [] and good["data"][NS] == {"visitor": "v-1", "count": 7}
    assert set(good["data"]) == {NS, "_id", "timestamp"}
    assert bad["data"] == {} and bad["errors"][0]["code"] == "MAPPER-3700-400"
    assert "cannot convert string 'seven' to integer" in bad["errors"][0]["exception"]
    body["mappingSet"]["outputSchema"]["schemaRef"] = None
    assert api.post(f"{DP}/mappingSets/preview", body).status_code == 400


def _inline(fields: dict) -> dict:
    return {"type": "object", "required": ["_id", "timestamp"], "properties": {
        "_id": {"type": "string"}, "timestamp": {"type": "string", "format": "date-time"},
        NS: {"type": "object", "properties": fields}}}
