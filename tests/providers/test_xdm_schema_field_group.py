"""XdmSchema and a field group whose title is already taken (XDM-3005-400).

A create cut off between its two POSTs leaves the field group behind, and detaching the
group from its schema out of band leaves it too; either way the next POST of that title is
refused. The provider then takes over the group when no other schema uses it, at the cost
of three calls on that path only, and otherwise fails naming the group, the schema that uses
it and what to do. The normal create is still two POSTs (test_lifecycles.py pins that).
"""

from __future__ import annotations

import pytest

from emulator import config as dev
from providers import XdmSchemaProvider
from providers.base import ProviderError
from providers.client import BadRequest

from .support import FIELDS, SR, TENANT, Harness, route

GROUP_POST = route("POST", SR, "/tenant/fieldgroups")
GROUP_LIST = route("GET", SR, "/{container}/fieldgroups")
GROUP_PUT = route("PUT", SR, "/tenant/fieldgroups/{fg_id:path}")
SCHEMA_POST = route("POST", SR, "/tenant/schemas")
SCHEMA_LIST = route("GET", SR, "/{container}/schemas")
SCHEMA_PATCH = route("PATCH", SR, "/tenant/schemas/{schema_id:path}")
EVENT = "https://ns.adobe.com/xdm/context/experienceevent"


def _stored(h: Harness, kind: str) -> list[dict]:
    return h.emu.admin("GET", f"objects/{kind}?org={dev.DEV_ORG_ID}&sandbox={h.sandbox}")


def _make(h: Harness, **inputs) -> tuple[XdmSchemaProvider, dict, str, dict]:
    p = h.provider(XdmSchemaProvider)
    news = h.check(p, {"tenant_id": TENANT, "fields": FIELDS, **inputs})
    created = p.create(news)
    return p, news, created.id, created.outs


def _detach(h: Harness, outs: dict) -> None:
    r = h.raw.patch(h.url(f"{SR}/tenant/schemas/{outs['alt_id']}"),
                    json=[{"op": "replace", "path": "/allOf", "value": [{"$ref": outs["class_id"]}]}])
    assert r.status_code == 200, r.text


def _raw_schema(h: Harness, title: str, group_id: str) -> dict:
    r = h.raw.post(h.url(f"{SR}/tenant/schemas"), json={
        "type": "object", "title": title, "description": "", "allOf": [{"$ref": EVENT}, {"$ref": group_id}]})
    assert r.status_code == 201, r.text
    return r.json()


def _raw_group(h: Harness, title: str) -> dict:
    r = h.raw.post(h.url(f"{SR}/tenant/fieldgroups"), json={
        "type": "object", "title": title, "meta:intendedToExtend": [EVENT],
        "definitions": {"x": {"properties": {f"_{TENANT}": {"type": "object", "properties": {
            "other": {"title": "other", "type": "integer"}}}}}},
        "allOf": [{"$ref": "#/definitions/x"}]})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_field_group_detached_out_of_band_is_taken_back_by_the_update(h):
    p, news, id_, outs = _make(h)
    _detach(h, outs)
    read = p.read(id_, outs)  # refresh: the fields are gone, and so is the group's id
    assert read.outs["field_group_id"] is None
    assert p.diff(id_, read.outs, news).changes is True

    h.reset()
    updated = p.update(id_, read.outs, news)
    # The POST is refused on the title; the detached group is found, no schema uses it, so the
    # declared fields are PUT onto it and it is attached again.
    assert h.calls() == {GROUP_POST: 1, GROUP_LIST: 1, SCHEMA_LIST: 1, GROUP_PUT: 1, SCHEMA_PATCH: 1}
    assert updated.outs["field_group_id"] == outs["field_group_id"]
    assert updated.outs["field_group_alt_id"] == outs["field_group_alt_id"]
    assert [g["$id"] for g in _stored(h, "fieldGroup")] == [outs["field_group_id"]]

    again = p.read(id_, updated.outs)
    assert again.inputs["fields"] == news["fields"]
    assert p.diff(id_, again.outs, news).changes is False


