"""Schema Registry: tenant field groups and schemas, Accept rules, resolution, PATCH/PUT/DELETE."""

from __future__ import annotations

import re

import pytest

from emulator import xdm
from emulator.config import DEV_ORG_ID, TENANT_ID
from emulator.store import Store

from .data_helpers import (
    ACCEPT,
    ACCEPT_FULL,
    ACCEPT_ID_LIST,
    EXPERIENCE_EVENT,
    NS,
    PROFILE,
    SR,
    DataApi,
    pendo_field_group_body,
    pendo_schema_body,
    quote,
)
from .identity_helpers import descriptor


@pytest.fixture
def api(emulator, sandbox) -> DataApi:
    return DataApi(emulator, sandbox)


def _xdm_error(r, status: int, code: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"].endswith(f"/XDM-{code}-{status}"), body
    assert body["status"] == status and body["report"]["detailed-message"] and body["detail"]
    return body


def test_stats_gives_tenant_and_counts(api):
    api.schema()
    body = api.get(f"{SR}/stats").json()
    assert body["tenantId"] == TENANT_ID
    assert body["imsOrg"] == DEV_ORG_ID
    assert body["counts"]["schemas"] == 1 and body["counts"]["mixins"] == 1
    usage = {c["$id"]: c for c in body["classUsage"]}
    assert usage[EXPERIENCE_EVENT]["numberOfSchemas"] == 1


def test_create_field_group(api):
    r = api.post(f"{SR}/tenant/fieldgroups", pendo_field_group_body())
    assert r.status_code == 201, r.text
    fg = r.json()
    h = re.fullmatch(rf"https://ns\.adobe\.com/{TENANT_ID}/mixins/([0-9a-f]{{48}})", fg["$id"]).group(1)
    assert fg["meta:altId"] == f"_{TENANT_ID}.mixins.{h}"
    assert fg["meta:resourceType"] == "mixins" and fg["version"] == "1.0"
    assert fg["meta:intendedToExtend"] == [EXPERIENCE_EVENT]
    assert fg["meta:containerId"] == "tenant" and fg["meta:tenantNamespace"] == NS
    assert fg["definitions"]["pendo"]["properties"][NS]["properties"]["accountid"]["type"] == "string"
    for lookup in (fg["meta:altId"], quote(fg["$id"])):
        got = api.get(f"{SR}/tenant/fieldgroups/{lookup}", headers={"Accept": ACCEPT})
        assert got.status_code == 200 and got.json()["$id"] == fg["$id"]
    listing = api.get(f"{SR}/tenant/fieldgroups", headers={"Accept": ACCEPT_ID_LIST}).json()
    assert [x["$id"] for x in listing["results"]] == [fg["$id"]]


def test_field_group_custom_fields_must_sit_under_the_tenant_namespace(api):
    body = pendo_field_group_body()
    body["definitions"]["pendo"]["properties"] = {"accountId": {"type": "string"}}
    r = api.post(f"{SR}/tenant/fieldgroups", body)
    assert r.status_code == 400 and NS in r.json()["detail"]


def test_field_group_needs_intended_class(api):
    body = pendo_field_group_body()
    del body["meta:intendedToExtend"]
    assert api.post(f"{SR}/tenant/fieldgroups", body).status_code == 400
    body["meta:intendedToExtend"] = ["https://ns.adobe.com/xdm/context/nope"]
    assert api.post(f"{SR}/tenant/fieldgroups", body).status_code == 400


@pytest.mark.parametrize("path", ["/tenant/schemas", "/tenant/schemas/"])
def test_create_schema_with_or_without_trailing_slash(api, path):
    fg = api.field_group()
    r = api.post(SR + path, pendo_schema_body(fg["$id"]))
    assert r.status_code == 201, r.text
    s = r.json()
    h = re.fullmatch(rf"https://ns\.adobe\.com/{TENANT_ID}/schemas/([0-9a-f]{{48}})", s["$id"]).group(1)
    assert s["meta:altId"] == f"_{TENANT_ID}.schemas.{h}"
    assert s["version"] == "1.0" and s["meta:resourceType"] == "schemas"
    assert s["meta:class"] == EXPERIENCE_EVENT
    assert {EXPERIENCE_EVENT, fg["$id"], xdm.TIME_SERIES_BEHAVIOR} <= set(s["meta:extends"])
    assert s["meta:containerId"] == "tenant" and s["meta:tenantNamespace"] == NS
    assert s["meta:sandboxType"] == "development" and s["meta:sandboxId"]
    assert s["imsOrg"] == DEV_ORG_ID and s["meta:abstract"] is False and s["meta:extensible"] is False
    md = s["meta:registryMetadata"]
    assert isinstance(md["repo:createdDate"], int) and md["repo:lastModifiedDate"] == md["repo:createdDate"]
    assert md["xdm:createdClientId"] and md["eTag"]
    assert [i["$ref"] for i in s["allOf"]] == [EXPERIENCE_EVENT, fg["$id"]]
    assert all("$ref " not in i for i in s["allOf"])  # the spec's typo is not reproduced


def test_get_schema_by_alt_id_and_encoded_id(api):
    s = api.schema()
    for lookup in (s["meta:altId"], quote(s["$id"])):
        r = api.get(f"{SR}/tenant/schemas/{lookup}", headers={"Accept": ACCEPT})
        assert r.status_code == 200, r.text
        assert r.json()["$id"] == s["$id"]


@pytest.mark.parametrize("accept, status, code", [
    (None, 400, 1007),
    ("application/json", 400, 1007),
    ("application/vnd.adobe.xed+json", 400, 1007),          # lookups need a version
    ("application/vnd.adobe.xed-id+json; version=1", 400, 1007),  # -id is a listing format
    ("application/vnd.adobe.xed+json; version=2", 406, None),
])
def test_lookup_accept_rules(api, accept, status, code):
    s = api.schema()
    headers = {"Accept": accept} if accept else {"Accept": ""}
    r = api.get(f"{SR}/tenant/schemas/{s['meta:altId']}", headers=headers)
    assert r.status_code == status, r.text
    if code:
        _xdm_error(r, status, code)


@pytest.mark.parametrize("accept", [
    "application/vnd.adobe.xed+json; version=1", "application/vnd.adobe.xdm+json; version=1",
    "application/vnd.adobe.xed-full+json; version=1", "application/vnd.adobe.xdm-full+json; version=1",
    "application/vnd.adobe.xed-notext+json; version=1", "application/vnd.adobe.xed-full-notext+json; version=1",
    "application/vnd.adobe.xed-full-desc+json; version=1", "application/vnd.adobe.xed+json;version=1",
])
def test_lookup_accepts_xed_and_xdm_variants(api, accept):
    s = api.schema()
    assert api.get(f"{SR}/tenant/schemas/{s['meta:altId']}", headers={"Accept": accept}).status_code == 200


def test_listing_accept_rules(api):
    s = api.schema()
    ids = api.get(f"{SR}/tenant/schemas", headers={"Accept": ACCEPT_ID_LIST})
    assert ids.status_code == 200
    body = ids.json()
    assert body["results"] == [{"$id": s["$id"], "meta:altId": s["meta:altId"], "version": "1.0",
                                "title": s["title"]}]
    assert body["_page"]["count"] == 1 and body["_links"]["next"] is None
    assert "global_schemas" in body["_links"]
    full = api.get(f"{SR}/tenant/schemas", headers={"Accept": "application/vnd.adobe.xdm+json"}).json()
    assert full["results"][0]["allOf"] == s["allOf"]
    _xdm_error(api.get(f"{SR}/tenant/schemas", headers={"Accept": ACCEPT}), 400, 1006)
    _xdm_error(api.get(f"{SR}/tenant/schemas", headers={"Accept": "application/json"}), 400, 1006)


def test_listing_orderby_start_limit_and_property(api):
    fg = api.field_group()
    titles = ["b schema", "a schema", "c schema"]
    for t in titles:
        assert api.post(f"{SR}/tenant/schemas", pendo_schema_body(fg["$id"], t)).status_code == 201
    h = {"Accept": ACCEPT_ID_LIST}
    page = api.get(f"{SR}/tenant/schemas", headers=h, params={"orderby": "title", "limit": 2}).json()
    assert [x["title"] for x in page["results"]] == ["a schema", "b schema"]
    assert page["_page"]["next"]
    rest = api.get(f"{SR}/tenant/schemas", headers=h, params={"orderby": "title", "start": "b schema"}).json()
    assert [x["title"] for x in rest["results"]] == ["c schema"]
    desc = api.get(f"{SR}/tenant/schemas", headers=h, params={"orderby": "-title"}).json()
    assert [x["title"] for x in desc["results"]] == ["c schema", "b schema", "a schema"]
    one = api.get(f"{SR}/tenant/schemas", headers=h, params={"property": "title==a schema"}).json()
    assert [x["title"] for x in one["results"]] == ["a schema"]


def test_full_lookup_embeds_resolved_fields(api):
    s = api.schema()
    full = api.get_schema(s["$id"], ACCEPT_FULL).json()
    props = full["properties"]
    assert {"_id", "timestamp"} <= set(props)
    assert props[NS]["properties"]["accountid"]["type"] == "string"
    assert props[NS]["properties"]["uniqueid"]["minLength"] == 1
    assert set(full["required"]) >= {"_id", "timestamp"}
    assert "allOf" not in full
    notext = api.get_schema(s["$id"], "application/vnd.adobe.xed-full-notext+json; version=1").json()
    assert "title" not in notext["properties"][NS]["properties"]["accountid"]


def test_full_lookup_lists_what_the_schema_extends_and_resolves_its_field_group_when_read(api):
    fg = api.field_group()
    s = api.schema(fg["$id"])
    full = api.get_schema(s["$id"], ACCEPT_FULL).json()
    assert set(full["meta:extends"]) == {fg["$id"], EXPERIENCE_EVENT, xdm.TIME_SERIES_BEHAVIOR, xdm.EXTENSIBLE,
                                         xdm.AUDITABLE}
    assert full["meta:class"] == EXPERIENCE_EVENT and full["meta:tenantNamespace"] == NS
    assert full["properties"][NS]["properties"] == fg["definitions"]["pendo"]["properties"][NS]["properties"]
    # The field group changes, the schema does not: its next lookup shows the group as it is now.
    path = f"/definitions/pendo/properties/{NS}/properties"
    r = api.patch(f"{SR}/tenant/fieldgroups/{fg['meta:altId']}", [
        {"op": "remove", "path": f"{path}/visitorid"},
        {"op": "replace", "path": f"{path}/accountid/type", "value": "integer"},
        {"op": "add", "path": f"{path}/country", "value": {"type": "string", "title": "Country"}}])
    assert r.status_code == 200, r.text
    fields = api.get_schema(s["$id"], ACCEPT_FULL).json()["properties"][NS]["properties"]
    assert "visitorid" not in fields and fields["accountid"]["type"] == "integer" and "country" in fields
    assert api.get_schema(s["$id"]).json()["version"] == s["version"]


def test_a_field_group_that_extends_another_brings_its_fields_into_the_schema(api):
    """xed-full resolves everything a schema inherits: a field group's own references too."""
    inner = api.field_group(title="inner", fields={"inner": {"type": "integer", "title": "Inner"}})
    outer_body = pendo_field_group_body(title="outer", fields={"outer": {"type": "string", "title": "Outer"}})
    outer_body["allOf"].append({"$ref": inner["$id"]})
    r = api.post(f"{SR}/tenant/fieldgroups", outer_body)
    assert r.status_code == 201, r.text
    outer = r.json()
    s = api.schema(outer["$id"])
    assert inner["$id"] in s["meta:extends"]
    full = api.get_schema(s["$id"], ACCEPT_FULL).json()
    assert {"inner", "outer"} <= set(full["properties"][NS]["properties"])
    assert {inner["$id"], outer["$id"]} <= set(full["meta:extends"])

    # A reference added to the field group later shows in the schema's next lookup, and a
    # cycle between two field groups (PUT can make one) neither hangs nor repeats a group.
    late = api.field_group(title="late", fields={"late": {"type": "boolean", "title": "Late"}})
    body = pendo_field_group_body(title="outer", fields={"outer": {"type": "string", "title": "Outer"}})
    body["allOf"] += [{"$ref": inner["$id"]}, {"$ref": late["$id"]}]
    assert api.put(f"{SR}/tenant/fieldgroups/{outer['meta:altId']}", body).status_code == 200
    back = pendo_field_group_body(title="late", fields={"late": {"type": "boolean", "title": "Late"}})
    back["allOf"].append({"$ref": outer["$id"]})
    assert api.put(f"{SR}/tenant/fieldgroups/{late['meta:altId']}", back).status_code == 200
    full = api.get_schema(s["$id"], ACCEPT_FULL).json()
    assert {"inner", "outer", "late"} <= set(full["properties"][NS]["properties"])
    extends = full["meta:extends"]
    assert {inner["$id"], outer["$id"], late["$id"]} <= set(extends) and len(extends) == len(set(extends))
    assert api.get_schema(s["$id"]).json()["meta:extends"] == extends


def test_titles_are_unique_per_sandbox(api, emulator, sandbox):
    fg = api.field_group()
    assert api.post(f"{SR}/tenant/schemas", pendo_schema_body(fg["$id"], "Same")).status_code == 201
    _xdm_error(api.post(f"{SR}/tenant/schemas", pendo_schema_body(fg["$id"], "same")), 400, 3005)
    _xdm_error(api.post(f"{SR}/tenant/fieldgroups", pendo_field_group_body(title=fg["title"])), 400, 3005)
    other = DataApi(emulator, sandbox + "-b")
    assert other.post(f"{SR}/tenant/fieldgroups", pendo_field_group_body(title=fg["title"])).status_code == 201


def test_schema_needs_exactly_one_class_and_existing_compatible_field_groups(api):
    fg = api.field_group()
    body = pendo_schema_body(fg["$id"])
    body["allOf"] = [{"$ref": fg["$id"]}]
    assert api.post(f"{SR}/tenant/schemas", body).status_code == 400
    body["allOf"] = [{"$ref": EXPERIENCE_EVENT}, {"$ref": PROFILE}]
    assert api.post(f"{SR}/tenant/schemas", body).status_code == 400
    missing = f"https://ns.adobe.com/{TENANT_ID}/mixins/{'0' * 48}"
    r = api.post(f"{SR}/tenant/schemas", pendo_schema_body(missing))
    assert r.status_code == 400 and missing in r.json()["detail"]
    profile_fg = api.post(f"{SR}/tenant/fieldgroups", pendo_field_group_body(title="p", intended=PROFILE)).json()
    r = api.post(f"{SR}/tenant/schemas", pendo_schema_body(profile_fg["$id"], "incompatible"))
    assert r.status_code == 400 and "not compatible" in r.json()["detail"]
    for bad in ({"title": "x", "allOf": [{"$ref": EXPERIENCE_EVENT}]},                   # no type
                {"type": "object", "allOf": [{"$ref": EXPERIENCE_EVENT}]},                # no title
                {"type": "object", "title": "x", "allOf": "nope"}):
        assert api.post(f"{SR}/tenant/schemas", bad).status_code == 400


def test_patch_bumps_version_without_if_match(api):
    s = api.schema()
    descriptor(api, s, ns="Email")  # enabling Profile (the union tag) needs a primary identity
    r = api.patch(f"{SR}/tenant/schemas/{s['meta:altId']}",
                  [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}])
    assert r.status_code == 200, r.text
    assert r.json()["version"] == "1.1" and r.json()["meta:immutableTags"] == ["union"]
    assert r.json()["$id"] == s["$id"]
    r = api.patch(f"{SR}/tenant/schemas/{quote(s['$id'])}",
                  [{"op": "replace", "path": "/description", "value": "patched"}])
    assert r.json()["version"] == "1.2" and r.json()["description"] == "patched"
    got = api.get_schema(s["$id"]).json()
    assert got["version"] == "1.2" and got["meta:registryMetadata"]["repo:lastModifiedDate"] >= \
        s["meta:registryMetadata"]["repo:createdDate"]


