"""adopt_id: bring an object that already exists in AEP under management (pulumi import cannot)."""

from __future__ import annotations

import pytest

from providers import (DataflowProvider, DatasetProvider, MappingSetProvider, SourceConnectionProvider,
                       XdmSchemaProvider)
from providers.base import ProviderError
from providers.models import HTTP_STREAMING_SPEC, PENDO_SPEC

from .support import CAT, DP, FIELDS, FS, MAPPINGS, SR, TENANT, route


def raw_source(h, name="existing", spec=PENDO_SPEC) -> str:
    r = h.raw.post(h.url(f"{FS}/sourceConnections"), json={
        "name": name, "connectionSpec": {"id": spec, "version": "1.0"}, "data": {"format": "json"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_adopt_patches_mutable_fields_to_the_declared_state(h):
    existing = raw_source(h)
    p = h.provider(SourceConnectionProvider)
    news = h.check(p, {"connection_spec_id": PENDO_SPEC, "name": "pendo", "adopt_id": existing})
    h.reset()
    c = p.create(news)
    assert c.id == existing
    assert h.calls() == {route("GET", FS, "/sourceConnections/{conn_id}"): 1,
                         route("PATCH", FS, "/sourceConnections/{conn_id}"): 1}
    read = p.read(c.id, c.outs)
    assert read.outs["name"] == "pendo" and p.diff(c.id, read.outs, news).changes is False
    assert read.inputs["adopt_id"] == existing  # kept, so the next diff is quiet


def test_adopt_an_object_that_already_matches_makes_no_write(h):
    existing = raw_source(h, name="pendo")
    p = h.provider(SourceConnectionProvider)
    news = h.check(p, {"connection_spec_id": PENDO_SPEC, "name": "pendo",
                       "description": "", "adopt_id": existing})
    h.reset()
    p.create(news)
    assert h.calls() == {route("GET", FS, "/sourceConnections/{conn_id}"): 1}


def test_an_object_without_a_description_does_not_read_as_carrying_ours(h):
    """AEP holding no description is the empty one, not the default we would declare."""
    existing = raw_source(h, name="pendo")
    p = h.provider(SourceConnectionProvider)
    news = h.check(p, {"connection_spec_id": PENDO_SPEC, "name": "pendo"})
    read = p.read(existing, {**news, "adopt_id": existing})
    assert read.inputs["description"] == ""
    assert p.diff(existing, read.outs, news).changes is True

    h.reset()
    c = p.create({**news, "adopt_id": existing})  # adoption sets it, as declared
    assert h.calls() == {route("GET", FS, "/sourceConnections/{conn_id}"): 1,
                         route("PATCH", FS, "/sourceConnections/{conn_id}"): 1}
    assert p.read(c.id, c.outs).inputs["description"] == news["description"] != ""


def test_adopt_refuses_a_different_definition(h):
    existing = raw_source(h, spec=HTTP_STREAMING_SPEC)
    p = h.provider(SourceConnectionProvider)
    with pytest.raises(ProviderError) as e:
        p.create(h.check(p, {"connection_spec_id": PENDO_SPEC, "name": "pendo", "adopt_id": existing}))
    msg = str(e.value)
    assert "cannot be adopted" in msg and "connection_spec_id" in msg and HTTP_STREAMING_SPEC in msg


def test_adopt_of_a_missing_object(h):
    p = h.provider(SourceConnectionProvider)
    with pytest.raises(ProviderError) as e:
        p.create(h.check(p, {"connection_spec_id": PENDO_SPEC, "adopt_id": "3b0cbc4e-0000-4000-8000-000000000000"}))
    assert "does not exist in sandbox" in str(e.value)


def test_adopt_a_schema_by_alt_id(h):
    sid, souts = h.create(XdmSchemaProvider, title="Pendo", tenant_id=TENANT, fields=FIELDS)
    p = h.provider(XdmSchemaProvider)
    news = h.check(p, {"title": "Pendo", "tenant_id": TENANT, "adopt_id": souts["alt_id"],
                       "fields": {**FIELDS, "country": {"type": "string"}}})
    h.reset()
    c = p.create(news)
    assert c.id == sid and c.outs["field_group_id"] == souts["field_group_id"]
    assert f"_{TENANT}.country" in c.outs["field_paths"]
    assert h.calls()[route("PUT", SR, "/tenant/fieldgroups/{fg_id:path}")] == 1
    assert p.diff(c.id, p.read(c.id, c.outs).outs, news).changes is False


def test_adopt_a_dataset_and_a_mapping_set(h):
    ds_id, _ = h.create(DatasetProvider, name="events", schema_id=h.schema()[0])
    p = h.provider(DatasetProvider)
    c = p.create(h.check(p, {"name": "events", "schema_id": h.schema()[0], "adopt_id": ds_id,
                             "tags": {"team": ["web"]}}))
    assert c.id == ds_id and p.read(c.id, c.outs).outs["tags"] == {"team": ["web"]}

    mid, _ = h.mapping()
    m = h.provider(MappingSetProvider)
    news = h.check(m, {"name": "other", "schema_id": h.schema()[0], "mappings": MAPPINGS[:1], "adopt_id": mid})
    h.reset()
    c = m.create(news)
    assert c.id == mid and c.outs["version"] == 1  # the declared mappings became a new version
    assert h.calls() == {route("GET", DP, "/mappingSets/{set_id}"): 1, route("PUT", DP, "/mappingSets/{set_id}"): 1}


def test_adopt_a_dataflow_and_disable_it(h):
    fid, fouts = h.flow()
    p = h.provider(DataflowProvider)
    news = h.check(p, {k: fouts[k] for k in ("name", "source_connection_id", "target_connection_id", "mapping_id",
                                            "mapping_version")} | {"enabled": False, "adopt_id": fid})
    c = p.create(news)
    assert c.id == fid and c.outs["state"] == "disabled" and c.outs["inlet_url"] == fouts["inlet_url"]
    assert p.diff(c.id, p.read(c.id, c.outs).outs, news).changes is False


def test_catalog_lookup_ignores_a_same_named_dataset_of_another_schema(h):
    """After a lost create, only an object matching the whole definition is adopted."""
    other_schema, _ = h.create(XdmSchemaProvider, tenant_id=TENANT, fields={"x": {"type": "string"}})
    h.create(DatasetProvider, name="events", schema_id=other_schema)
    api = h.provider(DatasetProvider).client()
    h.emu.set_faults({"script": [{"route": route("POST", CAT, "/dataSets"), "responses": ["commit_then_drop"]}]})
    try:
        created = api.create_dataset(h.sandbox, {"name": "events", "schemaRef": {
            "id": h.schema()[0], "contentType": "application/vnd.adobe.xed+json;version=1"}})
    finally:
        h.emu.clear_faults()
    assert created.adopted
    assert api.get_dataset(h.sandbox, created.id)["schemaRef"]["id"] == h.schema()[0]
