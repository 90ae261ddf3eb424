"""XdmSchema read: one GET of the schema's xed-full rendering, and drift in its field group still shows.

The field group's own GET is gone from refresh; these tests hold that to the call and make
sure that nothing it used to catch is lost: fields added, removed or retyped in the field
group behind Pulumi's back, titles, descriptions, date formats, nested objects and arrays,
adoption, and the one case the resolved view cannot settle alone (a second tenant field
group, whose fields merge with ours under `_{tenantId}`).
"""

from __future__ import annotations

import copy

import pytest

from providers import XdmSchemaProvider

from .support import FIELDS, SR, TENANT, Harness, route

SCHEMA_GET = route("GET", SR, "/{container}/schemas/{schema_id:path}")
GROUP_GET = route("GET", SR, "/{container}/fieldgroups/{fg_id:path}")
GROUP_FIELDS = f"/definitions/customFields/properties/_{TENANT}/properties"

RICH = {
    "accountId": {"type": "string", "title": "Account", "description": "the Pendo account"},
    "seenOn": {"type": "date"},
    "seenAt": {"type": "date-time", "description": "when"},
    "score": {"type": "number"},
    "count": {"type": "integer", "title": "count"},  # a title equal to the name is no title
    "active": {"type": "boolean"},
    "guide": {"type": "object", "title": "Guide", "properties": {
        "name": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "at": {"type": "date-time"}}}}}},
    "tags": {"type": "array", "description": "labels", "items": {"type": "string"}},
    "days": {"type": "array", "items": {"type": "date", "title": "Day", "description": "a day"}},
    "empty": {"type": "string", "title": "", "description": ""},  # empty texts are not written
}


def _make(h: Harness, fields: dict = FIELDS, **inputs) -> tuple[XdmSchemaProvider, dict, str, dict]:
    p = h.provider(XdmSchemaProvider)
    news = h.check(p, {"tenant_id": TENANT, "fields": fields, **inputs})
    created = p.create(news)
    return p, news, created.id, created.outs


def _patch_group(h: Harness, outs: dict, ops: list[dict]) -> None:
    """What an edit in the AEP UI does: the field group changes, the schema does not."""
    r = h.raw.patch(h.url(f"{SR}/tenant/fieldgroups/{outs['field_group_alt_id']}"), json=ops)
    assert r.status_code == 200, r.text


def test_read_is_one_get_of_the_resolved_schema(h):
    p, news, id_, outs = _make(h)
    h.reset()
    read = p.read(id_, outs)
    assert h.calls() == {SCHEMA_GET: 1}
    assert read.inputs["fields"] == news["fields"]
    for key in ("schema_id", "alt_id", "field_group_id", "field_group_alt_id", "field_paths", "tenant_id",
                "class_id", "title", "description"):
        assert read.outs[key] == outs[key], key
    assert p.diff(id_, read.outs, news).changes is False


def test_titles_descriptions_formats_nested_objects_and_arrays_read_back_as_declared(h):
    p, news, id_, outs = _make(h, RICH, description="rich")
    h.reset()
    read = p.read(id_, outs)
    assert h.calls() == {SCHEMA_GET: 1}
    assert read.inputs["fields"] == news["fields"]
    assert h.check(p, read.inputs, olds=news) == read.inputs  # read normalises exactly as check
    assert p.diff(id_, read.outs, news).changes is False
    assert read.outs["field_paths"] == outs["field_paths"]


