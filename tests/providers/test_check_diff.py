"""check() and diff(): validation with field-named fixes, unknowns, normalisation, replacements. No network."""

from __future__ import annotations

import pytest
import requests
from pulumi.output import Unknown

from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    IdentityDescriptorProvider,
    IdentityNamespaceProvider,
    MappingSetProvider,
    SourceConnectionProvider,
    TargetConnectionProvider,
    XdmSchemaProvider,
)
from providers.base import ProviderError
from providers.models import DATA_LAKE_SPEC, HTTP_STREAMING_SPEC, PENDO_SPEC, STREAMING_FLOW_SPEC

SCHEMA = "https://ns.adobe.com/extconndev/schemas/abc"
UUID1 = "11111111-1111-4111-8111-111111111111"
UUID2 = "22222222-2222-4222-8222-222222222222"
PATHS = ["_id", "timestamp", "_extconndev", "_extconndev.accountId", "_extconndev.guide", "_extconndev.guide.name"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """check and diff must never touch the network."""
    def refuse(*_a, **_k):
        raise AssertionError("network call from check/diff")
    monkeypatch.setattr(requests.Session, "request", refuse)


def failures(p, news, olds=None):
    return {f.property: f.reason for f in p.check(olds or {}, {"sandbox": "dev", **news}).failures}


def checked(p, news, olds=None):
    r = p.check(olds or {}, {"sandbox": "dev", **news})
    assert not r.failures, [(f.property, f.reason) for f in r.failures]
    return r.inputs


# -- check -------------------------------------------------------------------------------------


def test_auto_name_is_prefixed_random_and_kept_across_updates():
    p = SourceConnectionProvider()
    first = checked(p, {"connection_spec_id": PENDO_SPEC})
    assert first["name"].startswith("source-") and len(first["name"]) == len("source-") + 7
    assert checked(p, {"connection_spec_id": PENDO_SPEC}, olds=first)["name"] == first["name"]
    assert checked(p, {"connection_spec_id": PENDO_SPEC, "name": "mine"}, olds=first)["name"] == "mine"
    assert checked(XdmSchemaProvider(), {"fields": {"a": {"type": "string"}}})["title"].startswith("schema-")


def test_schema_field_texts_take_the_form_aep_gives_back():
    """An untitled field is written with its name as title and empty texts are not written, so
    check() drops both; an array's items keep their title, which is written and read back."""
    from providers.xdm_schema import _from_xdm, _to_xdm

    p = XdmSchemaProvider()
    fields = {"a": {"type": "string", "title": "a"}, "b": {"type": "string", "title": "", "description": ""},
              "o": {"type": "object", "properties": {"c": {"type": "integer", "title": "c"}}},
              "l": {"type": "array", "items": {"type": "date", "title": "Day", "description": "a day"}}}
    inputs = checked(p, {"tenant_id": "extconndev", "fields": fields})
    assert inputs["fields"] == {
        "a": {"type": "string"}, "b": {"type": "string"},
        "o": {"type": "object", "properties": {"c": {"type": "integer"}}},
        "l": {"type": "array", "items": {"type": "date", "title": "Day", "description": "a day"}}}
    assert _from_xdm(_to_xdm(p.parse(inputs).fields)) == inputs["fields"]


def test_defaults_are_filled_in():
    inputs = checked(SourceConnectionProvider(), {"connection_spec_id": PENDO_SPEC, "name": "n"})
    assert inputs["data_format"] == "json" and inputs["connection_spec_version"] == "1.0"
    assert inputs["provider_id"] == "521eee4d-8cbe-4906-bb48-fb6bd4450033"
    flow = checked(DataflowProvider(), {"source_connection_id": UUID1, "target_connection_id": UUID2})
    assert flow["flow_spec_id"] == STREAMING_FLOW_SPEC and flow["enabled"] is True
    assert checked(TargetConnectionProvider(), {"dataset_id": "d", "schema_id": SCHEMA})["connection_spec_id"] == DATA_LAKE_SPEC


def test_known_spec_ids_are_validated():
    assert "not a supported connection spec" in failures(SourceConnectionProvider(), {"connection_spec_id": "nope"})[
        "connection_spec_id"]
    assert "FLOW-1307-400" in failures(TargetConnectionProvider(), {
        "dataset_id": "d", "schema_id": SCHEMA, "connection_spec_id": PENDO_SPEC})["connection_spec_id"]
    assert "not a supported flow spec" in failures(DataflowProvider(), {
        "source_connection_id": UUID1, "target_connection_id": UUID2, "flow_spec_id": "x"})["flow_spec_id"]
    assert "no base connection" in failures(BaseConnectionProvider(), {
        "connection_spec_id": PENDO_SPEC, "auth_spec_name": "x"})["connection_spec_id"]


def test_pendo_requires_json():
    assert "set data_format to json" in failures(SourceConnectionProvider(), {
        "connection_spec_id": PENDO_SPEC, "data_format": "parquet"})["data_format"]
    assert not failures(SourceConnectionProvider(), {"connection_spec_id": HTTP_STREAMING_SPEC, "data_format": "parquet"})


def test_required_inputs_and_typos_name_the_field_and_the_fix():
    f = failures(DatasetProvider(), {"nmae": "x"})
    assert f["nmae"].startswith("unknown field: did you mean 'name'? allowed here: sandbox, ")
    f = failures(DatasetProvider(), {})
    assert f["schema_id"] == "is required: pass the XdmSchema's schema_id ($id)"
    f = failures(SourceConnectionProvider(), {"connection_spec_id": PENDO_SPEC, "sandbox": "Prod"})
    assert "lower-case technical name" in f["sandbox"]


def test_mapping_destinations_are_checked_against_schema_paths_at_preview():
    p = MappingSetProvider()
    # At preview the schema's $id is unknown, but its field paths are known in the program.
    f = failures(p, {"schema_id": Unknown(), "schema_field_paths": PATHS, "mappings": [
        {"source": "accountId", "destination": "_extconndev.accountID"},
        {"source": "guide.name", "destination": "_extconndev.guide.name"}]})
    assert f == {"mappings[0].destination": "'_extconndev.accountID' is not a field of the target schema: did you "
                                            "mean _extconndev.accountId? Add the field to the schema's fields, or map "
                                            "to one of: " + ", ".join(PATHS)}
    ok = p.check({}, {"sandbox": "dev", "schema_id": Unknown(), "schema_field_paths": PATHS,
                      "mappings": [{"source": "accountId", "destination": "_extconndev.accountId"}]})
    assert not ok.failures and isinstance(ok.inputs["schema_id"], Unknown)


def test_source_attribute_syntax():
    p = MappingSetProvider()
    bad = failures(p, {"schema_id": SCHEMA, "mappings": [{"source": "a..b", "destination": "_extconndev.x"}]})
    assert "not a source-attribute path" in bad["mappings[0].source"]
    empty = failures(p, {"schema_id": SCHEMA, "mappings": [{"source": "", "destination": "_extconndev.x"}]})
    assert "`source` is empty" in empty["mappings[0].source"]
    expr = failures(p, {"schema_id": SCHEMA, "mappings": [
        {"source": "concat(a, 'b'", "destination": "_extconndev.x", "source_type": "EXPRESSION"}]})
    assert "unbalanced" in expr["mappings[0].source"]
    assert not failures(p, {"schema_id": SCHEMA, "mappings": [
        {"source": "properties.steps[0].id", "destination": "_extconndev.x"},
        {"source": "lower(visitorId)", "destination": "_extconndev.y", "source_type": "EXPRESSION"}]})


def test_unknown_values_are_left_alone():
    p = DataflowProvider()
    r = p.check({}, {"sandbox": "dev", "source_connection_id": Unknown(), "target_connection_id": Unknown(),
                     "mapping_id": Unknown(), "mapping_version": Unknown(), "name": "flow"})
    assert not r.failures
    assert all(isinstance(r.inputs[k], Unknown) for k in ("source_connection_id", "mapping_version"))
    nested = MappingSetProvider().check({}, {"sandbox": "dev", "schema_id": SCHEMA,
                                            "mappings": [{"source": "a", "destination": Unknown()}]})
    assert not nested.failures


# -- diff --------------------------------------------------------------------------------------


def test_numbers_arrive_as_floats_and_never_diff():
    p = DataflowProvider()
    news = checked(p, {"source_connection_id": UUID1, "target_connection_id": UUID2, "mapping_id": "m",
                       "mapping_version": 3.0, "name": "f"})
    assert news["mapping_version"] == 3 and isinstance(news["mapping_version"], int)
    olds = {**news, "mapping_version": 3.0, "etag": '"abc"', "state": "enabled", "inlet_url": "u"}
    assert p.diff("id", olds, news).changes is False


def test_order_free_lists_never_diff():
    p = MappingSetProvider()
    m = [{"source": "a", "destination": "_extconndev.a"}, {"source": "b", "destination": "_extconndev.b"}]
    news = checked(p, {"schema_id": SCHEMA, "mappings": m, "name": "n"})
    assert p.diff("id", {**news, "version": 2}, checked(p, {"schema_id": SCHEMA, "mappings": m[::-1], "name": "n"})
                  ).changes is False
    d = DatasetProvider()
    news = checked(d, {"schema_id": SCHEMA, "name": "n", "tags": {"t": ["b", "a"]}})
    assert news["tags"] == {"t": ["a", "b"]}
    assert d.diff("id", {**news, "tags": {"t": ["b", "a"]}}, news).changes is False


def test_etag_quoting_and_server_fields_are_ignored():
    p = SourceConnectionProvider()
    news = checked(p, {"connection_spec_id": PENDO_SPEC, "name": "n"})
    assert p.diff("id", {**news, "etag": '"x"'}, {**news, "etag": "x"}).changes is False


def test_server_defaults_do_not_diff():
    p = XdmSchemaProvider()
    news = checked(p, {"fields": {"a": {"type": "string"}}, "title": "t"})  # no tenant_id: AEP's is used
    assert p.diff("id", {**news, "tenant_id": "extconndev"}, news).changes is False
    d = DataflowProvider()
    olds = checked(d, {"source_connection_id": UUID1, "target_connection_id": UUID2, "name": "f"})
    assert d.diff("id", {k: v for k, v in olds.items() if k != "enabled"}, olds).changes is False


@pytest.mark.parametrize("p, base, field, value", [
    (SourceConnectionProvider(), {"connection_spec_id": PENDO_SPEC}, "connection_spec_id", HTTP_STREAMING_SPEC),
    (SourceConnectionProvider(), {"connection_spec_id": HTTP_STREAMING_SPEC}, "data_format", "parquet"),
    (TargetConnectionProvider(), {"dataset_id": "d", "schema_id": SCHEMA}, "dataset_id", "other"),
    (DatasetProvider(), {"schema_id": SCHEMA}, "schema_id", SCHEMA + "2"),
    (DataflowProvider(), {"source_connection_id": UUID1, "target_connection_id": UUID2}, "source_connection_id", UUID2),
    # Pub/Sub has two auth specs; these params satisfy both (an auth spec name must be one of the spec's).
    (BaseConnectionProvider(), {"source_kind": "pubsub", "auth_spec_name": "Project Based Authentication",
                                "auth_params": {"projectId": "p", "credentials": "c", "topicName": "t",
                                                "subscriptionName": "s"}},
     "auth_spec_name", "Topic & Subscription Based Authentication"),
    (XdmSchemaProvider(), {"fields": {"a": {"type": "string"}}}, "class_id", "profile"),
    (MappingSetProvider(), {"schema_id": SCHEMA, "mappings": [{"source": "a", "destination": "_t.a"}]}, "sandbox", "prod"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_immutable_fields_force_a_replacement(p, base, field, value):
    olds = checked(p, {**base, "name" if not isinstance(p, XdmSchemaProvider) else "title": "n"})
    news = checked(p, {**olds, field: value, "allow_replace": True}, olds=olds)
    d = p.diff("id", olds, news)
    assert d.changes is True and d.replaces == [field]


@pytest.mark.parametrize("p, base, field, value, lost", [
    (DatasetProvider(), {"schema_id": SCHEMA}, "schema_id", SCHEMA + "2", "ingested batches are deleted"),
    (DataflowProvider(), {"source_connection_id": UUID1, "target_connection_id": UUID2}, "target_connection_id",
     UUID1, "the webhook URL changes from https://inlet/x?x-adobe-flow-id=id"),
    (XdmSchemaProvider(), {"fields": {"a": {"type": "string"}}}, "class_id", "profile", "its dataset is replaced"),
], ids=lambda v: v if isinstance(v, str) and " " not in v else None)
def test_a_replacement_that_loses_data_is_refused_unless_allowed(p, base, field, value, lost):
    inputs = checked(p, {**base, "name" if not isinstance(p, XdmSchemaProvider) else "title": "n"})
    olds = {**inputs, "inlet_url": "https://inlet/x"}
    news = checked(p, {**inputs, field: value}, olds=inputs)
    with pytest.raises(ProviderError, match="refused \\(one-way door\\)") as e:
        p.diff("id", olds, news)
    assert lost in str(e.value) and f"`allow_replace: [{p.allow_kinds}]`" in str(e.value)
    assert "ALLOW_DATA_LOSS=1" in str(e.value) and "'n' (id)" in str(e.value)
    assert p.diff("id", olds, {**news, "allow_replace": True}).replaces == [field]
    # The engine's probe of a delete-before-replace dependant passes the old inputs out of state
    # (not checked in this run): the schema's own guard has already spoken for it.
    probe = {**news, "description": "as an earlier run checked it"}
    assert p.diff("id", olds, probe).replaces == [field]


def test_mutable_fields_update_in_place():
    p = MappingSetProvider()
    olds = checked(p, {"schema_id": SCHEMA, "mappings": [{"source": "a", "destination": "_t.a"}], "name": "n"})
    news = checked(p, {**olds, "mappings": [{"source": "b", "destination": "_t.a"}]}, olds=olds)
    d = p.diff("id", olds, news)
    assert d.changes is True and d.replaces == []  # a new mapping version, never a replacement


def test_unknowns_in_diff_mean_changed_and_replace_if_immutable():
    p = DataflowProvider()
    olds = checked(p, {"source_connection_id": UUID1, "target_connection_id": UUID2, "mapping_id": "m",
                       "mapping_version": 0, "name": "f"})
    d = p.diff("id", olds, {**olds, "mapping_version": Unknown()})
    assert d.changes is True and d.replaces == []
    d = p.diff("id", olds, {**olds, "target_connection_id": Unknown(), "allow_replace": True})
    assert d.changes is True and d.replaces == ["target_connection_id"]


def test_schema_replacement_deletes_first_when_the_title_stays():
    p = XdmSchemaProvider()
    olds = checked(p, {"fields": {"a": {"type": "string"}}, "title": "t"})
    d = p.diff("id", olds, checked(p, {**olds, "class_id": "profile", "allow_replace": True}, olds=olds))
    assert d.replaces == ["class_id"] and d.delete_before_replace is True
    d = p.diff("id", olds, checked(p, {**olds, "class_id": "profile", "title": " T ", "allow_replace": True},
                                   olds=olds))
    assert d.delete_before_replace is True  # the Schema Registry's titles ignore case and outer spaces
    d = p.diff("id", olds, checked(p, {**olds, "class_id": "profile", "title": "t2", "allow_replace": True},
                                   olds=olds))
    assert d.delete_before_replace is None


def test_diff_ignores_passive_inputs():
    p = MappingSetProvider()
    olds = checked(p, {"schema_id": SCHEMA, "mappings": [{"source": "a", "destination": "_t.a"}], "name": "n"})
    assert p.diff("id", olds, {**olds, "schema_field_paths": ["_t.a"], "adopt_id": "x"}).changes is False


# -- identity ----------------------------------------------------------------------------------


def test_namespace_check_normalises_and_refuses_standard_codes():
    p = IdentityNamespaceProvider()
    inputs = checked(p, {"code": "PendoVisitor", "id_type": "NON_PEOPLE"})
    assert (inputs["name"], inputs["id_type"], inputs["description"]) == ("PendoVisitor", "Non_people",
                                                                          "Managed by Pulumi (aep-pipelines)")
    assert checked(p, {"code": "C1", "id_type": "email", "name": "Mine"})["name"] == "Mine"
    f = failures(p, {"code": "ecid", "id_type": "Cookie"})
    assert "standard namespace ECID" in f["code"] and "looked up, not created" in f["code"]
    assert "letters and digits" in failures(p, {"code": "pendo-visitor", "id_type": "Cookie"})["code"]
    assert "Cross_device" in failures(p, {"code": "C1", "id_type": "crossdevice"})["id_type"]
    f = failures(p, {})
    assert "is required" in f["code"] and "Cookie, Cross_device" in f["id_type"]
    # A code still unknown at preview leaves the name to default later.
    r = p.check({}, {"sandbox": "dev", "code": Unknown(), "id_type": "Cookie"})
    assert not r.failures and isinstance(r.inputs["code"], Unknown) and "name" not in r.inputs


def test_namespace_diff_code_case_is_no_change_and_a_new_code_a_replacement():
    p = IdentityNamespaceProvider()
    olds = checked(p, {"code": "PENDO", "id_type": "Cookie"})
    assert p.diff("1", olds, checked(p, {**olds, "code": "pendo"}, olds=olds)).changes is False
    assert p.diff("1", olds, checked(p, {**olds, "id_type": "COOKIE"}, olds=olds)).changes is False
    d = p.diff("1", olds, checked(p, {**olds, "code": "PENDO2"}, olds=olds))
    assert d.replaces == ["code"]
    d = p.diff("1", olds, checked(p, {**olds, "name": "Pendo", "description": "d"}, olds=olds))
    assert d.changes is True and d.replaces == []


def test_namespace_id_type_change_under_the_same_code_is_refused_at_preview():
    p = IdentityNamespaceProvider()
    olds = checked(p, {"code": "PENDO", "id_type": "Cookie"})
    with pytest.raises(ProviderError, match=r"refused \(one-way door\): IdentityNamespace 'PENDO' \(1\) cannot "
                       r"change its id_type from 'Cookie' to 'Email'.*new code"):
        p.diff("1", olds, checked(p, {**olds, "id_type": "Email"}, olds=olds))
    # With a new code it is a new namespace; the old one stays in AEP.
    assert p.diff("1", olds, checked(p, {**olds, "id_type": "Email", "code": "P2"}, olds=olds)).replaces == [
        "code", "id_type"]


def test_descriptor_check_names_the_field_and_the_fix():
    p = IdentityDescriptorProvider()
    inputs = checked(p, {"schema_id": SCHEMA, "source_property": "/_extconndev/visitorId", "namespace": "ECID"})
    assert (inputs["primary"], inputs["source_version"]) == (False, 1)
    f = failures(p, {"schema_id": SCHEMA, "source_property": "_extconndev.visitorId", "namespace": "ECID"})
    assert "'/_extconndev/visitorId'" in f["source_property"]
    f = failures(p, {"schema_id": SCHEMA, "source_property": "/properties/a", "namespace": "ECID"})
    assert "no `properties` segments" in f["source_property"]
    f = failures(p, {"schema_id": "_extconndev.schemas.abc", "source_property": "/a/", "namespace": "E-1"})
    assert set(f) == {"source_property", "namespace"}
    assert "schema_id" in failures(p, {"schema_id": "abc", "source_property": "/a", "namespace": "E"})
    f = failures(p, {})
    assert {"schema_id", "source_property", "namespace"} <= set(f)
    r = p.check({}, {"sandbox": "dev", "schema_id": Unknown(), "source_property": "/_t/v", "namespace": "ECID"})
    assert not r.failures and isinstance(r.inputs["schema_id"], Unknown)


def test_descriptor_diff_namespace_and_primary_in_place_field_and_schema_replace():
    p = IdentityDescriptorProvider()
    olds = checked(p, {"schema_id": SCHEMA, "source_property": "/_t/v", "namespace": "PENDO", "primary": True})
    assert p.diff("d", olds, checked(p, {**olds, "namespace": "pendo"}, olds=olds)).changes is False
    assert p.diff("d", olds, checked(p, {**olds, "source_version": 1.0}, olds=olds)).changes is False
    d = p.diff("d", olds, checked(p, {**olds, "namespace": "ECID", "primary": False}, olds=olds))
    assert d.changes is True and d.replaces == []
    d = p.diff("d", olds, checked(p, {**olds, "schema_id": SCHEMA + "2"}, olds=olds))
    assert d.replaces == ["schema_id"] and d.delete_before_replace is None
    # Two primary identities cannot coexist on one schema: the old one goes first.
    d = p.diff("d", olds, checked(p, {**olds, "source_property": "/_t/w"}, olds=olds))
    assert d.replaces == ["source_property"] and d.delete_before_replace is True
    d = p.diff("d", olds, {**olds, "source_property": "/_t/w", "primary": Unknown()})
    assert d.delete_before_replace is True
