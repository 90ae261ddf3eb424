"""Real-Time Customer Profile in the emulator: the union tag's one-way doors, Profile dataset tags,
the primary identity at the inlet, and the stitched profile view."""

from __future__ import annotations

import copy

import requests

from .data_helpers import CAT, NS, PENDO_EVENT, SR, DataApi, pendo_field_group_body, pendo_schema_body, quote
from .identity_helpers import DESCRIPTORS, ENTITIES, descriptor, enable_profile, namespace, profile_pipeline

UNION = [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}]


def _code(r) -> str:
    return r.json()["type"].rsplit("/", 1)[1]


def _schema_url(schema) -> str:
    return f"{SR}/tenant/schemas/{quote(schema['$id'])}"


def test_enabling_needs_a_primary_identity(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    schema = api.schema()
    r = api.patch(_schema_url(schema), UNION)
    assert r.status_code == 400 and _code(r) == "XDM-1041-400" and "Missing Primary Identity" in r.json()["detail"]
    fg = api.field_group(title="other fields")
    body = {**pendo_schema_body(fg["$id"], "born enabled"), "meta:immutableTags": ["union"]}
    assert _code(api.post(f"{SR}/tenant/schemas", body)) == "XDM-1041-400"
    namespace(api)
    descriptor(api, schema)
    assert enable_profile(api, schema)["meta:immutableTags"] == ["union"]


def test_a_profile_schema_keeps_its_tag_its_fields_its_primary_identity_and_itself(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    p = profile_pipeline(api)
    schema, url = p["schema"], _schema_url(p["schema"])
    r = api.patch(url, [{"op": "remove", "path": "/meta:immutableTags"}])
    assert r.status_code == 400 and _code(r) == "XDM-1040-400"
    r = api.patch(url, [{"op": "replace", "path": "/meta:immutableTags", "value": []}])
    assert _code(r) == "XDM-1040-400"
    assert _code(api.delete(url)) == "XDM-1042-400"
    # Dropping the field group from the schema removes its fields: refused, and nothing changed.
    r = api.patch(url, [{"op": "remove", "path": "/allOf/1"}])
    assert r.status_code == 400 and _code(r) == "XDM-1043-400" and f"{NS}.visitorid" in r.json()["detail"]
    assert api.get_schema(schema["$id"]).json()["version"] == schema["version"]
    # Removing a field from the field group, or changing its type, is refused too.
    fg_id = schema["allOf"][1]["$ref"]
    fields = {"accountid": {"type": "string"}, "uniqueid": {"type": "string", "minLength": 1},
              "visitorid": {"type": "string"}}
    r = api.put(f"{SR}/tenant/fieldgroups/{quote(fg_id)}", pendo_field_group_body(title="Pendo webhook events fields",
                                                                                fields=fields))
    assert r.status_code == 400 and _code(r) == "XDM-1043-400" and "removes" in r.json()["detail"], r.text
    changed = {**copy.deepcopy(fields), "name1": {"type": "integer"}, "timestamp1": {"type": "string"},
               "eventname": {"type": "string"}}
    r = api.put(f"{SR}/tenant/fieldgroups/{quote(fg_id)}", pendo_field_group_body(title="Pendo webhook events fields",
                                                                                fields=changed))
    assert _code(r) == "XDM-1043-400" and "changes the type" in r.json()["detail"]
    # Adding a field is allowed.
    more = {**copy.deepcopy(fields), "name1": {"type": "string"}, "timestamp1": {"type": "string",
            "format": "date-time"}, "eventname": {"type": "string"}, "extra": {"type": "string"}}
    r = api.put(f"{SR}/tenant/fieldgroups/{quote(fg_id)}", pendo_field_group_body(title="Pendo webhook events fields",
                                                                                fields=more))
    assert r.status_code == 200, r.text
    # The primary identity descriptor stays.
    d = p["descriptor"]
    assert _code(api.delete(f"{DESCRIPTORS}/{d['@id']}")) == "XDM-1034-400"
    moved = {k: d[k] for k in ("@type", "xdm:sourceSchema", "xdm:sourceVersion", "xdm:namespace", "xdm:property",
                               "xdm:isPrimary")}
    r = api.put(f"{DESCRIPTORS}/{d['@id']}", {**moved, "xdm:sourceProperty": f"/{NS}/accountid"})
    assert _code(r) == "XDM-1034-400"


def test_profile_dataset_tags_need_a_profile_schema(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    schema = api.schema()
    tags = {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}
    body = {"name": "events", "schemaRef": {"id": schema["$id"], "contentType": "application/vnd.adobe.xed+json"},
            "tags": tags}
    r = api.post(f"{CAT}/dataSets", body)
    assert r.status_code == 400 and "unifiedProfile" in r.json()["message"], r.text
    ds = api.dataset(schema["$id"])
    r = api.patch(f"{CAT}/dataSets/{ds}", {"tags": {"unifiedProfile": ["enabled:true"]}})
    assert r.status_code == 400 and "unifiedProfile" in r.json()["message"]
    # unifiedIdentity alone (Identity Service) is not tied to a Profile schema.
    assert api.patch(f"{CAT}/dataSets/{ds}", {"tags": {"unifiedIdentity": ["enabled:true"]}}).status_code == 200
    assert api.patch(f"{CAT}/dataSets/{ds}", {"tags": {"unifiedProfile": ["enabled:false"]}}).status_code == 200
    namespace(api)
    descriptor(api, schema)
    enable_profile(api, schema)
    assert api.post(f"{CAT}/dataSets", {**body, "name": "profile events"}).status_code == 201


def test_a_record_without_its_primary_identity_fails_in_the_run_not_at_the_post(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    p = profile_pipeline(api)
    good = requests.post(p["inlet_url"], json=PENDO_EVENT, timeout=10)
    anonymous = {k: v for k, v in PENDO_EVENT.items() if k != "visitorId"}
    blank = {**PENDO_EVENT, "visitorId": "  "}
    assert good.status_code == 200
    assert requests.post(p["inlet_url"], json=anonymous, timeout=10).status_code == 200
    assert requests.post(p["inlet_url"], json=blank, timeout=10).status_code == 200
    assert len(api.records(p["dataset"])) == 1
    [run] = api.runs(p["flow"])
    rs = run["metrics"]["recordSummary"]
    assert (rs["inputRecordCount"], rs["outputRecordCount"], rs["failedRecordCount"]) == (3, 1, 2)
    [err] = run["metrics"]["statusSummary"]["errors"]
    assert err["code"] == "INGEST-1213-400" and f"/{NS}/visitorid" in err["message"] and "PENDOVISITOR" in err["message"]
    r = requests.post(p["inlet_url"], params={"syncValidation": "true"}, json=anonymous, timeout=10)
    assert r.status_code == 400 and r.json()["report"]["code"] == "INGEST-1213-400"


def test_the_profile_view_stitches_a_visitors_events(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    p = profile_pipeline(api)
    for i, event in enumerate(("guideDisplayed", "guideAdvanced")):
        body = {**PENDO_EVENT, "event": event, "timestamp": 1673372516 + i}
        assert requests.post(p["inlet_url"], json=body, timeout=10).status_code == 200
    other = {**PENDO_EVENT, "visitorId": "visitor-7"}
    assert requests.post(p["inlet_url"], json=other, timeout=10).status_code == 200
    params = {"schema.name": "_xdm.context.profile", "entityId": "visitor-42", "entityIdNS": "pendovisitor"}
    r = api.get(ENTITIES, params=params)
    assert r.status_code == 200, r.text
    [(eid, entity)] = r.json().items()
    assert entity["entityId"] == eid and entity["sources"] == [p["dataset"]]
    assert entity["requestedIdentity"] == {"id": "visitor-42", "namespace": {"code": "PENDOVISITOR"}}
    merged = entity["entity"]
    assert merged[NS]["visitorid"] == "visitor-42" and merged[NS]["eventname"] == "guideAdvanced"
    assert merged["identities"] == [{"id": "visitor-42", "namespace": {"code": "PENDOVISITOR"}, "primary": True}]
    assert entity["lastModifiedAt"] == "2023-01-10T17:41:57Z"
    missing = api.get(ENTITIES, params={**params, "entityId": "nobody"})
    assert missing.status_code == 404 and missing.json()["statusCode"] == "404"
    for change, status in (({"schema.name": "x"}, 400), ({"entityIdNS": None}, 400),
                           ({"schema.name": "_xdm.context.account"}, 422)):
        r = api.get(ENTITIES, params={**params, **change})
        assert r.status_code == status and r.json()["statusCode"] == str(status), (change, r.text)
    # A dataset without the unifiedProfile tag feeds no profile.
    assert api.patch(f"{CAT}/dataSets/{p['dataset']}", {"tags": {"unifiedProfile": ["enabled:false"]}}).status_code == 200
    assert api.get(ENTITIES, params=params).status_code == 404