@pytest.mark.parametrize("what, ops, expect", [
    ("added", [{"op": "add", "path": f"{GROUP_FIELDS}/country", "value": {"title": "country", "type": "string"}}],
     lambda f: {**f, "country": {"type": "string"}}),
    ("removed", [{"op": "remove", "path": f"{GROUP_FIELDS}/visitorId"}],
     lambda f: {k: v for k, v in f.items() if k != "visitorId"}),
    ("retyped", [{"op": "replace", "path": f"{GROUP_FIELDS}/uniqueId/type", "value": "integer"}],
     lambda f: {**f, "uniqueId": {"type": "integer"}}),
    ("reformatted", [{"op": "replace", "path": f"{GROUP_FIELDS}/eventTime/format", "value": "date"}],
     lambda f: {**f, "eventTime": {"type": "date"}}),
    ("nested retyped", [{"op": "replace", "path": f"{GROUP_FIELDS}/guide/properties/stepCount/type",
                         "value": "string"}],
     lambda f: {**f, "guide": {"type": "object", "properties": {"name": {"type": "string"},
                                                                "stepCount": {"type": "string"}}}}),
    ("retitled", [{"op": "replace", "path": f"{GROUP_FIELDS}/accountId/title", "value": "Account"}],
     lambda f: {**f, "accountId": {"type": "string", "title": "Account"}}),
])
def test_an_out_of_band_field_change_in_the_field_group_shows_as_drift(h, what, ops, expect):
    p, news, id_, outs = _make(h)
    _patch_group(h, outs, ops)
    h.reset()
    read = p.read(id_, outs)
    assert h.calls() == {SCHEMA_GET: 1}
    assert read.inputs["fields"] == expect(news["fields"]), what
    assert p.diff(id_, read.outs, news).changes is True, f"a field {what} out of band must show after read"
    assert read.outs["field_group_id"] == outs["field_group_id"]

    restored = p.update(id_, read.outs, news)
    again = p.read(id_, restored.outs)
    assert again.inputs["fields"] == news["fields"]
    assert p.diff(id_, again.outs, news).changes is False


def test_a_second_tenant_field_group_is_not_ours_and_costs_one_more_get(h):
    """Its fields merge with ours under `_{tenantId}` in xed-full, so only then is the group read."""
    p, news, id_, outs = _make(h)
    body = {"type": "object", "title": f"{outs['title']} extra", "meta:intendedToExtend": [outs["class_id"]],
            "definitions": {"x": {"properties": {f"_{TENANT}": {"type": "object", "properties": {
                "extra": {"title": "extra", "type": "integer"}}}}}},
            "allOf": [{"$ref": "#/definitions/x"}]}
    r = h.raw.post(h.url(f"{SR}/tenant/fieldgroups"), json=body)
    assert r.status_code == 201, r.text
    r = h.raw.patch(h.url(f"{SR}/tenant/schemas/{outs['alt_id']}"),
                    json=[{"op": "add", "path": "/allOf/-", "value": {"$ref": r.json()["$id"]}}])
    assert r.status_code == 200, r.text

    h.reset()
    read = p.read(id_, outs)
    assert h.calls() == {SCHEMA_GET: 1, GROUP_GET: 1}
    assert read.inputs["fields"] == news["fields"]
    assert read.outs["field_group_id"] == outs["field_group_id"]
    assert read.outs["field_group_alt_id"] == outs["field_group_alt_id"]
    assert p.diff(id_, read.outs, news).changes is False

    _patch_group(h, outs, [{"op": "remove", "path": f"{GROUP_FIELDS}/visitorId"}])
    assert p.diff(id_, p.read(id_, outs).outs, news).changes is True


def test_a_field_group_detached_out_of_band_reads_as_no_fields(h):
    p, news, id_, outs = _make(h)
    r = h.raw.patch(h.url(f"{SR}/tenant/schemas/{outs['alt_id']}"),
                    json=[{"op": "replace", "path": "/allOf", "value": [{"$ref": outs["class_id"]}]}])
    assert r.status_code == 200, r.text
    h.reset()
    read = p.read(id_, outs)
    assert h.calls() == {SCHEMA_GET: 1}
    assert read.outs["field_group_id"] is None and read.outs["field_group_alt_id"] is None
    assert not read.inputs.get("fields")
    assert p.diff(id_, read.outs, news).changes is True


def test_adoption_reads_once_and_finds_the_field_group_alt_id(h):
    p, news, id_, outs = _make(h, description="events")
    h.reset()
    adopted = p.create(h.check(p, {**news, "adopt_id": outs["alt_id"]}))
    assert h.calls() == {SCHEMA_GET: 1}
    assert adopted.id == id_
    assert adopted.outs["field_group_id"] == outs["field_group_id"]
    # Not in any state yet: derived from the $id, and it is the altId AEP gave the group.
    assert adopted.outs["field_group_alt_id"] == outs["field_group_alt_id"]


# -- the shape of a real AEP answer ---------------------------------------------------------------

FG_HASH = "8779fd45d6e4eb074300023a439862bbba359b60d451627a"
FG_ID = f"https://ns.adobe.com/{TENANT}/mixins/{FG_HASH}"
SCHEMA_ID = f"https://ns.adobe.com/{TENANT}/schemas/d4ad4b8463a67f6755f2aabbeb9e02c7"
EVENT = "https://ns.adobe.com/xdm/context/experienceevent"