def test_patch_adds_a_field_group(api):
    s = api.schema()
    extra = api.post(f"{SR}/tenant/fieldgroups", pendo_field_group_body(
        title="extra", fields={"extra": {"type": "integer"}})).json()
    r = api.patch(f"{SR}/tenant/schemas/{s['meta:altId']}", [
        {"op": "add", "path": "/allOf/-", "value": {"$ref": extra["$id"]}},
        {"op": "add", "path": "/meta:extends/-", "value": extra["$id"]}])
    assert r.status_code == 200, r.text
    assert extra["$id"] in r.json()["meta:extends"]
    full = api.get_schema(s["$id"], ACCEPT_FULL).json()
    assert {"extra", "accountid"} <= set(full["properties"][NS]["properties"])


def test_patch_errors(api):
    s = api.schema()
    url = f"{SR}/tenant/schemas/{s['meta:altId']}"
    assert api.patch(url, [{"op": "remove", "path": "/nope"}]).status_code == 400
    assert api.patch(url, {"op": "add"}).status_code == 400
    assert api.patch(url, [{"op": "replace", "path": "/allOf", "value": []}]).status_code == 400
    assert api.get_schema(s["$id"]).json()["version"] == "1.0"  # failed patches change nothing


def test_put_replaces_and_bumps_version(api):
    s = api.schema()
    body = pendo_schema_body(s["allOf"][1]["$ref"], "Renamed")
    r = api.put(f"{SR}/tenant/schemas/{s['meta:altId']}", body)
    assert r.status_code == 200, r.text
    assert r.json()["$id"] == s["$id"] and r.json()["version"] == "1.1" and r.json()["title"] == "Renamed"


