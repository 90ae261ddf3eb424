"""adopt_id: bring an object that already exists in AEP under management (pulumi import cannot)."""

from __future__ import annotations

import pytest

from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    MappingSetProvider,
    SourceConnectionProvider,
    TargetConnectionProvider,
    XdmSchemaProvider,
)
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


# -- adopting what already matches the declaration: reads only -------------------------------------


def _writes(h) -> dict[str, int]:
    """Requests since the last reset that are not reads (the IMS token is left out)."""
    return {k: v for k, v in h.calls().items() if not k.startswith("GET ")}


def test_adopting_a_matching_mapping_set_makes_no_write(h):
    """AEP answers sourceType "text/x.schema-path" for ATTRIBUTE: that is no difference."""
    mid, mouts = h.mapping()
    m = h.provider(MappingSetProvider)
    news = h.check(m, {"name": mouts["name"], "schema_id": h.schema()[0], "mappings": MAPPINGS, "adopt_id": mid})
    h.reset()
    c = m.create(news)
    assert _writes(h) == {}, h.calls()
    assert h.calls() == {route("GET", DP, "/mappingSets/{set_id}"): 1}
    assert c.id == mid and c.outs["version"] == mouts["version"] == 0
    assert m.diff(c.id, m.read(c.id, c.outs).outs, news).changes is False


def test_adopting_a_mapping_set_made_in_the_tutorial_dialect_makes_no_write(h):
    """A set made by hand the Pendo tutorial's way (sourceAttribute/destinationXdmPath, a spaced
    content type, another order) declares the same mappings as our dialect."""
    schema_id = h.schema()[0]
    r = h.raw.post(h.url(f"{DP}/mappingSets"), json={
        "name": "pendo tutorial",
        "outputSchema": {"schemaRef": {"id": schema_id,
                                       "contentType": "application/vnd.adobe.xed-full+json; version=1"}},
        "mappings": [{"sourceAttribute": m["source"], "destinationXdmPath": m["destination"], "identity": False,
                      "version": 0} for m in reversed(MAPPINGS)]})
    assert r.status_code == 200, r.text
    mid = r.json()["id"]
    m = h.provider(MappingSetProvider)
    news = h.check(m, {"name": "pendo tutorial", "schema_id": schema_id, "mappings": MAPPINGS, "adopt_id": mid})
    h.reset()
    c = m.create(news)
    assert _writes(h) == {}, h.calls()
    assert c.id == mid and c.outs["version"] == 0


def test_adopting_a_mapping_set_with_calculated_fields_makes_no_write(h):
    """Data Prep answers an EXPRESSION mapping's sourceType as "text/x.aep-xl": that is no difference."""
    schema_id = h.schema()[0]
    mappings = [*MAPPINGS[:1], {"source": "concat(visitorId, '@', accountId)", "destination": MAPPINGS[1]["destination"],
                                "source_type": "EXPRESSION"}]
    r = h.raw.post(h.url(f"{DP}/mappingSets"), json={
        "name": "calculated", "outputSchema": {"schemaRef": {
            "id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [{"sourceType": m.get("source_type", "ATTRIBUTE"), "source": m["source"],
                      "destination": m["destination"]} for m in mappings]})
    assert r.status_code == 200, r.text
    stored = h.raw.get(h.url(f"{DP}/mappingSets/{r.json()['id']}")).json()["mappings"]
    assert {m["sourceType"] for m in stored} == {"text/x.schema-path", "text/x.aep-xl"}
    m = h.provider(MappingSetProvider)
    news = h.check(m, {"name": "calculated", "schema_id": schema_id, "mappings": mappings, "adopt_id": r.json()["id"]})
    h.reset()
    c = m.create(news)
    assert _writes(h) == {}, h.calls()
    assert m.diff(c.id, m.read(c.id, c.outs).outs, news).changes is False


def _adoptable(h):
    """(provider, inputs) for every resource, each created through its provider first."""
    return {
        "XdmSchema": (XdmSchemaProvider, {"tenant_id": TENANT, "fields": FIELDS, "description": "events"}),
        "Dataset": (DatasetProvider, {"schema_id": h.schema()[0], "tags": {"team": ["web", "data"]}}),
        "SourceConnection": (SourceConnectionProvider, {"connection_spec_id": PENDO_SPEC}),
        "TargetConnection": (TargetConnectionProvider, {"dataset_id": h.dataset()[0], "schema_id": h.schema()[0]}),
        "MappingSet": (MappingSetProvider, {"schema_id": h.schema()[0], "mappings": MAPPINGS}),
        "Dataflow": (DataflowProvider, {"source_connection_id": h.source()[0], "target_connection_id": h.target()[0],
                                        "mapping_id": h.mapping()[0], "mapping_version": 0.0}),
        "BaseConnection": (BaseConnectionProvider, {"connection_spec_id": HTTP_STREAMING_SPEC,
                                                    "auth_spec_name": "Streaming Connection",
                                                    "auth_params": {"sourceId": "pendo", "dataType": "raw"}}),
    }


# AEP masks auth params on read: adoption takes them as declared and writes nothing.
_UNSEEABLE_WRITES: dict[str, dict[str, int]] = {}


@pytest.mark.parametrize("kind", ["XdmSchema", "Dataset", "SourceConnection", "TargetConnection", "MappingSet",
                                  "Dataflow", "BaseConnection"])
def test_adopting_an_object_that_matches_its_declaration_only_reads(h, kind):
    cls, inputs = _adoptable(h)[kind]
    p = h.provider(cls)
    news = h.check(p, inputs)
    made = p.create(news)
    adopt_id = made.outs.get("alt_id") or made.id
    h.reset()
    adopted = p.create(h.check(p, {**news, "adopt_id": adopt_id}))
    assert adopted.id == made.id
    assert _writes(h) == _UNSEEABLE_WRITES.get(kind, {}), h.calls()
    assert all(adopted.outs.get(k) == made.outs.get(k) for k in ("version", "dataset_id", "schema_id", "inlet_url"))