# Modelled on the Schema Registry spec's lookupSchemaResponse, as xed-full: no allOf, the class
# and field groups resolved into `properties` with the registry's own annotations, and
# `meta:extends` in no particular order, naming behaviours, a data type and another schema.
AEP_FULL = {
    "$id": SCHEMA_ID, "meta:altId": f"_{TENANT}.schemas.d4ad4b8463a67f6755f2aabbeb9e02c7",
    "meta:resourceType": "schemas", "version": "1.4", "title": "Pendo events", "type": "object",
    "description": "events",
    "meta:extends": ["https://ns.adobe.com/xdm/common/auditable", f"https://ns.adobe.com/{TENANT}/datatypes/0a1b",
                     FG_ID, "https://ns.adobe.com/xdm/data/time-series", EVENT,
                     "https://ns.adobe.com/xdm/context/identitymap", "https://ns.adobe.com/xdm/common/extensible"],
    "meta:class": EVENT, "meta:containerId": "tenant", "meta:tenantNamespace": f"_{TENANT}",
    "meta:xdmType": "object", "meta:extensible": False, "meta:abstract": False,
    "properties": {
        "_id": {"title": "Identifier", "type": "string", "format": "uri-reference", "meta:xdmType": "string"},
        "timestamp": {"title": "Timestamp", "type": "string", "format": "date-time", "meta:xdmType": "date-time"},
        f"_{TENANT}": {"type": "object", "meta:xdmType": "object", "properties": {
            "accountId": {"title": "Account", "type": "string", "meta:xdmType": "string"},
            "eventTime": {"title": "eventTime", "type": "string", "format": "date-time", "meta:xdmType": "date-time"},
            "guide": {"title": "guide", "type": "object", "meta:xdmType": "object", "properties": {
                "name": {"title": "name", "type": "string", "meta:xdmType": "string"}}},
            "tags": {"title": "tags", "type": "array", "meta:xdmType": "array",
                     "items": {"type": "string", "meta:xdmType": "string"}}}},
    },
    "required": ["_id", "timestamp"],
}


class _OneGet:
    """An AEPClient stand-in that answers the one GET a read may make."""

    def __init__(self, doc: dict):
        self.doc, self.asked = doc, []

    def get_schema(self, sandbox, id_, full=False):
        self.asked.append((id_, full))
        return copy.deepcopy(self.doc)

    def get_field_group(self, *_):
        raise AssertionError("a schema with one tenant field group needs no field group GET")

    def tenant_id(self, _sandbox):
        raise AssertionError("meta:tenantNamespace gives the tenant")


def test_an_aep_shaped_xed_full_answer_maps_onto_inputs_and_outputs():
    api = _OneGet(AEP_FULL)
    live = XdmSchemaProvider().read_object(api, SCHEMA_ID, {"sandbox": "prod"})
    assert api.asked == [(SCHEMA_ID, True)]
    assert live["fields"] == {"accountId": {"type": "string", "title": "Account"}, "eventTime": {"type": "date-time"},
                              "guide": {"type": "object", "properties": {"name": {"type": "string"}}},
                              "tags": {"type": "array", "items": {"type": "string"}}}
    assert (live["class_id"], live["tenant_id"], live["title"], live["description"]) == \
        (EVENT, TENANT, "Pendo events", "events")
    assert live["field_group_id"] == FG_ID
    assert live["field_group_alt_id"] == f"_{TENANT}.mixins.{FG_HASH}"
    assert live["field_paths"][-2:] == [f"_{TENANT}.guide.name", f"_{TENANT}.tags"]


def test_the_stored_field_group_alt_id_wins_over_the_derived_one():
    props = {"sandbox": "prod", "alt_id": AEP_FULL["meta:altId"], "field_group_id": FG_ID,
             "field_group_alt_id": "_stored.alt.id"}
    live = XdmSchemaProvider().read_object(_OneGet(AEP_FULL), SCHEMA_ID, props)
    assert live["field_group_alt_id"] == "_stored.alt.id"


def test_a_field_group_id_of_another_shape_keeps_no_guessed_alt_id():
    odd = f"https://ns.adobe.com/{TENANT}/mixins/some-group/v2"
    doc = {**AEP_FULL, "meta:extends": [EVENT, odd]}
    props = {"sandbox": "prod", "field_group_id": odd}
    live = XdmSchemaProvider().read_object(_OneGet(doc), SCHEMA_ID, props)
    assert live["field_group_id"] == odd and live["field_group_alt_id"] is None
    assert "accountId" in live["fields"]