def test_field_group_patch_put_and_delete(api):
    fg = api.field_group()
    url = f"{SR}/tenant/fieldgroups/{fg['meta:altId']}"
    r = api.patch(url, [{"op": "add", "path": f"/definitions/pendo/properties/{NS}/properties/language",
                         "value": {"type": "string"}}])
    assert r.status_code == 200 and r.json()["version"] == "1.1"
    assert "language" in r.json()["definitions"]["pendo"]["properties"][NS]["properties"]
    r = api.put(url, pendo_field_group_body(title="replaced"))
    assert r.status_code == 200 and r.json()["version"] == "1.2" and r.json()["title"] == "replaced"
    assert api.delete(url).status_code == 204
    assert api.get(url, headers={"Accept": ACCEPT}).status_code == 404


def test_delete_schema_then_404(api):
    s = api.schema()
    r = api.delete(f"{SR}/tenant/schemas/{s['meta:altId']}")
    assert r.status_code == 204 and r.content == b""
    _xdm_error(api.get_schema(s["$id"]), 404, 1012)
    _xdm_error(api.delete(f"{SR}/tenant/schemas/{s['meta:altId']}"), 404, 1012)


def test_field_group_in_use_cannot_be_deleted(api):
    s = api.schema()
    fg_id = s["allOf"][1]["$ref"]
    assert api.delete(f"{SR}/tenant/fieldgroups/{quote(fg_id)}").status_code == 400
    assert api.delete(f"{SR}/tenant/schemas/{s['meta:altId']}").status_code == 204
    assert api.delete(f"{SR}/tenant/fieldgroups/{quote(fg_id)}").status_code == 204


