"""The pipeline spec: defaults, the three places it can live, and messages that name the field and the fix."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from pipelines.spec import DEFAULT_MAPPINGS, SpecError, load
from tests.support.engine import ROOT

from .helpers import TUTORIAL

KW = {"sandbox": "dev", "tenant_id": "extconndev"}


def problems(*args, **kw) -> list[str]:
    with pytest.raises(SpecError) as err:
        load(*args, **{**KW, **kw})
    return [str(p) for p in err.value.problems]


def test_the_default_is_the_tutorial_pipeline():
    (p,) = load(**KW)
    assert p.name == "pendo" and p.sandbox == "dev" and p.source_kind == "pendo" and p.data_format == "json"
    assert {m["source"]: m["destination"] for m in p.mappings} == {
        "accountId": "_extconndev.accountId", "uniqueId": "_extconndev.uniqueId",
        "timestamp": "_extconndev.timestamp", "visitorId": "_extconndev.visitorId",
        "properties.guideProperties.name": "_extconndev.guideName"}
    assert set(p.fields) == {"accountId", "uniqueId", "timestamp", "visitorId", "guideName"}
    assert p.flow_name == "Streaming Dataflow for Pendo"
    assert p.source_name == "Streaming Source Connection for Pendo"
    assert len(DEFAULT_MAPPINGS) == 5


def test_the_tutorial_spec_file_spells_out_the_default():
    assert load(spec_file=str(TUTORIAL), base_dir=ROOT, **KW) == load(**KW)


def test_the_repository_spec_is_the_tutorial_with_a_primary_identity_and_profile():
    (p,) = load(spec_file="pipelines.yaml", base_dir=ROOT, **KW)
    (tutorial,) = load(**KW)
    assert replace(p, identities=(), namespaces=(), profile=False) == tutorial
    assert p.identities == ({"field": "visitorId", "namespace": "PENDOVISITOR", "primary": True},)
    assert p.namespaces == ({"code": "PENDOVISITOR", "name": "Pendo visitor", "description": None,
                             "id_type": "Cross_device", "adopt_id": None},) and p.profile


def test_structured_config_and_json_text_and_several_pipelines():
    pipes = load([{"name": "pendo"}, {"name": "pendo-eu", "sandbox": "eu-prod",
                                      "flow": {"name": "EU Pendo flow", "enabled": False}}], **KW)
    assert [(p.name, p.sandbox, p.flow_name, p.flow_enabled) for p in pipes] == [
        ("pendo", "dev", "Streaming Dataflow for Pendo", True), ("pendo-eu", "eu-prod", "EU Pendo flow", False)]
    assert pipes[1].schema_title == "pendo-eu events"


def test_unknown_fields_name_the_path_and_the_closest_field():
    assert problems([{"flow": {"nmae": "x"}}]) == [
        "aep-pipelines:pipelines[0].flow.nmae: unknown field: did you mean 'name'? allowed here: name, description, "
        "enabled, error_diagnostics_enabled, partial_ingestion_percent"]
    (msg,) = problems([{"mapings": []}])
    assert msg.startswith("aep-pipelines:pipelines[0].mapings: unknown field: did you mean 'mappings'?")


def test_a_destination_outside_the_schema_is_named_with_suggestions(tmp_path):
    spec = yaml.safe_load(TUTORIAL.read_text())
    spec["pipelines"][0]["mappings"][4]["destination"] = "_{tenantId}.guideTitle"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(spec))
    (msg,) = problems(spec_file="p.yaml", base_dir=tmp_path)
    assert msg.startswith("pipelines[0].mappings[4].destination: '_{tenantId}.guideTitle' is not a field of the "
                          "target schema: did you mean _{tenantId}.guideName")
    assert "Add the field to the schema's fields, or map to one of: _id, timestamp" in msg


def test_every_problem_is_reported_at_once():
    msgs = problems([{"source": {"data_format": "csv"}, "flow": {"nmae": "x"},
                      "mappings": [{"source": "a", "destination": "_{tenantId}.accountId"},
                                   {"source": "b", "destination": "_{tenantId}.accountId"}]}])
    assert [m.split(":")[1] for m in msgs] == ["pipelines[0].flow.nmae", "pipelines[0].source.data_format",
                                               "pipelines[0].mappings[1].destination"]
    assert "Pendo sends JSON only" in msgs[1] and "already mapped by mappings[0]" in msgs[2]


@pytest.mark.parametrize("spec, expected", [
    ([{"name": "Pendo Events"}], "pipelines[0].name: 'Pendo Events' is not a pipeline name"),
    ([{"flow": {"name": "  "}}], "pipelines[0].flow.name: must not be empty or blank"),
    ([{"flow": {"name": "flow\n"}}], "pipelines[0].flow.name: 'flow\\n' has leading or trailing spaces"),
    ([{"flow": {"name": "flow \u202egnp.exe"}}],
     "pipelines[0].flow.name: contains the invisible or control character U+202E"),
    ([{"dataset": {"name": "a\u200bb"}}], "pipelines[0].dataset.name: contains the invisible or control character U+200B"),
    ([{"flow": {"name": "flow\u0085name"}}], "pipelines[0].flow.name: contains the invisible or control character U+0085"),
    ([{"flow": {"name": "tab\there"}}], "pipelines[0].flow.name: contains the invisible or control character U+0009"),
    ([{"sandbox": "Prod_1"}], "pipelines[0].sandbox: 'Prod_1' is not a sandbox name"),
    ([{"source": {"kind": "segment"}}], "pipelines[0].source.kind: 'segment' is not a source kind: use one of pendo, "),
    ([{"source": {"kind": "kinesys"}}], "pipelines[0].source.kind: 'kinesys' is not a source kind (did you mean "
                                        "'kinesis'?)"),
    ([{"source": {"account": {"auth_params": {}}}}], "pipelines[0].source.account: Pendo sources take no account"),
    ([{"schema": {"fields": {"x": {"type": "strin"}}}}], "pipelines[0].schema.fields.x.type: Input should be"),
    ([{"schema": {"fields": {}}}], "pipelines[0].schema.fields: declare at least one custom field"),
    ([{"mappings": []}], "pipelines[0].mappings: Pendo posts its own JSON, not XDM records, so it needs mappings"),
    ([{"mappings": [{"source": "", "destination": "_{tenantId}.accountId"}]}],
     "pipelines[0].mappings[0].source: `source` is empty"),
    ([{"mappings": [{"source": "a b", "destination": "_{tenantId}.accountId"}]}],
     "pipelines[0].mappings[0].source: `source` 'a b' is not a source-attribute path"),
    ([{"name": "a"}, {"name": "a"}], "pipelines[1].name: 'a' names another pipeline too"),
    ([{"name": "a", "flow": {"name": "f"}}, {"name": "b", "flow": {"name": "f"}}],
     "pipelines[1].flow.name: 'f' is also used by aep-pipelines:pipelines[0]"),
    ([], "aep-pipelines:pipelines: declare at least one pipeline"),
    ([{"adopt": {"account": "x"}}], "pipelines[0].adopt.account: there is no account to adopt"),
    ([{"adopt": {"flw": "x"}}], "pipelines[0].adopt.flw: unknown field: did you mean 'flow'?"),
])
def test_bad_specs(spec, expected):
    assert any(expected in m for m in problems(spec)), problems(spec)


def test_sandbox_and_tenant_come_from_the_stack_or_the_spec():
    msgs = problems(sandbox=None, tenant_id=None)
    assert msgs[0].startswith("pipelines[0].sandbox: no sandbox: set stack config `aep:sandbox`")
    assert msgs[1].startswith("pipelines[0].schema.tenant_id: no tenant id: set stack config `aep:tenantId`")
    (p,) = load([{"sandbox": "qa", "schema": {"tenant_id": "_acme"}}], sandbox=None, tenant_id=None)
    assert (p.sandbox, p.tenant_id, p.mappings[0]["destination"]) == ("qa", "acme", "_acme.accountId")


def test_spec_file_errors_name_the_file(tmp_path):
    (msg,) = problems(spec_file="missing.yaml", base_dir=tmp_path)
    assert msg.startswith("aep-pipelines:specFile: missing.yaml does not exist")
    (tmp_path / "bad.yaml").write_text("pipelines: [\n")
    (msg,) = problems(spec_file="bad.yaml", base_dir=tmp_path)
    assert msg.startswith("bad.yaml, line 2, column 1: is not valid YAML: expected the node content")
    assert "<unicode string>" not in msg
    (msg,) = problems([{}], spec_file="x.yaml")
    assert "both aep-pipelines:pipelines and aep-pipelines:specFile are set" in msg


def test_http_streaming_with_an_account():
    (p,) = load([{"source": {"kind": "http-streaming", "data_format": "json",
                             "account": {"auth_params": {"sourceId": "s", "dataType": "raw"}}}}], **KW)
    assert p.source_kind == "http-streaming" and p.account.auth_spec_name == "Streaming Connection"
    assert p.account.name == "HTTP API account for Pendo"


def test_an_auth_param_may_reference_secret_config():
    (p,) = load([{"source": {"kind": "http-streaming", "account": {"auth_params": {
        "sourceId": {"secret": "events-sourceId"}, "dataType": "raw"}}}}], **KW)
    assert p.account.auth_params == {"sourceId": {"secret": "events-sourceId"}, "dataType": "raw"}
    for bad in ({"secret": ""}, {"secret": "x", "other": 1}, {"secret": 7}, {"secret": "has space"}):
        (msg,) = problems([{"source": {"kind": "http-streaming", "account": {"auth_params": {
            "sourceId": bad, "dataType": "raw"}}}}])
        assert msg.startswith("aep-pipelines:pipelines[0].source.account.auth_params: ") and "sourceId: a secret reference is " \
            "`{secret: <key>}` alone" in msg and "pulumi config set --secret aep-pipelines:<key>" in msg, msg


def test_the_target_connection_takes_a_name_and_a_description():
    from pipelines import parts  # noqa: PLC0415

    (default,) = load(**KW)
    assert (default.target_name, default.target_description) == ("Streaming Target Connection for Pendo", None)
    assert "description" not in {k for k, v in parts.inputs(default)["target"].items() if v is not None}
    (p,) = load([{"target": {"name": "Pendo → data lake", "description": ""}}], **KW)
    assert parts.inputs(p)["target"] | {"sandbox": None} == {"name": "Pendo → data lake", "description": "",
                                                            "sandbox": None, "adopt_id": None}
    (msg,) = problems([{"target": {"name": " padded"}}])
    assert msg.startswith("aep-pipelines:pipelines[0].target.name: ") and "leading or trailing spaces" in msg


def test_adopt_ids_and_retention():
    alt = "_extconndev.schemas.945546112b746524bfd9f1264b26c2b7d8e7f5b7fadb953a"
    (p,) = load([{"adopt": {"schema": alt, "flow": "c341617b-e143-43d5-aff1-da02b3e028b6"},
                  "retain_on_delete": True}], **KW)
    assert p.adopt == {"schema": alt, "flow": "c341617b-e143-43d5-aff1-da02b3e028b6"}
    assert p.retain_on_delete