def test_a_group_the_schema_already_extends_is_not_attached_twice(h):
    """The state lost the group's id (an update killed after its PATCH), AEP did not."""
    p, news, id_, outs = _make(h)
    olds = {**outs, "field_group_id": None, "field_group_alt_id": None}
    changed = h.check(p, {**news, "fields": {**FIELDS, "country": {"type": "string"}}}, olds=olds)
    h.reset()
    updated = p.update(id_, olds, changed)
    assert h.calls() == {GROUP_POST: 1, GROUP_LIST: 1, SCHEMA_LIST: 1, GROUP_PUT: 1}
    assert updated.outs["field_group_id"] == outs["field_group_id"]
    read = p.read(id_, updated.outs)
    assert p.diff(id_, read.outs, changed).changes is False


def test_a_group_another_schema_uses_is_not_taken_and_the_message_says_why(h):
    p, news, id_, outs = _make(h)
    _detach(h, outs)
    other = _raw_schema(h, "someone else's events", outs["field_group_id"])
    read = p.read(id_, outs)
    before = {g["$id"]: g["version"] for g in _stored(h, "fieldGroup")}

    h.reset()
    with pytest.raises(ProviderError) as e:
        p.update(id_, read.outs, news)
    assert h.calls() == {GROUP_POST: 1, GROUP_LIST: 1, SCHEMA_LIST: 1}  # no write
    msg = str(e.value)
    assert msg.startswith(f"XdmSchema {news['title']!r} ({id_}): update failed: HTTP 400 XDM-3005-400")
    assert f"'{news['title']} fields'" in msg and outs["field_group_id"] in msg
    assert "someone else's events" in msg and other["$id"] in msg
    assert "another title" in msg and "remove that field group" in msg
    assert {g["$id"]: g["version"] for g in _stored(h, "fieldGroup")} == before


def test_a_same_titled_schema_using_the_group_is_not_adopted_silently(h):
    """A schema of our title that extends the group: a run whose answer never came, or another
    stack's. Only the user can tell, so create stops and names both ways out."""
    group = _raw_group(h, "leftover fields")
    schema = _raw_schema(h, "leftover", group["$id"])
    p = h.provider(XdmSchemaProvider)
    news = h.check(p, {"title": "leftover", "tenant_id": TENANT, "fields": FIELDS})

    h.reset()
    with pytest.raises(ProviderError) as e:
        p.create(news)
    assert h.calls() == {GROUP_POST: 1, GROUP_LIST: 1, SCHEMA_LIST: 1}
    msg = str(e.value)
    assert msg.startswith("XdmSchema 'leftover': create failed: HTTP 400 XDM-3005-400: Title must be unique")
    assert f"'leftover fields' ({group['$id']}), is used by schema 'leftover'" in msg
    assert schema["$id"] in msg and f"adopt_id={schema['meta:altId']!r}" in msg and "delete it" in msg
    assert len(_stored(h, "fieldGroup")) == 1 and len(_stored(h, "schema")) == 1


class _Refusing:
    """An AEPClient stand-in whose field-group POST is refused for a reason other than the title."""

    def create_field_group(self, sandbox, body):
        raise BadRequest("Custom field 'x' must be nested under '_t'", status=400, code="XDM-1000-400",
                         method="POST", path=f"{SR}/tenant/fieldgroups")

    def find_field_groups(self, *_):
        raise AssertionError("only a title clash is settled by a lookup")

    find_schemas_using = replace_field_group = create_schema = find_field_groups


def test_any_other_refusal_of_the_field_group_is_reported_as_it_is():
    p = XdmSchemaProvider()
    args = p.parse({"sandbox": "prod", "title": "events", "tenant_id": TENANT, "fields": FIELDS})
    with pytest.raises(BadRequest) as e:
        p.create_object(_Refusing(), args)
    assert e.value.code == "XDM-1000-400"