def test_schemas_are_scoped_to_the_sandbox(api, emulator, sandbox):
    s = api.schema()
    other = DataApi(emulator, sandbox + "-other")
    assert other.get_schema(s["$id"]).status_code == 404
    assert other.get(f"{SR}/tenant/schemas", headers={"Accept": ACCEPT_ID_LIST}).json()["results"] == []


def test_global_classes_are_listed_and_readable(api):
    listing = api.get(f"{SR}/global/classes", headers={"Accept": ACCEPT_ID_LIST}).json()
    assert EXPERIENCE_EVENT in [c["$id"] for c in listing["results"]]
    cls = api.get(f"{SR}/global/classes/{quote(EXPERIENCE_EVENT)}", headers={"Accept": ACCEPT_FULL}).json()
    assert {"_id", "timestamp"} <= set(cls["properties"])


def test_field_paths(tmp_path):
    """xdm.field_paths lists every path a mapping may target, objects and leaves."""
    store = Store(str(tmp_path / "x.sqlite3"))
    fg = {"$id": f"https://ns.adobe.com/{TENANT_ID}/mixins/abc", "meta:altId": f"_{TENANT_ID}.mixins.abc",
          **pendo_field_group_body(fields={"accountId": {"type": "string"},
                                           "guide": {"type": "object", "properties": {"name": {"type": "string"}}}})}
    store.put("fieldGroup", "o", "s", fg["meta:altId"], fg)
    schema = pendo_schema_body(fg["$id"])
    paths = xdm.field_paths(schema, store, "o", "s")
    assert {"_id", "timestamp", "eventType", NS, f"{NS}.accountId", f"{NS}.guide", f"{NS}.guide.name"} <= paths
    assert f"{NS}.nope" not in paths
    # A field group the schema references but the sandbox does not hold contributes nothing.
    assert f"{NS}.accountId" not in xdm.field_paths(schema, store, "o", "other")
    store.close()
